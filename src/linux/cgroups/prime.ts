/**
 * Moving a process into a cgroup (a write to cgroup.procs, v1 or v2) takes
 * one kernel-wide lock, cgroup_threadgroup_rwsem. Its first writer after a
 * quiet spell waits out an RCU grace period, 5-15 ms on this machine; a
 * move within a few milliseconds of another takes about 0.05 ms. create's
 * move of the init into the container's cgroup sits on its critical path,
 * so create calls this early: a move of this very process into the
 * cgroup it is already in (no change, but the lock is taken) on a libuv
 * pool thread. The grace period then passes while create loads and
 * validates the config. (The move waits holding cgroup_mutex, so the
 * mkdirs of createCgroup wait for whatever is left of it: the join itself
 * drops from 5-17 ms to 0.4 ms, `runts run` as a whole gains about 4 ms:
 * median 71.0 -> 67.2 ms over 60 runs each, interleaved, 0.2 s apart.)
 * Best effort: any failure only costs the wait.
 * The promise (for tests) says whether the move was made. Once per
 * process: create and run call it right after they spawn the init, before
 * create's modules load (init-start.ts beginCommand), or create does after
 * its own spawn. (The spawn goes
 * first: the init's start-up is the longer path; `runts run` is about 2%
 * faster so, in two sets of 100 interleaved runs.)
 */
import { closeSync, openSync, write } from 'node:fs';
import { join } from 'node:path';
import { CGROUP_ROOT, isUnifiedHost, parseProcCgroup, readProcSelf, v1CgroupDir, v1Hierarchies } from './paths';

let primed: Promise<boolean> | undefined;

export function primeCgroupMigration(): Promise<boolean> {
  return (primed ??= prime());
}

function prime(): Promise<boolean> {
  try {
    const procCgroup = readProcSelf('cgroup');
    let dir: string | undefined;
    if (isUnifiedHost()) {
      const own = parseProcCgroup(procCgroup).get('');
      if (own !== undefined) dir = join(CGROUP_ROOT, own);
    } else {
      const hierarchy = v1Hierarchies(readProcSelf('mountinfo'), procCgroup).find((h) => h.controllers !== '');
      if (hierarchy) dir = v1CgroupDir(hierarchy, '', parseProcCgroup(procCgroup));
    }
    if (!dir) return Promise.resolve(false);
    // Opened here, written there: one request for the pool, which needs
    // nothing more of the main thread (busy with create until the join).
    const fd = openSync(join(dir, 'cgroup.procs'), 'w');
    return new Promise((resolve) =>
      write(fd, String(process.pid), (err) => {
        closeSync(fd);
        resolve(!err);
      }),
    );
  } catch {
    // No cgroup to prime: createCgroup reports what is wrong, if anything.
    return Promise.resolve(false);
  }
}
