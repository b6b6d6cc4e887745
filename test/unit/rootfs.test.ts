// Rootfs and credential steps against the recording double: the order and
// arguments of the system calls, without root.
import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { applyCredentials } from '../../src/linux/credentials';
import { enterNamespaces } from '../../src/linux/namespaces';
import { enterRootfs, finishRootfs, prepareRootfs } from '../../src/linux/rootfs';
import { enterWorkingDirectory } from '../../src/linux/working-dir';
import { makePlan } from '../../src/spec/plan';
import {
  CLONE_FS,
  CLONE_NEWIPC,
  CLONE_NEWNS,
  CLONE_NEWUTS,
  MNT_DETACH,
  MS_BIND,
  MS_NOSUID,
  MS_PRIVATE,
  MS_RDONLY,
  MS_REC,
  MS_REMOUNT,
  MS_SLAVE,
  PR_CAPBSET_DROP,
  PR_SET_KEEPCAPS,
  PR_SET_NO_NEW_PRIVS,
  S_IFCHR,
} from '../../src/sys/constants';
import { RecordingSys } from '../../src/sys/recording';
import { baseSpec } from '../lib/bundle';
import { tempDir } from '../lib/cli';

const test = suite('rootfs (recorded)');

function planFor(edit: (s: ReturnType<typeof baseSpec>) => void = () => {}) {
  const rootfs = join(tempDir(), 'rootfs');
  mkdirSync(rootfs);
  const spec = baseSpec();
  spec.mounts = [
    { destination: '/proc', type: 'proc', source: 'proc' },
    { destination: '/dev', type: 'tmpfs', source: 'tmpfs', options: ['nosuid', 'mode=755'] },
  ];
  edit(spec);
  return makePlan(
    { bundle: '/b', file: '/b/config.json', spec, rootfs },
    { id: 'x', fifoPath: '/f', noPivot: false, preserveFds: 0, cgroup: { version: 2 } },
  );
}

test('prepareRootfs: / rslave first, the rootfs parent private, rootfs bound on itself, then mounts in order, then devices', () => {
  const sys = new RecordingSys();
  const plan = planFor();
  prepareRootfs(sys, plan);
  const mounts = sys.callsTo('mount');
  assert.equal(mounts[0], [null, '/', null, MS_REC | MS_SLAVE, null]);
  assert.equal(mounts[1]?.[3], MS_PRIVATE);
  assert.ok(plan.rootfs.startsWith(mounts[1]?.[1] as string), 'the private mount is not the one holding the rootfs');
  assert.equal(mounts[2], [plan.rootfs, plan.rootfs, 'bind', MS_BIND | MS_REC, null]);
  assert.equal(mounts[3], ['proc', `${plan.rootfs}/proc`, 'proc', 0, null]);
  assert.equal(mounts[4], ['tmpfs', `${plan.rootfs}/dev`, 'tmpfs', MS_NOSUID, 'mode=755']);
  assert.ok(existsSync(`${plan.rootfs}/proc`), 'mount point not made');
  const nodes = sys.callsTo('mknod').map((a) => [a[0], a[2], a[3]]);
  assert.equal(nodes, [
    [`${plan.rootfs}/dev/null`, 1, 3],
    [`${plan.rootfs}/dev/zero`, 1, 5],
    [`${plan.rootfs}/dev/full`, 1, 7],
    [`${plan.rootfs}/dev/random`, 1, 8],
    [`${plan.rootfs}/dev/urandom`, 1, 9],
    [`${plan.rootfs}/dev/tty`, 5, 0],
  ]);
  assert.ok(sys.callsTo('mknod').every((a) => ((a[1] as number) & S_IFCHR) === S_IFCHR));
  assert.ok(sys.callsTo('symlink').some((a) => a[0] === '/proc/self/fd' && a[1] === `${plan.rootfs}/dev/fd`));
});

test('a bind mount with attributes is bound, then remounted with them', () => {
  const sys = new RecordingSys();
  const src = tempDir();
  const plan = planFor((s) => s.mounts!.push({ destination: '/data', source: src, options: ['rbind', 'ro', 'nosuid'] }));
  prepareRootfs(sys, plan);
  const data = sys.callsTo('mount').filter((a) => a[1] === `${plan.rootfs}/data`);
  assert.equal(data, [
    [src, `${plan.rootfs}/data`, 'bind', MS_BIND | MS_REC, null],
    [null, `${plan.rootfs}/data`, null, MS_BIND | MS_REMOUNT | MS_RDONLY | MS_NOSUID, null],
  ]);
});

test('a mount that fails names the mount and the errno; nothing after it runs', () => {
  const sys = new RecordingSys().failOn('mount', 19, (a) => a[2] === 'proc');
  assert.throws(() => prepareRootfs(sys, planFor()), /mount proc to \/proc \(proc\): mount .*: no such device/i);
  assert.is(sys.callsTo('mknod').length, 0);
});

