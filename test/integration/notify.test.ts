// sd_notify through runts ($NOTIFY_SOCKET, as systemd or podman
// --sdnotify=container give it to the runtime) and --pidfd-socket: real
// containers, the host's ends and the container's sd-notify from
// test/lib/notify.ts. (podman --sdnotify=container: e2e/podman.test.ts.)
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import type { Spec } from '../../src/spec/types';
import { isRoot, tempDir } from '../lib/cli';
import { bundle, runtime, shArgs, sleepSync, stateOf, uniqueId } from '../lib/container';
import { received, sdNotifyDir, startPeer } from '../lib/notify';

const test = suite('sd_notify and --pidfd-socket');
const asRoot = isRoot ? test : test.skip;

/** The container's /run a tmpfs with sd-notify at /run/bin (the shared rootfs stays untouched), then `script`. */
const withSdNotify = (script: string) => (s: Spec) => {
  s.mounts = [
    ...(s.mounts ?? []),
    { destination: '/run', type: 'tmpfs', source: 'tmpfs', options: ['nosuid', 'nodev', 'mode=755'] },
    { destination: '/run/bin', type: 'bind', source: sdNotifyDir(), options: ['bind', 'ro'] },
  ];
  shArgs(script)(s);
};

function waitForStatus(root: string, id: string, status: string): void {
  for (let i = 0; i < 500 && stateOf(root, id).status !== status; i++) sleepSync(10);
}

asRoot(
  'NOTIFY_SOCKET: create binds the socket directory in, start passes READY on with the init as MAINPID, then a barrier',
  async () => {
    const host = await startPeer('notify-receiver.py', 'notify.sock');
    const root = tempDir();
    const id = uniqueId();
    const b = bundle(withSdNotify('/run/bin/sd-notify STATUS=starting; /run/bin/sd-notify READY=1; exec sleep 600'));
    const env = { ...process.env, NOTIFY_SOCKET: host.path };
    const created = runtime(['create', '--bundle', b, id], { root, env });
    assert.is(created.code, 0, created.stderr);
    const { pid } = stateOf(root, id);
    const started = runtime(['start', id], { root, env });
    assert.is(started.code, 0, started.stderr);
    const messages = await received(host);
    // STATUS= is dropped; READY, MAINPID and BARRIER (with its pipe's fd) come in that order.
    assert.equal(
      messages.map((m) => m.message),
      ['READY=1\n', `MAINPID=${pid}\n`, 'BARRIER=1'],
    );
    assert.equal(
      messages.map((m) => m.fds),
      [0, 0, 1],
    );
    // The process's own environment has the path in the container.
    const environ = readFileSync(`/proc/${pid}/environ`, 'utf8').split('\0');
    assert.ok(environ.includes('NOTIFY_SOCKET=/run/notify/notify.sock'), environ.join(' '));
    assert.is(runtime(['delete', '--force', id], { root }).code, 0);
  },
);

asRoot(
  "NOTIFY_SOCKET: run in the foreground, the process not root: the socket is reachable, the mount read-only, MAINPID runts's",
  async () => {
    const host = await startPeer('notify-receiver.py', 'notify.sock');
    const root = tempDir();
    const id = uniqueId();
    const b = bundle((s) => {
      withSdNotify(
        `test -S /run/notify/notify.sock && echo socket; grep ' /run/notify ' /proc/self/mountinfo | grep -c ' ro,'; /run/bin/sd-notify READY=1`,
      )(s);
      // Not root: the directory and the socket are open to any user.
      s.process!.user = { uid: 1000, gid: 1000 };
    });
    const r = runtime(['run', '--bundle', b, id], { root, env: { ...process.env, NOTIFY_SOCKET: host.path } });
    assert.is(r.code, 0, r.stderr);
    assert.is(r.stdout, 'socket\n1\n');
    const messages = await received(host);
    // In the foreground runts is the main process (runc's rule): MAINPID is not the container's.
    assert.is(messages[0]?.message, 'READY=1\n');
    assert.match(String(messages[1]?.message), /^MAINPID=\d+\n$/);
    assert.is(messages[2]?.message, 'BARRIER=1');
  },
);

