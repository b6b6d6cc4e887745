// The vocabularies: signals, mount option words, the spec -> plan step.
import { mkdirSync, symlinkSync } from 'node:fs';
import { join } from 'node:path';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { parseMountOptions } from '../../src/linux/mount-options';
import { secureJoin } from '../../src/linux/secure-join';
import { parseSignal } from '../../src/linux/signals';
import { makePlan } from '../../src/spec/plan';
import {
  MOUNT_ATTR_NOATIME,
  MOUNT_ATTR_NOEXEC,
  MOUNT_ATTR_NOSUID,
  MOUNT_ATTR_RDONLY,
  MOUNT_ATTR__ATIME,
  MS_BIND,
  MS_NODEV,
  MS_NOEXEC,
  MS_NOSUID,
  MS_PRIVATE,
  MS_RDONLY,
  MS_REC,
  MS_SLAVE,
  MS_STRICTATIME,
} from '../../src/sys/constants';
import { baseSpec } from '../lib/bundle';
import { tempDir } from '../lib/cli';

const test = suite('linux tables');

test('signals: names with and without SIG, any case, numbers, RTMIN+n', () => {
  assert.is(parseSignal('KILL'), 9);
  assert.is(parseSignal('SIGKILL'), 9);
  assert.is(parseSignal('sigterm'), 15);
  assert.is(parseSignal('9'), 9);
  assert.is(parseSignal('RTMIN+2'), 36);
  assert.is(parseSignal('SIGRTMAX-1'), 63);
  for (const bad of ['NOPE', '0', '65', 'SIGRTMAX+1', '', '-9']) assert.is(parseSignal(bad), undefined, bad);
});

test('mount options: flags set and cleared in order, propagation apart, the rest is data', () => {
  const p = parseMountOptions([
    'nosuid',
    'strictatime',
    'mode=755',
    'size=65536k',
    'ro',
    'rw',
    'noexec',
    'rslave',
    'nodev',
    'dev',
  ]);
  assert.is(p.flags, MS_NOSUID | MS_STRICTATIME | MS_NOEXEC);
  assert.equal(p.propagation, [MS_SLAVE | MS_REC]);
  assert.is(p.data, 'mode=755,size=65536k');
  assert.is(parseMountOptions(['rbind', 'ro']).flags, MS_BIND | MS_REC | MS_RDONLY);
  assert.is(parseMountOptions(undefined).flags, 0);
});

test('mount options: the recursive words become mount_setattr attributes, the last word winning', () => {
  const p = parseMountOptions(['rbind', 'rro', 'rnosuid', 'rsuid', 'rnoexec', 'rstrictatime', 'rnoatime', 'mode=1']);
  assert.is(p.flags, MS_BIND | MS_REC);
  assert.is(p.data, 'mode=1');
  assert.equal(p.recursive, {
    set: MOUNT_ATTR_RDONLY | MOUNT_ATTR_NOEXEC | MOUNT_ATTR_NOATIME,
    clear: MOUNT_ATTR_NOSUID | MOUNT_ATTR__ATIME,
  });
  assert.equal(parseMountOptions(['rrw']).recursive, { set: 0, clear: MOUNT_ATTR_RDONLY });
  assert.equal(parseMountOptions(['ratime']).recursive, { set: 0, clear: MOUNT_ATTR__ATIME });
  assert.is(parseMountOptions(['ro']).recursive, undefined);
});

test("mount options: tmpcopyup is runts' to act on, never data for the kernel", () => {
  const p = parseMountOptions(['tmpcopyup', 'size=1m']);
  assert.is(p.copyUp, true);
  assert.is(p.data, 'size=1m');
  assert.is(parseMountOptions(['ro']).copyUp, false);
});

