/**
 * The command line's one option table: runc's global flags and, per command,
 * its positionals and flags. yargs is configured from it (main.ts), the fast
 * path parses with it (fast-path.ts), and the words are normalized with it
 * before either reads them (normalize.ts).
 *
 * runc's syntax (Go's flag package, through urfave/cli), which all three keep:
 * - a long name may take one dash: `-root /x` is `--root /x` (flagKey);
 * - a flag takes one value per use: `-e A -e B` for two, never `-e A B`;
 * - a boolean flag takes no value of its own, but may be written `--force=true`;
 * - a flag marked `readsStdin` takes "-" for the standard input (update -r -);
 * - for a command marked `trailing`, the words after the container id are
 *   the command's own (`exec ID sh -c …`, `ps ID -ef`), flags or not.
 * Yargs adds --help/-h and --version/-v; they are not in the table.
 */

export interface OptionSpec {
  /** A string or a number takes a value; a boolean does not. */
  type: 'string' | 'number' | 'boolean';
  /** runc's one-letter name, if it has one. */
  alias?: string;
  describe?: string;
  default?: string | number | boolean | readonly never[];
  /** Each use adds a value (`--env A --env B`). */
  array?: boolean;
  choices?: readonly string[];
  /** Accepted but not listed in --help. */
  hidden?: boolean;
  /** "-" is its value (the standard input), not a positional. */
  readsStdin?: boolean;
}

export interface PositionalSpec {
  name: string;
  required?: boolean;
  /** Takes every remaining word (`[command..]`). */
  variadic?: boolean;
  default?: string;
  describe?: string;
}

export interface CommandSpec {
  aliases?: readonly string[];
  describe: string;
  positionals: readonly PositionalSpec[];
  options: Readonly<Record<string, OptionSpec>>;
  /** The words after the container id are the command's own. */
  trailing?: boolean;
}

export const GLOBAL_OPTIONS: Readonly<Record<string, OptionSpec>> = {
  root: { type: 'string', default: '/run/runts', describe: 'root directory for storage of container state' },
  log: { type: 'string', describe: 'set the log file to write runts logs to (default is stderr)' },
  'log-format': { type: 'string', choices: ['text', 'json'], default: 'text', describe: 'set the log format' },
  debug: { type: 'boolean', default: false, describe: 'enable debug logging' },
  'systemd-cgroup': {
    type: 'boolean',
    default: false,
    describe:
      'enable systemd cgroup support, expects cgroupsPath to be of form "slice:prefix:name" for e.g. "system.slice:runts:434234"',
  },
  rootless: { type: 'string', describe: 'ignore cgroup permission errors (true, false, auto)' },
  criu: { type: 'string', describe: 'accepted for runc compatibility; ignored' },
};

const CONTAINER_ID: PositionalSpec = { name: 'container-id', required: true };

const FORMAT: OptionSpec = {
  type: 'string',
  alias: 'f',
  choices: ['table', 'json'],
  default: 'table',
  describe: 'select one of: table or json',
};

/** The flags create and run share. */
const CREATE_OPTIONS: Readonly<Record<string, OptionSpec>> = {
  bundle: { type: 'string', alias: 'b', default: '.', describe: 'path to the root of the bundle directory' },
  'pid-file': { type: 'string', describe: 'file to write the process id to' },
  'console-socket': { type: 'string', describe: 'path to an AF_UNIX socket which will receive the pty master fd' },
  'pidfd-socket': { type: 'string', describe: "path to an AF_UNIX socket which will receive the container init's pidfd" },
  'no-pivot': { type: 'boolean', default: false, describe: 'do not use pivot root to jail process inside rootfs' },
  'no-new-keyring': { type: 'boolean', default: false, describe: 'do not create a new session keyring for the container' },
  'preserve-fds': {
    type: 'number',
    default: 0,
    describe: 'pass N additional file descriptors to the container (stdio + $LISTEN_FDS + N in total)',
  },
};

