// The runc-compatible command line, driven as a user (or containerd) would.
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { readProcStat } from '../../src/state/process-identity';
import { baseSpec, writeBundle } from '../lib/bundle';
import { runts, tempDir } from '../lib/cli';
import { BUILD_SCHEMA, officialValidator } from '../lib/schema';

const test = suite('cli');

test("--version names runts, the spec version (runc's two lines) and the build's schema", () => {
  const r = runts(['--version']);
  assert.is(r.code, 0);
  const where = `(${BUILD_SCHEMA.source}: ${BUILD_SCHEMA.dir})`;
  assert.match(r.stdout, /^runts version \d+\.\d+\.\d+\nspec: 1\.3\.0\nschema: /);
  assert.ok(
    r.stdout.endsWith(
      `\nschema: ${BUILD_SCHEMA.version}${BUILD_SCHEMA.exact ? '' : ' or later, not the exact release'} ${where}\n`,
    ),
    r.stdout,
  );
});

test('--help lists the commands and the global flags', () => {
  const r = runts(['--help']);
  assert.is(r.code, 0);
  for (const word of [
    'create',
    'start',
    'state',
    'kill',
    'delete',
    'run',
    'list',
    'spec',
    'features',
    'validate',
    '--root',
    '--log-format',
    '--systemd-cgroup',
  ]) {
    assert.ok(r.stdout.includes(word), `--help lacks ${word}`);
  }
});

test('an unknown command or flag is an error, exit 1', () => {
  assert.is(runts(['frobnicate']).code, 1);
  assert.is(runts(['list', '--no-such-flag']).code, 1);
});

test('spec writes a config.json that validates, and refuses to overwrite it', () => {
  const dir = tempDir();
  const r = runts(['spec', '--bundle', dir]);
  assert.is(r.code, 0, r.stderr);
  const config = JSON.parse(readFileSync(join(dir, 'config.json'), 'utf8'));
  assert.is(config.process.terminal, true);
  assert.equal(config.process.args, ['sh']);
  assert.equal(config.root, { path: 'rootfs', readonly: true });
  assert.equal(officialValidator('config-schema.json')(config), []);
  const validated = runts(['validate', join(dir, 'config.json')]);
  assert.is(validated.code, 0);
  assert.ok(validated.stdout.includes(`\nschema: ${BUILD_SCHEMA.version}`), validated.stdout);
  const again = runts(['spec', '-b', dir]);
  assert.is(again.code, 1);
  assert.match(again.stderr, /exists/);
});

test("the caller's NODE_OPTIONS and NODE_EXTRA_CA_CERTS do not reach the runts process", () => {
  // Node would fail on the preload and warn about the missing CA file before any runts code ran.
  const env = { ...process.env, NODE_OPTIONS: '--require /nonexistent/preload.js', NODE_EXTRA_CA_CERTS: '/nonexistent/ca.pem' };
  const r = runts(['--root', tempDir(), 'list', '--quiet'], { env });
  assert.is(r.code, 0, r.stderr);
  assert.is(r.stderr, '');
});

test('state of a missing container: exit 1, "does not exist"', () => {
  const root = tempDir();
  const r = runts(['--root', root, 'state', 'nothere']);
  assert.is(r.code, 1);
  assert.match(r.stderr, /container nothere does not exist/);
});

