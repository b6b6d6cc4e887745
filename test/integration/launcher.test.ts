// bin/runts, the launcher (src/native/runts-launch.c), does a plain
// `start` and a plain `kill` itself, without node; everything else it
// hands to node on bin/runts.cjs. Node is kept off PATH to tell which of
// the two ran: the launcher then cannot start node (exit 127), so a
// command that succeeds or fails with runts' message was the launcher's own.
// It deletes a plain stopped container itself too. For a plain `create` or
// `run` it spawns the container's init before node starts (launch-init.c):
// node adopts it only if it is the init node would have spawned, and kills
// it otherwise.
import { spawn } from 'node:child_process';
import { existsSync, readFileSync, readdirSync, readlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { parseMarks } from '../../bench/profile';
import { TOP, isRoot, tempDir } from '../lib/cli';
import type { ContainerWatch } from '../../conformance/leftovers';
import { alive, bundle, leftovers, racer, runtime, shArgs, stateOf, uniqueId, watchContainer } from '../lib/container';

const test = suite('launcher');
const asRoot = isRoot ? test : test.skip;
const SLEEP = shArgs('exec sleep 1000');
const NODE_JS_CLI = join(TOP, 'bin', 'runts.cjs');

/** The caller's environment with no node to be found, and no $NOTIFY_SOCKET (which start relays, in node). */
function withoutNode(): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env, PATH: '/nonexistent' };
  delete env.NOTIFY_SOCKET;
  return env;
}

const watches: ContainerWatch[] = [];
/** A created container of bundle b, watched for leftovers (created by bin/runts, or by opts.runtime). */
function created(b: string, opts: { runtime?: string; env?: NodeJS.ProcessEnv } = {}): { root: string; id: string; pid: number } {
  const root = tempDir();
  const id = uniqueId();
  const watch = watchContainer({ id, root, bundle: b });
  watches.push(watch);
  const r = runtime(['create', '--bundle', b, id], { root, ...opts });
  assert.is(r.code, 0, r.stderr);
  const { pid } = stateOf(root, id);
  watch.observe(pid);
  return { root, id, pid };
}

/** A bundle whose program is found and executable, but no program: only the execve at start fails. */
function failingExecBundle(): string {
  const dir = tempDir();
  writeFileSync(join(dir, 'x'), 'not a program', { mode: 0o755 });
  return bundle((s) => {
    s.process!.args = ['/tmp/x'];
    s.mounts!.push({ destination: '/tmp', type: 'bind', source: dir, options: ['rbind', 'ro'] });
  });
}

const dropTime = (text: string) => text.replace(/"?time"?[=:]"[^"]*"/g, 'time');

