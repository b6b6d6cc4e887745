/**
 * Pseudo-terminals for process.terminal, as runc makes them: the pty comes
 * from the container's own /dev/ptmx (its devpts instance), the master goes
 * to whoever asked (the console socket, or `runts run` itself) with
 * SCM_RIGHTS, and the slave becomes the process's stdio and controlling
 * terminal, also bound on /dev/console.
 */
import { closeSync, existsSync, fstatSync, openSync } from 'node:fs';
import { RuntsError, errorMessage } from '../errors';
import {
  MS_BIND,
  O_CLOEXEC,
  O_CREAT,
  O_EXCL,
  O_NOCTTY,
  O_NOFOLLOW,
  O_PATH,
  O_RDWR,
  O_WRONLY,
  TIOCGPTN,
  TIOCSCTTY,
  TIOCSPTLCK,
  TIOCSWINSZ,
} from '../sys/constants';
import type { Sys } from '../sys/types';
import { fdPath, fileTypeOf, requireProcfs } from './fd-paths';

export interface Pty {
  master: number;
  slave: number;
}

export interface ConsoleSize {
  height: number;
  width: number;
}

/** A new pty of the devpts mounted at <dev>/pts (the caller's root: the container's after pivot_root). */
export function openPty(sys: Sys, dev = '/dev'): Pty {
  if (!existsSync(`${dev}/ptmx`))
    throw new RuntsError('process.terminal: the container has no /dev/ptmx (mount devpts on /dev/pts)');
  const master = openSync(`${dev}/ptmx`, O_RDWR | O_NOCTTY | O_CLOEXEC);
  try {
    sys.ioctl(master, TIOCSPTLCK, Buffer.alloc(4)); // unlockpt
    const n = Buffer.alloc(4);
    sys.ioctl(master, TIOCGPTN, n); // ptsname
    const slavePath = `${dev}/pts/${n.readUInt32LE(0)}`;
    const slave = openSync(slavePath, O_RDWR | O_NOCTTY | O_CLOEXEC);
    return { master, slave };
  } catch (err) {
    closeSync(master);
    throw err;
  }
}

export function setConsoleSize(sys: Sys, fd: number, size: ConsoleSize): void {
  // struct winsize { unsigned short ws_row, ws_col, ws_xpixel, ws_ypixel }
  const ws = Buffer.alloc(8);
  ws.writeUInt16LE(size.height, 0);
  ws.writeUInt16LE(size.width, 2);
  sys.ioctl(fd, TIOCSWINSZ, ws);
}

/**
 * runc binds the pty slave on /dev/console, so that programs writing there
 * reach the terminal. That /dev/console is the container's, which the image
 * or a process sharing /dev may have made a symlink (CVE-2025-52565: the
 * pty went over the link's target, e.g. a file of /proc/sys). As runc
 * 1.2.8 does: it is made (O_EXCL) when missing, opened without following a
 * symlink, must be a regular file or a character device, and the slave is
 * bound from its descriptor onto that descriptor.
 */
export function bindConsole(sys: Sys, slave: number): void {
  try {
    closeSync(openSync('/dev/console', O_CREAT | O_EXCL | O_WRONLY | O_NOFOLLOW | O_CLOEXEC, 0o600));
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EEXIST')
      throw new RuntsError(`process.terminal: cannot make /dev/console: ${errorMessage(err)}`);
  }
  const target = openSync('/dev/console', O_PATH | O_NOFOLLOW | O_CLOEXEC);
  try {
    const st = fstatSync(target);
    if (!st.isFile() && !st.isCharacterDevice()) {
      throw new RuntsError(
        `process.terminal: /dev/console in the container is ${fileTypeOf(st)}, not a regular file or a character device: refusing to bind the terminal on it`,
      );
    }
    requireProcfs(sys, 'process.terminal');
    sys.mount(fdPath(slave), fdPath(target), null, MS_BIND, null);
  } finally {
    closeSync(target);
  }
}

/**
 * This process leaves create's session and takes the slave as its
 * controlling terminal and stdio (done in the init, which becomes the
 * container's process, so the terminal is the process's own).
 */
export function takeTerminal(sys: Sys, slave: number): void {
  sys.setsid();
  sys.ioctl(slave, TIOCSCTTY, 0);
  for (const fd of [0, 1, 2]) sys.dup2(slave, fd);
  if (slave > 2) closeSync(slave);
}
