// The cgroup manager's pure parts, without root: conversions, paths, device
// rules (and the eBPF program run by a small interpreter), resource checks,
// and the container's "cgroup" mount against the recording sys double.
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { parseBytes, parseDuration } from '../../src/cli/units';
import { eventJson } from '../../src/container/events';
import { features } from '../../src/container/features';
import { UNLIMITED } from '../../src/linux/cgroups/control';
import { blkioToIoWeight, sharesToWeight, swapToV2 } from '../../src/linux/cgroups/convert';
import { deviceFilterProgram } from '../../src/linux/cgroups/device-filter';
import { type DeviceRuleSet, deviceRules, reduceDeviceRules, v1DeviceWrites } from '../../src/linux/cgroups/devices';
import { parseProcCgroup, v1CgroupDir, v1Hierarchies, v2CgroupDir } from '../../src/linux/cgroups/paths';
import { mergeResources, resourceProblems } from '../../src/linux/cgroups/resources';
import { V2Cgroup } from '../../src/linux/cgroups/v2';
import type { CgroupMountView } from '../../src/linux/cgroups/types';
import { prepareRootfs } from '../../src/linux/rootfs';
import { defaultSpec } from '../../src/spec/default-spec';
import { makePlan } from '../../src/spec/plan';
import type { LinuxResources } from '../../src/spec/types';
import { MS_BIND, MS_NODEV, MS_NOEXEC, MS_NOSUID, MS_RDONLY, MS_REC, MS_RELATIME, MS_REMOUNT } from '../../src/sys/constants';
import { RecordingSys } from '../../src/sys/recording';
import dockerConfig from '../fixtures/docker-config.json';
import { baseSpec } from '../lib/bundle';
import { tempDir } from '../lib/cli';

const test = suite('cgroups (unit)');

test("cpu.shares to cpu.weight: runc's quadratic maps min, default and max onto each other", () => {
  assert.equal([2, 1024, 262144].map(sharesToWeight), [1, 100, 10000]);
  assert.equal([512, 2048].map(sharesToWeight), [59, 174]);
  assert.is(sharesToWeight(1), 1);
  assert.is(sharesToWeight(1_000_000), 10000);
});

test('blkio weight to io.weight, and memory+swap to memory.swap.max', () => {
  assert.equal([10, 500, 1000].map(blkioToIoWeight), [1, 4950, 10000]);
  assert.is(swapToV2(64, 32), '32');
  assert.is(swapToV2(32, 32), '0');
  assert.is(swapToV2(-1, 32), 'max');
  assert.is(swapToV2(undefined, -1), 'max');
  assert.is(swapToV2(undefined, 32), undefined);
  assert.throws(() => swapToV2(16, 32), /memory\.swap: memory\+swap \(16\) must not be below memory\.limit \(32\)/);
  assert.throws(() => swapToV2(16, undefined), /a swap limit needs a memory limit/);
});

const MOUNTINFO = [
  '31 23 0:28 / /sys/fs/cgroup rw,relatime - tmpfs tmpfs rw,mode=755',
  '32 31 0:29 / /sys/fs/cgroup/cpu,cpuacct rw,relatime - cgroup cgroup rw,cpu,cpuacct',
  '35 31 0:32 / /sys/fs/cgroup/memory rw,relatime - cgroup cgroup rw,memory',
  '36 31 0:33 / /sys/fs/cgroup/devices rw,relatime - cgroup cgroup rw,devices',
  '40 31 0:37 / /sys/fs/cgroup/systemd rw,relatime - cgroup cgroup rw,xattr,name=systemd',
  '41 31 0:38 / /sys/fs/cgroup/unified rw,relatime - cgroup2 cgroup2 rw',
  '50 23 0:32 / /mnt/memory-again rw,relatime - cgroup cgroup rw,memory',
].join('\n');
const PROC_CGROUP = [
  '9:name=systemd:/user.slice',
  '5:devices:/',
  '4:memory:/job/42',
  '1:cpu,cpuacct:/',
  '0::/user.slice/x.scope',
].join('\n');

