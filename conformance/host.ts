/**
 * Looking at the host from outside the containers: processes, their
 * namespaces and environments, mounts under a directory, and waiting for
 * things to happen without blocking the other cases.
 */
import { spawnSync } from 'node:child_process';
import { readFileSync, readdirSync, readlinkSync } from 'node:fs';
import { CAPABILITY_NUMBERS, capabilityNames, parseMountinfo, statusField } from './parse';

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Polls until `ready` holds (true) or the time is up (false). */
export async function waitFor(ready: () => boolean, ms = 5000, every = 20): Promise<boolean> {
  const end = Date.now() + ms;
  for (;;) {
    if (ready()) return true;
    if (Date.now() > end) return false;
    await sleep(every);
  }
}

export function readOr(path: string, fallback = ''): string {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return fallback;
  }
}

/** A live process (not a zombie) with this pid. */
export function alive(pid: number): boolean {
  const stat = readOr(`/proc/${pid}/stat`);
  return stat !== '' && !/^\d+ \(.*\) [ZX] /s.test(stat);
}

/** "net:[4026531840]" for a process's (or "self") namespace of a kind (proc name: net, mnt, …). */
export function nsOf(pid: number | 'self', kind: string): string {
  try {
    return readlinkSync(`/proc/${pid}/ns/${kind}`);
  } catch {
    return '';
  }
}

/** Pids whose environment holds NAME=value (the suite marks every container's env). */
export function processesWithEnv(entry: string): number[] {
  const found: number[] = [];
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    const env = readOr(`/proc/${name}/environ`);
    if (env.split('\0').includes(entry)) found.push(Number(name));
  }
  return found;
}

/** Host mount points at or under dir, deepest first. */
export function mountsUnder(dir: string): string[] {
  return parseMountinfo(readOr('/proc/self/mountinfo'))
    .map((m) => m.mountPoint)
    .filter((p) => p === dir || p.startsWith(`${dir}/`))
    .sort((a, b) => b.length - a.length);
}

/** The host's mount command, for setups the cases make under their own directory. */
export function hostMount(args: string[]): void {
  const r = spawnSync('mount', args, { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`mount ${args.join(' ')}: ${r.stderr.trim()}`);
}

/** Lazily unmounts everything at or under dir. */
export function unmountUnder(dir: string): void {
  for (const point of mountsUnder(dir)) spawnSync('umount', ['-l', point], { stdio: 'ignore' });
}

/** Capabilities in this process's bounding set: what a runtime started from here can grant. */
export function hostCapabilities(): string[] {
  return capabilityNames(BigInt(`0x${statusField(readOr('/proc/self/status'), 'CapBnd') ?? '0'}`));
}

/** A capability this kernel has but this process's bounding set lacks (a restricted host), if any. */
export function ungrantableCapability(): string | undefined {
  const lastCap = Number(readOr('/proc/sys/kernel/cap_last_cap', '-1'));
  const held = hostCapabilities();
  return Object.entries(CAPABILITY_NUMBERS).find(([name, bit]) => bit <= lastCap && !held.includes(name))?.[0];
}
