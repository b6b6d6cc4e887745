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

/** Kinds runts can create or join (user namespaces: see docs/architecture.md, "Verified platform facts"). */
export const SUPPORTED_NAMESPACES = ['cgroup', 'ipc', 'mount', 'network', 'pid', 'uts', 'time'];

export interface NamespaceRequest {
  type: string;
  path?: string;
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
