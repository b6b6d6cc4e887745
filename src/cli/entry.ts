/** The CLI bundle's entry point (bin/runts loads the bundle built from it). */
import { errorMessage, RuntsError } from '../errors';
import { HANDLERS } from './commands/index';
import { fastParse } from './fast-path';
import { configureLog, fatal, log } from '../log';
import { normalizeArgv } from './normalize';
import { mark, markStart } from '../profile';

async function run(argv: string[]): Promise<void> {
  markStart('cli');
  const fast = fastParse(normalizeArgv(argv));
  if (!fast) {
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
  await HANDLERS[fast.command](args as never);
  mark('done');
}

run(process.argv.slice(2)).catch((err: unknown) => {
  // Expected failures read as sentences; anything else keeps its stack for --debug.
  if (!(err instanceof RuntsError) && err instanceof Error) log.debug(err.stack ?? err.message);
  fatal(errorMessage(err));
});
