/**
 * Where a container's cgroup goes (runc's rules for cgroupfs):
 *   - linux.cgroupsPath absolute: from the root of each hierarchy;
 *   - relative: below this process's own cgroup (v1, per hierarchy) or its
 *     parent (v2: a cgroup holding processes cannot delegate controllers);
 *   - absent: runts' default, /runts/<id>.
 * And which hierarchies a cgroup v1 host has, from /proc/self/mountinfo
 * and /proc/self/cgroup.
 */
import { readFileSync, statfsSync } from 'node:fs';
import { dirname, join, posix, relative } from 'node:path';
import { RuntsError } from '../../errors';

export const CGROUP_ROOT = '/sys/fs/cgroup';
export const DEFAULT_PARENT = '/runts';
const CGROUP2_SUPER_MAGIC = 0x63677270;

/** As runc detects it: the host is v2 ("unified") when /sys/fs/cgroup itself is cgroup2. */
export const isUnifiedHost = (): boolean => statfsSync(CGROUP_ROOT).type === CGROUP2_SUPER_MAGIC;

export const cgroupsPathOf = (configured: string | undefined, id: string): string =>
  posix.normalize(configured || `${DEFAULT_PARENT}/${id}`);

export interface Hierarchy {
  /** Its controllers as /proc/PID/cgroup names them ("cpu,cpuacct", "name=systemd"; "" for cgroup2). */
  controllers: string;
  mountPoint: string;
  /** The cgroup the mount shows as its root (mountinfo's 4th field). */
  mountRoot: string;
}

/** "controllers:path" of each line of /proc/PID/cgroup ("4:memory:/a/b"). */
export function parseProcCgroup(text: string): Map<string, string> {
  const own = new Map<string, string>();
  for (const line of text.split('\n')) {
    const m = /^\d+:([^:]*):(.*)$/.exec(line);
    if (m) own.set(m[1]!, m[2]!);
  }
  return own;
}

/**
 * The cgroup v1 hierarchies mounted on this host, one mount each, plus the
 * unified hierarchy of a hybrid host (cgroup2 mounted below /sys/fs/cgroup).
 * Controllers are taken from /proc/self/cgroup, which names each hierarchy.
 */
export function v1Hierarchies(mountinfo: string, procCgroup: string): Hierarchy[] {
  const named = [...parseProcCgroup(procCgroup).keys()];
  const found: Hierarchy[] = [];
  for (const line of mountinfo.split('\n')) {
    const [pre = '', post] = line.split(' - ');
    if (!post) continue;
    const [, , , mountRoot, mountPoint] = pre.split(' ');
    if (mountRoot === undefined || mountPoint === undefined) continue;
    const [fstype, , superOptions = ''] = post.split(' ');
    const options = superOptions.split(',');
    let controllers: string | undefined;
    // Each hierarchy has its own set of controllers: the one whose names are all mount options.
    if (fstype === 'cgroup') controllers = named.find((n) => n !== '' && n.split(',').every((c) => options.includes(c)));
    else if (fstype === 'cgroup2' && mountPoint !== CGROUP_ROOT) controllers = '';
    if (controllers === undefined || found.some((h) => h.controllers === controllers)) continue;
    found.push({ controllers, mountPoint, mountRoot });
  }
  return found;
}

/** The directory of the container's cgroup in a v1 hierarchy. */
export function v1CgroupDir(h: Hierarchy, cgroupsPath: string, own: Map<string, string>): string {
  if (cgroupsPath.startsWith('/')) return join(h.mountPoint, cgroupsPath);
  const mine = own.get(h.controllers);
  if (mine === undefined)
    throw new RuntsError(`linux.cgroupsPath: this process is in no cgroup of the ${h.controllers || 'unified'} hierarchy`);
  const below = relative(h.mountRoot, mine);
  if (below.startsWith('..'))
    throw new RuntsError(`linux.cgroupsPath: this process's cgroup ${mine} is outside the ${h.mountPoint} mount`);
  return join(h.mountPoint, below, cgroupsPath);
}

/** The directory of the container's cgroup on a v2 host. */
export function v2CgroupDir(cgroupsPath: string, procCgroup: string): string {
  if (cgroupsPath.startsWith('/')) return join(CGROUP_ROOT, cgroupsPath);
  const mine = parseProcCgroup(procCgroup).get('');
  if (mine === undefined) throw new RuntsError('linux.cgroupsPath: this process is in no cgroup v2 cgroup');
  return join(CGROUP_ROOT, dirname(mine), cgroupsPath);
}

export const readProcSelf = (file: 'mountinfo' | 'cgroup'): string => readFileSync(`/proc/self/${file}`, 'utf8');
