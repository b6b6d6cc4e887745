/**
 * Root filesystems, made at run time from Debian's busybox-static by
 * scripts/make-rootfs.sh: one shared by every case that only reads it,
 * private copies for cases that write to theirs. Also a busybox at a host
 * path no container has, for hooks that must run in the runtime namespace.
 */
import { execFileSync } from 'node:child_process';
import { copyFileSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { MAKE_ROOTFS } from './paths';

const BUSYBOX = process.env.BUSYBOX ?? '/bin/busybox';

export interface Rootfs {
  /** The shared rootfs: cases must not write to it. */
  shared: string;
  /** A busybox binary outside every rootfs (run it as `sh` by argv[0]). */
  hostBusybox: string;
  /** A private, writable copy of the shared rootfs under dir. */
  copy(dir: string): string;
}

export function makeRootfs(suiteDir: string): Rootfs {
  const shared = join(suiteDir, 'rootfs');
  execFileSync('sh', [MAKE_ROOTFS, shared], { stdio: ['ignore', 'ignore', 'inherit'] });
  const hostBin = join(suiteDir, 'hostbin');
  mkdirSync(hostBin);
  const hostBusybox = join(hostBin, 'busybox');
  copyFileSync(BUSYBOX, hostBusybox);
  execFileSync('chmod', ['755', hostBusybox]);
  return {
    shared,
    hostBusybox,
    copy: (dir) => {
      const target = join(dir, 'rootfs');
      execFileSync('cp', ['-a', shared, target]);
      return target;
    },
  };
}
