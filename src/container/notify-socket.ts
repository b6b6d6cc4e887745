/**
 * sd_notify(3) through the runtime, as runc does it ($NOTIFY_SOCKET in the
 * runtime's environment: systemd's socket, or podman --sdnotify=container's
 * proxy, through conmon):
 *  - create makes <state>/notify/ (0755) and the plan binds it read-only at
 *    /run/notify, with NOTIFY_SOCKET=/run/notify/notify.sock in the
 *    process's environment (plan.ts). The host's socket itself never enters
 *    the container: the container can only reach the runtime's.
 *  - start (and run) binds notify.sock there (0777: the process may run as
 *    any user), releases the process, then waits for a datagram beginning
 *    "READY=" or for the init's end. The READY line goes on to the host's
 *    socket, then MAINPID (the init, or runts itself for a foreground run,
 *    which is what the service then watches), then BARRIER=1 with a pipe's
 *    write end: its end of file says the receiver has read both (it closes
 *    the fd, or took the message without it).
 * Other messages (STATUS=, …) are dropped, as by runc.
 */
import { chmodSync, closeSync, existsSync, mkdirSync, readSync, rmSync, writeSync } from 'node:fs';
import { basename, join } from 'node:path';
import { RuntsError, errorMessage } from '../errors';
import { log } from '../log';
import { NOTIFY_SOCKET_IN_CONTAINER } from '../spec/notify-socket';
import type { StateStore } from '../state/store';
import type { Sys } from '../sys/types';

/** The socket's name: the same in its host directory as in the container. */
const SOCKET_NAME = basename(NOTIFY_SOCKET_IN_CONTAINER);
/** How often the wait looks at the socket and the init (runc: every 100 ms for the init). */
const POLL_MS = 20;
/** How long the barrier's answer is waited for: runc's 30 s, then a warning. */
const BARRIER_MS = 30_000;

/** $NOTIFY_SOCKET of this process, if it has one. */
export function hostNotifySocket(): string | undefined {
  return process.env.NOTIFY_SOCKET || undefined;
}

/** At create, with $NOTIFY_SOCKET: the directory the plan binds into the container. */
export function makeNotifyDir(store: StateStore, id: string): string {
  const dir = store.notifyDir(id);
  mkdirSync(dir);
  // Whatever the umask: the process, as any user, must reach the socket in it.
  chmodSync(dir, 0o755);
  return dir;
}

export class NotifyRelay {
  #closed = false;
  private constructor(
    private readonly sys: Sys,
    private readonly socket: number,
    private readonly host: string,
  ) {}

  /**
   * At start: the socket the container's process will send to, bound now,
   * before the process runs. Nothing without $NOTIFY_SOCKET, or for a
   * container created without it (no directory).
   */
  static listen(sys: () => Sys, store: StateStore, id: string): NotifyRelay | undefined {
    const host = hostNotifySocket();
    if (!host) return undefined;
    const dir = store.notifyDir(id);
    // No directory: the container was created without $NOTIFY_SOCKET.
    if (!existsSync(dir)) return undefined;
    const path = join(dir, SOCKET_NAME);
    // A start that failed earlier may have left one.
    rmSync(path, { force: true });
    const socket = sys().bindUnixDatagram(path);
    chmodSync(path, 0o777);
    return new NotifyRelay(sys(), socket, host);
  }

  /**
   * Waits for the process's READY (or for alive() to turn false, or for
   * close()), then tells the host socket READY, MAINPID=mainPid and waits
   * for its barrier. Resolves either way: a service that never gets READY
   * is its manager's to time out.
   */
  async relay(alive: () => boolean, mainPid: number): Promise<void> {
    const ready = await this.#waitForReady(alive);
    if (!ready) return;
    const client = this.sys.connectUnix(this.host, true);
    try {
      writeSync(client, Buffer.from(`${ready}\n`));
      writeSync(client, Buffer.from(`MAINPID=${mainPid}\n`));
      await this.#barrier(client);
    } finally {
      closeSync(client);
    }
  }

  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    closeSync(this.socket);
  }

  async #waitForReady(alive: () => boolean): Promise<string | undefined> {
    const buffer = Buffer.alloc(4096);
    while (!this.#closed) {
      for (;;) {
        let n: number;
        try {
          n = readSync(this.socket, buffer, 0, buffer.length, null);
        } catch (err) {
          if ((err as NodeJS.ErrnoException).code === 'EAGAIN') break;
          throw err;
        }
        // One datagram, one or more lines (fds sent with it are dropped by the read).
        const ready = buffer
          .toString('utf8', 0, n)
          .split('\n')
          .find((line) => line.startsWith('READY='));
        if (ready) return ready;
      }
      if (!alive()) return undefined;
      await new Promise((resolve) => setTimeout(resolve, POLL_MS));
    }
    return undefined;
  }

  /** sd_notify_barrier(3): BARRIER=1 with a pipe's write end; its end of file is the answer. */
  async #barrier(client: number): Promise<void> {
    const [read, write] = this.sys.pipe();
    try {
      try {
        this.sys.sendFds(client, Buffer.from('BARRIER=1'), [write]);
      } finally {
        closeSync(write);
      }
      const deadline = Date.now() + BARRIER_MS;
      const byte = Buffer.alloc(1);
      for (;;) {
        try {
          if (readSync(read, byte, 0, 1, null) === 0) return;
          throw new RuntsError('sd_notify barrier: the pipe was written to, not closed');
        } catch (err) {
          if ((err as NodeJS.ErrnoException).code !== 'EAGAIN') throw err;
        }
        if (Date.now() > deadline) {
          log.warn(`sd_notify barrier: no answer from ${this.host} in ${BARRIER_MS / 1000} s; going on`);
          return;
        }
        await new Promise((resolve) => setTimeout(resolve, POLL_MS));
      }
    } finally {
      closeSync(read);
    }
  }
}

/** relay(), its failure a warning: the container runs whatever became of the message. */
export async function relayWarnOnly(relay: NotifyRelay, alive: () => boolean, mainPid: number): Promise<void> {
  try {
    await relay.relay(alive, mainPid);
  } catch (err) {
    log.warn(`sd_notify: ${errorMessage(err)}`);
  } finally {
    relay.close();
  }
}
