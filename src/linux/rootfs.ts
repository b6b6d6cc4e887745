/**
 * The container's filesystem view, built by the init in its new mount
 * namespace (runc's prepareRootfs / finalizeRootfs, config.md "Mounts",
 * config-linux.md "Masked/Readonly Paths"):
 *   prepareRootfs  "/" made rslave, the rootfs bound on itself, each of
 *                  mounts[] in order, devices, /dev links
 *   enterRootfs    pivot_root (or MS_MOVE + chroot with --no-pivot)
 *   finishRootfs   sysctls, masked and read-only paths, read-only root,
 *                  the configured propagation of "/"
 * Every target is resolved inside the rootfs and mounted on through a
 * descriptor (in-root.ts).
 *
 * Without a mount namespace of its own (config.md: the container then
 * shares the runtime's), the init is in the caller's mount namespace and
 * touches nothing of it outside the rootfs: no propagation change, no bind
 * of the rootfs, no pivot_root (chroot, as runc does); mounts[] land under
 * the rootfs and delete removes them (shared-mounts.ts). What needs more
 * is refused at validation (checks.ts), and asserted here again.
 */
import { dirname } from 'node:path';
import { RuntsError, errorMessage } from '../errors';
import {
  EEXIST,
  MNT_DETACH,
  MS_BIND,
  MS_MOVE,
  MS_PRIVATE,
  MS_RDONLY,
  MS_REC,
  MS_REMOUNT,
  MS_SLAVE,
  O_CLOEXEC,
  O_CREAT,
  O_DIRECTORY,
  O_EXCL,
  O_NOFOLLOW,
  O_PATH,
  O_RDONLY,
  O_WRONLY,
  S_IFDIR,
} from '../sys/constants';
import { parseMountinfo } from '../sys/mountinfo';
import { type FileStat, type MountAttributes, type Sys, SysError, exists, fileType } from '../sys/types';
import type { CgroupMountView } from './cgroups/types';
import { mountWithCopyUp } from './copy-up';
import { type PlannedDevice, createDevSymlinks, createDevice, devicesToCreate } from './devices';
import { fdEntry, fdPath } from './fd-paths';
import { detachHostMounts } from './host-mounts';
import type { IdmapPlan } from './idmapped-mounts';
import { type Entry, RootDir } from './in-root';
import { maskPaths } from './masked-paths';
import type { NamespaceRequest } from './namespaces';
import { cleanDestination, procMountRefusal } from './proc-mounts';
import { onProcfs, writeProcFile } from './procfs';
import { parseSysctlKey } from './sysctl';

/** One of mounts[], its option words parsed (spec/plan.ts plans it). */
export interface PlannedMount {
  destination: string;
  /** Absolute host path for binds (relative sources are the bundle's). */
  source: string;
  type: string;
  bind: boolean;
  flags: number;
  propagation: number[];
  data: string;
  /** mount_setattr(AT_RECURSIVE), after everything else (the r* option words). */
  recursive?: MountAttributes;
  /** tmpcopyup on a tmpfs: it starts with a copy of what it covers. */
  copyUp?: true;
  /** An id-mapped bind: attached from the detached mount create made (idmapped-mounts.ts). */
  idmap?: IdmapPlan;
}

/** What the rootfs steps read of the init's plan (spec/plan.ts builds it, as part of InitPlan). */
export interface RootfsPlan {
  rootfs: string;
  rootReadonly: boolean;
  /** linux.rootfsPropagation as mount flags, when the config sets it. */
  rootPropagation?: number;
  noPivot: boolean;
  /**
   * The init runs in a mount namespace of the container's own (made or
   * joined by the helper before node started: exec-helper.ts). Without one
   * it shares the caller's: nothing outside the rootfs is touched, and the
   * rootfs is entered with chroot, never pivot_root.
   */
  mountNamespace: boolean;
  /**
   * The init is root of a user namespace, not of the host: device nodes
   * are bound from the host, and remounts keep the flags the kernel locks
   * on mounts that came from the host (nosuid, nodev, noexec, atime).
   */
  userNamespace: boolean;
  /** The container has a cgroup namespace (new or joined). */
  cgroupNamespace: boolean;
  /** Namespaces the init unshares or joins itself (the rest are set up as it is spawned: namespaceSetup). */
  namespaces: NamespaceRequest[];
  mounts: PlannedMount[];
  devices: PlannedDevice[];
  maskedPaths: string[];
  readonlyPaths: string[];
  sysctl: Record<string, string>;
  /** The container's cgroup, as its "cgroup" mounts show it. */
  cgroup: CgroupMountView;
}

