// The systemd cgroup driver's pure parts, without root and without systemd:
// slice expansion and unit naming (runc's rules), the unit's properties for
// a resources object, the device rules as DevicePolicy/DeviceAllow, and the
// cgroupsPath check with and without --systemd-cgroup.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { deviceRules, reduceDeviceRules } from '../../src/linux/cgroups/devices';
import {
  INFINITY,
  type UnitProperty,
  deviceProperties,
  rangeToBits,
  resourceProperties,
  unitProperties,
} from '../../src/linux/cgroups/systemd-properties';
import { expandSlice, systemdUnitOf } from '../../src/linux/cgroups/systemd-unit';
import { runtimeProblems } from '../../src/spec/checks';
import type { LinuxResources } from '../../src/spec/types';
import { baseSpec } from '../lib/bundle';

const test = suite('systemd cgroup driver (unit)');

const props = (list: UnitProperty[]) =>
  Object.fromEntries(list.map(([name, [signature, value]]) => [name, `${signature} ${JSON.stringify(value)}`]));

test('slice names expand to nested cgroups; "-.slice" is the root', () => {
  assert.is(expandSlice('system.slice'), '/system.slice');
  assert.is(
    expandSlice('kubepods-burstable-pod1.slice'),
    '/kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod1.slice',
  );
  assert.is(expandSlice('-.slice'), '/');
  for (const bad of ['system', '.slice', 'a--b.slice', '-a.slice', 'a-.slice', 'a/b.slice']) {
    assert.throws(() => expandSlice(bad), /invalid slice name/, bad);
  }
});

test('unit names and cgroups: <prefix>-<name>.scope in the slice, a slice by its name, runts-<id>.scope by default', () => {
  assert.equal(systemdUnitOf('system.slice:docker:abc', 'abc'), {
    name: 'docker-abc.scope',
    slice: 'system.slice',
    path: '/system.slice/docker-abc.scope',
  });
  assert.equal(systemdUnitOf('kubepods-besteffort-pod9.slice:cri-containerd:c1', 'c1'), {
    name: 'cri-containerd-c1.scope',
    slice: 'kubepods-besteffort-pod9.slice',
    path: '/kubepods.slice/kubepods-besteffort.slice/kubepods-besteffort-pod9.slice/cri-containerd-c1.scope',
  });
  assert.equal(systemdUnitOf(':libpod:x', 'x'), {
    name: 'libpod-x.scope',
    slice: 'system.slice',
    path: '/system.slice/libpod-x.scope',
  });
  assert.equal(systemdUnitOf('-.slice:p:n', 'n').path, '/p-n.scope');
  assert.equal(systemdUnitOf('machine.slice::my.slice', 'id'), {
    name: 'my.slice',
    slice: 'machine.slice',
    path: '/machine.slice/my.slice',
  });
  assert.equal(systemdUnitOf(undefined, 'c9'), {
    name: 'runts-c9.scope',
    slice: 'system.slice',
    path: '/system.slice/runts-c9.scope',
  });
  assert.equal(systemdUnitOf('', 'c9').name, 'runts-c9.scope');
  assert.throws(() => systemdUnitOf('/runts/c9', 'c9'), /must have the form "slice:prefix:name"/);
  assert.throws(() => systemdUnitOf('system.slice:p:', 'c9'), /must not be empty/);
  assert.throws(() => systemdUnitOf('system:p:n', 'c9'), /invalid slice name "system"/);
});

test('cgroupsPath: the systemd form needs --systemd-cgroup, and the flag needs that form', () => {
  const spec = (cgroupsPath: string) => {
    const s = baseSpec();
    s.linux!.cgroupsPath = cgroupsPath;
    return s;
  };
  const at = (problems: { pointer: string; message: string }[]) =>
    problems.filter((p) => p.pointer === '/linux/cgroupsPath').map((p) => p.message);
  assert.equal(at(runtimeProblems(spec('system.slice:docker:abc'), { systemdCgroup: true })), []);
  assert.equal(at(runtimeProblems(spec('/runts/abc'))), []);
  assert.match(
    at(runtimeProblems(spec('system.slice:docker:abc')))[0] ?? '',
    /the systemd form "slice:prefix:name" needs --systemd-cgroup/,
  );
  assert.match(
    at(runtimeProblems(spec('/runts/abc'), { systemdCgroup: true }))[0] ?? '',
    /with --systemd-cgroup it must have the form "slice:prefix:name"/,
  );
  assert.match(at(runtimeProblems(spec('a--b.slice:p:n'), { systemdCgroup: true }))[0] ?? '', /invalid slice name "a--b.slice"/);
});

