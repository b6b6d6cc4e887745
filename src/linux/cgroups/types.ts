/** The shapes the cgroup manager shares with the rest of runts. */

/** Where a container's cgroup is: what its record keeps, enough to find it again. */
export type CgroupState =
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
  | { version: 2; path: string };

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
