/**
 * The last steps before a container process's execve, in one order for the
 * init (which becomes the container's first process) and for exec (whose
 * child becomes another one). Where the two differ, the ProcessPlan says how
 * (spec/plan.ts); the sequence itself exists only here:
 *   1. while the host is in sight: what is read or opened from it (the
 *      highest capability number, libseccomp building the filter, the
 *      seccomp agent's and the console's sockets, the sealed copy of the
 *      helper); an exec's initial CPU affinity (execCPUAffinity.initial,
 *      before the cgroup move of step 2; the final one is the helper's,
 *      after its own join of a v2 cgroup: exec-process.ts)
 *   2. the caller's move into the container (the init: its rootfs; exec:
 *      the init's namespaces)
 *   3. the terminal; HOME, the cwd and args[0] as the container sees them
 *   4. rlimits; the memory policy, I/O priority and scheduler (while
 *      CAP_SYS_NICE is still there, and before a filter could deny them);
 *      umask; only stdio and the preserved fds left to inherit
 *   5. the seccomp filter and the credentials: the filter first, unless
 *      no_new_privs lets it be loaded last
 * oom_score_adj and the LSM exec label go through /proc/self, before the
 * move or after the rlimits, as plan.procSelf says which /proc is the
 * process's own.
 * The execve that follows is the caller's: of the helper, which execs the
 * program (exec-helper.ts); the init's after `runts start`, exec's by a spawn.
 */
import { log } from '../log';
import { bindConsole, openPty, setConsoleSize, takeTerminal } from '../linux/console';
import { applyCredentials, applyOomScoreAdj, applyRlimits, lastCap } from '../linux/credentials';
import { sealedHelper } from '../linux/exec-helper';
import { lookPath, readPasswd, withHome } from '../linux/exec-path';
import { applyLsmOnExec } from '../linux/lsm';
import { loadSeccomp, prepareSeccomp } from '../linux/seccomp';
import { applyThreadAttributes } from '../linux/process-attributes';
import { enterWorkingDirectory } from '../linux/working-dir';
import type { ConsolePlan, ProcessPlan } from '../spec/plan';
import { CLOSE_RANGE_CLOEXEC, F_SETFD } from '../sys/constants';
import type { PreparedSeccomp, Sys } from '../sys/types';
import type { HookState } from '../linux/hooks';

export interface FinalizeSteps {
  /** The caller's move into the container, between the steps that need the host and those that need the container. */
  enterContainer(): void;
  /** The filter, when the caller had time to build it earlier (the init: while create runs hooks). */
  seccomp?: PreparedSeccomp;
  /** The container's state: what a seccomp agent gets with the notify fd. */
  state: HookState;
}

export interface Finalized {
  /** The sealed helper (close-on-exec), to execve as /proc/self/fd/N. */
  helper: number;
  /** args[0], found as execvp would in the container. */
  exe: string;
  env: string[];
  /**
   * A spawned process's terminal: the slave, its stdio; the master, when
   * it had nowhere to go (the caller relays it).
   */
  terminal?: { slave: number; master?: number };
}

