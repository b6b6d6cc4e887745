import type { ExecOptions } from '../../container/exec';
import { sys } from '../../sys/index';
import { type GlobalArgs, store } from '../global';

export type ExecArgs = GlobalArgs & ExecOptions;

export async function exec(argv: ExecArgs): Promise<void> {
  const { execInContainer } = await import('../../container/exec');
  // The command's words come after the "--" put behind the id (trailing-args.ts).
  const rest = ((argv as unknown as Record<string, unknown>)['--'] as string[] | undefined) ?? [];
  process.exitCode = await execInContainer(sys(), store(argv), { ...argv, command: [...argv.command, ...rest.map(String)] });
}
