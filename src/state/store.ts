/**
 * The state store: one directory per container under --root. This module
 * alone knows the layout:
 *   <root>/                  made 0700 on first use (an existing one keeps its mode)
 *   <root>/<id>/             claimed by mkdir: of two concurrent creates of
 *                            one id, exactly one makes it (EEXIST for the other)
 *   <root>/<id>/state.json   the record (record.ts), replaced atomically
 *                            (temp, fsync, rename)
 *   <root>/<id>/teardown.json  what delete needs (init, cgroup, mounts left in
 *                            ours), written once before the container has a
 *                            process: if state.json is ever damaged, the
 *                            container can still be deleted
 *   <root>/<id>/exec.fifo    present from create until start
 *   <root>/<id>/notify/      with $NOTIFY_SOCKET only: made 0755 by create,
 *                            bound into the container; start binds
 *                            notify.sock in it (container/notify-socket.ts)
 *   <root>/<id>/.lock        flocked by the read-check-change operations
 *                            (pause, resume, update: see lock())
 *   <root>/~deleting.<pid>.<id>  a tomb: a container directory delete took
 *                            out of the way before removing it (see tomb())
 */
import {
  type Dirent,
  chmodSync,
  closeSync,
  existsSync,
  fsyncSync,
  mkdirSync,
  openSync,
  readFileSync,
  readdirSync,
  renameSync,
  rmSync,
  rmdirSync,
  unlinkSync,
  writeSync,
} from 'node:fs';
import { join } from 'node:path';
import { RuntsError, errorMessage } from '../errors';
import { checkContainerId, isValidId } from './id';
import { type ContainerRecord, type Teardown, isRecord, isTeardown, teardownOf } from './record';

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

/** A held lock on one container (lock()). */
export interface Lock {
  release(): void;
}

const RECORD = 'state.json';
const TEARDOWN = 'teardown.json';
const EXEC_FIFO = 'exec.fifo';
const LOCK = '.lock';
const NOTIFY_DIR = 'notify';

export const DEFAULT_ROOT = '/run/runts';

export class StateStore {
  constructor(readonly root: string = DEFAULT_ROOT) {}

  containerDir(id: string): string {
    return join(this.root, checkContainerId(id));
  }

  /** Whether the container's directory is there (with or without its files). */
  has(id: string): boolean {
    return existsSync(this.containerDir(id));
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
  claim(id: string): void {
    this.ensureRoot();
    try {
      mkdirSync(this.containerDir(id), { mode: 0o700 });
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'EEXIST') {
        throw new RuntsError(`container with id ${id} already exists`);
      }
      throw err;
    }
  }

  /**
   * The record; undefined when there is no such container (a directory
   * with neither file is one half made or half deleted: not one to show).
   */
  read(id: string): ContainerRecord | undefined {
    const file = join(this.containerDir(id), RECORD);
    const record = this.#readJson(id, file, (x) => isRecord(x, id));
    if (record === undefined && existsSync(join(this.containerDir(id), TEARDOWN))) throw damaged(id, file, 'missing');
    return record;
  }

  /**
   * What delete needs: from the record, or (the record damaged) from
   * teardown.json, with why the record was unusable; undefined when there
   * is no such container.
   */
  readTeardown(id: string): { record?: ContainerRecord; teardown: Teardown; damage?: DamagedRecord } | undefined {
    try {
      const record = this.read(id);
      if (!record) return undefined;
      if (!record.cgroup) throw new RuntsError(`container ${id} has no cgroup in its record`);
      return { record, teardown: teardownOf({ ...record, cgroup: record.cgroup }) };
    } catch (err) {
      if (!(err instanceof DamagedRecord)) throw err;
      const file = join(this.containerDir(id), TEARDOWN);
      let teardown: Teardown | undefined;
      try {
        teardown = this.#readJson(id, file, isTeardown);
      } catch (second) {
        throw new DamagedRecord(
          id,
          `${err.reason}, and ${second instanceof DamagedRecord ? second.reason : errorMessage(second)}`,
        );
      }
      if (!teardown) throw new DamagedRecord(id, `${err.reason}, and ${file} is missing`);
      return { teardown, damage: err };
    }
  }

