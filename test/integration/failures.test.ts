// What fails during create reaches the user with its real reason, exit 1,
// and leaves nothing: no state dir, no process, no mount, no cgroup.
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import type { Spec } from '../../src/spec/types';
import { isRoot, tempDir } from '../lib/cli';
import { bundle, leftovers, runtime, uniqueId, watchContainer } from '../lib/container';

const test = suite('failures');
const asRoot = isRoot ? test : test.skip;

const FAILURES: [string, (s: Spec) => void, RegExp][] = [
  [
    'args[0] not in the container',
    (s) => (s.process!.args = ['no-such-program']),
    /exec: "no-such-program": executable file not found in \$PATH/,
  ],
  ['args[0] path missing', (s) => (s.process!.args = ['/bin/nothing-here']), /"\/bin\/nothing-here": no such executable file/],
  [
    'bind mount source missing',
    (s) => s.mounts!.push({ destination: '/x', type: 'bind', source: '/no/such/dir', options: ['rbind'] }),
    /mount source \/no\/such\/dir does not exist/,
  ],
  [
    'unknown filesystem type',
    (s) => s.mounts!.push({ destination: '/x', type: 'nosuchfs', source: 'none' }),
    /mount none to \/x \(nosuchfs\).*No such device/,
  ],
  [
    'createRuntime hook fails',
    (s) => (s.hooks = { createRuntime: [{ path: '/bin/sh', args: ['sh', '-c', 'echo hook says no >&2; exit 7'] }] }),
    /createRuntime hook #0 \(\/bin\/sh\) failed: exit status 7: hook says no/,
  ],
  [
    'createContainer hook fails',
    (s) => (s.hooks = { createContainer: [{ path: '/bin/false' }] }),
    /createContainer hook #0 \(\/bin\/false\) failed: exit status 1/,
  ],
  [
    'prestart hook missing',
    (s) => (s.hooks = { prestart: [{ path: '/no/such/hook' }] }),
    /prestart hook #0 \(\/no\/such\/hook\).*ENOENT/,
  ],
  [
    'hook timeout',
    (s) => (s.hooks = { createRuntime: [{ path: '/bin/sleep', args: ['sleep', '5'], timeout: 1 }] }),
    /createRuntime hook #0 \(\/bin\/sleep\) timed out after 1s/,
  ],
  [
    'joining a namespace path that is not there',
    (s) => s.linux!.namespaces!.push({ type: 'cgroup', path: '/proc/999999999/ns/cgroup' }),
    /joining cgroup namespace \/proc\/999999999\/ns\/cgroup/,
  ],
  ['root.path missing', (s) => (s.root!.path = '/no/such/rootfs'), /root\.path \/no\/such\/rootfs does not exist/],
  ['sysctl that does not exist', (s) => (s.linux!.sysctl = { 'net.no.such.key': '1' }), /sysctl net\.no\.such\.key=1/],
];

for (const [name, edit, reason] of FAILURES) {
  asRoot(`${name}: exit 1, the reason, nothing left`, () => {
    const root = join(tempDir(), 'root');
    const logFile = join(tempDir(), 'log.json');
    const b = bundle(edit);
    const id = uniqueId();
    const watch = watchContainer({ id, root, bundle: b });
    const r = runtime(['--log', logFile, '--log-format', 'json', 'create', '--bundle', b, id], { root });
    assert.is(r.code, 1, `create succeeded: ${r.stderr}`);
    assert.match(r.stderr, reason);
    assert.equal(leftovers(watch), []);
    assert.equal(existsSync(root) ? readdirSync(root) : [], [], 'entries left under --root');
  });
}

asRoot('run of a failing config: the same, exit 1', () => {
  const root = tempDir();
  const b = bundle((s) => (s.process!.args = ['nope']));
  const id = uniqueId();
  const watch = watchContainer({ id, root, bundle: b });
  const r = runtime(['run', '--bundle', b, id], { root });
  assert.is(r.code, 1);
  assert.match(r.stderr, /executable file not found/);
  assert.equal(leftovers(watch), []);
  assert.equal(readdirSync(root), []);
});

test.run();
