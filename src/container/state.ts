/** runtime.md "Query State": the state of one container, or of all. */
import { RuntsError } from '../errors';
import { type CgroupManager, openCgroup } from '../linux/cgroups/manager';
import { log } from '../log';
import { liveStatus, ociState, type OciState } from '../state/status';
import { type ContainerRecord, DamagedRecord, type Status, type StateStore } from '../state/store';

/** The container's cgroup, as its record names it. */
export function cgroupOf(record: ContainerRecord): CgroupManager {
  if (!record.cgroup) throw new RuntsError(`container ${record.id} has no cgroup in its record`);
  return openCgroup(record.cgroup);
}

/** The live status; "paused" is the freezer's word. */
export const statusOf = (store: StateStore, record: ContainerRecord): Status =>
  liveStatus(record, store.containerDir(record.id), (r) => r.cgroup !== undefined && openCgroup(r.cgroup).isFrozen());

export function containerState(store: StateStore, id: string): OciState {
  const record = store.read(id);
  return ociState(record, statusOf(store, record));
}

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