test('cpuset lists as AllowedCPUs bytes: CPU n is bit n%8 of byte n/8', () => {
  assert.equal(rangeToBits('0'), [1]);
  assert.equal(rangeToBits('0-3,8'), [0x0f, 0x01]);
  assert.equal(rangeToBits('1,3-5, 15'), [0x3a, 0x80]);
  assert.throws(() => rangeToBits('a-b'), /not a cpuset list/);
  assert.throws(() => rangeToBits('5-2'), /empty range/);
});

const RESOURCES: LinuxResources = {
  memory: { limit: 256 << 20, reservation: 128 << 20, swap: 512 << 20 },
  cpu: { shares: 1024, quota: 50_000, period: 100_000, cpus: '0-1', mems: '0' },
  pids: { limit: 100 },
  blockIO: { weight: 500 },
};

test('v2: the resources systemd knows, converted as the cgroupfs driver converts them', () => {
  assert.equal(props(resourceProperties(RESOURCES, 2, 252)), {
    MemoryMax: `t "${256 << 20}"`,
    MemoryLow: `t "${128 << 20}"`,
    MemorySwapMax: `t "${256 << 20}"`,
    CPUWeight: 't "100"',
    CPUQuotaPeriodUSec: 't "100000"',
    CPUQuotaPerSecUSec: 't "500000"',
    TasksMax: 't "100"',
    AllowedCPUs: 'ay [3]',
    AllowedMemoryNodes: 'ay [1]',
  });
});

test('v1: MemoryLimit, CPUShares, BlockIOWeight instead', () => {
  assert.equal(props(resourceProperties(RESOURCES, 1, 252)), {
    MemoryLimit: `t "${256 << 20}"`,
    CPUShares: 't "1024"',
    CPUQuotaPeriodUSec: 't "100000"',
    CPUQuotaPerSecUSec: 't "500000"',
    BlockIOWeight: 't "500"',
    TasksMax: 't "100"',
    AllowedCPUs: 'ay [3]',
    AllowedMemoryNodes: 'ay [1]',
  });
});

test('limits of -1, quotas rounded up to whole percents, and properties older systemds lack', () => {
  const unlimited = props(
    resourceProperties({ memory: { limit: -1 }, pids: { limit: -1 }, cpu: { quota: -1, period: 50_000 } }, 2, 252),
  );
  assert.equal(unlimited, {
    MemoryMax: `t "${INFINITY}"`,
    MemorySwapMax: `t "${INFINITY}"`,
    CPUQuotaPeriodUSec: 't "50000"',
    CPUQuotaPerSecUSec: `t "${INFINITY}"`,
    TasksMax: `t "${INFINITY}"`,
  });
  // 1234 µs per 100 ms is 12.34 ms per second: 20 ms, the next whole percent.
  assert.is(props(resourceProperties({ cpu: { quota: 1234 } }, 2, 252)).CPUQuotaPerSecUSec, 't "20000"');
  assert.equal(props(resourceProperties({ cpu: { quota: 20_000, period: 100_000, cpus: '0' } }, 2, 241)), {
    CPUQuotaPerSecUSec: 't "200000"',
  });
  // cpu.idle is a weight of 0 to systemd ≥ 252, and then the shares say nothing.
  assert.is(props(resourceProperties({ cpu: { shares: 2048, idle: 1 } }, 2, 252)).CPUWeight, 't "0"');
  assert.is(props(resourceProperties({ cpu: { shares: 2048, idle: 1 } }, 2, 251)).CPUWeight, 't "174"');
});

