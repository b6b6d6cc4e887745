/**
 * The cgroup manager: one interface, a driver per cgroup version (runc's
 * fs and fs2, crun's cgroup-cgroupfs). Which one is decided as runc does:
 * a host whose /sys/fs/cgroup is cgroup2 is v2; anything else (v1, or
 * hybrid: v1 controllers beside an empty v2 hierarchy) is v1. With
 * --systemd-cgroup, the cgroup is a systemd unit's (systemd.ts), and the
 * same drivers work on its directories.
 *   createCgroup   at create: directories made, resources and device rules
 *                  applied, before the init is given its plan
 *   openCgroup     later commands, from the paths the record keeps
 *   updateCgroup   update's new resources
 *   destroyCgroup  delete, and a failed create
 */
import { RuntsError } from '../../errors';
import { pollUntil } from '../../poll';
import type { Linux, LinuxResources } from '../../spec/types';
import { isProcessId, signalConfirmed } from '../process-signal';
import { SIGNALS } from '../signals';
import { cgroupGone } from './control';
import { deviceRules, reduceDeviceRules } from './devices';
import { cgroupsPathOf, isUnifiedHost } from './paths';
import type { CgroupManager, CgroupState, NewCgroup } from './types';
import { V1Cgroup } from './v1';
import { V2Cgroup } from './v2';

/**
 * The systemd driver, loaded only with a unit to drive: its D-Bus client
 * (node:net and streams) would otherwise load for every command that reads
 * a container's status.
 */
const systemd = () => require('./systemd') as typeof import('./systemd');

// The interface lives with the shared shapes, where the drivers (v1.ts, v2.ts) implement it.
export type { CgroupManager, NewCgroup };

/**
 * The container's cgroup, made and configured; on failure nothing of it
 * is left. A systemd unit is started with the init in it; a cgroupfs
 * cgroup is made empty (create moves the init in).
 */
export async function createCgroup(id: string, linux: Linux, init: { pid: number; systemd: boolean }): Promise<NewCgroup> {
  const resources = linux.resources ?? {};
  const devices = reduceDeviceRules(
    deviceRules(
      resources.devices ?? [],
      (linux.devices ?? []).map((d) => d.path),
    ),
  );
  if (init.systemd) return systemd().createSystemdCgroup(id, linux, resources, devices, init.pid);
  const path = cgroupsPathOf(linux.cgroupsPath, id);
  return isUnifiedHost() ? V2Cgroup.create(path, resources, devices) : V1Cgroup.create(path, resources, devices);
}

export const openCgroup = (state: CgroupState): CgroupManager =>
  state.version === 2 ? new V2Cgroup(state) : new V1Cgroup(state);

/**
 * Signals every process in the cgroup. SIGKILL goes through cgroup.kill
 * where there is one. Otherwise, with a freezer, the processes are frozen
 * meanwhile so that none can fork a child that escapes the list (runc's
 * signalAllProcesses; a paused container stays paused), and each is
 * signalled only if it is still listed once a pidfd holds it. Members this
 * process cannot see (listed as 0) cannot be signalled: that is an error,
 * after the others are signalled.
 */
export function signalAll(cgroup: CgroupManager, signal: number): void {
  if (signal === SIGNALS.SIGKILL && cgroup.killAll()) return;
  const freeze = cgroup.canFreeze() && !cgroup.isFrozen();
  if (freeze) cgroup.freeze();
  let unseen: number;
  try {
    const listed = cgroup.pids();
    unseen = listed.filter((pid) => !isProcessId(pid)).length;
    signalConfirmed(listed, signal, (held) => {
      const members = new Set(cgroup.pids());
      return held.filter((h) => members.has(h.pid));
    });
  } finally {
    if (freeze) cgroup.thaw();
  }
  if (unseen)
    throw new RuntsError(
      `${unseen} process(es) of the container are not visible from this pid namespace (cgroup.procs lists them as 0): not signalled`,
    );
}

/** Writes new resources (update); a systemd unit is told them too. */
export async function updateCgroup(cgroup: CgroupManager, resources: LinuxResources): Promise<void> {
  cgroup.apply(resources);
  if (cgroup.state.systemdUnit) await systemd().updateSystemdUnit(cgroup.state.systemdUnit, resources);
}

/**
 * Kills what is left in the cgroup (thawed first: v1 frozen tasks die only
 * once thawed), then removes it: a systemd unit is stopped (as runc does,
 * once its processes are dead), and the directories systemd does not
 * remove (v1 hierarchies it does not manage) go as a cgroupfs cgroup's do.
 */
export async function destroyCgroup(cgroup: CgroupManager): Promise<void> {
  const unit = cgroup.state.systemdUnit;
  if (!cgroup.exists() && !unit) return;
  if (cgroup.exists()) {
    try {
      if (cgroup.canFreeze() && cgroup.isFrozen()) cgroup.thaw();
      if (cgroup.pids().length) {
        signalAll(cgroup, SIGNALS.SIGKILL);
        if (!pollUntil(() => cgroup.pids().length === 0, 10_000)) {
          throw new RuntsError(`cgroup: processes ${cgroup.pids().join(', ')} did not die after SIGKILL`);
        }
      }
    } catch (err) {
      // Removed meanwhile (systemd removes a scope once its processes have
      // ended): only an empty cgroup can be, so there is nothing to kill.
      if (!cgroupGone(err)) throw err;
    }
  }
  // The directories go even when systemd cannot be reached; its error is reported after.
  let stopError: unknown;
  if (unit)
    await systemd()
      .stopSystemdUnit(unit)
      .catch((err: unknown) => (stopError = err));
  cgroup.removeDirs();
  if (stopError) throw stopError;
}
