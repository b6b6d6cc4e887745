import type { CommandModule } from 'yargs';
import { printOut } from '../../output';
import { type GlobalArgs, store } from '../global';

interface IdArgs extends GlobalArgs {
  containerId: string;
}

export const stateCommand: CommandModule<GlobalArgs, IdArgs> = {
  command: 'state <container-id>',
  describe: 'output the state of a container',
  builder: (y) => y.positional('container-id', { type: 'string', demandOption: true }) as never,
  handler: async (argv) => {
    const { containerState } = await import('../../container/state');
    printOut(JSON.stringify(containerState(store(argv), argv.containerId), null, 2) + '\n');
  },
};