export function finalizeProcess(sys: Sys, plan: ProcessPlan, steps: FinalizeSteps): Finalized {
  const highestCap = lastCap();
  const seccomp = steps.seccomp ?? (plan.seccomp ? prepareSeccomp(sys, plan.seccomp) : undefined);
  const agent = typeof plan.seccompNotify === 'object' ? sys.connectUnix(plan.seccompNotify.listenerPath) : -1;
  const consoleSocket = plan.console?.socketPath ? sys.connectUnix(plan.console.socketPath) : (plan.console?.fd ?? -1);
  const helper = sealedHelper(sys);
  if (plan.procSelf === 'host') applyThroughProcSelf(sys, plan);
  if (plan.cpuAffinity?.initial) {
    sys.schedSetaffinity(plan.cpuAffinity.initial);
    // What the kernel made of it (runc's nsexec says so at debug level too).
    log.debug(() => `execCPUAffinity.initial: on CPUs ${sys.schedGetaffinity().join(',')} until the cgroup move`);
  }

  steps.enterContainer();

  const terminal = plan.console ? setUpTerminal(sys, plan.console, consoleSocket, plan.start) : undefined;
  const env = withHome(plan.process.env, plan.process.uid, readPasswd);
  enterWorkingDirectory(sys, plan.process.cwd);
  const exe = lookPath(plan.process.args[0], env);

  applyRlimits(sys, plan.process);
  if (plan.attributes) applyThreadAttributes(sys, plan.attributes);
  if (plan.procSelf === 'container') applyThroughProcSelf(sys, plan);
  sys.umask(plan.process.umask ?? 0o022);
  keepOnlyProcessFds(sys, plan.preserveFds);
  // Without no_new_privs, loading a filter needs CAP_SYS_ADMIN: load it
  // before the capabilities go (runc's order); with it, load it last.
  const seccompLast = plan.process.noNewPrivileges;
  if (seccomp && !seccompLast) applySeccomp(sys, seccomp, plan, agent, steps.state);
  applyCredentials(sys, plan.process, highestCap);
  if (seccomp && seccompLast) applySeccomp(sys, seccomp, plan, agent, steps.state);
  return { helper, exe, env, ...(terminal ? { terminal } : {}) };
}

/** What the program inherits from this process's /proc/self files. */
function applyThroughProcSelf(sys: Sys, plan: ProcessPlan): void {
  applyOomScoreAdj(sys, plan.process);
  applyLsmOnExec(sys, plan.lsm);
}

/**
 * The pty, from the container's /dev/ptmx: the master to whoever asked (as
 * runc: the name "/dev/ptmx" as payload); the slave the process's terminal,
 * taken by this process when it execs the program itself.
 */
function setUpTerminal(sys: Sys, console: ConsolePlan, socket: number, start: ProcessPlan['start']): Finalized['terminal'] {
  const pty = openPty(sys);
  if (console.size) setConsoleSize(sys, pty.master, console.size);
  if (console.devConsole) bindConsole(sys, pty.slave);
  const kept = socket < 0;
  if (!kept) {
    sys.sendFds(socket, Buffer.from('/dev/ptmx'), [pty.master]);
    sys.close(pty.master);
    sys.close(socket);
  }
  if (start === 'execve') {
    takeTerminal(sys, pty.slave);
    return undefined;
  }
  return { slave: pty.slave, ...(kept ? { master: pty.master } : {}) };
}

/**
 * Only stdio and the preserved fds reach the process: everything else is
 * marked close-on-exec (node leaves some of its own fds inheritable), and
 * the kept ones are cleared of it (node marks 1 and 2 close-on-exec).
 */
function keepOnlyProcessFds(sys: Sys, preserveFds: number): void {
  const keep = 3 + preserveFds;
  sys.closeRange(keep, 0xffffffff, CLOSE_RANGE_CLOEXEC);
  for (let fd = 0; fd < keep; fd++) {
    try {
      sys.fcntl(fd, F_SETFD, 0);
    } catch {
      // Not open (e.g. create ran with stdin closed): nothing to keep.
    }
  }
}

/** Loads the filter; with SCMP_ACT_NOTIFY rules, the listener fd goes where the plan says (seccomp.md). */
function applySeccomp(sys: Sys, prepared: PreparedSeccomp, plan: ProcessPlan, agent: number, state: HookState): void {
  const notifyFd = loadSeccomp(sys, prepared);
  if (notifyFd < 0) return;
  const notify = plan.seccompNotify;
  if (notify === 'close') {
    sys.close(notifyFd);
    return;
  }
  if (notify === undefined) throw new Error('linux.seccomp: SCMP_ACT_NOTIFY needs listenerPath');
  const processState = {
    ociVersion: state.ociVersion,
    fds: ['seccompFd'],
    pid: state.pid,
    metadata: notify.metadata,
    state: { ...state, status: 'created' },
  };
  sys.sendFds(agent, Buffer.from(JSON.stringify(processState)), [notifyFd]);
  sys.close(notifyFd);
  sys.close(agent);
}
