/**
 * uid and gid mappings (config-linux.md "User namespace mappings", and
 * mounts[].uidMappings/gidMappings): the rules the kernel holds a map to,
 * checked before anything is made, and a user namespace that has a given
 * mapping, for mount_setattr(MOUNT_ATTR_IDMAP) to take it from.
 *
 * Node cannot unshare a user namespace (it is multithreaded), so the
 * namespace is the helper's (`runts-helper userns-hold`): it unshares one
 * and waits; runts writes its uid_map and gid_map as the host's root,
 * opens /proc/PID/ns/user, and lets it exit. The fd keeps the namespace.
 */
import { openSync, writeFileSync } from 'node:fs';
import type { Problem } from '../errors';
import { RuntsError, errorMessage } from '../errors';
import { helperOnDisk } from './exec-helper';

/** One line of a map: size ids from containerID inside are hostID… outside. */
export interface IdMapping {
  containerID: number;
  hostID: number;
  size: number;
}

/** The kernel's limit on the lines of a map (UID_GID_MAP_MAX_EXTENTS). */
const MAX_LINES = 340;
/** Ids are 32-bit; a range may end at 2^32 at most. */
const ID_LIMIT = 2 ** 32;

/**
 * What user_namespaces(7) refuses when the map is written: no line, more
 * than 340, an empty range, a range past the last id, or two ranges that
 * overlap inside or outside. pointer names the array.
 */
export function idMappingProblems(mappings: readonly IdMapping[], pointer: string): Problem[] {
  const problems: Problem[] = [];
  const add = (at: string, message: string) => problems.push({ pointer: at, message });
  if (mappings.length === 0) add(pointer, 'must have at least one mapping');
  if (mappings.length > MAX_LINES) add(pointer, `must have at most ${MAX_LINES} mappings (the kernel's limit)`);
  mappings.forEach((m, i) => {
    const at = `${pointer}/${i}`;
    if (m.size <= 0) add(`${at}/size`, 'must be greater than zero');
    for (const side of ['containerID', 'hostID'] as const) {
      if (m[side] + m.size > ID_LIMIT) add(at, `the ${side} range ends past the last id (${ID_LIMIT - 1})`);
      const other = mappings.findIndex((o, j) => j < i && o[side] < m[side] + m.size && m[side] < o[side] + o.size);
      if (other >= 0 && m.size > 0) add(at, `its ${side} range overlaps that of ${pointer}/${other}`);
    }
  });
  return problems;
}

/** A map file's text: one "inside outside size" line per mapping. */
const mapText = (mappings: readonly IdMapping[]): string =>
  mappings.map((m) => `${m.containerID} ${m.hostID} ${m.size}\n`).join('');

/**
 * An fd of a new user namespace with these maps (close-on-exec). The
 * process that made it is gone when this returns, whether it succeeded or
 * not: nothing is left to reap.
 */
export async function mappedUserNamespace(uidMappings: readonly IdMapping[], gidMappings: readonly IdMapping[]): Promise<number> {
  // Loaded only when a mapping asks for it: child_process would cost every container's create.
  const { spawn } = require('node:child_process') as typeof import('node:child_process');
  const holder = spawn(helperOnDisk(), ['userns-hold'], { argv0: 'runts-helper', stdio: ['pipe', 'pipe', 'pipe'], env: {} });
  let stderr = '';
  holder.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const ended = new Promise<string>((resolve) => {
    holder.once('error', (err) => resolve(err.message));
    holder.once('exit', (code, signal) => resolve(signal ? `killed by ${signal}` : `exit status ${code}`));
  });
  let ok = false;
  try {
    const ready = await Promise.race([
      new Promise<boolean>((resolve) => holder.stdout.once('data', () => resolve(true))),
      ended.then(() => false),
    ]);
    if (!ready) throw new RuntsError(`making a user namespace: ${stderr.trim() || (await ended)}`);
    writeMap(holder.pid!, 'uid_map', uidMappings);
    writeMap(holder.pid!, 'gid_map', gidMappings);
    const fd = openSync(`/proc/${holder.pid}/ns/user`, 'r');
    ok = true;
    return fd;
  } finally {
    // End of file on its stdin lets it exit; after a failure it is killed.
    if (!ok) holder.kill('SIGKILL');
    holder.stdin.end();
    await ended;
  }
}

/** A map of the user namespace of process pid, written as the host's root (the helper's too: user-namespace.ts). */
export function writeMap(pid: number, file: 'uid_map' | 'gid_map', mappings: readonly IdMapping[]): void {
  const text = mapText(mappings);
  try {
    // One write: the kernel takes a map whole or not at all.
    writeFileSync(`/proc/${pid}/${file}`, text);
  } catch (err) {
    throw new RuntsError(`writing ${file} "${text.trim().replace(/\n/g, ', ')}": ${errorMessage(err)}`);
  }
}