test('enterRootfs: pivot_root . . then, from the old root, it is made slave and detached', () => {
  const sys = new RecordingSys();
  const plan = planFor();
  enterRootfs(sys, plan);
  // The old root is held open ("/") to go back into it after the pivot.
  assert.equal(
    sys.calls.map((c) => c.call),
    ['open', 'chdir', 'pivotRoot', 'fchdir', 'mount', 'umount2', 'close', 'chdir'],
  );
  assert.equal(sys.callsTo('umount2')[0], ['.', MNT_DETACH]);
  const noPivot = new RecordingSys();
  enterRootfs(noPivot, { ...plan, noPivot: true });
  // Before the move, the host's mounts are detached (detachHostMounts, tested below).
  assert.equal(noPivot.calls.map((c) => c.call).slice(-4), ['chdir', 'mount', 'chroot', 'chdir']);
});

test('no mount namespace: only the rootfs is touched: no propagation change, no bind of it, chroot, not pivot_root', () => {
  const sys = new RecordingSys();
  const plan = planFor((s) => {
    s.linux!.namespaces = s.linux!.namespaces!.filter((n) => n.type !== 'mount');
    delete s.linux!.maskedPaths;
    delete s.linux!.readonlyPaths;
    s.root = { path: 'rootfs', readonly: false };
  });
  assert.is(plan.mountNamespace, false);
  prepareRootfs(sys, plan);
  enterRootfs(sys, plan);
  finishRootfs(sys, plan);
  const targets = sys.callsTo('mount').map((a) => a[1] as string);
  assert.equal(targets, [`${plan.rootfs}/proc`, `${plan.rootfs}/dev`]);
  assert.equal(sys.callsTo('pivotRoot'), []);
  assert.equal(sys.callsTo('umount2'), []);
  assert.equal(sys.callsTo('chroot'), [[plan.rootfs]]);
  // What would change the caller's mounts is refused here too, whatever validation said.
  assert.throws(
    () => finishRootfs(new RecordingSys(), { ...plan, maskedPaths: ['/proc/kcore'] }),
    /linux\.maskedPaths: need a mount namespace/,
  );
  assert.throws(() => prepareRootfs(new RecordingSys(), { ...plan, rootReadonly: true }), /root\.readonly/);
});

test('the working directory is resolved inside the root and checked after chdir', () => {
  const sys = new RecordingSys();
  enterWorkingDirectory(sys, '/');
  assert.equal(sys.callsTo('chdir'), [['/']]);
  // The kernel answering "(unreachable)" means the chdir left the root: refused.
  const escaped = new RecordingSys();
  escaped.getcwd = () => '(unreachable)/';
  assert.throws(() => enterWorkingDirectory(escaped, '/'), /leads outside the container/);
});

test('finishRootfs: read-only root remounted last', () => {
  const sys = new RecordingSys();
  finishRootfs(sys, { ...planFor(), rootReadonly: true, maskedPaths: [], readonlyPaths: [] });
  assert.equal(sys.callsTo('mount'), [[null, '/', null, MS_BIND | MS_REMOUNT | MS_RDONLY | MS_REC, null]]);
});

test('enterNamespaces: joins first (with CLONE_FS unshared for a mount join), then one unshare', () => {
  const sys = new RecordingSys();
  enterNamespaces(sys, [{ type: 'uts' }, { type: 'mount', path: '/proc/self/ns/mnt' }, { type: 'ipc' }]);
  assert.equal(
    sys.calls.map((c) => c.call),
    ['unshare', 'setns', 'unshare'],
  );
  assert.equal(sys.callsTo('unshare'), [[CLONE_FS], [CLONE_NEWUTS | CLONE_NEWIPC]]);
  assert.is(sys.callsTo('setns')[0]?.[1], CLONE_NEWNS);
});

test('applyCredentials: bounding drops, keepcaps around the uid change, capset, no_new_privs', () => {
  const sys = new RecordingSys();
  const plan = planFor((s) => {
    s.process!.user = { uid: 1000, gid: 1000, additionalGids: [10] };
  });
  applyCredentials(sys, plan.process, 40);
  const drops = sys
    .callsTo('prctl')
    .filter((a) => a[0] === PR_CAPBSET_DROP)
    .map((a) => a[1]);
  assert.is(drops.length, 41 - 3);
  assert.not.ok(drops.includes(5), 'CAP_KILL is in the bounding set and must stay');
  const order = sys.calls
    .map((c) => (c.call === 'prctl' ? `prctl:${c.args[0]}` : c.call))
    .filter((c) => c !== `prctl:${PR_CAPBSET_DROP}`);
  assert.equal(order.slice(0, 6), [
    `prctl:${PR_SET_KEEPCAPS}`,
    'setgroups',
    'setresgid',
    'setresuid',
    `prctl:${PR_SET_KEEPCAPS}`,
    'capset',
  ]);
  assert.equal(sys.callsTo('setresuid')[0], [1000, 1000, 1000]);
  assert.equal(sys.callsTo('setgroups')[0], [[10]]);
  assert.is(sys.caps.effective, (1n << 29n) | (1n << 5n) | (1n << 10n));
  assert.ok(sys.callsTo('prctl').some((a) => a[0] === PR_SET_NO_NEW_PRIVS && a[1] === 1));
});

test.run();
