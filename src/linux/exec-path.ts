/**
 * Finding the program to exec as the container sees it (after pivot_root):
 * args[0] with a slash is taken as is (relative to cwd), else searched in
 * the PATH of process.env, as execvp would. Done before `created` is
 * reported, so a bad args[0] fails create, as with runc.
 */
import { accessSync, constants, statSync } from 'node:fs';
import { RuntsError } from '../errors';

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

/** HOME, when the config sets none: the user's entry in the container's /etc/passwd, else "/". */
export function withHome(env: readonly string[], uid: number, passwd: string | undefined): string[] {
  if (env.some((e) => e.startsWith('HOME='))) return [...env];
  const entry = passwd?.split('\n').map((l) => l.split(':')).find((f) => f.length >= 6 && Number(f[2]) === uid);
  return [...env, `HOME=${entry?.[5] || '/'}`];
}
