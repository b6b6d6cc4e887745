/** The CLI bundle's entry point (bin/runts loads the bundle built from it). */
import { errorMessage, RuntsError } from '../errors';
import { fatal, log } from './log';
import { main } from './main';

main(process.argv.slice(2)).catch((err: unknown) => {
  // Expected failures read as sentences; anything else keeps its stack for --debug.
  if (!(err instanceof RuntsError) && err instanceof Error) log.debug(err.stack ?? err.message);
  fatal(errorMessage(err));
});
