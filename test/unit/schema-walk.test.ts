// Nothing in a config silently ignored: every property of the official
// 1.3.0 config schema (config-schema.json, through its $refs into
// config-linux.json, defs*.json and the other platforms' files, nested
// objects, array items and map values included) has a row in
// test/lib/schema-coverage.ts, and the row's evidence holds: the code that
// applies it reads it, or create refuses it (or runs without it, warning)
// naming its pointer.
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { formatProblem } from '../../src/errors';
import { judge } from '../../src/spec/load';
import { baseSpec } from '../lib/bundle';
import { TOP } from '../lib/cli';
import { COVERAGE, type Coverage } from '../lib/schema-coverage';
import { OLDER_SCHEMA_REASON, SCHEMA_IS_V13, buildSchemas } from '../lib/schema';
import { skipTest } from '../lib/skips';
import { UNSUPPORTED } from '../lib/unsupported';

const test = suite('schema-walk');

type Schemas = Record<string, any>;

function resolve(schemas: Schemas, ref: string, file: string): [any, string] {
  const [name, pointer = ''] = ref.split('#');
  const target = name || file;
  let node = schemas[target];
  if (!node) throw new Error(`${file}: $ref ${ref}: no schema file ${target}`);
  for (const key of pointer.split('/').filter(Boolean)) node = node?.[key];
  if (node === undefined) throw new Error(`${file}: $ref ${ref} resolves to nothing`);
  return [node, target];
}

/** The row for a walked path: its own, or one whose `*` segments match. */
function rowFor(coverage: Record<string, Coverage>, path: string): [string, Coverage] | undefined {
  if (coverage[path]) return [path, coverage[path]];
  const segments = path.split('/');
  return Object.entries(coverage).find(([key]) => {
    const k = key.split('/');
    return k.length === segments.length && k.every((s, i) => s === segments[i] || s === '*');
  });
}

interface Walk {
  /** Walked property paths and the row that covers each (undefined: none). */
  paths: Map<string, string | undefined>;
}

/** Every property path under the config schema; below a refused or warned property, nothing more is walked. */
function walk(schemas: Schemas, coverage: Record<string, Coverage>): Walk {
  const paths = new Map<string, string | undefined>();
  const visit = (node: any, file: string, path: string, refs: Set<string>): void => {
    if (!node || typeof node !== 'object') return;
    if (typeof node.$ref === 'string') {
      const key = `${file}#${node.$ref}`;
      if (!refs.has(key)) {
        const [target, targetFile] = resolve(schemas, node.$ref, file);
        visit(target, targetFile, path, new Set([...refs, key]));
      }
    }
    for (const k of ['allOf', 'anyOf', 'oneOf'] as const) for (const s of node[k] ?? []) visit(s, file, path, refs);
    for (const items of [node.items ?? []].flat()) visit(items, file, `${path}/[]`, refs);
    for (const s of Object.values(node.patternProperties ?? {})) visit(s, file, `${path}/{}`, refs);
    if (node.additionalProperties && typeof node.additionalProperties === 'object')
      visit(node.additionalProperties, file, `${path}/{}`, refs);
    for (const [name, s] of Object.entries(node.properties ?? {})) {
      const child = `${path}/${name}`;
      const row = rowFor(coverage, child);
      paths.set(child, row?.[0]);
      if (row && row[1].kind !== 'applied') continue; // refused whole: what is under it is never read
      visit(s, file, child, refs);
    }
  };
  visit(schemas['config-schema.json'], 'config-schema.json', '', new Set());
  return { paths };
}

const uncovered = (w: Walk) => [...w.paths].filter(([, row]) => !row).map(([path]) => path);

