/**
 * The init's node started, and nothing more (docs/security.md, "The
 * process model"): the first thing `runts create` and `run` do, before
 * the rest of create is even loaded, because the init's node start-up
 * (~20 ms) is the longest step of create. It waits for its plan while
 * this process loads create, validates the config and makes the state
 * and the cgroup; init-process.ts takes it from there (the channel, its
 * end, a user namespace's maps). So this module stays light: no
 * child_process, net or validator. The init is spawned with posix_spawn
 * (no fork of this process: V8 never runs in a copy of it), its channel
 * a socketpair; only the fds decided here reach it (each of ours is
 * close-on-exec).
 *
 * It is spawned from this process's main thread after that thread moved
 * its pid namespace for children, so the init is PID 1 of the container's
 * pid namespace; then the thread moves back, so that hooks run later by
 * create are in the runtime namespace. With a mount namespace in the
 * config, node is started by the helper, which makes (or joins) it first:
 * every thread of the init is then born in it, and none keeps the host's
 * root. With a user namespace the helper makes (or joins) it first, and
 * forks the init as PID 1 of the pid namespace it then makes inside it
 * (user-namespace.ts). namespaceSetup says who does what.
 */
import { closeSync, openSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { RuntsError, errorMessage } from '../errors';
import { CHANNEL_ENV } from '../init/channel';
import { WRITE_CODE_CACHE_ENV } from '../init/code-cache';
import { type HelperJoin, type HelperSteps, helperArgv, helperOnDisk } from '../linux/exec-helper';
import { primeCgroupMigration } from '../linux/cgroups/prime';
import { IDMAP_WORDS } from '../linux/mount-options';
import { type NamespaceRequest, type NamespaceSetup, namespaceKind, namespaceSetup } from '../linux/namespaces';
import { signalNumber } from '../linux/signals';
import { mark, profileEnv } from '../profile';
import type { NamespaceReference } from '../spec/types';
import { checkContainerId } from '../state/id';
import { readProcStat } from '../state/process-identity';
import { CLONE_NEWPID, FD_CLOEXEC, F_DUPFD_CLOEXEC, F_SETFD } from '../sys/constants';
import type { Sys } from '../sys/types';

// The init bundle sits beside the CLI bundle in dist/ (scripts/build.mjs).
export const INIT_BUNDLE = decodeURIComponent(new URL('./init.cjs', import.meta.url).pathname);

/**
 * The init's fds, decided here alone (the channel's number reaches the init
 * in its environment, the others' in its plan): stdio, the preserved fds
 * (3…), the channel, then the socket for the pty master when create keeps
 * the terminal (foreground `run`) or, with a user namespace, the console
 * socket create connected for it, then the socket its id-mapped mounts
 * come over, then with a user namespace the socket that brings exec.fifo
 * (the init, root of the user namespace only, cannot reach it in the state
 * dir) and the helper's sync socket (closed before node starts).
 */
export interface InitFds {
  channel: number;
  terminal?: number;
  idmappedMounts?: number;
  fifo?: number;
}

/** A spawned init, before init-process.ts has taken it on. */
export interface StartedInit {
  /** The process spawned: node, or the helper that starts it. */
  pid: number;
  fds: InitFds;
  /** This process's end of the channel (a socketpair). */
  channel: number;
  /** Its end of the socket exec.fifo goes over (with a user namespace). */
  fifo?: number;
  /** Its end of the helper's sync socket (with a user namespace). */
  sync?: number;
  /** The helper forks PID 1 (its pid comes over the sync socket) and exits. */
  forks: boolean;
  /** A user namespace joined by path: the config's id maps must be its own (checkJoinedMappings). */
  joinsUser: boolean;
}

/** Moves this thread's pid namespace for children (to the one at a path, or a new one); returns how to move back. */
function enterChildPidNamespace(s: Sys, ns: NamespaceRequest | undefined): () => void {
  if (!ns) return () => {};
  const own = openSync('/proc/self/ns/pid', 'r');
  const restore = () => {
    s.setns(own, CLONE_NEWPID);
    closeSync(own);
  };
  try {
    if (ns.path) {
      let target: number;
      try {
        target = openSync(ns.path, 'r');
      } catch (err) {
        throw new RuntsError(`joining ${ns.type} namespace ${ns.path}: ${(err as Error).message}`);
      }
      try {
        s.setns(target, CLONE_NEWPID);
      } finally {
        closeSync(target);
      }
    } else {
      s.unshare(CLONE_NEWPID);
    }
  } catch (err) {
    restore();
    throw err;
  }
  return restore;
}

/**
 * What the helper does before node: joins in runc's order (a user
 * namespace joined by path first; a new one is made after the other joins,
 * those of namespaces the host owns, while still the host's root); root of
 * the user namespace; the namespaces it makes; PID 1 forked.
 */
function initHelperSteps(setup: NamespaceSetup, syncFd: number | undefined): HelperSteps {
  const joins: HelperJoin[] = setup.helperJoins.map((ns) => ({ kind: namespaceKind(ns.type).procName, at: ns.path! }));
  if (setup.user?.path) joins.unshift({ kind: 'user', at: setup.user.path });
  return {
    ...(syncFd !== undefined ? { syncFd } : {}),
    ...(joins.length ? { join: joins } : {}),
    ...(setup.user ? { newUser: !setup.user.path, root: true } : {}),
    ...(setup.helperNew.length ? { unshare: setup.helperNew.map((type) => namespaceKind(type).procName) } : {}),
    ...(setup.helperNew.includes('pid') ? { fork: true } : {}),
  };
}

/**
 * What the init is spawned as, from the config's namespaces and the fds it
 * is given: the program (node, or the helper that starts it), its argv and
 * environment, the numbers of its fds, its pid namespace. The launcher
 * (src/native/runts-launch.c) spawns the same before node starts, when the
 * config is plain; describeSpawn is what the two compare.
 */
interface InitSpawn {
  file: string;
  argv: string[];
  env: string[];
  fds: InitFds;
  /** How many fds the init gets: 0 to count-1. */
  count: number;
  setup: NamespaceSetup;
  steps: HelperSteps;
}

function initSpawn(
  namespaces: readonly NamespaceReference[],
  preserveFds: number,
  terminal: boolean,
  idmappedMounts: boolean,
): InitSpawn {
  // stdio and the preserved fds as they are, then the channel and the sockets (InitFds).
  let count = 3 + preserveFds;
  const fds: InitFds = { channel: count++ };
  if (terminal) fds.terminal = count++;
  if (idmappedMounts) fds.idmappedMounts = count++;
  const setup = namespaceSetup(namespaces);
  if (setup.user) fds.fifo = count++;
  const syncFd = setup.user ? count++ : undefined;
  const steps = initHelperSteps(setup, syncFd);
  // The init counts against the container's pids limit until it execs:
  // one V8 worker and one libuv pool thread keep node at 5 tasks, not 11.
  const nodeArgv = [process.execPath, '--v8-pool-size=1', INIT_BUNDLE];
  const [file, argv] = Object.keys(steps).length
    ? [helperOnDisk(), helperArgv(steps, process.execPath, nodeArgv)]
    : [process.execPath, nodeArgv];
  // The init's own environment: nothing of the caller's reaches node
  // (NODE_OPTIONS and the like); the container's env is in the plan.
  // Only RUNTS_PROFILE, when profiling (profile.ts), passes on, and
  // RUNTS_WRITE_CODE_CACHE when the build makes the code caches (load.ts).
  const env = Object.entries({
    [CHANNEL_ENV]: String(fds.channel),
    UV_THREADPOOL_SIZE: '1',
    ...profileEnv(),
    ...(process.env[WRITE_CODE_CACHE_ENV] ? { [WRITE_CODE_CACHE_ENV]: '1' } : {}),
  }).map(([k, v]) => `${k}=${v}`);
  return { file, argv, env, fds, count, setup, steps };
}

/**
 * A spawn as one text: the launcher writes its own the same way
 * (runts-launch.c describe_spawn). The pid namespace is "new", "none" or
 * the path joined; the other lines are the fds' count, the program, its
 * argv and its environment.
 */
export function describeSpawn(spawn: InitSpawn): string {
  const pid = spawn.setup.pid ? (spawn.setup.pid.path ?? 'new') : 'none';
  return [`pid=${pid}`, `fds=${spawn.count}`, spawn.file, `argv=${spawn.argv.length}`, ...spawn.argv, ...spawn.env].join('\n');
}

/**
 * Set by the launcher when it spawned the init before node started: the
 * init's pid, this process's end of its channel, the pipe that keeps the
 * launcher's cgroup primer going and the primer's pid (src/native/
 * cgroup-primer.c), if it started one, and what it spawned (describeSpawn's
 * text): "pid=N\nchannel=FD\n[primer=FD PID\n]DESCRIPTION".
 */
export const LAUNCHED_INIT_ENV = '_RUNTS_LAUNCHED_INIT';

/** An init the launcher spawned: create adopts it if it is what create would spawn, and drops it otherwise. */
export interface LaunchedInit {
  pid: number;
  channel: number;
  /** The cgroup primer, a child of this process: closing its pipe ends it (once the init has joined its cgroup). */
  primer?: CgroupPrimer;
  spawned: string;
  /** Adopted by startInit, or dropped: once either, for good. */
  fate?: 'adopted' | 'dropped';
}

/**
 * The init the launcher spawned for this command, if it did: taken once
 * (the variable leaves the environment, the channel becomes close-on-exec).
 * Only a child of this process is taken: one named by anything else is no
 * init of ours.
 */
export function takeLaunchedInit(sys: Sys): LaunchedInit | undefined {
  const text = process.env[LAUNCHED_INIT_ENV];
  if (text === undefined) return undefined;
  delete process.env[LAUNCHED_INIT_ENV];
  const head = /^pid=(\d+)\nchannel=(\d+)\n(?:primer=(\d+) (\d+)\n)?/.exec(text);
  if (!head) return undefined;
  const [pid, channel] = [Number(head[1]), Number(head[2])];
  const primer = head[3] === undefined ? undefined : { pipe: Number(head[3]), pid: Number(head[4]) };
  if (readProcStat(pid)?.ppid !== process.pid) return undefined;
  for (const fd of [channel, primer?.pipe]) if (fd !== undefined) sys.fcntl(fd, F_SETFD, FD_CLOEXEC);
  return { pid, channel, ...(primer ? { primer } : {}), spawned: text.slice(head[0].length) };
}

/** A launched init create did not adopt: killed and reaped, its channel closed. */
export function dropLaunchedInit(sys: Sys, launched: LaunchedInit): void {
  if (launched.fate) return;
  launched.fate = 'dropped';
  closeSync(launched.channel);
  if (launched.primer) endPrimer(sys, launched.primer);
  reap(sys, launched.pid, true);
}

/** The launcher's cgroup primer (src/native/cgroup-primer.c): the pipe whose closing ends it, and its pid. */
export interface CgroupPrimer {
  pipe: number;
  pid: number;
}

function endPrimer(sys: Sys, primer: CgroupPrimer): void {
  closeSync(primer.pipe);
  reap(sys, primer.pid);
}

/** Reaps a child libuv does not know (the helper, what it forked, a launched init), killed first unless it ends anyway. */
export function reap(sys: Sys, pid: number, kill = false): void {
  const pidfd = sys.pidfdOpen(pid);
  try {
    if (kill) sys.pidfdSendSignal(pidfd, signalNumber('SIGKILL')!);
    sys.waitPidfd(pidfd, false);
  } finally {
    closeSync(pidfd);
  }
}

/**
 * Spawns the init, or adopts the one the launcher spawned when it is the
 * same spawn. terminalSocket: the init's end of the socket it sends the
 * pty master on (InitFds.terminal in the init); idmapSocket: of the one it
 * receives its id-mapped mounts on (InitFds.idmappedMounts). The caller
 * closes both.
 */
export function startInit(
  sys: Sys,
  namespaces: readonly NamespaceReference[],
  preserveFds: number,
  terminalSocket?: number,
  idmapSocket?: number,
  launched?: LaunchedInit,
): StartedInit {
  const spawn = initSpawn(namespaces, preserveFds, terminalSocket !== undefined, idmapSocket !== undefined);
  const { file, argv, env, fds, setup, steps } = spawn;
  if (launched && !launched.fate && describeSpawn(spawn) === launched.spawned) {
    launched.fate = 'adopted';
    return { pid: launched.pid, fds, channel: launched.channel, forks: false, joinsUser: false };
  }
  // What becomes each fd of the init, entry N being its fd N: stdio and the preserved fds as they are.
  const sources = Array.from({ length: 3 + preserveFds }, (_, i) => i);
  const pairs: [number, number][] = [];
  const pair = () => pairs[pairs.push(sys.socketpair()) - 1]!;
  const channel = pair();
  sources.push(channel[1]);
  if (terminalSocket !== undefined) sources.push(terminalSocket);
  if (idmapSocket !== undefined) sources.push(idmapSocket);
  const fifoPair = setup.user ? pair() : undefined;
  if (fifoPair) sources.push(fifoPair[1]);
  const syncPair = setup.user ? pair() : undefined;
  if (syncPair) sources.push(syncPair[1]);
  const copies: number[] = [];
  const moves = fdMoves(sources, (fd, min) => copies[copies.push(sys.fcntl(fd, F_DUPFD_CLOEXEC, min)) - 1]!);
  let pid: number;
  try {
    const restore = enterChildPidNamespace(sys, setup.pid);
    try {
      pid = sys.spawnDetached(file, argv, env, { fds: moves, setsid: false });
    } finally {
      restore();
    }
  } catch (err) {
    for (const [ours] of pairs) closeSync(ours);
    throw err instanceof RuntsError ? err : new RuntsError(`cannot start the container init (${file}): ${errorMessage(err)}`);
  } finally {
    // The init's ends: its own copies are all it needs.
    for (const fd of copies) closeSync(fd);
    for (const [, theirs] of pairs) closeSync(theirs);
  }
  return {
    pid,
    fds,
    channel: channel[0],
    ...(fifoPair ? { fifo: fifoPair[0] } : {}),
    ...(syncPair ? { sync: syncPair[0] } : {}),
    forks: !!steps.fork,
    joinsUser: !!setup.user?.path,
  };
}

/**
 * The dup2s that give a new process sources[N] as its fd N, for
 * posix_spawn, which makes them in order: a source numbered like one of
 * the new process's fds (other than its own) would be overwritten before
 * its turn, so it is copied above them all first (copyAbove: a
 * close-on-exec copy numbered at least min, which the caller closes).
 */
export function fdMoves(sources: readonly number[], copyAbove: (fd: number, min: number) => number): [number, number][] {
  return sources.map((from, to): [number, number] =>
    from === to || from >= sources.length ? [from, to] : [copyAbove(from, sources.length), to],
  );
}

/** What create is asked that the start of the init depends on (CreateOptions). */
export interface BeginOptions {
  containerId: string;
  bundle: string;
  preserveFds: number;
  consoleSocket?: string;
  keepTerminal?: boolean;
  /** The init the launcher spawned, adopted if it is the one begin would spawn. */
  launched?: LaunchedInit;
}

/** create's first steps, from the raw config: the init spawned unless it waits for validation. */
export interface Begun {
  bundle: string;
  /** config.json, parsed, not yet validated. */
  doc: unknown;
  listenFds: number;
  preserveFds: number;
  namespaces: NamespaceReference[];
  /** The socketpair the pty master comes over (create keeps the terminal). */
  terminalPair?: [number, number];
  /** The socketpair id-mapped mounts go over (idmapped-mounts.ts). */
  idmapPair?: [number, number];
  /** The init, unless it is spawned only once the config has passed validation (a user namespace). */
  started?: StartedInit;
  /** The launcher's cgroup primer, with its init: create ends it once the init has joined its cgroup. */
  cgroupPrimer?: CgroupPrimer;
}

/**
 * The init spawned from what the raw config asks of it (its pid
 * namespace, its fds), before create validates the config: if that
 * fails, create kills it. With a user namespace the id maps are written
 * as the init is spawned: only once the config has passed validation, so
 * that a bad mapping is reported with its pointer, not as the kernel's
 * refusal. The pairs' ends for the init are closed once it has them.
 */
export function begin(sys: Sys, args: BeginOptions, bundle: string, doc: unknown): Begun {
  const raw = doc as { process?: { terminal?: unknown }; linux?: { namespaces?: unknown } };
  const listenFds = socketActivationFds();
  const preserveFds = listenFds + args.preserveFds;
  const wantsTerminal = raw.process?.terminal === true;
  // The init sends the pty master over its end of a socketpair (its fd there: init.fds.terminal).
  const terminalPair = wantsTerminal && !args.consoleSocket && args.keepTerminal ? sys.socketpair() : undefined;
  // Id-mapped mounts are made by create and sent over a socket of their own (idmapped-mounts.ts).
  const idmapPair = rawIdmappedMounts(doc) ? sys.socketpair() : undefined;
  const namespaces = rawNamespaces(raw.linux?.namespaces);
  const begun: Begun = {
    bundle,
    doc,
    listenFds,
    preserveFds,
    namespaces,
    ...(terminalPair ? { terminalPair } : {}),
    ...(idmapPair ? { idmapPair } : {}),
  };
  if (namespaces.some((ns) => ns.type === 'user')) return begun;
  try {
    startBegun(sys, begun, undefined, args.launched);
  } catch (err) {
    for (const p of [terminalPair, idmapPair]) if (p) p.forEach((fd) => closeSync(fd));
    throw err;
  }
  return begun;
}

/**
 * The init spawned with begun's fds (terminalSocket: where its pty master
 * goes when create keeps no terminal of its own), or the launcher's
 * adopted; begun.started says it is, and the pairs' ends for the init are
 * closed once it has them.
 */
export function startBegun(sys: Sys, begun: Begun, terminalSocket?: number, launched?: LaunchedInit): StartedInit {
  const { namespaces, preserveFds, terminalPair, idmapPair } = begun;
  if (!launched) mark('spawn init');
  begun.started = startInit(sys, namespaces, preserveFds, terminalPair?.[1] ?? terminalSocket, idmapPair?.[1], launched);
  if (launched?.fate === 'adopted' && launched.primer) begun.cgroupPrimer = launched.primer;
  for (const pair of [terminalPair, idmapPair]) if (pair) closeSync(pair[1]);
  mark(launched?.fate === 'adopted' ? 'init adopted' : 'init spawned');
  return begun.started;
}

/**
 * Ends the launcher's cgroup primer (Begun.cgroupPrimer), if any, and
 * reaps it: once the init has joined its cgroup and has its plan, or
 * create failed.
 */
export function endCgroupPrimer(sys: Sys, begun: Begun): void {
  if (!begun.cgroupPrimer) return;
  endPrimer(sys, begun.cgroupPrimer);
  delete begun.cgroupPrimer;
}

/**
 * Where dist/begin.cjs (src/cli/begin.ts), loaded by bin/runts before the
 * CLI bundle, leaves what it began: the two bundles share no module.
 */
const EARLY_BEGUN = Symbol.for('runts.early-begun');
const earlyBegun = globalThis as { [EARLY_BEGUN]?: Begun };

/** begin.cjs's side: what it began, for the CLI bundle's create or run. */
export function leaveEarlyBegun(begun: Begun): void {
  earlyBegun[EARLY_BEGUN] = begun;
}

/** The CLI bundle's side: what begin.cjs began for this command, taken once (undefined if it began nothing). */
export function takeEarlyBegun(): Begun | undefined {
  const begun = earlyBegun[EARLY_BEGUN];
  delete earlyBegun[EARLY_BEGUN];
  return begun;
}

/**
 * The first steps of the `create` and `run` commands: the init's node
 * (beginEarly), whose start-up overlaps the loading of create and all that
 * follows; then the cgroup move's wait begins (prime.ts).
 */
export function beginCommand(sys: Sys, args: BeginOptions): Begun | undefined {
  const begun = beginEarly(sys, args);
  void primeCgroupMigration();
  return begun;
}

/**
 * `runts create` and `run`, before create's modules load: the init
 * spawned at once (begin), when the id and config.json are readable.
 * Otherwise nothing is done here, and create fails as it would have,
 * with its own message.
 */
export function beginEarly(sys: Sys, args: BeginOptions): Begun | undefined {
  let bundle: string;
  let doc: unknown;
  try {
    checkContainerId(args.containerId);
    bundle = resolve(args.bundle);
    // As readConfigFile reads it (spec/load.ts), which is not loaded yet.
    doc = JSON.parse(readFileSync(join(bundle, 'config.json'), 'utf8'));
  } catch {
    return undefined;
  }
  if (typeof doc !== 'object' || doc === null) return undefined;
  return begin(sys, args, bundle, doc);
}

/** linux.namespaces as the raw config has it (validated later): only well-formed entries. */
function rawNamespaces(value: unknown): NamespaceReference[] {
  if (!Array.isArray(value)) return [];
  // The first of each type: a duplicate would fail the spawn (unshare EINVAL)
  // before validation could refuse the config with its own message.
  const types = new Set<string>();
  return value.filter((n): n is NamespaceReference => {
    const wellFormed =
      typeof n === 'object' && n !== null && typeof n.type === 'string' && (n.path === undefined || typeof n.path === 'string');
    if (!wellFormed || types.has(n.type)) return false;
    types.add(n.type);
    return true;
  });
}

/** Whether the raw config asks for an id-mapped mount (validated later): mappings on a mount, or idmap/ridmap. */
function rawIdmappedMounts(doc: unknown): boolean {
  const mounts = (doc as { mounts?: unknown }).mounts;
  if (!Array.isArray(mounts)) return false;
  return mounts.some((m: { uidMappings?: unknown; gidMappings?: unknown; options?: unknown }) => {
    if (typeof m !== 'object' || m === null) return false;
    const words = Array.isArray(m.options) ? m.options : [];
    return m.uidMappings !== undefined || m.gidMappings !== undefined || words.some((w) => IDMAP_WORDS.includes(w));
  });
}

/** sd_listen_fds(3): fds 3.. passed to this very process by its caller. */
function socketActivationFds(): number {
  const n = Number(process.env.LISTEN_FDS);
  return Number.isInteger(n) && n > 0 && Number(process.env.LISTEN_PID) === process.pid ? n : 0;
}
