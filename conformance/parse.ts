import { fail } from './case';

/**
 * Reading what containers and /proc print: mountinfo lines, KEY=value
 * lines, /proc/PID/status fields, capability masks.
 */

export interface MountRecord {
  id: string;
  parent: string;
  mountPoint: string;
  root: string;
  /** Per-mount options (rw, nosuid, relatime, …). */
  options: Set<string>;
  /** Optional fields: shared:N, master:N, propagate_from:N, unbindable. */
  tags: string[];
  fstype: string;
  source: string;
  /** Superblock options (the filesystem's: size=, mode=, sync, …). */
  superOptions: Set<string>;
}

export function parseMountinfo(text: string): MountRecord[] {
  const records: MountRecord[] = [];
  for (const line of text.split('\n')) {
    const [pre = '', post] = line.split(' - ');
    if (!post) continue;
    const [id = '', parent = '', , root = '', mountPoint = '', options = '', ...tags] = pre.split(' ');
    const [fstype = '', source = '', superOptions = ''] = post.split(' ');
    records.push({
      id,
      parent,
      root: unescapeOctal(root),
      mountPoint: unescapeOctal(mountPoint),
      options: new Set(options.split(',')),
      tags,
      fstype,
      source,
      superOptions: new Set(superOptions.split(',')),
    });
  }
  return records;
}

const unescapeOctal = (s: string) => s.replace(/\\([0-7]{3})/g, (_, o: string) => String.fromCharCode(parseInt(o, 8)));

/** The mounts at a mount point, bottom first (the last one is what a process sees). */
export const mountsAt = (records: MountRecord[], point: string): MountRecord[] => records.filter((m) => m.mountPoint === point);

/** The mount a process sees at a point (the top of the stack); none there fails the case. */
export function visibleMount(records: MountRecord[], point: string): MountRecord {
  const top = mountsAt(records, point).at(-1);
  if (!top) fail(`nothing mounted at ${point} in the container`);
  return top;
}

/** A SemVer 2.0.0 version: major, minor, patch, pre-release captured. */
export const SEMVER = /^(\d+)\.(\d+)\.(\d+)(?:-([0-9A-Za-z.-]+))?(?:\+[0-9A-Za-z.-]+)?$/;

/** Lines of KEY=value (the first "=" splits); other lines are ignored. */
export function keyValues(text: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const line of text.split('\n')) {
    const i = line.indexOf('=');
    if (i > 0) out[line.slice(0, i).trim()] = line.slice(i + 1).trim();
  }
  return out;
}

/** A field of /proc/PID/status ("CapBnd", "NoNewPrivs", "Groups", …). */
export function statusField(status: string, name: string): string | undefined {
  return status.match(new RegExp(`^${name}:\\s*(.*)$`, 'm'))?.[1]?.trim();
}

/** Capability numbers (capabilities(7)), by the names config.json uses. */
export const CAPABILITY_NUMBERS: Readonly<Record<string, number>> = {
  CAP_CHOWN: 0,
  CAP_DAC_OVERRIDE: 1,
  CAP_DAC_READ_SEARCH: 2,
  CAP_FOWNER: 3,
  CAP_FSETID: 4,
  CAP_KILL: 5,
  CAP_SETGID: 6,
  CAP_SETUID: 7,
  CAP_SETPCAP: 8,
  CAP_LINUX_IMMUTABLE: 9,
  CAP_NET_BIND_SERVICE: 10,
  CAP_NET_BROADCAST: 11,
  CAP_NET_ADMIN: 12,
  CAP_NET_RAW: 13,
  CAP_IPC_LOCK: 14,
  CAP_IPC_OWNER: 15,
  CAP_SYS_MODULE: 16,
  CAP_SYS_RAWIO: 17,
  CAP_SYS_CHROOT: 18,
  CAP_SYS_PTRACE: 19,
  CAP_SYS_PACCT: 20,
  CAP_SYS_ADMIN: 21,
  CAP_SYS_BOOT: 22,
  CAP_SYS_NICE: 23,
  CAP_SYS_RESOURCE: 24,
  CAP_SYS_TIME: 25,
  CAP_SYS_TTY_CONFIG: 26,
  CAP_MKNOD: 27,
  CAP_LEASE: 28,
  CAP_AUDIT_WRITE: 29,
  CAP_AUDIT_CONTROL: 30,
  CAP_SETFCAP: 31,
  CAP_MAC_OVERRIDE: 32,
  CAP_MAC_ADMIN: 33,
  CAP_SYSLOG: 34,
  CAP_WAKE_ALARM: 35,
  CAP_BLOCK_SUSPEND: 36,
  CAP_AUDIT_READ: 37,
  CAP_PERFMON: 38,
  CAP_BPF: 39,
  CAP_CHECKPOINT_RESTORE: 40,
};

/** The hex mask /proc/PID/status shows for these capability names (unknown names are ignored). */
export function capabilityMask(names: readonly string[]): bigint {
  return names.reduce((mask, name) => {
    const bit = CAPABILITY_NUMBERS[name];
    return bit === undefined ? mask : mask | (1n << BigInt(bit));
  }, 0n);
}

/** Names in a /proc/PID/status capability mask, for readable failures. */
export function capabilityNames(mask: bigint): string[] {
  return Object.entries(CAPABILITY_NUMBERS)
    .filter(([, n]) => (mask >> BigInt(n)) & 1n)
    .map(([name]) => name);
}

/** A row of /proc/PID/limits: soft and hard as printed ("unlimited" or a number). */
export function limitOf(limits: string, title: string): { soft: string; hard: string } | undefined {
  const line = limits.split('\n').find((l) => l.startsWith(title));
  if (!line) return undefined;
  const [soft, hard] = line.slice(title.length).trim().split(/\s+/);
  return soft === undefined || hard === undefined ? undefined : { soft, hard };
}