/** Flags that only say how to mount, not what the mount's attributes are. */
const NON_ATTRIBUTE_FLAGS = MS_BIND | MS_REC | MS_REMOUNT;

/** detached: the detached mount of each id-mapped mount, by its index in plan.mounts (idmapped-mounts.ts). */
export function prepareRootfs(sys: Sys, plan: RootfsPlan, detached: ReadonlyMap<number, number> = new Map()): void {
  if (!exists(sys, plan.rootfs)) throw new RuntsError(`root.path ${plan.rootfs} does not exist`);
  if (plan.mountNamespace) {
    // "/" becomes rslave, so nothing done here propagates to the host while
    // the host's mount events still reach the container's slave mounts; the
    // rootfs's parent mount is made private, which pivot_root requires.
    // rootfsPropagation is applied once pivoted (finishRootfs): unbindable
    // here would forbid the very bind of the rootfs.
    sys.mount(null, '/', null, MS_SLAVE | MS_REC, null);
    sys.mount(null, mountPointOf(sys, dirname(plan.rootfs)), null, MS_PRIVATE, null);
    sys.mount(plan.rootfs, plan.rootfs, 'bind', MS_BIND | MS_REC, null);
  } else {
    assertSharedMountsSafe(plan);
  }
  // Opened after the bind: the rootfs mount that everything goes in.
  const root = new RootDir(sys, plan.rootfs);
  try {
    let devIsTmpfs = false;
    for (const [i, m] of plan.mounts.entries()) {
      mountOne(sys, root, plan, m, `/mounts/${i}/destination`, detached.get(i));
      if (m.destination.replace(/\/+$/, '') === '/dev') devIsTmpfs = !m.bind;
    }
    sys.close(root.mkdirAll('/dev', 0o755));
    // A /dev bound from the host already has its devices; otherwise make them.
    const devices =
      devIsTmpfs || !plan.mounts.some((m) => m.destination === '/dev') ? devicesToCreate(plan.devices) : plan.devices;
    for (const dev of devices) createDevice(sys, root, dev, plan.userNamespace);
    createDevSymlinks(sys, root);
  } finally {
    root.close();
  }
}

function mountOne(sys: Sys, root: RootDir, plan: RootfsPlan, m: PlannedMount, pointer: string, detached?: number): void {
  const check: CheckDestination = (onto) => checkResolvedDestination(sys, root, m, onto, pointer);
  let held: Destination | undefined;
  try {
    // "remount" changes the mount already at the destination (a mount
    // earlier in the list), it does not stack a new one.
    if (m.flags & MS_REMOUNT) {
      const fd = root.open(m.destination);
      if (fd === undefined) throw new RuntsError(`${m.destination} does not exist`);
      held = { onto: fd, mounted: () => fd, close: () => sys.close(fd) };
      check(fd);
      sys.mount(m.source, fdPath(fd), m.type, m.flags, m.data || null);
    } else if (m.bind) {
      const source = bindSource(sys, m, detached);
      held = holdDestination(sys, root, m.destination, fileType(source) === S_IFDIR ? 'directory' : 'file', check);
      bindMount(sys, m, held, detached);
    } else {
      held = holdDestination(sys, root, m.destination, 'directory', check);
      if (m.type === 'cgroup') cgroupMount(sys, m, plan, held);
      else newMount(sys, m, held);
    }
    for (const p of m.propagation) sys.mount(null, fdPath(held.mounted()), null, p, null);
    if (m.recursive) sys.mountSetattr(held.mounted(), m.recursive);
  } catch (err) {
    if (err instanceof DestinationRefused) throw err;
    throw new RuntsError(`mount ${m.source} to ${m.destination} (${m.type}): ${errorMessage(err)}`);
  } finally {
    held?.close();
  }
}

