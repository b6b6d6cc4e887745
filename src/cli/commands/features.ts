import type { CommandModule } from 'yargs';
import { printOut } from '../../output';
import type { GlobalArgs } from '../global';

export const featuresCommand: CommandModule<GlobalArgs, GlobalArgs> = {
  command: 'features',
  describe: 'show the enabled features (the runtime-spec features document)',
  handler: async () => {
    const { features } = await import('../../container/features');
    printOut(JSON.stringify(features(), null, 4) + '\n');
  },
};
