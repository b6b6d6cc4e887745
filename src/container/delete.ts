/**
 * runtime.md "Delete": a stopped container's resources go, then poststop
 * hooks run. As runc: a created container is killed and deleted; a running
 * one only with --force (SIGKILL first).
 */
import { log } from '../cli/log';
import { RuntsError } from '../errors';
import { SIGNALS } from '../linux/signals';
import type { Hook } from '../spec/types';
import { liveStatus } from '../state/status';
import { type ContainerRecord, type StateStore, notFound } from '../state/store';
import { existsSync } from 'node:fs';
import { hookState } from './create';
import { runHooksWarnOnly } from './hooks';
import { containerPids, signalProcess, waitForExit } from './processes';

export async function deleteContainer(store: StateStore, id: string, opts: { force: boolean }): Promise<void> {
  if (!existsSync(store.containerDir(id))) {
    if (opts.force) return; // runc: delete --force of what is not there is not an error
    throw notFound(id);
  }
  await store.withLock(id, async () => {
    const record = store.read(id);
    const status = liveStatus(record, store.containerDir(id));
    if ((status === 'running' || status === 'paused') && !opts.force) {
      throw new RuntsError(`cannot delete container ${id} that is not stopped: ${status}`);
    }
    if (status !== 'stopped') killAll(record);
    destroy(store, record);
  });
}

function killAll(record: ContainerRecord): void {
  for (const pid of containerPids(record)) signalProcess(pid, pid === record.pid ? record.pidStartTime : undefined, SIGNALS.SIGKILL);
  if (!waitForExit(record.pid, record.pidStartTime)) throw new RuntsError(`container ${record.id}: init ${record.pid} did not die after SIGKILL`);
}

function destroy(store: StateStore, record: ContainerRecord): void {
  store.remove(record.id);
  runHooksWarnOnly('poststop', (record.hooks as { poststop?: Hook[] })?.poststop, hookState(record, 'stopped'), log.warn);
}
