/**
 * `runts exec`: a new process in a running container (docs/architecture.md,
 * "Process model", A'). The process is planned from what create kept of
 * the config (planExec). Then, from its main thread, this process joins the
 * container's namespaces (and on cgroup v1 its cgroup; on v2 the helper
 * joins it, as one process), takes the process's credentials, capabilities
 * and seccomp filter on that thread only (the finaliser the init uses too,
 * init/finalize.ts), and spawns the program through the helper: the
 * program inherits all of it. No node ever runs in the container. The
 * other threads (libuv's pool) keep runts' own root, namespaces and
 * credentials, which is what writes the pid file on the host.
 */
import type { ChildProcess } from 'node:child_process';
import { closeSync, constants, openSync } from 'node:fs';
import { access } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { ConfigError, RuntsError } from '../errors';
import { finalizeProcess } from '../init/finalize';
import { primeCgroupMigration } from '../linux/cgroups/prime';
import { joinIntelRdt } from '../linux/intel-rdt';
import { joinSessionKeyring } from '../linux/keyring';
import { namespaceKind } from '../linux/namespaces';
import { spawnedProcessProblems } from '../linux/process-attributes';
import { signalNumber } from '../linux/signals';
import { judge, readConfigFile } from '../spec/load';
import { planExec } from '../spec/plan';
import type { Process } from '../spec/types';
import type { ContainerRecord } from '../state/record';
import type { StateStore } from '../state/store';
import { CLONE_FS, O_CLOEXEC, O_DIRECTORY, O_PATH, PR_SET_DUMPABLE } from '../sys/constants';
import type { Sys } from '../sys/types';
import { hookState } from '../linux/hooks';
import { writePidFile, writePidFileFromHost } from './pid-file';
import { execThroughStage } from './exec-through-stage';
import { spawnExecProcess } from '../init/exec-process';
import { Container } from './container';
import { connectPidfdSocket, sendPidfd } from './pidfd-socket';
import { relayTerminal } from './terminal-relay';

/** What exec is asked: the exec command's flags (cli/commands/exec.ts). */
export interface ExecOptions {
  containerId: string;
  command: string[];
  consoleSocket?: string;
  cwd?: string;
  env: string[];
  tty: boolean;
  user?: string;
  additionalGids: number[];
  process?: string;
  detach: boolean;
  pidFile?: string;
  processLabel?: string;
  apparmor?: string;
  noNewPrivs: boolean;
  cap: string[];
  preserveFds: number;
  cgroup?: string;
  ignorePaused: boolean;
  /** --pidfd-socket: where the process's pidfd goes once it is spawned (pidfd-socket.ts). */
  pidfdSocket?: string;
}

/** runc's getProcess: --process, or the container's process with the flags laid over it. */
export function execProcess(base: Process, opts: ExecOptions): Process {
  if (opts.process) return readConfigFile(opts.process) as Process;
  if (!opts.command.length) throw new RuntsError('exec: a command is required (or --process)');
  const p: Process = structuredClone(base);
  p.args = opts.command;
  p.terminal = opts.tty;
  p.env = [...(p.env ?? []), ...opts.env];
  if (opts.cwd) p.cwd = opts.cwd;
  if (opts.user) {
    const [uid = '', gid] = opts.user.split(':');
    if (!/^\d+$/.test(uid) || (gid !== undefined && !/^\d+$/.test(gid))) {
      throw new RuntsError(`--user ${opts.user}: use <uid>[:<gid>] (numbers)`);
    }
    p.user = { ...p.user, uid: Number(uid), gid: gid === undefined ? 0 : Number(gid) };
  }
  if (opts.additionalGids.length)
    p.user = { uid: 0, gid: 0, ...p.user, additionalGids: [...(p.user?.additionalGids ?? []), ...opts.additionalGids] };
  if (opts.cap.length) {
    const caps = (p.capabilities = { ...p.capabilities });
    for (const cap of opts.cap) {
      for (const set of ['bounding', 'effective', 'permitted'] as const) caps[set] = [...(caps[set] ?? []), cap];
      // Ambient needs inheritable; add both only where the config already has inheritable (runc).
      if (caps.inheritable) {
        caps.inheritable = [...caps.inheritable, cap];
        caps.ambient = [...(caps.ambient ?? []), cap];
      }
    }
  }
  if (opts.noNewPrivs) p.noNewPrivileges = true;
  if (opts.apparmor) p.apparmorProfile = opts.apparmor;
  if (opts.processLabel) p.selinuxLabel = opts.processLabel;
  return p;
}

