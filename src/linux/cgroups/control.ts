/**
 * Control files of one cgroup directory. A write is a single write(2) on
 * an O_WRONLY descriptor: the kernel parses each write as a whole, some
 * files are write-only (devices.allow, cgroup.event_control) and none may
 * be created, so fs.writeFileSync (O_CREAT|O_TRUNC) is not the tool.
 */
import { closeSync, constants, existsSync, openSync, readFileSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { RuntsError } from '../../errors';
import { errnoDescription } from '../../sys/errno';

/** A refused write, with the errno's code (EBUSY, EINVAL, …) for callers that expect one. */
export class ControlWriteError extends RuntsError {
  constructor(
    readonly code: string,
    path: string,
    value: string,
    reason: string,
  ) {
    super(`cgroup: writing ${JSON.stringify(value)} to ${path}: ${reason}`);
  }
}

/**
 * The cgroup is gone: no such file or directory, or a directory being
 * removed (kernfs answers ENODEV for its files while it deactivates it, as
 * when systemd removes a scope whose processes ended while delete reads
 * it). A failed write says its errno as code too (ControlWriteError).
 */
export const cgroupGone = (err: unknown): boolean => {
  const code = (err as NodeJS.ErrnoException).code;
  return code === 'ENOENT' || code === 'ENODEV';
};

const reasonOf = (err: NodeJS.ErrnoException): string => (err.errno !== undefined && errnoDescription(-err.errno)) || err.message;

export class Control {
  constructor(readonly dir: string) {}

  path(file: string): string {
    return join(this.dir, file);
  }

  has(file: string): boolean {
    return existsSync(this.path(file));
  }

  read(file: string): string {
    return readFileSync(this.path(file), 'utf8').trimEnd();
  }

  /** The file's content, or undefined when this kernel or hierarchy has no such file. */
  readIfPresent(file: string): string | undefined {
    try {
      return this.read(file);
    } catch (err) {
      if (cgroupGone(err)) return undefined;
      throw err;
    }
  }

  write(file: string, value: string): void {
    const path = this.path(file);
    let fd: number;
    try {
      fd = openSync(path, constants.O_WRONLY);
    } catch (err) {
      const e = err as NodeJS.ErrnoException;
      throw new ControlWriteError(
        e.code ?? '',
        path,
        value,
        e.code === 'ENOENT' ? 'no such cgroup file on this host' : reasonOf(e),
      );
    }
    try {
      writeSync(fd, value);
    } catch (err) {
      const e = err as NodeJS.ErrnoException;
      throw new ControlWriteError(e.code ?? '', path, value, reasonOf(e));
    } finally {
      closeSync(fd);
    }
  }

  /** "key value" lines (memory.stat, cpu.stat, pids.events, …) as numbers. */
  readKeyed(file: string): Record<string, number> {
    return parseKeyed(this.readIfPresent(file) ?? '');
  }

  /**
   * A single number; undefined when the file is absent. v2's "max" is
   * UNLIMITED, and values past 2^53 (v1's "no limit", 2^63 - 4096) stay
   * exact as bigints.
   */
  readNumber(file: string): number | bigint | undefined {
    const text = this.readIfPresent(file);
    if (text === undefined || text === '') return undefined;
    if (text === 'max') return UNLIMITED;
    const n = Number(text);
    return Number.isSafeInteger(n) ? n : BigInt(text);
  }
}

/** uint64 "no limit": how runc reports v2's "max" (a bigint, so that JSON keeps every digit). */
export const UNLIMITED = 0xffff_ffff_ffff_ffffn;

export function parseKeyed(text: string): Record<string, number> {
  const values: Record<string, number> = {};
  for (const line of text.split('\n')) {
    const [key, value] = line.trim().split(/\s+/);
    if (key && value !== undefined && /^-?\d+$/.test(value)) values[key] = Number(value);
  }
  return values;
}
