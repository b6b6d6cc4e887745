// The state store: ids, the 0700 root, atomic records, exactly-one-wins claims.
import { spawn } from 'node:child_process';
import {
  chmodSync,
  closeSync,
  existsSync,
  fstatSync,
  mkdirSync,
  openSync,
  readFileSync,
  readdirSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { join } from 'node:path';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { checkContainerId, isValidId } from '../../src/state/id';
import type { ContainerRecord } from '../../src/state/record';
import { DamagedRecord, StateStore } from '../../src/state/store';
import { TOP, tempDir } from '../lib/cli';

const test = suite('store');

/** A created container's record, pid 7 started at 99, with the extra fields given. */
function createdRecord(id: string, ociVersion: string, extra: Partial<ContainerRecord>): ContainerRecord {
  return {
    ociVersion,
    id,
    status: 'created',
    pid: 7,
    pidStartTime: '99',
    bundle: '/b',
    rootfs: '/b/r',
    created: 'now',
    owner: 'root',
    ...extra,
  };
}

test("ids: runc's rule", () => {
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

test('write is atomic (a new file renamed over the old: a reader holding the old one reads it whole) and read returns the record', () => {
  const store = new StateStore(join(tempDir(), 'root'));
  store.claim('c1');
  const record: ContainerRecord = {
    ociVersion: '1.2.0',
    id: 'c1',
    status: 'creating',
    pid: 1,
    pidStartTime: '1',
    bundle: '/b',
    rootfs: '/b/r',
    created: 'now',
    owner: 'root',
  };
  store.write(record);
  const file = join(store.containerDir('c1'), 'state.json');
  const reader = openSync(file, 'r');
  try {
    const created: ContainerRecord = { ...record, status: 'created' };
    store.write(created);
    // An in-place write would have truncated and rewritten what the reader has open.
    assert.equal(JSON.parse(readFileSync(reader, 'utf8')), record, 'the open file changed under its reader');
    assert.is.not(statSync(file).ino, fstatSync(reader).ino, 'state.json is still the same file');
    assert.equal(store.read('c1'), created);
  } finally {
    closeSync(reader);
  }
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
    bundle: true,
    platform: 'node',
    format: 'esm',
    outfile: script,
    logLevel: 'error',
  });
  const racers = Array.from(
    { length: 8 },
    () =>
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

test('a damaged or missing state.json: read says so and how to remove it; readTeardown falls back on teardown.json; neither file: no container', () => {
  const store = new StateStore(join(tempDir(), 'root'));
  store.claim('c1');
  const cgroup = { version: 2 as const, path: '/sys/fs/cgroup/runts/c1' };
  const record = createdRecord('c1', '1.2.0', { cgroup });
  store.writeTeardown('c1', { pid: 7, pidStartTime: '99', cgroup });
  assert.throws(() => store.writeTeardown('c1', { pid: 8, pidStartTime: '1', cgroup }), /EEXIST/, 'teardown.json was replaced');
  store.write(record);
  assert.equal(store.readTeardown('c1'), { record, teardown: { pid: 7, pidStartTime: '99', cgroup } });
  const file = join(store.containerDir('c1'), 'state.json');
  for (const [content, why] of [
    ['{"ociVersion":"1.', /is damaged \(.*JSON/],
    ['', /is damaged \(.*JSON/],
    ['null', /is damaged \(not what runts wrote there\)/],
    ['{"id":"other"}', /not what runts wrote/],
  ] as const) {
    writeFileSync(file, content);
    assert.throws(
      () => store.read('c1'),
      (err: Error) =>
        err instanceof DamagedRecord &&
        why.test(err.message) &&
        err.message.includes('`runts delete --force c1` removes the container'),
    );
    const { record: none, teardown, damage } = store.readTeardown('c1')!;
    assert.is(none, undefined);
    assert.equal(teardown, { pid: 7, pidStartTime: '99', cgroup });
    assert.ok(damage instanceof DamagedRecord);
  }
  rmSync(file);
  assert.throws(() => store.read('c1'), /its state file .*state\.json is missing/);
  writeFileSync(join(store.containerDir('c1'), 'teardown.json'), '{"pid":');
  assert.throws(() => store.readTeardown('c1'), /state\.json is missing, and its state file .*teardown\.json is damaged/);
  rmSync(join(store.containerDir('c1'), 'teardown.json'));
  assert.is(store.read('c1'), undefined, 'a directory with neither file is one half made or half deleted: no container');
  assert.is(store.readTeardown('c1'), undefined);
});

test('readTeardown from a healthy record carries all create made for delete to undo: shared mounts, moved devices, the Intel RDT group', () => {
  const store = new StateStore(join(tempDir(), 'root'));
  store.claim('c2');
  const cgroup = { version: 2 as const, path: '/sys/fs/cgroup/runts/c2' };
  const sharedMounts = { namespace: 'mnt:[1]', rootfs: '/b/r', before: [] };
  const netDevices = { devices: [{ host: 'veth1', container: 'eth1', addresses: [] }] };
  const intelRdt = { group: '/sys/fs/resctrl/c2', created: true, monitor: '/sys/fs/resctrl/c2/mon_groups/c2' };
  const record = createdRecord('c2', '1.3.0', { cgroup, sharedMounts, netDevices, intelRdt });
  store.write(record);
  assert.equal(store.readTeardown('c2')!.teardown, { pid: 7, pidStartTime: '99', cgroup, sharedMounts, netDevices, intelRdt });
});

test('ids() lists container directories only, an id shaped like an old tomb name too; no tomb is a valid id', () => {
  const store = new StateStore(join(tempDir(), 'root'));
  assert.equal(store.ids(), []);
  store.claim('b');
  store.claim('a');
  store.claim('.deleting-a-123');
  writeFileSync(join(store.root, 'stray file'), '');
  mkdirSync(store.tomb('a'));
  assert.equal(store.ids(), ['.deleting-a-123', 'a', 'b']);
  for (const id of ['a', '.deleting-a-123', 'x'.repeat(255)]) {
    const name = store.tomb(id).slice(store.root.length + 1);
    assert.not.ok(isValidId(name), name);
    assert.ok(name.length <= 255, `${name.length} characters`);
  }
});

test.run();
