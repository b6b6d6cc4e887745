import type { CommandModule } from 'yargs';
import { printOut } from '../../output';
import { type GlobalArgs, store } from '../global';

interface PsArgs extends GlobalArgs {
  containerId: string;
  format: 'table' | 'json';
}

export const psCommand: CommandModule<GlobalArgs, PsArgs> = {
  command: 'ps <container-id>',
  describe: 'ps displays the processes running inside a container (words after the id go to ps, default -ef)',
  builder: (y) =>
    y
      .positional('container-id', { type: 'string', demandOption: true })
      .option('format', { alias: 'f', choices: ['table', 'json'] as const, default: 'table' as const, describe: 'select one of: table or json' }) as never,
  handler: async (argv) => {
    const { containerPids, psTable } = await import('../../container/ps');
    const pids = containerPids(store(argv), argv.containerId);
    if (argv.format === 'json') {
      printOut(JSON.stringify(pids) + '\n');
      return;
    }
    // The words after the id are ps's own (trailing-args.ts puts them after "--").
    const psArgs = ((argv as unknown as Record<string, unknown>)['--'] as unknown[] | undefined) ?? [];
    printOut(psTable(pids, psArgs.map(String)));
  },
};
