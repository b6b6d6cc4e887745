import { printOut } from '../../output';
import { type GlobalArgs, store } from '../global';

interface IdArgs extends GlobalArgs {
  containerId: string;
}

export async function state(argv: IdArgs): Promise<void> {
  const { containerState } = await import('../../container/state');
  printOut(JSON.stringify(containerState(store(argv), argv.containerId), null, 2) + '\n');
}
