/**
 * linux.resources beyond the schema: the rules the spec states in prose
 * (checked at create and by `update`), the vocabulary both drivers share,
 * and how `update` folds new values into the applied ones.
 */
import { readdirSync } from 'node:fs';
import type { Problem } from '../../errors';
import type { LinuxResources } from '../../spec/types';

/** The blockIO throttle lists: v1's file and v2's io.max key for each. */
export const THROTTLES = {
  throttleReadBpsDevice: { v1: 'blkio.throttle.read_bps_device', v2: 'rbps' },
  throttleWriteBpsDevice: { v1: 'blkio.throttle.write_bps_device', v2: 'wbps' },
  throttleReadIOPSDevice: { v1: 'blkio.throttle.read_iops_device', v2: 'riops' },
  throttleWriteIOPSDevice: { v1: 'blkio.throttle.write_iops_device', v2: 'wiops' },
} as const;

export const throttleLists = (r: LinuxResources) =>
  (Object.keys(THROTTLES) as (keyof typeof THROTTLES)[]).flatMap((key) =>
    (r.blockIO?.[key] ?? []).map((d) => ({ key, major: d.major, minor: d.minor, rate: d.rate ?? 0 })),
  );

/** memory.swappiness is a uint64; -1 cast to it (what some engines send) means "leave it". */
const SWAPPINESS_UNSET = 2 ** 64;
export const swappinessOf = (r: LinuxResources): number | undefined => {
  const s = r.memory?.swappiness;
  return s === undefined || s === SWAPPINESS_UNSET ? undefined : s;
};

const inRange = (n: number | undefined, min: number, max: number) => !n || (n >= min && n <= max);

/** Problems of a resources document, each at at + its JSON pointer. */
export function resourceProblems(r: LinuxResources, at: string): Problem[] {
  const problems: Problem[] = [];
  const add = (pointer: string, message: string) => problems.push({ pointer: `${at}${pointer}`, message });
  const { limit, swap } = r.memory ?? {};
  if (limit && limit > 0 && swap && swap > 0 && swap < limit) add('/memory/swap', 'memory+swap must not be below memory.limit');
  if ((swappinessOf(r) ?? 0) > 100) add('/memory/swappiness', 'must be between 0 and 100');
  if (!inRange(r.blockIO?.weight, 10, 1000)) add('/blockIO/weight', 'must be between 10 and 1000');
  if (!inRange(r.blockIO?.leafWeight, 10, 1000)) add('/blockIO/leafWeight', 'must be between 10 and 1000');
  r.blockIO?.weightDevice?.forEach((d, i) => {
    if (!inRange(d.weight, 10, 1000)) add(`/blockIO/weightDevice/${i}/weight`, 'must be between 10 and 1000');
  });
  r.devices?.forEach((d, i) => {
    if (d.type !== undefined && !['a', 'b', 'c'].includes(d.type)) add(`/devices/${i}/type`, 'must be one of "a", "b", "c"');
    if (d.access !== undefined && !/^[rwm]*$/.test(d.access))
      add(`/devices/${i}/access`, 'must be made of the letters r, w and m');
  });
  r.hugepageLimits?.forEach((h, i) => {
    if (!/^\d+[KMGTP]B$/.test(h.pageSize)) add(`/hugepageLimits/${i}/pageSize`, 'must be a page size such as "2MB" or "1GB"');
  });
  for (const key of Object.keys(r.unified ?? {})) {
    if (key.includes('/') || key.startsWith('.') || !key.includes('.'))
      add(`/unified/${key.replace(/~/g, '~0').replace(/\//g, '~1')}`, 'must name a cgroup v2 file, such as "memory.high"');
  }
  return problems;
}

/**
 * `update`: the new values over the applied ones, group by group, as runc
 * does (some values only make sense with others, e.g. swap with the
 * memory limit). Devices are never updated.
 */
export function mergeResources(applied: LinuxResources, update: LinuxResources): LinuxResources {
  const merged: LinuxResources = { ...applied };
  for (const key of ['memory', 'cpu', 'pids', 'blockIO'] as const) {
    if (update[key]) Object.assign(merged, { [key]: { ...applied[key], ...update[key] } });
  }
  for (const key of ['hugepageLimits', 'network', 'rdma', 'unified'] as const) {
    if (update[key]) Object.assign(merged, { [key]: update[key] });
  }
  return merged;
}

const SIZE_UNITS = ['KB', 'MB', 'GB', 'TB', 'PB'];

/** The host's huge page sizes as the hugetlb controller names them ("2MB", "1GB"). */
export function hugePageSizes(): string[] {
  let dirs: string[];
  try {
    dirs = readdirSync('/sys/kernel/mm/hugepages');
  } catch {
    return [];
  }
  return dirs.flatMap((d) => {
    const kb = /^hugepages-(\d+)kB$/.exec(d);
    if (!kb) return [];
    let size = Number(kb[1]);
    let unit = 0;
    while (size % 1024 === 0 && unit < SIZE_UNITS.length - 1) {
      size /= 1024;
      unit++;
    }
    return [`${size}${SIZE_UNITS[unit]}`];
  });
}
