/**
 * Files held by descriptors, named by their /proc/self/fd paths so that
 * calls taking a path (mount, mknod, chmod, …) act on exactly that file:
 * the kernel goes from the magic link straight to the file held, whatever
 * its path has become meanwhile, and never follows a symlink the container
 * put in its place. These paths go through this process's /proc: before
 * pivot_root the host's; after it the container's, which is first checked
 * to be procfs (requireProcfs).
 */
import { RuntsError } from '../errors';
import {
  O_CLOEXEC,
  O_DIRECTORY,
  O_PATH,
  PROC_SUPER_MAGIC,
  S_IFBLK,
  S_IFCHR,
  S_IFDIR,
  S_IFIFO,
  S_IFLNK,
  S_IFREG,
} from '../sys/constants';
import { type Sys, fileType } from '../sys/types';

/** The file that fd holds. */
export const fdPath = (fd: number): string => `/proc/self/fd/${fd}`;

/** name in the directory that fd holds: the lookup starts at that directory. */
export const fdEntry = (fd: number, name: string): string => `/proc/self/fd/${fd}/${name}`;

/** After pivot_root: fd paths are only as good as the container's /proc, whose /proc/self/fd must be on procfs. */
export function requireProcfs(sys: Sys, what: string): void {
  let type: number | undefined;
  try {
    const dir = sys.open('/proc/self/fd', O_PATH | O_DIRECTORY | O_CLOEXEC);
    try {
      type = sys.fstatfs(dir).type;
    } finally {
      sys.close(dir);
    }
  } catch {
    // No /proc at all: said below.
  }
  if (type !== PROC_SUPER_MAGIC)
    throw new RuntsError(`${what}: the container's /proc is not procfs, runts needs it mounted there`);
}

/** "a symbolic link", "a regular file", … for messages (st: a FileStat, or node's Stats). */
export function fileTypeOf(st: { mode: number }): string {
  const names: Record<number, string> = {
    [S_IFLNK]: 'a symbolic link',
    [S_IFREG]: 'a regular file',
    [S_IFDIR]: 'a directory',
    [S_IFCHR]: 'a character device',
    [S_IFBLK]: 'a block device',
    [S_IFIFO]: 'a fifo',
  };
  return names[fileType(st)] ?? 'a socket';
}
