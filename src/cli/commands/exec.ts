import { type GlobalArgs, store } from '../global';

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

export async function exec(argv: ExecArgs): Promise<void> {
  const { execInContainer } = await import('../../container/exec');
  // The command's words come after the "--" put behind the id (trailing-args.ts).
  const rest = ((argv as unknown as Record<string, unknown>)['--'] as string[] | undefined) ?? [];
  process.exitCode = await execInContainer(store(argv), { ...argv, command: [...argv.command, ...rest.map(String)] });
}
