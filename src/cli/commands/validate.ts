import type { CommandModule } from 'yargs';
import type { GlobalArgs } from '../global';

interface ValidateArgs extends GlobalArgs {
  bundle?: string;
  file?: string;
}

export const validateCommand: CommandModule<GlobalArgs, ValidateArgs> = {
  command: 'validate [file]',
  describe:
    'check a config.json against the official runtime-spec schema (exit 1 if invalid) and warn about what runts cannot run',
  builder: (y) =>
    y
      .positional('file', { type: 'string', describe: 'a config.json (default: the bundle\'s)' })
      .option('bundle', { alias: 'b', type: 'string', describe: 'path to the root of the bundle directory' }) as never,
  handler: async (argv) => {
    const { validateCommandLine } = await import('../validate-report');
    process.exitCode = validateCommandLine(argv.file ?? `${argv.bundle ?? '.'}/config.json`);
  },
};
