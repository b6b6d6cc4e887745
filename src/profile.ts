/**
 * Timing marks for `npm run bench -- --profile` (bench/profile.ts): where
 * create's critical path goes, from the CLI and the init alike. Off unless
 * RUNTS_PROFILE names a file when the process starts; then every mark
 * appends one line to it, "<ns> <pid> <who> <what>", the time from
 * process.hrtime (CLOCK_MONOTONIC: one clock for every process, so the
 * CLI's and the init's lines order on one axis). The variable is read once,
 * here: off, mark is a function that does nothing.
 * The init gets the variable from create (init-process.ts) and opens the
 * file with its first mark, before it leaves the host's root; the fd is
 * close-on-exec (libuv opens every file so), so the program never has it.
 */
import { openSync, writeSync } from 'node:fs';

export const PROFILE_ENV = 'RUNTS_PROFILE';
const target = process.env[PROFILE_ENV];

/** Who writes the marks: the CLI, or the init (set by its entry). */
let who = 'cli';
let fd: number | undefined;

function write(what: string, at: bigint): void {
  try {
    fd ??= openSync(target!, 'a', 0o600);
    writeSync(fd, `${at} ${process.pid} ${who} ${what}\n`);
  } catch {
    // A profile that cannot be written is no reason to fail a container.
  }
}

export const mark: (what: string) => void = target ? (what) => write(what, process.hrtime.bigint()) : () => {};

/** The variable for a process runts spawns (the init), when profiling. */
export const profileEnv: () => Record<string, string> = target ? () => ({ [PROFILE_ENV]: target }) : () => ({});

/**
 * Names this process in its marks (cli, init) and marks its start twice:
 * node's own (performance.now() counts from it, on the same clock), and
 * its main code's (the bundle loaded and evaluated).
 */
export function markStart(name: string): void {
  if (!target) return;
  who = name;
  // performance.now() first: its first read loads node's lazy performance
  // global (~1 ms), which read second would count as time since the start,
  // putting it before what started this process. Any delay between the two
  // reads now makes the start late, never early (the order bench --profile
  // and its test rely on).
  const sinceStart = BigInt(Math.round(performance.now() * 1e6));
  const now = process.hrtime.bigint();
  write('node start', now - sinceStart);
  write('main', now);
}
