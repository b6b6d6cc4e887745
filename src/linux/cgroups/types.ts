/** The shapes the cgroup manager shares with its drivers and the rest of runts. */
import type { LinuxResources } from '../../spec/types';

/** Where a container's cgroup is: what its record keeps, enough to find it again. */
export type CgroupState = (
  | {
      version: 1;
      /**
       * The container's directory in each hierarchy, keyed by the
       * hierarchy's controllers as /proc/PID/cgroup names them ("memory",
       * "cpu,cpuacct", "name=systemd"; "" for the unified hierarchy of a
       * hybrid host).
       */
      paths: Record<string, string>;
    }
  | { version: 2; path: string }
) & {
  /**
   * The systemd unit that holds the cgroup (--systemd-cgroup, systemd.ts):
   * update tells it the new resources, delete stops it.
   */
  systemdUnit?: string;
};

/** How the init lays out a "cgroup" mount (rootfs.ts), decided by create. */
export type CgroupMountView =
  | { version: 2 }
  | {
      version: 1;
      hierarchies: {
        /** The directory under the mount point, as on the host ("memory", "cpu,cpuacct", "systemd"). */
        name: string;
        /** Mount data for a fresh mount of the hierarchy ("cpu,cpuacct", "name=systemd"). */
        controllers: string;
        /** The container's cgroup in it, on the host: bound there without a cgroup namespace. */
        path: string;
      }[];
    };

/** A counter or limit: a bigint only for the uint64 sentinel of "no limit". */
export type Figure = number | bigint;

export interface MemoryEntry {
  limit: Figure;
  usage?: number;
  max?: number;
  failcnt: number;
}

export interface BlkioEntry {
  major: number;
  minor: number;
  op: string;
  value: number;
}

/**
 * runc's stats (types.Stats in runc's types/events.go), field for field as
 * `runc events` prints them, so that containerd and go-runc read ours.
 */
export interface Stats {
  cpu: {
    usage: { total?: number; percpu?: number[]; kernel: number; user: number };
    throttling: { periods?: number; throttledPeriods?: number; throttledTime?: number };
  };
  memory: {
    cache?: number;
    usage: MemoryEntry;
    swap: MemoryEntry;
    kernel: MemoryEntry;
    kernelTCP: MemoryEntry;
    raw?: Record<string, number>;
  };
  pids: { current?: number; limit?: number };
  blkio: { ioServiceBytesRecursive?: BlkioEntry[]; ioServicedRecursive?: BlkioEntry[] };
  hugetlb: Record<string, { usage?: number; max?: number; failcnt: number }>;
}

export const emptyEntry = (): MemoryEntry => ({ limit: 0, failcnt: 0 });

export function emptyStats(): Stats {
  return {
    cpu: { usage: { kernel: 0, user: 0 }, throttling: {} },
    memory: { usage: emptyEntry(), swap: emptyEntry(), kernel: emptyEntry(), kernelTCP: emptyEntry() },
    pids: {},
    blkio: {},
    hugetlb: {},
  };
}

export interface CgroupManager {
  readonly state: CgroupState;
  /** Puts pid, with all its threads, in the cgroup. */
  join(pid: number): void;
  /**
   * Puts the main thread of process pid (this one by default) in the
   * cgroup, for the children it spawns from it (exec): v1 moves that
   * thread alone (its tid, written to `tasks`), so node's other threads do
   * not count against the container's pids limit; v2 moves threads only
   * within threaded cgroups, so there it is the whole process
   * (cgroup.procs).
   */
  joinMainThread(pid?: number): void;
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
