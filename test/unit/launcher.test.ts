// bin/runts.cjs sends state, kill, delete and start to the short bundle
// (dist/short.cjs, src/cli/short.ts) by a guess at the command word; the
// short bundle hands any other command to the whole CLI.
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import Module from 'node:module';
import { join } from 'node:path';
import { Script } from 'node:vm';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { SHORT_HANDLERS } from '../../src/cli/commands/short';
import { COMMANDS, type CommandName, GLOBAL_OPTIONS, takesValue } from '../../src/cli/options';
import { SIGNALS } from '../../src/linux/signals';
import { TOP, tempDir } from '../lib/cli';

const test = suite('launcher');
const launcher = readFileSync(join(TOP, 'bin', 'runts.cjs'), 'utf8');

test("the launcher's guess skips the value of every global flag that takes one, and only those", () => {
  const m = /\^--\?\(([a-z|-]+)\)\$/.exec(launcher);
  assert.ok(m, 'no flag pattern found in bin/runts.cjs');
  const skipped = m[1]!.split('|').sort();
  const taking = Object.entries(GLOBAL_OPTIONS)
    .filter(([, option]) => takesValue(option))
    .map(([name]) => name)
    .sort();
  assert.equal(skipped, taking);
});

test('the launcher sends exactly the short bundle’s commands (and their aliases) to it', () => {
  const m = /const SHORT = (\{[^}]*\});/.exec(launcher);
  assert.ok(m, 'no SHORT table found in bin/runts.cjs');
  const table = Function(`return ${m[1]}`)() as Record<string, string>;
  const expected: Record<string, string> = {};
  for (const name of Object.keys(SHORT_HANDLERS) as CommandName[]) {
    for (const word of [name, ...(COMMANDS[name].aliases ?? [])]) expected[word] = name;
  }
  assert.equal(table, expected);
});

test('the short bundle hands another command to the whole CLI', () => {
  const short = join(TOP, 'dist', 'short.cjs');
  assert.ok(existsSync(short), 'not built');
  const dir = tempDir();
  const r = spawnSync(process.execPath, [short, 'spec', '--bundle', dir], { encoding: 'utf8' });
  assert.is(r.status, 0, r.stderr);
  assert.is(JSON.parse(readFileSync(join(dir, 'config.json'), 'utf8')).process.args[0], 'sh');
  const list = spawnSync(process.execPath, [short, '--root', dir, 'list', '--format', 'json'], { encoding: 'utf8' });
  assert.is(list.status, 0, list.stderr);
  assert.is(list.stdout.trim(), JSON.stringify(JSON.parse(list.stdout)), 'not JSON');
});

test("the build made each bundle's code caches, and this node takes them", () => {
  const dist = join(TOP, 'dist');
  const caches: [string, string][] = [
    ['runts.cjs', 'runts.cjs.cache'],
    ['validator.cjs', 'validator.cjs.cache'],
    ...Object.keys(SHORT_HANDLERS).map((name): [string, string] => ['short.cjs', `short.cjs.${name}.cache`]),
  ];
  for (const [file, cache] of caches) {
    assert.ok(existsSync(join(dist, cache)), `no dist/${cache}`);
    const source = (Module as unknown as { wrap(s: string): string }).wrap(readFileSync(join(dist, file), 'utf8'));
    const script = new Script(source, { filename: join(dist, file), cachedData: readFileSync(join(dist, cache)) });
    assert.is(script.cachedDataRejected, false, `dist/${cache} rejected`);
  }
});

test("the native launcher's signal names are signals.ts's, each bound to libc's macro of that name", () => {
  // bin/runts (src/native/runts-launch.c) parses a plain kill's signal
  // itself; a name it lacks goes to node, so a name it has must mean what
  // node's table says (libc's SIGxxx macro is that number on Linux).
  const source = readFileSync(join(TOP, 'src', 'native', 'runts-launch.c'), 'utf8');
  const m = /SIGNALS\[\] = \{([^;]*)\};/.exec(source);
  assert.ok(m, 'no SIGNALS table found in runts-launch.c');
  const entries = [...m[1]!.matchAll(/\{"([A-Z0-9]+)", (SIG[A-Z0-9]+)\}/g)].map(([, name, macro]) => [name!, macro!]);
  assert.equal(
    entries.filter(([name, macro]) => `SIG${name}` !== macro),
    [],
    'an entry bound to another name',
  );
  assert.equal(entries.map(([name]) => `SIG${name}`).sort(), Object.keys(SIGNALS).sort());
});

test.run();
