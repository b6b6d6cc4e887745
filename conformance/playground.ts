/**
 * A host directory to bind into containers, with submounts whose flags
 * differ, so that a case can tell recursive from non-recursive binds,
 * set from cleared attributes, and (made shared) slave from private:
 *
 *   src/file          "from-the-host"
 *   src/plain/        tmpfs, default flags          (plain/file)
 *   src/restricted/   tmpfs: ro,nosuid,nodev,noexec,noatime,nodiratime,nosymfollow
 *   src/strict/       tmpfs: strictatime
 *
 * Everything is under the case's directory; the case's cleanup unmounts it.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { hostMount } from './host';
import type { Trial } from './trial';

const SUBMOUNTS = ['plain', 'restricted', 'strict'] as const;

const FLAGS: Record<(typeof SUBMOUNTS)[number], string> = {
  plain: 'size=1m',
  restricted: 'size=1m,nosuid,nodev,noexec,noatime,nodiratime,nosymfollow',
  strict: 'size=1m,strictatime',
};

/** Makes the tree; with `shared`, src is a shared mount (its binds can be slaves of it). */
export function playground(t: Trial, shared = false): string {
  const src = t.hostDir('playground');
  writeFileSync(join(src, 'file'), 'from-the-host');
  if (shared) {
    hostMount(['--bind', src, src]);
    hostMount(['--make-rshared', src]);
  }
  for (const name of SUBMOUNTS) {
    const dir = t.hostDir(join('playground', name));
    hostMount(['-t', 'tmpfs', '-o', FLAGS[name], 'tmpfs', dir]);
    writeFileSync(join(dir, 'file'), `from-${name}`);
  }
  // Read-only last: its file had to be written first.
  hostMount(['-o', 'remount,ro', join(src, 'restricted')]);
  return src;
}
