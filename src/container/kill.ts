/**
 * runtime.md "Kill": a signal to the container's init, or with --all to
 * every process in its cgroup (frozen meanwhile, so none forks away).
 */
import { RuntsError } from '../errors';
import { signalAll } from '../linux/cgroups/manager';
import { parseSignal } from '../linux/signals';
import type { StateStore } from '../state/store';
import { signalProcess } from './processes';
import { cgroupOf, statusOf } from './state';

export async function killContainer(store: StateStore, id: string, signalText: string, opts: { all: boolean }): Promise<void> {
  const signal = parseSignal(signalText);
  if (signal === undefined) throw new RuntsError(`unknown signal ${JSON.stringify(signalText)}`);
  const record = store.read(id);
  const status = statusOf(store, record);
  if (status === 'stopped' || status === 'creating') throw new RuntsError(`container ${id} is not running (${status})`);
  if (opts.all) signalAll(cgroupOf(record), signal);
  else if (!signalProcess(record.pid, record.pidStartTime, signal)) throw new RuntsError(`container ${id} is not running`);
}