export async function execInContainer(s: Sys, store: StateStore, opts: ExecOptions): Promise<number> {
  const container = Container.load(store, opts.containerId);
  const { record } = container;
  // This process's own move into the container's cgroup, below, then waits less (prime.ts).
  void primeCgroupMigration();
  if (!container.canExec(opts.ignorePaused)) throw container.refusal('exec');
  if (!record.exec) throw new RuntsError(`container ${record.id} has nothing for exec in its record`);
  const proc = execProcess(record.exec.process, opts);
  checkExecProcess(record, proc, opts.process ?? 'exec process');
  if (proc.terminal && opts.detach && !opts.consoleSocket) {
    throw new RuntsError('cannot allocate tty if runts will detach without setting console socket');
  }
  if (!proc.terminal && opts.consoleSocket) throw new RuntsError('--console-socket given, but the process has no terminal');
  const plan = planExec(record.exec, proc, {
    preserveFds: opts.preserveFds,
    ...(opts.consoleSocket ? { consoleSocket: resolve(opts.consoleSocket) } : {}),
  });
  const pidFile = opts.pidFile ? resolve(opts.pidFile) : undefined;
  // Connected from the host: the main thread is about to enter the container's mount namespace.
  // (On a failure before the process exists, it closes with this process.)
  const pidfdConnection = opts.pidfdSocket ? connectPidfdSocket(s, opts.pidfdSocket) : undefined;
  const sendPidfdOf = (pid: number) => {
    if (pidfdConnection !== undefined) sendPidfd(s, pidfdConnection, pid, 'setns');
  };
  // Node cannot join a user or time namespace (setns needs a single thread): a stage spawned inside does the rest.
  if (record.exec.userNamespace || record.exec.timeNamespace) {
    const start = {
      detach: opts.detach,
      started: (pid: number) => {
        if (pidFile) writePidFile(pidFile, pid);
        sendPidfdOf(pid);
      },
    };
    return execThroughStage(s, container, plan, start, (child, master) => waitForExit(s, child, master));
  }

  s.prctl(PR_SET_DUMPABLE, 0);
  // libuv's pool threads must exist before the main thread moves: they keep
  // the host's mounts, root and credentials for the pid file.
  await access('/');
  // On cgroup v2 the helper (exec-helper.ts) joins the container's cgroup
  // as one process: its cgroup.procs is a host path, opened now.
  const cgroup = container.cgroup();
  const cgroupProcs =
    cgroup.state.version === 2 ? openSync(join(cgroup.state.path, 'cgroup.procs'), constants.O_WRONLY) : undefined;
  const helperJoins = cgroupProcs !== undefined;
  const ready = finalizeProcess(s, plan, {
    state: hookState(record, container.status),
    enterContainer() {
      // The container's session keyring, as runc's exec joins it (keyring.ts).
      if (record.sessionKeyring) joinSessionKeyring(s, record.sessionKeyring);
      // The container's cgroup first (its files are host paths), then its
      // namespaces; the program inherits both. Not all of node: its ten or so
      // threads under a tight pids limit left no room for the program (runc's
      // exec moves one single-threaded process). On v1 this (main) thread
      // alone moves; on v2 the helper does it.
      if (!helperJoins) cgroup.joinMainThread();
      // Its Intel RDT groups too (resctrl's tasks take this one thread as well).
      if (record.intelRdt) joinIntelRdt(record.intelRdt, process.pid);
      joinNamespaces(s, record, plan.namespaces);
    },
  });
  // From here the main thread is the container's. (libuv's pool threads
  // keep the host's root: they write the pid file.)

  const { pid, child } = await spawnExecProcess(s, plan, ready, {
    detach: opts.detach,
    ...(cgroupProcs !== undefined ? { cgroupProcs } : {}),
    cgroupVersion: cgroup.state.version,
  });
  if (pidFile) await writePidFileFromHost(pidFile, pid);
  sendPidfdOf(pid);
  return child ? waitForExit(s, child, ready.terminal?.master) : 0;
}

/**
 * The exec's process, judged as create judged the config: the rest of the
 * config passed then, so a document of the process alone (with the
 * fields every config needs) gets the same problems, at the same pointers.
 */
function checkExecProcess(record: ContainerRecord, proc: Process, source: string): void {
  const { errors, unsupported } = judge({ ociVersion: record.ociVersion, root: { path: record.rootfs }, process: proc });
  const spawned = spawnedProcessProblems(proc);
  if (errors.length || unsupported.length || spawned.length)
    throw new ConfigError([...errors, ...unsupported, ...spawned], source);
}

/** Into the container's namespaces and root (those of its init), on the main thread. */
function joinNamespaces(s: Sys, record: ContainerRecord, kinds: readonly string[]): void {
  // All handles first: after joining the mount namespace, /proc is the container's.
  const handles = kinds.map((kind) => ({ kind, fd: openSync(`/proc/${record.pid}/ns/${namespaceKind(kind).procName}`, 'r') }));
  // The init's own root, taken after setns: without a mount namespace the
  // container's root is a chroot in the runtime's namespace; and setns into
  // a mount namespace puts this thread at the namespace's root, the
  // container's only after pivot_root (with --no-pivot the host's root
  // filesystem lies beneath the container's, where every exec would land
  // once the container unmounts its "/").
  const root = openSync(`/proc/${record.pid}/root`, O_PATH | O_DIRECTORY | O_CLOEXEC);
  try {
    s.unshare(CLONE_FS);
    for (const { kind, fd } of handles) s.setns(fd, namespaceKind(kind).flag);
    s.fchdir(root);
    s.chroot('.');
  } finally {
    for (const { fd } of handles) closeSync(fd);
    closeSync(root);
  }
}

const FORWARDED: NodeJS.Signals[] = ['SIGTERM', 'SIGHUP', 'SIGQUIT', 'SIGUSR1', 'SIGUSR2', 'SIGINT', 'SIGWINCH'];

/** Relays signals (and the terminal) until the process exits; its status becomes ours. */
async function waitForExit(s: Sys, child: ChildProcess, master: number | undefined): Promise<number> {
  const relay = master !== undefined ? relayTerminal(s, master) : undefined;
  const forward = (signal: NodeJS.Signals) => {
    // With a terminal, ^C reaches the process through the pty (same process group).
    if (relay && (signal === 'SIGINT' || signal === 'SIGWINCH' || signal === 'SIGQUIT')) return;
    try {
      child.kill(signal);
    } catch {
      // Gone already.
    }
  };
  for (const sig of FORWARDED) process.on(sig, forward);
  try {
    const status = await new Promise<number>((ok) =>
      child.once('exit', (code, signal) => ok(signal ? 128 + (signalNumber(signal) ?? 0) : (code ?? 0))),
    );
    if (relay) await Promise.race([relay.drained, new Promise((r) => setTimeout(r, 200))]);
    return status;
  } finally {
    relay?.stop();
    for (const sig of FORWARDED) process.off(sig, forward);
  }
}
