import { RuntsError } from '../errors';
import type { StateStore } from '../state/store';

export async function deleteContainer(store: StateStore, id: string, _opts: object = {}): Promise<void> {
  store.read(id);
  throw new RuntsError('delete: not implemented yet');
}
