// The state store: ids, the 0700 root, atomic records, exactly-one-wins claims.
import { spawn } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { checkContainerId } from '../../src/state/id';
import { StateStore, type ContainerRecord } from '../../src/state/store';
import { TOP, tempDir } from '../lib/cli';

const test = suite('store');

test('ids: runc\'s rule', () => {
  for (const ok of ['a', 'abc-123', 'A_b.c+d', '0123456789abcdef'.repeat(4), '...']) assert.is(checkContainerId(ok), ok);
  for (const bad of ['', '.', '..', '../x', 'a/b', '/x', 'a b', 'a\nb', 'é', 'x'.repeat(1025)]) {
    assert.throws(() => checkContainerId(bad), /container id/, JSON.stringify(bad));
  }
});

test('a missing root is made 0700 whatever the umask; an existing one keeps its mode (--root /tmp)', () => {
  const fresh = join(tempDir(), 'made', 'root');
  const shared = join(tempDir(), 'shared');
  mkdirSync(shared);
  chmodSync(shared, 0o1777);
  const old = process.umask(0);
  try {
    new StateStore(fresh).claim('c1');
    new StateStore(shared).claim('c1');
  } finally {
    process.umask(old);
  }
  assert.is(statSync(fresh).mode & 0o7777, 0o700);
  assert.is(statSync(join(fresh, 'c1')).mode & 0o777, 0o700);
  assert.is(statSync(shared).mode & 0o7777, 0o1777);
  assert.is(statSync(join(shared, 'c1')).mode & 0o777, 0o700);
});

test('write is atomic (temp + rename) and read returns the record', () => {
  const store = new StateStore(join(tempDir(), 'root'));
  store.claim('c1');
  const record = { ociVersion: '1.2.0', id: 'c1', status: 'created', pid: 1, pidStartTime: '1', bundle: '/b', rootfs: '/b/r', created: 'now', owner: 'root' } satisfies ContainerRecord;
  store.write(record);
  assert.equal(store.read('c1'), record);
  assert.equal(readdirSync(store.containerDir('c1')), ['state.json'], 'a temp file was left behind');
});

test('a second claim of one id fails with "already exists"; remove frees it', () => {
  const store = new StateStore(join(tempDir(), 'root'));
  store.claim('c1');
  assert.throws(() => store.claim('c1'), /container with id c1 already exists/);
  store.remove('c1');
  assert.not.ok(existsSync(store.containerDir('c1')));
  store.claim('c1');
});

test('concurrent claims from separate processes: exactly one wins', async () => {
  const root = join(tempDir(), 'root');
  // Each racer is a fresh node that claims through the same store code.
  const script = join(tempDir(), 'claim.mjs');
  const { build } = await import('esbuild');
  await build({
    stdin: {
      contents: `import { StateStore } from './src/state/store';
        try { new StateStore(process.argv[2]).claim('same'); console.log('won'); }
        catch (e) { console.log(e.message); }`,
      resolveDir: TOP,
      loader: 'ts',
    },
    bundle: true, platform: 'node', format: 'esm', outfile: script, logLevel: 'error',
  });
  const racers = Array.from({ length: 8 }, () =>
    new Promise<string>((resolve) => {
      const child = spawn(process.execPath, [script, root], { stdio: ['ignore', 'pipe', 'inherit'] });
      let out = '';
      child.stdout.on('data', (d) => (out += d));
      child.on('close', () => resolve(out.trim()));
    }),
  );
  const results = await Promise.all(racers);
  assert.is(results.filter((r) => r === 'won').length, 1, results.join('\n'));
  for (const r of results.filter((x) => x !== 'won')) assert.match(r, /already exists/);
});

test('ids() lists container directories only', () => {
  const store = new StateStore(join(tempDir(), 'root'));
  assert.equal(store.ids(), []);
  store.claim('b');
  store.claim('a');
  writeFileSync(join(store.root, 'stray file'), '');
  assert.equal(store.ids(), ['a', 'b']);
});

test.run();
