/**
 * A container without a mount namespace of its own shares its caller's
 * (config.md: it inherits the runtime's), so its mounts[] land under the
 * rootfs in that namespace and do not die with the container's processes.
 * Before the init mounts anything, create notes which mounts were already
 * under the rootfs (an overlay the rootfs itself is, say); delete (and a
 * failed create) unmounts every other mount under it, deepest first. Only
 * from the same mount namespace: elsewhere those paths are other mounts.
 */
import { MNT_DETACH, UMOUNT_NOFOLLOW } from '../sys/constants';
import { type MountinfoEntry, parseMountinfo } from '../sys/mountinfo';
import type { Sys } from '../sys/types';

export interface SharedMounts {
  /** The mount namespace, as /proc/self/ns/mnt reads ("mnt:[4026531841]"). */
  namespace: string;
  /** The rootfs as mountinfo spells it (symlinks resolved). */
  rootfs: string;
  /** Ids of the mounts under the rootfs that were there before create. */
  before: number[];
}

function mountsUnder(sys: Sys, rootfs: string): MountinfoEntry[] {
  return parseMountinfo(sys.readFile('/proc/self/mountinfo')).filter(
    (m) => m.mountPoint === rootfs || m.mountPoint.startsWith(`${rootfs}/`),
  );
}

/** What is under the rootfs now: taken by create before the init mounts anything. */
export function noteSharedMounts(sys: Sys, rootfs: string): SharedMounts {
  const real = sys.realpath(rootfs);
  return { namespace: sys.readlink('/proc/self/ns/mnt'), rootfs: real, before: mountsUnder(sys, real).map((m) => m.id) };
}

/**
 * Unmounts what the container added under its rootfs, once its processes
 * are gone (none is left to swap a path for a symlink meanwhile; a last
 * component that is one is not followed anyway). Returns a warning
 * when this process is in another mount namespace (nothing is touched).
 */
export function removeSharedMounts(sys: Sys, noted: SharedMounts): string | undefined {
  if (sys.readlink('/proc/self/ns/mnt') !== noted.namespace) {
    return `the container's mounts under ${noted.rootfs} are in mount namespace ${noted.namespace}, not this one: left in place`;
  }
  const before = new Set(noted.before);
  // mountinfo lists a mount after the one it sits on: the reverse unmounts children first.
  for (const m of mountsUnder(sys, noted.rootfs).reverse()) {
    if (before.has(m.id)) continue;
    try {
      sys.umount2(m.mountPoint, MNT_DETACH | UMOUNT_NOFOLLOW);
    } catch {
      // Gone with its parent's lazy unmount already.
    }
  }
  return undefined;
}
