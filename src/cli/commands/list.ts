import type { CommandModule } from 'yargs';
import { printOut } from '../../output';
import { type GlobalArgs, store } from '../global';

interface ListArgs extends GlobalArgs {
  format: 'table' | 'json';
  quiet: boolean;
}

export const listCommand: CommandModule<GlobalArgs, ListArgs> = {
  command: 'list',
  aliases: ['ls'],
  describe: 'lists containers started by runts with the given root',
  builder: (y) =>
    y
      .option('format', { alias: 'f', choices: ['table', 'json'] as const, default: 'table' as const, describe: 'select one of: table or json' })
      .option('quiet', { alias: 'q', type: 'boolean', default: false, describe: 'display only container IDs' }) as never,
  handler: async (argv) => {
    const { allStates } = await import('../../container/state');
    const { formatTable } = await import('../table');
    const states = allStates(store(argv));
    if (argv.quiet) {
      for (const s of states) printOut(`${s.id}\n`);
    } else if (argv.format === 'json') {
      printOut(JSON.stringify(states) + '\n');
    } else {
      const rows = states.map((s) => [s.id, String(s.pid), s.status, s.bundle, s.created, s.owner]);
      printOut(formatTable(['ID', 'PID', 'STATUS', 'BUNDLE', 'CREATED', 'OWNER'], rows));
    }
  },
};
