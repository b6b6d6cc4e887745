// The lifecycle (runtime.md "Lifecycle"), watched from the host: state,
// processes, mounts and the state directory after each step.
import { spawn } from 'node:child_process';
import { existsSync, readFileSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { RUNTS, isRoot, tempDir } from '../lib/cli';
import type { ContainerRef, ContainerWatch } from '../../conformance/leftovers';
import { alive, bundle, leftovers, racer, runtime, shArgs, stateOf, uniqueId, watchContainer } from '../lib/container';
import { officialValidator } from '../lib/schema';

const test = suite('lifecycle');
const asRoot = isRoot ? test : test.skip;
const LONG = shArgs('echo started; exec sleep 1000');
// Every container of this file, watched from before its create: the last test looks at all of them again.
const watches: ContainerWatch[] = [];
const watched = (ref: ContainerRef): ContainerWatch => {
  const w = watchContainer(ref);
  watches.push(w);
  return w;
};

asRoot('create -> created with a live pid -> start -> running -> kill KILL -> stopped -> delete leaves nothing', () => {
  const root = tempDir();
  const b = bundle(LONG);
  const id = uniqueId();
  const validState = officialValidator('state-schema.json');
  const pidFile = join(tempDir(), 'pid');
  const watch = watched({ id, root, bundle: b });

  const created = runtime(['create', '--bundle', b, '--pid-file', pidFile, id], { root });
  assert.is(created.code, 0, created.stderr);
  let state = stateOf(root, id);
  watch.observe(state.pid);
  assert.is(state.status, 'created');
  assert.ok(alive(state.pid), 'the init is not alive after create');
  assert.is(readFileSync(pidFile, 'utf8'), String(state.pid));
  assert.is(state.bundle, b);
  assert.equal(validState(state), []);
  assert.ok(existsSync(join(root, id, 'exec.fifo')));
  assert.is(statSync(root).mode & 0o777, 0o700);

  const started = runtime(['start', id], { root });
  assert.is(started.code, 0, started.stderr);
  state = stateOf(root, id);
  assert.is(state.status, 'running');
  assert.equal(validState(state), []);
  const pid = state.pid;
  assert.ok(readFileSync(`/proc/${pid}/cmdline`, 'utf8').startsWith('sleep'), 'pid is not the user process');

  assert.is(runtime(['start', id], { root }).code, 1, 'a second start must fail');
  const notStopped = runtime(['delete', id], { root });
  assert.is(notStopped.code, 1);
  assert.match(notStopped.stderr, /not stopped/);

  assert.is(runtime(['kill', id, 'KILL'], { root }).code, 0);
  for (let i = 0; i < 200 && alive(pid); i++) Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 10);
  state = stateOf(root, id);
  assert.is(state.status, 'stopped');
  assert.is(state.pid, 0);
  assert.equal(validState(state), []);

  const deleted = runtime(['delete', id], { root });
  assert.is(deleted.code, 0, deleted.stderr);
  assert.not.ok(existsSync(join(root, id)), 'state dir left behind');
  assert.not.ok(alive(pid));
  assert.equal(leftovers(watch), []);
  assert.equal(runtime(['state', id], { root }).code, 1);
});

