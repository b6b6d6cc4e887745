import { type GlobalArgs, store } from '../global';

interface KillArgs extends GlobalArgs {
  containerId: string;
  signal: string;
  all: boolean;
}

export async function kill(argv: KillArgs): Promise<void> {
  const { killContainer } = await import('../../container/kill');
  await killContainer(store(argv), argv.containerId, argv.signal, { all: argv.all });
}
