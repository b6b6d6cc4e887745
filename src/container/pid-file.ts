/**
 * --pid-file, as runc writes it: the pid without a newline, put in place by
 * rename so that a reader never sees half of it. The directory may be
 * writable by others (/tmp, a shim's run directory), so the temp file
 * beside it is made with O_CREAT|O_EXCL|O_NOFOLLOW: a symlink or file
 * planted at its name is never written through (the open fails, and
 * another name is tried). The name is random, so that nothing planted in
 * advance can even make it retry. rename replaces a symlink planted at the
 * pid file's own name; it does not follow it.
 */
import { close, closeSync, open, openSync, rename, renameSync, rmSync, unlink, write, writeSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { O_CLOEXEC, O_CREAT, O_EXCL, O_NOFOLLOW, O_WRONLY } from '../sys/constants';

const TEMP_FLAGS = O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC;
const ATTEMPTS = 8;

const tempBeside = (file: string): string => join(dirname(file), `.${basename(file)}.${Math.random().toString(36).slice(2)}`);

const isTaken = (err: unknown, attempt: number): boolean =>
  ['EEXIST', 'ELOOP'].includes((err as NodeJS.ErrnoException).code ?? '') && attempt < ATTEMPTS - 1;

export function writePidFile(file: string, pid: number): void {
  for (let attempt = 0; ; attempt++) {
    const tmp = tempBeside(file);
    let fd: number;
    try {
      fd = openSync(tmp, TEMP_FLAGS, 0o644);
    } catch (err) {
      if (isTaken(err, attempt)) continue;
      throw err;
    }
    try {
      try {
        writeSync(fd, String(pid));
      } finally {
        closeSync(fd);
      }
      renameSync(tmp, file);
    } catch (err) {
      rmSync(tmp, { force: true });
      throw err;
    }
    return;
  }
}

/**
 * The same, on libuv's pool threads: exec's main thread is in the
 * container by then, while those threads keep the host's mounts and root.
 */
export async function writePidFileFromHost(file: string, pid: number): Promise<void> {
  for (let attempt = 0; ; attempt++) {
    const tmp = tempBeside(file);
    let fd: number;
    try {
      fd = await call<number>((done) => open(tmp, TEMP_FLAGS, 0o644, done));
    } catch (err) {
      if (isTaken(err, attempt)) continue;
      throw err;
    }
    try {
      try {
        await call((done) => write(fd, String(pid), done));
      } finally {
        await call((done) => close(fd, done));
      }
      await call((done) => rename(tmp, file, done));
    } catch (err) {
      await call((done) => unlink(tmp, done)).catch(() => {});
      throw err;
    }
    return;
  }
}

// fs's callback API, not fs/promises: that module costs every command that
// imports this one about 1.5 ms of start-up (see start.ts).
function call<T = unknown>(fn: (done: (err: NodeJS.ErrnoException | null, value?: T) => void) => void): Promise<T> {
  return new Promise((resolve, reject) => fn((err, value) => (err ? reject(err) : resolve(value as T))));
}