test('v1 hierarchies: each mounted once, named by /proc/self/cgroup, the hybrid unified one with ""', () => {
  const found = v1Hierarchies(MOUNTINFO, PROC_CGROUP);
  assert.equal(
    found.map((h) => [h.controllers, h.mountPoint]),
    [
      ['cpu,cpuacct', '/sys/fs/cgroup/cpu,cpuacct'],
      ['memory', '/sys/fs/cgroup/memory'],
      ['devices', '/sys/fs/cgroup/devices'],
      ['name=systemd', '/sys/fs/cgroup/systemd'],
      ['', '/sys/fs/cgroup/unified'],
    ],
  );
});

test('cgroupsPath: absolute from each root, relative below our own cgroup (v2: its parent)', () => {
  const [cpu, memory] = v1Hierarchies(MOUNTINFO, PROC_CGROUP);
  assert.ok(cpu && memory, 'the cpu and memory hierarchies');
  const own = parseProcCgroup(PROC_CGROUP);
  assert.is(v1CgroupDir(memory, '/runts/c1', own), '/sys/fs/cgroup/memory/runts/c1');
  assert.is(v1CgroupDir(memory, 'c1', own), '/sys/fs/cgroup/memory/job/42/c1');
  assert.is(v1CgroupDir(cpu, 'c1', own), '/sys/fs/cgroup/cpu,cpuacct/c1');
  assert.is(v2CgroupDir('/runts/c1', PROC_CGROUP), '/sys/fs/cgroup/runts/c1');
  assert.is(v2CgroupDir('c1', PROC_CGROUP), '/sys/fs/cgroup/user.slice/c1');
});

/** Runs the device program on one access, as the kernel would: 1 allows. Only the opcodes it uses. */
function runFilter(program: Buffer, type: 'b' | 'c', access: string, major: number, minor: number): number {
  const ctx = [
    (type === 'b' ? 1 : 2) |
      ([...access].reduce((a, c) => a | (({ m: 1, r: 2, w: 4 } as Record<string, number>)[c] ?? 0), 0) << 16),
    major,
    minor,
  ];
  const r = new Array<number>(11).fill(0);
  const word = <T>(words: readonly T[], i: number, what: string): T => {
    const value = words[i];
    if (value === undefined) throw new Error(`no ${what} ${i}`);
    return value;
  };
  for (let pc = 0; pc < program.length / 8; pc++) {
    const op = program.readUInt8(pc * 8);
    const dst = program.readUInt8(pc * 8 + 1) & 0xf;
    const src = program.readUInt8(pc * 8 + 1) >> 4;
    const off = program.readInt16LE(pc * 8 + 2);
    const imm = program.readInt32LE(pc * 8 + 4);
    const reg = (i: number) => word(r, i, 'register');
    if (op === 0x61) r[dst] = word(ctx, off / 4, 'context word') >>> 0;
    else if (op === 0x54) r[dst] = (reg(dst) & imm) >>> 0;
    else if (op === 0x74) r[dst] = reg(dst) >>> imm;
    else if (op === 0xb4) r[dst] = imm >>> 0;
    else if (op === 0xbc) r[dst] = reg(src);
    else if (op === 0x15) pc += reg(dst) === imm ? off : 0;
    else if (op === 0x55) pc += reg(dst) !== imm ? off : 0;
    else if (op === 0x5d) pc += reg(dst) !== reg(src) ? off : 0;
    else if (op === 0x95) return reg(0);
    else throw new Error(`opcode 0x${op.toString(16)}`);
  }
  throw new Error('fell off the end');
}

const rules = (configured: NonNullable<LinuxResources['devices']>, paths: string[] = []) =>
  reduceDeviceRules(deviceRules(configured, paths));

test('device rules: the default config\'s "deny all" keeps runts\' defaults; a later deny of /dev/null wins', () => {
  const defaults = rules(defaultSpec().linux!.resources!.devices!);
  assert.is(defaults.defaultAllow, false);
  assert.ok(defaults.exceptions.some((e) => e.type === 'c' && e.major === 1 && e.minor === 3 && e.access === 'rwm'));
  const noNull = rules([
    ...defaultSpec().linux!.resources!.devices!,
    { allow: false, type: 'c', major: 1, minor: 3, access: 'rwm' },
  ]);
  assert.not.ok(noNull.exceptions.some((e) => e.major === 1 && e.minor === 3));
  // What runts' own wildcard grants stays (mknod of any char device), as with runc.
  assert.ok(noNull.exceptions.some((e) => e.type === 'c' && e.major === -1 && e.access === 'm'));
  assert.equal(v1DeviceWrites(noNull).slice(0, 2), [
    { file: 'devices.deny', value: 'a' },
    { file: 'devices.allow', value: 'c *:* m' },
  ]);
});

