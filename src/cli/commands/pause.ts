import { type GlobalArgs, store } from '../global';

interface IdArgs extends GlobalArgs {
  containerId: string;
}

export async function pause(argv: IdArgs): Promise<void> {
  const { pauseContainer } = await import('../../container/pause');
  await pauseContainer(store(argv), argv.containerId);
}
