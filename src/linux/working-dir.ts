/**
 * process.cwd, entered safely (the CVE-2024-21626 class): a cwd such as
 * /proc/self/task/N/root or /proc/<pid>/cwd is a magic link, and chdir(2)
 * follows it wherever it points, the host's root included when a thread of
 * runts still has it. The path is resolved inside the container's root
 * first, symlinks read rather than followed (secure-join.ts), so a magic
 * link counts as the path it names, seen from inside; then, after chdir,
 * the kernel's own answer (getcwd(2), which says "(unreachable)" for a
 * directory outside the caller's root) must be that very path.
 */
import { RuntsError } from '../errors';
import type { Sys } from '../sys/types';
import { secureJoin } from './secure-join';

/** chdir to cwd, resolved in the calling thread's root; the init and exec call it once inside. */
export function enterWorkingDirectory(sys: Sys, cwd: string): void {
  const inside = secureJoin('/', cwd);
  sys.chdir(inside);
  const seen = sys.getcwd();
  if (seen !== inside) {
    throw new RuntsError(
      `process.cwd ${JSON.stringify(cwd)} leads outside the container (the kernel says ${JSON.stringify(seen)})`,
    );
  }
}
