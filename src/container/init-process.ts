/**
 * The init, once started (init-start.ts): its channel, its end, and with a
 * user namespace its id maps. The init is this process's child, but not
 * one node knows of (posix_spawn; with a user namespace, forked by the
 * helper): it is signalled and waited for through a pidfd.
 */
import type { ChildProcess } from 'node:child_process';
import { closeSync } from 'node:fs';
import { Socket } from 'node:net';
import { createInterface } from 'node:readline';
import type { Readable, Writable } from 'node:stream';
import { RuntsError } from '../errors';
import type { FromInit, ToInit } from '../init/channel';
import { signalName, signalNumber } from '../linux/signals';
import { type IdMappings, answerHelper, checkJoinedMappings } from '../linux/user-namespace';
import type { Sys } from '../sys/types';
import type { InitFds, StartedInit } from './init-start';

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

/** The init as a process: signalled, waited for, let go. */
interface Watched {
  kill(signal: NodeJS.Signals): void;
  exited(): Promise<InitExit>;
  release(): void;
}

/**
 * A child libuv neither knows nor reaps. A pidfd signals exactly it
 * (until it is reaped, its pid cannot go to another process); its end is
 * looked for at each SIGCHLD, and every second besides (which also keeps
 * this process alive while someone waits), and waitid reaps it.
 */
function watchPid(sys: Sys, pid: number): Watched {
  const pidfd = sys.pidfdOpen(pid);
  let ended: InitExit | undefined;
  let timer: NodeJS.Timeout | undefined;
  let released = false;
  let poll: (() => void) | undefined;
  const stop = () => {
    clearInterval(timer);
    if (poll) process.off('SIGCHLD', poll);
  };
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
        poll = () => {
          const status = check();
          if (status || released) {
            stop();
            if (status) resolve(status);
          }
        };
        process.on('SIGCHLD', poll);
        timer = setInterval(poll, 1000);
        // An end before the listener was there.
        poll();
      })),
    release: () => {
      if (released) return;
      released = true;
      stop();
      if (!ended) closeSync(pidfd);
    },
  };
}

/** Reaps a child libuv does not know (the helper, or what it forked), killed first unless it ends anyway. */
function reap(sys: Sys, pid: number, kill = false): void {
  const pidfd = sys.pidfdOpen(pid);
  try {
    if (kill) sys.pidfdSendSignal(pidfd, signalNumber('SIGKILL')!);
    sys.waitPidfd(pidfd, false);
  } finally {
    closeSync(pidfd);
  }
}

/**
 * The init started: with a user namespace, its maps written while the
 * helper waits, and PID 1's pid as the helper says it; then its channel.
 */
export function takeInit(
  sys: Sys,
  started: StartedInit,
  idMappings: IdMappings = { uidMappings: [], gidMappings: [] },
): InitProcess {
  const { fds, sync, fifo } = started;
  let forked: number | undefined;
  let helperGone = false;
  try {
    if (sync !== undefined) {
      forked = answerHelper(sync, started.pid, idMappings);
      if (started.forks) {
        if (forked === undefined) throw new RuntsError('starting the container init: the helper ended before it forked');
        // The helper exits once it has said the pid: it is reaped.
        reap(sys, started.pid);
        helperGone = true;
      }
    }
    if (started.joinsUser) checkJoinedMappings(forked ?? started.pid, idMappings);
  } catch (err) {
    // The helper, when it waits on its sync socket, goes with it; so does what it forked.
    if (!helperGone) reap(sys, started.pid, true);
    if (forked !== undefined) reap(sys, forked, true);
    if (fifo !== undefined) closeSync(fifo);
    if (sync !== undefined) closeSync(sync);
    closeSync(started.channel);
    throw err;
  }
  if (sync !== undefined) closeSync(sync);
  let fifoSent = false;
  const pid = forked ?? started.pid;
  const watched = watchPid(sys, pid);
  const channel = channelOn(new Socket({ fd: started.channel, readable: true, writable: true }), async () => {
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
    sendFifo: (fd) => {
      if (fifo === undefined) throw new RuntsError('this init opens exec.fifo by its path');
      sys.sendFds(fifo, Buffer.from('exec.fifo'), [fd]);
      closeSync(fifo);
      fifoSent = true;
    },
    kill: (signal) => watched.kill(signal),
    exited: () => watched.exited(),
    release: () => {
      if (fifo !== undefined && !fifoSent) closeSync(fifo);
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
  return channelOn(child.stdio[fd] as Readable & Writable, endError);
}

/** The channel over a stream: the init's socketpair, or a spawned child's pipe. */
function channelOn(socket: Readable & Writable, endError: () => Promise<Error>): ChannelTo {
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
