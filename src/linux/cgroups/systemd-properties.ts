/**
 * The properties of a container's systemd unit: what StartTransientUnit
 * creates it with, and what SetUnitProperties changes on `update`. They
 * are runc's (systemd driver): the resources systemd knows as unit
 * properties, so that systemd, when it applies a unit's settings again (a
 * daemon-reload, say), writes the container's values rather than its
 * defaults. Everything is also written to the cgroup's files afterwards,
 * by the cgroupfs drivers: what systemd has no property for goes there only.
 */
import type { LinuxResources } from '../../spec/types';
import { sharesToWeight, swapToV2 } from './convert';
import type { DeviceRuleSet } from './devices';
import type { SystemdUnit } from './systemd-unit';

/** A property as D-Bus carries it in an a(sv): its name, and the variant's signature and value. */
export type UnitProperty = [name: string, value: [signature: string, value: unknown]];

/** uint64 values go as decimal strings: the "infinity" of systemd (2^64-1) is no exact JS number. */
export const INFINITY = '18446744073709551615';
const DEFAULT_CPU_PERIOD = 100_000;

const uint64 = (name: string, value: number | string): UnitProperty => [name, ['t', String(value)]];
/** A limit where -1 means none. */
const limit = (name: string, value: number): UnitProperty => uint64(name, value === -1 ? INFINITY : value);

/** systemd versions that know a property (older ones get the value through the cgroup's files only). */
const SINCE = { CPUQuotaPeriodUSec: 242, AllowedCPUs: 244, idleWeight: 252 };

/**
 * A cpuset list ("0-3,8") as the bytes of AllowedCPUs and
 * AllowedMemoryNodes: a bitmask, lowest CPU in the lowest bit of the
 * first byte.
 */
export function rangeToBits(list: string): number[] {
  const bytes: number[] = [];
  for (const part of list.split(',').map((p) => p.trim())) {
    const m = /^(\d+)(?:-(\d+))?$/.exec(part);
    if (!m) throw new Error(`${JSON.stringify(list)} is not a cpuset list such as "0-3,8"`);
    const [first, last] = [Number(m[1]), Number(m[2] ?? m[1])];
    if (last < first) throw new Error(`${JSON.stringify(list)}: ${part} is an empty range`);
    for (let bit = first; bit <= last; bit++) {
      while (bytes.length <= bit >> 3) bytes.push(0);
      bytes[bit >> 3] = (bytes[bit >> 3] ?? 0) | (1 << (bit & 7));
    }
  }
  return bytes;
}

/**
 * CPUQuotaPerSecUSec: the quota per second of time. systemd keeps it as
 * a percentage, so a fraction of a percent is rounded up to the next 10 ms
 * (a quota below the container's own would throttle it).
 */
function cpuQuota(quota: number | undefined, period: number | undefined, sdVersion: number): UnitProperty[] {
  const properties: UnitProperty[] = [];
  if (period && sdVersion >= SINCE.CPUQuotaPeriodUSec) properties.push(uint64('CPUQuotaPeriodUSec', period));
  if (!quota && !period) return properties;
  if (!quota || quota < 0) return [...properties, uint64('CPUQuotaPerSecUSec', INFINITY)];
  const perSecond = Math.floor((quota * 1_000_000) / (period || DEFAULT_CPU_PERIOD));
  return [...properties, uint64('CPUQuotaPerSecUSec', Math.ceil(perSecond / 10_000) * 10_000)];
}

function cpuset(cpus: string | undefined, mems: string | undefined, sdVersion: number): UnitProperty[] {
  if (sdVersion < SINCE.AllowedCPUs) return [];
  return [
    ...(cpus ? [['AllowedCPUs', ['ay', rangeToBits(cpus)]] as UnitProperty] : []),
    ...(mems ? [['AllowedMemoryNodes', ['ay', rangeToBits(mems)]] as UnitProperty] : []),
  ];
}

const MEMORY_FILES: Record<string, string> = {
  'memory.high': 'MemoryHigh',
  'memory.low': 'MemoryLow',
  'memory.min': 'MemoryMin',
  'memory.max': 'MemoryMax',
  'memory.swap.max': 'MemorySwapMax',
};

/**
 * linux.resources.unified files that have a property. A value that does
 * not parse gets none: writing the file reports it.
 */
function unifiedProperties(unified: Record<string, string | undefined>, sdVersion: number): UnitProperty[] {
  const properties: UnitProperty[] = [];
  const count = (v: string) => (v === 'max' ? INFINITY : /^\d+$/.test(v) ? v : undefined);
  for (const [file, raw] of Object.entries(unified)) {
    const value = raw?.trim();
    if (value === undefined) continue;
    if (file in MEMORY_FILES || file === 'pids.max') {
      const n = count(value);
      if (n !== undefined) properties.push(uint64(MEMORY_FILES[file] ?? 'TasksMax', n));
    } else if (file === 'cpu.weight' && /^\d+$/.test(value) && unified['cpu.idle']?.trim() !== '1') {
      properties.push(uint64('CPUWeight', value));
    } else if (file === 'cpu.idle' && value === '1' && sdVersion >= SINCE.idleWeight) {
      properties.push(uint64('CPUWeight', 0));
    } else if (file === 'cpu.max') {
      const [quota = '', period] = value.split(/\s+/);
      if (!/^(max|\d+)$/.test(quota) || (period !== undefined && !/^\d+$/.test(period))) continue;
      properties.push(...cpuQuota(quota === 'max' ? 0 : Number(quota), Number(period ?? DEFAULT_CPU_PERIOD), sdVersion));
    } else if (file === 'cpuset.cpus' || file === 'cpuset.mems') {
      try {
        properties.push(
          ...cpuset(file === 'cpuset.cpus' ? value : undefined, file === 'cpuset.mems' ? value : undefined, sdVersion),
        );
      } catch {
        // Left to the file's write to report.
      }
    }
  }
  return properties;
}

