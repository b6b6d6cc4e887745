import type { CommandModule } from 'yargs';
import { type GlobalArgs, store } from '../global';

interface IdArgs extends GlobalArgs {
  containerId: string;
}

export const pauseCommand: CommandModule<GlobalArgs, IdArgs> = {
  command: 'pause <container-id>',
  describe: 'pause suspends all processes inside the container',
  builder: (y) => y.positional('container-id', { type: 'string', demandOption: true }) as never,
  handler: async (argv) => {
    const { pauseContainer } = await import('../../container/pause');
    await pauseContainer(store(argv), argv.containerId);
  },
};
