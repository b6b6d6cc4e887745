/**
 * Which systemd unit holds a container under --systemd-cgroup, and where
 * its cgroup is: runc's systemd driver's rules, so that a client's
 * "slice:prefix:name" cgroupsPath lands where it does with runc.
 *   - linux.cgroupsPath "slice:prefix:name": the scope <prefix>-<name>.scope
 *     in that slice (an empty slice is system.slice); a name ending in
 *     ".slice" is a slice unit of that name instead of a scope;
 *   - absent or empty: the scope runts-<id>.scope in system.slice.
 * The cgroup is the slice's path (nested slices expanded) and the unit.
 */
import { posix } from 'node:path';

export const DEFAULT_SLICE = 'system.slice';
export const DEFAULT_SCOPE_PREFIX = 'runts';

export interface SystemdUnit {
  /** The unit's name: "docker-<id>.scope", or a slice's own name. */
  name: string;
  /** The slice it goes in: "system.slice", "kubepods-burstable.slice". */
  slice: string;
  /** The unit's cgroup, from the hierarchy's root: "/system.slice/docker-<id>.scope". */
  path: string;
}

const SUFFIX = '.slice';

/**
 * A slice's cgroup path: systemd nests "a-b-c.slice" in "a-b.slice" in
 * "a.slice" (runc's ExpandSlice); "-.slice" is the root slice, "/".
 */
export function expandSlice(slice: string): string {
  const invalid = () => new Error(`invalid slice name ${JSON.stringify(slice)}`);
  if (!slice.endsWith(SUFFIX) || slice.includes('/')) throw invalid();
  const stem = slice.slice(0, -SUFFIX.length);
  if (stem === '-') return '/';
  let path = '';
  let prefix = '';
  for (const component of stem.split('-')) {
    // "a--b.slice", "-a.slice", "a-.slice" and ".slice" name no slice.
    if (!component) throw invalid();
    path += `/${prefix}${component}${SUFFIX}`;
    prefix += `${component}-`;
  }
  return path;
}

/** What is wrong with a cgroupsPath for the systemd driver, or undefined. */
export function systemdCgroupsPathProblem(cgroupsPath: string): string | undefined {
  try {
    systemdUnitOf(cgroupsPath, 'id');
    return undefined;
  } catch (err) {
    return (err as Error).message;
  }
}

/** The unit for the container id, from its linux.cgroupsPath (runc's rules; see above). */
export function systemdUnitOf(cgroupsPath: string | undefined, id: string): SystemdUnit {
  let slice = DEFAULT_SLICE;
  let prefix = DEFAULT_SCOPE_PREFIX;
  let name = id;
  if (cgroupsPath) {
    const parts = cgroupsPath.split(':');
    const [first, second, third] = parts;
    if (parts.length !== 3 || second === undefined || third === undefined)
      throw new Error(`with --systemd-cgroup it must have the form "slice:prefix:name", not ${JSON.stringify(cgroupsPath)}`);
    [slice, prefix, name] = [first || DEFAULT_SLICE, second, third];
    if (!name) throw new Error(`the name in ${JSON.stringify(cgroupsPath)} ("slice:prefix:name") must not be empty`);
    if (name.includes('/')) throw new Error(`the name in ${JSON.stringify(cgroupsPath)} must not contain "/"`);
  }
  const unit = name.endsWith(SUFFIX) ? name : `${prefix}-${name}.scope`;
  return { name: unit, slice, path: posix.join(expandSlice(slice), unit) };
}
