/** runtime.md "Query State": the state of one container, or of all. */
import { liveStatus, ociState, type OciState } from '../state/status';
import type { StateStore } from '../state/store';

export function containerState(store: StateStore, id: string): OciState {
  const record = store.read(id);
  return ociState(record, liveStatus(record, store.containerDir(id)));
}

/** Every container under the root; one whose record vanished meanwhile is skipped. */
export function allStates(store: StateStore): OciState[] {
  const states: OciState[] = [];
  for (const id of store.ids()) {
    try {
      states.push(containerState(store, id));
    } catch {
      // Deleted (or half-created) while we listed: not a container to show.
    }
  }
  return states;
}
