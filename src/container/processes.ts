/**
 * The container's init as a process: signalled only while it is still the
 * process the record names, and waited for. (All of the container's
 * processes are those of its cgroup: src/linux/cgroups.)
 */
import { closeSync } from 'node:fs';
import { pollUntil } from '../poll';
import { isSameProcess } from '../state/process-identity';
import { sys } from '../sys/index';

/**
 * Signals pid only if it is still the process the record names: the pidfd
 * is taken first, then the start time checked, so a reused pid is never hit.
 */
export function signalProcess(pid: number, startTime: string, signal: number): boolean {
  const s = sys();
  let pidfd: number;
  try {
    pidfd = s.pidfdOpen(pid);
  } catch {
    return false;
  }
  try {
    if (!isSameProcess(pid, startTime)) return false;
    s.pidfdSendSignal(pidfd, signal);
    return true;
  } finally {
    closeSync(pidfd);
  }
}

/** Waits (up to timeoutMs) until the process is gone or a zombie. */
export const waitForExit = (pid: number, startTime: string, timeoutMs = 10_000): boolean =>
  pollUntil(() => !isSameProcess(pid, startTime), timeoutMs);