/** update's flags that each set one member of linux.resources (commands/update.ts reads them). */
export const UPDATE_RESOURCE_OPTIONS = {
  'blkio-weight': { type: 'string', describe: 'Specifies per cgroup weight, range is from 10 to 1000' },
  'cpu-period': { type: 'string', describe: 'CPU CFS period to be used for hardcapping (in usecs). 0 to use system default' },
  'cpu-quota': { type: 'string', describe: 'CPU CFS hardcap limit (in usecs). Allowed cpu time in a given period' },
  'cpu-burst': {
    type: 'string',
    describe: 'CPU CFS hardcap burst limit (in usecs). Allowed accumulated cpu time additionally for burst a given period',
  },
  'cpu-share': { type: 'string', describe: 'CPU shares (relative weight vs. other containers)' },
  'cpu-rt-period': {
    type: 'string',
    describe: 'CPU realtime period to be used for hardcapping (in usecs). 0 to use system default',
  },
  'cpu-rt-runtime': { type: 'string', describe: 'CPU realtime hardcap limit (in usecs). Allowed cpu time in a given period' },
  'cpu-idle': { type: 'string', describe: 'set cgroup SCHED_IDLE or not, 0: default behavior, 1: SCHED_IDLE' },
  'cpuset-cpus': { type: 'string', describe: 'CPU(s) to use' },
  'cpuset-mems': { type: 'string', describe: 'Memory node(s) to use' },
  memory: { type: 'string', describe: 'Memory limit (in bytes)' },
  'memory-reservation': { type: 'string', describe: 'Memory reservation or soft_limit (in bytes)' },
  'memory-swap': { type: 'string', describe: "Total memory usage (memory + swap); set '-1' to enable unlimited swap" },
  'pids-limit': { type: 'string', describe: 'Maximum number of pids allowed in the container' },
} satisfies Record<string, OptionSpec>;

/** Accepted and ignored, as by runc: kernel memory limits are gone from the kernel. */
export const UPDATE_OBSOLETE_OPTIONS: Readonly<Record<string, OptionSpec>> = {
  'kernel-memory': { type: 'string', hidden: true },
  'kernel-memory-tcp': { type: 'string', hidden: true },
};

/** Intel RDT, which runts does not do: refused. */
export const UPDATE_REFUSED_OPTIONS: Readonly<Record<string, OptionSpec>> = {
  'l3-cache-schema': { type: 'string', describe: 'Intel RDT schema (not supported: refused)' },
  'mem-bw-schema': { type: 'string', describe: 'Intel RDT schema (not supported: refused)' },
};

