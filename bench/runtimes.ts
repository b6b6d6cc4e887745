/**
 * The two runtimes under test, driven through their command lines (the
 * same runc-style commands for both), and a registry of every container
 * the bench makes, so that whatever is left (after a failure or Ctrl-C)
 * is force-deleted and its process killed.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, readdirSync, rmdirSync } from 'node:fs';
import { join } from 'node:path';
import { type Output, type Ran, alive, startTime, timed, timedAsync, waitStopped } from './measure';

export type RuntimeName = 'runts' | 'runc';

export interface Runtime {
  name: RuntimeName;
  bin: string;
  /** Its own --root (a state dir inside the bench's temp dir). */
  root: string;
}

/** A failed step of a sample; the message names the command and quotes its output. */
export class SampleError extends Error {}

interface Live {
  rt: Runtime;
  pid?: number;
  start?: string;
}

export class Containers {
  private readonly live = new Map<string, Live>();
  private count = 0;

  constructor(
    private readonly pidDir: string,
    private readonly out: Output,
    /** Every container id starts with it (and so does every cgroup the runtimes make for them). */
    readonly prefix = `rtsbench${process.pid}-`,
  ) {}

  /** A new container id, registered for cleanup before anything is made. */
  newId(rt: Runtime): string {
    const id = `${this.prefix}${rt.name}-${++this.count}`;
    this.live.set(id, { rt });
    return id;
  }

  /** `RUNTIME --root ROOT ARGS…`, timed. */
  cmd(rt: Runtime, args: string[]): Ran {
    return timed(rt.bin, ['--root', rt.root, ...args], this.out);
  }

  private must(r: Ran): Ran {
    if (!r.ok) throw new SampleError(r.detail);
    return r;
  }

  private pidFile(id: string): string {
    return join(this.pidDir, id);
  }

  /** Reads the pid that create wrote (and records its start time for cleanup). */
  private track(id: string): number {
    const pid = Number(readFileSync(this.pidFile(id), 'utf8'));
    const entry = this.live.get(id);
    if (entry) {
      entry.pid = pid;
      entry.start = startTime(pid);
    }
    return pid;
  }

  pid(id: string): number {
    const pid = this.live.get(id)?.pid;
    if (pid === undefined) throw new SampleError(`${id}: no pid recorded`);
    return pid;
  }

  create(rt: Runtime, bundle: string, id: string): Ran {
    const r = this.must(this.cmd(rt, ['create', '--bundle', bundle, '--pid-file', this.pidFile(id), id]));
    this.track(id);
    return r;
  }

  start(rt: Runtime, id: string): Ran {
    return this.must(this.cmd(rt, ['start', id]));
  }

  kill(rt: Runtime, id: string, signal = 'KILL'): Ran {
    return this.must(this.cmd(rt, ['kill', id, signal]));
  }

  delete(rt: Runtime, id: string): Ran {
    const r = this.must(this.cmd(rt, ['delete', id]));
    this.live.delete(id);
    return r;
  }

  /** Foreground `run` (both runtimes delete the container when it ends). */
  run(rt: Runtime, bundle: string, id: string): Ran {
    const r = this.must(this.cmd(rt, ['run', '--bundle', bundle, id]));
    this.live.delete(id);
    return r;
  }

  waitStopped(id: string): void {
    if (!waitStopped(this.pid(id))) throw new SampleError(`${id}: still running 30 s after it should have stopped`);
  }

  async createAsync(rt: Runtime, bundle: string, id: string): Promise<Ran> {
    const r = await timedAsync(
      rt.bin,
      ['--root', rt.root, 'create', '--bundle', bundle, '--pid-file', this.pidFile(id), id],
      this.out,
    );
    if (r.ok) this.track(id);
    return r;
  }

  startAsync(rt: Runtime, id: string): Promise<Ran> {
    return timedAsync(rt.bin, ['--root', rt.root, 'start', id], this.out);
  }

  /** Untimed teardown of one container in any state: kill, wait, delete (forced as a last resort). */
  remove(rt: Runtime, id: string): void {
    const entry = this.live.get(id);
    if (!entry) return;
    if (entry.pid && alive(entry.pid)) {
      this.cmd(rt, ['kill', id, 'KILL']);
      waitStopped(entry.pid, 10_000);
    }
    if (!this.cmd(rt, ['delete', id]).ok) this.cmd(rt, ['delete', '--force', id]);
    this.killLeftover(entry);
    this.live.delete(id);
  }

  /** Removes every container still registered (of one runtime, or all). */
  sweep(only?: Runtime): void {
    for (const [id, entry] of [...this.live]) {
      if (!only || entry.rt === only) this.remove(entry.rt, id);
    }
  }

  /** Last-resort cleanup: registered containers, then anything else under each runtime's root, then empty cgroups. */
  cleanup(runtimes: Runtime[]): string[] {
    const problems: string[] = [];
    this.sweep();
    for (const rt of runtimes) {
      if (!existsSync(rt.root)) continue;
      const listed = spawnSync(rt.bin, ['--root', rt.root, 'list', '--quiet'], { encoding: 'utf8', timeout: 30_000 });
      for (const id of (listed.stdout ?? '').split('\n').filter(Boolean)) {
        const r = this.cmd(rt, ['delete', '--force', id]);
        if (!r.ok) problems.push(r.detail);
      }
    }
    problems.push(...this.removeCgroups());
    return problems;
  }

  /** SIGKILL for a container process that outlived delete --force (only when the start time matches). */
  private killLeftover(entry: Live): void {
    if (entry.pid && entry.start && alive(entry.pid) && startTime(entry.pid) === entry.start) {
      try {
        process.kill(entry.pid, 'SIGKILL');
      } catch {
        // gone meanwhile
      }
    }
  }

  /** Empty cgroup dirs named after the bench's containers (runc makes /sys/fs/cgroup/CTRL/ID). */
  private removeCgroups(): string[] {
    const left: string[] = [];
    const walk = (dir: string, depth: number) => {
      let entries;
      try {
        entries = readdirSync(dir, { withFileTypes: true });
      } catch {
        return;
      }
      for (const e of entries) {
        if (!e.isDirectory()) continue;
        const path = join(dir, e.name);
        if (e.name.startsWith(this.prefix)) {
          walk(path, 0);
          try {
            rmdirSync(path);
          } catch (err) {
            left.push(`cgroup ${path}: ${(err as Error).message}`);
          }
        } else if (depth > 0) walk(path, depth - 1);
      }
    };
    walk('/sys/fs/cgroup', 2);
    return left;
  }
}
