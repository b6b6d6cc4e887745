/**
 * The container's user namespace (runc's nsexec stages and their sync with
 * the parent). Node can neither make nor join one (it is multithreaded),
 * so the native helper does, before node starts (exec-helper.ts): it makes
 * the user namespace (or joins the one at a path) and says "maps" on its
 * sync socket; runts writes /proc/HELPER/{uid,gid}_map and answers; the
 * helper becomes root of the namespace, makes the other namespaces inside
 * it (a pid namespace owned by it, without which proc cannot be mounted
 * inside) and forks PID 1 of the new pid namespace as runts' own child
 * (CLONE_PARENT), telling runts its pid. That child execs node.
 * As runc does as root, gid_map is written directly: "deny" in
 * /proc/PID/setgroups is what an unprivileged writer needs (rootless).
 */
import { closeSync, openSync, readFileSync, readSync, writeSync } from 'node:fs';
import { RuntsError } from '../errors';

/** One line of /proc/PID/uid_map or gid_map (config-linux.md "User namespace mappings"). */
export interface IdMapping {
  containerID: number;
  hostID: number;
  size: number;
}

export interface IdMappings {
  uidMappings: readonly IdMapping[];
  gidMappings: readonly IdMapping[];
}

/**
 * runts' side of the helper's sync (HelperSteps.syncFd), until the helper
 * and what it forked have let go of it (both mark it close-on-exec): the
 * maps written when it asks; the pid of the child it forked, if it did.
 */
export function answerHelper(socket: number, helperPid: number, mappings: IdMappings): number | undefined {
  let forked: number | undefined;
  for (const line of readLines(socket)) {
    if (line === 'maps') {
      writeMap(`/proc/${helperPid}/uid_map`, mappings.uidMappings, 'linux.uidMappings');
      writeMap(`/proc/${helperPid}/gid_map`, mappings.gidMappings, 'linux.gidMappings');
      writeSync(socket, '1');
    } else if (line.startsWith('pid ')) {
      forked = Number(line.slice(4));
    } else if (line) {
      throw new RuntsError(`starting the container init: ${line.replace(/^runts-helper: /, '')}`);
    }
  }
  return forked;
}

/**
 * Mappings given with a user namespace to join must be the namespace's
 * own (runc's rule): they cannot be applied, and are not ignored either.
 * pid: a process in it.
 */
export function checkJoinedMappings(pid: number, mappings: IdMappings): void {
  const lines = (list: readonly IdMapping[]) => list.map((m) => `${m.containerID} ${m.hostID} ${m.size}`).join('\n');
  const own = (file: string) =>
    readFileSync(`/proc/${pid}/${file}`, 'utf8')
      .trim()
      .split('\n')
      .map((l) => l.trim().split(/\s+/).join(' '))
      .join('\n');
  for (const [field, file, given] of [
    ['linux.uidMappings', 'uid_map', mappings.uidMappings],
    ['linux.gidMappings', 'gid_map', mappings.gidMappings],
  ] as const) {
    if (given.length && lines(given) !== own(file)) {
      throw new RuntsError(`${field}: not those of the user namespace joined (${own(file).replaceAll('\n', ', ')})`);
    }
  }
}

/** Lines from a blocking socket, one at a time, up to its end. */
function* readLines(fd: number): Generator<string> {
  const chunk = Buffer.alloc(512);
  let text = '';
  for (let n; (n = readSync(fd, chunk, 0, chunk.length, null)) > 0;) {
    text += chunk.toString('utf8', 0, n);
    let newline;
    while ((newline = text.indexOf('\n')) >= 0) {
      yield text.slice(0, newline);
      text = text.slice(newline + 1);
    }
  }
  if (text) yield text;
}

/** The whole map in one write, as the kernel demands. */
function writeMap(path: string, mappings: readonly IdMapping[], field: string): void {
  const text = mappings.map((m) => `${m.containerID} ${m.hostID} ${m.size}\n`).join('');
  let fd: number | undefined;
  try {
    fd = openSync(path, 'w');
    writeSync(fd, text);
  } catch (err) {
    throw new RuntsError(`${field}: the kernel refused the mapping (${(err as Error).message})`);
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
}

/** The kernel's limit of lines in a uid_map or gid_map (UID_GID_MAP_MAX_EXTENTS). */
const MAX_MAPPINGS = 340;
const ID_LIMIT = 2 ** 32;

/** What the kernel would refuse in one of linux.uidMappings / gidMappings, at its JSON pointer. */
export function idMappingProblems(mappings: readonly IdMapping[], pointer: string): { pointer: string; message: string }[] {
  const problems: { pointer: string; message: string }[] = [];
  if (mappings.length > MAX_MAPPINGS) problems.push({ pointer, message: `at most ${MAX_MAPPINGS} ranges (the kernel's limit)` });
  mappings.forEach((m, i) => {
    const at = `${pointer}/${i}`;
    if (m.size < 1) problems.push({ pointer: `${at}/size`, message: 'must be at least 1' });
    for (const side of ['containerID', 'hostID'] as const) {
      if (m[side] + m.size > ID_LIMIT)
        problems.push({ pointer: `${at}/${side}`, message: `${side} + size must not exceed 2^32` });
      const other = mappings.findIndex((o, j) => j < i && m[side] < o[side] + o.size && o[side] < m[side] + m.size);
      if (other >= 0) problems.push({ pointer: `${at}/${side}`, message: `overlaps the range of ${pointer}/${other}` });
    }
  });
  return problems;
}

/** Whether an id inside the namespace is mapped. */
export const isMapped = (mappings: readonly IdMapping[], id: number): boolean =>
  mappings.some((m) => id >= m.containerID && id < m.containerID + m.size);
