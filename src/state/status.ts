/**
 * The live status of a container, derived each time from the record and the
 * host (runc does the same): a stored pid that is gone, a zombie, or a
 * different process with the same pid means stopped.
 */
import { isSameProcess } from './process-identity';
import type { ContainerRecord } from './record';
import type { StateStore } from './store';

export type Status = 'creating' | 'created' | 'running' | 'paused' | 'stopped';

/** What the cgroup freezer knows: asked only of a container whose init runs past start. */
export type PausedProbe = (record: ContainerRecord) => boolean;

export function liveStatus(store: StateStore, record: ContainerRecord, isPaused: PausedProbe): Status {
  if (record.status === 'creating') return 'creating';
  if (!isSameProcess(record.pid, record.pidStartTime)) return 'stopped';
  if (store.hasExecFifo(record.id)) return 'created';
  if (isPaused(record)) return 'paused';
  return 'running';
}

/** The state document: the OCI fields plus runc's rootfs, created and owner (go-runc reads them). */
export interface OciState {
  ociVersion: string;
  id: string;
  pid: number;
  status: Status;
  bundle: string;
  rootfs: string;
  created: string;
  owner: string;
  annotations?: Record<string, string>;
}

export function ociState(record: ContainerRecord, status: Status): OciState {
  const state: OciState = {
    ociVersion: record.ociVersion,
    id: record.id,
    // The spec: pid is required while created or running; runc reports 0 once stopped.
    pid: status === 'stopped' ? 0 : record.pid,
    status,
    bundle: record.bundle,
    rootfs: record.rootfs,
    created: record.created,
    owner: record.owner,
  };
  if (record.annotations && Object.keys(record.annotations).length) state.annotations = record.annotations;
  return state;
}