asRoot('start of a plain created container runs without node: the program runs, exec.fifo is gone', () => {
  const c = created(bundle(SLEEP));
  // The global flags in both forms (--root DIR comes from runtime()).
  const r = runtime(['--log-format=json', 'start', c.id], { root: c.root, env: withoutNode() });
  assert.is(r.code, 0, r.stderr);
  assert.is(r.stderr, '');
  assert.not.ok(existsSync(join(c.root, c.id, 'exec.fifo')), 'exec.fifo left');
  assert.is(stateOf(c.root, c.id).status, 'running');
  assert.is(readFileSync(`/proc/${c.pid}/cmdline`, 'utf8'), 'sleep\x001000\x00');
  // Started: no fifo, so node says why not.
  const again = runtime(['--log-format=json', 'start', c.id], { root: c.root });
  assert.is(again.code, 1);
  assert.match(again.stderr, /^\{"level":"error","msg":"cannot start an already running container","time":"[^"]+"\}\n$/);
  assert.is(runtime(['delete', '--force', c.id], { root: c.root }).code, 0);
});

asRoot("an execve that fails at start: the launcher's error is node's (exit 1, the reason, text and JSON log lines)", () => {
  const b = failingExecBundle();
  for (const format of ['text', 'json']) {
    const outcomes = [undefined, NODE_JS_CLI].map((runtimeBin) => {
      const c = created(b);
      const log = join(tempDir(), 'log');
      const r = runtime(['--log', log, '--log-format', format, 'start', c.id], {
        root: c.root,
        ...(runtimeBin ? { runtime: runtimeBin } : { env: withoutNode() }),
      });
      const logged = existsSync(log) ? readFileSync(log, 'utf8') : '';
      assert.is(runtime(['delete', '--force', c.id], { root: c.root }).code, 0);
      return { code: r.code, stderr: r.stderr, log: dropTime(logged) };
    });
    const [launcher, node] = outcomes;
    assert.is(launcher!.code, 1, launcher!.stderr);
    assert.is(launcher!.stderr, 'exec /tmp/x: exec format error (errno 8)\n');
    assert.equal(launcher, node, `${format}: the launcher and node differ`);
    assert.match(
      launcher!.log,
      format === 'json' ? /^\{"level":"error","msg":"exec \/tmp\/x: exec format error/ : /^time level=error msg="exec/,
    );
  }
});

asRoot('a start with more to do than the release goes to node: poststart hooks, $NOTIFY_SOCKET, --debug', () => {
  const marker = join(tempDir(), 'poststart-ran');
  const hooked = bundle((s) => {
    SLEEP(s);
    s.hooks = { poststart: [{ path: '/bin/sh', args: ['sh', '-c', `touch ${marker}`] }] };
  });
  const cases: [string, string, string[], NodeJS.ProcessEnv][] = [
    ['poststart hooks', hooked, ['start'], withoutNode()],
    ['$NOTIFY_SOCKET', bundle(SLEEP), ['start'], { ...withoutNode(), NOTIFY_SOCKET: join(tempDir(), 'notify.sock') }],
    ['--debug', bundle(SLEEP), ['--debug', 'start'], withoutNode()],
  ];
  for (const [what, b, words, env] of cases) {
    const c = created(b);
    const declined = runtime([...words, c.id], { root: c.root, env });
    assert.is(declined.code, 127, `${what}: ${declined.stderr}`);
    assert.match(declined.stderr, /runts: cannot run node/, what);
    assert.is(stateOf(c.root, c.id).status, 'created', `${what}: the launcher released the init`);
    const started = runtime(['start', c.id], { root: c.root });
    assert.is(started.code, 0, `${what}: ${started.stderr}`);
    assert.is(stateOf(c.root, c.id).status, 'running', what);
    assert.is(runtime(['delete', '--force', c.id], { root: c.root }).code, 0);
  }
  assert.ok(existsSync(marker), 'the poststart hook did not run');
});

asRoot('two starts at once: one releases the init, the other says it already runs', async () => {
  const c = created(bundle(SLEEP));
  // With node: the loser may find exec.fifo gone once the winner is done, and leave it to node.
  const start = () => racer(['start', c.id], c.root);
  const results = await Promise.all([start(), start()]);
  assert.equal(results.map((r) => r.code).sort(), [0, 1], JSON.stringify(results));
  assert.match(results.find((r) => r.code === 1)!.err, /cannot start an already running container/, JSON.stringify(results));
  assert.is(stateOf(c.root, c.id).status, 'running');
  assert.is(runtime(['delete', '--force', c.id], { root: c.root }).code, 0);
});

asRoot('start of a container whose init died goes to node, which says it has stopped', () => {
  const c = created(bundle(SLEEP));
  process.kill(c.pid, 'SIGKILL');
  for (let i = 0; i < 200 && alive(c.pid); i++) Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 10);
  const declined = runtime(['start', c.id], { root: c.root, env: withoutNode() });
  assert.is(declined.code, 127, declined.stderr);
  const r = runtime(['start', c.id], { root: c.root });
  assert.is(r.code, 1);
  assert.match(r.stderr, /cannot start a container that has stopped/);
  assert.is(runtime(['delete', c.id], { root: c.root }).code, 0);
});

asRoot('kill of a created or running container without node: signal names in any case, with or without SIG, numbers', () => {
  const trapping = bundle(
    shArgs('trap "echo usr1 >> /dev/shm/got" USR1; trap "exit 3" TERM; echo > /dev/shm/ready; while true; do sleep 0.05; done'),
  );
  const c = created(trapping);
  // A created container's init takes the signal too (runc's kill): CONT changes nothing for it.
  const cont = runtime(['kill', c.id, 'cont'], { root: c.root, env: withoutNode() });
  assert.is(cont.code, 0, cont.stderr);
  assert.is(runtime(['start', c.id], { root: c.root, env: withoutNode() }).code, 0);
  const inside = (file: string) => `/proc/${c.pid}/root/dev/shm/${file}`;
  const until = (ok: () => boolean, what: string) => {
    for (let i = 0; i < 500 && !ok(); i++) Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 10);
    assert.ok(ok(), what);
  };
  until(() => existsSync(inside('ready')), 'the program never started');
  const got = () => (existsSync(inside('got')) ? readFileSync(inside('got'), 'utf8').split('\n').length - 1 : 0);
  for (const [n, sig] of ['usr1', 'SIGUSR1', 'Usr1', '10'].entries()) {
    const r = runtime(['--log-format', 'json', 'kill', c.id, sig], { root: c.root, env: withoutNode() });
    assert.is(r.code, 0, `${sig}: ${r.stderr}`);
    until(() => got() === n + 1, `${sig} not delivered`);
  }
  // Without a signal: TERM, as runc.
  assert.is(runtime(['kill', c.id], { root: c.root, env: withoutNode() }).code, 0);
  until(() => !alive(c.pid), 'TERM not delivered');
  // Stopped, --all, a signal not in the launcher's table, a bad one: node's (exit 127 here), and node says why.
  for (const words of [
    ['kill', c.id, 'KILL'],
    ['kill', '--all', c.id, 'KILL'],
    ['kill', c.id, 'RTMIN+1'],
    ['kill', c.id, 'NOSUCH'],
  ]) {
    assert.is(runtime(words, { root: c.root, env: withoutNode() }).code, 127, words.join(' '));
  }
  const stopped = runtime(['kill', c.id, 'KILL'], { root: c.root });
  assert.is(stopped.code, 1);
  assert.match(stopped.stderr, /is not running \(stopped\)/);
  assert.match(runtime(['kill', c.id, 'NOSUCH'], { root: c.root }).stderr, /unknown signal .*NOSUCH/);
  assert.is(runtime(['delete', c.id], { root: c.root }).code, 0);
});