/** What a mount's destination must be, checked on the directory or file held (onto). */
type CheckDestination = (onto: number) => void;

class DestinationRefused extends RuntsError {}

/**
 * The destination as resolved in the rootfs, checked as the config's was
 * (proc-mounts.ts): a rootfs symlink (/foo -> /proc) may have led it into
 * /proc. proc and sysfs go on an ordinary directory, never through a
 * symlink (runc's rule): a procfs that /proc only links to sits where later
 * mounts could cover its files. A bind onto /proc must bind a procfs. The
 * path checked is the one of what is held, which the mount then goes on.
 */
function checkResolvedDestination(sys: Sys, root: RootDir, m: PlannedMount, onto: number, pointer: string): void {
  const resolved = root.pathOf(onto);
  const refusal = procMountRefusal(resolved, m);
  if (refusal) throw new DestinationRefused(`${pointer}: ${m.destination} resolves to ${resolved} in the rootfs, and ${refusal}`);
  // A path other than the plain destination came through a link.
  const throughLink = resolved !== cleanDestination(m.destination);
  if (!m.bind && (m.type === 'proc' || m.type === 'sysfs') && (throughLink || fileType(sys.fstat(onto)) !== S_IFDIR)) {
    throw new DestinationRefused(
      `${pointer}: ${m.type} must be mounted on an ordinary directory, and ${m.destination} is not one in the rootfs (a symlink, or under one)`,
    );
  }
  if (m.bind && resolved === '/proc' && !onProcfs(sys, m.source)) {
    throw new DestinationRefused(`${pointer}: only a procfs may be bound onto /proc, and ${m.source} is not one`);
  }
}

/**
 * A destination held open from before its mount to after the last change
 * to it: onto is what the mount goes on (mount(2) names it as
 * /proc/self/fd/N); mounted() the new mount, opened again and checked
 * (RootDir.mountedOn) the first time something needs it.
 */
interface Destination {
  onto: number;
  mounted(): number;
  close(): void;
}

/** The destination found and held inside the rootfs, made when missing (a directory, or an empty file for a file to bind) and checked. */
function holdDestination(
  sys: Sys,
  root: RootDir,
  destination: string,
  kind: 'directory' | 'file',
  check: CheckDestination,
): Destination {
  const at = root.entry(destination, 0o755);
  let onto: number | undefined;
  let mounted: number | undefined;
  const close = () => {
    if (mounted !== undefined) sys.close(mounted);
    if (onto !== undefined) sys.close(onto);
    sys.close(at.dir);
  };
  try {
    onto = kind === 'directory' ? root.mkdir(at, 0o755) : makeFile(sys, at);
    check(onto);
    const held = onto;
    return { onto, mounted: () => (mounted ??= root.mountedOn(at, held)), close };
  } catch (err) {
    close();
    throw err;
  }
}

/** The entry, made an empty file when missing: an O_PATH descriptor of whatever it is (mount(2) judges). */
function makeFile(sys: Sys, at: Entry): number {
  try {
    sys.close(sys.open(fdEntry(at.dir, at.name), O_CREAT | O_EXCL | O_WRONLY | O_NOFOLLOW | O_CLOEXEC, 0o644));
  } catch (err) {
    if (!(err instanceof SysError && err.errno === EEXIST)) throw err;
  }
  return sys.open(fdEntry(at.dir, at.name), O_PATH | O_NOFOLLOW | O_CLOEXEC);
}

