/**
 * What the init and exec write into procfs (sysctls, oom_score_adj, LSM
 * exec labels, timens_offsets) and the exec.fifo reopen through
 * /proc/self/fd go through here: through an fd checked to be on procfs
 * (fstatfs f_type), so that a file of the container's mounted over /proc or
 * inside it cannot take the write (CVE-2019-16884, CVE-2019-19921,
 * CVE-2025-52881 class). Such mounts are refused beforehand
 * (proc-mounts.ts); this is the check at the moment of writing.
 */
import { RuntsError } from '../errors';
import { O_CLOEXEC, O_DIRECTORY, O_NOFOLLOW, O_PATH, O_WRONLY, PROC_SUPER_MAGIC } from '../sys/constants';
import type { Sys } from '../sys/types';

function assertOnProcfs(sys: Sys, fd: number, path: string): void {
  const { type } = sys.fstatfs(fd);
  if (type !== PROC_SUPER_MAGIC) {
    throw new RuntsError(`${path} is not on procfs (filesystem type 0x${type.toString(16)}): something is mounted over /proc`);
  }
}

/** Is path (symlinks followed) on procfs? */
export function onProcfs(sys: Sys, path: string): boolean {
  const fd = sys.open(path, O_PATH | O_CLOEXEC);
  try {
    return sys.fstatfs(fd).type === PROC_SUPER_MAGIC;
  } finally {
    sys.close(fd);
  }
}

/** Writes value to an existing procfs file, in one write; the last component must not be a symlink. */
export function writeProcFile(sys: Sys, path: string, value: string): void {
  const fd = sys.open(path, O_WRONLY | O_NOFOLLOW | O_CLOEXEC);
  try {
    assertOnProcfs(sys, fd, path);
    sys.write(fd, value);
  } finally {
    sys.close(fd);
  }
}

/**
 * open(2) of /proc/self/fd/<fd> with flags: a usable fd for the file an
 * O_PATH handle holds. /proc/self/fd must be procfs, and what opens must be
 * that very file (same device and inode).
 */
export function reopenThroughProc(sys: Sys, fd: number, flags: number): number {
  const dir = sys.open('/proc/self/fd', O_PATH | O_DIRECTORY | O_CLOEXEC);
  try {
    assertOnProcfs(sys, dir, '/proc/self/fd');
  } finally {
    sys.close(dir);
  }
  const reopened = sys.open(`/proc/self/fd/${fd}`, flags);
  const held = sys.fstat(fd);
  const got = sys.fstat(reopened);
  if (held.dev !== got.dev || held.ino !== got.ino) {
    sys.close(reopened);
    throw new RuntsError(`/proc/self/fd/${fd} opened another file than fd ${fd}: something is mounted over /proc`);
  }
  return reopened;
}
