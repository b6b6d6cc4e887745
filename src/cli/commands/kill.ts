import type { CommandModule } from 'yargs';
import { type GlobalArgs, store } from '../global';

interface KillArgs extends GlobalArgs {
  containerId: string;
  signal: string;
  all: boolean;
}

export const killCommand: CommandModule<GlobalArgs, KillArgs> = {
  command: 'kill <container-id> [signal]',
  describe: 'kill sends the specified signal (default: SIGTERM) to the container\'s init process',
  builder: (y) =>
    y
      .positional('container-id', { type: 'string', demandOption: true })
      .positional('signal', { type: 'string', default: 'SIGTERM' })
      .option('all', { alias: 'a', type: 'boolean', default: false, describe: 'send the specified signal to all processes inside the container' }) as never,
  handler: async (argv) => {
    const { killContainer } = await import('../../container/kill');
    await killContainer(store(argv), argv.containerId, argv.signal, { all: argv.all });
  },
};