test('device rules: defaults follow the last "a" rule; "allow all" makes the exceptions denials; config devices replace defaults', () => {
  const reset = rules([
    { allow: false, access: 'rwm' },
    { allow: true, type: 'c', major: 4, minor: 1, access: 'rwm' },
    { allow: false, access: 'rwm' },
  ]);
  assert.not.ok(
    reset.exceptions.some((e) => e.major === 4),
    'a rule before the last reset stays wiped',
  );
  assert.ok(
    reset.exceptions.some((e) => e.major === 1 && e.minor === 3),
    'the defaults come after the last reset',
  );
  const open = rules([
    { allow: true, access: 'rwm' },
    { allow: false, type: 'b', major: 8, access: 'w' },
  ]);
  assert.equal(open, { defaultAllow: true, exceptions: [{ type: 'b', major: 8, minor: -1, access: 'w' }] });
  assert.equal(v1DeviceWrites(open), [
    { file: 'devices.allow', value: 'a' },
    { file: 'devices.deny', value: 'b 8:* w' },
  ]);
  const ownNull = rules([{ allow: false, access: 'rwm' }], ['/dev/null']);
  assert.not.ok(
    ownNull.exceptions.some((e) => e.major === 1 && e.minor === 3),
    'a configured /dev/null keeps its default allow',
  );
});

test('device rules: a deny inside a wider allow of the config cannot be enforced by v1 and is refused, naming both', () => {
  assert.throws(
    () =>
      rules([
        { allow: false, access: 'rwm' },
        { allow: true, type: 'c', major: 4, access: 'rw' },
        { allow: false, type: 'c', major: 4, minor: 1, access: 'w' },
      ]),
    /linux\.resources\.devices\[2\]: denying c 4:1 w inside the wider c 4:\* rw of linux\.resources\.devices\[1\] cannot be enforced/,
  );
});

test("device rules from a Docker config: its allows, its deny of fuse, and runts' defaults", () => {
  const set = rules(dockerConfig.linux.resources.devices);
  const text = v1DeviceWrites(set).map((w) => `${w.file} ${w.value}`);
  assert.ok(text.includes('devices.allow c 5:1 rwm'));
  assert.not.ok(
    text.some((t) => t.includes('10:229')),
    'fuse is denied',
  );
});

test('the eBPF device program decides as the v1 rules do', () => {
  const cases: [DeviceRuleSet, ['b' | 'c', string, number, number, number][]][] = [
    [
      rules(defaultSpec().linux!.resources!.devices!),
      [
        ['c', 'rw', 1, 3, 1],
        ['c', 'w', 1, 5, 1],
        ['c', 'm', 42, 7, 1],
        ['c', 'r', 42, 7, 0],
        ['b', 'r', 8, 0, 0],
        ['b', 'm', 8, 0, 1],
        ['c', 'rw', 136, 4, 1],
      ],
    ],
    [
      rules([...defaultSpec().linux!.resources!.devices!, { allow: false, type: 'c', major: 1, minor: 3, access: 'rwm' }]),
      [
        ['c', 'w', 1, 3, 0],
        ['c', 'r', 1, 3, 0],
        ['c', 'w', 1, 5, 1],
      ],
    ],
    [
      rules([
        { allow: false, access: 'rwm' },
        { allow: true, type: 'c', major: 4, minor: 1, access: 'r' },
      ]),
      [
        ['c', 'r', 4, 1, 1],
        ['c', 'rw', 4, 1, 0],
        ['c', 'w', 4, 1, 0],
        ['c', 'r', 4, 2, 0],
      ],
    ],
    [
      rules([
        { allow: true, access: 'rwm' },
        { allow: false, type: 'b', major: 8, access: 'w' },
      ]),
      [
        ['b', 'r', 8, 1, 1],
        ['b', 'rw', 8, 1, 0],
        ['b', 'w', 9, 1, 1],
        ['c', 'w', 8, 1, 1],
      ],
    ],
  ];
  for (const [set, accesses] of cases) {
    const program = deviceFilterProgram(set);
    for (const [type, access, major, minor, want] of accesses) {
      assert.is(
        runFilter(program, type, access, major, minor),
        want,
        `${type} ${major}:${minor} ${access} with ${JSON.stringify(set)}`,
      );
    }
  }
});

