/**
 * The state store: one directory per container under --root.
 *   <root>/            made 0700 on first use (an existing one keeps its mode)
 *   <root>/<id>/state.json   the record, replaced atomically (temp, fsync, rename)
 *   <root>/<id>/teardown.json  what delete needs (init, cgroup, mounts left in
 *                            ours), written once before the container has a
 *                            process: if state.json is ever damaged, the
 *                            container can still be deleted
 *   <root>/<id>/exec.fifo    present from create until start
 * Creating the container directory is the atomic step that decides which
 * of two concurrent creates of one id wins (mkdir fails with EEXIST).
 */
import { type Dirent, chmodSync, closeSync, existsSync, fsyncSync, mkdirSync, openSync, readFileSync, readdirSync, renameSync, rmSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { RuntsError, errorMessage } from '../errors';
import type { CgroupState } from '../linux/cgroups/types';
import type { SharedMounts } from '../linux/shared-mounts';
import type { ExecBase } from '../spec/plan';
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
  /** What every exec starts from, compiled by create (spec/plan.ts). */
  exec?: ExecBase;
  /** Set by later steps of the lifecycle (cgroups, namespaces, hooks). */
  [key: string]: unknown;
}

/** What tearing the container down needs: its init, its cgroup, its mounts in ours (none change after create). */
export interface Teardown {
  pid: number;
  pidStartTime: string;
  cgroup: CgroupState;
  sharedMounts?: SharedMounts;
}

/** A state file that cannot be read as a record: the container is still there, and delete --force removes it. */
export class DamagedRecord extends RuntsError {
  override name = 'DamagedRecord';
  constructor(
    readonly id: string,
    /** What is wrong ("its state file … is missing"). */
    readonly reason: string,
  ) {
    super(`container ${id}: ${reason}: \`runts delete --force ${id}\` removes the container`);
  }
}

const RECORD = 'state.json';
const TEARDOWN = 'teardown.json';

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
    const file = join(this.containerDir(id), RECORD);
    const record = this.#readJson(id, file, (x) => isRecord(x, id));
    if (record === undefined) {
      // A directory with neither file is a container half made or half deleted: not one to show.
      if (!existsSync(join(this.containerDir(id), TEARDOWN))) throw notFound(id);
      throw damaged(id, file, 'missing');
    }
    return record;
  }

  /** What delete needs: from the record, or (the record damaged) from teardown.json; with why the record was unusable. */
  readTeardown(id: string): { record?: ContainerRecord; teardown: Teardown; damage?: DamagedRecord } {
    try {
      const record = this.read(id);
      if (!record.cgroup) throw new RuntsError(`container ${id} has no cgroup in its record`);
      const { pid, pidStartTime, cgroup, sharedMounts } = record;
      return { record, teardown: { pid, pidStartTime, cgroup, ...(sharedMounts ? { sharedMounts } : {}) } };
    } catch (err) {
      if (!(err instanceof DamagedRecord)) throw err;
      const file = join(this.containerDir(id), TEARDOWN);
      let teardown: Teardown | undefined;
      try {
        teardown = this.#readJson(id, file, isTeardown);
      } catch (second) {
        throw new DamagedRecord(id, `${err.reason}, and ${second instanceof DamagedRecord ? second.reason : errorMessage(second)}`);
      }
      if (!teardown) throw new DamagedRecord(id, `${err.reason}, and ${file} is missing`);
      return { teardown, damage: err };
    }
  }

  /** Atomic replace: readers see the old record or the new one, never half; synced first, so a crash cannot leave it empty. */
  write(record: ContainerRecord): void {
    const dir = this.containerDir(record.id);
    const tmp = join(dir, `.${RECORD}.${process.pid}`);
    writeSynced(tmp, JSON.stringify(record), 'w');
    renameSync(tmp, join(dir, RECORD));
  }

  /** Written once, before the first record (exclusive create: never replaced). */
  writeTeardown(id: string, teardown: Teardown): void {
    writeSynced(join(this.containerDir(id), TEARDOWN), JSON.stringify(teardown), 'wx');
  }

  /** The parsed file if it is there and shaped as `valid` says; undefined if it is not there; DamagedRecord otherwise. */
  #readJson<T>(id: string, file: string, valid: (x: unknown) => x is T): T | undefined {
    let text: string;
    try {
      text = readFileSync(file, 'utf8');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw err;
    }
    let value: unknown;
    try {
      value = JSON.parse(text);
    } catch (err) {
      throw damaged(id, file, `damaged (${(err as Error).message})`);
    }
    if (!valid(value)) throw damaged(id, file, 'damaged (not what runts wrote there)');
    return value;
  }

  /**
   * Where delete moves a container's directory before removing it. '~' is
   * no id character (id.ts): no id can name a tomb, so list never hides a
   * container and no delete renames onto one. Within NAME_MAX whatever the
   * id's length; the pid first keeps concurrent deletes apart.
   */
  tomb(id: string): string {
    return join(this.root, `~deleting.${process.pid}.${checkContainerId(id)}`.slice(0, 255));
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
      // (a tomb, see tomb(), is no valid id)
      .filter((e) => e.isDirectory() && isValidId(e.name))
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

const damaged = (id: string, file: string, how: string) => new DamagedRecord(id, `its state file ${file} is ${how}`);

function writeSynced(file: string, text: string, flags: 'w' | 'wx'): void {
  const fd = openSync(file, flags, 0o600);
  try {
    writeSync(fd, text);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}

const isObject = (x: unknown): x is Record<string, unknown> => typeof x === 'object' && x !== null && !Array.isArray(x);

const isCgroupState = (x: unknown): x is CgroupState =>
  isObject(x) && ((x.version === 2 && typeof x.path === 'string') || (x.version === 1 && isObject(x.paths)));

const isSharedMounts = (x: unknown): x is SharedMounts =>
  isObject(x) && typeof x.namespace === 'string' && typeof x.rootfs === 'string' && Array.isArray(x.before);

const isTeardown = (x: unknown): x is Teardown =>
  isObject(x) && typeof x.pid === 'number' && typeof x.pidStartTime === 'string' && isCgroupState(x.cgroup) &&
  (x.sharedMounts === undefined || isSharedMounts(x.sharedMounts));

/** The fields every command relies on. */
const isRecord = (x: unknown, id: string): x is ContainerRecord =>
  isObject(x) && x.id === id && typeof x.pid === 'number' && typeof x.pidStartTime === 'string' && typeof x.status === 'string' &&
  (x.cgroup === undefined || isCgroupState(x.cgroup));
