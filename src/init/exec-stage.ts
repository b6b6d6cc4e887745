/**
 * exec into a container with a user namespace (docs/architecture.md,
 * "Process model", A''). Node cannot join a user namespace, and joining the
 * others as the host's root would not do: so exec spawns the helper, which
 * joins the container's user namespace and becomes its root, and execs this
 * node (the init bundle, in this mode). It is then root of the container's
 * user namespace only, still in the host's mount and pid namespaces (so the
 * container's processes cannot see it): on its main thread it joins the
 * container's other namespaces and root from the fds exec opened, runs the
 * finaliser as exec does, spawns the program (PID-namespaced through pid
 * for children), tells exec its pid, and, unless detached, waits for it and
 * ends with its status (signals exec forwards are passed on).
 */
import type { ChildProcess } from 'node:child_process';
import { errorMessage } from '../errors';
import { joinSessionKeyring } from '../linux/keyring';
import { namespaceKind } from '../linux/namespaces';
import { signalNumber } from '../linux/signals';
import { CLONE_FS, FD_CLOEXEC, F_SETFD, PR_SET_DUMPABLE } from '../sys/constants';
import type { Sys } from '../sys/types';
import { CHANNEL_ENV, InitChannel } from './channel';
import { spawnExecProcess } from './exec-process';
import { finalizeProcess } from './finalize';

const FORWARDED: NodeJS.Signals[] = ['SIGTERM', 'SIGHUP', 'SIGQUIT', 'SIGUSR1', 'SIGUSR2', 'SIGINT', 'SIGWINCH'];

export async function runExecStage(s: Sys): Promise<never> {
  s.prctl(PR_SET_DUMPABLE, 0);
  const channel = new InitChannel(Number(process.env[CHANNEL_ENV]));
  s.fcntl(channel.fd, F_SETFD, FD_CLOEXEC);
  let child: ChildProcess | undefined;
  try {
    const { request } = channel.receive('exec');
    const { plan } = request;
    const ready = finalizeProcess(s, plan, {
      state: request.state,
      enterContainer() {
        if (request.sessionKeyring) joinSessionKeyring(s, request.sessionKeyring);
        s.unshare(CLONE_FS);
        for (const { type, fd } of request.namespaces) {
          s.setns(fd, namespaceKind(type).flag);
          s.close(fd);
        }
        s.fchdir(request.root);
        s.chroot('.');
        s.close(request.root);
      },
    });
    const master = ready.terminal?.master;
    if (master !== undefined && request.terminalSocket !== undefined) {
      s.sendFds(request.terminalSocket, Buffer.from('/dev/ptmx'), [master]);
      s.close(master);
    }
    const spawned = await spawnExecProcess(s, plan, ready, {
      detach: request.detach,
      ...(request.cgroupProcs !== undefined ? { cgroupProcs: request.cgroupProcs } : {}),
      ...(request.cgroupVersion !== undefined ? { cgroupVersion: request.cgroupVersion } : {}),
    });
    child = spawned.child;
    channel.send({ type: 'started', pid: spawned.pid });
  } catch (err) {
    channel.send({ type: 'error', message: errorMessage(err) });
    process.exit(1);
  }
  if (!child) process.exit(0);
  const forward = (signal: NodeJS.Signals) => {
    try {
      child.kill(signal);
    } catch {
      // Gone already: its exit is on its way.
    }
  };
  for (const sig of FORWARDED) process.on(sig, forward);
  const status = await new Promise<number>((ok) =>
    child.once('exit', (code, signal) => ok(signal ? 128 + (signalNumber(signal) ?? 0) : (code ?? 0))),
  );
  process.exit(status);
}
