/**
 * The host's cgroup layout, read from /proc/self/mountinfo: which version
 * is in charge of the controllers, where a controller's file for a
 * cgroupsPath lives, and which cgroups a process is in. A hybrid host
 * (v1 controllers plus an empty v2 "unified" mount) counts as v1.
 */
import { existsSync, mkdirSync, readFileSync, readdirSync, rmdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { parseMountinfo } from './parse';

export interface CgroupLayout {
  version: 1 | 2;
  hasController(name: string): boolean;
  /** Host path of `file` of `controller` for a cgroup path ("" is the root). */
  file(controller: string, cgroupPath: string, file: string): string;
  /** The file that holds the block IO weight, if the IO scheduler has one. */
  blkioWeightFile(): string | undefined;
  /** Whether the memory controller accounts swap (memsw on v1, swap.max on v2). */
  swapAccounting(): boolean;
  /** Removes a cgroup the suite named (and its children), in every hierarchy; missing ones are fine. */
  remove(cgroupPath: string): void;
  /**
   * Removes cgroups named after these container ids, wherever a runtime put
   * them by default (a few levels down, e.g. /runts/ID or /default/ID): a
   * runtime that failed half-way may leave them.
   */
  removeNamed(names: ReadonlySet<string>): void;
}

const V2_ROOT = '/sys/fs/cgroup';

let cached: CgroupLayout | undefined;

export function cgroupLayout(): CgroupLayout {
  cached ??= readLayout();
  return cached;
}

function readLayout(): CgroupLayout {
  const v1 = new Map<string, string>();
  let v2Root: string | undefined;
  // A hybrid host's v2 mount (e.g. /sys/fs/cgroup/unified): runtimes make cgroups there too.
  let unified: string | undefined;
  for (const { fstype, mountPoint, superOptions } of parseMountinfo(readFileSync('/proc/self/mountinfo', 'utf8'))) {
    if (fstype === 'cgroup2') {
      if (mountPoint === V2_ROOT) v2Root = mountPoint;
      else unified = mountPoint;
    }
    if (fstype === 'cgroup') {
      for (const option of superOptions) v1.set(option, mountPoint);
    }
  }
  if (v2Root && v1.size === 0) return v2Layout(v2Root);
  return v1Layout(v1, unified);
}

/** Directories named in `names`, up to `depth` levels under dir. */
function findNamed(dir: string, names: ReadonlySet<string>, depth: number): string[] {
  if (depth === 0) return [];
  let entries;
  try {
    entries = readdirSync(dir, { withFileTypes: true });
  } catch {
    return [];
  }
  return entries
    .filter((e) => e.isDirectory())
    .flatMap((e) => (names.has(e.name) ? [join(dir, e.name)] : findNamed(join(dir, e.name), names, depth - 1)));
}

function removeTree(dir: string): void {
  if (!existsSync(dir) || !statSync(dir).isDirectory()) return;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    if (entry.isDirectory()) removeTree(join(dir, entry.name));
  }
  try {
    rmdirSync(dir);
  } catch {
    // Still populated (a process the runtime left behind): the leftover
    // process sweep runs first, so this only happens for unkillable ones.
  }
}

/** The weight files show only in non-root cgroups: look in a short-lived child of the root. */
function withProbeCgroup<T>(root: string, look: (dir: string) => T): T | undefined {
  const dir = join(root, `runts-conformance-probe-${process.pid}-${Math.random().toString(36).slice(2, 8)}`);
  try {
    mkdirSync(dir);
  } catch {
    return undefined;
  }
  try {
    return look(dir);
  } finally {
    rmdirSync(dir);
  }
}

