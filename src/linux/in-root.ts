/**
 * Paths inside the container's rootfs, resolved by the kernel and then used
 * through descriptors (runc's pathrs-lite, crun's safe_openat). A path
 * string resolved by lstat/readlink and handed to mount(2) is walked again
 * by the kernel: a component swapped for a symlink in between, by a process
 * that shares the directory (a volume, a bound /dev), moves the mount, the
 * mkdir or the mknod out of the rootfs. Here:
 *   - what exists is opened with openat2(RESOLVE_IN_ROOT): symlinks and
 *     ".." resolve as if the rootfs were "/", magic links are refused;
 *   - otherwise the path is walked from the rootfs one directory at a
 *     time, each opened O_NOFOLLOW below the one held before, missing ones
 *     made there; a symlink on the way is read and followed inside the
 *     rootfs, as secureJoin does;
 *   - the operation names the object held, or an entry of the directory
 *     held, by its /proc/self/fd path (fd-paths.ts).
 * The init uses this before pivot_root, where /proc is the host's.
 */
import { relative } from 'node:path';
import { RuntsError } from '../errors';
import {
  EAGAIN,
  EEXIST,
  ELOOP,
  ENOENT,
  O_CLOEXEC,
  O_DIRECTORY,
  O_NOFOLLOW,
  O_PATH,
  RESOLVE_IN_ROOT,
  RESOLVE_NO_MAGICLINKS,
  S_IFDIR,
  S_IFLNK,
} from '../sys/constants';
import { type FileStat, type Sys, SysError, fileType } from '../sys/types';
import { fdEntry, fdPath } from './fd-paths';

const MAX_LINKS = 255;
/** openat2(RESOLVE_IN_ROOT) says EAGAIN when a rename or mount raced a "..": try again. */
const MAX_RETRIES = 64;

const failedWith = (err: unknown, errno: number): boolean => err instanceof SysError && err.errno === errno;

/**
 * A directory entry inside the rootfs: the directory that holds it, open,
 * and its name there, which may not exist yet.
 */
export interface Entry {
  dir: number;
  name: string;
}

/** An entry as found: seen is what the name held then, as lstat says (undefined: nothing). */
export interface FoundEntry extends Entry {
  seen: FileStat | undefined;
}

/** The rootfs, held open while its paths are resolved. */
export class RootDir {
  readonly fd: number;
  #realPath: string | undefined;

  constructor(
    private readonly sys: Sys,
    readonly path: string,
  ) {
    // root.path is the host's (the bundle's), resolved as prepareRootfs's bind of it was.
    this.fd = sys.open(path, O_PATH | O_DIRECTORY | O_CLOEXEC);
  }

  close(): void {
    this.sys.close(this.fd);
  }

  /**
   * An O_PATH descriptor of path (symlinks followed inside the root), or
   * undefined when it does not exist, or when the kernel will not resolve
   * it so (ELOOP: a magic link such as /proc/self/cwd, too many links):
   * the walk of entry() reads those as secureJoin does.
   */
  open(path: string, flags = 0): number | undefined {
    for (let attempt = 0; ; attempt++) {
      try {
        return this.sys.openat2(this.fd, path || '.', O_PATH | O_CLOEXEC | flags, RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS);
      } catch (err) {
        if (failedWith(err, ENOENT) || failedWith(err, ELOOP)) return undefined;
        if (failedWith(err, EAGAIN) && attempt < MAX_RETRIES) continue;
        throw err;
      }
    }
  }

