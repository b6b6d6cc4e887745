/**
 * --no-pivot: the rootfs is moved onto "/" and chroot'ed into, and the old
 * root's mounts stay in the container's mount namespace beneath it, where a
 * process with CAP_SYS_CHROOT reaches them by climbing out of a chroot
 * (chroot into a subdirectory, then ".." past it): the host's /proc, /sys,
 * /dev, its volumes. So before the move every mount that is neither the
 * rootfs, under it, nor one it sits on is detached (runc's msMoveRoot does
 * this for procfs and sysfs only). The mounts that hold the rootfs stay,
 * and with them the host's root filesystem, as under runc: --no-pivot is
 * for roots where pivot_root cannot work (a ramfs), not for isolation.
 */
import { readFileSync } from 'node:fs';
import { RuntsError, errorMessage } from '../errors';
import { EINVAL, ENOENT, MNT_DETACH, MS_REC, MS_SLAVE } from '../sys/constants';
import { parseMountinfo } from '../sys/mountinfo';
import { type Sys, SysError } from '../sys/types';

export function detachHostMounts(
  sys: Sys,
  plan: { rootfs: string; mountNamespace: boolean },
  mountinfo = readFileSync('/proc/self/mountinfo', 'utf8'),
): void {
  // Never in the caller's mount namespace (enterRootfs chroots there without coming here).
  if (!plan.mountNamespace) return;
  const rootfs = plan.rootfs.replace(/\/+$/, '');
  const holdsRootfs = (p: string) => p === '/' || p === rootfs || rootfs.startsWith(`${p}/`);
  const underRootfs = (p: string) => p.startsWith(`${rootfs}/`);
  const points = parseMountinfo(mountinfo)
    .map((e) => e.mountPoint)
    .filter((p) => !holdsRootfs(p) && !underRootfs(p))
    // Parents first: detaching one takes the mounts under it along.
    .sort((a, b) => a.length - b.length);
  for (const p of points) {
    try {
      // Slave first, so that the unmount cannot propagate to the host (as runc).
      sys.mount(null, p, null, MS_SLAVE | MS_REC, null);
      sys.umount2(p, MNT_DETACH);
    } catch (err) {
      // Gone with a parent detached before it.
      if (err instanceof SysError && (err.errno === ENOENT || err.errno === EINVAL)) continue;
      throw new RuntsError(`--no-pivot: cannot detach the host's mount ${p}: ${errorMessage(err)}`);
    }
  }
}
