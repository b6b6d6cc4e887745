/**
 * Paths inside the container's rootfs, resolved as the container would see
 * them: symlinks are followed relative to the rootfs, and ".." stops at its
 * top, so a hostile rootfs (a link /etc -> /host/etc, or ../../..) cannot
 * make runts mount or create anything outside it. Like filepath-securejoin
 * (runc) and crun's chroot_realpath.
 */
import { lstatSync, readlinkSync } from 'node:fs';
import { RuntsError } from '../errors';

const MAX_LINKS = 255;

export function secureJoin(root: string, unsafePath: string): string {
  const rootClean = root.replace(/\/+$/, '') || '/';
  let pending = unsafePath.split('/').filter(Boolean);
  const resolved: string[] = [];
  let links = 0;
  while (pending.length) {
    const part = pending.shift()!;
    if (part === '.') continue;
    if (part === '..') {
      resolved.pop();
      continue;
    }
    const candidate = `${rootClean}/${[...resolved, part].join('/')}`;
    let isLink = false;
    try {
      isLink = lstatSync(candidate).isSymbolicLink();
    } catch {
      // Missing: the rest is taken literally (it will be created inside the root).
    }
    if (!isLink) {
      resolved.push(part);
      continue;
    }
    if (++links > MAX_LINKS) throw new RuntsError(`${unsafePath}: too many levels of symbolic links in the rootfs`);
    const target = readlinkSync(candidate);
    if (target.startsWith('/')) resolved.length = 0;
    pending = [...target.split('/').filter(Boolean), ...pending];
  }
  return resolved.length ? `${rootClean === '/' ? '' : rootClean}/${resolved.join('/')}` : rootClean;
}
