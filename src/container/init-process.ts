/**
 * The init, once started (init-start.ts): its channel, its end, and with a
 * user namespace its id maps. The init is this process's child, but not
 * one node knows of (posix_spawn; with a user namespace, forked by the
 * helper): it is signalled and waited for through a pidfd.
 */
import { closeSync } from 'node:fs';
import { RuntsError } from '../errors';
import { type FromInit, LineChannel, type ToInit } from '../init/channel';
import { signalName, signalNumber } from '../linux/signals';
import { type IdMappings, answerHelper, checkJoinedMappings } from '../linux/user-namespace';
import type { Sys } from '../sys/types';
import { type InitFds, type StartedInit, reap } from './init-start';

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
  // Read synchronously: create waits for nothing else meanwhile, and no
  // net, stream or readline module is loaded for it (about 3 ms).
  const channel = new LineChannel<FromInit, ToInit>(started.channel);
  return {
    pid,
    fds,
    send: (message) => channel.send(message),
    next: async () => {
      const message = channel.next();
      if (message) return message;
      const { code, signal } = await watched.exited();
      throw new RuntsError(
        `container init exited before it was ready (${signal ? `killed by ${signal}` : `exit status ${code}`})`,
      );
    },
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
