/**
 * `runts exec`: a new process in a running container (ARCHITECTURE.md,
 * "Process model", A'). This process joins the container: its cgroup, then,
 * from its main thread, its namespaces; takes the process's credentials,
 * capabilities and seccomp filter on that thread only, and spawns the
 * program: the child inherits all of it. No node ever runs in the
 * container. The other threads (libuv's pool) keep runts' own root,
 * namespaces and credentials, which is what writes the pid file on the host.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { closeSync, constants, openSync } from 'node:fs';
import { access } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import type { ExecArgs } from '../cli/commands/exec';
import { ConfigError, RuntsError } from '../errors';
import { openPty, setConsoleSize } from '../linux/console';
import { applyCredentials, applyOomScoreAdj, applyRlimits, lastCap } from '../linux/credentials';
import { primeCgroupMigration } from '../linux/cgroups/prime';
import { helperArgv, sealedHelper } from '../linux/exec-helper';
import { lookPath, readPasswd, withHome } from '../linux/exec-path';
import { joinSessionKeyring } from '../linux/keyring';
import { applyLsmOnExec, planLsm } from '../linux/lsm';
import { NAMESPACES } from '../linux/namespaces';
import { compileSeccomp } from '../linux/seccomp';
import { SIGNALS } from '../linux/signals';
import { enterWorkingDirectory } from '../linux/working-dir';
import { judge, readConfigFile } from '../spec/load';
import { planProcess } from '../spec/plan';
import type { Process, Spec } from '../spec/types';
import type { ContainerRecord, StateStore } from '../state/store';
import { CLONE_FS, CLOSE_RANGE_CLOEXEC, EAGAIN, O_CLOEXEC, O_DIRECTORY, O_PATH, PR_SET_DUMPABLE } from '../sys/constants';
import { type Sys, SysError } from '../sys/types';
import { writePidFileFromHost } from './pid-file';
import { cgroupOf, statusOf } from './state';
import { relayTerminal } from './terminal-relay';

type ExecOptions = Omit<ExecArgs, 'root' | 'log' | 'logFormat' | 'debug' | 'systemdCgroup' | 'rootless' | 'criu'>;

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
    const [uid, gid] = opts.user.split(':');
    if (!/^\d+$/.test(uid) || (gid !== undefined && !/^\d+$/.test(gid))) {
      throw new RuntsError(`--user ${opts.user}: use <uid>[:<gid>] (numbers)`);
    }
    p.user = { ...p.user, uid: Number(uid), gid: gid === undefined ? 0 : Number(gid) };
  }
  if (opts.additionalGids.length) p.user = { uid: 0, gid: 0, ...p.user, additionalGids: [...(p.user?.additionalGids ?? []), ...opts.additionalGids] };
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
  const record = store.read(opts.containerId);
  // This process's own move into the container's cgroup, below, then waits less (prime.ts).
  void primeCgroupMigration();
  const status = statusOf(store, record);
  if (status !== 'running' && status !== 'created' && !(status === 'paused' && opts.ignorePaused)) {
    throw new RuntsError(`cannot exec in a ${status} container`);
  }
  const config = record.config as Spec;
  const proc = execProcess(config.process!, opts);
  const { errors, unsupported } = judge({ ...config, process: proc });
  const source = opts.process ?? 'exec process';
  if (errors.length || unsupported.length) throw new ConfigError([...errors, ...unsupported], source);
  if (proc.terminal && opts.detach && !opts.consoleSocket) {
    throw new RuntsError('cannot allocate tty if runts will detach without setting console socket');
  }
  if (!proc.terminal && opts.consoleSocket) throw new RuntsError('--console-socket given, but the process has no terminal');
  const planned = planProcess(proc);
  const lsm = planLsm(proc.apparmorProfile, proc.selinuxLabel);
  const seccomp = config.linux?.seccomp ? compileSeccomp(config.linux.seccomp) : undefined;
  const pidFile = opts.pidFile ? resolve(opts.pidFile) : undefined;

  s.prctl(PR_SET_DUMPABLE, 0);
  // libuv's pool threads must exist before the main thread moves: they keep
  // the host's mounts, root and credentials for the pid file.
  await access('/');
  // libseccomp is a host library: the filter is built before the mount namespace changes.
  const preparedSeccomp = seccomp ? s.prepareSeccomp(seccomp) : undefined;
  const consoleSocket = opts.consoleSocket ? s.connectUnix(resolve(opts.consoleSocket)) : -1;
  // The program is started by the helper (exec-helper.ts), from a sealed
  // memfd copy made now, while the host's file is in sight: never straight
  // from node, whose binary the container must not reach. On cgroup v2 the
  // helper also joins the container's cgroup as one process, and with a
  // terminal makes the pty its controlling terminal. Its cgroup.procs is a
  // host path: opened now, before the mount namespace changes.
  const helper = sealedHelper(s);
  const cgroup = cgroupOf(record);
  const cgroupProcs = cgroup.state.version === 2 ? openSync(join(cgroup.state.path, 'cgroup.procs'), constants.O_WRONLY) : undefined;
  const helperJoins = cgroupProcs !== undefined;
  const highestCap = lastCap();
  // What goes through /proc/self is done while /proc is still the host's
  // (runts is not in the container's pid namespace: /proc/self would not
  // exist there): the child inherits oom_score_adj and the LSM exec label.
  applyOomScoreAdj(s, planned);
  applyLsmOnExec(s, lsm);
  // The container's session keyring, as runc's exec joins it (keyring.ts).
  if (record.sessionKeyring) joinSessionKeyring(s, record.sessionKeyring);
  // The container's cgroup first (its files are host paths), then its
  // namespaces; the program inherits both. Not all of node: its ten or so
  // threads under a tight pids limit left no room for the program (runc's
  // exec moves one single-threaded process). On v1 this (main) thread
  // alone moves; on v2 the helper does it (above).
  if (!helperJoins) cgroup.joinMainThread();
  joinNamespaces(s, record, config);

  // From here the main thread sees the container. (libuv's pool threads
  // keep the host's root: the cwd is resolved and checked inside.)
  enterWorkingDirectory(s, planned.cwd);
  const env = withHome(planned.env, planned.uid, readPasswd);
  const exe = lookPath(planned.args[0], env);
  let terminal: { master: number; slave: number } | undefined;
  if (proc.terminal) {
    const pty = openPty(s);
    if (proc.consoleSize) setConsoleSize(s, pty.master, proc.consoleSize);
    terminal = pty;
    if (consoleSocket >= 0) {
      s.sendFds(consoleSocket, Buffer.from('/dev/ptmx'), [pty.master]);
      closeSync(pty.master);
      closeSync(consoleSocket);
      terminal = { ...terminal, master: -1 };
    }
  }
  applyRlimits(s, planned);
  s.umask(planned.umask ?? 0o022);
  // runts' own fds stay open here but must not reach the program.
  s.closeRange(3, 0xffffffff, CLOSE_RANGE_CLOEXEC);
  const seccompLast = planned.noNewPrivileges;
  if (preparedSeccomp && !seccompLast) s.loadSeccomp(preparedSeccomp);
  applyCredentials(s, planned, highestCap);
  if (preparedSeccomp && seccompLast) s.loadSeccomp(preparedSeccomp);

  const preserved = Array.from({ length: opts.preserveFds }, (_, i) => 3 + i);
  const stdio = terminal ? [terminal.slave, terminal.slave, terminal.slave] : [0, 1, 2];
  // The helper's cgroup.procs comes right after the preserved fds; it closes it.
  const handed = [...preserved, ...(cgroupProcs !== undefined ? [cgroupProcs] : [])];
  const file = `/proc/self/fd/${helper}`;
  const argv = helperArgv({ terminal: terminal !== undefined, ...(helperJoins ? { cgroupFd: 3 + opts.preserveFds } : {}) }, exe, planned.args);

  if (opts.detach) {
    // Not node's child: runts exits now, and the process's exit status must
    // reach the shim or conmon (the subreaper), not be reaped by libuv.
    const fds = [...stdio, ...handed].map((from, to): [number, number] => [from, to]);
    let pid: number;
    try {
      pid = s.spawnDetached(file, argv, env, { fds, setsid: false });
    } catch (err) {
      throw spawnFailure(planned.args[0], err, record);
    }
    if (terminal) closeSync(terminal.slave);
    if (pidFile) await writePidFileFromHost(pidFile, pid);
    return 0;
  }
  const child = spawn(file, argv.slice(1), {
    argv0: argv[0],
    env: Object.fromEntries(env.map((e) => [e.slice(0, e.indexOf('=')), e.slice(e.indexOf('=') + 1)])),
    stdio: [...stdio, ...handed],
  });
  const spawned = await new Promise<number>((ok, fail) => {
    child.once('spawn', () => ok(child.pid!));
    child.once('error', (err) => fail(spawnFailure(planned.args[0], err, record)));
  });
  if (terminal) closeSync(terminal.slave);
  if (pidFile) await writePidFileFromHost(pidFile, spawned);
  return waitForExit(s, child, terminal && terminal.master >= 0 ? terminal.master : undefined);
}

/** Why the process could not start; EAGAIN from fork is the container's pids limit. */
function spawnFailure(program: string, err: unknown, record: ContainerRecord): RuntsError {
  const e = err as { code?: string; errno?: number; message: string };
  let why = e.message;
  if (e.code === 'EAGAIN' || (err instanceof SysError && err.errno === EAGAIN)) {
    why += record.cgroup?.version === 2
      ? " (the container's pids limit is reached: on cgroup v2, runts exec's own threads count against it until the process starts)"
      : " (the container's pids limit is reached)";
  }
  return new RuntsError(`exec ${program}: ${why}`);
}

