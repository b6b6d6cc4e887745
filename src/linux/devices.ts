/**
 * /dev inside the container: the default devices every container gets
 * (runtime-linux.md "Default Devices"), linux.devices, and the standard
 * symlinks. Nodes are made with mknod when the init runs as real root; in
 * a user namespace, where mknod is refused, the host's node of the same
 * path is bound onto an empty file instead (runc's bindMountDeviceNode).
 */
import { dirname } from 'node:path';
import { RuntsError } from '../errors';
import {
  ENOENT,
  MS_BIND,
  O_CLOEXEC,
  O_CREAT,
  O_EXCL,
  O_NOFOLLOW,
  O_PATH,
  O_WRONLY,
  S_IFBLK,
  S_IFCHR,
  S_IFDIR,
  S_IFIFO,
  S_IFLNK,
  S_IFREG,
} from '../sys/constants';
import { type FileStat, type Sys, SysError, exists, fileType } from '../sys/types';
import { fdEntry, fdPath } from './fd-paths';
import { RootDir } from './in-root';

/** A device node to make in the container's /dev (spec/plan.ts plans linux.devices). */
export interface PlannedDevice {
  path: string;
  type: 'c' | 'b' | 'p' | 'u';
  major: number;
  minor: number;
  fileMode: number;
  uid: number;
  gid: number;
}

const chr = (path: string, major: number, minor: number): PlannedDevice => ({
  path,
  type: 'c',
  major,
  minor,
  fileMode: 0o666,
  uid: 0,
  gid: 0,
});

export const DEFAULT_DEVICES: readonly PlannedDevice[] = [
  chr('/dev/null', 1, 3),
  chr('/dev/zero', 1, 5),
  chr('/dev/full', 1, 7),
  chr('/dev/random', 1, 8),
  chr('/dev/urandom', 1, 9),
  chr('/dev/tty', 5, 0),
];

export const DEV_SYMLINKS: readonly [string, string][] = [
  ['/proc/self/fd', '/dev/fd'],
  ['/proc/self/fd/0', '/dev/stdin'],
  ['/proc/self/fd/1', '/dev/stdout'],
  ['/proc/self/fd/2', '/dev/stderr'],
];

/** Linux's dev_t: 12-bit major split around the minor's low 8 bits. */
export const majorOf = (dev: number): number => ((dev >>> 8) & 0xfff) | (Math.floor(dev / 2 ** 32) & ~0xfff);
export const minorOf = (dev: number): number => (dev & 0xff) | ((dev >>> 12) & ~0xff);

const TYPE_BITS: Record<PlannedDevice['type'], number> = { c: S_IFCHR, u: S_IFCHR, b: S_IFBLK, p: S_IFIFO };

/** What a device's path may hold already, removed before the node is made: not a directory nor a socket. */
const REPLACEABLE = new Set([S_IFCHR, S_IFBLK, S_IFIFO, S_IFREG, S_IFLNK]);

/** Config devices win over defaults of the same path. */
export function devicesToCreate(configured: readonly PlannedDevice[]): PlannedDevice[] {
  const paths = new Set(configured.map((d) => d.path));
  return [...DEFAULT_DEVICES.filter((d) => !paths.has(d.path)), ...configured];
}

/**
 * mknod in the directory held open (in-root.ts), then chmod and chown
 * through a descriptor of the node, checked to be the one just made: a
 * path swapped meanwhile can neither put the node outside the rootfs nor
 * turn the chmod on a host file.
 */
export function createDevice(sys: Sys, root: RootDir, dev: PlannedDevice, inUserNamespace = false): void {
  withEntry(sys, root, dev.path, (at, st) => {
    if (st) {
      if (REPLACEABLE.has(fileType(st))) sys.unlink(at);
      else throw new RuntsError(`linux.devices: ${dev.path} exists in the rootfs and is not a device`);
    }
    if (inUserNamespace) {
      bindDevice(sys, at, dev);
      return;
    }
    const type = TYPE_BITS[dev.type];
    sys.mknod(at, type | (dev.fileMode & 0o7777), dev.major, dev.minor);
    const node = sys.open(at, O_PATH | O_NOFOLLOW | O_CLOEXEC);
    try {
      if (fileType(sys.fstat(node)) !== type) throw new RuntsError(`linux.devices: ${dev.path} changed while it was being made`);
      sys.chmod(fdPath(node), dev.fileMode & 0o7777);
      sys.chown(fdPath(node), dev.uid, dev.gid);
    } finally {
      sys.close(node);
    }
  });
}

/** The host's node at the device's path, bound onto an empty file made in its place. */
function bindDevice(sys: Sys, at: string, dev: PlannedDevice): void {
  const host = sys.stat(dev.path);
  if (!host || fileType(host) !== TYPE_BITS[dev.type]) {
    throw new RuntsError(
      `linux.devices: ${dev.path}: in a user namespace the host's node is bound, and the host has none of that type`,
    );
  }
  sys.close(sys.open(at, O_CREAT | O_EXCL | O_WRONLY | O_NOFOLLOW | O_CLOEXEC, 0o000));
  const file = sys.open(at, O_PATH | O_NOFOLLOW | O_CLOEXEC);
  try {
    sys.mount(dev.path, fdPath(file), 'bind', MS_BIND, null);
  } finally {
    sys.close(file);
  }
}

/** /dev/fd, stdin/out/err, /dev/ptmx -> pts/ptmx, /dev/core (runc's setupDevSymlinks, setupPtmx). */
export function createDevSymlinks(sys: Sys, root: RootDir): void {
  const links: [string, string][] = [...DEV_SYMLINKS];
  if (exists(sys, '/proc/kcore')) links.push(['/proc/kcore', '/dev/core']);
  for (const [target, link] of links) {
    withEntry(sys, root, link, (at, seen) => {
      if (!seen) sys.symlink(target, at);
    });
  }
  withEntry(sys, root, '/dev/ptmx', (ptmx) => {
    const pts = sys.lstat(`${dirname(ptmx)}/pts`);
    if (!pts || fileType(pts) !== S_IFDIR) return;
    try {
      sys.unlink(ptmx);
    } catch (err) {
      if (!(err instanceof SysError && err.errno === ENOENT)) throw err;
    }
    sys.symlink('pts/ptmx', ptmx);
  });
}

/**
 * fn on path's entry in its directory (found inside the rootfs, made when
 * missing), as /proc/self/fd/N/name, with what it held when found (lstat).
 */
function withEntry(sys: Sys, root: RootDir, path: string, fn: (at: string, seen: FileStat | undefined) => void): void {
  const { dir, name, seen } = root.entry(path, 0o755);
  try {
    fn(fdEntry(dir, name), seen);
  } finally {
    sys.close(dir);
  }
}