asRoot('NOTIFY_SOCKET: start does not wait for a process that exits without READY', async () => {
  const host = await startPeer('notify-receiver.py', 'notify.sock');
  const root = tempDir();
  const id = uniqueId();
  const env = { ...process.env, NOTIFY_SOCKET: host.path };
  assert.is(
    runtime(['create', '--bundle', bundle(withSdNotify('/run/bin/sd-notify STATUS=failing; exit 3')), id], { root, env }).code,
    0,
  );
  const started = runtime(['start', id], { root, env });
  assert.is(started.code, 0, started.stderr);
  waitForStatus(root, id, 'stopped');
  assert.is(stateOf(root, id).status, 'stopped');
  host.peer.kill();
  assert.equal(await host.lines, []);
  assert.is(runtime(['delete', id], { root }).code, 0);
});

asRoot('--pidfd-socket: create sends a pidfd of the init ("standard"), exec one of its process ("setns")', async () => {
  const root = tempDir();
  const id = uniqueId();
  const forCreate = await startPeer('pidfd-receiver.py', 'pidfd.sock');
  const created = runtime(['create', '--pidfd-socket', forCreate.path, '--bundle', bundle(shArgs('exec sleep 600')), id], {
    root,
  });
  assert.is(created.code, 0, created.stderr);
  const [init] = await forCreate.lines;
  assert.equal(init, { message: 'standard', fds: 1, pid: stateOf(root, id).pid, target: 'anon_inode:[pidfd]' });
  assert.is(runtime(['start', id], { root }).code, 0);

  const forExec = await startPeer('pidfd-receiver.py', 'pidfd.sock');
  const pidFile = join(tempDir(), 'exec.pid');
  const exec = runtime(['exec', '--detach', '--pid-file', pidFile, '--pidfd-socket', forExec.path, id, 'sleep', '600'], { root });
  assert.is(exec.code, 0, exec.stderr);
  const [process] = await forExec.lines;
  assert.equal(process, { message: 'setns', fds: 1, pid: Number(readFileSync(pidFile, 'utf8')), target: 'anon_inode:[pidfd]' });
  assert.is(runtime(['delete', '--force', id], { root }).code, 0);
});

asRoot("--pidfd-socket: run sends the init's pidfd too; a socket nobody listens on fails the create", async () => {
  const root = tempDir();
  const peer = await startPeer('pidfd-receiver.py', 'pidfd.sock');
  const r = runtime(['run', '--pidfd-socket', peer.path, '--bundle', bundle(shArgs('echo $$')), uniqueId()], { root });
  assert.is(r.code, 0, r.stderr);
  const [init] = await peer.lines;
  assert.is(init?.message, 'standard');
  assert.is(init?.fds, 1);
  // The pidfd was of the container's init: the process that echoed 1 in its own pid namespace.
  assert.is(r.stdout, '1\n');
  const id = uniqueId();
  const refused = runtime(['create', '--pidfd-socket', join(tempDir(), 'nobody.sock'), '--bundle', bundle(), id], { root });
  assert.is(refused.code, 1);
  assert.match(refused.stderr, /nobody\.sock/);
  assert.is(runtime(['state', id], { root }).code, 1, 'the failed container is left behind');
});

asRoot("--pidfd-socket: exec in a container with a user namespace (through its stage) sends the process's pidfd", async () => {
  const root = tempDir();
  const id = uniqueId();
  const inUserNamespace = (s: Spec) => {
    s.linux!.namespaces!.push({ type: 'user' } as never);
    s.linux!.uidMappings = [{ containerID: 0, hostID: 100000, size: 65536 }];
    s.linux!.gidMappings = [{ containerID: 0, hostID: 100000, size: 65536 }];
    shArgs('exec sleep 600')(s);
  };
  const run = runtime(['run', '--detach', '--bundle', bundle(inUserNamespace), id], { root });
  assert.is(run.code, 0, run.stderr);
  try {
    const peer = await startPeer('pidfd-receiver.py', 'pidfd.sock');
    const pidFile = join(tempDir(), 'exec.pid');
    const exec = runtime(['exec', '--detach', '--pid-file', pidFile, '--pidfd-socket', peer.path, id, 'sleep', '600'], {
      root,
    });
    assert.is(exec.code, 0, exec.stderr);
    const [process] = await peer.lines;
    assert.equal(process, { message: 'setns', fds: 1, pid: Number(readFileSync(pidFile, 'utf8')), target: 'anon_inode:[pidfd]' });
  } finally {
    runtime(['delete', '--force', id], { root });
  }
});

test.run();
