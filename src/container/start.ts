/**
 * runtime.md "Start": release the init waiting on exec.fifo so that it
 * execs the user's process, then run the poststart hooks.
 */
import { unlinkSync } from 'node:fs';
import { open } from 'node:fs/promises';
import { join } from 'node:path';
import { log } from '../cli/log';
import { RuntsError } from '../errors';
import type { Hook } from '../spec/types';
import { isSameProcess } from '../state/process-identity';
import { liveStatus } from '../state/status';
import type { ContainerRecord, StateStore } from '../state/store';
import { hookState } from './create';
import { runHooksWarnOnly } from './hooks';

export async function startContainer(store: StateStore, id: string): Promise<void> {
  await store.withLock(id, async () => {
    const record = store.read(id);
    const dir = store.containerDir(id);
    const status = liveStatus(record, dir);
    if (status !== 'created') throw new RuntsError(`cannot start a container that is ${status}`);
    await releaseInit(record, join(dir, 'exec.fifo'));
    unlinkSync(join(dir, 'exec.fifo'));
    runHooksWarnOnly('poststart', (record.hooks as { poststart?: Hook[] })?.poststart, hookState(record, 'running'), log.warn);
  });
}

/**
 * Opening the fifo for reading meets the init's blocked open for writing;
 * its one byte says it is past the fifo. The open runs on a pool thread so
 * that an init that died meanwhile is noticed instead of waited for forever.
 */
async function releaseInit(record: ContainerRecord, fifo: string): Promise<void> {
  let watchdog: NodeJS.Timeout | undefined;
  const died = new Promise<never>((_, reject) => {
    watchdog = setInterval(() => {
      if (!isSameProcess(record.pid, record.pidStartTime)) reject(new RuntsError('container init died before start'));
    }, 50);
  });
  try {
    const handle = await Promise.race([open(fifo, 'r'), died]);
    try {
      const { bytesRead } = await handle.read(Buffer.alloc(1), 0, 1, null);
      if (bytesRead !== 1) throw new RuntsError('container init died before start');
    } finally {
      await handle.close();
    }
  } finally {
    clearInterval(watchdog);
  }
}