test('secureJoin: symlinks resolve inside the root, .. stops at its top', () => {
  const root = tempDir();
  mkdirSync(join(root, 'real'));
  symlinkSync('/etc', join(root, 'abs-link'));
  symlinkSync('../../../../etc', join(root, 'rel-escape'));
  symlinkSync('real', join(root, 'rel-link'));
  symlinkSync('loop2', join(root, 'loop1'));
  symlinkSync('loop1', join(root, 'loop2'));
  assert.is(secureJoin(root, '/abs-link/passwd'), `${root}/etc/passwd`);
  assert.is(secureJoin(root, '/rel-escape/passwd'), `${root}/etc/passwd`);
  assert.is(secureJoin(root, '/../../x'), `${root}/x`);
  assert.is(secureJoin(root, 'rel-link/sub'), `${root}/real/sub`);
  assert.is(secureJoin(root, '/'), root);
  assert.is(secureJoin(root, '/new/dir'), `${root}/new/dir`);
  assert.throws(() => secureJoin(root, '/loop1/x'), /too many levels of symbolic links/);
});

test('plan: bundle-relative paths made absolute, caps and rlimits as numbers, pid and mount left to create', () => {
  const spec = baseSpec();
  spec.root = { path: 'rootfs' };
  spec.mounts!.push({ destination: '/data', source: 'data', options: ['bind', 'ro'] });
  spec.linux!.rootfsPropagation = 'slave';
  const plan = makePlan(
    { bundle: '/b', file: '/b/config.json', spec, rootfs: '/b/rootfs' },
    { id: 'x', fifoPath: '/s/exec.fifo', noPivot: false, preserveFds: 2, cgroup: { version: 2 } },
  );
  assert.is(plan.rootfs, '/b/rootfs');
  const data = plan.mounts.find((m) => m.destination === '/data')!;
  assert.equal([data.bind, data.source, data.type, data.flags], [true, '/b/data', 'bind', MS_BIND | MS_RDONLY]);
  const dev = plan.mounts.find((m) => m.destination === '/dev')!;
  assert.equal([dev.bind, dev.type, dev.data], [false, 'tmpfs', 'mode=755,size=65536k']);
  assert.equal(plan.process.capabilities.bounding, [29, 5, 10]);
  assert.equal(plan.process.capabilities.inheritable, []);
  assert.equal(plan.process.rlimits, [{ resource: 7, soft: 1024, hard: 1024 }]);
  assert.equal(
    plan.namespaces.map((n) => n.type),
    ['network', 'ipc', 'uts'],
  );
  assert.is(plan.mountNamespace, true);
  assert.is(plan.rootPropagation, MS_SLAVE | MS_REC);
  assert.is(plan.preserveFds, 2);
  assert.ok(plan.mounts.every((m) => !(m.flags & MS_PRIVATE)));
  assert.is(plan.mounts.find((m) => m.destination === '/dev/shm')!.flags, MS_NOSUID | MS_NOEXEC | MS_NODEV);
});

test('plan: with a notify directory, it is bound read-only at /run/notify, last, and the process told of the socket', () => {
  const spec = baseSpec();
  spec.process!.env = ['PATH=/bin'];
  const loaded = { bundle: '/b', file: '/b/config.json', spec, rootfs: '/b/rootfs' };
  const opts = { id: 'x', fifoPath: '/s/exec.fifo', noPivot: false, preserveFds: 0, cgroup: { version: 2 as const } };
  const plain = makePlan(loaded, opts);
  assert.not.ok(plain.mounts.some((m) => m.destination === '/run/notify'));
  assert.equal(plain.process.env, ['PATH=/bin']);
  const plan = makePlan(loaded, { ...opts, notifyDir: '/s/x/notify' });
  const last = plan.mounts[plan.mounts.length - 1]!;
  assert.equal(
    [last.destination, last.source, last.bind, last.flags],
    ['/run/notify', '/s/x/notify', true, MS_BIND | MS_RDONLY | MS_NOSUID | MS_NOEXEC | MS_NODEV],
  );
  assert.equal(plan.process.env, ['PATH=/bin', 'NOTIFY_SOCKET=/run/notify/notify.sock']);
});

test.run();
