/**
 * /dev inside the container: the default devices every container gets
 * (runtime-linux.md "Default Devices"), linux.devices, and the standard
 * symlinks. Nodes are made with mknod; the init runs as real root.
 */
import { existsSync, lstatSync, mkdirSync, rmSync, statSync } from 'node:fs';
import { dirname } from 'node:path';
import { RuntsError } from '../errors';
import type { PlannedDevice } from '../spec/plan';
import { S_IFBLK, S_IFCHR, S_IFIFO } from '../sys/constants';
import type { Sys } from '../sys/types';
import { secureJoin } from './secure-join';

const chr = (path: string, major: number, minor: number): PlannedDevice => ({ path, type: 'c', major, minor, fileMode: 0o666, uid: 0, gid: 0 });

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

const TYPE_BITS: Record<PlannedDevice['type'], number> = { c: S_IFCHR, u: S_IFCHR, b: S_IFBLK, p: S_IFIFO };

/** Config devices win over defaults of the same path. */
export function devicesToCreate(configured: readonly PlannedDevice[]): PlannedDevice[] {
  const paths = new Set(configured.map((d) => d.path));
  return [...DEFAULT_DEVICES.filter((d) => !paths.has(d.path)), ...configured];
}

export function createDevice(sys: Sys, rootfs: string, dev: PlannedDevice): void {
  const target = secureJoin(rootfs, dev.path);
  mkdirSync(dirname(target), { recursive: true, mode: 0o755 });
  if (existsSync(target)) {
    const st = lstatSync(target);
    if (st.isCharacterDevice() || st.isBlockDevice() || st.isFIFO() || st.isFile()) rmSync(target);
    else throw new RuntsError(`linux.devices: ${dev.path} exists in the rootfs and is not a device`);
  }
  sys.mknod(target, TYPE_BITS[dev.type] | (dev.fileMode & 0o7777), dev.major, dev.minor);
  sys.chmod(target, dev.fileMode & 0o7777);
  sys.chown(target, dev.uid, dev.gid);
}

/** /dev/fd, stdin/out/err, /dev/ptmx -> pts/ptmx, /dev/core (runc's setupDevSymlinks, setupPtmx). */
export function createDevSymlinks(sys: Sys, rootfs: string): void {
  const links: [string, string][] = [...DEV_SYMLINKS];
  if (existsSync('/proc/kcore')) links.push(['/proc/kcore', '/dev/core']);
  for (const [target, link] of links) {
    const at = secureJoin(rootfs, link);
    if (!existsSync(at) && !isLink(at)) sys.symlink(target, at);
  }
  const ptmx = secureJoin(rootfs, '/dev/ptmx');
  if (existsSync(secureJoin(rootfs, '/dev/pts')) && statSync(secureJoin(rootfs, '/dev/pts')).isDirectory()) {
    rmSync(ptmx, { force: true });
    sys.symlink('pts/ptmx', ptmx);
  }
}

function isLink(path: string): boolean {
  try {
    return lstatSync(path).isSymbolicLink();
  } catch {
    return false;
  }
}
