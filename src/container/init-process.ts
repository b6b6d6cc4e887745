/**
 * Starting the init (docs/security.md, "The process model"): a fresh node on
 * dist/init.cjs, spawned from this process's main thread after that thread
 * moved its pid namespace for children, so the init is PID 1 of
 * the container's pid namespace. Then the thread moves back, so that hooks
 * run later by create are in the runtime namespace. With a mount namespace
 * in the config, node is started by the helper, which makes (or joins) it
 * first: every thread of the init is then born in it, and none keeps the
 * host's root (node's own threads would, were the init to unshare it).
 * With a user namespace the helper makes (or joins) it first, while this
 * process writes its id maps, and forks the init as PID 1 of the pid
 * namespace it then makes inside it (user-namespace.ts): the init is still
 * this process's child, but not one node knows of, so it is signalled and
 * waited for through a pidfd. namespaceSetup says who does what.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { closeSync, openSync } from 'node:fs';
import { createInterface } from 'node:readline';
import type { Readable, Writable } from 'node:stream';
import { RuntsError } from '../errors';
import { profileEnv } from '../profile';
import { CHANNEL_ENV, type FromInit, type ToInit } from '../init/channel';
import { type HelperJoin, type HelperSteps, helperArgv, helperOnDisk } from '../linux/exec-helper';
import { type NamespaceRequest, type NamespaceSetup, namespaceKind, namespaceSetup } from '../linux/namespaces';
import { signalName, signalNumber } from '../linux/signals';
import { type IdMappings, answerHelper, checkJoinedMappings } from '../linux/user-namespace';
import type { NamespaceReference } from '../spec/types';
import { CLONE_NEWPID } from '../sys/constants';
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

/** How the init ended, as node's 'exit' event says it. */
export interface InitExit {
  code: number | null;
  signal: NodeJS.Signals | null;
}

export interface InitProcess {
  pid: number;
  fds: InitFds;
  send(message: ToInit): void;
  /** The init's next message; its death before answering is an error. */
  next(): Promise<FromInit>;
  /** Hands exec.fifo (an O_PATH fd) to an init that has fds.fifo. */
  sendFifo(fifo: number): void;
  /** Signals the init (nothing once it has ended). */
  kill(signal: NodeJS.Signals): void;
  /** Its end; waiting keeps this process alive. */
  exited(): Promise<InitExit>;
  /** Let go of the init (create returns, the init lives on). */
  release(): void;
}

/** The init as node sees a process: its own child, watched by libuv. */
interface Watched {
  kill(signal: NodeJS.Signals): void;
  exited(): Promise<InitExit>;
  release(): void;
}

function watchChild(child: ChildProcess): Watched {
  const exited = new Promise<InitExit>((resolve) => child.once('exit', (code, signal) => resolve({ code, signal })));
  return {
    kill: (signal) => {
      // Node signals it only while it is not yet reaped: its pid cannot have gone to another process.
      if (child.exitCode === null && child.signalCode === null) child.kill(signal);
    },
    exited: () => exited,
    release: () => child.unref(),
  };
}

/**
 * A child forked by the helper (CLONE_PARENT): libuv neither knows nor
 * reaps it. A pidfd signals exactly it; its end is polled for (every 10
 * ms, while someone waits), and waitid reaps it.
 */
