/**
 * Is pid still the process we started? A pid can be reused after the
 * container dies; its start time (field 22 of /proc/PID/stat, in clock
 * ticks since boot) tells one process from another, as runc does.
 */
import { readFileSync } from 'node:fs';

export interface ProcStat {
  state: string;
  /** The parent's pid (field 4). */
  ppid: number;
  startTime: string;
}

export function readProcStat(pid: number): ProcStat | undefined {
  let text: string;
  try {
    text = readFileSync(`/proc/${pid}/stat`, 'latin1');
  } catch {
    return undefined;
  }
  // The command name (field 2) may hold spaces and parentheses: split after the last ')'.
  const fields = text.slice(text.lastIndexOf(')') + 2).split(' ');
  const [state, ppid, startTime] = [fields[0], fields[1], fields[19]];
  return state === undefined || startTime === undefined ? undefined : { state, ppid: Number(ppid), startTime };
}

/** True when pid is alive (not a zombie) and started at startTime. */
export function isSameProcess(pid: number, startTime: string): boolean {
  if (pid <= 0) return false;
  const stat = readProcStat(pid);
  return stat !== undefined && stat.startTime === startTime && stat.state !== 'Z' && stat.state !== 'X';
}
