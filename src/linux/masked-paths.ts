/**
 * linux.maskedPaths (config-linux.md), after pivot_root: a directory gets
 * an empty read-only tmpfs, anything else /dev/null bound over it; missing
 * paths are skipped. That /dev/null is the container's, which the image or
 * a process sharing /dev may have made anything (CVE-2025-31133: a
 * /dev/null symlinked to /proc/sys/kernel/core_pattern was bound, writable,
 * over a masked path). As runc 1.2.8 does: /dev/null is opened without
 * following a symlink and must be the null device, char 1:3, or create
 * fails; it is bound from that descriptor onto the target, itself opened
 * without following a symlink.
 */
import { RuntsError } from '../errors';
import { ENOENT, ENOTDIR, MS_BIND, MS_RDONLY, O_CLOEXEC, O_NOFOLLOW, O_PATH, S_IFBLK, S_IFCHR, S_IFDIR } from '../sys/constants';
import { type Sys, SysError, fileType } from '../sys/types';
import { majorOf, minorOf } from './devices';
import { fdPath, fileTypeOf, requireProcfs } from './fd-paths';

export function maskPaths(sys: Sys, paths: readonly string[]): void {
  let nullDevice: number | undefined;
  let procChecked = false;
  try {
    for (const path of paths) {
      const target = openIfThere(sys, path);
      if (target === undefined) continue;
      try {
        if (!procChecked) requireProcfs(sys, 'maskedPaths');
        procChecked = true;
        if (fileType(sys.fstat(target)) === S_IFDIR) {
          sys.mount('tmpfs', fdPath(target), 'tmpfs', MS_RDONLY, null);
        } else {
          nullDevice ??= openNullDevice(sys);
          sys.mount(fdPath(nullDevice), fdPath(target), null, MS_BIND, null);
        }
      } finally {
        sys.close(target);
      }
    }
  } finally {
    if (nullDevice !== undefined) sys.close(nullDevice);
  }
}

/** An O_PATH descriptor of path itself (a symlink is not followed), or undefined when it does not exist. */
function openIfThere(sys: Sys, path: string): number | undefined {
  try {
    return sys.open(path, O_PATH | O_NOFOLLOW | O_CLOEXEC);
  } catch (err) {
    if (err instanceof SysError && (err.errno === ENOENT || err.errno === ENOTDIR)) return undefined;
    throw err;
  }
}

function openNullDevice(sys: Sys): number {
  let fd: number;
  try {
    fd = sys.open('/dev/null', O_PATH | O_NOFOLLOW | O_CLOEXEC);
  } catch (err) {
    throw new RuntsError(`maskedPaths: the container has no /dev/null to mask with (${(err as Error).message})`);
  }
  const st = sys.fstat(fd);
  const type = fileType(st);
  if (type === S_IFCHR && majorOf(st.rdev) === 1 && minorOf(st.rdev) === 3) return fd;
  sys.close(fd);
  const what =
    type === S_IFCHR || type === S_IFBLK ? `${fileTypeOf(st)} ${majorOf(st.rdev)}:${minorOf(st.rdev)}` : fileTypeOf(st);
  throw new RuntsError(
    `maskedPaths: /dev/null in the container is not the null device (char 1:3) but ${what}: refusing to bind it over masked paths`,
  );
}
