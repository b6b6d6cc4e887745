import type { CommandModule } from 'yargs';
import type { RunOptions } from '../../container/run';
import { type GlobalArgs, store } from '../global';
import { createOptions } from './create';

export type RunArgs = GlobalArgs & RunOptions;

export const runCommand: CommandModule<GlobalArgs, RunArgs> = {
  command: 'run <container-id>',
  describe: 'create and run a container',
  builder: (y) =>
    createOptions(y)
      .option('detach', { alias: 'd', type: 'boolean', default: false, describe: 'detach from the container\'s process' })
      .option('keep', { type: 'boolean', default: false, describe: 'do not delete the container after it exits' }) as never,
  handler: async (argv) => {
    const { runContainer } = await import('../../container/run');
    process.exitCode = await runContainer(store(argv), argv);
  },
};
