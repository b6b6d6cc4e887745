/**
 * The init's side of its code cache (load.ts): when the build makes it,
 * the loader listens for this event, which the init emits once it is
 * created; otherwise nothing listens, and emitting it costs nothing.
 */
import type { EventEmitter } from 'node:events';

export const WRITE_CODE_CACHE_ENV = 'RUNTS_WRITE_CODE_CACHE';
export const CODE_CACHE_EVENT = 'runts-init-code-cache';

/** The functions compiled so far written to the init's code cache, when the build asked for it. */
export function saveCodeCache(): void {
  // An event of runts' own: not among those node's types list for process.
  const emitter: EventEmitter = process;
  emitter.emit(CODE_CACHE_EVENT);
}
