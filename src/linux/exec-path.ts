/**
 * Finding the program to exec as the container sees it (after pivot_root):
 * args[0] with a slash is taken as is (relative to cwd), else searched in
 * the PATH of process.env, as execvp would. Done before `created` is
 * reported, so a bad args[0] fails create, as with runc.
 */
import { accessSync, closeSync, constants, fstatSync, openSync, readSync, statSync } from 'node:fs';
import { RuntsError } from '../errors';
import { O_CLOEXEC, O_NOFOLLOW, O_NONBLOCK, O_RDONLY } from '../sys/constants';

const DEFAULT_PATH = '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';

function isExecutableFile(path: string): boolean {
  try {
    if (!statSync(path).isFile()) return false;
    accessSync(path, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

export function lookPath(file: string, env: readonly string[]): string {
  if (file.includes('/')) {
    if (isExecutableFile(file)) return file;
    throw new RuntsError(`exec: ${JSON.stringify(file)}: no such executable file`);
  }
  const pathEntry = env.findLast((e) => e.startsWith('PATH='));
  const dirs = (pathEntry ? pathEntry.slice(5) : DEFAULT_PATH).split(':');
  for (const dir of dirs) {
    const candidate = `${dir || '.'}/${file}`;
    if (isExecutableFile(candidate)) return candidate;
  }
  throw new RuntsError(`exec: ${JSON.stringify(file)}: executable file not found in $PATH`);
}

/** HOME, when the config sets none: the user's entry in the container's /etc/passwd (read only then), else "/". */
export function withHome(env: readonly string[], uid: number, passwd: () => string | undefined): string[] {
  if (env.some((e) => e.startsWith('HOME='))) return [...env];
  const entry = passwd()
    ?.split('\n')
    .map((l) => l.split(':'))
    .find((f) => f.length >= 6 && Number(f[2]) === uid);
  return [...env, `HOME=${entry?.[5] || '/'}`];
}

/**
 * At most this much of the container's /etc/passwd is read: real ones are
 * a few KiB, and 4 MiB is far beyond any sane one.
 */
const PASSWD_LIMIT = 4 * 1024 * 1024;

/**
 * The container's /etc/passwd, read by runts as root from inside the
 * container's mount namespace (init, exec): the container owns that file
 * and can make it endless or blocking. So it is opened without following a
 * symlink (to /dev/zero, say) and without blocking (a FIFO), must be a
 * regular file, and is read up to PASSWD_LIMIT; anything else is ignored
 * (HOME falls back to "/").
 */
export function readPasswd(path = '/etc/passwd'): string | undefined {
  let fd: number;
  try {
    fd = openSync(path, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
  } catch {
    return undefined;
  }
  try {
    const stat = fstatSync(fd);
    if (!stat.isFile() || stat.size > PASSWD_LIMIT) return undefined;
    // One byte more than fstat says: a file that grew meanwhile is ignored too.
    const buffer = Buffer.allocUnsafe(stat.size + 1);
    let length = 0;
    for (let n; length < buffer.length && (n = readSync(fd, buffer, length, buffer.length - length, null)) > 0;) length += n;
    return length > stat.size ? undefined : buffer.toString('utf8', 0, length);
  } catch {
    return undefined;
  } finally {
    closeSync(fd);
  }
}
