// Terminals (process.terminal with --console-socket, and `run` in the
// foreground) and `runts exec`, from inside the container and from the host.
import { type ChildProcess, execFileSync, spawn, spawnSync } from 'node:child_process';
import { existsSync, readFileSync, readdirSync, readlinkSync, realpathSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { RUNTS, TOP, isRoot, tempDir } from '../lib/cli';
import { alive, bundle, busyboxRootfs, runtime, shArgs, stateOf, statusCapabilities, uniqueId } from '../lib/container';

const test = suite('terminal and exec');
const asRoot = isRoot ? test : test.skip;

/** A console-socket peer (python: node cannot receive fds) that types `input` and collects the screen. */
function consolePeer(input: string): { path: string; peer: ChildProcess; screen: Promise<string> } {
  const path = join(tempDir(), 'console.sock');
  const peer = spawn('python3', [join(TOP, 'test', 'lib', 'console-receiver.py'), path, input], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  peer.stdout.on('data', (d) => (out += d));
  const screen = new Promise<string>((resolve) => peer.on('close', () => resolve(out)));
  return { path, peer, screen };
}

async function listening(peer: ChildProcess): Promise<void> {
  await new Promise<void>((resolve) => peer.stderr!.on('data', (d) => String(d).includes('listening') && resolve()));
}

asRoot('terminal: create --console-socket hands over the pty master; the process has it as its terminal', async () => {
  const { path, peer, screen } = consolePeer(
    'tty; stty size; ls -l /dev/console | cut -c1; echo typed-$((40+2)); echo ctty=$(cut -d" " -f7 /proc/$$/stat); exit\\n',
  );
  await listening(peer);
  const root = tempDir();
  const id = uniqueId();
  const b = bundle((s) => {
    s.process!.terminal = true;
    s.process!.consoleSize = { height: 33, width: 101 };
    s.process!.args = ['sh'];
  });
  const created = runtime(['create', '--console-socket', path, '--bundle', b, id], { root });
  assert.is(created.code, 0, created.stderr);
  assert.is(runtime(['start', id], { root }).code, 0);
  const text = (await screen).replace(/\r/g, '');
  assert.match(text, /\/dev\/pts\/0\n/);
  assert.match(text, /\n33 101\n/);
  assert.match(text, /\nc\n/, '/dev/console is not the pty (a character device)');
  assert.match(text, /typed-42/);
  assert.match(text, /ctty=[1-9]\d*\n/, 'the process has no controlling terminal');
  for (let i = 0; i < 200 && stateOf(root, id).status !== 'stopped'; i++)
    Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 10);
  assert.is(stateOf(root, id).status, 'stopped');
  assert.is(runtime(['delete', id], { root }).code, 0);
});

asRoot('terminal: refused without a console socket when detached, and a socket without terminal', () => {
  const root = tempDir();
  const withTty = bundle((s) => (s.process!.terminal = true));
  const r = runtime(['create', '--bundle', withTty, uniqueId()], { root });
  assert.is(r.code, 1);
  assert.match(r.stderr, /cannot allocate tty if runts will detach without setting console socket/);
  const r2 = runtime(['create', '--console-socket', '/tmp/x.sock', '--bundle', bundle(), uniqueId()], { root });
  assert.is(r2.code, 1);
  assert.match(r2.stderr, /process\.terminal is false/);
});

asRoot("terminal: `run` in the foreground gives the user's own terminal a session (driven through script)", () => {
  const b = bundle((s) => {
    s.process!.terminal = true;
    s.process!.args = ['sh', '-c', 'tty; read line; echo "got:$line"; exit 4'];
  });
  const r = spawnSync('script', ['-qec', `"${RUNTS}" --root "${tempDir()}" run --bundle "${b}" ${uniqueId()}`, '/dev/null'], {
    input: 'hello-pty\n',
    encoding: 'utf8',
    timeout: 30_000,
  });
  const text = r.stdout.replace(/\r/g, '');
  assert.match(text, /\/dev\/pts\/0\n/);
  assert.match(text, /got:hello-pty/);
  assert.is(r.status, 4, text + r.stderr);
});

/** A running `sleep` container to exec into; returns its root, id and init pid. */
function sleeper(edit: Parameters<typeof bundle>[0] = () => {}) {
  const root = tempDir();
  const id = uniqueId();
  const b = bundle((s) => {
    s.hostname = 'exec-target';
    s.mounts!.push({ destination: '/tmp', type: 'tmpfs', source: 'tmpfs', options: ['mode=1777'] });
    shArgs('exec sleep 1000')(s);
    edit(s);
  });
  const r = runtime(['run', '-d', '--bundle', b, id], { root });
  assert.is(r.code, 0, r.stderr);
  return { root, id, pid: stateOf(root, id).pid, done: () => runtime(['delete', '--force', id], { root }) };
}

asRoot('exec: the process joins every namespace of the container, sees its root, and its exit status is relayed', () => {
  const c = sleeper();
  try {
    const kinds = ['pid', 'mnt', 'uts', 'ipc', 'net'];
    // A path only the host has: the node running this test, wherever it is installed.
    const hostOnly = realpathSync(process.execPath);
    assert.ok(existsSync(hostOnly) && !existsSync(join(busyboxRootfs(), hostOnly)), `${hostOnly} must be on the host only`);
    const script = `${kinds.map((k) => `readlink /proc/self/ns/${k}`).join('; ')}; hostname; echo pid=$$; test -e ${hostOnly} && echo host-root || echo container-root; cat /proc/self/cgroup; exit 9`;
    const r = runtime(['exec', c.id, 'sh', '-c', script], { root: c.root });
    assert.is(r.code, 9, r.stderr);
    const lines = r.stdout.trim().split('\n');
    kinds.forEach((k, i) => assert.is(lines[i], readlinkSync(`/proc/${c.pid}/ns/${k}`), `${k} not joined`));
    assert.is(lines[5], 'exec-target');
    assert.match(lines[6] ?? '', /^pid=\d+$/);
    assert.is.not(lines[6], 'pid=1');
    assert.is(lines[7], 'container-root', r.stdout);
    // The container's cgroup in every hierarchy (no cgroup namespace here: host paths).
    assert.equal(lines.slice(8).sort(), readFileSync(`/proc/${c.pid}/cgroup`, 'utf8').trim().split('\n').sort());
  } finally {
    c.done();
  }
});

asRoot('exec: flags (--env, --cwd, --user, --additional-gids, --cap, --no-new-privs) and words that look like flags', () => {
  const c = sleeper();
  try {
    const r = runtime(
      [
        'exec',
        '--env',
        'EXTRA=1',
        '-e',
        'MORE=two',
        '--cwd',
        '/tmp',
        '--user',
        '65534:65534',
        '-g',
        '7',
        '--cap',
        'CAP_SYS_TIME',
        '--no-new-privs',
        c.id,
        'sh',
        '-c',
        'echo "$EXTRA $MORE"; pwd; id -u; id -g; id -G; grep -E "^(CapBnd|NoNewPrivs)" /proc/self/status',
        '--not-a-runts-flag',
      ],
      { root: c.root },
    );
    assert.is(r.code, 0, r.stderr);
    const lines = r.stdout.trim().split('\n');
    assert.equal(lines.slice(0, 5), ['1 two', '/tmp', '65534', '65534', '65534 7']);
    const bounding = statusCapabilities(['CAP_AUDIT_WRITE', 'CAP_KILL', 'CAP_NET_BIND_SERVICE', 'CAP_SYS_TIME']);
    assert.is(lines[5], `CapBnd:\t${bounding}`);
    assert.is(lines[6], 'NoNewPrivs:\t1');
  } finally {
    c.done();
  }
});

asRoot('exec: --process FILE, --detach and --pid-file (a host pid)', () => {
  const c = sleeper();
  try {
    const processFile = join(tempDir(), 'process.json');
    const config = JSON.parse(readFileSync(join(stateOf(c.root, c.id).bundle as string, 'config.json'), 'utf8'));
    writeFileSync(processFile, JSON.stringify({ ...config.process, args: ['sleep', '77'], env: ['PATH=/bin'] }));
    const pidFile = join(tempDir(), 'exec.pid');
    const r = runtime(['exec', '--process', processFile, '--detach', '--pid-file', pidFile, c.id], { root: c.root });
    assert.is(r.code, 0, r.stderr);
    const pid = Number(readFileSync(pidFile, 'utf8'));
    assert.ok(alive(pid));
    assert.is(readFileSync(`/proc/${pid}/cmdline`, 'utf8'), 'sleep\x0077\x00');
    assert.is(readlinkSync(`/proc/${pid}/ns/pid`), readlinkSync(`/proc/${c.pid}/ns/pid`));
  } finally {
    c.done();
  }
});

asRoot('exec --detach returns once the program runs; an execve that fails is its error (exit 1, the reason)', () => {
  // A place where files may be executed (/dev/shm is noexec).
  const c = sleeper((s) => s.mounts!.push({ destination: '/x', type: 'tmpfs', source: 'tmpfs', options: ['mode=755'] }));
  try {
    // An executable file that is neither ELF nor a script: found and executable, so only the execve itself fails.
    const made = runtime(['exec', c.id, 'sh', '-c', 'printf "not a program" > /x/x && chmod +x /x/x'], {
      root: c.root,
    });
    assert.is(made.code, 0, made.stderr);
    const pidFile = join(tempDir(), 'exec.pid');
    const r = runtime(['exec', '--detach', '--pid-file', pidFile, c.id, '/x/x'], { root: c.root });
    assert.is(r.code, 1, `exec -d of a failing execve succeeded: ${r.stderr}`);
    assert.ok(/exec failed: exec \/x\/x: exec format error/.test(r.stderr), r.stderr);
    assert.not.ok(existsSync(pidFile), 'a pid file for a process that never ran');
  } finally {
    c.done();
  }
});

asRoot("exec: the container's seccomp profile applies, its fds are only 0-2, and no node runs inside", () => {
  const c = sleeper((s) => {
    s.linux!.seccomp = { defaultAction: 'SCMP_ACT_ALLOW', syscalls: [{ names: ['mkdir', 'mkdirat'], action: 'SCMP_ACT_ERRNO' }] };
  });
  try {
    // ls lists the shell's fds ($$), not its own; in no pipe, which would add one to the shell.
    const r = runtime(
      [
        'exec',
        c.id,
        'sh',
        '-c',
        'mkdir /tmp/d || echo mkdir-denied; grep ^Seccomp: /proc/self/status; echo fds:; ls /proc/$$/fd; echo :fds; cat /proc/[0-9]*/cmdline | tr "\\0" " "; echo',
      ],
      { root: c.root },
    );
    assert.match(r.stdout, /mkdir-denied\nSeccomp:\t2\nfds:\n0\n1\n2\n:fds\n/, r.stderr);
    assert.not.match(r.stdout, /node|init\.mjs/);
    // The same from the host, for a detached exec.
    const pidFile = join(tempDir(), 'exec.pid');
    const d = runtime(['exec', '-d', '--pid-file', pidFile, c.id, 'sleep', '100'], { root: c.root });
    assert.is(d.code, 0, d.stderr);
    assert.equal(readdirSync(`/proc/${readFileSync(pidFile, 'utf8').trim()}/fd`).sort(), ['0', '1', '2']);
  } finally {
    c.done();
  }
});

asRoot('exec --tty with a console socket: the master goes to the socket, the shell answers', async () => {
  const c = sleeper();
  try {
    // Field 7 of stat is the controlling terminal: 0 would mean none (no job control, no ^C).
    const { path, peer, screen } = consolePeer('echo exec-$((5*5)); tty; echo ctty=$(cut -d" " -f7 /proc/$$/stat); exit\\n');
    await listening(peer);
    const pidFile = join(tempDir(), 'pid');
    const r = runtime(['exec', '--tty', '--detach', '--console-socket', path, '--pid-file', pidFile, c.id, 'sh'], {
      root: c.root,
    });
    assert.is(r.code, 0, r.stderr);
    const text = (await screen).replace(/\r/g, '');
    assert.match(text, /exec-25/);
    assert.match(text, /\/dev\/pts\/\d+/);
    assert.match(text, /ctty=[1-9]\d*\n/, 'the shell has no controlling terminal');
  } finally {
    c.done();
  }
});

asRoot('exec into a stopped or missing container fails clearly', () => {
  const c = sleeper();
  c.done();
  const r = runtime(['exec', c.id, 'true'], { root: c.root });
  assert.is(r.code, 1);
  assert.match(r.stderr, /does not exist/);
  const root = tempDir();
  const id = uniqueId();
  assert.is(runtime(['run', '--keep', '--bundle', bundle(shArgs('true')), id], { root }).code, 0);
  const stopped = runtime(['exec', id, 'true'], { root });
  assert.is(stopped.code, 1);
  assert.match(stopped.stderr, /cannot exec in a stopped container/);
  runtime(['delete', id], { root });
  assert.not.ok(existsSync(join(root, id)));
  execFileSync('true');
});

test.run();
