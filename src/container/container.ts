/**
 * A container as the lifecycle operations see it: its record, its live
 * status, and which operations that status allows. Loading it is the one
 * place an id is looked up (and "does not exist" said); the rules below are
 * the one place an operation is allowed or refused, each with one message.
 */
import { RuntsError } from '../errors';
import { isFrozen } from '../linux/cgroups/frozen';
import type { CgroupManager } from '../linux/cgroups/manager';
import type { ContainerRecord, Teardown } from '../state/record';
import { isSameProcess } from '../state/process-identity';
import { type OciState, type Status, liveStatus, ociState } from '../state/status';
import type { DamagedRecord, StateStore } from '../state/store';

/** The operations that depend on the status ('exec --ignore-paused' is exec that also takes a paused container). */
export type Operation = 'start' | 'kill' | 'delete' | 'pause' | 'resume' | 'update' | 'events' | 'exec' | 'exec --ignore-paused';

interface Rule {
  allows: readonly Status[];
  /** Why not: runc's words where runc has a word for it. */
  refusal: (id: string, status: Status) => string;
}

const execRefusal = (_id: string, status: Status) =>
  status === 'paused'
    ? 'cannot exec in a paused container (use --ignore-paused to override)'
    : `cannot exec in a ${status} container`;

const RULES: Record<Operation, Rule> = {
  start: {
    allows: ['created'],
    refusal: (_id, status) =>
      status === 'stopped'
        ? 'cannot start a container that has stopped'
        : status === 'running'
          ? 'cannot start an already running container'
          : `cannot start a container in the ${status} state`,
  },
  kill: { allows: ['created', 'running', 'paused'], refusal: (id, status) => `container ${id} is not running (${status})` },
  // A created (or half-created) container is killed and deleted, as runc does a created one; a running or paused one only with --force.
  delete: {
    allows: ['creating', 'created', 'stopped'],
    refusal: (id, status) => `cannot delete container ${id} that is not stopped: ${status}`,
  },
  pause: { allows: ['running'], refusal: (id, status) => `cannot pause container ${id} that is ${status}` },
  resume: { allows: ['paused'], refusal: (id, status) => `cannot resume container ${id} that is ${status}, not paused` },
  update: {
    allows: ['created', 'running', 'paused'],
    refusal: (id, status) => `cannot update container ${id} that is ${status}`,
  },
  events: { allows: ['creating', 'created', 'running', 'paused'], refusal: (id) => `container with id ${id} is not running` },
  exec: { allows: ['created', 'running'], refusal: execRefusal },
  'exec --ignore-paused': { allows: ['created', 'running', 'paused'], refusal: execRefusal },
};

export const allows = (operation: Operation, status: Status): boolean => RULES[operation].allows.includes(status);

/** The error for an operation the status does not allow. */
export const refusal = (operation: Operation, id: string, status: Status): RuntsError =>
  new RuntsError(RULES[operation].refusal(id, status));

export const noSuchContainer = (id: string) => new RuntsError(`container ${id} does not exist`);

/** Loaded only when asked for: reading the status needs only the freezer's file (frozen.ts). */
const cgroups = () => require('../linux/cgroups/manager') as typeof import('../linux/cgroups/manager');

/** What delete works from: the container, or (its record damaged) what create kept for its teardown. */
export interface Remains {
  /** Absent when the record is damaged: then damage says how. */
  container?: Container;
  teardown: Teardown;
  status: Status;
  damage?: DamagedRecord;
}

export class Container {
  private constructor(
    readonly store: StateStore,
    readonly record: ContainerRecord,
    /** As it was when loaded. */
    readonly status: Status,
  ) {}

  /** The container id names, with its live status ("paused" is the freezer's word). */
  static load(store: StateStore, id: string): Container {
    const record = store.read(id);
    if (!record) throw noSuchContainer(id);
    return Container.#of(store, record);
  }

  static #of(store: StateStore, record: ContainerRecord): Container {
    return new Container(
      store,
      record,
      liveStatus(store, record, (r) => r.cgroup !== undefined && isFrozen(r.cgroup)),
    );
  }

  /** fn with the container loaded under its lock (store.ts says which operations take it). */
  static async locked<T>(store: StateStore, id: string, fn: (container: Container) => T | Promise<T>): Promise<T> {
    const lock = await store.lock(id);
    if (!lock) throw noSuchContainer(id);
    try {
      return await fn(Container.load(store, id));
    } finally {
      lock.release();
    }
  }

  /** For delete: a container whose record is damaged is still one to remove, from its teardown.json. */
  static loadRemains(store: StateStore, id: string): Remains {
    const found = store.readTeardown(id);
    if (!found) throw noSuchContainer(id);
    const { record, teardown, damage } = found;
    if (record) {
      const container = Container.#of(store, record);
      return { container, teardown, status: container.status };
    }
    // Without the record, only the init tells: alive is "running" (created and paused look the same).
    return {
      teardown,
      status: isSameProcess(teardown.pid, teardown.pidStartTime) ? 'running' : 'stopped',
      ...(damage ? { damage } : {}),
    };
  }

  get id(): string {
    return this.record.id;
  }

  canStart(): boolean {
    return allows('start', this.status);
  }

  canKill(): boolean {
    return allows('kill', this.status);
  }

  canPause(): boolean {
    return allows('pause', this.status);
  }

  canResume(): boolean {
    return allows('resume', this.status);
  }

  canUpdate(): boolean {
    return allows('update', this.status);
  }

  canWatchEvents(): boolean {
    return allows('events', this.status);
  }

  canExec(ignorePaused: boolean): boolean {
    return allows(ignorePaused ? 'exec --ignore-paused' : 'exec', this.status);
  }

  /** The error for `operation`, refused in the container's status. */
  refusal(operation: Operation): RuntsError {
    return refusal(operation, this.id, this.status);
  }

  /** The container's cgroup, as its record names it. */
  cgroup(): CgroupManager {
    if (!this.record.cgroup) throw new RuntsError(`container ${this.id} has no cgroup in its record`);
    return cgroups().openCgroup(this.record.cgroup);
  }

  /** The OCI state document (runtime.md "Query State"). */
  state(): OciState {
    return ociState(this.record, this.status);
  }

  /** Keeps a changed record (update's resources). */
  save(): void {
    this.store.write(this.record);
  }
}
