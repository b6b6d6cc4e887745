// The option table (src/cli/options.ts) drives both parsers and the
// normalizing of the words: what the fast path parses, it parses exactly as
// yargs does, and hands the rest (help, version, mistakes, ambiguous words)
// to yargs. The table holds every flag runc documents.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { HANDLERS, type Handler } from '../../src/cli/commands/index';
import { fastParse } from '../../src/cli/fast-path';
import { main } from '../../src/cli/main';
import { normalizeArgv } from '../../src/cli/normalize';
import { camel, COMMANDS, type CommandName, findOption, GLOBAL_OPTIONS, type OptionSpec } from '../../src/cli/options';

const test = suite('options');

/** What yargs hands the command's handler for these words (handlers replaced by a recorder). */
async function viaYargs(argv: string[]): Promise<Record<string, unknown>> {
  let seen: Record<string, unknown> | undefined;
  const record: Handler = async (args: never) => void (seen = args);
  const recording = Object.fromEntries(Object.keys(HANDLERS).map((name) => [name, record])) as Record<CommandName, Handler>;
  await main(argv, recording);
  if (!seen) throw new Error(`yargs ran no handler for ${argv.join(' ')}`);
  return seen;
}

async function assertSameAsYargs(argv: string[]): Promise<Record<string, unknown>> {
  const fast = fastParse(normalizeArgv(argv));
  assert.ok(fast, `the fast path declined ${argv.join(' ')}`);
  const slow = await viaYargs(argv);
  const keys = new Set([...Object.keys(fast.args), ...Object.keys(slow)].filter((k) => k !== '_' && k !== '$0'));
  for (const key of keys)
    assert.equal(
      fast.args[key],
      slow[key],
      `${argv.join(' ')}: ${key}: fast ${JSON.stringify(fast.args[key])}, yargs ${JSON.stringify(slow[key])}`,
    );
  return fast.args;
}

const SAME: string[][] = [
  ['state', 'c1'],
  ['--root', '/run/x', '--log', '/dev/null', '--log-format', 'json', 'state', 'c1'],
  ['-root', '/run/x', '-log-format=json', 'state', 'c1'],
  ['--root=/run/x', 'kill', 'c1', 'KILL'],
  ['kill', '--all', 'c1'],
  ['kill', '-a', 'c1', '9'],
  ['delete', '--force', 'c1'],
  ['delete', '--force=true', 'c1'],
  ['rm', '-f', 'c1'],
  ['start', 'c1'],
  ['create', '--bundle', '/b', '--pid-file', '/p', '--console-socket', '/s', '--no-pivot', '--no-new-keyring', 'c1'],
  ['create', '-b', '/b', '--preserve-fds', '2', 'c1'],
  ['create', '-bundle', '/b', 'c1'],
  ['run', '-d', '--keep', '-b', '/b', 'c1'],
  ['run', '--no-subreaper', 'c1'],
  ['list', '-f', 'json'],
  ['ls', '--quiet'],
  ['exec', '-e', 'A=1', '--env', 'B=2', '-t', '--detach', '--pid-file', '/p', 'c1', 'sh', '-c', 'echo --not-ours -e x'],
  ['exec', '--user', '1000:1000', '-g', '5', '--cap', 'CAP_KILL', 'c1', 'ls', '-l'],
  ['exec', '--process', '/p.json', '-d', 'c1'],
  ['exec', 'c1', '--', 'ls', '-l'],
  ['--debug', 'spec', '--bundle', '/b'],
  ['features'],
  ['validate', '/b/config.json'],
  ['validate', '-b', '/b'],
  ['ps', '--format', 'json', 'c1'],
  ['ps', 'c1', '-ef'],
  ['pause', 'c1'],
  ['resume', 'c1'],
  ['events', '--stats', 'c1'],
  ['events', '--interval', '1s', 'c1'],
  ['update', '--memory', '64M', '--pids-limit', '10', 'c1'],
  ['update', '--resources', '-', 'c1'],
  ['update', '-r', '-', 'c1'],
];

for (const argv of SAME) test(`same as yargs: ${argv.join(' ')}`, () => assertSameAsYargs(argv).then(() => undefined));

/** A value of the option's type, as a word (a string one names a path that --log may open). */
const sample = (option: OptionSpec): string =>
  option.choices?.[option.choices.length - 1] ?? (option.type === 'number' ? '3' : '/dev/null');

/** The words a command needs besides its flags. */
const required = (command: CommandName): string[] => COMMANDS[command].positionals.filter((p) => p.required).map(() => 'c1');

// Every flag of the table, under each name it has, reaches the handler with its value through both parsers.
for (const command of Object.keys(COMMANDS) as CommandName[]) {
  const options = { ...GLOBAL_OPTIONS, ...COMMANDS[command].options };
  for (const [name, option] of Object.entries(options)) {
    for (const word of [`--${name}`, `-${name}`, ...(option.alias ? [`-${option.alias}`] : [])]) {
      test(`from the table: ${command} ${word}`, async () => {
        const value = option.type === 'boolean' ? [] : [sample(option)];
        const args = await assertSameAsYargs([command, word, ...value, ...required(command)]);
        const expected = option.type === 'boolean' ? true : option.type === 'number' ? Number(value[0]) : value[0];
        assert.equal(args[camel(name)], option.array ? [expected] : expected);
      });
    }
  }
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
  ['create', '--pid-file', '/p', '--pid-file', '/q', 'c1'],
];