  /** Where what fd holds is, as a path inside the root ("/" for the root itself). */
  pathOf(fd: number): string {
    this.#realPath ??= this.sys.readlink(fdPath(this.fd));
    const held = this.sys.readlink(fdPath(fd));
    const rel = relative(this.#realPath, held);
    if (rel.startsWith('..')) throw new RuntsError(`fd ${fd} is not inside the rootfs (${held})`);
    return `/${rel}`;
  }

  /**
   * path's entry: its directory made (mode) when missing, symlinks followed
   * inside the root, the last one too. The caller closes entry.dir.
   */
  entry(path: string, mode: number): FoundEntry {
    const names = parts(path);
    const name = names[names.length - 1];
    // Most often the directory exists and the name is no symlink: one openat2.
    if (name !== undefined && name !== '..') {
      const dir = this.open(names.slice(0, -1).join('/'), O_DIRECTORY);
      if (dir !== undefined) {
        const seen = this.sys.lstat(fdEntry(dir, name));
        if (!seen || fileType(seen) !== S_IFLNK) return { dir, name, seen };
        this.sys.close(dir);
      }
    }
    const found = this.#walk(path, mode);
    if (found.name === undefined) {
      this.sys.close(found.dir);
      throw new RuntsError(`${path} is the root itself`);
    }
    return { dir: found.dir, name: found.name, seen: found.seen };
  }

  /**
   * The entry, made a directory when missing: an O_PATH descriptor of what
   * it is then, not followed if a symlink (a mount refuses a non-directory).
   */
  mkdir(at: Entry, mode: number): number {
    // Most destinations exist already: open first.
    const open = () => this.sys.open(fdEntry(at.dir, at.name), O_PATH | O_NOFOLLOW | O_CLOEXEC);
    try {
      return open();
    } catch (err) {
      if (!failedWith(err, ENOENT)) throw err;
    }
    this.#makeDir(at.dir, at.name, mode);
    return open();
  }

  /** The directory at path, made (with its parents, mode) when missing: an O_PATH descriptor. */
  mkdirAll(path: string, mode: number): number {
    const existing = this.open(path, O_DIRECTORY);
    if (existing !== undefined) return existing;
    const at = this.entry(path, mode);
    let fd: number | undefined;
    try {
      fd = this.mkdir(at, mode);
      if (fileType(this.sys.fstat(fd)) !== S_IFDIR) throw new RuntsError(`${path}: not a directory in the rootfs`);
      return fd;
    } catch (err) {
      if (fd !== undefined) this.sys.close(fd);
      throw err;
    } finally {
      this.sys.close(at.dir);
    }
  }

  /**
   * The mount just made on `onto` (the entry `at`, held open): opened again
   * through the entry, since a remount or a propagation change must name
   * the mount on top, which `onto` is not; and checked to sit on `onto`, so
   * that an entry swapped meanwhile is refused rather than changed in the
   * wrong place.
   */
  mountedOn(at: Entry, onto: number): number {
    const under = this.sys.mountOf(onto).id;
    const mounted = this.sys.open(fdEntry(at.dir, at.name), O_PATH | O_NOFOLLOW | O_CLOEXEC);
    // The same file has the same path in both readings, unless a rename
    // came between them: then read both again.
    for (let attempt = 0; attempt < MAX_RETRIES; attempt++) {
      const on = this.sys.mountOf(mounted);
      if (on.parent !== under) break;
      if (on.mountPoint === this.sys.readlink(fdPath(onto))) return mounted;
    }
    this.sys.close(mounted);
    throw new RuntsError(`${at.name}: the mount destination changed while it was being mounted`);
  }

  /**
   * Walks path from the root one component at a time: each directory is
   * opened below the previous one with O_NOFOLLOW, made first if missing; a
   * symlink is read and its target walked in its place (from the root when
   * absolute); ".." goes back to the directory walked before, never above
   * the root. Stops at the last component, a symlink there followed too,
   * and returns it by name in its directory (undefined: path is the root),
   * with what it is (fstat of it, opened O_NOFOLLOW: as lstat says).
   */
  #walk(path: string, mode: number): { dir: number; name: string | undefined; seen?: FileStat } {
    const { sys } = this;
    const stack: number[] = [sys.open(fdPath(this.fd), O_PATH | O_DIRECTORY | O_CLOEXEC)];
    const top = () => stack[stack.length - 1]!; // the root's fd stays at the bottom until the walk returns
    let pending = parts(path);
    let links = 0;
    let retries = 0;
    try {
      while (pending.length) {
        const part = pending.shift()!;
        if (part === '..') {
          if (stack.length > 1) sys.close(stack.pop()!);
          continue;
        }
        const last = pending.length === 0;
        let fd: number;
        try {
          fd = sys.open(fdEntry(top(), part), O_PATH | O_NOFOLLOW | O_CLOEXEC);
        } catch (err) {
          if (!failedWith(err, ENOENT)) throw err;
          if (last) return { dir: stack.pop()!, name: part, seen: undefined };
          this.#makeDir(top(), part, mode);
          pending.unshift(part);
          continue;
        }
        const st = sys.fstat(fd);
        const type = fileType(st);
        if (type === S_IFLNK) {
          sys.close(fd);
          let target: string;
          try {
            target = sys.readlink(fdEntry(top(), part));
          } catch {
            // Swapped since it was opened: look at it again.
            if (++retries > MAX_RETRIES) throw new RuntsError(`${path}: ${part} keeps changing`);
            pending.unshift(part);
            continue;
          }
          if (++links > MAX_LINKS) throw new RuntsError(`${path}: too many levels of symbolic links in the rootfs`);
          if (target.startsWith('/')) while (stack.length > 1) sys.close(stack.pop()!);
          pending = [...parts(target), ...pending];
          continue;
        }
        if (last) {
          sys.close(fd);
          return { dir: stack.pop()!, name: part, seen: st };
        }
        if (type !== S_IFDIR) {
          sys.close(fd);
          throw new RuntsError(`${path}: ${part} is not a directory`);
        }
        stack.push(fd);
      }
      return { dir: stack.pop()!, name: undefined };
    } finally {
      for (const fd of stack) sys.close(fd);
    }
  }

  /** name made a directory in the directory dir holds, unless something is there already. */
  #makeDir(dir: number, name: string, mode: number): void {
    try {
      this.sys.mkdir(fdEntry(dir, name), mode);
    } catch (err) {
      if (!failedWith(err, EEXIST)) throw err;
    }
  }
}

/** Components of a path, "." and empty ones left out. */
function parts(path: string): string[] {
  return path.split('/').filter((p) => p !== '' && p !== '.');
}

/** mkdir -p of path inside the rootfs (e.g. /dev). */
export function mkdirInRoot(sys: Sys, rootfs: string, path: string, mode: number): void {
  const root = new RootDir(sys, rootfs);
  try {
    sys.close(root.mkdirAll(path, mode));
  } finally {
    root.close();
  }
}
