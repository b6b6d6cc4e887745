// The fast path parses what it parses exactly as yargs does, and hands the
// rest (help, version, mistakes, ambiguous words) to yargs.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import type { CommandModule } from 'yargs';
import { commands } from '../../src/cli/commands/index';
import { fastParse } from '../../src/cli/fast-path';
import { main } from '../../src/cli/main';
import { normalizeArgv } from '../../src/cli/normalize';

const test = suite('fast path');

/** What yargs hands the command's handler for these words (handlers replaced by a recorder). */
async function viaYargs(argv: string[]): Promise<Record<string, unknown>> {
  let seen: Record<string, unknown> | undefined;
  const recording = commands.map((c): CommandModule<any, any> => ({ ...c, handler: (a) => void (seen = a) }));
  await main(argv, recording);
  if (!seen) throw new Error(`yargs ran no handler for ${argv.join(' ')}`);
  return seen;
}

const SAME: string[][] = [
  ['state', 'c1'],
  ['--root', '/run/x', '--log', '/tmp/l.json', '--log-format', 'json', 'state', 'c1'],
  ['--root=/run/x', 'kill', 'c1', 'KILL'],
  ['kill', '--all', 'c1'],
  ['kill', '-a', 'c1', '9'],
  ['delete', '--force', 'c1'],
  ['rm', '-f', 'c1'],
  ['start', 'c1'],
  ['create', '--bundle', '/b', '--pid-file', '/p', '--console-socket', '/s', '--no-pivot', '--no-new-keyring', 'c1'],
  ['create', '-b', '/b', '--preserve-fds', '2', 'c1'],
  ['create', '-bundle', '/b', 'c1'],
  ['run', '-d', '--keep', '-b', '/b', 'c1'],
  ['list', '-f', 'json'],
  ['list', '--quiet'],
  ['exec', '-e', 'A=1', '--env', 'B=2', '-t', '--detach', '--pid-file', '/p', 'c1', 'sh', '-c', 'echo --not-ours -e x'],
  ['exec', '--user', '1000:1000', '-g', '5', '--cap', 'CAP_KILL', 'c1', 'ls', '-l'],
  ['exec', '--process', '/p.json', '-d', 'c1'],
  ['--debug', 'spec', '--bundle', '/b'],
  ['features'],
  ['validate', '/b/config.json'],
  ['ps', '--format', 'json', 'c1'],
  ['ps', 'c1', '-ef'],
  ['pause', 'c1'],
  ['resume', 'c1'],
  ['events', '--stats', 'c1'],
  ['update', '--memory', '64M', '--pids-limit', '10', 'c1'],
  ['update', '--resources', '-', 'c1'],
];

for (const argv of SAME) {
  test(`same as yargs: ${argv.join(' ')}`, async () => {
    const fast = fastParse(normalizeArgv(argv), commands);
    assert.ok(fast, 'the fast path declined');
    const slow = await viaYargs(argv);
    const keys = new Set([...Object.keys(fast.args), ...Object.keys(slow)].filter((k) => k !== '_' && k !== '$0'));
    for (const key of keys) assert.equal(fast.args[key], slow[key], `${key}: fast ${JSON.stringify(fast.args[key])}, yargs ${JSON.stringify(slow[key])}`);
  });
}

const DECLINED: string[][] = [
  ['--help'],
  ['state', '--help'],
  ['-v'],
  ['--version'],
  [],
  ['frobnicate', 'c1'],
  ['state'],
  ['state', 'c1', 'extra'],
  ['kill', '--bogus', 'c1'],
  ['list', '--format', 'yaml'],
  ['create', '--preserve-fds', 'many', 'c1'],
  ['delete', '--force', 'true', 'c1'],
  ['create', '--bundle'],
];

for (const argv of DECLINED) {
  test(`left to yargs: ${argv.join(' ') || '(nothing)'}`, () => {
    assert.is(fastParse(normalizeArgv(argv), commands), undefined);
  });
}

test.run();
