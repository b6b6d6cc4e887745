/**
 * The last steps before execve, in runc's order (finalizeNamespace):
 * rlimits and oom_score_adj while still fully privileged; the bounding set;
 * groups, gid, uid (keeping capabilities across the uid change); the
 * effective/permitted/inheritable sets; ambient; no_new_privs.
 */
import { readFileSync } from 'node:fs';
import { RuntsError, errorMessage } from '../errors';
import {
  PR_CAPBSET_DROP,
  PR_CAP_AMBIENT,
  PR_CAP_AMBIENT_CLEAR_ALL,
  PR_CAP_AMBIENT_RAISE,
  PR_SET_KEEPCAPS,
  PR_SET_NO_NEW_PRIVS,
} from '../sys/constants';
import type { Sys } from '../sys/types';
import { writeProcFile } from './procfs';

/** What these steps set of the process: its ids, capabilities and limits (spec/plan.ts plans them). */
export interface ProcessCredentials {
  uid: number;
  gid: number;
  additionalGids: number[];
  /** Capability numbers per set; a set the config leaves out is empty. */
  capabilities: { bounding: number[]; effective: number[]; permitted: number[]; inheritable: number[]; ambient: number[] };
  rlimits: { resource: number; soft: number; hard: number }[];
  noNewPrivileges: boolean;
  oomScoreAdj?: number;
}

/** Highest capability number this kernel knows (read before pivot_root: /proc may be absent later). */
export function lastCap(): number {
  try {
    return Number(readFileSync('/proc/sys/kernel/cap_last_cap', 'utf8').trim());
  } catch {
    return 40;
  }
}

const mask = (caps: readonly number[]): bigint => caps.reduce((m, c) => m | (1n << BigInt(c)), 0n);

export function applyRlimits(sys: Sys, proc: ProcessCredentials): void {
  for (const r of proc.rlimits) sys.setrlimit(r.resource, BigInt(r.soft), BigInt(r.hard));
}

export function applyOomScoreAdj(sys: Sys, proc: ProcessCredentials): void {
  if (proc.oomScoreAdj === undefined) return;
  try {
    writeProcFile(sys, '/proc/self/oom_score_adj', String(proc.oomScoreAdj));
  } catch (err) {
    throw new RuntsError(`oomScoreAdj ${proc.oomScoreAdj}: ${errorMessage(err)}`);
  }
}

export function applyCredentials(sys: Sys, proc: ProcessCredentials, highestCap: number): void {
  const caps = proc.capabilities;
  const bounding = new Set(caps.bounding);
  for (let cap = 0; cap <= highestCap; cap++) if (!bounding.has(cap)) sys.prctl(PR_CAPBSET_DROP, cap);

  // Keep the permitted set across setresuid from 0, so capset below can still grant.
  sys.prctl(PR_SET_KEEPCAPS, 1);
  sys.setgroups(proc.additionalGids);
  sys.setresgid(proc.gid, proc.gid, proc.gid);
  sys.setresuid(proc.uid, proc.uid, proc.uid);
  sys.prctl(PR_SET_KEEPCAPS, 0);

  sys.capset({ effective: mask(caps.effective), permitted: mask(caps.permitted), inheritable: mask(caps.inheritable) });
  sys.prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL);
  for (const cap of caps.ambient) {
    try {
      sys.prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_RAISE, cap);
    } catch {
      // The kernel refuses an ambient cap not in both permitted and
      // inheritable; runc skips it too (runc spec's default lists ambient
      // caps without inheritable ones).
    }
  }
  if (proc.noNewPrivileges) sys.prctl(PR_SET_NO_NEW_PRIVS, 1);
}
