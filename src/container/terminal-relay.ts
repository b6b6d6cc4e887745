/**
 * `runts run` of a terminal container without --console-socket: runts holds
 * the pty master and connects it to the user's own terminal: raw mode,
 * keystrokes in, output out, the window size kept in step (SIGWINCH).
 */
import { ReadStream, WriteStream } from 'node:tty';
import { setConsoleSize } from '../linux/console';
import type { Sys } from '../sys/types';

export interface Relay {
  /** Resolves when the pty has no more output (the process side closed). */
  drained: Promise<void>;
  stop(): void;
}

export function relayTerminal(sys: Sys, master: number): Relay {
  const input = process.stdin;
  const rawBefore = input.isTTY ? input.isRaw : false;
  if (input.isTTY) input.setRawMode(true);
  const fromPty = new ReadStream(master);
  const toPty = new WriteStream(master);
  const resize = () => {
    if (process.stdout.isTTY) setConsoleSize(sys, master, { height: process.stdout.rows, width: process.stdout.columns });
  };
  resize();
  process.on('SIGWINCH', resize);
  input.pipe(toPty);
  fromPty.pipe(process.stdout, { end: false });
  const drained = new Promise<void>((resolve) => {
    fromPty.on('end', resolve);
    // EIO: the last slave fd closed (the process exited): that is the end.
    fromPty.on('error', () => resolve());
  });
  return {
    drained,
    stop: () => {
      process.off('SIGWINCH', resize);
      input.unpipe(toPty);
      if (input.isTTY) input.setRawMode(rawBefore);
      input.pause();
      fromPty.destroy();
      toPty.destroy();
    },
  };
}
