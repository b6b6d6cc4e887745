/**
 * What runts keeps about a container between commands: the record
 * (state.json) and what tearing it down needs (teardown.json), with the
 * checks a file read back must pass to be taken for one of them.
 */
import type { CgroupState } from '../linux/cgroups/types';
import type { RdtState } from '../linux/intel-rdt';
import type { MovedNetDevice } from '../linux/net-devices';
import type { SharedMounts } from '../linux/shared-mounts';
import type { ExecBase } from '../spec/plan';
import type { Hook, LinuxResources } from '../spec/types';

/**
 * The OCI state plus what later commands need. Every field create writes is
 * declared; the optional ones are those a record may lack (written later
 * in create, or only for some configs).
 */
export interface ContainerRecord {
  ociVersion: string;
  id: string;
  /** Written as 'creating' first, then 'created'; the live status is derived (status.ts). */
  status: 'creating' | 'created';
  pid: number;
  /** /proc/PID/stat start time of pid: tells the container from a reused pid. */
  pidStartTime: string;
  bundle: string;
  rootfs: string;
  created: string;
  owner: string;
  annotations?: Record<string, string>;
  /** The runtime-namespace hooks that run after create: poststart (start) and poststop (delete). */
  hooks?: { poststart: Hook[]; poststop: Hook[] };
  /** The container's cgroup, and the resources last applied to it (`update` merges into them). */
  cgroup?: CgroupState;
  resources?: LinuxResources;
  /** The container's session keyring ("_ses.<id>"), absent with --no-new-keyring. */
  sessionKeyring?: string;
  /** No mount namespace of its own: the mounts delete removes from the caller's (shared-mounts.ts). */
  sharedMounts?: SharedMounts;
  /** The host's network devices create moved into the container (linux.netDevices): delete moves them back. */
  netDevices?: NetDevicesMoved;
  /** The resctrl groups create made or joined (linux.intelRdt): delete removes those it made. */
  intelRdt?: RdtState;
  /** What every exec starts from, compiled by create (planExec in spec/plan.ts). */
  exec?: ExecBase;
  /** The init's PR_GET_DUMPABLE once created, kept so that tests and users can check it. */
  initDumpable?: number;
}

/** The host's devices moved into the container (linux.netDevices), and the namespace joined by path, if any. */
export interface NetDevicesMoved {
  netns?: string;
  devices: MovedNetDevice[];
}

/** What tearing the container down needs: its init, its cgroup, its mounts in ours, its moved devices (none change after create). */
export interface Teardown {
  pid: number;
  pidStartTime: string;
  cgroup: CgroupState;
  sharedMounts?: SharedMounts;
  netDevices?: NetDevicesMoved;
  intelRdt?: RdtState;
}

/** The teardown a record with its cgroup holds: one place, so that delete undoes all create did. */
export function teardownOf(record: ContainerRecord & { cgroup: CgroupState }): Teardown {
  const { pid, pidStartTime, cgroup, sharedMounts, netDevices, intelRdt } = record;
  return {
    pid,
    pidStartTime,
    cgroup,
    ...(sharedMounts ? { sharedMounts } : {}),
    ...(netDevices ? { netDevices } : {}),
    ...(intelRdt ? { intelRdt } : {}),
  };
}

const isObject = (x: unknown): x is Record<string, unknown> => typeof x === 'object' && x !== null && !Array.isArray(x);

const isCgroupState = (x: unknown): x is CgroupState =>
  isObject(x) &&
  ((x.version === 2 && typeof x.path === 'string') || (x.version === 1 && isObject(x.paths))) &&
  (x.systemdUnit === undefined || typeof x.systemdUnit === 'string');

const isSharedMounts = (x: unknown): x is SharedMounts =>
  isObject(x) && typeof x.namespace === 'string' && typeof x.rootfs === 'string' && Array.isArray(x.before);

export const isTeardown = (x: unknown): x is Teardown =>
  isObject(x) &&
  typeof x.pid === 'number' &&
  typeof x.pidStartTime === 'string' &&
  isCgroupState(x.cgroup) &&
  (x.sharedMounts === undefined || isSharedMounts(x.sharedMounts)) &&
  (x.netDevices === undefined || (isObject(x.netDevices) && Array.isArray(x.netDevices.devices))) &&
  (x.intelRdt === undefined || (isObject(x.intelRdt) && typeof x.intelRdt.group === 'string'));

/** The fields every command relies on, for the container id names. */
export const isRecord = (x: unknown, id: string): x is ContainerRecord =>
  isObject(x) &&
  x.id === id &&
  typeof x.pid === 'number' &&
  typeof x.pidStartTime === 'string' &&
  typeof x.status === 'string' &&
  (x.cgroup === undefined || isCgroupState(x.cgroup));
