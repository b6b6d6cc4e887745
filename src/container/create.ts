/**
 * runtime.md "Create": build the container from the bundle, up to the
 * point where only the user's process is missing. On any failure the
 * container is torn down: init killed, cgroup removed, state dir removed
 * (its mounts lived in the init's mount namespace and die with it).
 */
import { closeSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { RuntsError, errorMessage } from '../errors';
import type { FromInit } from '../init/channel';
import { type CgroupManager, createCgroup, destroyCgroup } from '../linux/cgroups/manager';
import { primeCgroupMigration } from '../linux/cgroups/prime';
import { type HookState, hookState, runHooks, runHooksWarnOnly } from '../linux/hooks';
import { detachIdmappedMounts, sendDetachedMounts } from '../linux/idmapped-mounts';
import { sessionKeyringName } from '../linux/keyring';
import { type RdtState, applyIntelRdt, hostResctrlRoot, removeIntelRdt } from '../linux/intel-rdt';
import { moveNetDevicesIn, moveNetDevicesOut, netDevicesOf, sameNamespace } from '../linux/net-devices';
import { type SharedMounts, noteSharedMounts, removeSharedMounts } from '../linux/shared-mounts';
import { log } from '../log';
import { mark } from '../profile';
import { type LoadedConfig, loadBundle, readConfigFile } from '../spec/load';
import { makeExecBase, makePlan } from '../spec/plan';
import { checkContainerId } from '../state/id';
import { ownerName } from '../state/owner';
import { readProcStat } from '../state/process-identity';
import { type ContainerRecord, type NetDevicesMoved, teardownOf } from '../state/record';
import type { StateStore } from '../state/store';
import { O_CLOEXEC, O_PATH, S_IFIFO } from '../sys/constants';
import type { Sys } from '../sys/types';
import { type InitProcess, takeInit } from './init-process';
import { type Begun, begin, endCgroupPrimer, startBegun } from './init-start';
import { hostNotifySocket, makeNotifyDir } from './notify-socket';
import { writePidFile } from './pid-file';
import { connectPidfdSocket, sendPidfd } from './pidfd-socket';

export interface Created {
  record: ContainerRecord;
  init: InitProcess;
  /** The pty master, when create was asked to keep the terminal (foreground `run`). */
  terminal?: number;
}

/** What create is asked: the create command's flags (cli/commands/create.ts), and keepTerminal. */
export interface CreateOptions {
  containerId: string;
  bundle: string;
  pidFile?: string;
  consoleSocket?: string;
  noPivot: boolean;
  noNewKeyring?: boolean;
  preserveFds: number;
  systemdCgroup: boolean;
  /** process.terminal without --console-socket: receive the pty master here (foreground run). */
  keepTerminal?: boolean;
  /** --pidfd-socket: where the init's pidfd goes once the container is created (pidfd-socket.ts). */
  pidfdSocket?: string;
}

function expect<T extends FromInit['type']>(message: FromInit, type: T): Extract<FromInit, { type: T }> {
  if (message.type === 'error') throw new RuntsError(message.message);
  if (message.type !== type) throw new RuntsError(`container init: expected ${type}, got ${message.type}`);
  return message as Extract<FromInit, { type: T }>;
}

/**
 * Creates the container; the init stays a child of this process until
 * release(). begun: its first steps, taken by the CLI before this module
 * loaded (init-start.ts beginEarly); otherwise they are taken here.
 */
export async function create(sys: Sys, store: StateStore, args: CreateOptions, begun?: Begun): Promise<Created> {
  const id = checkContainerId(args.containerId);
  if (!begun) {
    // Primed after the spawn, as the CLI does (a CLI create has primed already).
    const dir = resolve(args.bundle);
    begun = begin(sys, args, dir, readConfigFile(join(dir, 'config.json')));
    void primeCgroupMigration();
  }
  const early = begun;
  const { bundle, doc, listenFds, preserveFds, terminalPair, idmapPair } = early;
  let idmapSocket = idmapPair?.[0];
  let init: InitProcess | undefined;

  let claimed = false;
  let cgroup: CgroupManager | undefined;
  let loaded: LoadedConfig | undefined;
  let shared: SharedMounts | undefined;
  let moved: NetDevicesMoved | undefined;
  let rdt: RdtState | undefined;
  try {
    if (early.started) init = takeInit(sys, early.started);
    loaded = loadBundle(bundle, doc, { systemdCgroup: args.systemdCgroup });
    const { spec } = loaded;
    mark('config valid');
    const terminal = spec.process!.terminal ?? false;
    // runc's rules: a terminal needs somewhere to go; a socket needs a terminal.
    if (terminal && !args.consoleSocket && !args.keepTerminal) {
      throw new RuntsError('cannot allocate tty if runts will detach without setting console socket');
    }
    if (!terminal && args.consoleSocket) throw new RuntsError('--console-socket given, but process.terminal is false');
    // Refused here, before anything is made, where the host has no resctrl.
    const intelRdt = spec.linux?.intelRdt;
    const resctrl = intelRdt ? hostResctrlRoot() : undefined;
    // The init, root of its user namespace only, may not reach the console
    // socket's path: it gets the socket connected here, as the host's root.
    const consoleConnection = !init && args.consoleSocket ? sys.connectUnix(args.consoleSocket) : undefined;
    try {
      // With a user namespace, spawned once the config has passed validation (begin).
      init ??= takeInit(sys, startBegun(sys, early, consoleConnection), {
        uidMappings: spec.linux?.uidMappings ?? [],
        gidMappings: spec.linux?.gidMappings ?? [],
      });
    } finally {
      if (consoleConnection !== undefined) sys.close(consoleConnection);
    }
    store.claim(id);
    claimed = true;
    // With $NOTIFY_SOCKET, the directory start binds the process's socket in (notify-socket.ts).
    const notifyDir = hostNotifySocket() ? makeNotifyDir(store, id) : undefined;
    const record: ContainerRecord = {
      ociVersion: spec.ociVersion,
      id,
      status: 'creating',
      pid: init.pid,
      pidStartTime: readProcStat(init.pid)?.startTime ?? '',
      bundle: loaded.bundle,
      rootfs: loaded.rootfs,
      created: new Date().toISOString(),
      owner: ownerName(),
      ...(spec.annotations ? { annotations: spec.annotations as Record<string, string> } : {}),
      hooks: { poststart: spec.hooks?.poststart ?? [], poststop: spec.hooks?.poststop ?? [] },
      // exec joins it too (keyring.ts).
      ...(args.noNewKeyring ? {} : { sessionKeyring: sessionKeyringName(id) }),
    };
    // The cgroup exists, configured, before the init gets its plan: it is
    // put in it first, so everything it does (the cgroup namespace it makes
    // included) happens inside. (A systemd unit starts with it inside.)
    const made = await createCgroup(id, spec.linux ?? {}, { pid: init.pid, systemd: args.systemdCgroup });
    cgroup = made.cgroup;
    mark('cgroup made');
    record.cgroup = cgroup.state;
    record.resources = spec.linux?.resources ?? {};
    if (intelRdt && resctrl) record.intelRdt = rdt = applyIntelRdt(resctrl, id, intelRdt, init.pid);
    const fifoPath = store.execFifo(id);
    const consoleTo =
      init.fds.terminal !== undefined
        ? { fd: init.fds.terminal }
        : args.consoleSocket
          ? { socketPath: args.consoleSocket }
          : undefined;
    const plan = makePlan(loaded, {
      id,
      fifoPath,
      noPivot: args.noPivot,
      preserveFds,
      listenFds,
      cgroup: made.view,
      sessionKeyring: record.sessionKeyring,
      ...(init.fds.fifo !== undefined ? { fifoSocket: init.fds.fifo } : {}),
      ...(consoleTo ? { console: consoleTo } : {}),
      ...(init.fds.idmappedMounts !== undefined ? { idmappedMounts: init.fds.idmappedMounts } : {}),
      ...(notifyDir ? { notifyDir } : {}),
    });
    if (idmapSocket !== undefined) {
      // Sent ahead of the plan; the init takes them once it has it.
      sendDetachedMounts(sys, idmapSocket, await detachIdmappedMounts(sys, plan.mounts));
      closeSync(idmapSocket);
      idmapSocket = undefined;
    }
    // What every exec starts from (planExec).
    record.exec = makeExecBase(spec, plan);
    // No mount namespace of its own: its mounts stay in ours until delete (shared-mounts.ts).
    if (!plan.mountNamespace) record.sharedMounts = shared = noteSharedMounts(sys, loaded.rootfs);
    store.write(record);
    sys.mknod(fifoPath, S_IFIFO | 0o622, 0, 0);
    // Whatever the umask: the init opens it for writing as the container's user.
    sys.chmod(fifoPath, 0o622);
    if (init.fds.fifo !== undefined) {
      const fifo = sys.open(fifoPath, O_PATH | O_CLOEXEC);
      try {
        init.sendFifo(fifo);
      } finally {
        sys.close(fifo);
      }
    }

    // What delete needs, kept apart before the container has a process or
    // a mount: a damaged state.json must not leave it beyond runts' reach.
    store.writeTeardown(id, teardownOf({ ...record, cgroup: cgroup.state }));
    cgroup.join(init.pid);
    // The init's network devices move once its namespaces exist and before
    // any hook runs, as in runc: at the init's turn for the hooks.
    const netDevices = netDevicesOf(spec.linux);
    const runtimeHooks = !!(spec.hooks?.prestart?.length || spec.hooks?.createRuntime?.length);
    // With neither, the init needs no turn of ours between its rootfs and its
    // process: the state comes with the plan, and the round trip is saved.
    const ourTurn = runtimeHooks || netDevices !== undefined;
    const state = hookState(record, 'creating');
    init.send({ type: 'plan', plan, ...(ourTurn ? {} : { state }) });
    mark('plan sent');
    // Its moves are done (cgroup.join): ended once the init has work to do.
    endCgroupPrimer(sys, early);

    if (ourTurn) {
      expect(await init.next(), 'hooks');
      if (netDevices) {
        const given = spec.linux?.namespaces?.find((ns) => ns.type === 'network')?.path;
        const netns = given ?? `/proc/${init.pid}/ns/net`;
        if (sameNamespace(sys, netns, '/proc/thread-self/ns/net'))
          throw new RuntsError(
            "/linux/netDevices: the container's network namespace is the runtime's own: its devices cannot move",
          );
        moved = { ...(given ? { netns: given } : {}), devices: moveNetDevicesIn(sys, netns, netDevices) };
        // Delete moves them back: the record, and teardown.json, say what it needs to.
        record.netDevices = moved;
        store.write(record);
        store.replaceTeardown(id, teardownOf({ ...record, cgroup: cgroup.state }));
      }
      runHooks('prestart', spec.hooks?.prestart, state);
      runHooks('createRuntime', spec.hooks?.createRuntime, state);
      init.send({ type: 'continue', state });
    }
    const created = expect(await init.next(), 'created');
    mark('created seen');
    // Skipped as runc skips them (a profile names calls newer than this libseccomp), and said as runc says it.
    const skipped = created.skippedSyscalls;
    if (skipped.length) log.debug(() => `seccomp: syscalls libseccomp does not know, skipped: ${skipped.join(', ')}`);

    record.status = 'created';
    record.initDumpable = created.dumpable;
    store.write(record);
    if (args.pidFile) writePidFile(args.pidFile, init.pid);
    if (args.pidfdSocket) sendPidfd(sys, connectPidfdSocket(sys, args.pidfdSocket), init.pid, 'standard');
    const master = terminalPair ? sys.recvFd(terminalPair[0]).fd : undefined;
    if (terminalPair) closeSync(terminalPair[0]);
    return { record, init, ...(master !== undefined ? { terminal: master } : {}) };
  } catch (err) {
    endCgroupPrimer(sys, early);
    if (terminalPair) closeSync(terminalPair[0]);
    if (idmapSocket !== undefined) closeSync(idmapSocket);
    if (!early.started) for (const pair of [terminalPair, idmapPair]) if (pair) closeSync(pair[1]);
    // The host's devices go back before the init dies: a virtual device dies with its namespace.
    if (moved && init) {
      for (const warning of moveNetDevicesOut(sys, moved.netns ?? `/proc/${init.pid}/ns/net`, moved.devices))
        log.warn(`moving network devices of failed container ${id} back: ${warning}`);
    }
    if (init) await killAndReap(init);
    try {
      if (cgroup) await destroyCgroup(cgroup);
    } catch (cleanup) {
      // The create's own error is the one to report; the rest of the cleanup goes on.
      log.warn(`removing the cgroup of failed container ${id}: ${errorMessage(cleanup)}`);
    }
    if (rdt) for (const warning of removeIntelRdt(rdt)) log.warn(`failed container ${id}: ${warning}`);
    if (shared) {
      const warning = removeSharedMounts(sys, shared);
      if (warning) log.warn(warning);
    }
    if (claimed && loaded) {
      store.remove(id);
      // runtime.md: a failed create goes on with the lifecycle's last step, the poststop hooks.
      const state: HookState = {
        ociVersion: loaded.spec.ociVersion,
        id,
        status: 'stopped',
        pid: init?.pid ?? 0,
        bundle: loaded.bundle,
      };
      runHooksWarnOnly('poststop', loaded.spec.hooks?.poststop, state, log.warn);
    }
    throw err;
  }
}

async function killAndReap(init: InitProcess): Promise<void> {
  init.kill('SIGKILL');
  await init.exited();
}

/** `runts create`: create, then leave the init to its new parent (the shim, or init). */
export async function createContainer(sys: Sys, store: StateStore, args: CreateOptions, begun?: Begun): Promise<void> {
  const { init } = await create(sys, store, args, begun);
  init.release();
}