const TABLE = {
  create: {
    describe: 'create a container',
    positionals: [CONTAINER_ID],
    options: CREATE_OPTIONS,
  },
  delete: {
    aliases: ['rm'],
    describe: 'delete any resources held by the container often used with detached container',
    positionals: [CONTAINER_ID],
    options: {
      force: {
        type: 'boolean',
        alias: 'f',
        default: false,
        describe: 'forcibly deletes the container if it is still running (uses SIGKILL)',
      },
    },
  },
  events: {
    describe: 'display container events such as OOM notifications, cpu, memory, and IO usage statistics',
    positionals: [CONTAINER_ID],
    options: {
      interval: { type: 'string', default: '5s', describe: 'set the stats collection interval' },
      stats: { type: 'boolean', default: false, describe: "display the container's stats then exit" },
    },
  },
  exec: {
    describe: 'execute new process inside the container',
    positionals: [CONTAINER_ID, { name: 'command', variadic: true }],
    trailing: true,
    options: {
      'console-socket': { type: 'string', describe: 'path to an AF_UNIX socket which will receive the pty master fd' },
      'pidfd-socket': { type: 'string', describe: "path to an AF_UNIX socket which will receive the process's pidfd" },
      cwd: { type: 'string', describe: 'current working directory in the container' },
      env: { type: 'string', alias: 'e', array: true, default: [], describe: 'set environment variables' },
      tty: { type: 'boolean', alias: 't', default: false, describe: 'allocate a pseudo-TTY' },
      user: { type: 'string', alias: 'u', describe: 'UID (format: <uid>[:<gid>])' },
      'additional-gids': { type: 'number', alias: 'g', array: true, default: [], describe: 'additional gids' },
      process: { type: 'string', alias: 'p', describe: 'path to the process.json' },
      detach: { type: 'boolean', alias: 'd', default: false, describe: "detach from the container's process" },
      'pid-file': { type: 'string', describe: 'specify the file to write the process id to' },
      'process-label': { type: 'string', describe: 'set the asm process label for the process commonly used with selinux' },
      apparmor: { type: 'string', describe: 'set the apparmor profile for the process' },
      'no-new-privs': { type: 'boolean', default: false, describe: 'set the no new privileges value for the process' },
      cap: {
        type: 'string',
        alias: 'c',
        array: true,
        default: [],
        describe: 'add a capability to the bounding set for the process',
      },
      'preserve-fds': { type: 'number', default: 0, describe: 'pass N additional file descriptors to the container' },
      cgroup: { type: 'string', describe: "accepted for runc compatibility: the process joins the container's cgroup" },
      'ignore-paused': { type: 'boolean', default: false, describe: 'allow exec in a paused container' },
    },
  },
  features: {
    describe: 'show the enabled features (the runtime-spec features document)',
    positionals: [],
    options: {},
  },
  kill: {
    describe: "kill sends the specified signal (default: SIGTERM) to the container's init process",
    positionals: [CONTAINER_ID, { name: 'signal', default: 'SIGTERM' }],
    options: {
      all: {
        type: 'boolean',
        alias: 'a',
        default: false,
        describe: 'send the specified signal to all processes inside the container',
      },
    },
  },
  list: {
    aliases: ['ls'],
    describe: 'lists containers started by runts with the given root',
    positionals: [],
    options: {
      format: FORMAT,
      quiet: { type: 'boolean', alias: 'q', default: false, describe: 'display only container IDs' },
    },
  },
  pause: {
    describe: 'pause suspends all processes inside the container',
    positionals: [CONTAINER_ID],
    options: {},
  },
  ps: {
    describe: 'ps displays the processes running inside a container (words after the id go to ps, default -ef)',
    positionals: [CONTAINER_ID],
    trailing: true,
    options: { format: FORMAT },
  },
  resume: {
    describe: 'resumes all processes that have been previously paused',
    positionals: [CONTAINER_ID],
    options: {},
  },
  run: {
    describe: 'create and run a container',
    positionals: [CONTAINER_ID],
    options: {
      ...CREATE_OPTIONS,
      detach: { type: 'boolean', alias: 'd', default: false, describe: "detach from the container's process" },
      keep: { type: 'boolean', default: false, describe: 'do not delete the container after it exits' },
      'no-subreaper': {
        type: 'boolean',
        default: false,
        describe: 'accepted for runc compatibility: runts never makes itself a subreaper',
      },
    },
  },
  spec: {
    describe: 'create a new specification file (config.json)',
    positionals: [],
    options: {
      bundle: { type: 'string', alias: 'b', default: '', describe: 'path to the root of the bundle directory' },
    },
  },
  start: {
    describe: 'executes the user defined process in a created container',
    positionals: [CONTAINER_ID],
    options: {},
  },
  state: {
    describe: 'output the state of a container',
    positionals: [CONTAINER_ID],
    options: {},
  },
  update: {
    describe: 'update container resource constraints',
    positionals: [CONTAINER_ID],
    options: {
      resources: {
        type: 'string',
        alias: 'r',
        readsStdin: true,
        describe:
          "path to the file containing the resources to update (JSON, as linux.resources), or '-' to read from the standard input; all other options are then ignored",
      },
      ...UPDATE_RESOURCE_OPTIONS,
      ...UPDATE_OBSOLETE_OPTIONS,
      ...UPDATE_REFUSED_OPTIONS,
    },
  },
  validate: {
    describe:
      'check a config.json against the official runtime-spec schema (exit 1 if invalid) and warn about what runts cannot run',
    positionals: [{ name: 'file', describe: "a config.json (default: the bundle's)" }],
    options: {
      bundle: { type: 'string', alias: 'b', describe: 'path to the root of the bundle directory' },
    },
  },
} satisfies Record<string, CommandSpec>;

export type CommandName = keyof typeof TABLE;

/** Every command, in the order `runts --help` lists them. */
export const COMMANDS: Readonly<Record<CommandName, CommandSpec>> = TABLE;

/** The command a word names (its name or an alias). */
export function findCommand(word: string): CommandName | undefined {
  for (const [name, spec] of Object.entries(COMMANDS) as [CommandName, CommandSpec][]) {
    if (name === word || spec.aliases?.includes(word)) return name;
  }
  return undefined;
}

/** A flag, not a positional: "-" (the standard input) and negative numbers are positionals. */
export const isFlag = (word: string): boolean => word.startsWith('-') && word !== '-' && !/^-\d/.test(word);

/** The name a flag word gives, without its dashes (one or two) and its "=value". */
export function flagKey(word: string): string {
  const eq = word.indexOf('=');
  return word.slice(word.startsWith('--') ? 2 : 1, eq < 0 ? undefined : eq);
}

/** The option a flag's name or alias means: the command's own first, then the global ones. */
export function findOption(key: string, command?: CommandName): [string, OptionSpec] | undefined {
  const tables: Readonly<Record<string, OptionSpec>>[] = command ? [COMMANDS[command].options, GLOBAL_OPTIONS] : [GLOBAL_OPTIONS];
  for (const table of tables) {
    for (const [name, option] of Object.entries(table)) if (name === key || option.alias === key) return [name, option];
  }
  return undefined;
}

/** The key under which both parsers hand a flag's value to the handler (besides its own name): --pid-file is pidFile. */
export const camel = (name: string): string => name.replace(/-(\w)/g, (_, c: string) => c.toUpperCase());

export const takesValue = (option: OptionSpec): boolean => option.type !== 'boolean';
