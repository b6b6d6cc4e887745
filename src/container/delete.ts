/**
 * runtime.md "Delete": a stopped container's resources go, then poststop
 * hooks run. As runc: a created container is killed and deleted; a running
 * or paused one only with --force. A container whose state.json is damaged
 * is still deleted, from its teardown.json (store.ts).
 */
import { destroyCgroup, openCgroup } from '../linux/cgroups/manager';
import { hookState, runHooksWarnOnly } from '../linux/hooks';
import { removeIntelRdt } from '../linux/intel-rdt';
import { moveNetDevicesOut } from '../linux/net-devices';
import { removeSharedMounts } from '../linux/shared-mounts';
import { log } from '../log';
import { isSameProcess } from '../state/process-identity';
import type { Teardown } from '../state/record';
import type { StateStore } from '../state/store';
import { Container, allows, noSuchContainer, refusal } from './container';

async function moveDevicesBack(teardown: Teardown): Promise<void> {
  const moved = teardown.netDevices!;
  const alive = isSameProcess(teardown.pid, teardown.pidStartTime);
  const netns = moved.netns ?? (alive ? `/proc/${teardown.pid}/ns/net` : undefined);
  if (!netns) return;
  const { sys } = await import('../sys/index');
  for (const warning of moveNetDevicesOut(sys(), netns, moved.devices)) log.warn(`moving network devices back: ${warning}`);
}

export async function deleteContainer(store: StateStore, id: string, opts: { force: boolean }): Promise<void> {
  // runc: delete --force of what is not there is not an error
  if (opts.force && !store.has(id)) return;
  const { container, teardown, status, damage } = Container.loadRemains(store, id);
  // The status loadRemains gives is the container's, or (its record damaged) what its teardown tells.
  if (!opts.force && !allows('delete', status)) throw refusal('delete', id, status);
  if (damage) log.warn(`container ${id}: ${damage.reason}; deleting it with what create kept in teardown.json`);
  // Exactly one delete goes on from here, with no lock to take (store.ts):
  // the directory is renamed away atomically, and a concurrent delete finds nothing.
  const tomb = store.entomb(id);
  if (!tomb) {
    if (opts.force) return;
    throw noSuchContainer(id);
  }
  try {
    // The host's devices go back while the container's network namespace
    // lives (its init, or the path it joined): a virtual device dies with
    // it, a physical one would come back to the host under its container name.
    if (teardown.netDevices?.devices.length) await moveDevicesBack(teardown);
    // Whatever still runs in the cgroup dies first (thawed if paused): all
    // of a created or forced container, what a stopped one without its own
    // pid namespace left behind. Then the cgroup goes.
    await destroyCgroup(openCgroup(teardown.cgroup));
    if (teardown.intelRdt) for (const warning of removeIntelRdt(teardown.intelRdt)) log.warn(`container ${id}: ${warning}`);
    // Its processes are gone: what it mounted in the caller's mount namespace goes too.
    if (teardown.sharedMounts) {
      const { sys } = await import('../sys/index');
      const warning = removeSharedMounts(sys(), teardown.sharedMounts);
      if (warning) log.warn(warning);
    }
  } finally {
    store.removeTomb(tomb);
  }
  if (container) runHooksWarnOnly('poststop', container.record.hooks?.poststop, hookState(container.record, 'stopped'), log.warn);
  else log.warn(`container ${id}: its poststop hooks, if it had any, were in the damaged state file: not run`);
}