const source = (file: string) => readFileSync(join(TOP, 'src', file), 'utf8');
const quoted = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/** What is wrong with a row's evidence (empty: it holds). */
function evidenceProblems(path: string, row: Coverage): string[] {
  const leaf = path.split('/').pop()!;
  if (row.kind === 'applied') {
    const pattern = row.pattern ?? new RegExp(`[.?]${quoted(leaf)}\\b|\\b${quoted(leaf)}\\??:|'${quoted(leaf)}'`);
    return row.files.flatMap((file) =>
      !existsSync(join(TOP, 'src', file))
        ? [`src/${file} does not exist`]
        : pattern.test(source(file))
          ? []
          : [`src/${file} does not match ${pattern}`],
    );
  }
  const unsupported = UNSUPPORTED.find((u) => u.name === row.unsupported);
  if (!unsupported) return [`test/lib/unsupported.ts has no row ${JSON.stringify(row.unsupported)}`];
  const config = baseSpec();
  unsupported.mutate(config);
  const verdict = judge(config);
  if (verdict.errors.length) return [`the schema rejects the example: ${verdict.errors.map(formatProblem).join('; ')}`];
  const list = row.kind === 'refused' ? verdict.unsupported : verdict.warnings;
  const expected = row.kind === 'refused' ? 'refuses' : 'goes on';
  const problems: string[] = [];
  if (unsupported.create !== expected) problems.push(`unsupported.ts says create ${unsupported.create}, not ${expected}`);
  if (!list.some((p) => p.pointer === path && formatProblem(p).startsWith(unsupported.message)))
    problems.push(`runts does not ${row.kind === 'refused' ? 'refuse' : 'warn about'} ${path} with "${unsupported.message}"`);
  return problems;
}

if (!SCHEMA_IS_V13) {
  skipTest(test, 'every property of the 1.3.0 config schema is applied, refused or warned', OLDER_SCHEMA_REASON);
} else {
  const schemas = buildSchemas();
  const walked = walk(schemas, COVERAGE);

  test('the walk reaches every part of the schema (it cannot pass by seeing little)', () => {
    const paths = [...walked.paths.keys()];
    for (const p of ['/process/user/umask', '/linux/resources/rdma/{}/hcaHandles', '/linux/seccomp/syscalls/[]/args/[]/valueTwo'])
      assert.ok(paths.includes(p), `not walked: ${p}`);
    for (const p of ['/windows', '/vm', '/solaris', '/zos', '/freebsd', '/linux/intelRdt', '/hooks/poststop/[]/timeout'])
      assert.ok(paths.includes(p), `not walked: ${p}`);
    assert.ok(paths.length > 200, `only ${paths.length} properties`);
  });

  test('every property has a row', () => {
    assert.equal(uncovered(walked), [], 'properties of the schema with no row in test/lib/schema-coverage.ts');
  });

  test('every row is for a property of the schema', () => {
    const used = new Set(walked.paths.values());
    assert.equal(
      Object.keys(COVERAGE).filter((key) => !used.has(key)),
      [],
      'rows of test/lib/schema-coverage.ts for no property',
    );
  });

  test("every row's evidence holds", () => {
    const wrong = Object.entries(COVERAGE).flatMap(([path, row]) => evidenceProblems(path, row).map((p) => `${path}: ${p}`));
    assert.equal(wrong, []);
  });

  test('a property with no row fails the walk, named', () => {
    const without = { ...COVERAGE };
    delete without['/process/user/umask'];
    delete without['/vm'];
    const missing = uncovered(walk(schemas, without));
    // Without its refusal, vm's own properties are walked too, each named.
    assert.equal(missing.slice(0, 3), ['/process/user/umask', '/vm', '/vm/hypervisor']);
    assert.ok(
      missing.slice(2).every((p) => p.startsWith('/vm/')),
      missing.join('\n'),
    );
  });

  test('a row whose evidence is not there fails, named', () => {
    assert.equal(evidenceProblems('/process/oomScoreAdj', { kind: 'applied', files: ['spec/version.ts'] }), [
      "src/spec/version.ts does not match /[.?]oomScoreAdj\\b|\\boomScoreAdj\\??:|'oomScoreAdj'/",
    ]);
    assert.equal(evidenceProblems('/process/cwd', { kind: 'refused', unsupported: 'windows' }), [
      'runts does not refuse /process/cwd with "/windows: Windows container settings are for another platform: runts runs Linux containers"',
    ]);
  });
}

test.run();
