/**
 * runc's pause and resume: the cgroup freezer stops every process of the
 * container and lets them go again; while frozen, the status is "paused".
 */
import { RuntsError } from '../errors';
import type { StateStore } from '../state/store';
import { Container } from './container';

export async function pauseContainer(store: StateStore, id: string): Promise<void> {
  await Container.locked(store, id, (container) => {
    if (!container.canPause()) throw container.refusal('pause');
    const cgroup = container.cgroup();
    if (!cgroup.canFreeze()) throw new RuntsError('pause needs the cgroup freezer, which this host does not have');
    cgroup.freeze();
  });
}

export async function resumeContainer(store: StateStore, id: string): Promise<void> {
  await Container.locked(store, id, (container) => {
    if (!container.canResume()) throw container.refusal('resume');
    container.cgroup().thaw();
  });
}