/** A container of bundle b, created, started and stopped (its program done). */
function stopped(b: string): { root: string; id: string; pid: number } {
  const c = created(b);
  assert.is(runtime(['start', c.id], { root: c.root }).code, 0);
  for (let i = 0; i < 500 && stateOf(c.root, c.id).status !== 'stopped'; i++) {
    Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 10);
  }
  assert.is(stateOf(c.root, c.id).status, 'stopped');
  return c;
}

/** Whether any of the container's cgroup directories (its record's) is still there. */
function cgroupLeft(c: { root: string; id: string }): () => boolean {
  const record = JSON.parse(readFileSync(join(c.root, c.id, 'state.json'), 'utf8')) as {
    cgroup: { paths?: Record<string, string>; path?: string };
  };
  const { cgroup } = record;
  const dirs = cgroup.paths ? Object.values(cgroup.paths) : [cgroup.path!];
  return () => dirs.some((d) => existsSync(d));
}

asRoot('delete of a stopped plain container without node, with or without --force: its state and its cgroup are gone', () => {
  for (const words of [['delete'], ['delete', '--force'], ['rm', '-f']]) {
    const c = stopped(bundle(shArgs('true')));
    const left = cgroupLeft(c);
    assert.ok(left(), 'no cgroup to begin with');
    const r = runtime([...words, c.id], { root: c.root, env: withoutNode() });
    assert.is(r.code, 0, `${words.join(' ')}: ${r.stderr}`);
    assert.is(r.stderr, '');
    assert.not.ok(existsSync(join(c.root, c.id)), 'state left');
    assert.equal(readdirSync(c.root), [], 'a tomb left');
    assert.not.ok(left(), 'cgroup left');
  }
});

asRoot('a delete with more to do goes to node: poststop hooks, a container still running, a second word', () => {
  const marker = join(tempDir(), 'poststop');
  const hooked = stopped(
    bundle((s) => {
      shArgs('true')(s);
      s.hooks = { poststop: [{ path: '/bin/sh', args: ['sh', '-c', `echo ran > ${marker}`] }] };
    }),
  );
  const running = created(bundle(SLEEP));
  for (const [c, words] of [
    [hooked, ['delete', hooked.id]],
    [running, ['delete', running.id]],
    [running, ['delete', '--force', running.id]],
    [hooked, ['delete', hooked.id, 'extra']],
  ] as const) {
    assert.is(runtime([...words], { root: c.root, env: withoutNode() }).code, 127, words.join(' '));
    assert.ok(existsSync(join(c.root, c.id)), `${words.join(' ')}: state gone`);
  }
  assert.is(runtime(['delete', hooked.id], { root: hooked.root }).code, 0);
  assert.ok(existsSync(marker), 'the poststop hook did not run');
  assert.is(runtime(['delete', '--force', running.id], { root: running.root }).code, 0);
});

