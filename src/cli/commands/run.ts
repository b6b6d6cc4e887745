import { store } from '../global';
import type { CreateArgs } from './create';

export interface RunArgs extends CreateArgs {
  detach: boolean;
  keep: boolean;
}

export async function run(argv: RunArgs): Promise<void> {
  const { runContainer } = await import('../../container/run');
  process.exitCode = await runContainer(store(argv), argv);
}