test('resource checks name the field; update merges group by group and never touches devices', () => {
  assert.equal(
    resourceProblems(
      { memory: { limit: 64, swap: 32 }, blockIO: { weight: 5 }, devices: [{ allow: true, type: 'x', access: 'rwz' }] },
      '/linux/resources',
    ).map((p) => p.pointer),
    [
      '/linux/resources/memory/swap',
      '/linux/resources/blockIO/weight',
      '/linux/resources/devices/0/type',
      '/linux/resources/devices/0/access',
    ],
  );
  assert.equal(resourceProblems({ memory: { swappiness: 2 ** 64 } }, ''), [], 'swappiness -1 as a uint64 means "leave it"');
  assert.equal(
    resourceProblems({ unified: { 'memory.high': '1G', 'a/b': '1' } }, '').map((p) => p.pointer),
    ['/unified/a~1b'],
  );
  const applied: LinuxResources = {
    memory: { limit: 32, swap: 64 },
    pids: { limit: 10 },
    devices: [{ allow: false, access: 'rwm' }],
  };
  assert.equal(mergeResources(applied, { memory: { limit: 48 }, devices: [] }), {
    memory: { limit: 48, swap: 64 },
    pids: { limit: 10 },
    devices: [{ allow: false, access: 'rwm' }],
  });
});

test('flag values: Go durations and go-units sizes', () => {
  assert.equal(
    ['5s', '100ms', '1m30s', '1.5s'].map((t) => parseDuration('--interval', t)),
    [5000, 100, 90000, 1500],
  );
  assert.throws(() => parseDuration('--interval', '5'), /--interval: "5" is not a duration/);
  assert.equal(
    ['64m', '1g', '512k', '1048576', '2GiB', '1.5m'].map((t) => parseBytes('--memory', t)),
    [64 << 20, 1 << 30, 512 << 10, 1 << 20, 2 * 1024 ** 3, 1.5 * (1 << 20)],
  );
  assert.throws(() => parseBytes('--memory', 'lots'), /--memory: "lots" is not a size/);
});

test('features: cgroup v1 and v2 (and rdma) through cgroupfs and systemd; not the user manager', () => {
  assert.equal(features().linux.cgroup, { v1: true, v2: true, systemd: true, systemdUser: false, rdma: true });
});

/** The mount calls for the default config's "cgroup" mount at /sys/fs/cgroup (options nosuid, noexec, nodev, relatime, ro). */
function cgroupMountCalls(view: CgroupMountView, cgroupns: boolean) {
  const rootfs = join(tempDir(), 'rootfs');
  mkdirSync(rootfs);
  const spec = baseSpec();
  spec.mounts = spec.mounts!.filter((m) => m.type === 'cgroup');
  if (cgroupns) spec.linux!.namespaces!.push({ type: 'cgroup' });
  const plan = makePlan(
    { bundle: '/b', file: '/b/config.json', spec, rootfs },
    { id: 'x', fifoPath: '/f', noPivot: false, preserveFds: 0, cgroup: view },
  );
  const sys = new RecordingSys();
  prepareRootfs(sys, plan);
  const at = `${rootfs}/sys/fs/cgroup`;
  const strip = (p: unknown) => (typeof p === 'string' ? p.replace(at, '@') : p);
  return {
    mounts: sys
      .callsTo('mount')
      .filter((a) => String(a[1]).startsWith(at))
      .map((a) => a.map(strip)),
    links: sys
      .callsTo('symlink')
      .filter((a) => String(a[1]).startsWith(at))
      .map((a) => a.map(strip)),
  };
}

