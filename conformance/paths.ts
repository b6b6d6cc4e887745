/** Where the checkout is (the suite runs bundled, from .tmp/): scripts and the default runtime. */
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

function findTop(from: string): string {
  for (let dir = from; dir !== dirname(dir); dir = dirname(dir)) {
    if (existsSync(join(dir, 'package.json')) && existsSync(join(dir, 'scripts', 'make-rootfs.sh'))) return dir;
  }
  throw new Error(`no runts checkout above ${from}`);
}

export const TOP = findTop(dirname(fileURLToPath(import.meta.url)));
export const MAKE_ROOTFS = join(TOP, 'scripts', 'make-rootfs.sh');
export const DEFAULT_RUNTIME = join(TOP, 'bin', 'runts');
