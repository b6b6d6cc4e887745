/**
 * runtime.md "Delete": a stopped container's resources go, then poststop
 * hooks run. As runc: a created container is killed and deleted; a running
 * or paused one only with --force. A container whose state.json is damaged
 * is still deleted, from its teardown.json (store.ts).
 */
import { existsSync, renameSync, rmSync } from 'node:fs';
import { RuntsError } from '../errors';
import { destroyCgroup, openCgroup } from '../linux/cgroups/manager';
import { hookState, runHooksWarnOnly } from '../linux/hooks';
import { removeSharedMounts } from '../linux/shared-mounts';
import { log } from '../log';
import type { Hook } from '../spec/types';
import { isSameProcess } from '../state/process-identity';
import { type StateStore, notFound } from '../state/store';
import { statusOf } from './state';

export async function deleteContainer(store: StateStore, id: string, opts: { force: boolean }): Promise<void> {
  const dir = store.containerDir(id);
  if (!existsSync(dir)) {
    if (opts.force) return; // runc: delete --force of what is not there is not an error
    throw notFound(id);
  }
  const { record, teardown, damage } = store.readTeardown(id);
  // Without the record, only the init tells: alive is "running" (created and paused look the same).
  const status = record ? statusOf(store, record) : isSameProcess(teardown.pid, teardown.pidStartTime) ? 'running' : 'stopped';
  if ((status === 'running' || status === 'paused') && !opts.force) {
    throw new RuntsError(`cannot delete container ${id} that is not stopped: ${status}`);
  }
  if (damage) log.warn(`container ${id}: ${damage.reason}; deleting it with what create kept in teardown.json`);
  // Exactly one delete goes on from here, with no lock to take (flock would
  // need ffi-rs, about 1 ms): the directory is renamed away
  // atomically, and a concurrent delete finds nothing.
  const tomb = store.tomb(id);
  try {
    renameSync(dir, tomb);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
    if (opts.force) return;
    throw notFound(id);
  }
  try {
    // Whatever still runs in the cgroup dies first (thawed if paused): all
    // of a created or forced container, what a stopped one without its own
    // pid namespace left behind. Then the cgroup goes.
    destroyCgroup(openCgroup(teardown.cgroup));
    // Its processes are gone: what it mounted in the caller's mount namespace goes too.
    if (teardown.sharedMounts) {
      const { sys } = await import('../sys/index');
      const warning = removeSharedMounts(sys(), teardown.sharedMounts);
      if (warning) log.warn(warning);
    }
  } finally {
    rmSync(tomb, { recursive: true, force: true });
  }
  if (record) runHooksWarnOnly('poststop', (record.hooks as { poststop?: Hook[] })?.poststop, hookState(record, 'stopped'), log.warn);
  else log.warn(`container ${id}: its poststop hooks, if it had any, were in the damaged state file: not run`);
}