/** What a created container's init was spawned as: its argv, its environment, its fds (what each is), its pid in its namespace. */
function initSpawned(pid: number): { argv: string[]; env: string[]; fds: string[]; nsPid: string } {
  const fds = readdirSync(`/proc/${pid}/fd`)
    .map(Number)
    .sort((a, b) => a - b)
    .map(
      (fd) =>
        `${fd} ${readlinkSync(`/proc/${pid}/fd/${fd}`)
          .replace(/runts-[a-z]+-\w+/, 'DIR')
          .replace(/\d+/g, 'N')}`,
    );
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  return {
    argv: readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0'),
    env: readFileSync(`/proc/${pid}/environ`, 'utf8').split('\0'),
    fds,
    nsPid: /^NSpid:.*\s(\d+)$/m.exec(status)?.[1] ?? '',
  };
}

/** The marks (RUNTS_PROFILE) of one create, by bin/runts or opts.runtime, as "who what"; its container. */
function profiledCreate(b: string, opts: { runtime?: string; path?: string } = {}) {
  const file = join(tempDir('runts-profile-'), 'marks');
  const env = { ...process.env, RUNTS_PROFILE: file, ...(opts.path ? { PATH: opts.path } : {}) };
  const c = created(b, { env, ...(opts.runtime ? { runtime: opts.runtime } : {}) });
  const marks = parseMarks(readFileSync(file, 'utf8')).map((m) => `${m.who} ${m.what}`);
  return { c, marks, file };
}

asRoot(
  'create: the launcher spawns the init and node adopts it: the very init node spawns itself (argv, environment, fds, PID 1)',
  () => {
    const b = bundle(SLEEP);
    const launched = profiledCreate(b);
    assert.ok(launched.marks.includes('launcher spawn init'), launched.marks.join(', '));
    assert.ok(launched.marks.includes('cli init adopted'), launched.marks.join(', '));
    assert.not.ok(launched.marks.includes('cli spawn init'), launched.marks.join(', '));
    // node on the CLI's script (no launcher): node spawns the init.
    const own = profiledCreate(b, { runtime: NODE_JS_CLI });
    assert.ok(own.marks.includes('cli spawn init'), own.marks.join(', '));
    assert.not.ok(
      own.marks.some((m) => m.startsWith('launcher ')),
      own.marks.join(', '),
    );
    const [mine, theirs] = [initSpawned(launched.c.pid), initSpawned(own.c.pid)];
    const profile = (file: string) => (env: string[]) => env.map((v) => v.replace(file, 'FILE'));
    assert.equal({ ...mine, env: profile(launched.file)(mine.env) }, { ...theirs, env: profile(own.file)(theirs.env) });
    assert.is(mine.nsPid, '1');
    for (const c of [launched.c, own.c]) {
      assert.is(runtime(['start', c.id], { root: c.root }).code, 0);
      assert.is(runtime(['delete', '--force', c.id], { root: c.root }).code, 0);
    }
  },
);

asRoot(
  'create: an init the launcher spawned that node would not have (node found through a wrapper) is killed, and node spawns its own',
  () => {
    // The launcher names node by the wrapper's path, node by its own: the two spawns differ.
    const dir = tempDir('runts-node-wrapper-');
    writeFileSync(join(dir, 'node'), `#!/bin/sh\nexec ${process.execPath} "$@"\n`, { mode: 0o755 });
    const { c, marks, file } = profiledCreate(bundle(SLEEP), { path: `${dir}:${process.env.PATH}` });
    assert.ok(marks.includes('launcher spawn init'), marks.join(', '));
    assert.ok(marks.includes('cli init spawned'), marks.join(', '));
    assert.not.ok(marks.includes('cli init adopted'), marks.join(', '));
    // One init of this create is left, the container's: the launched one is gone (and reaped).
    const inits = readdirSync('/proc')
      .filter((p) => /^\d+$/.test(p))
      .filter((p) => {
        try {
          return readFileSync(`/proc/${p}/environ`, 'utf8').split('\0').includes(`RUNTS_PROFILE=${file}`);
        } catch {
          return false;
        }
      });
    assert.equal(inits, [String(c.pid)]);
    assert.is(runtime(['start', c.id], { root: c.root }).code, 0);
    assert.is(runtime(['delete', '--force', c.id], { root: c.root }).code, 0);
  },
);

