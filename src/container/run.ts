import type { RunArgs } from '../cli/commands/run';
import type { StateStore } from '../state/store';
import { createContainer } from './create';

export async function runContainer(store: StateStore, args: RunArgs): Promise<number> {
  await createContainer(store, args);
  return 0;
}