/** The resources as properties of a unit on a cgroup v2 host (runc's genV2ResourcesProperties). */
function v2Resources(r: LinuxResources, sdVersion: number): UnitProperty[] {
  const properties: UnitProperty[] = [];
  const m = r.memory;
  if (m?.limit) properties.push(limit('MemoryMax', m.limit));
  if (m?.reservation) properties.push(limit('MemoryLow', m.reservation));
  const swap = swapToV2(m?.swap || undefined, m?.limit || undefined);
  if (swap !== undefined) properties.push(uint64('MemorySwapMax', swap === 'max' ? INFINITY : swap));
  const idle = r.cpu?.idle === 1 && sdVersion >= SINCE.idleWeight;
  if (idle) properties.push(uint64('CPUWeight', 0));
  else if (r.cpu?.shares) properties.push(uint64('CPUWeight', sharesToWeight(r.cpu.shares)));
  properties.push(...cpuQuota(r.cpu?.quota, r.cpu?.period, sdVersion));
  if (r.pids?.limit) properties.push(limit('TasksMax', r.pids.limit < 0 ? -1 : r.pids.limit));
  properties.push(...cpuset(r.cpu?.cpus, r.cpu?.mems, sdVersion));
  properties.push(...unifiedProperties(r.unified ?? {}, sdVersion));
  return properties;
}

/** The same on a cgroup v1 host (runc's genV1ResourcesProperties). */
function v1Resources(r: LinuxResources, sdVersion: number): UnitProperty[] {
  const properties: UnitProperty[] = [];
  if (r.memory?.limit) properties.push(limit('MemoryLimit', r.memory.limit));
  if (r.cpu?.shares) properties.push(uint64('CPUShares', r.cpu.shares));
  properties.push(...cpuQuota(r.cpu?.quota, r.cpu?.period, sdVersion));
  if (r.blockIO?.weight) properties.push(uint64('BlockIOWeight', r.blockIO.weight));
  if (r.pids?.limit) properties.push(limit('TasksMax', r.pids.limit < 0 ? -1 : r.pids.limit));
  properties.push(...cpuset(r.cpu?.cpus, r.cpu?.mems, sdVersion));
  return properties;
}

/** The resources (device rules aside) as unit properties, for the host's cgroup version. */
export const resourceProperties = (r: LinuxResources, cgroupVersion: 1 | 2, sdVersion: number): UnitProperty[] =>
  cgroupVersion === 2 ? v2Resources(r, sdVersion) : v1Resources(r, sdVersion);

/**
 * The device rules as DevicePolicy=strict and a DeviceAllow list, so that
 * systemd never opens what the container may not use when it applies the
 * unit's settings again (on v1, a unit without a policy gets "a" written
 * to devices.allow). The cgroupfs drivers enforce the rules themselves
 * (v1: devices.allow/deny; v2: runts' eBPF program, beside the one
 * systemd attaches: a device must pass both).
 *   - a default of "allow" (a privileged container's "a *:* rwm") has no
 *     strict form: no property, systemd's own default allows all too;
 *   - a wildcard minor is "char-MAJOR"/"block-MAJOR" (systemd ≥ 240), a
 *     wildcard major and minor "char-*"/"block-*";
 *   - a wildcard major with a fixed minor has no systemd form: left to the
 *     cgroupfs rules only.
 */
export function deviceProperties(devices: DeviceRuleSet): UnitProperty[] {
  if (devices.defaultAllow) return [];
  const allowed: [string, string][] = [];
  for (const e of devices.exceptions) {
    const group = e.type === 'c' ? 'char' : 'block';
    if (e.major < 0) {
      if (e.minor < 0) allowed.push([`${group}-*`, e.access]);
    } else if (e.minor < 0) allowed.push([`${group}-${e.major}`, e.access]);
    else allowed.push([`/dev/${group}/${e.major}:${e.minor}`, e.access]);
  }
  return [
    ['DevicePolicy', ['s', 'strict']],
    ['DeviceAllow', ['a(ss)', allowed]],
  ];
}

/** What the unit starts with: where it goes, that the container's init is in it, and its resources. */
export function unitProperties(
  unit: SystemdUnit,
  description: string,
  init: { pid: number; resources: LinuxResources; devices: DeviceRuleSet },
  cgroupVersion: 1 | 2,
  sdVersion: number,
): UnitProperty[] {
  const isSlice = unit.name.endsWith('.slice');
  const yes = (name: string): UnitProperty => [name, ['b', true]];
  return [
    ['Description', ['s', description]],
    // A slice goes under its parent by a Wants=; a scope in its Slice=,
    // delegated: runts (and the container) manage what is below it. A
    // slice holds no process of its own in systemd's view: the init is
    // moved into its cgroup by runts.
    ...(isSlice
      ? [['Wants', ['as', [unit.slice]]] as UnitProperty]
      : [['Slice', ['s', unit.slice]] as UnitProperty, yes('Delegate'), ['PIDs', ['au', [init.pid]]] as UnitProperty]),
    // Accounting on, as the cgroupfs drivers have it: systemd enables the controllers for the unit.
    yes('MemoryAccounting'),
    yes('CPUAccounting'),
    yes(cgroupVersion === 2 ? 'IOAccounting' : 'BlockIOAccounting'),
    yes('TasksAccounting'),
    // Not ordered after basic.target nor stopped by shutdown.target's conflicts: the container's life is its own.
    ['DefaultDependencies', ['b', false]],
    ...deviceProperties(init.devices),
    ...resourceProperties(init.resources, cgroupVersion, sdVersion),
  ];
}
