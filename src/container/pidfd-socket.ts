/**
 * --pidfd-socket (runc 1.2's): the caller's AF_UNIX socket gets a pidfd of
 * the container's process, as SCM_RIGHTS, with runc's words for which one
 * it is: "standard" for create and run (the init), "setns" for exec. A
 * pidfd names that process and no other, whatever becomes of its pid.
 * runc's init sends its own; here the runtime opens it once the process
 * exists (create: the init has set the container up; exec: it is spawned).
 */
import { resolve } from 'node:path';
import type { Sys } from '../sys/types';

export type PidfdKind = 'standard' | 'setns';

/** Connected now: exec enters the container's mount namespace before the process exists. */
export function connectPidfdSocket(sys: Sys, path: string): number {
  return sys.connectUnix(resolve(path));
}

/** Sends pid's pidfd over the connection, then closes both. */
export function sendPidfd(sys: Sys, connection: number, pid: number, kind: PidfdKind): void {
  try {
    const pidfd = sys.pidfdOpen(pid);
    try {
      sys.sendFds(connection, Buffer.from(kind), [pidfd]);
    } finally {
      sys.close(pidfd);
    }
  } finally {
    sys.close(connection);
  }
}
