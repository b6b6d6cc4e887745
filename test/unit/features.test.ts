// `runts features`: the official 1.3.0 features schema accepts it with no
// property that schema does not define, and every claim maps to code that
// makes it true (a table entry, a refusal lifted); nothing claimed because
// the host happens to have it.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { CAPABILITIES } from '../../src/linux/capabilities';
import { FLAG_WORDS, PROPAGATION_WORDS, RECURSIVE_WORDS, parseMountOptions } from '../../src/linux/mount-options';
import { namespaceKind } from '../../src/linux/namespaces';
import { ACTIONS, ARCHITECTURES, FLAGS, OPERATORS } from '../../src/linux/seccomp';
import { runtimeProblems } from '../../src/spec/checks';
import { baseSpec } from '../lib/bundle';
import { TOP, runts } from '../lib/cli';
import { OLDER_SCHEMA_REASON, SCHEMA_IS_V13, officialValidator } from '../lib/schema';
import { skipTest } from '../lib/skips';

const test = suite('features');

const r = runts(['features']);
const doc = JSON.parse(r.stdout);
const source = (file: string) => readFileSync(join(TOP, 'src', file), 'utf8');
/** Whether create/validate refuse a config with linux[field] set (the field is then no feature). */
const refused = (field: string, value: unknown) => {
  const config: any = baseSpec();
  config.linux[field] = value;
  return runtimeProblems(config).some((p) => p.pointer === `/linux/${field}`);
};

test('exits 0 with JSON that lists what runts has (not an empty, trivially true document)', () => {
  assert.is(r.code, 0, r.stderr);
  for (const ns of ['user', 'pid', 'mount', 'network']) assert.ok(doc.linux.namespaces.includes(ns), ns);
  assert.ok(doc.mountOptions.includes('rbind'));
  assert.ok(doc.linux.capabilities.includes('CAP_SYS_ADMIN'));
  assert.ok(doc.linux.seccomp.actions.includes('SCMP_ACT_ERRNO'));
  assert.is(doc.hooks.length, 6);
  assert.equal(doc.linux.mountExtensions, { idmap: { enabled: true } });
});

if (SCHEMA_IS_V13) {
  test('the official 1.3.0 features schema accepts it, every object closed to properties it does not define', () => {
    assert.equal(officialValidator('features-schema.json', 'runts features', { strict: true })(doc), []);
    assert.is(doc.ociVersionMax, '1.3.0');
  });
  test('the strict check fails on a property 1.3.0 does not define (it can fail)', () => {
    const bad = { ...doc, linux: { ...doc.linux, memoryPolicy: { enabled: false } } };
    assert.equal(officialValidator('features-schema.json', 'a made-up features', { strict: true })(bad), [
      '/linux must NOT have additional properties "memoryPolicy"',
    ]);
  });
} else {
  skipTest(test, 'the official 1.3.0 features schema accepts it', OLDER_SCHEMA_REASON);
}

test('hooks: each one is run by name', () => {
  const code =
    source('container/create.ts') + source('container/start.ts') + source('container/delete.ts') + source('init/init.ts');
  for (const hook of doc.hooks) assert.ok(code.includes(`'${hook}'`), `no code runs the ${hook} hooks`);
});

test('mountOptions: each is a word the mount code turns into flags or propagation', () => {
  const words = { ...FLAG_WORDS, ...PROPAGATION_WORDS, ...RECURSIVE_WORDS };
  for (const option of doc.mountOptions) {
    const parsed = parseMountOptions([option]);
    assert.ok(option in words || parsed.idmap || parsed.copyUp, `${option} is not applied`);
    assert.not.ok(parsed.data.split(',').includes(option), `${option} would go to the filesystem as data`);
  }
});

test('namespaces and capabilities: each has its kernel value', () => {
  for (const ns of doc.linux.namespaces) assert.ok(namespaceKind(ns).flag > 0, ns);
  for (const cap of doc.linux.capabilities) assert.type(CAPABILITIES[cap], 'number', cap);
});

test("seccomp: each action, operator, arch and flag is in the compiler's tables", () => {
  for (const a of doc.linux.seccomp.actions) assert.ok(a in ACTIONS, a);
  for (const o of doc.linux.seccomp.operators) assert.ok(o in OPERATORS, o);
  for (const a of doc.linux.seccomp.archs) assert.ok(a in ARCHITECTURES, a);
  for (const f of doc.linux.seccomp.supportedFlags) assert.ok(f in FLAGS, f);
  assert.ok(doc.linux.seccomp.supportedFlags.every((f: string) => doc.linux.seccomp.knownFlags.includes(f)));
});

test("apparmor and selinux: runts applies them (the runtime's support, not the host's)", () => {
  assert.equal([doc.linux.apparmor, doc.linux.selinux], [{ enabled: true }, { enabled: true }]);
  const lsm = source('linux/lsm.ts');
  assert.match(lsm, /\/proc\/self\/attr\/apparmor\/exec/);
  assert.match(lsm, /write\(sys, '\/proc\/self\/attr\/exec', plan\.selinuxLabel/);
  assert.match(source('init/finalize.ts'), /applyLsmOnExec\(sys, plan\.lsm\)/);
});

test('intelRdt and netDevices: enabled exactly when checks.ts no longer refuses them', () => {
  assert.is(doc.linux.intelRdt.enabled, !refused('intelRdt', { closID: 'x' }));
  assert.is(doc.linux.netDevices.enabled, !refused('netDevices', { eth1: {} }));
});

test('potentiallyUnsafeConfigAnnotations: none, as runts reads no annotation key', () => {
  assert.equal(doc.potentiallyUnsafeConfigAnnotations, []);
  const reads = /annotations(\?\.|\.|\[)\s*\[?['"`]/;
  for (const file of ['container/create.ts', 'spec/plan.ts', 'spec/checks.ts', 'linux/hooks.ts', 'state/status.ts'])
    assert.not.match(source(file), reads, file);
});

test('cgroup rdma: both drivers set it', () => {
  assert.match(source('linux/cgroups/v1.ts'), /rdma: \{ field: 'rdma', set: setRdma \}/);
  assert.match(source('linux/cgroups/v2.ts'), /\{ field: 'rdma', set: setRdma \}/);
});

test.run();