test('v2: linux.resources.unified files that have a property get it; others only their file', () => {
  const unified = {
    'memory.high': '1048576',
    'memory.max': 'max',
    'pids.max': '42',
    'cpu.max': '25000 50000',
    'cpuset.cpus': '2',
    'io.weight': '50',
    'memory.min': 'lots',
  };
  assert.equal(props(resourceProperties({ unified }, 2, 252)), {
    MemoryHigh: 't "1048576"',
    MemoryMax: `t "${INFINITY}"`,
    TasksMax: 't "42"',
    CPUQuotaPeriodUSec: 't "50000"',
    CPUQuotaPerSecUSec: 't "500000"',
    AllowedCPUs: 'ay [4]',
  });
});

test("device rules: DevicePolicy=strict and DeviceAllow in systemd's words; allow-all has no strict form", () => {
  const set = reduceDeviceRules(
    deviceRules(
      [
        { allow: false, access: 'rwm' },
        { allow: true, type: 'b', major: 8, minor: 0, access: 'r' },
      ],
      [],
    ),
  );
  const [policy, allow] = deviceProperties(set);
  assert.equal(policy, ['DevicePolicy', ['s', 'strict']]);
  assert.ok(allow, 'a DeviceAllow property');
  const entries = allow[1][1] as [string, string][];
  assert.equal(allow[1][0], 'a(ss)');
  assert.ok(entries.some(([p, a]) => p === 'char-*' && a === 'm'));
  assert.ok(entries.some(([p, a]) => p === 'block-*' && a === 'm'));
  assert.ok(
    entries.some(([p, a]) => p === '/dev/char/1:3' && a === 'rwm'),
    '/dev/null',
  );
  assert.ok(
    entries.some(([p, a]) => p === 'char-136' && a === 'rwm'),
    '/dev/pts/*',
  );
  assert.ok(entries.some(([p, a]) => p === '/dev/block/8:0' && a === 'r'));
  assert.equal(deviceProperties(reduceDeviceRules(deviceRules([{ allow: true, access: 'rwm' }], []))), []);
  // "c *:5 r" cannot be said to systemd: left to the cgroupfs rules.
  const denyAll = reduceDeviceRules(deviceRules([{ allow: false, access: 'rwm' }], []));
  const wildMajor = reduceDeviceRules(
    deviceRules(
      [
        { allow: false, access: 'rwm' },
        { allow: true, type: 'c', minor: 5, access: 'r' },
      ],
      [],
    ),
  );
  assert.is(wildMajor.exceptions.length, denyAll.exceptions.length + 1);
  assert.equal(deviceProperties(wildMajor), deviceProperties(denyAll));
});

test('the unit: a delegated scope in its slice with the init in it; a slice under its parent by Wants=', () => {
  const devices = reduceDeviceRules(deviceRules([], []));
  const scope = props(
    unitProperties(
      systemdUnitOf('system.slice:docker:abc', 'abc'),
      'runts container abc',
      { pid: 4242, resources: { pids: { limit: 10 } }, devices },
      2,
      252,
    ),
  );
  assert.equal(
    {
      Slice: scope.Slice,
      Delegate: scope.Delegate,
      PIDs: scope.PIDs,
      DefaultDependencies: scope.DefaultDependencies,
      IOAccounting: scope.IOAccounting,
      TasksMax: scope.TasksMax,
      DevicePolicy: scope.DevicePolicy,
    },
    {
      Slice: 's "system.slice"',
      Delegate: 'b true',
      PIDs: 'au [4242]',
      DefaultDependencies: 'b false',
      IOAccounting: 'b true',
      TasksMax: 't "10"',
      DevicePolicy: 's "strict"',
    },
  );
  assert.is(scope.Description, 's "runts container abc"');
  const slice = props(
    unitProperties(systemdUnitOf('machine.slice::my.slice', 'id'), 'd', { pid: 1, resources: {}, devices }, 1, 252),
  );
  assert.is(slice.Wants, 'as ["machine.slice"]');
  assert.is(slice.BlockIOAccounting, 'b true');
  assert.equal([slice.Slice, slice.Delegate, slice.PIDs], [undefined, undefined, undefined]);
});

test.run();