function v1Layout(mounts: Map<string, string>, unified: string | undefined): CgroupLayout {
  const roots = new Set([...mounts.values(), ...(unified ? [unified] : [])]);
  const dirOf = (controller: string) => mounts.get(controller) ?? join(V2_ROOT, controller);
  return {
    version: 1,
    hasController: (name) => mounts.has(name),
    file: (controller, path, file) => join(dirOf(controller), path, file),
    blkioWeightFile: () =>
      withProbeCgroup(dirOf('blkio'), (dir) => ['blkio.bfq.weight', 'blkio.weight'].find((f) => existsSync(join(dir, f)))),
    swapAccounting: () => existsSync(join(dirOf('memory'), 'memory.memsw.limit_in_bytes')),
    remove: (path) => {
      for (const dir of roots) removeTree(join(dir, path));
    },
    removeNamed: (names) => {
      for (const dir of roots) findNamed(dir, names, 3).forEach(removeTree);
    },
  };
}

function v2Layout(root: string): CgroupLayout {
  const controllers = () => readFileSync(join(root, 'cgroup.controllers'), 'utf8').trim().split(/\s+/);
  // Interface files show only in non-root cgroups: look in our own.
  const own = join(root, readFileSync('/proc/self/cgroup', 'utf8').match(/^0::(.*)$/m)?.[1] ?? '');
  return {
    version: 2,
    hasController: (name) => controllers().includes(name),
    file: (_controller, path, file) => join(root, path, file),
    blkioWeightFile: () => ['io.bfq.weight', 'io.weight'].find((f) => existsSync(join(own, f))),
    swapAccounting: () => existsSync(join(own, 'memory.swap.max')),
    remove: (path) => removeTree(join(root, path)),
    removeNamed: (names) => findNamed(root, names, 3).forEach(removeTree),
  };
}

interface Hierarchy {
  mountPoint: string;
  /** v1: the controllers and name= of its superblock options; v2 (cgroup2): none. */
  controllers: string[];
}

let hierarchyCache: Hierarchy[] | undefined;

/** Every mounted cgroup hierarchy: each v1 one and the v2 one (a hybrid host's "unified" too). */
function hierarchies(): Hierarchy[] {
  hierarchyCache ??= parseMountinfo(readFileSync('/proc/self/mountinfo', 'utf8'))
    .filter((m) => m.fstype === 'cgroup' || m.fstype === 'cgroup2')
    .map((m) => ({ mountPoint: m.mountPoint, controllers: m.fstype === 'cgroup2' ? [] : [...m.superOptions] }));
  return hierarchyCache;
}

/** The mount point of every hierarchy, each once. */
export const hierarchyRoots = (): string[] => [...new Set(hierarchies().map((h) => h.mountPoint))];

/**
 * The host directory of one /proc/PID/cgroup line ("ID:controllers:path"),
 * as this process sees it, when that hierarchy is mounted.
 */
export function cgroupLineDir(line: string): string | undefined {
  const [, controllers, ...rest] = line.split(':');
  if (controllers === undefined) return undefined;
  const wanted = controllers.split(',').filter(Boolean);
  const hierarchy = hierarchies().find((h) =>
    wanted.length ? wanted.every((c) => h.controllers.includes(c)) : h.controllers.length === 0,
  );
  return hierarchy && join(hierarchy.mountPoint, rest.join(':'));
}

/** Directories named `name` anywhere under any hierarchy. */
export function cgroupDirsNamed(name: string): string[] {
  const found: string[] = [];
  const walk = (dir: string) => {
    let entries;
    try {
      entries = readdirSync(dir, { withFileTypes: true });
    } catch {
      return; // removed meanwhile
    }
    for (const e of entries) {
      if (!e.isDirectory()) continue;
      if (e.name === name) found.push(join(dir, e.name));
      walk(join(dir, e.name));
    }
  };
  for (const root of hierarchyRoots()) walk(root);
  return found;
}

/** A process's cgroup path for a controller (v1) or the unified one (v2), from /proc/PID/cgroup text. */
export function cgroupOf(procCgroup: string, controller: string): string | undefined {
  for (const line of procCgroup.trim().split('\n')) {
    const [, controllers = '', path] = line.split(':');
    if (cgroupLayout().version === 2 ? controllers === '' : controllers.split(',').includes(controller)) return path;
  }
  return undefined;
}
