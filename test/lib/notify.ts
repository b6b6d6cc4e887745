/**
 * The host's ends of sd_notify and --pidfd-socket for tests, played by
 * python (node has neither unix datagrams nor SCM_RIGHTS), and sd-notify,
 * the container's end, built static (a busybox container has no
 * systemd-notify, and its nc no unix datagrams).
 */
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { chmodSync } from 'node:fs';
import { join } from 'node:path';
import { TOP, tempDir } from './cli';

let binDir: string | undefined;
/** A directory holding sd-notify, built static once (the container has busybox only). */
export function sdNotifyDir(): string {
  if (binDir) return binDir;
  const dir = tempDir('runts-sd-notify-');
  // Bound into containers whose process may be any user.
  chmodSync(dir, 0o755);
  execFileSync('cc', ['-static', '-O2', '-o', join(dir, 'sd-notify'), join(TOP, 'test', 'lib', 'sd-notify.c')]);
  return (binDir = dir);
}

export interface Peer {
  path: string;
  peer: ChildProcess;
  /** Its JSON lines, once it has exited. */
  lines: Promise<Record<string, unknown>[]>;
}

/** A python peer (test/lib/SCRIPT) listening on a socket of that name in a temp dir, once it listens. */
export async function startPeer(script: string, socketName: string, args: string[] = []): Promise<Peer> {
  const path = join(tempDir('runts-peer-'), socketName);
  const peer = spawn('python3', [join(TOP, 'test', 'lib', script), path, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  peer.stdout.on('data', (d) => (out += d));
  const lines = new Promise<Record<string, unknown>[]>((resolve) =>
    peer.on('close', () =>
      resolve(
        out
          .split('\n')
          .filter(Boolean)
          .map((l) => JSON.parse(l) as Record<string, unknown>),
      ),
    ),
  );
  await new Promise<void>((resolve, reject) => {
    peer.stderr.on('data', (d) => {
      err += d;
      if (err.includes('listening')) resolve();
    });
    peer.on('close', () => reject(new Error(`${script} ended: ${err}`)));
  });
  return { path, peer, lines };
}

/** The messages the notify peer got, in order, once it has them all (its last one ends it), or what it had after 20 s. */
export async function received(peer: Peer): Promise<Record<string, unknown>[]> {
  const timer = setTimeout(() => peer.peer.kill(), 20_000);
  try {
    return await peer.lines;
  } finally {
    clearTimeout(timer);
  }
}
