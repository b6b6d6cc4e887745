import { type GlobalArgs, store } from '../global';

interface IdArgs extends GlobalArgs {
  containerId: string;
}

export async function resume(argv: IdArgs): Promise<void> {
  const { resumeContainer } = await import('../../container/pause');
  await resumeContainer(store(argv), argv.containerId);
}
