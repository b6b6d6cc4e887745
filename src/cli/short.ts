/**
 * The entry point of the short commands' bundle (dist/short.cjs): state,
 * kill, delete and start, which bin/runts loads for them instead of the
 * whole CLI. Most of their time is node's start-up; the rest was mostly
 * reading and compiling (or deserializing) the code of every other command.
 * Any other command (bin/runts guesses the command word without parsing)
 * goes to the whole CLI (dist/runts.cjs, from entry.ts), before anything
 * here is configured: the two bundles never share a module's state.
 */
import { SHORT_HANDLERS } from './commands/short';
import { cli } from './cli';

cli(SHORT_HANDLERS, () => require('./entry'));
