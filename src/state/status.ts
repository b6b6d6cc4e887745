/**
 * The live status of a container, derived each time from the record and the
 * host (runc does the same): a stored pid that is gone, a zombie, or a
 * different process with the same pid means stopped.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { isSameProcess } from './process-identity';
import type { ContainerRecord, Status } from './store';

/** Hooks for what later parts of runts know (the cgroup freezer knows "paused"). */
export type PausedProbe = (record: ContainerRecord) => boolean;

export function liveStatus(record: ContainerRecord, containerDir: string, isPaused?: PausedProbe): Status {
  if (record.status === 'creating') return 'creating';
  if (!isSameProcess(record.pid, record.pidStartTime)) return 'stopped';
  if (existsSync(join(containerDir, 'exec.fifo'))) return 'created';
  if (isPaused?.(record)) return 'paused';
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
