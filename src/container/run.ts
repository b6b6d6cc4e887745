/**
 * `runts run`: create + start. In the foreground the init is this
 * process's child: signals are forwarded to it, its exit status becomes
 * ours (128+N for signal N), and the container is deleted unless --keep.
 */
import { signalNumber } from '../linux/signals';
import { mark } from '../profile';
import type { StateStore } from '../state/store';
import type { Sys } from '../sys/types';
import { type CreateOptions, create } from './create';
import { deleteContainer } from './delete';
import { startContainer } from './start';
import { relayTerminal } from './terminal-relay';

const FORWARDED: NodeJS.Signals[] = ['SIGINT', 'SIGTERM', 'SIGHUP', 'SIGQUIT', 'SIGUSR1', 'SIGUSR2', 'SIGWINCH', 'SIGCONT'];

/** What run is asked: the run command's flags (cli/commands/run.ts); run decides keepTerminal. */
export interface RunOptions extends Omit<CreateOptions, 'keepTerminal'> {
  detach: boolean;
  keep: boolean;
}

export async function runContainer(sys: Sys, store: StateStore, args: RunOptions): Promise<number> {
  const { record, init, terminal } = await create(sys, store, { ...args, keepTerminal: !args.detach });
  if (args.detach) {
    await startContainer(store, record.id);
    init.release();
    return 0;
  }
  const exited = init.exited().then(({ code, signal }) => (signal ? 128 + (signalNumber(signal) ?? 0) : (code ?? 0)));
  // The init is this process's child: it is signalled only while it is not
  // yet reaped, so its pid cannot have gone to another process.
  const forward = (signal: NodeJS.Signals) => {
    try {
      init.kill(signal);
    } catch {
      // Already gone: its exit is on its way.
    }
  };
  for (const sig of FORWARDED) process.on(sig, forward);
  const relay = terminal !== undefined ? relayTerminal(sys, terminal) : undefined;
  try {
    mark('start');
    await startContainer(store, record.id);
    mark('started');
    const status = await exited;
    mark('exit seen');
    // What the process wrote just before exiting is still in the pty.
    if (relay) await Promise.race([relay.drained, new Promise((r) => setTimeout(r, 200))]);
    if (!args.keep) await deleteContainer(store, record.id, { force: true });
    mark('deleted');
    return status;
  } finally {
    relay?.stop();
    for (const sig of FORWARDED) process.off(sig, forward);
  }
}
