/**
 * The container's init (ARCHITECTURE.md, "Process model", B). A fresh node
 * spawned by create, already PID 1 of the new pid namespace when there is
 * one. On its main thread (everything it spawns or execs inherits that
 * thread's namespaces, root, credentials):
 *   1. non-dumpable; receive the plan from create
 *   2. join/unshare namespaces; build the rootfs (mounts, devices)
 *   3. let create run prestart/createRuntime hooks; run createContainer hooks
 *   4. pivot_root; sysctls, masked/read-only paths; hostname; find args[0]
 *   5. report "created"; block on exec.fifo until `runts start`
 *   6. startContainer hooks; rlimits, credentials, capabilities; execve
 * Any failure up to 5 goes back to create over the channel, which reports it
 * and cleans up. Only *Sync fs calls are used: they run on the main thread.
 */
import { closeSync } from 'node:fs';
import { runHooks } from '../container/hooks';
import { RuntsError, errorMessage } from '../errors';
import { bindConsole, openPty, setConsoleSize, takeTerminal } from '../linux/console';
import { applyCredentials, applyOomScoreAdj, applyRlimits, lastCap } from '../linux/credentials';
import { helperArgv, sealedHelper } from '../linux/exec-helper';
import { lookPath, readPasswd, withHome } from '../linux/exec-path';
import { mkdirInRoot } from '../linux/in-root';
import { applyLsmOnExec } from '../linux/lsm';
import { joinSessionKeyring } from '../linux/keyring';
import { enterNamespaces } from '../linux/namespaces';
import { reopenThroughProc, writeProcFile } from '../linux/procfs';
import { enterRootfs, finishRootfs, prepareRootfs } from '../linux/rootfs';
import { enterWorkingDirectory } from '../linux/working-dir';
import type { InitPlan } from '../spec/plan';
import {
  CLOSE_RANGE_CLOEXEC, FD_CLOEXEC, F_SETFD, O_CLOEXEC, O_PATH, O_WRONLY, PR_GET_DUMPABLE, PR_SET_DUMPABLE,
} from '../sys/constants';
import { type PreparedSeccomp, type Sys, exists } from '../sys/types';
import { CHANNEL_ENV, InitChannel, type HookState } from './channel';

export function runInit(s: Sys): never {
  // First thing: no core dumps and no ptrace/proc access from the container
  // to this process while it still holds host resources (CVE-2019-5736 class).
  s.prctl(PR_SET_DUMPABLE, 0);
  const channel = new InitChannel(Number(process.env[CHANNEL_ENV]));
  // Hooks the init spawns must not hold the channel open after it is gone.
  s.fcntl(channel.fd, F_SETFD, FD_CLOEXEC);
  let plan: InitPlan;
  let state: HookState;
  let exe: string;
  let env: string[];
  let fifo: number;
  let helper: number;
  let listener = -1;
  let seccomp: PreparedSeccomp | undefined;
  const highestCap = lastCap();
  try {
    plan = channel.receive('plan').plan;
    // Not the caller's session keyring: one of the container's own (keyring.ts).
    if (plan.sessionKeyring) joinSessionKeyring(s, plan.sessionKeyring);
    s.umask(0);
    enterNamespaces(s, plan.namespaces);
    // Before any process enters the new time namespace (hooks, the program).
    if (plan.timeOffsets) writeProcFile(s, '/proc/self/timens_offsets', plan.timeOffsets.join('\n'));
    prepareRootfs(s, plan);
    makeWorkingDirectory(s, plan);

    channel.send({ type: 'hooks' });
    // Built while create runs the createRuntime hooks (docker's takes ~75 ms):
    // libseccomp's rule adds are most of the filter's cost. Loaded below.
    if (plan.seccomp) seccomp = s.prepareSeccomp(plan.seccomp);
    state = channel.receive('continue').state;
    runHooks('createContainer', plan.hooks.createContainer, state);

    // The fifo lives in the state dir, out of sight once pivoted: keep a
    // handle (O_PATH) and reopen it through /proc/self/fd when it is time.
    fifo = s.open(plan.fifoPath, O_PATH | O_CLOEXEC);
    // Likewise the seccomp agent's socket (a host path).
    listener = plan.seccompListener ? s.connectUnix(plan.seccompListener.path) : -1;
    const consoleSocket = plan.console?.socketPath ? s.connectUnix(plan.console.socketPath) : (plan.console?.fd ?? -1);
    // The last hop into the program (exec-helper.ts): copied while the host's file is in sight.
    helper = sealedHelper(s);
    enterRootfs(s, plan);
    finishRootfs(s, plan);
    if (plan.hostname !== undefined) s.sethostname(plan.hostname);
    if (plan.domainname !== undefined) s.setdomainname(plan.domainname);
    if (plan.console) handOverTerminal(s, plan.console, consoleSocket);

    env = withHome(plan.process.env, plan.process.uid, readPasswd);
    enterWorkingDirectory(s, plan.process.cwd);
    exe = lookPath(plan.process.args[0], env);
    if (!exists(s, `/proc/self/fd/${fifo}`)) throw new Error('the container has no /proc: runts needs /proc mounted to wait for start');

    // The process's own settings, before `created` as runc does, so that
    // a limit, label, capability or filter the kernel refuses fails create.
    applyRlimits(s, plan.process);
    applyOomScoreAdj(s, plan.process);
    applyLsmOnExec(s, plan.lsm);
    s.umask(plan.process.umask ?? 0o022);
    keepOnlyProcessFds(s, plan.preserveFds);
    // Without no_new_privs, loading a filter needs CAP_SYS_ADMIN: load it
    // before the capabilities go (runc's order); with it, load it last.
    const seccompLast = plan.process.noNewPrivileges;
    if (seccomp && !seccompLast) loadSeccomp(s, seccomp, plan, state, listener);
    applyCredentials(s, plan.process, highestCap);
    if (seccomp && seccompLast) loadSeccomp(s, seccomp, plan, state, listener);
    channel.send({ type: 'created', dumpable: s.prctl(PR_GET_DUMPABLE) });
    channel.close();
  } catch (err) {
    try {
      channel.send({ type: 'error', message: errorMessage(err) });
    } finally {
      process.exit(1);
    }
  }
  startProcess(s, plan, state, exe, env, fifo, helper);
  process.exit(127); // execve returned: startProcess said why
}

