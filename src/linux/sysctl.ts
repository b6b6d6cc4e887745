/**
 * linux.sysctl, checked as runc checks it (validateSysctl): /proc/sys is
 * only partly namespaced, so a key is written only where the container has
 * a namespace of its own that holds it:
 *   the IPC keys (kernel.msg*, sem, shm*) and fs.mqueue.*   an ipc namespace
 *   net.*                                                  a network namespace
 *   kernel.hostname, kernel.domainname                     a uts namespace
 * Everything else (kernel.core_pattern, vm.*, …) is the whole host's:
 * refused. A namespace joined by path must not be the runtime's own.
 *
 * Keys may use "/" as separator (sysctl.d(5)): "net/ipv4/conf/eth0.100/rp_filter"
 * is "net.ipv4.conf.eth0/100.rp_filter", the file
 * /proc/sys/net/ipv4/conf/eth0.100/rp_filter either way.
 */
import { statSync } from 'node:fs';
import { type Problem, escapePointer } from '../errors';
import { namespaceKind } from './namespaces';

const IPC_KEYS = new Set([
  'kernel.msgmax',
  'kernel.msgmnb',
  'kernel.msgmni',
  'kernel.sem',
  'kernel.shmall',
  'kernel.shmmax',
  'kernel.shmmni',
  'kernel.shm_rmid_forced',
]);
const UTS_KEYS = new Set(['kernel.hostname', 'kernel.domainname']);

export interface SysctlKey {
  /** sysctl(8)'s dotted form ("/" stands for a "." inside a name). */
  dotted: string;
  /** Its file under /proc/sys. */
  file: string;
}

/** The dotted form and the file of a key; undefined if it has empty, "." or ".." components. */
export function parseSysctlKey(key: string): SysctlKey | undefined {
  const firstSeparator = key.search(/[./]/);
  const dotted = firstSeparator >= 0 && key[firstSeparator] === '/' ? key.replace(/[./]/g, (c) => (c === '.' ? '/' : '.')) : key;
  const names = dotted.split('.').map((part) => part.replace(/\//g, '.'));
  if (names.some((name) => name === '' || name === '.' || name === '..')) return undefined;
  return { dotted, file: `/proc/sys/${names.join('/')}` };
}

/** The namespace kind (spec name) that holds a key, or undefined when none does. */
export function sysctlNamespace(dotted: string): 'ipc' | 'network' | 'uts' | undefined {
  if (IPC_KEYS.has(dotted) || dotted.startsWith('fs.mqueue.')) return 'ipc';
  if (dotted.startsWith('net.')) return 'network';
  if (UTS_KEYS.has(dotted)) return 'uts';
  return undefined;
}

const pointerOf = (key: string): string => `/linux/sysctl/${escapePointer(key)}`;

/**
 * What the config alone says against each key: malformed, host-wide, or
 * missing its namespace. `namespaces` are the kinds linux.namespaces has.
 */
export function sysctlProblems(
  sysctl: Record<string, unknown>,
  namespaces: ReadonlySet<string>,
  hostname: string | undefined,
): Problem[] {
  const problems: Problem[] = [];
  for (const key of Object.keys(sysctl)) {
    const add = (message: string) => problems.push({ pointer: pointerOf(key), message });
    const parsed = parseSysctlKey(key);
    if (!parsed) {
      add('is not a sysctl name (it has an empty, "." or ".." component)');
      continue;
    }
    const kind = sysctlNamespace(parsed.dotted);
    if (!kind) add('is not namespaced: it would change the whole host');
    else if (!namespaces.has(kind))
      add(`needs a namespace of type ${kind} (linux.namespaces has none): it would change the runtime's own`);
    else if (parsed.dotted === 'kernel.hostname' && hostname !== undefined) add('conflicts with /hostname');
  }
  return problems;
}

/**
 * Keys whose namespace is joined by a path that is the runtime's own
 * (same device and inode as /proc/self/ns/<kind>): written there, they
 * would change the caller's settings (runc's isHostNetNS). Checked at
 * create, where the paths are the caller's view.
 */
export function sysctlInOwnNamespaceProblems(
  sysctl: Record<string, unknown>,
  namespaces: readonly { type: string; path?: string }[],
): Problem[] {
  const problems: Problem[] = [];
  for (const key of Object.keys(sysctl)) {
    const kind = sysctlNamespace(parseSysctlKey(key)?.dotted ?? '');
    const index = namespaces.findIndex((ns) => ns.type === kind && ns.path);
    const path = namespaces[index]?.path;
    if (!kind || !path || !sameFile(path, `/proc/self/ns/${namespaceKind(kind).procName}`)) continue;
    problems.push({
      pointer: pointerOf(key),
      message: `/linux/namespaces/${index}/path is the runtime's own ${kind} namespace: the sysctl would change the runtime's`,
    });
  }
  return problems;
}

function sameFile(a: string, b: string): boolean {
  try {
    const [sa, sb] = [statSync(a), statSync(b)];
    return sa.dev === sb.dev && sa.ino === sb.ino;
  } catch {
    // A path that is not there: joining it fails later, with its own error.
    return false;
  }
}