asRoot('kill takes signal names with and without SIG, and numbers; default TERM', () => {
  const root = tempDir();
  const b = bundle(
    shArgs('trap "echo got-usr1" USR1; trap "echo got-term; exit 0" TERM; echo ready; while true; do sleep 0.05; done'),
  );
  const id = uniqueId();
  watched({ id, root, bundle: b });
  const out = join(tempDir(), 'out');
  const child = spawn('sh', ['-c', `exec "$0" --root "$1" run --bundle "$2" "$3" > "$4" 2>&1`, RUNTS, root, b, id, out], {
    stdio: 'ignore',
  });
  const exited = new Promise<number | null>((r) => child.once('exit', r));
  const waitFor = (text: string) => {
    for (let i = 0; i < 500; i++) {
      if (existsSync(out) && readFileSync(out, 'utf8').includes(text)) return;
      Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 10);
    }
    throw new Error(`no "${text}" in ${existsSync(out) ? readFileSync(out, 'utf8') : '(nothing)'}`);
  };
  waitFor('ready');
  for (const sig of ['USR1', 'SIGUSR1', '10']) {
    const before = (readFileSync(out, 'utf8').match(/got-usr1/g) ?? []).length;
    assert.is(runtime(['kill', id, sig], { root }).code, 0);
    for (let i = 0; i < 300 && (readFileSync(out, 'utf8').match(/got-usr1/g) ?? []).length === before; i++) {
      Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 10);
    }
    assert.is((readFileSync(out, 'utf8').match(/got-usr1/g) ?? []).length, before + 1, `signal ${sig} not delivered`);
  }
  assert.is(runtime(['kill', id, 'NOSUCHSIG'], { root }).code, 1);
  assert.is(runtime(['kill', id], { root }).code, 0);
  return exited.then((code) => {
    assert.is(code, 0);
    assert.match(readFileSync(out, 'utf8'), /got-term/);
    assert.not.ok(existsSync(join(root, id)), 'run did not delete the container');
  });
});

asRoot('run: signals to runts are forwarded; killed by SIGKILL from kill -> exit 137', async () => {
  const root = tempDir();
  const id = uniqueId();
  const b = bundle(LONG);
  watched({ id, root, bundle: b });
  const child = spawn(RUNTS, ['--root', root, 'run', '--bundle', b, id], { stdio: ['ignore', 'pipe', 'inherit'] });
  await new Promise<void>((resolve) => child.stdout.on('data', (d) => String(d).includes('started') && resolve()));
  const exited = new Promise<number | null>((r) => child.once('exit', r));
  assert.is(runtime(['kill', id, 'KILL'], { root }).code, 0);
  assert.is(await exited, 137);
  assert.not.ok(existsSync(join(root, id)));
});

asRoot('delete of a created container kills its init; delete --force of a running one too; neither leaves anything', () => {
  const root = tempDir();
  const b = bundle(LONG);
  const created = uniqueId();
  const createdWatch = watched({ id: created, root, bundle: b });
  assert.is(runtime(['create', '--bundle', b, created], { root }).code, 0);
  const initPid = stateOf(root, created).pid;
  createdWatch.observe(initPid);
  assert.is(runtime(['delete', created], { root }).code, 0);
  assert.not.ok(alive(initPid));
  assert.equal(leftovers(createdWatch), []);

  const running = uniqueId();
  const runningWatch = watched({ id: running, root, bundle: b });
  assert.is(runtime(['run', '-d', '--bundle', b, running], { root }).code, 0);
  const pid = stateOf(root, running).pid;
  runningWatch.observe(pid);
  assert.is(stateOf(root, running).status, 'running');
  const forced = runtime(['delete', '--force', running], { root });
  assert.is(forced.code, 0, forced.stderr);
  assert.not.ok(alive(pid));
  assert.equal(leftovers(runningWatch), []);
  assert.equal(readdirSync(root), []);
  assert.is(runtime(['delete', '--force', running], { root }).code, 0, 'delete --force of a missing container is no error');
  assert.is(runtime(['delete', running], { root }).code, 1);
});

asRoot('two concurrent creates of one id: one succeeds, one says it already exists', async () => {
  const root = tempDir();
  const b = bundle(LONG);
  const id = uniqueId();
  watched({ id, root, bundle: b });
  const create = () => racer(['create', '--bundle', b, id], root);
  const results = await Promise.all([create(), create()]);
  assert.equal(results.map((r) => r.code).sort(), [0, 1], JSON.stringify(results));
  assert.match(results.find((r) => r.code === 1)!.err, /already exists/);
  assert.is(stateOf(root, id).status, 'created');
  assert.is(runtime(['delete', '--force', id], { root }).code, 0);
});

asRoot('nothing is left behind by any container of the tests above (no init, process, mount, cgroup or state)', () => {
  assert.equal(watches.flatMap(leftovers), []);
});

test.run();
