/**
 * runts' command line: runc's commands, flags and exit codes, so that
 * containerd, Docker and podman can use runts as their --runtime.
 * This file only parses, with yargs configured from the option table
 * (options.ts); each command's work lives in src/container and is imported
 * when that command runs, so no command pays for another's code.
 * yargs itself is loaded only when the fast path (fast-path.ts) declines:
 * for --help, --version, and every mistake, whose messages are yargs'.
 */
import yargs, { type Argv, type CommandModule, type Options, type PositionalOptions } from 'yargs';
import { errorMessage } from '../errors';
import { SPEC_VERSION, schemaDescription } from '../spec/version';
import { type Handler, HANDLERS } from './commands/index';
import { configureLog, fatal, type LogOptions } from '../log';
import { normalizeArgv } from './normalize';
import {
  COMMANDS,
  type CommandName,
  type CommandSpec,
  findOption,
  flagKey,
  GLOBAL_OPTIONS,
  isFlag,
  type OptionSpec,
  type PositionalSpec,
  takesValue,
} from './options';

declare const RUNTS_VERSION: string; // injected by the build (scripts/build.mjs)

/** A table entry as a yargs option. */
function yargsOption(option: OptionSpec): Options {
  const { readsStdin: _handledByNormalize, ...rest } = option;
  return rest;
}

function yargsPositional(positional: PositionalSpec): PositionalOptions {
  return {
    type: 'string',
    ...(positional.required && { demandOption: true }),
    ...(positional.variadic && { array: true, default: [] }),
    ...(positional.default !== undefined && { default: positional.default }),
    ...(positional.describe !== undefined && { describe: positional.describe }),
  };
}

const usageWord = (p: PositionalSpec): string => (p.required ? `<${p.name}>` : p.variadic ? `[${p.name}..]` : `[${p.name}]`);

function yargsCommand(name: CommandName, spec: CommandSpec, handler: Handler): CommandModule {
  return {
    command: [name, ...spec.positionals.map(usageWord)].join(' '),
    aliases: spec.aliases,
    describe: spec.describe,
    builder: (y: Argv) => {
      for (const positional of spec.positionals) y.positional(positional.name, yargsPositional(positional));
      for (const [flag, option] of Object.entries(spec.options)) y.option(flag, yargsOption(option));
      return y;
    },
    handler: (argv) => handler(argv as never),
  };
}

/**
 * The log flags, read from the words before yargs parses them: the errors
 * yargs reports before its middleware runs (an unknown command, a bad flag)
 * must reach --log in --log-format too.
 */
function logOptionsFromWords(words: readonly string[]): LogOptions {
  const given = new Map<string, string | true>();
  for (let i = 0; i < words.length; i++) {
    const word = words[i]!;
    if (word === '--') break;
    const found = isFlag(word) ? findOption(flagKey(word)) : undefined;
    if (!found) continue;
    const eq = word.indexOf('=');
    given.set(found[0], eq >= 0 ? word.slice(eq + 1) : takesValue(found[1]) ? (words[++i] ?? '') : true);
  }
  const value = (name: string) => {
    const v = given.get(name);
    return typeof v === 'string' ? v : undefined;
  };
  return {
    log: value('log'),
    logFormat: value('log-format') === 'json' ? 'json' : 'text',
    debug: given.get('debug') === true || value('debug') === 'true',
  };
}

export async function main(argv: string[], handlers: Readonly<Record<CommandName, Handler>> = HANDLERS): Promise<void> {
  const words = normalizeArgv(argv);
  configureLog(logOptionsFromWords(words));
  const cli = yargs(words)
    .scriptName('runts')
    .usage(
      "runts [global options] command [command options] [arguments...]\n\nAn OCI container runtime in TypeScript, with runc's command line.",
    )
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
    .options(Object.fromEntries(Object.entries(GLOBAL_OPTIONS).map(([flag, option]) => [flag, yargsOption(option)])))
    .middleware((args) =>
      configureLog({
        log: args.log as string | undefined,
        logFormat: args.logFormat as 'text' | 'json',
        debug: args.debug as boolean,
      }),
    )
    .version(`runts version ${RUNTS_VERSION}\nspec: ${SPEC_VERSION}\nschema: ${schemaDescription()}`)
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
  for (const [name, spec] of Object.entries(COMMANDS) as [CommandName, CommandSpec][])
    cli.command(yargsCommand(name, spec, handlers[name]));
  // Errors end here, logged by this module's log (configured by the middleware above).
  await cli.parseAsync().catch((err: unknown) => fatal(errorMessage(err)));
}
