/**
 * The state store: one directory per container under --root.
 *   <root>/            made 0700 on first use (an existing one keeps its mode)
 *   <root>/<id>/state.json   the record, replaced atomically (temp + rename)
 *   <root>/<id>/exec.fifo    present from create until start
 * Creating the container directory is the atomic step that decides which
 * of two concurrent creates of one id wins (mkdir fails with EEXIST).
 */
import { type Dirent, chmodSync, closeSync, mkdirSync, openSync, readFileSync, readdirSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { RuntsError } from '../errors';
import type { CgroupState } from '../linux/cgroups/types';
import type { SharedMounts } from '../linux/shared-mounts';
import type { LinuxResources } from '../spec/types';
import { checkContainerId, isValidId } from './id';

export type Status = 'creating' | 'created' | 'running' | 'paused' | 'stopped';

/** What runts keeps about a container (the OCI state plus what it needs later). */
export interface ContainerRecord {
  ociVersion: string;
  id: string;
  /** Written as 'creating' first, then 'created'; the live status is derived (status.ts). */
  status: 'creating' | 'created';
  pid: number;
  /** /proc/PID/stat start time of pid: tells the container from a reused pid. */
  pidStartTime: string;
  bundle: string;
  rootfs: string;
  created: string;
  owner: string;
  annotations?: Record<string, string>;
  /** The container's cgroup, and the resources last applied to it (`update` merges into them). */
  cgroup?: CgroupState;
  resources?: LinuxResources;
  /** The container's session keyring ("_ses.<id>"), absent with --no-new-keyring. */
  sessionKeyring?: string;
  /** No mount namespace of its own: the mounts delete removes from the caller's (shared-mounts.ts). */
  sharedMounts?: SharedMounts;
  /** Set by later steps of the lifecycle (cgroups, namespaces, hooks). */
  [key: string]: unknown;
}

export const DEFAULT_ROOT = '/run/runts';

export class StateStore {
  constructor(readonly root: string = DEFAULT_ROOT) {}

  containerDir(id: string): string {
    return join(this.root, checkContainerId(id));
  }

  /**
   * Makes the root if it is missing, 0700 whatever the umask (state holds
   * paths and pids of others). An existing directory is left as it is, as
   * runc leaves it: `--root /tmp` must not turn /tmp into 0700. (The
   * container directories inside are 0700 themselves.)
   */
  ensureRoot(): void {
    const made = mkdirSync(this.root, { recursive: true, mode: 0o700 });
    if (made !== undefined) chmodSync(this.root, 0o700);
  }

  /** Claims the id: exactly one of concurrent callers succeeds. */
  claim(id: string): string {
    this.ensureRoot();
    const dir = this.containerDir(id);
    try {
      mkdirSync(dir, { mode: 0o700 });
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'EEXIST') {
        throw new RuntsError(`container with id ${id} already exists`);
      }
      throw err;
    }
    return dir;
  }

  read(id: string): ContainerRecord {
    const file = join(this.containerDir(id), 'state.json');
    let text: string;
    try {
      text = readFileSync(file, 'utf8');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') throw notFound(id);
      throw err;
    }
    return JSON.parse(text) as ContainerRecord;
  }

  /** Atomic replace: readers see the old record or the new one, never half. */
  write(record: ContainerRecord): void {
    const dir = this.containerDir(record.id);
    const tmp = join(dir, `.state.json.${process.pid}`);
    writeFileSync(tmp, JSON.stringify(record), { mode: 0o600 });
    renameSync(tmp, join(dir, 'state.json'));
  }

  remove(id: string): void {
    rmSync(this.containerDir(id), { recursive: true, force: true });
  }

  /** Ids of containers under the root (directories with a valid id). */
  ids(): string[] {
    let entries: Dirent[];
    try {
      entries = readdirSync(this.root, { withFileTypes: true });
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
      throw err;
    }
    return entries
      // (".deleting-*": a container being deleted, see container/delete.ts)
      .filter((e) => e.isDirectory() && isValidId(e.name) && !e.name.startsWith('.deleting-'))
      .map((e) => e.name)
      .sort();
  }

  /**
   * Runs fn holding an exclusive flock on the container's lock file, so that
   * operations on one container (start, kill, delete, …) do not interleave.
   * The lock dies with the process, so a crash never leaves it held.
   */
  async withLock<T>(id: string, fn: () => T | Promise<T>): Promise<T> {
    const { sys } = await import('../sys/index');
    const { LOCK_EX, LOCK_UN } = await import('../sys/constants');
    let fd: number;
    try {
      fd = openSync(join(this.containerDir(id), '.lock'), 'a', 0o600);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') throw notFound(id);
      throw err;
    }
    try {
      sys().flock(fd, LOCK_EX);
      return await fn();
    } finally {
      try {
        sys().flock(fd, LOCK_UN);
      } finally {
        closeSync(fd);
      }
    }
  }
}

export const notFound = (id: string) => new RuntsError(`container ${id} does not exist`);