test('the "cgroup" mount shows the container its own cgroup: bound (v1), mounted in its cgroup namespace, or cgroup2', () => {
  const attrs = MS_NOSUID | MS_NOEXEC | MS_NODEV | MS_RELATIME;
  // Stand-ins for the container's cgroup directories on the host.
  const [cpu, systemd] = [tempDir(), tempDir()];
  const v1: CgroupMountView = {
    version: 1,
    hierarchies: [
      { name: 'cpu,cpuacct', controllers: 'cpu,cpuacct', path: cpu },
      { name: 'systemd', controllers: 'name=systemd', path: systemd },
    ],
  };
  const bound = cgroupMountCalls(v1, false);
  assert.equal(bound.mounts, [
    ['tmpfs', '@', 'tmpfs', attrs, 'mode=755'],
    [cpu, '@/cpu,cpuacct', 'bind', MS_BIND | MS_REC, null],
    [null, '@/cpu,cpuacct', null, MS_BIND | MS_REMOUNT | attrs | MS_RDONLY, null],
    [systemd, '@/systemd', 'bind', MS_BIND | MS_REC, null],
    [null, '@/systemd', null, MS_BIND | MS_REMOUNT | attrs | MS_RDONLY, null],
    [null, '@', null, MS_REMOUNT | attrs | MS_RDONLY, 'mode=755'],
  ]);
  assert.equal(bound.links, [
    ['cpu,cpuacct', '@/cpu'],
    ['cpu,cpuacct', '@/cpuacct'],
  ]);
  const own = cgroupMountCalls(v1, true);
  assert.equal(
    own.mounts.filter((m) => m[2] === 'cgroup'),
    [
      ['cgroup', '@/cpu,cpuacct', 'cgroup', attrs | MS_RDONLY, 'cpu,cpuacct'],
      ['cgroup', '@/systemd', 'cgroup', attrs | MS_RDONLY, 'name=systemd'],
    ],
  );
  assert.equal(cgroupMountCalls({ version: 2 }, true).mounts, [['cgroup2', '@', 'cgroup2', attrs | MS_RDONLY, null]]);
});

test('events JSON keeps uint64 "no limit" exact', () => {
  assert.is(eventJson({ type: 'oom', id: 'x' }), '{"type":"oom","id":"x"}');
  const line = eventJson({ type: 'stats', id: 'x', data: { memory: { usage: { limit: UNLIMITED } } } } as never);
  assert.is(line, '{"type":"stats","id":"x","data":{"memory":{"usage":{"limit":18446744073709551615}}}}');
});

test("v2 refuses v1's memory and blkio settings it has no file for, naming them, before writing anything", () => {
  const refusals: [LinuxResources, string][] = [
    [{ memory: { swappiness: 10 } }, 'linux.resources.memory: swappiness: cgroup v2 has no memory.swappiness'],
    [
      { memory: { disableOOMKiller: true } },
      'linux.resources.memory: disableOOMKiller: cgroup v2 cannot turn the OOM killer off',
    ],
    [{ memory: { useHierarchy: false } }, 'linux.resources.memory: useHierarchy: cgroup v2 is always hierarchical'],
    [{ blockIO: { leafWeight: 500 } }, 'linux.resources.blockIO: leafWeight: cgroup v2 has no leaf weights (io.weight only)'],
    [
      { blockIO: { weightDevice: [{ major: 8, minor: 0, leafWeight: 500 }] } },
      'linux.resources.blockIO: leafWeight: cgroup v2 has no leaf weights (io.weight only)',
    ],
  ];
  for (const [resources, message] of refusals) {
    const dir = tempDir();
    assert.throws(
      () => new V2Cgroup({ version: 2, path: dir }).apply(resources),
      (err: Error) => err.message === message,
    );
  }
  // What asks for nothing v2 lacks goes through: swappiness -1 ("leave it"), useHierarchy true, no leaf weight.
  const dir = tempDir();
  new V2Cgroup({ version: 2, path: dir }).apply({ memory: { swappiness: 2 ** 64, useHierarchy: true, disableOOMKiller: false } });
});

test.run();
