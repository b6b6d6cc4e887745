/**
 * The sync channel between create (parent) and the init (child): a unix
 * socket at a known fd in the init, carrying one JSON object per line.
 *   parent -> init   {type:'plan', plan}   {type:'continue', state}
 *   init -> parent   {type:'hooks'}        {type:'created', dumpable}   {type:'error', message}
 * 'hooks' and 'continue' are the round trip for the prestart and
 * createRuntime hooks; without them the plan brings the state along instead.
 * Both sides read and write synchronously (LineChannel): the init on its
 * main thread, create (src/container/init-process.ts) while it has nothing
 * to do but wait for the init's answer. The socket is blocking, and the
 * init's end of it is close-on-exec: the init's death is the end of the
 * stream, never a read that waits forever.
 */
import { closeSync, readSync, writeSync } from 'node:fs';
import type { HookState } from '../linux/hooks';
import type { ExecPlan, InitPlan } from '../spec/plan';

/**
 * What exec's stage in a user namespace does (exec-stage.ts): the exec's
 * plan, and the fds it was given, by their numbers in it.
 */
export interface ExecStageRequest {
  plan: ExecPlan;
  state: HookState;
  detach: boolean;
  /** The init's namespaces but its user namespace (the helper joined that one), open. */
  namespaces: { type: string; fd: number }[];
  /** The init's root, open (O_PATH). */
  root: number;
  /** The container's cgroup.procs (v2), for the helper that starts the program. */
  cgroupProcs?: number;
  cgroupVersion?: number;
  /** Where the pty master goes when exec relays the terminal. */
  terminalSocket?: number;
  sessionKeyring?: string;
}

export type ToInit =
  | { type: 'plan'; plan: InitPlan; state?: HookState }
  | { type: 'continue'; state: HookState }
  | { type: 'exec'; request: ExecStageRequest };
export type FromInit =
  | { type: 'hooks' }
  /**
   * dumpable: the init's PR_GET_DUMPABLE, kept in the record so tests and users can check it.
   * skippedSyscalls: the seccomp profile's names libseccomp does not know (create says so when debugging).
   */
  | { type: 'created'; dumpable: number; skippedSyscalls: string[] }
  /** exec's stage: the program runs, with this pid. */
  | { type: 'started'; pid: number }
  | { type: 'error'; message: string };

export const CHANNEL_ENV = '_RUNTS_INIT_CHANNEL';
/** Set for exec's stage in a user namespace: the init bundle runs exec-stage.ts, not the init. */
export const EXEC_STAGE_ENV = '_RUNTS_EXEC_STAGE';

/** One JSON object per line over a blocking stream socket, read and written synchronously. */
export class LineChannel<In, Out> {
  #buffered = Buffer.alloc(0);

  constructor(readonly fd: number) {}

  send(message: Out): void {
    const data = Buffer.from(JSON.stringify(message) + '\n');
    for (let off = 0; off < data.length;) off += writeSync(this.fd, data, off);
  }

  /** Blocks until the next message; undefined once the other end has gone. */
  next(): In | undefined {
    let newline: number;
    while ((newline = this.#buffered.indexOf(0x0a)) < 0) {
      const chunk = Buffer.allocUnsafe(65536);
      const n = readSync(this.fd, chunk, 0, chunk.length, null);
      if (n === 0) return undefined;
      this.#buffered = Buffer.concat([this.#buffered, chunk.subarray(0, n)]);
    }
    // Split at the newline's byte, not in a decoded chunk: a character cut in two by a read stays whole.
    const line = this.#buffered.toString('utf8', 0, newline);
    this.#buffered = this.#buffered.subarray(newline + 1);
    return JSON.parse(line) as In;
  }

  close(): void {
    closeSync(this.fd);
  }
}

/** The init's end. */
export class InitChannel extends LineChannel<ToInit, FromInit> {
  /** Blocks until the parent's next message, which must be of this type; the parent gone is an error. */
  receive<T extends ToInit['type']>(type: T): Extract<ToInit, { type: T }> {
    const message = this.next();
    if (!message) throw new Error('runts create went away');
    if (message.type !== type) throw new Error(`init: expected ${type} from create, got ${message.type}`);
    return message as Extract<ToInit, { type: T }>;
  }
}
