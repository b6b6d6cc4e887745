import { sys } from '../../sys/index';
import { type GlobalArgs, store } from '../global';

interface IdArgs extends GlobalArgs {
  containerId: string;
}

export async function start(argv: IdArgs): Promise<void> {
  const { startContainer } = await import('../../container/start');
  await startContainer(store(argv), argv.containerId, sys);
}