for (const argv of DECLINED) {
  test(`left to yargs: ${argv.join(' ') || '(nothing)'}`, () => {
    assert.is(fastParse(normalizeArgv(argv)), undefined);
  });
}

const NORMALIZED: [string[], string[]][] = [
  [
    ['exec', '-e', 'A', 'c1', 'sh', '-c', 'x'],
    ['exec', '-e', 'A', 'c1', '--', 'sh', '-c', 'x'],
  ],
  [
    ['exec', '--tty', 'c1', 'ls'],
    ['exec', '--tty', 'c1', '--', 'ls'],
  ],
  [
    ['exec', '--env=A', 'c1', 'ls'],
    ['exec', '--env=A', 'c1', '--', 'ls'],
  ],
  [
    ['--root', '/r', 'exec', '-u', '0', 'c1', 'ls'],
    ['--root', '/r', 'exec', '-u', '0', 'c1', '--', 'ls'],
  ],
  [
    ['-log', '/l', 'ps', '-f', 'table', 'c1', '-ef'],
    ['-log', '/l', 'ps', '-f', 'table', 'c1', '--', '-ef'],
  ],
  [
    ['exec', 'c1', '--', 'ls'],
    ['exec', 'c1', '--', 'ls'],
  ],
  [
    ['exec', 'c1'],
    ['exec', 'c1'],
  ],
  [
    ['kill', 'c1', 'KILL'],
    ['kill', 'c1', 'KILL'],
  ],
  [
    ['update', '-r', '-', 'c1'],
    ['update', '-r=-', 'c1'],
  ],
  [
    ['update', '-resources', '-', 'c1'],
    ['update', '-resources=-', 'c1'],
  ],
  [
    ['exec', 'c1', 'cat', '-r', '-'],
    ['exec', 'c1', '--', 'cat', '-r', '-'],
  ],
  [
    ['update', 'c1', '--', '-r', '-'],
    ['update', 'c1', '--', '-r', '-'],
  ],
];

for (const [argv, words] of NORMALIZED) {
  test(`normalized: ${argv.join(' ')}`, () => assert.equal(normalizeArgv(argv), words));
}

/**
 * The flags `runc --help` and `runc COMMAND --help` list (runc 1.1.5), but
 * --help/-h and --version/-v, which yargs adds, and `spec --rootless`: yargs
 * has one option per name, and the global --rootless VALUE holds that one
 * (a boolean of the same name under spec reads false whatever is given).
 * runts has more (validate, update --cpu-burst and --cpu-idle, ...).
 */
const RUNC_FLAGS: Readonly<Record<CommandName | '', readonly string[]>> = {
  '': ['--debug', '--log', '--log-format', '--root', '--criu', '--systemd-cgroup', '--rootless'],
  create: ['--bundle', '-b', '--console-socket', '--pid-file', '--no-pivot', '--no-new-keyring', '--preserve-fds'],
  start: [],
  run: [
    '--bundle',
    '-b',
    '--console-socket',
    '--detach',
    '-d',
    '--keep',
    '--pid-file',
    '--no-subreaper',
    '--no-pivot',
    '--no-new-keyring',
    '--preserve-fds',
  ],
  exec: [
    '--console-socket',
    '--cwd',
    '--env',
    '-e',
    '--tty',
    '-t',
    '--user',
    '-u',
    '--additional-gids',
    '-g',
    '--process',
    '-p',
    '--detach',
    '-d',
    '--pid-file',
    '--process-label',
    '--apparmor',
    '--no-new-privs',
    '--cap',
    '-c',
    '--preserve-fds',
    '--cgroup',
    '--ignore-paused',
  ],
  kill: ['--all', '-a'],
  delete: ['--force', '-f'],
  state: [],
  list: ['--format', '-f', '--quiet', '-q'],
  ps: ['--format', '-f'],
  pause: [],
  resume: [],
  update: [
    '--resources',
    '-r',
    '--blkio-weight',
    '--cpu-period',
    '--cpu-quota',
    '--cpu-share',
    '--cpu-rt-period',
    '--cpu-rt-runtime',
    '--cpuset-cpus',
    '--cpuset-mems',
    '--memory',
    '--memory-reservation',
    '--memory-swap',
    '--pids-limit',
    '--l3-cache-schema',
    '--mem-bw-schema',
  ],
  events: ['--interval', '--stats'],
  features: [],
  spec: ['--bundle', '-b'],
  validate: [], // runts' own
};

for (const [command, flags] of Object.entries(RUNC_FLAGS)) {
  test(`runc's flags are in the table: ${command || 'global'}`, () => {
    const table = command ? COMMANDS[command as CommandName].options : GLOBAL_OPTIONS;
    for (const flag of flags) {
      const key = flag.replace(/^--?/, '');
      const found = Object.entries(table).some(([name, option]) => (flag.startsWith('--') ? name === key : option.alias === key));
      assert.ok(found, `${command || 'global'}: ${flag} is not in the table`);
      if (command) assert.ok(findOption(key, command as CommandName), `${command}: ${flag} is not found`);
    }
  });
}

test("every command of the table has a handler, and runc's commands are all there", () => {
  assert.equal(Object.keys(HANDLERS).sort(), Object.keys(COMMANDS).sort());
  for (const command of Object.keys(RUNC_FLAGS).filter(Boolean)) assert.ok(command in COMMANDS, `${command} is missing`);
});

test.run();
