// RecordingSys, the Sys double: it records calls, answers like a root
// process, and fails the calls it is told to fail.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import {
  CLONE_NEWNS,
  CLONE_NEWUTS,
  FD_CLOEXEC,
  F_GETFD,
  F_SETFD,
  MS_BIND,
  MS_REC,
  PR_CAPBSET_DROP,
  PR_CAPBSET_READ,
  PR_GET_NO_NEW_PRIVS,
  PR_SET_NO_NEW_PRIVS,
  RLIM_INFINITY,
} from '../../src/sys/constants';
import { ExecveCalled, RecordingSys } from '../../src/sys/recording';
import { SysError } from '../../src/sys/types';

const test = suite('sys-recording');

const EPERM = 1;
const ENOENT = 2;

test('records every call with its arguments, in order', () => {
  const sys = new RecordingSys();
  sys.unshare(CLONE_NEWNS | CLONE_NEWUTS);
  sys.mount('/src', '/dst', null, MS_BIND | MS_REC, null);
  sys.sethostname('box');
  sys.setrlimit(7, 1024n, RLIM_INFINITY);
  sys.setgroups([1, 2]);
  assert.equal(sys.calls, [
    { call: 'unshare', args: [CLONE_NEWNS | CLONE_NEWUTS] },
    { call: 'mount', args: ['/src', '/dst', null, MS_BIND | MS_REC, null] },
    { call: 'sethostname', args: ['box'] },
    { call: 'setrlimit', args: [7, 1024n, RLIM_INFINITY] },
    { call: 'setgroups', args: [[1, 2]] },
  ]);
  assert.equal(sys.callsTo('mount'), [['/src', '/dst', null, MS_BIND | MS_REC, null]]);
});

test("records a copy of array arguments, not the caller's array", () => {
  const sys = new RecordingSys();
  const gids = [1];
  sys.setgroups(gids);
  gids.push(2);
  assert.equal(sys.callsTo('setgroups'), [[[1]]]);
});

test('failOn: the matching call is recorded, then throws SysError with the errno', () => {
  const sys = new RecordingSys().failOn('mount', EPERM, (args) => args[1] === '/proc');
  sys.mount('tmpfs', '/tmp', 'tmpfs', 0, null);
  const caught = catchError(() => sys.mount('proc', '/proc', 'proc', 0, null));
  assert.ok(caught instanceof SysError);
  assert.is(caught.call, 'mount');
  assert.is(caught.errno, EPERM);
  assert.match(caught.message, /^mount proc \/proc proc: operation not permitted$/i);
  assert.is(sys.callsTo('mount').length, 2);
});

test('failOn without a predicate fails every call to that method; others still work', () => {
  const sys = new RecordingSys().failOn('pivotRoot', ENOENT);
  const caught = catchError(() => sys.pivotRoot('/new', '/new/old'));
  assert.ok(caught instanceof SysError);
  // Named like the C function, as the real Sys names it.
  assert.is(caught.call, 'pivot_root');
  assert.is(caught.errno, ENOENT);
  sys.chroot('/new');
  assert.equal(
    sys.calls.map((c) => c.call),
    ['pivotRoot', 'chroot'],
  );
});

test('capget returns what capset stored', () => {
  const sys = new RecordingSys();
  const all = (1n << 41n) - 1n;
  assert.equal(sys.capget(), { effective: all, permitted: all, inheritable: 0n });
  const sets = { effective: 1n << 21n, permitted: 1n << 21n, inheritable: 0n };
  sys.capset(sets);
  assert.equal(sys.capget(), sets);
});

test('prctl: the bounding set reads 1 until the capability is dropped', () => {
  const sys = new RecordingSys();
  assert.is(sys.prctl(PR_CAPBSET_READ, 21), 1);
  assert.is(sys.prctl(PR_CAPBSET_DROP, 21), 0);
  assert.is(sys.prctl(PR_CAPBSET_READ, 21), 0);
  assert.is(sys.prctl(PR_CAPBSET_READ, 0), 1);
  assert.is(sys.prctl(PR_GET_NO_NEW_PRIVS), 0);
  sys.prctl(PR_SET_NO_NEW_PRIVS, 1);
  assert.is(sys.prctl(PR_GET_NO_NEW_PRIVS), 1);
  assert.equal(sys.callsTo('prctl')[1], [PR_CAPBSET_DROP, 21, 0, 0, 0]);
});

test('umask returns the previous mask', () => {
  const sys = new RecordingSys();
  assert.is(sys.umask(0o077), 0o022);
  assert.is(sys.umask(0o022), 0o077);
});

test('fcntl F_SETFD is read back by F_GETFD', () => {
  const sys = new RecordingSys();
  assert.is(sys.fcntl(5, F_GETFD, 0), 0);
  sys.fcntl(5, F_SETFD, FD_CLOEXEC);
  assert.is(sys.fcntl(5, F_GETFD, 0), FD_CLOEXEC);
});

test('pidfdOpen returns distinct fake fds; getpid a fixed pid', () => {
  const sys = new RecordingSys();
  const a = sys.pidfdOpen(10);
  const b = sys.pidfdOpen(11);
  assert.is.not(a, b);
  sys.pid = 1;
  assert.is(sys.getpid(), 1);
});

test('execve throws ExecveCalled, after recording the call', () => {
  const sys = new RecordingSys();
  const caught = catchError(() => sys.execve('/bin/sh', ['sh', '-c', 'true'], ['PATH=/bin']));
  assert.ok(caught instanceof ExecveCalled);
  assert.is(caught.path, '/bin/sh');
  assert.equal(caught.argv, ['sh', '-c', 'true']);
  assert.equal(sys.calls, [{ call: 'execve', args: ['/bin/sh', ['sh', '-c', 'true'], ['PATH=/bin']] }]);
});

test('execve can be made to fail like a missing binary', () => {
  const sys = new RecordingSys().failOn('execve', ENOENT);
  const caught = catchError(() => sys.execve('/nope', ['nope'], []));
  assert.ok(caught instanceof SysError);
  assert.is(caught.errno, ENOENT);
});

function catchError(fn: () => unknown): unknown {
  try {
    fn();
  } catch (err) {
    return err;
  }
  return undefined;
}

test.run();
