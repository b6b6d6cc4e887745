import type { CommandModule } from 'yargs';
import { type GlobalArgs, store } from '../global';

interface IdArgs extends GlobalArgs {
  containerId: string;
}

export const startCommand: CommandModule<GlobalArgs, IdArgs> = {
  command: 'start <container-id>',
  describe: 'executes the user defined process in a created container',
  builder: (y) => y.positional('container-id', { type: 'string', demandOption: true }) as never,
  handler: async (argv) => {
    const { startContainer } = await import('../../container/start');
    await startContainer(store(argv), argv.containerId);
  },
};
