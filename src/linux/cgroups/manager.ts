/**
 * The cgroup manager: one interface, a driver per cgroup version (runc's
 * fs and fs2, crun's cgroup-cgroupfs). Which one is decided as runc does:
 * a host whose /sys/fs/cgroup is cgroup2 is v2; anything else (v1, or
 * hybrid: v1 controllers beside an empty v2 hierarchy) is v1.
 *   createCgroup  at create: directories made, resources and device rules
 *                 applied, before the init exists
 *   openCgroup    later commands, from the paths the record keeps
 */
import { RuntsError } from '../../errors';
import { pollUntil } from '../../poll';
import type { Linux, LinuxResources } from '../../spec/types';
import { isProcessId, signalConfirmed } from '../process-signal';
import { SIGNALS } from '../signals';
import { deviceRules, reduceDeviceRules } from './devices';
import { cgroupsPathOf, isUnifiedHost } from './paths';
import type { CgroupMountView, CgroupState, Stats } from './types';
import { V1Cgroup } from './v1';
import { V2Cgroup } from './v2';

export interface CgroupManager {
  readonly state: CgroupState;
  /** Puts pid, with all its threads, in the cgroup. */
  join(pid: number): void;
  /**
   * Puts this process's main thread in the cgroup, for the children it
   * spawns from it (exec): v1 moves that thread alone (its tid, written to
   * `tasks`), so node's other threads do not count against the
   * container's pids limit; v2 moves threads only within threaded
   * cgroups, so there it is the whole process (cgroup.procs).
   */
  joinMainThread(): void;
  /** Writes the resources (not the device rules: those are set once, at creation). */
  apply(resources: LinuxResources): void;
  /**
   * Every process in the cgroup and the cgroups below it, as cgroup.procs
   * lists them: on v2, a member outside this process's pid namespace is a
   * 0 (never a pid to signal: process-signal.ts).
   */
  pids(): number[];
  /**
   * SIGKILL to every member through the kernel's cgroup.kill (cgroup v2,
   * Linux 5.14+; on a hybrid v1 host, the unified hierarchy's, as runc
   * does): members this process cannot see are killed too, and none can
   * fork away meanwhile. False where there is no cgroup.kill.
   */
  killAll(): boolean;
  canFreeze(): boolean;
  freeze(): void;
  thaw(): void;
  isFrozen(): boolean;
  stats(): Stats;
  /** Calls onOom for each OOM kill, until the cgroup is removed or stop is aborted. */
  watchOom(onOom: () => void, stop: AbortSignal): Promise<void>;
  exists(): boolean;
  /** Removes the container's directories (they must hold no process). */
  removeDirs(): void;
}

export interface NewCgroup {
  cgroup: CgroupManager;
  /** What the init needs for the container's "cgroup" mount. */
  view: CgroupMountView;
}

/** The container's cgroup, made and configured; on failure nothing of it is left. */
export function createCgroup(id: string, linux: Linux): NewCgroup {
  const path = cgroupsPathOf(linux.cgroupsPath, id);
  const resources = linux.resources ?? {};
  const devices = reduceDeviceRules(deviceRules(resources.devices ?? [], (linux.devices ?? []).map((d) => d.path)));
  return isUnifiedHost() ? V2Cgroup.create(path, resources, devices) : V1Cgroup.create(path, resources, devices);
}

export const openCgroup = (state: CgroupState): CgroupManager => (state.version === 2 ? new V2Cgroup(state) : new V1Cgroup(state));

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
  if (unseen) throw new RuntsError(`${unseen} process(es) of the container are not visible from this pid namespace (cgroup.procs lists them as 0): not signalled`);
}

/** Kills what is left in the cgroup (thawed first: v1 frozen tasks die only once thawed), then removes it. */
export function destroyCgroup(cgroup: CgroupManager): void {
  if (!cgroup.exists()) return;
  if (cgroup.canFreeze() && cgroup.isFrozen()) cgroup.thaw();
  if (cgroup.pids().length) {
    signalAll(cgroup, SIGNALS.SIGKILL);
    if (!pollUntil(() => cgroup.pids().length === 0, 10_000)) {
      throw new RuntsError(`cgroup: processes ${cgroup.pids().join(', ')} did not die after SIGKILL`);
    }
  }
  cgroup.removeDirs();
}
