/**
 * The sync channel between create (parent) and the init (child): a unix
 * socket at a known fd in the init, carrying one JSON object per line.
 *   parent -> init   {type:'plan', plan}   {type:'continue', state}
 *   init -> parent   {type:'hooks'}        {type:'created', dumpable}   {type:'error', message}
 * 'hooks' and 'continue' are the round trip for the prestart and
 * createRuntime hooks; without them the plan brings the state along instead.
 * The init side is synchronous (blocking reads on its main thread); the
 * parent side lives in the parent's event loop (src/container/init-process.ts).
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
  /** dumpable: the init's PR_GET_DUMPABLE, kept in the record so tests and users can check it. */
  | { type: 'created'; dumpable: number }
  /** exec's stage: the program runs, with this pid. */
  | { type: 'started'; pid: number }
  | { type: 'error'; message: string };

export const CHANNEL_ENV = '_RUNTS_INIT_CHANNEL';
/** Set for exec's stage in a user namespace: the init bundle runs exec-stage.ts, not the init. */
export const EXEC_STAGE_ENV = '_RUNTS_EXEC_STAGE';

export class InitChannel {
  #buffered = '';

  constructor(readonly fd: number) {}

  send(message: FromInit): void {
    const data = Buffer.from(JSON.stringify(message) + '\n');
    for (let off = 0; off < data.length;) off += writeSync(this.fd, data, off);
  }

  /** Blocks until the parent's next message; the parent gone is an error. */
  receive<T extends ToInit['type']>(type: T): Extract<ToInit, { type: T }> {
    const chunk = Buffer.alloc(65536);
    let newline: number;
    while ((newline = this.#buffered.indexOf('\n')) < 0) {
      const n = readSync(this.fd, chunk, 0, chunk.length, null);
      if (n === 0) throw new Error('runts create went away');
      this.#buffered += chunk.toString('utf8', 0, n);
    }
    const line = this.#buffered.slice(0, newline);
    this.#buffered = this.#buffered.slice(newline + 1);
    const message = JSON.parse(line) as ToInit;
    if (message.type !== type) throw new Error(`init: expected ${type} from create, got ${message.type}`);
    return message as Extract<ToInit, { type: T }>;
  }

  close(): void {
    closeSync(this.fd);
  }
}