asRoot(
  "run: the launcher's cgroup primer is gone, and reaped, once the container runs; the init is run's only child",
  async () => {
    const root = tempDir();
    const id = uniqueId();
    const b = bundle(shArgs('echo > /dev/shm/ready; exec sleep 1000'));
    const watch = watchContainer({ id, root, bundle: b });
    watches.push(watch);
    const run = spawn(join(TOP, 'bin', 'runts'), ['--root', root, 'run', '--bundle', b, id], { stdio: 'ignore' });
    try {
      let pid = 0;
      for (let i = 0; i < 500 && !pid; i++) {
        await new Promise((r) => setTimeout(r, 10));
        try {
          pid = stateOf(root, id).pid;
          if (!existsSync(`/proc/${pid}/root/dev/shm/ready`)) pid = 0;
        } catch {
          // not created yet
        }
      }
      assert.ok(pid, 'the container never ran');
      watch.observe(pid);
      const children = readdirSync(`/proc/${run.pid}/task`).flatMap((task) =>
        readFileSync(`/proc/${run.pid}/task/${task}/children`, 'utf8').split(' ').filter(Boolean),
      );
      assert.equal(
        children,
        [String(pid)],
        `run's children: ${children.map((c) => readFileSync(`/proc/${c}/stat`, 'utf8')).join('; ')}`,
      );
    } finally {
      run.kill('SIGKILL');
      await new Promise((r) => run.once('exit', r));
      runtime(['delete', '--force', id], { root });
    }
  },
);

asRoot(
  'creates side by side share one cgroup primer: while its name is held (a create under way), the launcher starts none',
  async () => {
    // The name the primer holds while it writes (cgroup-primer.c PRIMER_NAME),
    // held here as another create's primer would hold it: perl (Essential in
    // Debian) binds it, a datagram socket in the abstract namespace.
    const hold = spawn('perl', [
      '-MSocket',
      '-e',
      'socket(S, AF_UNIX, SOCK_DGRAM, 0) or die; bind(S, pack_sockaddr_un("\\0runts-cgroup-primer")) or die "bind: $!"; $| = 1; print "held\\n"; sleep 100',
    ]);
    const made: { id: string; root: string }[] = [];
    try {
      const held = await new Promise<string>((resolve) => {
        let out = '';
        hold.stdout.on('data', (chunk: Buffer) => (out += chunk.toString()).includes('held') && resolve(out));
        hold.once('exit', () => resolve(out));
      });
      assert.match(held, 'held', 'perl could not hold the name');
      const b = bundle(SLEEP);
      const shared = profiledCreate(b);
      made.push(shared.c);
      assert.not.ok(shared.marks.includes('launcher cgroup primer started'), shared.marks.join(', '));
      assert.ok(shared.marks.includes('cli init adopted'), shared.marks.join(', '));
      assert.is(runtime(['start', shared.c.id], { root: shared.c.root }).code, 0);
      assert.ok(alive(shared.c.pid));
      hold.kill('SIGKILL');
      await new Promise((r) => hold.once('exit', r));
      const own = profiledCreate(b);
      made.push(own.c);
      assert.ok(own.marks.includes('launcher cgroup primer started'), own.marks.join(', '));
    } finally {
      hold.kill('SIGKILL');
      for (const c of made) assert.is(runtime(['delete', '--force', c.id], { root: c.root }).code, 0);
    }
  },
);

asRoot('create with a config the launcher leaves to node (a user namespace): node spawns the init', () => {
  const b = bundle((s) => {
    SLEEP(s);
    s.linux!.namespaces!.push({ type: 'user' });
    s.linux!.uidMappings = [{ containerID: 0, hostID: 100000, size: 65536 }];
    s.linux!.gidMappings = [{ containerID: 0, hostID: 100000, size: 65536 }];
  });
  const { c, marks } = profiledCreate(b);
  assert.not.ok(
    marks.some((m) => m.startsWith('launcher ')),
    marks.join(', '),
  );
  assert.ok(marks.includes('cli spawn init'), marks.join(', '));
  assert.is(runtime(['delete', '--force', c.id], { root: c.root }).code, 0);
});

asRoot('nothing is left behind by the containers above (no init, process, mount, cgroup or state)', () => {
  assert.equal(watches.flatMap(leftovers), []);
});

test.run();
