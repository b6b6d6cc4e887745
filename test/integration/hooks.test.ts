// Hooks run in order, in the namespace the spec says, with the state on stdin.
import { readFileSync, readlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import type { Hook } from '../../src/spec/types';
import { isRoot, tempDir } from '../lib/cli';
import { alive, bundle, runtime, shArgs, stateOf, uniqueId } from '../lib/container';

const test = suite('hooks');
const asRoot = isRoot ? test : test.skip;

asRoot('every hook kind, in order, with state on stdin, args and env, in the right namespaces', () => {
  const logDir = tempDir();
  const log = join(logDir, 'hooks.log');
  writeFileSync(log, '');
  // One line per hook: its name, the state it read, its mount namespace.
  const script = (name: string, logPath: string) =>
    `read -r state; echo "${name}|$1|$HOOK_ENV|$state|$(readlink /proc/self/ns/mnt)" >> ${logPath}`;
  const hook = (name: string, logPath = log): Hook => ({
    path: '/bin/sh',
    args: ['sh', '-c', script(name, logPath), 'argv0-ignored', `arg-of-${name}`],
    env: ['HOOK_ENV=env-of-' + name],
  });
  const root = tempDir();
  const id = uniqueId();
  const b = bundle((s) => {
    s.annotations = { 'org.runts.test': 'hooks' };
    // startContainer runs after pivot_root: its /bin/sh is busybox's, its log a bind mount.
    s.mounts!.push({ destination: '/hooklog', type: 'bind', source: logDir, options: ['rbind'] });
    s.hooks = {
      prestart: [hook('prestart')],
      createRuntime: [hook('createRuntime')],
      createContainer: [hook('createContainer')],
      startContainer: [hook('startContainer', '/hooklog/hooks.log')],
      poststart: [hook('poststart')],
      poststop: [hook('poststop')],
    };
    shArgs('echo "container|$(readlink /proc/self/ns/mnt)" >> /hooklog/hooks.log; exec sleep 1000')(s);
  });
  assert.is(runtime(['create', '--bundle', b, id], { root }).code, 0);
  const pid = stateOf(root, id).pid;
  const containerMnt = readlinkSync(`/proc/${pid}/ns/mnt`);
  assert.is(runtime(['start', id], { root }).code, 0);
  for (let i = 0; i < 300 && !readFileSync(log, 'utf8').includes('container|'); i++)
    Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 10);
  assert.is(runtime(['delete', '--force', id], { root }).code, 0);

  const hostMnt = readlinkSync('/proc/self/ns/mnt');
  const lines = readFileSync(log, 'utf8').trim().split('\n');
  const names = lines.map((l) => l.split('|')[0]);
  // The user's process runs after startContainer; poststart only has to
  // follow its start, so the two may interleave.
  assert.equal(
    names.filter((n) => n !== 'container'),
    ['prestart', 'createRuntime', 'createContainer', 'startContainer', 'poststart', 'poststop'],
  );
  assert.ok(
    names.indexOf('container') > names.indexOf('startContainer') && names.indexOf('container') < names.indexOf('poststop'),
    names.join(' '),
  );
  const where: Record<string, string> = {
    prestart: hostMnt,
    createRuntime: hostMnt,
    createContainer: containerMnt,
    startContainer: containerMnt,
    poststart: hostMnt,
    poststop: hostMnt,
  };
  const status: Record<string, string> = {
    prestart: 'creating',
    createRuntime: 'creating',
    createContainer: 'creating',
    startContainer: 'created',
    poststart: 'running',
    poststop: 'stopped',
  };
  for (const line of lines.filter((l) => !l.startsWith('container|'))) {
    const [name = '', arg, env, stateText = '', mnt] = line.split('|');
    assert.is(arg, `arg-of-${name}`);
    assert.is(env, `env-of-${name}`);
    assert.is(mnt, where[name], `${name} ran in the wrong mount namespace`);
    const state = JSON.parse(stateText);
    assert.is(state.id, id);
    assert.is(state.status, status[name], name);
    assert.is(state.pid, pid, name);
    assert.is(state.bundle, b);
    assert.equal(state.annotations, { 'org.runts.test': 'hooks' });
  }
  assert.is(lines.find((l) => l.startsWith('container|'))!.split('|')[1], containerMnt);
});

asRoot(
  'a failing poststart hook fails start and stops the container (runtime-spec 1.3); a failing poststop hook is a warning',
  () => {
    const root = tempDir();
    const id = uniqueId();
    const b = bundle((s) => {
      s.hooks = {
        poststart: [{ path: '/bin/sh', args: ['sh', '-c', 'echo poststart says no >&2; exit 3'] }],
        poststop: [{ path: '/bin/false' }],
      };
      shArgs('exec sleep 1000')(s);
    });
    const created = runtime(['create', '--bundle', b, id], { root });
    assert.is(created.code, 0, created.stderr);
    const pid = stateOf(root, id).pid;
    const started = runtime(['start', id], { root });
    assert.is(started.code, 1);
    assert.match(started.stderr, /poststart hook #0 \(\/bin\/sh\) failed: exit status 3: poststart says no/);
    for (let i = 0; i < 300 && alive(pid); i++) Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 10);
    assert.not.ok(alive(pid), 'the container still runs');
    assert.is(stateOf(root, id).status, 'stopped');
    const deleted = runtime(['delete', id], { root });
    assert.is(deleted.code, 0);
    assert.match(deleted.stderr, /level=warning msg="poststop hook #0 \(\/bin\/false\) failed/);
  },
);

test.run();
