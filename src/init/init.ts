/**
 * The container's init (docs/architecture.md, "Process model", B). A fresh
 * node spawned by create, already PID 1 of the new pid namespace when there
 * is one. On its main thread (everything it spawns or execs inherits that
 * thread's namespaces, root, credentials):
 *   1. non-dumpable; receive the plan from create
 *   2. join/unshare namespaces; build the rootfs (mounts, devices)
 *   3. let create run prestart/createRuntime hooks (if any); run createContainer hooks
 *   4. the process's last steps (finalize.ts), which enter the rootfs
 *      midway: pivot_root; sysctls, masked/read-only paths; hostname
 *   5. report "created"; block on exec.fifo until `runts start`
 *   6. startContainer hooks; personality; execve
 * Any failure up to 5 goes back to create over the channel, which reports it
 * and cleans up. Only *Sync fs calls are used: they run on the main thread.
 */
import { RuntsError, errorMessage } from '../errors';
import { mark } from '../profile';
import { helperArgv } from '../linux/exec-helper';
import { type HookState, prepareHooks, runHooks } from '../linux/hooks';
import { receiveDetachedMounts } from '../linux/idmapped-mounts';
import { mkdirInRoot } from '../linux/in-root';
import { joinSessionKeyring } from '../linux/keyring';
import { enterNamespaces } from '../linux/namespaces';
import { reopenThroughProc, writeProcFile } from '../linux/procfs';
import { enterRootfs, finishRootfs, prepareRootfs } from '../linux/rootfs';
import { prepareSeccomp } from '../linux/seccomp';
import type { InitPlan } from '../spec/plan';
import { FD_CLOEXEC, F_SETFD, O_CLOEXEC, O_PATH, O_WRONLY, PR_GET_DUMPABLE, PR_SET_DUMPABLE } from '../sys/constants';
import { type PreparedSeccomp, type Sys, exists } from '../sys/types';
import { CHANNEL_ENV, InitChannel } from './channel';
import { saveCodeCache } from './code-cache';
import { type Finalized, finalizeProcess } from './finalize';

export function runInit(s: Sys): never {
  // First thing: no core dumps and no ptrace/proc access from the container
  // to this process while it still holds host resources (CVE-2019-5736 class).
  s.prctl(PR_SET_DUMPABLE, 0);
  const channel = new InitChannel(Number(process.env[CHANNEL_ENV]));
  // Hooks the init spawns must not hold the channel open after it is gone.
  s.fcntl(channel.fd, F_SETFD, FD_CLOEXEC);
  let plan: InitPlan;
  let state: HookState;
  let fifo: number;
  let ready: Finalized;
  let seccomp: PreparedSeccomp | undefined;
  try {
    const planned = channel.receive('plan');
    plan = planned.plan;
    mark('plan received');
    prepareHooks(plan.hooks.startContainer);
    // Not the caller's session keyring: one of the container's own (keyring.ts).
    if (plan.sessionKeyring) joinSessionKeyring(s, plan.sessionKeyring);
    s.umask(0);
    enterNamespaces(s, plan.namespaces);
    // Before any process enters the new time namespace (hooks, the program).
    if (plan.timeOffsets) writeProcFile(s, '/proc/self/timens_offsets', plan.timeOffsets.join('\n'));
    // Made by create, which sent them before the plan (idmapped-mounts.ts).
    const detached =
      plan.idmappedMounts !== undefined ? receiveDetachedMounts(s, plan.idmappedMounts, plan.mounts) : new Map<number, number>();
    prepareRootfs(s, plan, detached);
    for (const fd of detached.values()) s.close(fd);
    makeWorkingDirectory(s, plan);
    mark('rootfs done');

    // create's turn for the prestart and createRuntime hooks, if it has any.
    if (!planned.state) channel.send({ type: 'hooks' });
    // Built while create runs the createRuntime hooks (docker's takes ~75 ms):
    // libseccomp's rule adds are most of the filter's cost. Loaded by the finaliser.
    if (plan.seccomp) seccomp = prepareSeccomp(s, plan.seccomp);
    state = planned.state ?? channel.receive('continue').state;
    runHooks('createContainer', plan.hooks.createContainer, state);

    // The fifo lives in the state dir, out of sight once pivoted: keep a
    // handle (O_PATH) and reopen it through /proc/self/fd when it is time.
    // In a user namespace create sends it (the state dir is not ours to open).
    fifo = plan.fifoSocket !== undefined ? receiveFifo(s, plan.fifoSocket) : s.open(plan.fifoPath, O_PATH | O_CLOEXEC);
    // The process's own settings, before `created` as runc does, so that
    // a limit, label, capability or filter the kernel refuses fails create.
    ready = finalizeProcess(s, plan, {
      seccomp,
      state,
      enterContainer() {
        enterRootfs(s, plan);
        finishRootfs(s, plan);
        if (plan.hostname !== undefined) s.sethostname(plan.hostname);
        if (plan.domainname !== undefined) s.setdomainname(plan.domainname);
        if (!exists(s, `/proc/self/fd/${fifo}`))
          throw new Error('the container has no /proc: runts needs /proc mounted to wait for start');
      },
    });
    mark('created');
    saveCodeCache();
    channel.send({ type: 'created', dumpable: s.prctl(PR_GET_DUMPABLE), skippedSyscalls: seccomp?.skipped ?? [] });
    channel.close();
  } catch (err) {
    try {
      channel.send({ type: 'error', message: errorMessage(err) });
    } finally {
      process.exit(1);
    }
  }
  startProcess(s, plan, state, ready, fifo);
  process.exit(127); // execve returned: startProcess said why
}

/**
 * After `runts start`: startContainer hooks (already with the process's
 * credentials and filter, as with runc), then execve of the helper from its
 * sealed memfd, which execs the program: node's own binary is never what
 * /proc/self/exe shows while the program's execve runs. Errors go back to
 * start through the fifo (the helper's too), else to the container's stderr.
 */
function startProcess(s: Sys, plan: InitPlan, state: HookState, ready: Finalized, fifo: number): void {
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
    mark('exec');
    s.execve(`/proc/self/fd/${ready.helper}`, helperArgv({ reportFd: w }, ready.exe, plan.process.args), ready.env);
  } catch (err) {
    const message = errorMessage(err);
    if (w >= 0) s.write(w, message);
    else process.stderr.write(`runts init: ${message}\n`);
  }
}

function receiveFifo(s: Sys, socket: number): number {
  const { fd } = s.recvFd(socket);
  s.close(socket);
  return fd;
}

/** process.cwd made when missing, inside the rootfs (in-root.ts); entered once pivoted (working-dir.ts). */
function makeWorkingDirectory(s: Sys, plan: InitPlan): void {
  try {
    mkdirInRoot(s, plan.rootfs, plan.process.cwd, 0o755);
  } catch (err) {
    throw new RuntsError(`process.cwd ${plan.process.cwd}: ${errorMessage(err)}`);
  }
}
