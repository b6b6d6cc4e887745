import type { CommandModule } from 'yargs';
import { type GlobalArgs, store } from '../global';

interface DeleteArgs extends GlobalArgs {
  containerId: string;
  force: boolean;
}

export const deleteCommand: CommandModule<GlobalArgs, DeleteArgs> = {
  command: 'delete <container-id>',
  aliases: ['rm'],
  describe: 'delete any resources held by the container often used with detached container',
  builder: (y) =>
    y
      .positional('container-id', { type: 'string', demandOption: true })
      .option('force', { alias: 'f', type: 'boolean', default: false, describe: 'forcibly deletes the container if it is still running (uses SIGKILL)' }) as never,
  handler: async (argv) => {
    const { deleteContainer } = await import('../../container/delete');
    await deleteContainer(store(argv), argv.containerId, { force: argv.force });
  },
};
