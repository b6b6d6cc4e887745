/**
 * The processes of a container, and waiting for them to go. Until the
 * cgroup manager lands ([4/7]), "the container's processes" are those in
 * the init's pid namespace when it has its own, else the init alone.
 */
import { closeSync, readdirSync, readlinkSync } from 'node:fs';
import { isSameProcess } from '../state/process-identity';
import type { ContainerRecord } from '../state/store';
import { sys } from '../sys/index';

const nsOf = (pid: number | string): string | undefined => {
  try {
    return readlinkSync(`/proc/${pid}/ns/pid`);
  } catch {
    return undefined;
  }
};

export function containerPids(record: ContainerRecord): number[] {
  const initNs = nsOf(record.pid);
  if (!initNs || initNs === nsOf('self')) return [record.pid];
  const pids: number[] = [];
  for (const name of readdirSync('/proc')) {
    if (/^\d+$/.test(name) && nsOf(name) === initNs) pids.push(Number(name));
  }
  return pids;
}

/**
 * Signals pid only if it is still the process the record names: the pidfd
 * is taken first, then the start time checked, so a reused pid is never hit.
 */
export function signalProcess(pid: number, startTime: string | undefined, signal: number): boolean {
  const s = sys();
  let pidfd: number;
  try {
    pidfd = s.pidfdOpen(pid);
  } catch {
    return false;
  }
  try {
    if (startTime !== undefined && !isSameProcess(pid, startTime)) return false;
    s.pidfdSendSignal(pidfd, signal);
    return true;
  } finally {
    closeSync(pidfd);
  }
}

const sleep = (ms: number) => Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);

/** Waits (up to timeoutMs) until the process is gone or a zombie. */
export function waitForExit(pid: number, startTime: string, timeoutMs = 10_000): boolean {
  const deadline = Date.now() + timeoutMs;
  for (let delay = 1; isSameProcess(pid, startTime); delay = Math.min(delay * 2, 20)) {
    if (Date.now() > deadline) return false;
    sleep(delay);
  }
  return true;
}
