import type { Argv, CommandModule } from 'yargs';
import { type GlobalArgs, store } from '../global';
import { sys } from '../../sys/index';

export interface CreateArgs extends GlobalArgs {
  containerId: string;
  bundle: string;
  pidFile?: string;
  consoleSocket?: string;
  noPivot: boolean;
  noNewKeyring: boolean;
  preserveFds: number;
}

/** The flags create and run share. */
export const createOptions = (y: Argv<GlobalArgs>) =>
  y
    .positional('container-id', { type: 'string', demandOption: true })
    .option('bundle', { alias: 'b', type: 'string', default: '.', describe: 'path to the root of the bundle directory' })
    .option('pid-file', { type: 'string', describe: 'file to write the process id to' })
    .option('console-socket', { type: 'string', describe: 'path to an AF_UNIX socket which will receive the pty master fd' })
    .option('no-pivot', { type: 'boolean', default: false, describe: 'do not use pivot root to jail process inside rootfs' })
    .option('no-new-keyring', { type: 'boolean', default: false, describe: 'do not create a new session keyring for the container' })
    .option('preserve-fds', { type: 'number', default: 0, describe: 'pass N additional file descriptors to the container (stdio + $LISTEN_FDS + N in total)' });

export const createCommand: CommandModule<GlobalArgs, CreateArgs> = {
  command: 'create <container-id>',
  describe: 'create a container',
  builder: (y) => createOptions(y) as never,
  handler: async (argv) => {
    const { createContainer } = await import('../../container/create');
    await createContainer(sys(), store(argv), argv);
  },
};