/** A new filesystem (tmpfs, proc, …) on a directory. */
function newMount(sys: Sys, m: PlannedMount, at: Destination): void {
  const flags = m.flags & ~MS_REMOUNT;
  if (!m.copyUp) {
    sys.mount(m.source, fdPath(at.onto), m.type, flags, m.data || null);
    return;
  }
  // Written to first: read-only, if asked, comes after the copy (as with runc).
  const mount = () => {
    sys.mount(m.source, fdPath(at.onto), m.type, flags & ~MS_RDONLY, m.data || null);
    return at.mounted();
  };
  const mounted = mountWithCopyUp(sys, at.onto, mount, !/(^|,)mode=/.test(m.data));
  if (flags & MS_RDONLY) sys.mount(m.source, fdPath(mounted), m.type, flags | MS_REMOUNT, m.data || null);
}

/** What a bind's source is: the detached id-mapped mount create made of it, or the path. */
function bindSource(sys: Sys, m: PlannedMount, detached: number | undefined): FileStat {
  if (m.idmap) {
    if (detached === undefined) throw new RuntsError('the id-mapped mount did not come from create');
    return sys.fstat(detached);
  }
  let st;
  try {
    st = sys.stat(m.source);
  } catch {
    // Not there for this process (EACCES, ELOOP, …): the same as missing.
  }
  if (!st) throw new RuntsError(`mount source ${m.source} does not exist`);
  return st;
}

/** A bind of the source, or the detached id-mapped mount attached; then its attributes. */
function bindMount(sys: Sys, m: PlannedMount, at: Destination, detached: number | undefined): void {
  if (detached !== undefined) sys.moveMount(detached, at.onto);
  else sys.mount(m.source, fdPath(at.onto), 'bind', MS_BIND | (m.flags & MS_REC), null);
  if (m.flags & ~NON_ATTRIBUTE_FLAGS) remountAttributes(sys, fdPath(at.mounted()), m.flags);
}

/** A bind takes the source's attributes; ro, nosuid, … need a remount of the new mount, which target names. */
function remountAttributes(sys: Sys, target: string, flags: number): void {
  const attributes = flags & ~NON_ATTRIBUTE_FLAGS;
  if (attributes) sys.mount(null, target, null, MS_BIND | MS_REMOUNT | attributes, null);
}

/**
 * A "cgroup" mount shows the container its own cgroup (runc's
 * mountCgroupV1/V2). v2: cgroup2, which a cgroup namespace roots at the
 * container's cgroup. v1: a tmpfs with a directory per hierarchy: a fresh
 * mount of the hierarchy in a cgroup namespace, else the container's
 * cgroup directory bound from the host; co-mounted controllers get their
 * links (cpu -> cpu,cpuacct). The tmpfs is made read-only last when asked.
 * Inside the fresh tmpfs, which only this mount namespace sees, paths are
 * safe to walk.
 */
function cgroupMount(sys: Sys, m: PlannedMount, plan: RootfsPlan, at: Destination): void {
  if (plan.cgroup.version === 2) {
    sys.mount('cgroup2', fdPath(at.onto), 'cgroup2', m.flags, null);
    return;
  }
  const ownNamespace = plan.cgroupNamespace;
  const flags = m.flags & ~MS_RDONLY;
  sys.mount('tmpfs', fdPath(at.onto), 'tmpfs', flags, 'mode=755');
  const tmpfs = at.mounted();
  for (const h of plan.cgroup.hierarchies) {
    const sub = fdEntry(tmpfs, h.name);
    sys.mkdir(sub, 0o755);
    if (ownNamespace) {
      sys.mount('cgroup', sub, 'cgroup', m.flags, h.controllers);
    } else {
      sys.mount(h.path, sub, 'bind', MS_BIND | MS_REC, null);
      remountAttributes(sys, sub, m.flags | MS_REC);
    }
    if (h.name.includes(',')) for (const controller of h.name.split(',')) sys.symlink(h.name, fdEntry(tmpfs, controller));
  }
  if (m.flags & MS_RDONLY) sys.mount(null, fdPath(tmpfs), null, MS_REMOUNT | flags | MS_RDONLY, 'mode=755');
}

