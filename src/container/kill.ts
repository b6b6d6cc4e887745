/** runtime.md "Kill": a signal to the container's init, or with --all to all its processes. */
import { RuntsError } from '../errors';
import { parseSignal } from '../linux/signals';
import { liveStatus } from '../state/status';
import type { StateStore } from '../state/store';
import { containerPids, signalProcess } from './processes';

export async function killContainer(store: StateStore, id: string, signalText: string, opts: { all: boolean }): Promise<void> {
  const signal = parseSignal(signalText);
  if (signal === undefined) throw new RuntsError(`unknown signal ${JSON.stringify(signalText)}`);
  const record = store.read(id);
  const status = liveStatus(record, store.containerDir(id));
  if (status === 'stopped' || status === 'creating') throw new RuntsError(`container ${id} is not running (${status})`);
  if (opts.all) {
    for (const pid of containerPids(record)) signalProcess(pid, pid === record.pid ? record.pidStartTime : undefined, signal);
  } else if (!signalProcess(record.pid, record.pidStartTime, signal)) {
    throw new RuntsError(`container ${id} is not running`);
  }
}
