/** Cgroup directories: making, removing, and the processes in them. */
import { mkdirSync, readFileSync, readdirSync, rmdirSync } from 'node:fs';
import { join } from 'node:path';
import { RuntsError, errorMessage } from '../../errors';
import { pollUntil } from '../../poll';
import { cgroupGone } from './control';

const code = (err: unknown): string | undefined => (err as NodeJS.ErrnoException).code;

/**
 * mkdir -p of dir below root, returning the directories it made (parents
 * first), so that a failed create removes exactly those. A parent removed
 * meanwhile by another container's cleanup (ENOENT) makes it start over.
 */
export function makeCgroupDirs(root: string, dir: string): string[] {
  const parts = dir.slice(root.length).split('/').filter(Boolean);
  const made: string[] = [];
  for (let attempt = 0; ; attempt++) {
    try {
      let at = root;
      for (const part of parts) {
        at = join(at, part);
        try {
          mkdirSync(at, { mode: 0o755 });
          made.push(at);
        } catch (err) {
          if (code(err) !== 'EEXIST') throw err;
        }
      }
      return made;
    } catch (err) {
      if (code(err) !== 'ENOENT' || attempt === 3) throw new RuntsError(`cgroup: cannot make ${dir}: ${errorMessage(err)}`);
    }
  }
}

/**
 * Removes dir and the cgroups the container made below it, deepest first.
 * rmdir fails with EBUSY while the kernel still counts exiting tasks:
 * retried for a while. A directory already gone is no error. The first
 * try comes before any listing: a container's cgroup mostly has no child,
 * and a v1 directory lists dozens of files (delete does ten of them).
 */
export function removeCgroupDir(dir: string): void {
  try {
    rmdirSync(dir);
    return;
  } catch (err) {
    if (cgroupGone(err)) return;
    if (code(err) !== 'EBUSY') throw new RuntsError(`cgroup: cannot remove ${dir}: ${errorMessage(err)}`);
  }
  let children: string[];
  try {
    children = readdirSync(dir, { withFileTypes: true })
      .filter((e) => e.isDirectory())
      .map((e) => join(dir, e.name));
  } catch (err) {
    if (cgroupGone(err)) return;
    throw err;
  }
  for (const child of children) removeCgroupDir(child);
  let last: unknown;
  const removed = pollUntil(() => {
    try {
      rmdirSync(dir);
      return true;
    } catch (err) {
      last = err;
      if (cgroupGone(err)) return true;
      if (code(err) !== 'EBUSY') throw new RuntsError(`cgroup: cannot remove ${dir}: ${errorMessage(err)}`);
      return false;
    }
  }, 5_000);
  if (!removed) throw new RuntsError(`cgroup: cannot remove ${dir}: ${errorMessage(last)}`);
}

/** Removes directories a failed create made, deepest first; one still in use by another container stays. */
export function removeMadeDirs(made: readonly string[]): void {
  for (const dir of [...made].reverse()) {
    try {
      rmdirSync(dir);
    } catch (err) {
      if (!['ENOENT', 'EBUSY', 'ENOTEMPTY'].includes(code(err) ?? '')) throw err;
    }
  }
}

/** The processes in dir and in the cgroups below it (a container may make its own). */
export function procsBelow(dir: string): number[] {
  let text: string;
  let entries: string[];
  try {
    text = readFileSync(join(dir, 'cgroup.procs'), 'utf8');
    entries = readdirSync(dir, { withFileTypes: true })
      .filter((e) => e.isDirectory())
      .map((e) => e.name);
  } catch (err) {
    if (cgroupGone(err)) return [];
    throw err;
  }
  const pids = text.split('\n').filter(Boolean).map(Number);
  return [...pids, ...entries.flatMap((name) => procsBelow(join(dir, name)))];
}
