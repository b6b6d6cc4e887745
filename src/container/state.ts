/** runtime.md "Query State": the state of one container, or of all. */
import { log } from '../log';
import type { OciState } from '../state/status';
import { DamagedRecord, type StateStore } from '../state/store';
import { Container } from './container';

export const containerState = (store: StateStore, id: string): OciState => Container.load(store, id).state();

/**
 * Every container under the root. One whose record vanished meanwhile is
 * skipped; one whose record is damaged too, with a warning saying how to
 * remove it.
 */
export function allStates(store: StateStore): OciState[] {
  const states: OciState[] = [];
  for (const id of store.ids()) {
    try {
      states.push(containerState(store, id));
    } catch (err) {
      if (err instanceof DamagedRecord) log.warn(err.message);
      // Otherwise deleted (or half-created) while we listed: not a container to show.
    }
  }
  return states;
}
