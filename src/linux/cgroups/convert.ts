/**
 * The OCI resources are cgroup v1 values; cgroup v2 takes other units.
 * The conversions are runc's (opencontainers/cgroups), so that a config
 * gives the same v2 files under runts as under runc and crun.
 */
import { RuntsError } from '../../errors';

/**
 * cpu.shares [2, 262144] (default 1024) to cpu.weight [1, 10000] (default
 * 100): the quadratic in log2(shares) that maps minimum, default and
 * maximum onto each other (runc ≥ 1.3.2, crun ≥ 1.23; the older linear
 * formula sent the default 1024 to 39).
 */
export function sharesToWeight(shares: number): number {
  if (shares <= 2) return 1;
  if (shares >= 262144) return 10000;
  const l = Math.log2(shares);
  return Math.ceil(10 ** ((l * l + 125 * l) / 612 - 7 / 34));
}

/** blkio.weight [10, 1000] to io.weight [1, 10000], linearly (runc's ConvertBlkIOToIOWeightValue). */
export const blkioToIoWeight = (weight: number): number => 1 + Math.floor(((weight - 10) * 9999) / 990);

/**
 * memory.swap in the spec is memory+swap (v1's memsw); v2's memory.swap.max
 * is swap alone. Returns what memory.swap.max gets, or undefined to leave it.
 */
export function swapToV2(swap: number | undefined, limit: number | undefined): string | undefined {
  if (limit === -1 && !swap) return 'max';
  if (!swap) return undefined;
  if (swap === -1) return 'max';
  if (!limit || limit === -1) throw new RuntsError('memory.swap: a swap limit needs a memory limit');
  if (swap < limit) throw new RuntsError(`memory.swap: memory+swap (${swap}) must not be below memory.limit (${limit})`);
  return String(swap - limit);
}
