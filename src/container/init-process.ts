/**
 * Starting the init (docs/security.md, "The process model"): a fresh node on
 * dist/init.cjs, spawned from this process's main thread after that thread
 * moved its pid namespace for children, so the init is PID 1 of
 * the container's pid namespace. Then the thread moves back, so that hooks
 * run later by create are in the runtime namespace. With a mount namespace
 * in the config, node is started by the helper, which makes (or joins) it
 * first: every thread of the init is then born in it, and none keeps the
 * host's root (node's own threads would, were the init to unshare it).
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { closeSync, openSync } from 'node:fs';
import { createInterface } from 'node:readline';
import type { Readable, Writable } from 'node:stream';
import { RuntsError } from '../errors';
import { CHANNEL_ENV, type FromInit, type ToInit } from '../init/channel';
import { helperArgv, helperOnDisk } from '../linux/exec-helper';
import { namespaceKind } from '../linux/namespaces';
import type { NamespaceReference } from '../spec/types';
import { CLONE_NEWPID } from '../sys/constants';
import type { Sys } from '../sys/types';

// The init bundle sits beside the CLI bundle in dist/ (scripts/build.mjs).
const INIT_BUNDLE = decodeURIComponent(new URL('./init.cjs', import.meta.url).pathname);

const CHILD_SIDE: Record<string, number> = { pid: CLONE_NEWPID };

/**
 * The init's fds, decided here alone (the channel's number reaches the init
 * in its environment, the others' in its plan): stdio, the preserved fds
 * (3…), the channel, then the socket for the pty master when create keeps
 * the terminal (foreground `run`), then the socket its id-mapped mounts
 * come over.
 */
export interface InitFds {
  channel: number;
  terminal?: number;
  idmappedMounts?: number;
}

export interface InitProcess {
  child: ChildProcess;
  pid: number;
  fds: InitFds;
  send(message: ToInit): void;
  /** The init's next message; its death before answering is an error. */
  next(): Promise<FromInit>;
  /** Let go of the init (create returns, the init lives on). */
  release(): void;
}

/** Moves this thread's pid namespace for children; returns how to move back. */
function enterChildNamespaces(s: Sys, namespaces: readonly NamespaceReference[]): () => void {
  const restore: (() => void)[] = [];
  try {
    for (const ns of namespaces) {
      const flag = CHILD_SIDE[ns.type];
      if (flag === undefined) continue;
      const own = openSync(`/proc/self/ns/${namespaceKind(ns.type).procName}`, 'r');
      restore.push(() => {
        s.setns(own, flag);
        closeSync(own);
      });
      if (ns.path) {
        let target: number;
        try {
          target = openSync(ns.path, 'r');
        } catch (err) {
          throw new RuntsError(`joining ${ns.type} namespace ${ns.path}: ${(err as Error).message}`);
        }
        try {
          s.setns(target, flag);
        } finally {
          closeSync(target);
        }
      } else {
        s.unshare(flag);
      }
    }
  } catch (err) {
    for (const undo of restore.reverse()) undo();
    throw err;
  }
  return () => {
    for (const undo of restore.reverse()) undo();
  };
}

/**
 * terminalSocket: the init's end of the socket it sends the pty master on
 * (InitFds.terminal in the init); idmapSocket: of the one it receives its
 * id-mapped mounts on (InitFds.idmappedMounts).
 */
export function spawnInit(
  sys: Sys,
  namespaces: readonly NamespaceReference[],
  preserveFds: number,
  terminalSocket?: number,
  idmapSocket?: number,
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
  const mount = namespaces.find((ns) => ns.type === 'mount');
  // The init counts against the container's pids limit until it execs:
  // one V8 worker and one libuv pool thread keep node at 5 tasks, not 11.
  const nodeArgv = [process.execPath, '--v8-pool-size=1', INIT_BUNDLE];
  const [file, argv] = mount
    ? [helperOnDisk(), helperArgv({ mount: mount.path ? { path: mount.path } : {} }, process.execPath, nodeArgv)]
    : [process.execPath, nodeArgv];
  const restore = enterChildNamespaces(sys, namespaces);
  let child: ChildProcess;
  try {
    child = spawn(file, argv.slice(1), {
      argv0: argv[0],
      stdio,
      // The init's own environment: nothing of the caller's reaches node
      // (NODE_OPTIONS and the like); the container's env is in the plan.
      env: { [CHANNEL_ENV]: String(fds.channel), UV_THREADPOOL_SIZE: '1' },
    });
  } finally {
    restore();
  }
  if (child.pid === undefined) throw new RuntsError(`cannot start the container init (${process.execPath})`);
  const socket = child.stdio[fds.channel] as Readable & Writable;
  // Messages are taken from the stream alone: an init that fails writes its
  // error and exits, and the error line always precedes the end of stream.
  const queue: FromInit[] = [];
  const waiters: { resolve: (m: FromInit) => void; reject: (e: Error) => void }[] = [];
  let ended = false;
  const exitStatus = new Promise<string>((resolve) => {
    child.once('exit', (code, signal) => resolve(signal ? `killed by ${signal}` : `exit status ${code}`));
  });
  const endError = async () => new RuntsError(`container init exited before it was ready (${await exitStatus})`);
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
    child,
    pid: child.pid,
    fds,
    send: (message) => socket.write(JSON.stringify(message) + '\n'),
    next: () =>
      new Promise<FromInit>((resolve, reject) => {
        const queued = queue.shift();
        if (queued) resolve(queued);
        else if (ended) void endError().then(reject);
        else waiters.push({ resolve, reject });
      }),
    release: () => {
      socket.destroy();
      child.unref();
    },
  };
}
