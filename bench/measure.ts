/**
 * Timing and process helpers for the bench: a wall-clock timer around
 * spawnSync (process.hrtime.bigint), statistics, waiting for a process to
 * stop, reading its resident memory, and interrupt handling that lets the
 * bench clean up after Ctrl-C or SIGTERM.
 */
import { type SpawnSyncReturns, spawn, spawnSync } from 'node:child_process';
import { closeSync, fstatSync, openSync, readFileSync, readSync } from 'node:fs';

/** Sleeps synchronously (fractions of a millisecond allowed). */
export function sleepMs(ms: number): void {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
}

/**
 * One append-only log file that receives the stdout and stderr of every
 * command the bench runs. Files rather than pipes: a container inherits the
 * stdio of create and would hold a pipe open. A failure quotes what the
 * command wrote (from the mark taken before it ran).
 */
export class Output {
  readonly fd: number;
  constructor(readonly path: string) {
    this.fd = openSync(path, 'a');
  }
  mark(): number {
    return fstatSync(this.fd).size;
  }
  since(mark: number, max = 1500): string {
    const size = this.mark();
    const from = Math.max(mark, size - max);
    const buf = Buffer.alloc(size - from);
    const fd = openSync(this.path, 'r');
    try {
      readSync(fd, buf, 0, buf.length, from);
    } finally {
      closeSync(fd);
    }
    return buf.toString('utf8').trim();
  }
  close(): void {
    closeSync(this.fd);
  }
}

export interface Ran {
  ms: number;
  ok: boolean;
  /** For a failure: the command, how it ended, and what it wrote. */
  detail: string;
}

function describe(cmd: string, args: string[], how: string, said: string): string {
  return `${[cmd, ...args].join(' ')}: ${how}${said ? `: ${said.split('\n').slice(-6).join(' | ')}` : ''}`;
}

function outcome(r: SpawnSyncReturns<Buffer>): string {
  if (r.error) return (r.error as NodeJS.ErrnoException).code === 'ETIMEDOUT' ? 'timed out' : String(r.error.message);
  return r.signal ? `killed by ${r.signal}` : `exit ${r.status}`;
}

/** Runs a command to its end; `ms` is the wall time of spawnSync alone. */
export function timed(cmd: string, args: string[], out: Output, timeoutMs = 60_000): Ran {
  const mark = out.mark();
  const t0 = process.hrtime.bigint();
  const r = spawnSync(cmd, args, { stdio: ['ignore', out.fd, out.fd], timeout: timeoutMs, killSignal: 'SIGKILL' });
  const ms = Number(process.hrtime.bigint() - t0) / 1e6;
  const ok = !r.error && r.status === 0;
  return { ms, ok, detail: ok ? '' : describe(cmd, args, outcome(r), out.since(mark)) };
}

/** The same, asynchronously (for commands run in parallel). */
export function timedAsync(cmd: string, args: string[], out: Output, timeoutMs = 120_000): Promise<Ran> {
  const mark = out.mark();
  const t0 = process.hrtime.bigint();
  return new Promise((resolve) => {
    const child = spawn(cmd, args, { stdio: ['ignore', out.fd, out.fd] });
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    const done = (how: string | null) => {
      clearTimeout(timer);
      const ms = Number(process.hrtime.bigint() - t0) / 1e6;
      resolve({ ms, ok: how === null, detail: how === null ? '' : describe(cmd, args, how, out.since(mark)) });
    };
    child.once('error', (err) => done(err.message));
    child.once('exit', (code, signal) => done(code === 0 ? null : signal ? `killed by ${signal}` : `exit ${code}`));
  });
}

/** The state letter of /proc/PID/stat, or undefined when there is no such process. */
function procState(pid: number): string | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'latin1');
    return stat.charAt(stat.lastIndexOf(')') + 2);
  } catch {
    return undefined;
  }
}

/** Is the process alive (present and not a zombie)? */
export function alive(pid: number): boolean {
  const s = procState(pid);
  return s !== undefined && s !== 'Z' && s !== 'X';
}

/** The start time field of /proc/PID/stat (to tell a reused pid apart). */
export function startTime(pid: number): string | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'latin1');
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19];
  } catch {
    return undefined;
  }
}

/**
 * Waits until a container's process has stopped: gone or a zombie (the
 * runtimes count a zombie as stopped; whoever inherits it reaps it later).
 * Polls /proc every 0.5 ms. Returns false on timeout.
 */
export function waitStopped(pid: number, timeoutMs = 30_000): boolean {
  const end = Date.now() + timeoutMs;
  while (alive(pid)) {
    if (Date.now() > end) return false;
    sleepMs(0.5);
  }
  return true;
}

/** VmRSS of /proc/PID/status, in kB (undefined when unreadable). */
export function vmRssKb(pid: number): number | undefined {
  try {
    const m = /^VmRSS:\s+(\d+) kB/m.exec(readFileSync(`/proc/${pid}/status`, 'latin1'));
    return m ? Number(m[1]) : undefined;
  } catch {
    return undefined;
  }
}

export interface Stats {
  n: number;
  median: number;
  min: number;
  max: number;
  mean: number;
  p90: number;
}

export function stats(samples: number[]): Stats | undefined {
  if (!samples.length) return undefined;
  const s = [...samples].sort((a, b) => a - b);
  const nth = (i: number): number => s[i]!; // every index asked for is within s, which is not empty
  const at = (q: number) => {
    const pos = (s.length - 1) * q;
    const lo = Math.floor(pos);
    return nth(lo) + (nth(Math.min(lo + 1, s.length - 1)) - nth(lo)) * (pos - lo);
  };
  return {
    n: s.length,
    median: at(0.5),
    min: nth(0),
    max: nth(s.length - 1),
    mean: s.reduce((a, b) => a + b, 0) / s.length,
    p90: at(0.9),
  };
}

/** Thrown at the next checkpoint after SIGINT, SIGTERM or SIGHUP. */
export class Interrupted extends Error {
  constructor(readonly signal: string) {
    super(`interrupted by ${signal}`);
  }
}

let caught: string | undefined;

/**
 * Catches SIGINT, SIGTERM and SIGHUP: the bench stops at its next
 * checkpoint and cleans up. Node runs signal handlers only from its event
 * loop, so the sample loops (synchronous spawnSync calls) yield to it at
 * every checkpoint; a second signal only repeats the notice.
 */
export function catchInterrupts(): void {
  for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
    process.on(sig, () => {
      if (caught) process.stderr.write('\nbench: still cleaning up, please wait\n');
      else process.stderr.write(`\nbench: ${sig}: stopping and cleaning up\n`);
      caught ??= sig;
    });
  }
}

export function interruptedBy(): string | undefined {
  return caught;
}

/** Yields to the event loop (so that signal handlers run); throws once interrupted. */
export async function checkpoint(): Promise<void> {
  await new Promise((resolve) => setImmediate(resolve));
  if (caught) throw new Interrupted(caught);
}
