/**
 * exec through a stage (the stage's own part is init/exec-stage.ts), for
 * what node cannot join: a user namespace, or a time namespace (setns into
 * either needs a single thread). This process's part: while still the
 * host's root it opens what the stage will need (the init's namespaces and
 * root, the cgroup's cgroup.procs on v2, the console socket), spawns the
 * helper that joins the user and time namespaces (and becomes the user
 * namespace's root) and execs the stage, moves the stage's main thread
 * into the cgroup on v1, sends it the plan, and learns the program's pid
 * (for the pid file). Then it waits for the stage, which ends with the
 * program's status, forwarding signals and relaying the terminal as exec
 * does.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { closeSync, constants, openSync } from 'node:fs';
import { join } from 'node:path';
import { RuntsError } from '../errors';
import { CHANNEL_ENV, EXEC_STAGE_ENV, type ExecStageRequest, type FromInit, LineChannel, type ToInit } from '../init/channel';
import { helperArgv, helperOnDisk } from '../linux/exec-helper';
import { hookState } from '../linux/hooks';
import { joinIntelRdt } from '../linux/intel-rdt';
import { namespaceKind } from '../linux/namespaces';
import type { ExecPlan } from '../spec/plan';
import { O_CLOEXEC, O_DIRECTORY, O_PATH, PR_SET_DUMPABLE } from '../sys/constants';
import type { Sys } from '../sys/types';
import type { Container } from './container';
import { INIT_BUNDLE } from './init-start';

export interface StageStart {
  detach: boolean;
  /** Told the program's pid (this process's main thread is still the host's). */
  started(pid: number): void;
}

/** The stage's exit status (the program's, through relay), or 0 once a detached program has started. */
export async function execThroughStage(
  s: Sys,
  container: Container,
  plan: ExecPlan,
  start: StageStart,
  relay: (child: ChildProcess, master: number | undefined) => Promise<number>,
): Promise<number> {
  const { record } = container;
  s.prctl(PR_SET_DUMPABLE, 0);
  const cgroup = container.cgroup();
  const opened: number[] = [];
  const keep = (fd: number) => (opened.push(fd), fd);
  const stdio: ('inherit' | number)[] = [
    'inherit',
    'inherit',
    'inherit',
    ...Array.from({ length: plan.preserveFds }, (_, i) => 3 + i),
  ];
  /** An fd this process opened, given to the stage: its number there. */
  const hand = (fd: number) => stdio.push(keep(fd)) - 1;
  // The stage's channel: read and written synchronously, as the init's (init/channel.ts).
  const [ours, theirs] = s.socketpair();
  const channelFd = hand(theirs);
  const channel = new LineChannel<FromInit, ToInit>(ours);
  let terminalSocket: number | undefined;
  let child: ChildProcess;
  let request: ExecStageRequest;
  try {
    const nsPath = (type: string) => `/proc/${record.pid}/ns/${namespaceKind(type).procName}`;
    // The helper's joins: the user namespace first, then the time namespace (owned by it, when both).
    const joins = (['user', 'time'] as const)
      .filter((kind) => (kind === 'user' ? record.exec?.userNamespace : record.exec?.timeNamespace))
      .map((kind) => ({ kind, at: hand(openSync(nsPath(kind), 'r')) }));
    let stagePlan = plan;
    // The stage, root of the user namespace only, may not reach the socket's path.
    if (plan.console?.socketPath) {
      const { socketPath, ...console } = plan.console;
      stagePlan = { ...plan, console: { ...console, fd: hand(s.connectUnix(socketPath)) } };
    }
    request = {
      plan: stagePlan,
      state: hookState(record, container.status),
      detach: start.detach,
      namespaces: plan.namespaces.map((type) => ({ type, fd: hand(openSync(nsPath(type), 'r')) })),
      root: hand(openSync(`/proc/${record.pid}/root`, O_PATH | O_DIRECTORY | O_CLOEXEC)),
      cgroupVersion: cgroup.state.version,
      ...(cgroup.state.version === 2
        ? { cgroupProcs: hand(openSync(join(cgroup.state.path, 'cgroup.procs'), constants.O_WRONLY)) }
        : {}),
      ...(record.sessionKeyring ? { sessionKeyring: record.sessionKeyring } : {}),
    };
    if (plan.console && !plan.console.socketPath) {
      const [mine, theirs] = s.socketpair();
      terminalSocket = mine;
      request.terminalSocket = hand(theirs);
    }
    const argv = helperArgv({ join: joins, root: Boolean(record.exec?.userNamespace) }, process.execPath, [
      process.execPath,
      '--v8-pool-size=1',
      INIT_BUNDLE,
    ]);
    child = spawn(helperOnDisk(), argv.slice(1), {
      argv0: argv[0],
      stdio,
      env: { [CHANNEL_ENV]: String(channelFd), [EXEC_STAGE_ENV]: '1', UV_THREADPOOL_SIZE: '1' },
    });
  } catch (err) {
    channel.close();
    throw err;
  } finally {
    for (const fd of opened) closeSync(fd);
  }
  const exited = new Promise<string>((resolve) =>
    child.once('exit', (code, signal) => resolve(signal ? `killed by ${signal}` : `exit status ${code}`)),
  );
  try {
    if (child.pid === undefined) throw new RuntsError(`exec: cannot start node (${process.execPath})`);
    // v1: the stage's main thread alone, as exec's own (cgroups/types.ts); v2: the program's helper joins.
    if (cgroup.state.version !== 2) cgroup.joinMainThread(child.pid);
    // Its Intel RDT groups: the stage's main thread, which starts the program.
    if (record.intelRdt) joinIntelRdt(record.intelRdt, child.pid);
    channel.send({ type: 'exec', request });
    const message = channel.next();
    if (!message) throw new RuntsError(`exec: the process did not start (${await exited})`);
    if (message.type === 'error') throw new RuntsError(message.message);
    if (message.type !== 'started') throw new RuntsError(`exec: expected started, got ${message.type}`);
    const master = terminalSocket !== undefined ? s.recvFd(terminalSocket).fd : undefined;
    start.started(message.pid);
    return start.detach ? 0 : await relay(child, master);
  } catch (err) {
    child.kill('SIGKILL');
    throw err;
  } finally {
    if (terminalSocket !== undefined) closeSync(terminalSocket);
    channel.close();
  }
}
