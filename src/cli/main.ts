/**
 * runts' command line: runc's commands, flags and exit codes, so that
 * containerd, Docker and podman can use runts as their --runtime.
 * This file only parses; each command's work lives in src/container and is
 * imported when that command runs, so no command pays for another's code.
 */
import yargs from 'yargs';
import { errorMessage } from '../errors';
import { SPEC_VERSION } from '../spec/version';
import { commands } from './commands/index';
import type { GlobalArgs } from './global';
import { configureLog, fatal } from './log';

declare const RUNTS_VERSION: string; // injected by the build (scripts/build.mjs)

export async function main(argv: string[]): Promise<void> {
  const cli = yargs(argv)
    .scriptName('runts')
    .usage('runts [global options] command [command options] [arguments...]\n\nAn OCI container runtime in TypeScript, with runc\'s command line.')
    .parserConfiguration({
      // Go's flag package (runc) reads "-bundle" as "--bundle"; so do we.
      'short-option-groups': false,
      'boolean-negation': false,
      'strip-aliased': true,
    })
    .option('root', { type: 'string', default: '/run/runts', describe: 'root directory for storage of container state' })
    .option('log', { type: 'string', describe: 'set the log file to write runts logs to (default is stderr)' })
    .option('log-format', { choices: ['text', 'json'] as const, default: 'text' as const, describe: 'set the log format' })
    .option('debug', { type: 'boolean', default: false, describe: 'enable debug logging' })
    .option('systemd-cgroup', { type: 'boolean', default: false, describe: 'enable systemd cgroup support (not supported yet: refused)' })
    .option('rootless', { type: 'string', describe: 'ignore cgroup permission errors (true, false, auto)' })
    .option('criu', { type: 'string', describe: 'accepted for runc compatibility; ignored' })
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
  for (const command of commands) cli.command(command as never);
  await cli.parseAsync();
}

export type { GlobalArgs };
