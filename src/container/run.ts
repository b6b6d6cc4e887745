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
import type { Begun } from './init-start';
import { NotifyRelay, relayWarnOnly } from './notify-socket';
import { releaseContainer, startContainer } from './start';

const FORWARDED: NodeJS.Signals[] = ['SIGINT', 'SIGTERM', 'SIGHUP', 'SIGQUIT', 'SIGUSR1', 'SIGUSR2', 'SIGWINCH', 'SIGCONT'];

/** What run is asked: the run command's flags (cli/commands/run.ts); run decides keepTerminal. */
export interface RunOptions extends Omit<CreateOptions, 'keepTerminal'> {
  detach: boolean;
  keep: boolean;
}

/** begun: create's first steps, taken by the CLI (init-start.ts beginEarly), with keepTerminal as here. */
export async function runContainer(sys: Sys, store: StateStore, args: RunOptions, begun?: Begun): Promise<number> {
  const { record, init, terminal } = await create(sys, store, { ...args, keepTerminal: !args.detach }, begun);
  if (args.detach) {
    await startContainer(store, record.id, () => sys);
    init.release();
    return 0;
  }
  // In the foreground runts is the service's main process (runc's MAINPID
  // too); READY is passed on while the process runs (notify-socket.ts).
  let relay: NotifyRelay | undefined;
  let relayed: Promise<void> | undefined;
  let ended = false;
  const exited = init.exited().then(({ code, signal }) => {
    ended = true;
    return signal ? 128 + (signalNumber(signal) ?? 0) : (code ?? 0);
  });
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
  // Loaded only with a terminal to relay: node:tty brings net and the streams (some 3 ms).
  const terminalRelay =
    terminal !== undefined
      ? (require('./terminal-relay') as typeof import('./terminal-relay')).relayTerminal(sys, terminal)
      : undefined;
  try {
    mark('start');
    relay = NotifyRelay.listen(() => sys, store, record.id);
    await releaseContainer(store, record.id);
    mark('started');
    if (relay) relayed = relayWarnOnly(relay, () => !ended, process.pid);
    const status = await exited;
    mark('exit seen');
    // A READY sent just before the end is still passed on (runts exits once this returns).
    await relayed;
    // What the process wrote just before exiting is still in the pty.
    if (terminalRelay) await Promise.race([terminalRelay.drained, new Promise((r) => setTimeout(r, 200))]);
    if (!args.keep) await deleteContainer(store, record.id, { force: true });
    mark('deleted');
    return status;
  } finally {
    relay?.close();
    terminalRelay?.stop();
    for (const sig of FORWARDED) process.off(sig, forward);
  }
}
