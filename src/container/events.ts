/**
 * runc's events: the container's cgroup statistics and OOM kills, as JSON
 * lines ({"type":"stats"|"oom","id":…,"data":…}). With --stats, one stats
 * line; otherwise OOM kills as they happen and stats every interval, until
 * the container's cgroup is gone (the container deleted).
 */
import { errorMessage } from '../errors';
import type { Stats } from '../linux/cgroups/types';
import type { StateStore } from '../state/store';
import { Container } from './container';

export interface ContainerEvent {
  type: 'stats' | 'oom';
  id: string;
  data?: Stats;
}

/** JSON with the bigints (uint64 "no limit") written as the plain numbers they are. */
export const eventJson = (event: ContainerEvent): string =>
  JSON.stringify(event, (_key, value) => (typeof value === 'bigint' ? `\u0000${value}` : value)).replace(/"\\u0000(\d+)"/g, '$1');

export interface EventsOptions {
  /** Milliseconds between stats. */
  intervalMs: number;
  statsOnly: boolean;
  emit: (event: ContainerEvent) => void;
  /** For errors that do not end the stream (a stats read that failed). */
  warn: (message: string) => void;
}

export async function containerEvents(store: StateStore, id: string, opts: EventsOptions): Promise<void> {
  const container = Container.load(store, id);
  if (!container.canWatchEvents()) throw container.refusal('events');
  const cgroup = container.cgroup();
  const stats = () => opts.emit({ type: 'stats', id, data: cgroup.stats() });
  if (opts.statsOnly) {
    stats();
    return;
  }
  // The OOM watch is in place before the first stats line: a caller that saw one is listening.
  const stop = new AbortController();
  const watching = cgroup.watchOom(() => opts.emit({ type: 'oom', id }), stop.signal);
  const timer = setInterval(() => {
    if (!cgroup.exists()) return stop.abort();
    try {
      stats();
    } catch (err) {
      opts.warn(`events: ${errorMessage(err)}`);
    }
  }, opts.intervalMs);
  try {
    await watching;
  } finally {
    clearInterval(timer);
    stop.abort();
  }
}
