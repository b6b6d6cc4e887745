/**
 * The container's init as a process: signalled only while it is still the
 * process the record names, and waited for. (All of the container's
 * processes are those of its cgroup: src/linux/cgroups.)
 */
import { pollUntil } from '../poll';
import { isSameProcess } from '../state/process-identity';

/**
 * Signals pid only if it is still the process the record names (its start
 * time), as runc does. A pidfd would close the window between the check and
 * the signal, but loading ffi-rs would cost `kill` about 1 ms, a twentieth
 * of its whole time; the window is a pid being freed and reused within
 * microseconds, by an unrelated process, between two system calls.
 */
export function signalProcess(pid: number, startTime: string, signal: number): boolean {
  if (!isSameProcess(pid, startTime)) return false;
  try {
    process.kill(pid, signal);
    return true;
  } catch {
    return false;
  }
}

/** Waits (up to timeoutMs) until the process is gone or a zombie. */
export const waitForExit = (pid: number, startTime: string, timeoutMs = 10_000): boolean =>
  pollUntil(() => !isSameProcess(pid, startTime), timeoutMs);
