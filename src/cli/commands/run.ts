import type { CommandModule } from 'yargs';
import { type GlobalArgs, store } from '../global';
import { sys } from '../../sys/index';
import { type CreateArgs, createOptions } from './create';

export interface RunArgs extends CreateArgs {
  detach: boolean;
  keep: boolean;
}

export const runCommand: CommandModule<GlobalArgs, RunArgs> = {
  command: 'run <container-id>',
  describe: 'create and run a container',
  builder: (y) =>
    createOptions(y)
      .option('detach', { alias: 'd', type: 'boolean', default: false, describe: 'detach from the container\'s process' })
      .option('keep', { type: 'boolean', default: false, describe: 'do not delete the container after it exits' }) as never,
  handler: async (argv) => {
    const { runContainer } = await import('../../container/run');
    process.exitCode = await runContainer(sys(), store(argv), argv);
  },
};
