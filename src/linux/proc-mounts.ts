/**
 * What may be mounted on /proc or inside it, as runc rules
 * (checkProcMount): on /proc itself only procfs (a proc mount, or a bind
 * whose source is on procfs, checked when mounting); inside it only the
 * files lxcfs emulates; nothing else, since the init writes sysctls,
 * oom_score_adj and LSM labels through /proc. Applied to the config's
 * destination (checks.ts) and again, when mounting, to the path it resolves
 * to in the rootfs (rootfs.ts), where a rootfs symlink (/foo -> /proc) may
 * lead it.
 */
import { posix } from 'node:path';

/** runc's allow-list: the files lxcfs (and the like) bind over /proc. */
export const LXCFS_PROC_FILES: readonly string[] = [
  '/proc/cpuinfo',
  '/proc/diskstats',
  '/proc/meminfo',
  '/proc/stat',
  '/proc/swaps',
  '/proc/uptime',
  '/proc/loadavg',
  '/proc/slabinfo',
  '/proc/net/dev',
  '/proc/sys/kernel/ns_last_pid',
  '/proc/sys/crypto/fips_enabled',
];

/** A destination as an absolute path without ".", ".." or repeated and trailing "/" ("proc//sys/" -> "/proc/sys"). */
export function cleanDestination(destination: string): string {
  const clean = posix.normalize(`/${destination}`);
  return clean.length > 1 ? clean.replace(/\/+$/, '') : clean;
}

/** Why a mount of this kind may not go to dest (clean, absolute), or undefined when it may. */
export function procMountRefusal(dest: string, mount: { type: string; bind: boolean }): string | undefined {
  if (dest === '/proc') {
    return mount.bind || mount.type === 'proc' ? undefined : '/proc must be a mount of type proc (or a bind of a procfs)';
  }
  if (!dest.startsWith('/proc/') || LXCFS_PROC_FILES.includes(dest)) return undefined;
  return `nothing may be mounted inside /proc but the files lxcfs emulates (${LXCFS_PROC_FILES.join(', ')})`;
}