  /** Atomic replace: readers see the old record or the new one, never half; synced first, so a crash cannot leave it empty. */
  write(record: ContainerRecord): void {
    this.#replaceJson(record.id, RECORD, record);
  }

  /** Written first, before the first record (exclusive create). */
  writeTeardown(id: string, teardown: Teardown): void {
    writeSynced(join(this.containerDir(id), TEARDOWN), JSON.stringify(teardown), 'wx');
  }

  /** Replaced whole, as the record is, when create has more for delete to undo: the network devices it moved. */
  replaceTeardown(id: string, teardown: Teardown): void {
    this.#replaceJson(id, TEARDOWN, teardown);
  }

  #replaceJson(id: string, name: string, value: unknown): void {
    const dir = this.containerDir(id);
    const tmp = join(dir, `.${name}.${process.pid}`);
    writeSynced(tmp, JSON.stringify(value), 'w');
    renameSync(tmp, join(dir, name));
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

  /** The fifo the init waits on until start (made by create, removed by start). */
  execFifo(id: string): string {
    return join(this.containerDir(id), EXEC_FIFO);
  }

  /** The directory of the container's sd_notify socket (notify-socket.ts). */
  notifyDir(id: string): string {
    return join(this.containerDir(id), NOTIFY_DIR);
  }

  hasExecFifo(id: string): boolean {
    return existsSync(this.execFifo(id));
  }

  /** After start: gone already is fine (a delete --force that raced start took the whole directory). */
  removeExecFifo(id: string): void {
    try {
      unlinkSync(this.execFifo(id));
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
    }
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

  /**
   * Moves the container's directory to its tomb in one rename: of
   * concurrent deletes exactly one gets it, and no other command finds the
   * container afterwards. The tomb, or undefined if the directory was gone.
   */
  entomb(id: string): string | undefined {
    const tomb = this.tomb(id);
    try {
      renameSync(this.containerDir(id), tomb);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw err;
    }
    return tomb;
  }

  /**
   * Removes a tomb entomb() returned: its files one by one, then the
   * directory (rmSync's recursive walk costs about a millisecond more);
   * anything else there (a directory) by rmSync.
   */
  removeTomb(tomb: string): void {
    try {
      for (const name of readdirSync(tomb)) unlinkSync(join(tomb, name));
      rmdirSync(tomb);
    } catch {
      rmSync(tomb, { recursive: true, force: true });
    }
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
    return (
      entries
        // (a tomb, see tomb(), is no valid id)
        .filter((e) => e.isDirectory() && isValidId(e.name))
        .map((e) => e.name)
        .sort()
    );
  }

  /**
   * An exclusive flock on the container's lock file; undefined when there is
   * no such container directory. Only pause, resume and update take it:
   * each reads the status (and update the record), checks, then changes the
   * cgroup (and update the record), and two of them must not interleave.
   * The others need none, and skip the cost of loading ffi-rs (about 1 ms)
   * for flock: start is serialised by exec.fifo (one reader gets the init's
   * byte), delete by entomb() (one rename wins), kill is one signal, and
   * state, list, ps and events only read. The lock dies with the process,
   * so a crash never leaves it held.
   */
  async lock(id: string): Promise<Lock | undefined> {
    let fd: number;
    try {
      fd = openSync(join(this.containerDir(id), LOCK), 'a', 0o600);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw err;
    }
    try {
      const { sys } = await import('../sys/index');
      const { LOCK_EX, LOCK_UN } = await import('../sys/constants');
      sys().flock(fd, LOCK_EX);
      return {
        release: () => {
          try {
            sys().flock(fd, LOCK_UN);
          } finally {
            closeSync(fd);
          }
        },
      };
    } catch (err) {
      closeSync(fd);
      throw err;
    }
  }
}

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
