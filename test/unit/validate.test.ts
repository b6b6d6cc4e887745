// `runts validate` against the official schema (the copy the build used):
// each invalid config is rejected (exit 1) and the problem's JSON pointer
// is named; valid configs runts cannot run pass with warnings.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { baseSpec, writeBundle } from '../lib/bundle';
import { runts, tempDir } from '../lib/cli';
import { UNSUPPORTED } from '../lib/unsupported';

type Mutation = (c: any) => unknown;

const INVALID: [string, Mutation, string][] = [
  ['args not an array', (c) => (c.process.args = 'sh'), '/process/args: must be array'],
  ['ociVersion missing', (c) => delete c.ociVersion, '/ociVersion: is required'],
  ['cwd missing', (c) => delete c.process.cwd, '/process/cwd: is required'],
  ['root.path not a string', (c) => (c.root.path = 42), '/root/path: must be string'],
  ['mount without destination', (c) => delete c.mounts[1].destination, '/mounts/1/destination: is required'],
  ['hostname a number', (c) => (c.hostname = 7), '/hostname: must be string'],
  ['unknown namespace type', (c) => (c.linux.namespaces[0].type = 'bogus'), '/linux/namespaces/0/type: must be one of'],
  ['negative uid', (c) => (c.process.user.uid = -1), '/process/user/uid: must be >= 0'],
  ['rlimit hard a string', (c) => (c.process.rlimits[0].hard = 'lots'), '/process/rlimits/0/hard: must be'],
  ['hook without path', (c) => (c.hooks = { prestart: [{ args: ['x'] }] }), '/hooks/prestart/0/path: is required'],
  [
    'unknown seccomp action',
    (c) => (c.linux.seccomp = { defaultAction: 'SCMP_ACT_BOGUS' }),
    '/linux/seccomp/defaultAction: must be one of',
  ],
  ['annotation value a number', (c) => (c.annotations = { 'org.example.n': 1 }), '/annotations/org.example.n: must be string'],
  ['env not an array', (c) => (c.process.env = 'PATH=/bin'), '/process/env: must be array'],
  ['device without path', (c) => (c.linux.devices = [{ type: 'c', major: 1, minor: 3 }]), '/linux/devices/0/path: is required'],
  [
    'capability not a string',
    (c) => (c.process.capabilities.bounding[0] = 5),
    '/process/capabilities/bounding/0: must be string',
  ],
  ['memory limit a string', (c) => (c.linux.resources.memory = { limit: 'big' }), '/linux/resources/memory/limit: must be'],
  ['consoleSize without height', (c) => (c.process.consoleSize = { width: 80 }), '/process/consoleSize/height: is required'],
  ['unknown rootfsPropagation', (c) => (c.linux.rootfsPropagation = 'weird'), '/linux/rootfsPropagation: must be one of'],
  ['oomScoreAdj a string', (c) => (c.process.oomScoreAdj = 'low'), '/process/oomScoreAdj: must be integer'],
  ['terminal a string', (c) => (c.process.terminal = 'yes'), '/process/terminal: must be boolean'],
];

const test = suite('validate');

for (const [name, mutate, expected] of INVALID) {
  test(`rejects: ${name}`, () => {
    const config = baseSpec();
    mutate(config);
    const bundle = writeBundle(config);
    const r = runts(['validate', '--bundle', bundle]);
    assert.is(r.code, 1, r.stderr);
    const lines = r.stderr.trim().split('\n');
    assert.ok(
      lines.some((l) => l.includes(`config.json: ${expected}`)),
      `expected a line with "${expected}", got:\n${r.stderr}`,
    );
  });
}

test('a whole document that is not an object is rejected at the root', () => {
  const file = join(tempDir(), 'config.json');
  writeFileSync(file, '[1, 2]');
  const r = runts(['validate', file]);
  assert.is(r.code, 1);
  assert.match(r.stderr, /config\.json: \/: must be object/);
});

test('broken JSON is a clear error, not a stack trace', () => {
  const file = join(tempDir(), 'config.json');
  writeFileSync(file, '{"ociVersion": ');
  const r = runts(['validate', file]);
  assert.is(r.code, 1);
  assert.match(r.stderr, /not valid JSON/);
  assert.not.match(r.stderr, /\n\s+at /);
});

test('every violation of one document is listed on its own line', () => {
  const config: any = baseSpec();
  config.process.args = 'sh';
  config.hostname = 7;
  delete config.process.cwd;
  const r = runts(['validate', '--bundle', writeBundle(config)]);
  assert.is(r.code, 1);
  for (const p of ['/process/args', '/hostname', '/process/cwd']) assert.match(r.stderr, `config.json: ${p}: `);
});

test('the default config (runts spec) is valid and runnable: exit 0, no warnings', () => {
  const r = runts(['validate', '--bundle', writeBundle(baseSpec())]);
  assert.is(r.code, 0, r.stderr);
  assert.is(r.stderr, '');
  assert.match(r.stdout, /valid/);
});

// What create does with each: test/integration/unsupported.test.ts.
for (const { name, mutate, message } of UNSUPPORTED) {
  test(`schema-valid; validate exits 0 and warns: ${name}`, () => {
    const config = baseSpec();
    mutate(config);
    const r = runts(['validate', '--bundle', writeBundle(config)]);
    assert.is(r.code, 0, r.stderr);
    assert.match(r.stderr, `config.json: warning: ${message}`);
  });
}

test.run();
