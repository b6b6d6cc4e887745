import { closeSync, openSync } from 'node:fs';
import { RuntsError } from '../errors';
import { CLONE_FS } from '../sys/constants';
import type { Sys } from '../sys/types';

/** The namespace kinds of the spec: clone flag and /proc/PID/ns file name. */
export interface NamespaceKind {
  flag: number;
  procName: string;
}

const NAMESPACES: Readonly<Record<string, NamespaceKind>> = {
  mount: { flag: 0x00020000, procName: 'mnt' },
  uts: { flag: 0x04000000, procName: 'uts' },
  ipc: { flag: 0x08000000, procName: 'ipc' },
  user: { flag: 0x10000000, procName: 'user' },
  pid: { flag: 0x20000000, procName: 'pid' },
  network: { flag: 0x40000000, procName: 'net' },
  cgroup: { flag: 0x02000000, procName: 'cgroup' },
  time: { flag: 0x00000080, procName: 'time' },
};

/** The kind of a namespace type the spec names (validation has refused any other). */
export function namespaceKind(type: string): NamespaceKind {
  const kind = NAMESPACES[type];
  if (!kind) throw new RuntsError(`unknown namespace type ${JSON.stringify(type)}`);
  return kind;
}

/** Kinds runts can create or join. */
export const SUPPORTED_NAMESPACES = ['cgroup', 'ipc', 'mount', 'network', 'pid', 'user', 'uts', 'time'];

export interface NamespaceRequest {
  type: string;
  path?: string;
}

/**
 * Who sets up each of the config's namespaces for the init: one rule, for
 * the spawn (container/init-process.ts) and the init's plan (spec/plan.ts).
 *   - pid: create's main thread, for the spawn (a pid namespace applies to
 *     children only, and the init must be its PID 1); with a user
 *     namespace, a new one is the helper's, which forks its PID 1 (it must
 *     be owned by the user namespace: user-namespace.ts);
 *   - user: the helper's, made (create writes its id maps meanwhile) or
 *     joined before node starts;
 *   - the helper, before node starts: the mount namespace (so that no
 *     thread of the init keeps the host's root), a time namespace to join
 *     (setns needs a single thread), and with a user namespace every join
 *     by path, as runc does (a namespace the host owns is joined while
 *     still the host's root, before a new user namespace; after a joined
 *     one);
 *   - the init's main thread: the rest (uts, ipc, net, cgroup, time made
 *     anew; without a user namespace, their joins too). A new cgroup
 *     namespace waits for the init to be in the container's cgroup, a new
 *     time namespace for its offsets: both are the init's with a user
 *     namespace too, made inside it.
 */
export interface NamespaceSetup {
  pid?: NamespaceRequest;
  user?: NamespaceRequest;
  /** Joined by the helper, in this order (the user namespace is not among them). */
  helperJoins: NamespaceRequest[];
  /** Made by the helper: the mount namespace, and with a user namespace the pid namespace, when new. */
  helperNew: string[];
  /** Left to the init: joined, then made (enterNamespaces). */
  init: NamespaceRequest[];
}

export function namespaceSetup(requests: readonly NamespaceRequest[]): NamespaceSetup {
  const setup: NamespaceSetup = { helperJoins: [], helperNew: [], init: [] };
  const user = requests.find((r) => r.type === 'user');
  for (const r of requests) {
    if (r.type === 'pid' && user && !r.path) setup.helperNew.push(r.type);
    else if (r.type === 'pid') setup.pid = r;
    else if (r.type === 'user') setup.user = r;
    else if (r.path && (user || r.type === 'mount' || r.type === 'time')) setup.helperJoins.push(r);
    else if (r.type === 'mount') setup.helperNew.push(r.type);
    else setup.init.push(r);
  }
  return setup;
}

/**
 * Joins (path) or creates (no path) each namespace on the calling thread,
 * which in the init is the main thread: everything the init later spawns or
 * execs inherits it. Joins come first, as in runc, so that a new namespace
 * is created inside the joined ones (e.g. a new uts inside a joined net).
 * Joining a mount namespace needs this thread's fs info unshared first.
 */
export function enterNamespaces(sys: Sys, requests: readonly NamespaceRequest[]): void {
  const joins = requests.filter((r) => r.path);
  if (joins.some((r) => r.type === 'mount')) sys.unshare(CLONE_FS);
  for (const { type, path } of joins) {
    let fd: number;
    try {
      fd = openSync(path!, 'r');
    } catch (err) {
      throw new RuntsError(`joining ${type} namespace ${path}: ${(err as Error).message}`);
    }
    try {
      sys.setns(fd, namespaceKind(type).flag);
    } finally {
      closeSync(fd);
    }
  }
  const flags = requests.filter((r) => !r.path).reduce((acc, r) => acc | namespaceKind(r.type).flag, 0);
  if (flags) sys.unshare(flags);
}
