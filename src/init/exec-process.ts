/**
 * An exec's program started, once the finaliser is done: spawned through
 * the sealed helper (which makes the terminal the child's and, on cgroup
 * v2, joins the container's cgroup as one process), as a child of this
 * process, or detached. Shared by exec (container/exec.ts) and, in a user
 * namespace, by the exec stage that runs in it (exec-stage.ts).
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { closeSync, readSync } from 'node:fs';
import { RuntsError } from '../errors';
import { helperArgv } from '../linux/exec-helper';
import type { ProcessPlan } from '../spec/plan';
import { EAGAIN } from '../sys/constants';
import { type Sys, SysError } from '../sys/types';
import type { Finalized } from './finalize';

export interface ExecSpawn {
  /**
   * Not this process's child: runts exits now, and the process's exit
   * status must reach the shim or conmon (the subreaper), not be reaped
   * by libuv.
   */
  detach: boolean;
  /** The container's cgroup.procs (v2), handed to the helper right after the preserved fds: it joins it. */
  cgroupProcs?: number;
  /** The container's cgroup version: what a failed fork means. */
  cgroupVersion?: number;
}

export interface Spawned {
  pid: number;
  /** The process, when it is this process's child (not detached). */
  child?: ChildProcess;
}

export async function spawnExecProcess(s: Sys, plan: ProcessPlan, ready: Finalized, opts: ExecSpawn): Promise<Spawned> {
  const { terminal, env } = ready;
  const preserved = Array.from({ length: plan.preserveFds }, (_, i) => 3 + i);
  const stdio = terminal ? [terminal.slave, terminal.slave, terminal.slave] : [0, 1, 2];
  // The helper's cgroup.procs comes right after the preserved fds; it closes it.
  const handed = [...preserved, ...(opts.cgroupProcs !== undefined ? [opts.cgroupProcs] : [])];
  const file = `/proc/self/fd/${ready.helper}`;
  // Detached, the helper's report socket comes last (see below).
  const reportFd = opts.detach ? stdio.length + handed.length : undefined;
  const argv = helperArgv(
    {
      terminal: terminal !== undefined,
      ...(opts.cgroupProcs !== undefined ? { cgroupFd: 3 + plan.preserveFds } : {}),
      // execCPUAffinity.final, after the cgroup join (config.md), just before the program's execve.
      ...(plan.cpuAffinity?.final ? { cpus: plan.cpuAffinity.final } : {}),
      ...(reportFd !== undefined ? { reportFd } : {}),
    },
    ready.exe,
    plan.process.args,
  );
  const program = plan.process.args[0];
  let spawned: Spawned;
  if (opts.detach) {
    // As runc's: exec -d returns once the program runs, or fails with why
    // it does not. The helper writes a failed execve's reason on this
    // socket, whose end closes (close-on-exec) when the execve succeeds.
    const [report, helperEnd] = s.socketpair();
    const fds = [...stdio, ...handed, helperEnd].map((from, to): [number, number] => [from, to]);
    try {
      spawned = { pid: s.spawnDetached(file, argv, env, { fds, setsid: false }) };
    } catch (err) {
      closeSync(report);
      throw spawnFailure(program, err, opts.cgroupVersion);
    } finally {
      closeSync(helperEnd);
    }
    const why = readToEnd(report);
    if (why) throw new RuntsError(`exec failed: ${why}`);
  } else {
    const child = spawn(file, argv.slice(1), {
      argv0: argv[0],
      env: Object.fromEntries(env.map((e) => [e.slice(0, e.indexOf('=')), e.slice(e.indexOf('=') + 1)])),
      stdio: [...stdio, ...handed],
    });
    spawned = await new Promise<Spawned>((ok, fail) => {
      child.once('spawn', () => ok({ pid: child.pid!, child }));
      child.once('error', (err) => fail(spawnFailure(program, err, opts.cgroupVersion)));
    });
  }
  if (terminal) closeSync(terminal.slave);
  return spawned;
}

/** What the helper wrote before its end closed (blocking), then the socket closed. */
function readToEnd(fd: number): string {
  const chunks: Buffer[] = [];
  const buffer = Buffer.alloc(4096);
  try {
    for (let n; (n = readSync(fd, buffer)) > 0;) chunks.push(Buffer.from(buffer.subarray(0, n)));
  } finally {
    closeSync(fd);
  }
  return Buffer.concat(chunks).toString().trim();
}

/** Why the process could not start; EAGAIN from fork is the container's pids limit. */
function spawnFailure(program: string, err: unknown, cgroupVersion: number | undefined): RuntsError {
  const e = err as { code?: string; errno?: number; message: string };
  let why = e.message;
  if (e.code === 'EAGAIN' || (err instanceof SysError && err.errno === EAGAIN)) {
    why +=
      cgroupVersion === 2
        ? " (the container's pids limit is reached: on cgroup v2, runts exec's own threads count against it until the process starts)"
        : " (the container's pids limit is reached)";
  }
  return new RuntsError(`exec ${program}: ${why}`);
}
