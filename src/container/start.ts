/**
 * runtime.md "Start": release the init waiting on exec.fifo so that it
 * execs the user's process, then run the poststart hooks.
 */
import { closeSync, open, read } from 'node:fs';
import { hookState, runHooks } from '../linux/hooks';
import { SIGNALS } from '../linux/signals';
import { RuntsError } from '../errors';
import { isSameProcess } from '../state/process-identity';
import type { ContainerRecord } from '../state/record';
import type { StateStore } from '../state/store';
import type { Sys } from '../sys/types';
import { Container, refusal } from './container';
import { NotifyRelay } from './notify-socket';

/**
 * `runts start`. With $NOTIFY_SOCKET (and a container created with it),
 * it then waits for the process's READY and passes it on, with the init as
 * MAINPID, as `runc start` does (notify-socket.ts); sys is loaded only then.
 */
export async function startContainer(store: StateStore, id: string, sys?: () => Sys): Promise<void> {
  const relay = sys ? NotifyRelay.listen(sys, store, id) : undefined;
  try {
    const record = await releaseContainer(store, id);
    if (relay) await relay.relay(() => isSameProcess(record.pid, record.pidStartTime), record.pid);
  } finally {
    relay?.close();
  }
}

/**
 * Lets the created container's process run, then runs the poststart hooks.
 * No lock is needed (nor ffi-rs, for flock): the fifo serialises starts.
 * Of two at once, one reads the init's byte; the other reads end-of-file.
 */
export async function releaseContainer(store: StateStore, id: string): Promise<ContainerRecord> {
  const container = Container.load(store, id);
  if (!container.canStart()) throw container.refusal('start');
  const { record } = container;
  await releaseInit(record, store.execFifo(id));
  store.removeExecFifo(id);
  // runtime-spec 1.3 (runtime.md step 9): a failing poststart hook is an
  // error that stops the container (earlier versions said a warning).
  try {
    runHooks('poststart', record.hooks?.poststart, hookState(record, 'running'));
  } catch (err) {
    // Loaded only on this path: the cgroup code, and libc's for a pidfd, are no part of a plain start.
    if (record.cgroup) {
      const { signalAll } = require('../linux/cgroups/manager') as typeof import('../linux/cgroups/manager');
      signalAll(container.cgroup(), SIGNALS.SIGKILL);
    } else {
      const { signalProcess } = require('./processes') as typeof import('./processes');
      signalProcess(record.pid, record.pidStartTime, SIGNALS.SIGKILL);
    }
    throw err;
  }
  return record;
}

/**
 * Opening the fifo for reading meets the init's blocked open for writing;
 * its one byte says it is past the fifo. The init keeps its end open (close-
 * on-exec) until its execve, so the end of the stream that follows means
 * the user's program now runs: poststart hooks come after that, as the spec
 * says. The open runs on a pool thread so that an init that died before it
 * ever opened its end is noticed instead of waited for forever; one that
 * did open it (and then ran a program that is already done) is not a
 * failure, hence the grace period before giving up.
 */
async function releaseInit(record: ContainerRecord, fifo: string): Promise<void> {
  const opening = openForReading(fifo);
  let watchdog: NodeJS.Timeout | undefined;
  const died = new Promise<never>((_, reject) => {
    watchdog = setInterval(() => {
      if (isSameProcess(record.pid, record.pidStartTime)) return;
      clearInterval(watchdog);
      setTimeout(() => reject(new RuntsError('container init died before start')), 250);
    }, 50);
  });
  died.catch(() => {});
  let fd: number;
  try {
    fd = await Promise.race([opening, died]);
  } finally {
    clearInterval(watchdog);
  }
  try {
    const buffer = Buffer.alloc(4096);
    if ((await readSome(fd, buffer, 1)) !== 1) {
      // Another start got the byte: the container runs.
      if (isSameProcess(record.pid, record.pidStartTime)) throw refusal('start', record.id, 'running');
      throw new RuntsError('container init died before start');
    }
    // Nothing more before the end: the program runs. Anything else is why not.
    let why = '';
    for (let n; (n = await readSome(fd, buffer, buffer.length)) > 0;) why += buffer.toString('utf8', 0, n);
    if (why) throw new RuntsError(why);
  } finally {
    closeSync(fd);
  }
}

// fs's callback API on the pool threads, not fs/promises: that module
// pulls in readline and the fs watchers, about 1.5 ms start takes for nothing.
function openForReading(path: string): Promise<number> {
  return new Promise((resolve, reject) => open(path, 'r', (err, fd) => (err ? reject(err) : resolve(fd))));
}

function readSome(fd: number, buffer: Buffer, length: number): Promise<number> {
  return new Promise((resolve, reject) => read(fd, buffer, 0, length, null, (err, n) => (err ? reject(err) : resolve(n))));
}
