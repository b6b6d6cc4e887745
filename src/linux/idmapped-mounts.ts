/**
 * Id-mapped bind mounts (config.md "idmap", "ridmap", mounts[].uidMappings
 * and gidMappings; runc 1.2's mountFd): the container sees the source's
 * files with their owners mapped, the files themselves unchanged.
 *
 * mount_setattr(MOUNT_ATTR_IDMAP) needs privilege over the user namespace
 * that owns the source's filesystem: the host's root, in the host's mount
 * namespace. So create makes each such mount detached (open_tree clone,
 * then the mapping), and sends it to the init over a socket; the init
 * attaches it with move_mount when the mount's turn comes in mounts[]
 * (rootfs.ts), onto the destination it resolved inside the rootfs as for
 * any bind. A mount create made and the init never attached is gone with
 * the last fd to it: a failed create leaves no mount behind.
 */
import { RuntsError, errorMessage } from '../errors';
import { EINVAL, MS_REC, O_CLOEXEC, O_RDONLY } from '../sys/constants';
import { type Sys, SysError } from '../sys/types';
import { type IdMapping, mappedUserNamespace } from './id-mappings';

/** What a mount's id-mapping is (spec/plan.ts decides it from the config). */
export interface IdmapPlan {
  /** ridmap: every mount of the tree gets the mapping (an rbind's submounts too), not only its top. */
  recursive: boolean;
  /** The mapping: the mount's own, or the container's user namespace's (its maps, or the namespace at path). */
  userns: { uidMappings: IdMapping[]; gidMappings: IdMapping[] } | { path: string };
}

/** The part of a planned mount that these steps read (rootfs.ts's PlannedMount has it). */
export interface IdmapSource {
  source: string;
  destination: string;
  flags: number;
  idmap?: IdmapPlan;
}

/**
 * create's side: each id-mapped mount of mounts, made detached, in order
 * (one user namespace per distinct mapping, closed once used). On failure
 * nothing made is left open.
 */
export async function detachIdmappedMounts(sys: Sys, mounts: readonly IdmapSource[]): Promise<number[]> {
  const namespaces = new Map<string, number>();
  const detached: number[] = [];
  try {
    for (const m of mounts) {
      if (!m.idmap) continue;
      const key = JSON.stringify(m.idmap.userns);
      let userns = namespaces.get(key);
      if (userns === undefined) {
        userns = await openUserNamespace(sys, m, m.idmap);
        namespaces.set(key, userns);
      }
      detached.push(detach(sys, m, m.idmap, userns));
    }
    return detached;
  } catch (err) {
    for (const fd of detached) sys.close(fd);
    throw err;
  } finally {
    for (const fd of namespaces.values()) sys.close(fd);
  }
}

async function openUserNamespace(sys: Sys, m: IdmapSource, idmap: IdmapPlan): Promise<number> {
  const { userns } = idmap;
  try {
    return 'path' in userns
      ? sys.open(userns.path, O_RDONLY | O_CLOEXEC)
      : await mappedUserNamespace(userns.uidMappings, userns.gidMappings);
  } catch (err) {
    throw new RuntsError(`mount ${m.source} to ${m.destination}: the id-mapping's user namespace: ${errorMessage(err)}`);
  }
}

/** A clone of the source (with its submounts for an rbind), mapped through userns. */
function detach(sys: Sys, m: IdmapSource, idmap: IdmapPlan, userns: number): number {
  let fd: number | undefined;
  try {
    fd = sys.openTreeClone(m.source, (m.flags & MS_REC) !== 0);
    sys.idmapMount(fd, userns, idmap.recursive);
    return fd;
  } catch (err) {
    if (fd !== undefined) sys.close(fd);
    const hint =
      err instanceof SysError && err.errno === EINVAL && err.call === 'mount_setattr'
        ? ' (the filesystem of the source may not support id-mapped mounts on this kernel)'
        : '';
    throw new RuntsError(`mount ${m.source} to ${m.destination}: id-mapped mount: ${errorMessage(err)}${hint}`);
  }
}

/** create's side: the detached mounts sent over socket, in order, one per message; then closed here. */
export function sendDetachedMounts(sys: Sys, socket: number, detached: readonly number[]): void {
  try {
    for (const fd of detached) sys.sendFds(socket, Buffer.alloc(0), [fd]);
  } finally {
    for (const fd of detached) sys.close(fd);
  }
}

/** The init's side: the detached mount of each id-mapped mount, by its index in mounts. */
export function receiveDetachedMounts(sys: Sys, socket: number, mounts: readonly IdmapSource[]): Map<number, number> {
  const detached = new Map<number, number>();
  mounts.forEach((m, i) => {
    if (m.idmap) detached.set(i, sys.recvFd(socket).fd);
  });
  sys.close(socket);
  return detached;
}
