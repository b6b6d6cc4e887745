/**
 * The container's init as a process: signalled only while it is still the
 * process the record names. (All of the container's processes are those
 * of its cgroup: src/linux/cgroups.)
 */
import { RuntsError } from '../errors';
import { type Held, procPidOf, signalConfirmed } from '../linux/process-signal';
import { isSameProcess } from '../state/process-identity';

/**
 * Signals pid only if it is still the process the record names (its start
 * time, as runc checks it), checked once a pidfd holds it and signalled
 * through that pidfd (process-signal.ts). False when it is gone.
 */
export function signalProcess(pid: number, startTime: string, signal: number): boolean {
  // A container that is gone costs no pidfd (nor ffi-rs).
  if (!isSameProcess(pid, startTime)) return false;
  if (signalConfirmed([pid], signal, (held) => held.filter((h) => isInit(h, startTime))).length === 1) return true;
  // /proc still shows the init, but this process could not reach it under that pid.
  if (isSameProcess(pid, startTime)) throw notReachable(pid, 0);
  return false;
}

/**
 * The record's pid and start time are those of create's pid namespace and
 * /proc. Seen from another pid namespace the same number can be another
 * process: the held process must be the one /proc shows under that pid.
 */
function isInit(h: Held, startTime: string): boolean {
  const procPid = procPidOf(h);
  if (procPid === -1) return false; // exited
  if (procPid !== h.pid) throw notReachable(h.pid, procPid);
  return isSameProcess(h.pid, startTime);
}

const notReachable = (pid: number, procPid: number) =>
  new RuntsError(
    `pid ${pid} is not the container's init in this pid namespace${procPid > 0 ? ` (here it is the process /proc shows as ${procPid})` : ''}: run runts in the pid namespace that created the container`,
  );
