/**
 * Whether a cgroup is frozen: what every command that reads a container's
 * status asks ("paused" is the freezer's word). Apart from the drivers
 * (v1.ts, v2.ts, which answer with these) so that state, kill and start
 * read it without loading them.
 */
import { Control } from './control';
import type { CgroupState } from './types';

/** A v1 cgroup's directory in the hierarchy of that controller, if it is in one. */
export function v1DirOf(paths: Readonly<Record<string, string>>, controller: string): string | undefined {
  const key = Object.keys(paths).find((k) => k.split(',').includes(controller));
  return key === undefined ? undefined : paths[key];
}

export function isFrozen(state: CgroupState): boolean {
  if (state.version === 2) {
    const c = new Control(state.path);
    return c.readIfPresent('cgroup.freeze') === '1' && c.readKeyed('cgroup.events').frozen === 1;
  }
  const dir = v1DirOf(state.paths, 'freezer');
  return dir !== undefined && new Control(dir).readIfPresent('freezer.state') === 'FROZEN';
}
