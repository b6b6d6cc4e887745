import type { CommandModule } from 'yargs';
import { type GlobalArgs, store } from '../global';

interface IdArgs extends GlobalArgs {
  containerId: string;
}

export const resumeCommand: CommandModule<GlobalArgs, IdArgs> = {
  command: 'resume <container-id>',
  describe: 'resumes all processes that have been previously paused',
  builder: (y) => y.positional('container-id', { type: 'string', demandOption: true }) as never,
  handler: async (argv) => {
    const { resumeContainer } = await import('../../container/pause');
    await resumeContainer(store(argv), argv.containerId);
  },
};
