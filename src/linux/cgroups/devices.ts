/**
 * Device access rules (linux.resources.devices), reduced once to what
 * both drivers enforce: v1 writes the result to devices.allow/deny, v2
 * compiles it to an eBPF program (device-filter.ts). The reduction is the
 * v1 kernel's own semantics, as runc's devices emulator models them: rules
 * apply in order from "deny all"; a rule of type "a" resets to allow-all or
 * deny-all; other rules add or remove exceptions to that default.
 */
import { RuntsError } from '../../errors';
import type { LinuxResources } from '../../spec/types';
import { DEFAULT_DEVICES } from '../devices';

type DeviceCgroup = NonNullable<LinuxResources['devices']>[number];

export interface DeviceRule {
  allow: boolean;
  type: 'a' | 'b' | 'c';
  /** -1: any. */
  major: number;
  minor: number;
  /** Some of "rwm", in that order. */
  access: string;
  /** Where the rule comes from, for errors. */
  origin: string;
  /** One of runts' own defaults rather than the config's. */
  runtime: boolean;
}

export interface Exception {
  type: 'b' | 'c';
  major: number;
  minor: number;
  access: string;
}

interface TrackedException extends Exception {
  source: DeviceRule;
}

/** The reduced rules: a default, and the devices that are its exception. */
export interface DeviceRuleSet {
  defaultAllow: boolean;
  exceptions: Exception[];
}

const ACCESS = 'rwm';
const normalize = (access: string): string => [...ACCESS].filter((c) => access.includes(c)).join('');

const rule = (type: 'b' | 'c', major: number, minor: number, access: string, origin: string): DeviceRule => ({
  allow: true,
  type,
  major,
  minor,
  access,
  origin,
  runtime: true,
});

/**
 * What every container may use besides its config's rules (runc's
 * AllowedDevices): mknod of any node, the default devices runts creates,
 * /dev/pts/*, /dev/ptmx and tun.
 */
function runtimeDevices(configuredPaths: ReadonlySet<string>): DeviceRule[] {
  return [
    rule('c', -1, -1, 'm', 'runts default (mknod)'),
    rule('b', -1, -1, 'm', 'runts default (mknod)'),
    ...DEFAULT_DEVICES.filter((d) => !configuredPaths.has(d.path)).map((d) =>
      rule('c', d.major, d.minor, ACCESS, `runts default (${d.path})`),
    ),
    rule('c', 136, -1, ACCESS, 'runts default (/dev/pts/*)'),
    rule('c', 5, 2, ACCESS, 'runts default (/dev/ptmx)'),
    rule('c', 10, 200, ACCESS, 'runts default (/dev/net/tun)'),
  ];
}

/**
 * The config's rules with runts' defaults inserted right after the last
 * rule of type "a" (or first, when there is none): a "deny all" does not
 * wipe them, and the rules after it still apply over them. runc appends
 * them at the end, where they override the config; here a config can deny,
 * say, /dev/null after its "deny all".
 */
export function deviceRules(configured: readonly DeviceCgroup[], devicePaths: readonly string[]): DeviceRule[] {
  const rules: DeviceRule[] = configured.map((d, i) => ({
    allow: d.allow,
    type: (d.type ?? 'a') as DeviceRule['type'],
    major: d.major ?? -1,
    minor: d.minor ?? -1,
    access: normalize(d.access ?? ACCESS),
    origin: `linux.resources.devices[${i}]`,
    runtime: false,
  }));
  const lastReset = rules.findLastIndex((r) => r.type === 'a');
  rules.splice(lastReset + 1, 0, ...runtimeDevices(new Set(devicePaths)));
  return rules;
}

const sameDevice = (a: Exception, b: Exception): boolean => a.type === b.type && a.major === b.major && a.minor === b.minor;

export const ruleText = (r: { type: string; major: number; minor: number; access: string }): string =>
  `${r.type} ${r.major < 0 ? '*' : r.major}:${r.minor < 0 ? '*' : r.minor} ${r.access}`;

/** Applies the rules in order, as the v1 kernel would. */
export function reduceDeviceRules(rules: readonly DeviceRule[]): DeviceRuleSet {
  let defaultAllow = false;
  let exceptions: TrackedException[] = [];
  for (const r of rules) {
    if (r.type === 'a') {
      defaultAllow = r.allow;
      exceptions = [];
      continue;
    }
    const device: TrackedException = { type: r.type, major: r.major, minor: r.minor, access: r.access, source: r };
    const existing = exceptions.find((e) => sameDevice(e, device));
    if (r.allow !== defaultAllow) {
      // Widens the exception for exactly this device.
      if (existing) existing.access = normalize(existing.access + r.access);
      else exceptions.push(device);
      continue;
    }
    // Narrows it. The kernel matches exceptions exactly, so taking access
    // out of one device that a wildcard exception of the config covers
    // does nothing in v1: refuse it rather than let the config believe it
    // worked. (What runts' own defaults grant stays granted, as with runc.)
    for (const wide of exceptions) {
      const covers =
        wide.type === r.type && (wide.major === -1 || wide.major === r.major) && (wide.minor === -1 || wide.minor === r.minor);
      if (covers && !wide.source.runtime && !sameDevice(wide, device) && [...r.access].some((c) => wide.access.includes(c))) {
        throw new RuntsError(
          `${r.origin}: ${r.allow ? 'allowing' : 'denying'} ${ruleText(r)} inside the wider ${ruleText(wide)} of ${wide.source.origin} cannot be enforced by the devices cgroup`,
        );
      }
    }
    if (!existing) continue;
    existing.access = [...existing.access].filter((c) => !r.access.includes(c)).join('');
    if (!existing.access) exceptions = exceptions.filter((e) => e !== existing);
  }
  return { defaultAllow, exceptions: exceptions.map(({ type, major, minor, access }) => ({ type, major, minor, access })) };
}

/** v1: the default first (it clears the exceptions), then each exception. */
export function v1DeviceWrites(set: DeviceRuleSet): { file: 'devices.allow' | 'devices.deny'; value: string }[] {
  const [toDefault, toException] = set.defaultAllow
    ? (['devices.allow', 'devices.deny'] as const)
    : (['devices.deny', 'devices.allow'] as const);
  return [{ file: toDefault, value: 'a' }, ...set.exceptions.map((e) => ({ file: toException, value: ruleText(e) }))];
}
