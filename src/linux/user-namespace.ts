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
import { readFileSync, readSync, writeSync } from 'node:fs';
import { RuntsError, errorMessage } from '../errors';
import { type IdMapping, writeMap } from './id-mappings';

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
      for (const [file, field] of [
        ['uid_map', 'uidMappings'],
        ['gid_map', 'gidMappings'],
      ] as const) {
        try {
          writeMap(helperPid, file, mappings[field]);
        } catch (err) {
          throw new RuntsError(`linux.${field}: ${errorMessage(err)}`);
        }
      }
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

/** Whether an id inside the namespace is mapped. */
export const isMapped = (mappings: readonly IdMapping[], id: number): boolean =>
  mappings.some((m) => id >= m.containerID && id < m.containerID + m.size);
