/**
 * The only way the suite talks to a runtime: its runc-compatible command
 * line, with a --root of the suite's own. Output goes to files, never
 * pipes: a container inherits the runtime's stdout and would keep a pipe
 * open long after the command returned.
 */
import { spawn } from 'node:child_process';
import { closeSync, openSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fail } from './case';

export interface CliResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
  timedOut: boolean;
  /** The files its stdout and stderr went to (a container's processes inherit them). */
  files: string[];
}

export interface CliOptions {
  cwd?: string;
  /** Extra environment for the runtime process (added to the suite's own). */
  env?: Record<string, string>;
  timeoutMs?: number;
  /** Open fds given to the runtime as its fds 3, 4, … (for --preserve-fds). */
  extraFds?: number[];
  /** The runtime is started with this oom_score_adj (to see that it is left alone). */
  oomScoreAdj?: number;
}

/** Set in every runtime's environment: a container that shows it leaked the caller's environment. */
export const CALLER_ENV = { CONFORMANCE_CALLER_ENV: 'leaked-from-the-runtime-caller' };

export interface ContainerState {
  ociVersion: string;
  id: string;
  status: string;
  pid?: number;
  bundle: string;
  annotations?: Record<string, string>;
  [key: string]: unknown;
}

export const describe = (r: CliResult): string =>
  r.timedOut
    ? 'timed out'
    : `${r.signal ? `killed by ${r.signal}` : `exit ${r.code}`}${r.stderr.trim() ? `: ${r.stderr.trim().split('\n').slice(-3).join(' | ')}` : ''}`;

/** What the driver knows of a container it was asked to make. */
export interface Known {
  bundle?: string;
  /** Where the output of its create or run went: files only its processes hold. */
  stdio: string[];
}

export class RuntimeCli {
  private calls = 0;

  /** Every container this driver was asked to make, for the leftover checks and cleanup. */
  readonly containers = new Map<string, Known>();

  /** Told the pid of a live container's init: after each create that succeeds, and each state that shows one. */
  onPid?: (id: string, pid: number) => void;

  constructor(
    readonly binary: string,
    readonly root: string,
    private readonly scratch: string,
  ) {}

  exec(args: string[], opts: CliOptions = {}): Promise<CliResult> {
    const n = ++this.calls;
    const outFile = join(this.scratch, `cli-${n}.out`);
    const errFile = join(this.scratch, `cli-${n}.err`);
    const out = openSync(outFile, 'w');
    const err = openSync(errFile, 'w');
    const argv = ['--root', this.root, ...args];
    const [command, commandArgs] =
      opts.oomScoreAdj === undefined
        ? [this.binary, argv]
        : ['/bin/sh', ['-c', `echo ${opts.oomScoreAdj} > /proc/self/oom_score_adj && exec "$@"`, 'sh', this.binary, ...argv]];
    return new Promise((resolve, reject) => {
      const child = spawn(command, commandArgs, {
        cwd: opts.cwd ?? this.scratch,
        env: { ...process.env, ...CALLER_ENV, ...opts.env },
        stdio: ['ignore', out, err, ...(opts.extraFds ?? [])],
      });
      let timedOut = false;
      const timer = setTimeout(() => {
        timedOut = true;
        child.kill('SIGKILL');
      }, opts.timeoutMs ?? 30_000);
      child.once('error', (e) => {
        clearTimeout(timer);
        closeSync(out);
        closeSync(err);
        reject(e);
      });
      child.once('exit', (code, signal) => {
        clearTimeout(timer);
        closeSync(out);
        closeSync(err);
        resolve({
          code,
          signal,
          timedOut,
          stdout: readFileSync(outFile, 'utf8'),
          stderr: readFileSync(errFile, 'utf8'),
          files: [outFile, errFile],
        });
      });
    });
  }

  get ids(): ReadonlySet<string> {
    return new Set(this.containers.keys());
  }

  /** Notes a container made by a command of the case's own (exec of create or run). */
  remember(id: string, bundle?: string, stdio: string[] = []): void {
    const known = this.containers.get(id) ?? { stdio: [] };
    this.containers.set(id, { bundle: bundle ?? known.bundle, stdio: [...known.stdio, ...stdio] });
  }

  async create(id: string, bundle: string, extra: string[] = [], opts: CliOptions = {}): Promise<CliResult> {
    this.remember(id, bundle);
    const r = await this.exec(['create', '--bundle', bundle, ...extra, id], opts);
    this.remember(id, bundle, r.files);
    if (r.code === 0 && this.onPid) await this.state(id).catch(() => undefined);
    return r;
  }

  /** create that must succeed. */
  async created(id: string, bundle: string, extra: string[] = [], opts: CliOptions = {}): Promise<void> {
    const r = await this.create(id, bundle, extra, opts);
    if (r.code !== 0) fail(`create failed (${describe(r)})`);
  }

  start = (id: string): Promise<CliResult> => this.exec(['start', id]);

  async started(id: string): Promise<void> {
    const r = await this.start(id);
    if (r.code !== 0) fail(`start failed (${describe(r)})`);
  }

  /** run in the foreground: the container's stdout is the result's. */
  async run(id: string, bundle: string, opts: CliOptions = {}): Promise<CliResult> {
    this.remember(id, bundle);
    const r = await this.exec(['run', '--bundle', bundle, id], opts);
    this.remember(id, bundle, r.files);
    return r;
  }

  kill = (id: string, signal?: string): Promise<CliResult> => this.exec(['kill', id, ...(signal ? [signal] : [])]);

  delete = (id: string, force = false): Promise<CliResult> => this.exec(['delete', ...(force ? ['--force'] : []), id]);

  /** The state document; a failing `state` or unreadable JSON fails the case. */
  async state(id: string): Promise<ContainerState> {
    const r = await this.exec(['state', id]);
    if (r.code !== 0) fail(`state ${id} failed (${describe(r)})`);
    let state: ContainerState;
    try {
      state = JSON.parse(r.stdout) as ContainerState;
    } catch {
      return fail(`state ${id} printed no JSON: ${JSON.stringify(r.stdout.slice(0, 200))}`);
    }
    if (typeof state.pid === 'number' && state.pid > 0 && state.status !== 'stopped') this.onPid?.(id, state.pid);
    return state;
  }

  /**
   * Ids the runtime lists under our root (`list --format json`). A failing
   * `list` or output that is not the JSON list fails the case: a "not
   * listed" check must not pass because list is broken.
   */
  async list(): Promise<string[]> {
    const r = await this.exec(['list', '--format', 'json']);
    if (r.code !== 0) fail(`list failed (${describe(r)})`);
    let parsed: unknown;
    try {
      // runc prints "null" for no containers.
      parsed = JSON.parse(r.stdout);
    } catch {
      fail(`list --format json printed no JSON: ${JSON.stringify(r.stdout.slice(0, 200))}`);
    }
    if (parsed === null) return [];
    if (!Array.isArray(parsed) || !parsed.every((c) => typeof c?.id === 'string'))
      fail(`list --format json printed no list of containers: ${JSON.stringify(r.stdout.slice(0, 200))}`);
    return parsed.map((c: { id: string }) => c.id);
  }
}
