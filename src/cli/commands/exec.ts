import type { CommandModule } from 'yargs';
import { type GlobalArgs, store } from '../global';
import { sys } from '../../sys/index';

export interface ExecArgs extends GlobalArgs {
  containerId: string;
  command: string[];
  consoleSocket?: string;
  cwd?: string;
  env: string[];
  tty: boolean;
  user?: string;
  additionalGids: number[];
  process?: string;
  detach: boolean;
  pidFile?: string;
  processLabel?: string;
  apparmor?: string;
  noNewPrivs: boolean;
  cap: string[];
  preserveFds: number;
  cgroup?: string;
  ignorePaused: boolean;
}

export const execCommand: CommandModule<GlobalArgs, ExecArgs> = {
  command: 'exec <container-id> [command..]',
  describe: 'execute new process inside the container',
  builder: (y) =>
    y
      .positional('container-id', { type: 'string', demandOption: true })
      .positional('command', { type: 'string', array: true, default: [] })
      .option('console-socket', { type: 'string', describe: 'path to an AF_UNIX socket which will receive the pty master fd' })
      .option('cwd', { type: 'string', describe: 'current working directory in the container' })
      .option('env', { alias: 'e', type: 'string', array: true, default: [], describe: 'set environment variables' })
      .option('tty', { alias: 't', type: 'boolean', default: false, describe: 'allocate a pseudo-TTY' })
      .option('user', { alias: 'u', type: 'string', describe: 'UID (format: <uid>[:<gid>])' })
      .option('additional-gids', { alias: 'g', type: 'number', array: true, default: [], describe: 'additional gids' })
      .option('process', { alias: 'p', type: 'string', describe: 'path to the process.json' })
      .option('detach', { alias: 'd', type: 'boolean', default: false, describe: 'detach from the container\'s process' })
      .option('pid-file', { type: 'string', describe: 'specify the file to write the process id to' })
      .option('process-label', { type: 'string', describe: 'set the asm process label for the process commonly used with selinux' })
      .option('apparmor', { type: 'string', describe: 'set the apparmor profile for the process' })
      .option('no-new-privs', { type: 'boolean', default: false, describe: 'set the no new privileges value for the process' })
      .option('cap', { alias: 'c', type: 'string', array: true, default: [], describe: 'add a capability to the bounding set for the process' })
      .option('preserve-fds', { type: 'number', default: 0, describe: 'pass N additional file descriptors to the container' })
      .option('cgroup', { type: 'string', describe: 'accepted for runc compatibility: the process joins the container\'s cgroup' })
      .option('ignore-paused', { type: 'boolean', default: false, describe: 'allow exec in a paused container' }) as never,
  handler: async (argv) => {
    const { execInContainer } = await import('../../container/exec');
    // The command's words come after the "--" put behind the id (trailing-args.ts).
    const rest = ((argv as unknown as Record<string, unknown>)['--'] as string[] | undefined) ?? [];
    process.exitCode = await execInContainer(sys(), store(argv), { ...argv, command: [...argv.command, ...rest.map(String)] });
  },
};