test('--log-format json --log FILE: one logrus-style JSON line; stderr gets the plain message', () => {
  const root = tempDir();
  const logFile = join(tempDir(), 'log.json');
  const r = runts(['--root', root, '--log', logFile, '--log-format', 'json', 'state', 'nothere']);
  assert.is(r.code, 1);
  assert.is(r.stderr, 'container nothere does not exist\n');
  const lines = readFileSync(logFile, 'utf8').trim().split('\n');
  assert.is(lines.length, 1);
  const entry = JSON.parse(lines[0]!);
  assert.is(entry.level, 'error');
  assert.is(entry.msg, 'container nothere does not exist');
  assert.match(entry.time, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
});

test('--log-format json without --log: the JSON line goes to stderr', () => {
  const r = runts(['--root', tempDir(), '--log-format', 'json', 'state', 'nothere']);
  assert.is(r.code, 1);
  assert.is(JSON.parse(r.stderr.trim()).msg, 'container nothere does not exist');
});

const BAD_IDS = ['../x', 'a/b', '..', '.', 'with space', '', 'semi;colon', '/abs'];

test('bad container ids are refused before anything touches the disk', () => {
  for (const id of BAD_IDS) {
    const parent = tempDir();
    const root = join(parent, 'root');
    for (const args of [
      ['state', id],
      ['create', '--bundle', writeBundle(baseSpec()), id],
      ['delete', id],
      ['kill', id],
    ]) {
      const r = runts(['--root', root, ...args]);
      assert.is(r.code, 1, `${args.join(' ')} accepted ${JSON.stringify(id)}`);
      assert.match(r.stderr, /container id/);
    }
    assert.not.ok(existsSync(root), `--root was created for id ${JSON.stringify(id)}`);
    assert.equal(readdirSync(parent), []);
  }
});

test('create with an invalid config: exit 1, names the pointer, leaves nothing under --root', () => {
  const config: any = baseSpec();
  config.process.args = 'sh';
  const root = join(tempDir(), 'root');
  const logFile = join(tempDir(), 'log.json');
  const r = runts(['--root', root, '--log', logFile, '--log-format', 'json', 'create', '--bundle', writeBundle(config), 'c1']);
  assert.is(r.code, 1);
  assert.match(r.stderr, /config\.json: \/process\/args: must be array/);
  assert.match(JSON.parse(readFileSync(logFile, 'utf8')).msg, /\/process\/args: must be array/);
  assert.ok(!existsSync(root) || readdirSync(root).length === 0, 'state left behind');
});

test('create refuses a new user namespace without mappings with a clear message and leaves nothing', () => {
  const config: any = baseSpec();
  config.linux.namespaces.push({ type: 'user' });
  const root = join(tempDir(), 'root');
  const r = runts(['--root', root, 'create', '--bundle', writeBundle(config), 'c1']);
  assert.is(r.code, 1);
  assert.match(r.stderr, /\/linux\/uidMappings: a new user namespace needs its mappings/);
  assert.ok(!existsSync(root) || readdirSync(root).length === 0);
});

/** A state record as create writes it, for a process the test controls. */
function fakeContainer(root: string, id: string, pid: number, startTime: string, withFifo: boolean) {
  const dir = join(root, id);
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const record = {
    ociVersion: '1.2.0',
    id,
    status: 'created',
    pid,
    pidStartTime: startTime,
    bundle: '/some/bundle',
    rootfs: '/some/bundle/rootfs',
    created: '2026-11-28T00:00:00.000Z',
    owner: 'root',
    annotations: { 'org.example.key': 'value' },
  };
  writeFileSync(join(dir, 'state.json'), JSON.stringify(record));
  if (withFifo) writeFileSync(join(dir, 'exec.fifo'), '');
}

test('state and list derive the status from the host; a reused pid is not the container', async () => {
  const root = tempDir();
  const sleeper = spawn('sleep', ['60'], { stdio: 'ignore' });
  try {
    await new Promise((r) => sleeper.once('spawn', r));
    const pid = sleeper.pid!;
    const start = readProcStat(pid)!.startTime;
    fakeContainer(root, 'created1', pid, start, true);
    fakeContainer(root, 'running1', pid, start, false);
    fakeContainer(root, 'reused1', pid, String(Number(start) + 1), false);
    fakeContainer(root, 'gone1', 999_999_999, '1', false);

    const validState = officialValidator('state-schema.json');
    const expected: Record<string, [string, number]> = {
      created1: ['created', pid],
      running1: ['running', pid],
      reused1: ['stopped', 0],
      gone1: ['stopped', 0],
    };
    for (const [id, [status, wantPid]] of Object.entries(expected)) {
      const r = runts(['--root', root, 'state', id]);
      assert.is(r.code, 0, r.stderr);
      const state = JSON.parse(r.stdout);
      assert.is(state.status, status, id);
      assert.is(state.pid, wantPid, id);
      assert.is(state.id, id);
      assert.is(state.bundle, '/some/bundle');
      assert.is(state.rootfs, '/some/bundle/rootfs');
      assert.is(state.owner, 'root');
      assert.is(state.created, '2026-11-28T00:00:00.000Z');
      assert.equal(state.annotations, { 'org.example.key': 'value' });
      assert.equal(validState(state), [], `state of ${id} does not validate`);
    }

    const json = runts(['--root', root, 'list', '--format', 'json']);
    assert.is(json.code, 0, json.stderr);
    const listed = JSON.parse(json.stdout) as { id: string; status: string }[];
    assert.equal(
      listed.map((s) => [s.id, s.status]).sort(),
      Object.entries(expected)
        .map(([id, [st]]) => [id, st])
        .sort(),
    );

    const table = runts(['--root', root, 'list']).stdout.split('\n');
    assert.match(table[0] ?? '', /^ID\s+PID\s+STATUS\s+BUNDLE\s+CREATED\s+OWNER$/);
    assert.ok(
      table.some((l) => new RegExp(`^running1\\s+${pid}\\s+running\\s+/some/bundle\\s`).test(l)),
      table.join('\n'),
    );
    assert.equal(runts(['--root', root, 'list', '-q']).stdout.trim().split('\n').sort(), Object.keys(expected).sort());
  } finally {
    sleeper.kill('SIGKILL');
  }
});

test('list of an empty or missing root: header only / []', () => {
  const root = join(tempDir(), 'none');
  assert.is(runts(['--root', root, 'list']).stdout.trim(), 'ID          PID         STATUS      BUNDLE      CREATED     OWNER');
  assert.is(runts(['--root', root, 'list', '-f', 'json']).stdout.trim(), '[]');
});

test.run();
