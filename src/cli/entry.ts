/** The CLI bundle's entry point, with every command (bin/runts loads the bundle built from it). */
import { HANDLERS } from './commands/index';
import { cli } from './cli';

cli(HANDLERS);
