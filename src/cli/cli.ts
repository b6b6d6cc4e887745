/**
 * What both CLI bundles run (bin/runts loads one of them): the words read
 * by the fast path, then the command's handler, or yargs for anything out
 * of the ordinary. entry.ts has every command; short.ts only state, kill,
 * delete and start, so that those read and compile a fraction of the code.
 */
import { errorMessage, RuntsError } from '../errors';
import type { Handler } from './commands/handler';
import { fastParse } from './fast-path';
import { configureLog, fatal, log } from '../log';
import { normalizeArgv } from './normalize';
import type { CommandName } from './options';
import { mark, markStart } from '../profile';

/**
 * Commands that leave nothing to do once their handler returns: their
 * output and log lines are written synchronously (output.ts, log.ts), their
 * children reaped or let go. They exit there and then: node's own end (its
 * environment and heap torn down) costs some 5 ms more. process.exit still
 * emits 'exit' (bin/runts writes its code cache then, at build time).
 */
const EXIT_WHEN_DONE: ReadonlySet<CommandName> = new Set(['create', 'run', 'start', 'state', 'kill', 'delete']);

/**
 * Runs the command line with these handlers. A command that has none here
 * goes to elsewhere() before anything is configured: the full CLI then
 * starts afresh (short.ts hands over to entry.ts so).
 */
export function cli(handlers: Partial<Record<CommandName, Handler>>, elsewhere?: () => void): void {
  run(process.argv.slice(2), handlers, elsewhere).catch((err: unknown) => {
    // Expected failures read as sentences; anything else keeps its stack for --debug.
    if (!(err instanceof RuntsError) && err instanceof Error) log.debug(err.stack ?? err.message);
    fatal(errorMessage(err));
  });
}

async function run(
  argv: string[],
  handlers: Partial<Record<CommandName, Handler>>,
  elsewhere: (() => void) | undefined,
): Promise<void> {
  const fast = fastParse(normalizeArgv(argv));
  const handler = fast && handlers[fast.command];
  if (fast && !handler) return elsewhere!();
  markStart('cli');
  if (!fast || !handler) {
    // yargs, for help, version and every mistake (loaded only then; a plain
    // require: bin/runts runs the bundle as a script with no ESM loader).
    const { main } = require('./main') as typeof import('./main');
    return main(argv);
  }
  const { args } = fast;
  configureLog({
    log: args.log as string | undefined,
    logFormat: args.logFormat as 'text' | 'json',
    debug: args.debug as boolean,
  });
  await handler(args as never);
  mark('done');
  if (!EXIT_WHEN_DONE.has(fast.command)) return;
  // create and run have libc loaded already: _exit, after the 'exit'
  // listeners, also skips node's last steps (its threads joined, atexit).
  if (fast.command === 'create' || fast.command === 'run') process.once('exit', exitNow);
  process.exit();
}

/**
 * _exit, unless node has fds 0-2 to put back as it found them (its atexit
 * does): libuv makes a pipe or terminal it streams non-blocking (run's
 * terminal relay does), and the caller's shell shares that file.
 */
function exitNow(code: number): void {
  // (Required here: the short commands' bundle has no use for libc's code.)
  const { F_GETFL, O_NONBLOCK } = require('../sys/constants') as typeof import('../sys/constants');
  const s = (require('../sys/index') as typeof import('../sys/index')).sys();
  const nonBlocking = (fd: number) => {
    try {
      return (s.fcntl(fd, F_GETFL, 0) & O_NONBLOCK) !== 0;
    } catch {
      return false; // closed: nothing to put back
    }
  };
  if ([0, 1, 2].some(nonBlocking)) return;
  s.exitNow(code);
}
