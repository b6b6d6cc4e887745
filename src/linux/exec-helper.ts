/**
 * The native helper (src/native/runts-helper.c, built into dist/ by
 * `npm run build`): the single-threaded steps between runts' node and the
 * program it starts, which node's spawn and execve cannot take:
 *   - the init's own mount namespace, made (or joined) before node starts,
 *     so that every thread of the init lives in it (init-start.ts startInit);
 *   - the container's user namespace, made (waiting while runts writes
 *     its id maps: user-namespace.ts) or joined before node starts, so
 *     that every thread of the init is born in it, with the pid namespace
 *     owned by it, whose PID 1 the helper forks; and the namespaces only a
 *     single thread can join (user, time);
 *   - the last hop into the container, in the init and in exec: the
 *     program is always exec'd by the helper, run from a sealed memfd, so
 *     that /proc/self/exe during the program's execve is never node nor a
 *     host file the container could reopen for writing (CVE-2019-5736);
 *   - exec's join of a v2 cgroup as one process, its final CPU affinity
 *     after that join (which a cpuset would reset), and a controlling tty.
 * The helper refuses to run under any argv[0] but its own, so a program
 * whose "#!" names /proc/self/exe goes no further.
 */
import { closeSync, existsSync, openSync, readSync, writeSync } from 'node:fs';
import { RuntsError } from '../errors';
import {
  F_ADD_SEALS,
  F_SEAL_GROW,
  F_SEAL_SEAL,
  F_SEAL_SHRINK,
  F_SEAL_WRITE,
  EINVAL,
  MFD_ALLOW_SEALING,
  MFD_CLOEXEC,
  MFD_EXEC,
  O_CLOEXEC,
  O_RDONLY,
} from '../sys/constants';
import { SysError, type Sys } from '../sys/types';

// Beside the bundles in dist/ (scripts/build.mjs).
export const HELPER_PATH = decodeURIComponent(new URL('./runts-helper', import.meta.url).pathname);

/** The helper's argv[0]: under any other name it refuses to run. */
const NAME = 'runts-helper';

/** A namespace to join: at a path, or an fd the helper inherits (and closes once joined). */
export interface HelperJoin {
  /** Its /proc/PID/ns name (mnt, user, time, …). */
  kind: string;
  at: string | number;
}

/** The steps, in the order the helper takes them. */
export interface HelperSteps {
  /** fd of a socket to runts: the steps' sync (user-namespace.ts), and why a step failed. */
  syncFd?: number;
  /** Namespaces joined, in this order. */
  join?: readonly HelperJoin[];
  /** A new user namespace; the helper waits on syncFd while runts writes its maps. */
  newUser?: boolean;
  /** Root (ids 0) of the user namespace joined or made. */
  root?: boolean;
  /** Namespaces made, by their /proc/PID/ns names. */
  unshare?: readonly string[];
  /** Fork PID 1 of the pid namespace just made, runts' child, which goes on; its pid goes to syncFd. */
  fork?: boolean;
  /** fd (in the new process) of the container's cgroup.procs: join it as one process. */
  cgroupFd?: number;
  /** sched_setaffinity to these CPUs, or to every CPU (the kernel keeps those of the cgroup's cpuset). */
  cpus?: readonly number[] | 'all';
  /** setsid + TIOCSCTTY on fd 0. */
  terminal?: boolean;
  /** fd that gets the reason when the program's execve fails (marked close-on-exec). */
  reportFd?: number;
}

/** argv for the helper: its steps, then the program's path and argv. */
export function helperArgv(steps: HelperSteps, path: string, argv: readonly string[]): string[] {
  const words: string[] = [NAME];
  if (steps.syncFd !== undefined) words.push(`sync-fd=${steps.syncFd}`);
  for (const { kind, at } of steps.join ?? []) words.push(`setns=${kind}:${at}`);
  if (steps.newUser) words.push('unshare=user', 'await-maps');
  if (steps.root) words.push('root');
  if (steps.unshare?.length) words.push(`unshare=${steps.unshare.join(',')}`);
  if (steps.fork) words.push('fork');
  if (steps.cgroupFd !== undefined) words.push(`cgroup-fd=${steps.cgroupFd}`);
  if (steps.cpus !== undefined) words.push(`cpus=${steps.cpus === 'all' ? 'all' : steps.cpus.join(',')}`);
  if (steps.terminal) words.push('tty');
  if (steps.reportFd !== undefined) words.push(`report-fd=${steps.reportFd}`);
  return [...words, '--', path, ...argv];
}

function requireHelper(): void {
  if (!existsSync(HELPER_PATH)) {
    throw new RuntsError(
      `${HELPER_PATH} is missing: run \`npm run build\` (it needs a C compiler); runts starts no container without it`,
    );
  }
}

/** The helper on disk, for the init's start (a host process, before any container exists). */
export function helperOnDisk(): string {
  requireHelper();
  return HELPER_PATH;
}

/**
 * A sealed memfd copy of the helper, exec-able as /proc/self/fd/N (close-on-
 * exec: the program does not inherit it). Made before the caller enters the
 * container, while the file is still reachable.
 */
export function sealedHelper(sys: Sys): number {
  requireHelper();
  let memfd: number;
  try {
    memfd = sys.memfdCreate(NAME, MFD_CLOEXEC | MFD_ALLOW_SEALING | MFD_EXEC);
  } catch (err) {
    // Kernels before 6.3 know no MFD_EXEC (and make every memfd exec-able).
    if (!(err instanceof SysError && err.errno === EINVAL)) throw err;
    memfd = sys.memfdCreate(NAME, MFD_CLOEXEC | MFD_ALLOW_SEALING);
  }
  const file = openSync(HELPER_PATH, O_RDONLY | O_CLOEXEC);
  try {
    const buffer = Buffer.allocUnsafe(64 * 1024);
    for (let n; (n = readSync(file, buffer, 0, buffer.length, null)) > 0;) {
      for (let off = 0; off < n;) off += writeSync(memfd, buffer, off, n - off);
    }
  } finally {
    closeSync(file);
  }
  sys.fcntl(memfd, F_ADD_SEALS, F_SEAL_SEAL | F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_WRITE);
  return memfd;
}
