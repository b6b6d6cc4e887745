/**
 * runc-compatible logging. Lines go to --log (appended) or, without it, to
 * stderr; --log-format json writes logrus-style lines that containerd's shim
 * and conmon parse: {"level":"error","msg":"…","time":"RFC3339"}.
 * Same placement as runc: see fatal().
 * Used at every layer; the CLI configures it from its flags (configureLog).
 */
import { closeSync, openSync, writeSync } from 'node:fs';
import { printErr } from './output';

export type LogFormat = 'text' | 'json';
export type Level = 'debug' | 'info' | 'warning' | 'error';

export interface LogOptions {
  log?: string;
  logFormat?: LogFormat;
  debug?: boolean;
}

let options: LogOptions = {};

let logFd: number | undefined;

/**
 * The log file is opened now, once: `exec` later moves its main thread into
 * the container's mount namespace, where the path would name another file.
 */
export function configureLog(opts: LogOptions): void {
  options = opts;
  if (logFd !== undefined) closeSync(logFd);
  logFd = undefined;
  if (opts.log) {
    try {
      logFd = openSync(opts.log, 'a', 0o644);
    } catch {
      // Unwritable: lines go to stderr instead (write() below).
    }
  }
}

export function formatLine(level: Level, msg: string, format: LogFormat, now = new Date()): string {
  const time = now.toISOString().replace(/\.\d+Z$/, 'Z'); // RFC 3339, as logrus writes it
  if (format === 'json') return JSON.stringify({ level, msg, time }) + '\n';
  return `time="${time}" level=${level} msg=${JSON.stringify(msg)}\n`;
}

function write(level: Level, msg: string): void {
  const line = formatLine(level, msg, options.logFormat ?? 'text');
  if (logFd !== undefined) {
    try {
      writeSync(logFd, line);
      return;
    } catch {
      // An unwritable log must not hide the message: fall through to stderr.
    }
  }
  printErr(line);
}

export const log = {
  /** A function is called only when debugging: what it reads costs nothing otherwise. */
  debug: (msg: string | (() => string)) => options.debug && write('debug', typeof msg === 'function' ? msg() : msg),
  info: (msg: string) => write('info', msg),
  warn: (msg: string) => write('warning', msg),
  error: (msg: string) => write('error', msg),
};

/**
 * runc's fatal(): the error goes to the log; when the log is a file, it is
 * also printed plainly on stderr (what a person at the terminal reads). Exit 1.
 */
export function fatal(msg: string): never {
  write('error', msg);
  if (options.log) printErr(`${msg}\n`);
  process.exit(1);
}
