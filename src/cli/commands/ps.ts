import { printOut } from '../../output';
import { type GlobalArgs, store } from '../global';

interface PsArgs extends GlobalArgs {
  containerId: string;
  format: 'table' | 'json';
}

export async function ps(argv: PsArgs): Promise<void> {
  const { containerPids, psTable } = await import('../../container/ps');
  const pids = containerPids(store(argv), argv.containerId);
  if (argv.format === 'json') {
    printOut(JSON.stringify(pids) + '\n');
    return;
  }
  // The words after the id are ps's own (trailing-args.ts puts them after "--").
  const psArgs = ((argv as unknown as Record<string, unknown>)['--'] as unknown[] | undefined) ?? [];
  printOut(psTable(pids, psArgs.map(String)));
}