function watchForked(sys: Sys, pid: number): Watched {
  const pidfd = sys.pidfdOpen(pid);
  let ended: InitExit | undefined;
  let timer: NodeJS.Timeout | undefined;
  let released = false;
  const check = (): InitExit | undefined => {
    if (ended || released) return ended;
    const status = sys.waitPidfd(pidfd, true);
    if (status) {
      ended = { code: status.code, signal: status.signal === null ? null : (signalName(status.signal) ?? null) };
      closeSync(pidfd);
    }
    return ended;
  };
  let exited: Promise<InitExit> | undefined;
  return {
    kill: (signal) => {
      if (!check()) sys.pidfdSendSignal(pidfd, signalNumber(signal) ?? 9);
    },
    exited: () =>
      (exited ??= new Promise((resolve) => {
        const poll = () => {
          const status = check();
          if (status || released) {
            clearInterval(timer);
            if (status) resolve(status);
          }
        };
        timer = setInterval(poll, 10);
        poll();
      })),
    release: () => {
      if (released) return;
      released = true;
      clearInterval(timer);
      if (!ended) closeSync(pidfd);
    },
  };
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
 * terminalSocket: the init's end of the socket it sends the pty master on
 * (InitFds.terminal in the init); idmapSocket: of the one it receives its
 * id-mapped mounts on (InitFds.idmappedMounts); idMappings: a new user
 * namespace's maps.
 */
export function spawnInit(
  sys: Sys,
  namespaces: readonly NamespaceReference[],
  preserveFds: number,
  terminalSocket?: number,
  idmapSocket?: number,
  idMappings: IdMappings = { uidMappings: [], gidMappings: [] },
): InitProcess {
  // The spawn's stdio, entry N being the init's fd N: each fd's number is its place here.
  const stdio: ('inherit' | 'pipe' | number)[] = [
    'inherit',
    'inherit',
    'inherit',
    ...Array.from({ length: preserveFds }, (_, i) => 3 + i),
  ];
  const fds: InitFds = { channel: stdio.push('pipe') - 1 };
  if (terminalSocket !== undefined) fds.terminal = stdio.push(terminalSocket) - 1;
  if (idmapSocket !== undefined) fds.idmappedMounts = stdio.push(idmapSocket) - 1;
  const setup = namespaceSetup(namespaces);
  const fifoPair = setup.user ? sys.socketpair() : undefined;
  if (fifoPair) fds.fifo = stdio.push(fifoPair[1]) - 1;
  const syncPair = setup.user ? sys.socketpair() : undefined;
  const steps = initHelperSteps(setup, syncPair ? stdio.push(syncPair[1]) - 1 : undefined);
  // The init counts against the container's pids limit until it execs:
  // one V8 worker and one libuv pool thread keep node at 5 tasks, not 11.
  const nodeArgv = [process.execPath, '--v8-pool-size=1', INIT_BUNDLE];
  const [file, argv] = Object.keys(steps).length
    ? [helperOnDisk(), helperArgv(steps, process.execPath, nodeArgv)]
    : [process.execPath, nodeArgv];
  let child: ChildProcess | undefined;
  let forked: number | undefined;
  try {
    const restore = enterChildPidNamespace(sys, setup.pid);
    try {
      child = spawn(file, argv.slice(1), {
        argv0: argv[0],
        stdio,
        // The init's own environment: nothing of the caller's reaches node
        // (NODE_OPTIONS and the like); the container's env is in the plan.
        // Only RUNTS_PROFILE, when profiling (profile.ts), passes on.
        env: { [CHANNEL_ENV]: String(fds.channel), UV_THREADPOOL_SIZE: '1', ...profileEnv() },
      });
    } finally {
      restore();
      // The init's ends: its own copies are all it needs.
      if (fifoPair) closeSync(fifoPair[1]);
      if (syncPair) closeSync(syncPair[1]);
    }
    if (child.pid === undefined) throw new RuntsError(`cannot start the container init (${process.execPath})`);
    if (syncPair) {
      forked = answerHelper(syncPair[0], child.pid, idMappings);
      if (steps.fork && forked === undefined)
        throw new RuntsError('starting the container init: the helper ended before it forked');
    }
    if (setup.user?.path) checkJoinedMappings(forked ?? child.pid, idMappings);
  } catch (err) {
    // The helper, when it waits on its sync socket, goes with it; so does what it forked.
    child?.kill('SIGKILL');
    if (forked !== undefined) {
      const pidfd = sys.pidfdOpen(forked);
      sys.pidfdSendSignal(pidfd, signalNumber('SIGKILL')!);
      sys.waitPidfd(pidfd, false);
      closeSync(pidfd);
    }
    if (fifoPair) closeSync(fifoPair[0]);
    if (syncPair) closeSync(syncPair[0]);
    throw err;
  }
  if (syncPair) closeSync(syncPair[0]);
  let fifoSent = false;
  const pid = forked ?? child.pid;
  const watched = forked !== undefined ? watchForked(sys, forked) : watchChild(child);
  const channel = channelTo(child, fds.channel, async () => {
    const { code, signal } = await watched.exited();
    return new RuntsError(
      `container init exited before it was ready (${signal ? `killed by ${signal}` : `exit status ${code}`})`,
    );
  });
  return {
    pid,
    fds,
    send: channel.send,
    next: channel.next,
    sendFifo: (fifo) => {
      if (!fifoPair) throw new RuntsError('this init opens exec.fifo by its path');
      sys.sendFds(fifoPair[0], Buffer.from('exec.fifo'), [fifo]);
      closeSync(fifoPair[0]);
      fifoSent = true;
    },
    kill: (signal) => watched.kill(signal),
    exited: () => watched.exited(),
    release: () => {
      if (fifoPair && !fifoSent) closeSync(fifoPair[0]);
      channel.close();
      watched.release();
    },
  };
}

/** The channel to a node runts spawned (the init, or exec's stage in a user namespace), at its fd `fd`. */
export interface ChannelTo {
  send(message: ToInit): void;
  /** The next message; the end of the stream before it is the error endError makes. */
  next(): Promise<FromInit>;
  close(): void;
}

export function channelTo(child: ChildProcess, fd: number, endError: () => Promise<Error>): ChannelTo {
  const socket = child.stdio[fd] as Readable & Writable;
  // Messages are taken from the stream alone: an init that fails writes its
  // error and exits, and the error line always precedes the end of stream.
  const queue: FromInit[] = [];
  const waiters: { resolve: (m: FromInit) => void; reject: (e: Error) => void }[] = [];
  let ended = false;
  createInterface({ input: socket })
    .on('line', (line) => {
      const message = JSON.parse(line) as FromInit;
      const waiter = waiters.shift();
      if (waiter) waiter.resolve(message);
      else queue.push(message);
    })
    .on('close', () => {
      ended = true;
      for (const w of waiters.splice(0)) void endError().then(w.reject);
    })
    // A reset (the init was killed, e.g. by the OOM killer) ends the stream
    // too: 'close' follows and reports how the init ended.
    .on('error', () => {});
  return {
    send: (message) => socket.write(JSON.stringify(message) + '\n'),
    next: () =>
      new Promise<FromInit>((resolve, reject) => {
        const queued = queue.shift();
        if (queued) resolve(queued);
        else if (ended) void endError().then(reject);
        else waiters.push({ resolve, reject });
      }),
    close: () => socket.destroy(),
  };
}
