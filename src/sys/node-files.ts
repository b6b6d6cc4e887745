/**
 * The plain-file calls of Sys, made by node's *Sync functions: they run on
 * the calling (main) thread, so they follow its namespaces and root once it
 * has moved (docs/architecture.md, "Verified platform facts" 5), which node's
 * async calls, on pool threads, do not. Both FfiSys and the recording
 * double (on the directories a test gives it) use them. A failure is a
 * SysError, as for every other call of Sys.
 */
import {
  type Stats,
  chmodSync,
  chownSync,
  closeSync,
  copyFileSync,
  fstatSync,
  lchownSync,
  lstatSync,
  lutimesSync,
  mkdirSync,
  openSync,
  readFileSync,
  readdirSync,
  readlinkSync,
  realpathSync,
  statSync,
  unlinkSync,
  writeSync,
} from 'node:fs';
import { strerror } from './errno';
import { type FileStat, type Sys, SysError } from './types';

export type FileCalls = Pick<
  Sys,
  | 'chmod'
  | 'chown'
  | 'open'
  | 'close'
  | 'write'
  | 'readFile'
  | 'mkdir'
  | 'unlink'
  | 'readdir'
  | 'readlink'
  | 'realpath'
  | 'stat'
  | 'lstat'
  | 'fstat'
  | 'copyFile'
  | 'lchown'
  | 'lutimes'
>;

/** fn's node error as SysError(call, errno, detail); anything else as it is. */
export function asSysError<T>(call: string, detail: string, fn: () => T): T {
  try {
    return fn();
  } catch (err) {
    const errno = (err as NodeJS.ErrnoException).errno;
    if (typeof errno !== 'number') throw err;
    throw new SysError(call, -errno, detail, strerror(-errno));
  }
}

const fileStat = (st: Stats): FileStat => ({
  mode: st.mode,
  rdev: st.rdev,
  dev: st.dev,
  ino: st.ino,
  uid: st.uid,
  gid: st.gid,
  atimeMs: st.atimeMs,
  mtimeMs: st.mtimeMs,
});

export const nodeFiles: FileCalls = {
  chmod: (path, mode) => asSysError('chmod', path, () => chmodSync(path, mode)),
  chown: (path, uid, gid) => asSysError('chown', path, () => chownSync(path, uid, gid)),
  open: (path, flags, mode = 0o666) => asSysError('open', path, () => openSync(path, flags, mode)),
  close: (fd) => asSysError('close', `fd ${fd}`, () => closeSync(fd)),
  write: (fd, data) => asSysError('write', `fd ${fd}`, () => writeSync(fd, data)),
  readFile: (path) => asSysError('read', path, () => readFileSync(path, 'utf8')),
  mkdir: (path, mode) => asSysError('mkdir', path, () => void mkdirSync(path, { mode })),
  unlink: (path) => asSysError('unlink', path, () => unlinkSync(path)),
  readdir: (path) => asSysError('readdir', path, () => readdirSync(path)),
  readlink: (path) => asSysError('readlink', path, () => readlinkSync(path)),
  realpath: (path) => asSysError('realpath', path, () => realpathSync(path)),
  stat: (path) =>
    asSysError('stat', path, () => {
      const st = statSync(path, { throwIfNoEntry: false });
      return st && fileStat(st);
    }),
  lstat: (path) =>
    asSysError('lstat', path, () => {
      const st = lstatSync(path, { throwIfNoEntry: false });
      return st && fileStat(st);
    }),
  fstat: (fd) => asSysError('fstat', `fd ${fd}`, () => fileStat(fstatSync(fd))),
  copyFile: (from, to) => asSysError('copy_file_range', `${from} to ${to}`, () => copyFileSync(from, to)),
  lchown: (path, uid, gid) => asSysError('lchown', path, () => lchownSync(path, uid, gid)),
  lutimes: (path, atimeMs, mtimeMs) => asSysError('lutimes', path, () => lutimesSync(path, atimeMs / 1000, mtimeMs / 1000)),
};