/** Into the container's namespaces and root (those of its init), on the main thread. */
function joinNamespaces(s: Sys, record: ContainerRecord, config: Spec): void {
  // A time namespace cannot be joined from node (setns needs a single thread): see checks.ts.
  const kinds = (config.linux?.namespaces ?? []).map((n) => n.type as string).filter((t) => t !== 'user' && t !== 'time');
  // All handles first: after joining the mount namespace, /proc is the container's.
  const handles = kinds.map((kind) => ({ kind, fd: openSync(`/proc/${record.pid}/ns/${NAMESPACES[kind].procName}`, 'r') }));
  // The init's own root, taken after setns: without a mount namespace the
  // container's root is a chroot in the runtime's namespace; and setns into
  // a mount namespace puts this thread at the namespace's root, the
  // container's only after pivot_root (with --no-pivot the host's root
  // filesystem lies beneath the container's, where every exec would land
  // once the container unmounts its "/").
  const root = openSync(`/proc/${record.pid}/root`, O_PATH | O_DIRECTORY | O_CLOEXEC);
  try {
    s.unshare(CLONE_FS);
    for (const { kind, fd } of handles) s.setns(fd, NAMESPACES[kind].flag);
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
      child.once('exit', (code, signal) => ok(signal ? 128 + (SIGNALS[signal] ?? 0) : (code ?? 0))),
    );
    if (relay) await Promise.race([relay.drained, new Promise((r) => setTimeout(r, 200))]);
    return status;
  } finally {
    relay?.stop();
    for (const sig of FORWARDED) process.off(sig, forward);
  }
}
