import { RuntsError } from '../errors';
import { parseSignal } from '../linux/signals';
import type { StateStore } from '../state/store';

export async function killContainer(store: StateStore, id: string, signal: string, _opts: { all: boolean }): Promise<void> {
  store.read(id);
  if (parseSignal(signal) === undefined) throw new RuntsError(`unknown signal ${JSON.stringify(signal)}`);
  throw new RuntsError('kill: not implemented yet');
}
