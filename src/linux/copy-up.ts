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
  chmodSync, closeSync, copyFileSync, lchownSync, lstatSync, lutimesSync, mkdirSync, openSync, readdirSync, readlinkSync,
  statSync, symlinkSync,
} from 'node:fs';
import { join } from 'node:path';
import { O_CLOEXEC, O_DIRECTORY, O_PATH } from '../sys/constants';
import type { Sys } from '../sys/types';

/** Mounts with mount(), then fills the new mount with what was at target before. */
export function mountWithCopyUp(sys: Sys, target: string, mount: () => void, keepRootMode: boolean): void {
  const covered = openSync(target, O_PATH | O_DIRECTORY | O_CLOEXEC);
  try {
    mount();
    const from = `/proc/self/fd/${covered}`;
    copyTree(sys, from, target);
    // stat, not lstat: /proc/self/fd/N itself is a link; its target is the covered directory.
    const top = statSync(from);
    lchownSync(target, top.uid, top.gid);
    // An explicit mode= in the options wins over the covered directory's.
    if (keepRootMode) chmodSync(target, top.mode & 0o7777);
  } finally {
    closeSync(covered);
  }
}

/** Linux's dev_t: 12-bit major split around the minor's low 8 bits. */
const major = (dev: number): number => ((dev >>> 8) & 0xfff) | (Math.floor(dev / 2 ** 32) & ~0xfff);
const minor = (dev: number): number => (dev & 0xff) | ((dev >>> 12) & ~0xff);

function copyTree(sys: Sys, from: string, to: string): void {
  for (const name of readdirSync(from)) {
    const src = join(from, name);
    const dst = join(to, name);
    const st = lstatSync(src);
    if (st.isDirectory()) {
      mkdirSync(dst);
      copyTree(sys, src, dst);
    } else if (st.isSymbolicLink()) {
      symlinkSync(readlinkSync(src), dst);
    } else if (st.isFile()) {
      copyFileSync(src, dst);
    } else {
      sys.mknod(dst, st.mode, major(st.rdev), minor(st.rdev));
    }
    lchownSync(dst, st.uid, st.gid);
    if (!st.isSymbolicLink()) chmodSync(dst, st.mode & 0o7777);
    lutimesSync(dst, st.atime, st.mtime);
  }
}
