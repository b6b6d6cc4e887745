// Escapes through /proc (issue 19, points 4 and 5): a config or a rootfs
// that puts something of its own over /proc, so that the init's procfs
// writes (sysctls, oom_score_adj, LSM labels, exec.fifo) land in files the
// container controls (CVE-2019-16884, CVE-2019-19921, CVE-2025-52881
// class); and sysctls that reach past the container's namespaces, into the
// runtime's (the caller's) or the whole host's kernel settings.
//
// "The host" below is this test process: runts is its child, in the same
// net, ipc and uts namespaces (the sandbox's, private to the test run), so
// a value that changes here is a value runts changed outside the container.
import {
  closeSync,
  existsSync,
  mkdirSync,
  openSync,
  readFileSync,
  readdirSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { join } from 'node:path';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { writeProcFile } from '../../src/linux/procfs';
import type { Spec } from '../../src/spec/types';
import { MNT_DETACH } from '../../src/sys/constants';
import { sys } from '../../src/sys/index';
import { baseSpec } from '../lib/bundle';
import { isRoot, tempDir } from '../lib/cli';
import { bundle, leftovers, ownRootfs, runBundle, runtime, shArgs, uniqueId, watchContainer } from '../lib/container';

const test = suite('escape-procfs');
const asRoot = isRoot ? test : test.skip;

type Mount = NonNullable<Spec['mounts']>[number];
type Edit = (s: Spec) => void;

const hostValue = (key: string): string => readFileSync(`/proc/sys/${key.replace(/\./g, '/')}`, 'utf8').trim();
const withMount =
  (m: Mount): Edit =>
  (s) =>
    s.mounts!.push(m);
const withoutNamespace =
  (type: string): Edit =>
  (s) => {
    s.linux!.namespaces = s.linux!.namespaces!.filter((ns) => ns.type !== type);
  };
const withSysctl =
  (sysctl: Record<string, string>): Edit =>
  (s) => {
    s.linux!.sysctl = sysctl;
  };
const all =
  (...edits: Edit[]): Edit =>
  (s) =>
    edits.forEach((e) => e(s));
/** The index a mount pushed onto the default config's gets. */
const ADDED = baseSpec().mounts!.length;
/** A different value for a sysctl (numbers may exceed 2^53: kernel.shmmax). */
const otherThan = (value: string): string => (value === '0' ? '1' : value === '1' ? '0' : String(BigInt(value) - 1n));

/** A host file the container could control (bound over a procfs file). */
function plantedFile(): string {
  const file = join(tempDir(), 'planted');
  writeFileSync(file, 'planted\n');
  return file;
}

/**
 * create of this bundle exits 1 with `reason` and leaves nothing behind
 * (no process, mount under the rootfs or bundle, cgroup or state: see
 * leftovers in test/lib/container.ts). `first` checks the host right after
 * create, whatever create did.
 */
function assertRefused(b: string, reason: RegExp, first: () => void = () => {}): string {
  const root = join(tempDir(), 'root');
  const id = uniqueId('procfs');
  const watch = watchContainer({ id, root, bundle: b });
  const r = runtime(['create', '--bundle', b, id], { root });
  if (r.code === 0) runtime(['delete', '--force', id], { root });
  first();
  assert.is(r.code, 1, `create succeeded: ${r.stderr}`);
  assert.match(r.stderr, reason);
  assert.equal(leftovers(watch), []);
  assert.equal(existsSync(root) ? readdirSync(root) : [], [], 'entries left under --root');
  return r.stderr;
}

// --- point 4: nothing of the container's over /proc ---

const PROC_MOUNTS: [string, () => Mount, RegExp][] = [
  [
    'a tmpfs over /proc/sys (sysctls would be written into it)',
    () => ({ destination: '/proc/sys', type: 'tmpfs', source: 'tmpfs' }),
    /inside \/proc/,
  ],
  [
    'a tmpfs over /proc/self/attr (the LSM label write)',
    () => ({ destination: '/proc/self/attr', type: 'tmpfs', source: 'tmpfs' }),
    /inside \/proc/,
  ],
  [
    'a host file bound over /proc/self/oom_score_adj',
    () => ({ destination: '/proc/self/oom_score_adj', type: 'bind', source: plantedFile(), options: ['bind'] }),
    /inside \/proc/,
  ],
  [
    'a host file bound over /proc/sys/net/ipv4/ip_forward',
    () => ({ destination: '/proc/sys/net/ipv4/ip_forward', type: 'bind', source: plantedFile(), options: ['bind'] }),
    /inside \/proc/,
  ],
  [
    'a tmpfs over /proc/self/fd (the exec.fifo reopen)',
    () => ({ destination: '/proc/self/fd', type: 'tmpfs', source: 'tmpfs' }),
    /inside \/proc/,
  ],
  [
    'a tmpfs on /proc itself',
    () => ({ destination: '/proc', type: 'tmpfs', source: 'tmpfs' }),
    /\/proc must be a mount of type proc/,
  ],
  ['a relative destination proc/sys', () => ({ destination: 'proc/sys', type: 'tmpfs', source: 'tmpfs' }), /inside \/proc/],
  [
    'a destination /tmp/../proc//sys/',
    () => ({ destination: '/tmp/../proc//sys/', type: 'tmpfs', source: 'tmpfs' }),
    /inside \/proc/,
  ],
];

for (const [name, mount, reason] of PROC_MOUNTS) {
  asRoot(`mounts: ${name} is refused by JSON pointer, nothing left`, () => {
    const b = bundle(all(withMount(mount()), withSysctl({ 'net.ipv4.ip_forward': '1' })));
    const stderr = assertRefused(b, reason);
    assert.match(stderr, new RegExp(`/mounts/${ADDED}/destination`), 'names the mount by its JSON pointer');
  });
}

asRoot('mounts: a file bound over an lxcfs-style allowed path (/proc/uptime) is still mounted', () => {
  const source = plantedFile();
  const r = runBundle(
    bundle(
      all(withMount({ destination: '/proc/uptime', type: 'bind', source, options: ['bind', 'ro'] }), shArgs('cat /proc/uptime')),
    ),
  );
  assert.is(r.code, 0, r.stderr);
  assert.is(r.stdout, 'planted\n');
});

asRoot('mounts: a rootfs symlink /foo -> /proc makes /foo/sys land on /proc/sys: refused at mount time, nothing left', () => {
  const rootfs = ownRootfs();
  symlinkSync('/proc', join(rootfs, 'foo'));
  const b = bundle(withMount({ destination: '/foo/sys', type: 'tmpfs', source: 'tmpfs' }), { rootfs });
  assertRefused(b, new RegExp(`/mounts/${ADDED}/destination: /foo/sys resolves to /proc/sys in the rootfs.*inside /proc`));
});

asRoot(
  'mounts: a rootfs whose /proc is a symlink (procfs would sit elsewhere, open to mounts over it): the proc mount is refused',
  () => {
    const rootfs = ownRootfs();
    rmSync(join(rootfs, 'proc'), { recursive: true });
    mkdirSync(join(rootfs, 'elsewhere'));
    symlinkSync('/elsewhere', join(rootfs, 'proc'));
    const b = bundle(
      all(
        withMount({ destination: '/elsewhere/sys', type: 'tmpfs', source: 'tmpfs' }),
        withSysctl({ 'net.ipv4.ip_forward': '1' }),
      ),
      { rootfs },
    );
    assertRefused(b, /\/mounts\/0\/destination: .*ordinary directory/);
  },
);

// --- point 4: the init's procfs writes go only to procfs ---

const TMPFS_MAGIC = 0x01021994;

asRoot('writer: the real fstatfs tells procfs from tmpfs; a tmpfs file is refused, unchanged; a procfs file is written', () => {
  const dir = tempDir();
  sys().mount('tmpfs', dir, 'tmpfs', 0, null);
  try {
    const file = join(dir, 'oom_score_adj');
    writeFileSync(file, 'planted\n');
    const fd = openSync(file, 'r');
    assert.is(sys().fstatfs(fd).type, TMPFS_MAGIC);
    closeSync(fd);
    assert.throws(() => writeProcFile(sys(), file, '0'), /is not on procfs \(filesystem type 0x1021994\)/);
    assert.is(readFileSync(file, 'utf8'), 'planted\n');
  } finally {
    sys().umount2(dir, MNT_DETACH);
  }
  const current = readFileSync('/proc/self/oom_score_adj', 'utf8').trim();
  writeProcFile(sys(), '/proc/self/oom_score_adj', current);
  assert.is(readFileSync('/proc/self/oom_score_adj', 'utf8').trim(), current);
});

/**
 * Something the config cannot ask for but a process in the container's
 * mount namespace can do (CVE-2025-52881 races; here a createContainer
 * hook, which runs there before the init writes): a host file bound over
 * the procfs file the init is about to write.
 */
const plantOver =
  (procFile: string, planted: string): Edit =>
  (s) => {
    s.hooks = {
      createContainer: [{ path: '/bin/sh', args: ['sh', '-c', `mount --bind ${planted} ${s.root!.path}${procFile}`] }],
    };
  };

asRoot(
  'writer: a host file bound over /proc/sys/net/ipv4/ip_forward after the mounts: the sysctl is refused, the file untouched',
  () => {
    const planted = plantedFile();
    const b = bundle(all(withSysctl({ 'net.ipv4.ip_forward': '1' }), plantOver('/proc/sys/net/ipv4/ip_forward', planted)));
    assertRefused(b, /sysctl net\.ipv4\.ip_forward=1: \/proc\/sys\/net\/ipv4\/ip_forward is not on procfs/, () =>
      assert.is(readFileSync(planted, 'utf8'), 'planted\n'),
    );
  },
);

asRoot("writer: a host file bound over the init's /proc/1/oom_score_adj: oomScoreAdj is refused, the file untouched", () => {
  const planted = plantedFile();
  const b = bundle(all((s) => (s.process!.oomScoreAdj = 7), plantOver('/proc/1/oom_score_adj', planted)));
  assertRefused(b, /oomScoreAdj 7: \/proc\/self\/oom_score_adj is not on procfs/, () =>
    assert.is(readFileSync(planted, 'utf8'), 'planted\n'),
  );
});

// --- point 5: sysctls only inside the container's own namespaces ---

/**
 * The sysctls refused, with the host's value of the key that would change
 * (read before and after: the same afterwards). Values that runts must not
 * write host-wide are set to their current value, so that even a runts
 * that wrote them would change nothing on the machine.
 */
const REFUSED: [string, () => Edit, string, string][] = [
  [
    'net.* without a network namespace',
    () => all(withoutNamespace('network'), withSysctl({ 'net.ipv4.ip_forward': otherThan(hostValue('net.ipv4.ip_forward')) })),
    'net.ipv4.ip_forward',
    'net.ipv4.ip_forward',
  ],
  [
    'net.* written with "/" separators, without a network namespace',
    () => all(withoutNamespace('network'), withSysctl({ 'net/ipv4/ip_forward': otherThan(hostValue('net.ipv4.ip_forward')) })),
    'net~1ipv4~1ip_forward',
    'net.ipv4.ip_forward',
  ],
  [
    "net.* in a network namespace that is the runtime's own (path)",
    () =>
      all(
        (s) => (s.linux!.namespaces!.find((ns) => ns.type === 'network')!.path = `/proc/${process.pid}/ns/net`),
        withSysctl({ 'net.ipv4.ip_forward': otherThan(hostValue('net.ipv4.ip_forward')) }),
      ),
    'net.ipv4.ip_forward',
    'net.ipv4.ip_forward',
  ],
  [
    'an IPC one (kernel.shmmax) without an ipc namespace',
    () => all(withoutNamespace('ipc'), withSysctl({ 'kernel.shmmax': otherThan(hostValue('kernel.shmmax')) })),
    'kernel.shmmax',
    'kernel.shmmax',
  ],
  [
    'an mqueue one (fs.mqueue.msg_max) without an ipc namespace',
    () => all(withoutNamespace('ipc'), withSysctl({ 'fs.mqueue.msg_max': otherThan(hostValue('fs.mqueue.msg_max')) })),
    'fs.mqueue.msg_max',
    'fs.mqueue.msg_max',
  ],
  [
    'kernel.domainname without a uts namespace',
    () => all(withoutNamespace('uts'), withSysctl({ 'kernel.domainname': 'escaped' })),
    'kernel.domainname',
    'kernel.domainname',
  ],
  [
    'kernel.core_pattern (not namespaced)',
    () => withSysctl({ 'kernel.core_pattern': hostValue('kernel.core_pattern') }),
    'kernel.core_pattern',
    'kernel.core_pattern',
  ],
  [
    'vm.swappiness (not namespaced)',
    () => withSysctl({ 'vm.swappiness': hostValue('vm.swappiness') }),
    'vm.swappiness',
    'vm.swappiness',
  ],
  [
    'a net.* key whose "/" form climbs out with ".." (net/../kernel/core_pattern)',
    () => withSysctl({ 'net/../kernel/core_pattern': hostValue('kernel.core_pattern') }),
    'net~1..~1kernel~1core_pattern',
    'kernel.core_pattern',
  ],
  [
    'a key with an empty component',
    () => withSysctl({ 'net.ipv4..ip_forward': '1' }),
    'net.ipv4..ip_forward',
    'net.ipv4.ip_forward',
  ],
];

for (const [name, edit, pointerKey, watched] of REFUSED) {
  asRoot(`sysctl: ${name} is refused as /linux/sysctl/${pointerKey}, nothing left, the host's value unchanged`, () => {
    const before = hostValue(watched);
    const b = bundle(edit());
    const stderr = assertRefused(b, /sysctl/, () => assert.is(hostValue(watched), before, `the host's ${watched} changed`));
    assert.ok(stderr.includes(`/linux/sysctl/${pointerKey}:`), `no /linux/sysctl/${pointerKey} in: ${stderr}`);
  });
}

const ALLOWED: [string, string, string][] = [
  ['net.ipv4.ip_forward, with a network namespace', 'net.ipv4.ip_forward', 'net.ipv4.ip_forward'],
  ['net/ipv4/ip_forward ("/" separators), with a network namespace', 'net/ipv4/ip_forward', 'net.ipv4.ip_forward'],
  ['kernel.shmmax, with an ipc namespace', 'kernel.shmmax', 'kernel.shmmax'],
  ['fs.mqueue.msg_max, with an ipc namespace', 'fs.mqueue.msg_max', 'fs.mqueue.msg_max'],
  ['kernel.domainname, with a uts namespace', 'kernel.domainname', 'kernel.domainname'],
];

const changed = (key: string, value: string): string => (key === 'kernel.domainname' ? `dom${process.pid}` : otherThan(value));

for (const [name, key, dotted] of ALLOWED) {
  asRoot(`sysctl: ${name} is applied inside; the host's value is unchanged`, () => {
    const before = hostValue(dotted);
    const value = changed(dotted, before);
    const r = runBundle(bundle(all(withSysctl({ [key]: value }), shArgs(`cat /proc/sys/${dotted.replace(/\./g, '/')}`))));
    assert.is(r.code, 0, r.stderr);
    assert.is(r.stdout.trim(), value, 'the container sees the value it asked for');
    assert.is(hostValue(dotted), before, `the host's ${dotted} changed`);
  });
}

test.run();
