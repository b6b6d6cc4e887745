import type { Sys } from '../../sys/index';
import { type GlobalArgs, store } from '../global';

interface IdArgs extends GlobalArgs {
  containerId: string;
}

export async function start(argv: IdArgs): Promise<void> {
  const { startContainer } = await import('../../container/start');
  await startContainer(store(argv), argv.containerId, sys);
}

/** libc, loaded only for a relay of $NOTIFY_SOCKET (the short bundle keeps it out of start's way otherwise). */
function sys(): Sys {
  return (require('../../sys/index') as typeof import('../../sys/index')).sys();
}
