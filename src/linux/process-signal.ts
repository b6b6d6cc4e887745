/**
 * The one way runts signals a process it did not spawn itself (kill,
 * delete, a start whose poststart hook failed). Two rules:
 *   - never a pid <= 0: kill(2) reads 0 as "my own process group" and -1
 *     as "every process I may signal". cgroup v2's cgroup.procs shows 0 for
 *     a member outside the reader's pid namespace; signalled as a pid, that
 *     killed runts' own process group and left the container frozen.
 *   - only a process confirmed to be the container's, and confirmed after
 *     a pidfd holds it; the signal goes through that pidfd. A pid freed and
 *     reused between the check and the signal is then never hit: the pidfd
 *     still names the old process, and signalling it fails with ESRCH.
 * A pidfd costs loading ffi-rs (about 1 ms); a command that finds nothing
 * to signal never loads it.
 */
import { closeSync, readFileSync } from 'node:fs';
import { ENOSYS, ESRCH } from '../sys/constants';
import { type Sys, SysError, sys } from '../sys/index';

/** A process held for signalling: by a pidfd, or by its pid alone where the kernel has no pidfd_open (before 5.3). */
export interface Held {
  readonly pid: number;
  readonly pidfd?: number;
}

export const isProcessId = (pid: number): boolean => Number.isSafeInteger(pid) && pid > 0;

/**
 * Sends signal to those of pids that confirm() returns, asked once every
 * one of them is held. Returns the pids signalled (not the ones that had
 * exited meanwhile).
 */
export function signalConfirmed(
  pids: readonly number[],
  signal: number,
  confirm: (held: readonly Held[]) => readonly Held[],
): number[] {
  const targets = [...new Set(pids.filter(isProcessId))];
  if (!targets.length) return [];
  const s = sys();
  const held: Held[] = [];
  try {
    for (const pid of targets) {
      const h = hold(s, pid);
      if (h) held.push(h);
    }
    return confirm(held)
      .filter((h) => send(s, h, signal))
      .map((h) => h.pid);
  } finally {
    for (const h of held) if (h.pidfd !== undefined) closeSync(h.pidfd);
  }
}

/**
 * The held process's pid as this process's /proc numbers it (the pidfd's
 * fdinfo, Linux 5.5+): 0 when /proc's pid namespace does not see it, -1
 * once it has exited. pidfd_open reads pids in this process's own pid
 * namespace, /proc in that of its mount; they differ when runts runs in a
 * pid namespace of its own with the host's /proc.
 */
export function procPidOf(h: Held): number {
  if (h.pidfd === undefined) return h.pid;
  const m = /^Pid:\s*(-?\d+)$/m.exec(readFileSync(`/proc/self/fdinfo/${h.pidfd}`, 'latin1'));
  return m ? Number(m[1]) : h.pid;
}

let pidfdMissing = false;

function hold(s: Sys, pid: number): Held | undefined {
  if (pidfdMissing) return { pid };
  try {
    return { pid, pidfd: s.pidfdOpen(pid) };
  } catch (err) {
    if (errnoOf(err) === ESRCH) return undefined; // gone already
    if (errnoOf(err) !== ENOSYS) throw err;
    pidfdMissing = true;
    return { pid };
  }
}

function send(s: Sys, h: Held, signal: number): boolean {
  try {
    if (h.pidfd === undefined) process.kill(h.pid, signal);
    else s.pidfdSendSignal(h.pidfd, signal);
    return true;
  } catch (err) {
    if (errnoOf(err) === ESRCH) return false;
    throw err;
  }
}

const errnoOf = (err: unknown): number | undefined =>
  err instanceof SysError ? err.errno : (err as NodeJS.ErrnoException).code === 'ESRCH' ? ESRCH : undefined;
