import type { CommandModule } from 'yargs';
import type { GlobalArgs } from '../global';

interface SpecArgs extends GlobalArgs {
  bundle: string;
}

export const specCommand: CommandModule<GlobalArgs, SpecArgs> = {
  command: 'spec',
  describe: 'create a new specification file (config.json)',
  builder: (y) =>
    y.option('bundle', { alias: 'b', type: 'string', default: '', describe: 'path to the root of the bundle directory' }) as never,
  handler: async (argv) => {
    const { writeDefaultSpec } = await import('../write-default-spec');
    writeDefaultSpec(argv.bundle || '.');
  },
};
