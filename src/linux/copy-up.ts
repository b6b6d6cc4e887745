/**
 * The `tmpcopyup` mount option (runc's, podman's default for --tmpfs): a
 * tmpfs that starts with what it covers. The directory is opened before
 * the tmpfs goes over it; through /proc/self/fd/N its old contents stay
 * reachable, and are copied onto the tmpfs: directories, files, symlinks
 * as they are (never followed), devices, fifos and sockets made anew, each
 * with its mode, owner and times. runc copies through a temporary mount
 * instead; the result is the same.
 */
import { join } from 'node:path';
import { O_CLOEXEC, O_NOFOLLOW, O_PATH, S_IFDIR, S_IFLNK, S_IFREG } from '../sys/constants';
import { type Sys, fileType } from '../sys/types';
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
  const top = sys.stat(from)!;
  sys.chown(to, top.uid, top.gid);
  // An explicit mode= in the options wins over the covered directory's.
  if (keepRootMode) sys.chmod(to, top.mode & 0o7777);
  return mounted;
}

/**
 * Each entry is read through a descriptor opened without following a
 * symlink: a process sharing the covered directory (a volume) that swaps an
 * entry for a symlink after it was listed gets a link copied as a link,
 * never the host file or directory it points to.
 */
function copyTree(sys: Sys, from: string, to: string): void {
  for (const name of sys.readdir(from)) {
    const dst = join(to, name);
    const src = sys.open(join(from, name), O_PATH | O_NOFOLLOW | O_CLOEXEC);
    try {
      const st = sys.fstat(src);
      const type = fileType(st);
      if (type === S_IFDIR) {
        sys.mkdir(dst, 0o777);
        copyTree(sys, fdPath(src), dst);
      } else if (type === S_IFLNK) {
        sys.symlink(sys.readlink(join(from, name)), dst);
      } else if (type === S_IFREG) {
        sys.copyFile(fdPath(src), dst);
      } else {
        sys.mknod(dst, st.mode, majorOf(st.rdev), minorOf(st.rdev));
      }
      sys.lchown(dst, st.uid, st.gid);
      if (type !== S_IFLNK) sys.chmod(dst, st.mode & 0o7777);
      sys.lutimes(dst, st.atimeMs, st.mtimeMs);
    } finally {
      sys.close(src);
    }
  }
}
