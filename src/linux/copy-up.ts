/**
 * The `tmpcopyup` mount option (runc's, podman's default for --tmpfs): a
 * tmpfs that starts with what it covers. The directory is opened before
 * the tmpfs goes over it; through /proc/self/fd/N its old contents stay
 * reachable, and are copied onto the tmpfs: directories, files, symlinks
 * as they are (never followed), devices, fifos and sockets made anew, each
 * with its mode, owner and times. runc copies through a temporary mount
 * instead; the result is the same.
 */
import {
  chmodSync, chownSync, closeSync, copyFileSync, fstatSync, lchownSync, lutimesSync, mkdirSync, openSync, readdirSync, readlinkSync,
  statSync, symlinkSync,
} from 'node:fs';
import { join } from 'node:path';
import { O_CLOEXEC, O_NOFOLLOW, O_PATH } from '../sys/constants';
import type { Sys } from '../sys/types';
import { majorOf, minorOf } from './devices';
import { fdPath } from './fd-paths';

/**
 * Mounts with mount(), which returns the new mount held open, then fills it
 * with what the directory held as `covered` had before; returns the mount.
 */
export function mountWithCopyUp(sys: Sys, covered: number, mount: () => number, keepRootMode: boolean): number {
  const mounted = mount();
  const from = fdPath(covered);
  const to = fdPath(mounted);
  copyTree(sys, from, to);
  // stat, not lstat: /proc/self/fd/N itself is a link; its target is the covered directory.
  const top = statSync(from);
  chownSync(to, top.uid, top.gid);
  // An explicit mode= in the options wins over the covered directory's.
  if (keepRootMode) chmodSync(to, top.mode & 0o7777);
  return mounted;
}

/**
 * Each entry is read through a descriptor opened without following a
 * symlink: a process sharing the covered directory (a volume) that swaps an
 * entry for a symlink after it was listed gets a link copied as a link,
 * never the host file or directory it points to.
 */
function copyTree(sys: Sys, from: string, to: string): void {
  for (const name of readdirSync(from)) {
    const dst = join(to, name);
    const src = openSync(join(from, name), O_PATH | O_NOFOLLOW | O_CLOEXEC);
    try {
      const st = fstatSync(src);
      if (st.isDirectory()) {
        mkdirSync(dst);
        copyTree(sys, fdPath(src), dst);
      } else if (st.isSymbolicLink()) {
        symlinkSync(readlinkSync(join(from, name)), dst);
      } else if (st.isFile()) {
        copyFileSync(fdPath(src), dst);
      } else {
        sys.mknod(dst, st.mode, majorOf(st.rdev), minorOf(st.rdev));
      }
      lchownSync(dst, st.uid, st.gid);
      if (!st.isSymbolicLink()) chmodSync(dst, st.mode & 0o7777);
      lutimesSync(dst, st.atime, st.mtime);
    } finally {
      closeSync(src);
    }
  }
}
