/**
 * runtime.md "Kill": a signal to the container's init, or with --all to
 * every process in its cgroup (frozen meanwhile, so none forks away).
 */
import { RuntsError } from '../errors';
import { signalAll } from '../linux/cgroups/manager';
import { parseSignal } from '../linux/signals';
import type { StateStore } from '../state/store';
import { Container, refusal } from './container';
import { signalProcess } from './processes';

export async function killContainer(store: StateStore, id: string, signalText: string, opts: { all: boolean }): Promise<void> {
  const signal = parseSignal(signalText);
  if (signal === undefined) throw new RuntsError(`unknown signal ${JSON.stringify(signalText)}`);
  const container = Container.load(store, id);
  if (!container.canKill()) throw container.refusal('kill');
  const { record } = container;
  if (opts.all) signalAll(container.cgroup(), signal);
  // The init exited since the status was read.
  else if (!signalProcess(record.pid, record.pidStartTime, signal)) throw refusal('kill', id, 'stopped');
}
