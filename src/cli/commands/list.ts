import { printOut } from '../../output';
import { type GlobalArgs, store } from '../global';

interface ListArgs extends GlobalArgs {
  format: 'table' | 'json';
  quiet: boolean;
}

export async function list(argv: ListArgs): Promise<void> {
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
}
