/**
 * runts' command line: runc's commands, flags and exit codes, so that
 * containerd, Docker and podman can use runts as their --runtime.
 * This file only parses; each command's work lives in src/container and is
 * imported when that command runs, so no command pays for another's code.
 * yargs itself is loaded only when the fast path (fast-path.ts) declines:
 * for --help, --version, and every mistake, whose messages are yargs'.
 */
import yargs, { type CommandModule } from 'yargs';
import { errorMessage } from '../errors';
import { configureLog, fatal, logOptionsFromArgv } from '../log';
import { SPEC_VERSION } from '../spec/version';
import { commands } from './commands/index';
import { GLOBAL_OPTIONS, type GlobalArgs } from './global';
import { normalizeArgv } from './normalize';

declare const RUNTS_VERSION: string; // injected by the build (scripts/build.mjs)

export async function main(argv: string[], commandList: readonly CommandModule<any, any>[] = commands): Promise<void> {
  configureLog(logOptionsFromArgv(argv));
  const cli = yargs(normalizeArgv(argv))
    .scriptName('runts')
    .usage('runts [global options] command [command options] [arguments...]\n\nAn OCI container runtime in TypeScript, with runc\'s command line.')
    .parserConfiguration({
      // Go's flag package (runc) reads "-bundle" as "--bundle"; so do we.
      'short-option-groups': false,
      'boolean-negation': false,
      'strip-aliased': true,
      // Words after the container id (exec, ps) are the command's, as typed.
      'parse-positional-numbers': false,
      'populate--': true,
      // One value per flag, as with runc: `-e A ID` is not two values of -e.
      'greedy-arrays': false,
    })
    .options(GLOBAL_OPTIONS)
    .middleware((args) => configureLog({ log: args.log, logFormat: args.logFormat, debug: args.debug }))
    .version(`runts version ${RUNTS_VERSION}\nspec: ${SPEC_VERSION}`)
    .alias('version', 'v')
    .help()
    .alias('help', 'h')
    .strict()
    .demandCommand(1, 'a command is required: see runts --help')
    .recommendCommands()
    .wrap(Math.min(100, process.stdout.columns || 100))
    .fail((msg, err) => {
      fatal(err ? errorMessage(err) : msg);
    });
  for (const command of commandList) cli.command(command as never);
  // Errors end here, logged by this module's log (configured by the middleware above).
  await cli.parseAsync().catch((err: unknown) => fatal(errorMessage(err)));
}

export type { GlobalArgs };
