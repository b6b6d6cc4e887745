/**
 * runc's pause and resume: the cgroup freezer stops every process of the
 * container and lets them go again; while frozen, the status is "paused".
 */
import { RuntsError } from '../errors';
import type { StateStore } from '../state/store';
import { cgroupOf, statusOf } from './state';

export async function pauseContainer(store: StateStore, id: string): Promise<void> {
  await store.withLock(id, async () => {
    const record = store.read(id);
    const status = statusOf(store, record);
    if (status !== 'running') throw new RuntsError(`cannot pause container ${id} that is ${status}`);
    const cgroup = cgroupOf(record);
    if (!cgroup.canFreeze()) throw new RuntsError('pause needs the cgroup freezer, which this host does not have');
    cgroup.freeze();
  });
}

export async function resumeContainer(store: StateStore, id: string): Promise<void> {
  await store.withLock(id, async () => {
    const record = store.read(id);
    const status = statusOf(store, record);
    if (status !== 'paused') throw new RuntsError(`cannot resume container ${id} that is ${status}, not paused`);
    cgroupOf(record).thaw();
  });
}