/**
 * What the caller's own mount namespace must never see done to it: checked
 * at validation with JSON pointers (checks.ts); here so that no path of
 * the code can do it whatever the validation said.
 */
function assertSharedMountsSafe(plan: RootfsPlan): void {
  const unsafe = [
    plan.maskedPaths.length && 'linux.maskedPaths',
    plan.readonlyPaths.length && 'linux.readonlyPaths',
    Object.keys(plan.sysctl).length && 'linux.sysctl',
    plan.rootReadonly && 'root.readonly',
    plan.rootPropagation !== undefined && 'linux.rootfsPropagation',
  ].filter(Boolean);
  if (unsafe.length) throw new RuntsError(`${unsafe.join(', ')}: need a mount namespace of the container's own`);
}

/**
 * pivot_root into the rootfs, dropping the old root (runc's pivotRoot
 * trick: pivot "." onto "."). Without a mount namespace of the container's
 * own, chroot: pivot_root there would move the root of every process of the
 * caller's mount namespace (the whole machine's, on a bare host).
 */
export function enterRootfs(sys: Sys, plan: RootfsPlan): void {
  if (!plan.mountNamespace) {
    sys.chroot(plan.rootfs);
  } else if (plan.noPivot) {
    detachHostMounts(sys, plan);
    sys.chdir(plan.rootfs);
    sys.mount(plan.rootfs, '/', null, MS_MOVE, null);
    sys.chroot('.');
  } else {
    const oldRoot = sys.open('/', O_DIRECTORY | O_RDONLY | O_CLOEXEC);
    try {
      sys.chdir(plan.rootfs);
      sys.pivotRoot('.', '.');
      // The old root now sits on top of the new one. From inside it, make it
      // slave (its unmount must not reach the host) and drop it; the new
      // root's own mounts keep their propagation.
      sys.fchdir(oldRoot);
      sys.mount(null, '.', null, MS_SLAVE | MS_REC, null);
      sys.umount2('.', MNT_DETACH);
    } finally {
      sys.close(oldRoot);
    }
  }
  sys.chdir('/');
}

/** The mount point that holds path (the longest one above it, from mountinfo). */
function mountPointOf(sys: Sys, path: string): string {
  const points = parseMountinfo(sys.readFile('/proc/self/mountinfo'))
    .map((m) => m.mountPoint)
    .filter((p) => p === '/' || path === p || path.startsWith(`${p}/`));
  return points.reduce((a, b) => (b.length > a.length ? b : a), '/');
}

export function finishRootfs(sys: Sys, plan: RootfsPlan): void {
  if (!plan.mountNamespace) {
    assertSharedMountsSafe(plan);
    return;
  }
  for (const [key, value] of Object.entries(plan.sysctl)) {
    try {
      // Validated already (sysctl.ts): a malformed key never gets here.
      const file = parseSysctlKey(key)?.file;
      if (!file) throw new RuntsError('not a sysctl name');
      writeProcFile(sys, file, value);
    } catch (err) {
      throw new RuntsError(`sysctl ${key}=${value}: ${errorMessage(err)}`);
    }
  }
  for (const path of plan.readonlyPaths) readonlyPath(sys, path);
  maskPaths(sys, plan.maskedPaths);
  if (plan.rootReadonly) sys.mount(null, '/', null, MS_BIND | MS_REMOUNT | MS_RDONLY | MS_REC, null);
  if (plan.rootPropagation !== undefined) sys.mount(null, '/', null, plan.rootPropagation, null);
}

function readonlyPath(sys: Sys, path: string): void {
  if (!exists(sys, path)) return;
  sys.mount(path, path, null, MS_BIND | MS_REC, null);
  sys.mount(null, path, null, MS_BIND | MS_REMOUNT | MS_RDONLY | MS_REC, null);
}