/**
 * After `runts start`: startContainer hooks (already with the process's
 * credentials and filter, as with runc), then execve of the helper from its
 * sealed memfd, which execs the program: node's own binary is never what
 * /proc/self/exe shows while the program's execve runs. Errors go back to
 * start through the fifo (the helper's too), else to the container's stderr.
 */
function startProcess(s: Sys, plan: InitPlan, state: HookState, exe: string, env: string[], fifo: number, helper: number): void {
  let w = -1;
  try {
    // Blocks until start opens the other end. Kept open (close-on-exec) up
    // to execve: start reads on to its end, so it knows the program runs,
    // or reads why it does not (a startContainer hook failed, say).
    w = reopenThroughProc(s, fifo, O_WRONLY | O_CLOEXEC);
    s.write(w, '0');
    s.close(fifo);
    runHooks('startContainer', plan.hooks.startContainer, { ...state, status: 'created' });
    if (plan.personality !== undefined) s.personality(plan.personality);
    // The helper inherits the fifo to report a failed execve; it marks it close-on-exec itself.
    s.fcntl(w, F_SETFD, 0);
    s.execve(`/proc/self/fd/${helper}`, helperArgv({ reportFd: w }, exe, plan.process.args), env);
  } catch (err) {
    const message = errorMessage(err);
    if (w >= 0) s.write(w, message);
    else process.stderr.write(`runts init: ${message}\n`);
  }
}

/** The pty: master to whoever asked (as runc: the name "/dev/ptmx" as payload), slave kept as our terminal. */
function handOverTerminal(s: Sys, console: NonNullable<InitPlan['console']>, socket: number): void {
  const pty = openPty(s);
  if (console.size) setConsoleSize(s, pty.master, console.size);
  bindConsole(s, pty.slave);
  s.sendFds(socket, Buffer.from('/dev/ptmx'), [pty.master]);
  closeSync(pty.master);
  closeSync(socket);
  takeTerminal(s, pty.slave);
}

/** process.cwd made when missing, inside the rootfs (in-root.ts); entered once pivoted (working-dir.ts). */
function makeWorkingDirectory(s: Sys, plan: InitPlan): void {
  try {
    mkdirInRoot(s, plan.rootfs, plan.process.cwd, 0o755);
  } catch (err) {
    throw new RuntsError(`process.cwd ${plan.process.cwd}: ${errorMessage(err)}`);
  }
}

/**
 * Only stdio and the preserved fds reach the process: everything else is
 * marked close-on-exec (node leaves some of its own fds inheritable), and
 * the kept ones are cleared of it (node marks 1 and 2 close-on-exec).
 */
function keepOnlyProcessFds(s: Sys, preserveFds: number): void {
  const keep = 3 + preserveFds;
  s.closeRange(keep, 0xffffffff, CLOSE_RANGE_CLOEXEC);
  for (let fd = 0; fd < keep; fd++) {
    try {
      s.fcntl(fd, F_SETFD, 0);
    } catch {
      // Not open (e.g. create ran with stdin closed): nothing to keep.
    }
  }
}

/** Loads the filter; with SCMP_ACT_NOTIFY rules, hands the listener fd to the agent (seccomp.md). */
function loadSeccomp(s: Sys, prepared: PreparedSeccomp, plan: InitPlan, state: HookState, listener: number): void {
  const { notifyFd } = s.loadSeccomp(prepared);
  if (notifyFd < 0) return;
  if (listener < 0) throw new Error('linux.seccomp: SCMP_ACT_NOTIFY needs listenerPath');
  const processState = {
    ociVersion: state.ociVersion,
    fds: ['seccompFd'],
    pid: state.pid,
    metadata: plan.seccompListener?.metadata ?? '',
    state: { ...state, status: 'created' },
  };
  s.sendFds(listener, Buffer.from(JSON.stringify(processState)), [notifyFd]);
  closeSync(notifyFd);
  closeSync(listener);
}
