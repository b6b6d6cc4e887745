/** Running bin/runts as a user would, and temp dirs that clean up after themselves. */
import { spawnSync, type SpawnSyncOptions } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The checkout: the nearest directory above this (bundled) file with runts' package.json. */
function findTop(from: string): string {
  for (let dir = from; dir !== dirname(dir); dir = dirname(dir)) {
    if (existsSync(join(dir, 'package.json')) && existsSync(join(dir, 'bin', 'runts'))) return dir;
  }
  throw new Error(`no runts checkout above ${from}`);
}
export const TOP = findTop(dirname(fileURLToPath(import.meta.url)));
export const RUNTS = join(TOP, 'bin', 'runts');

export interface Result {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

export function runts(args: string[], opts: SpawnSyncOptions = {}): Result {
  const r = spawnSync(RUNTS, args, { encoding: 'utf8', timeout: 60_000, ...opts });
  if (r.error) throw r.error;
  return { code: r.status, signal: r.signal, stdout: String(r.stdout), stderr: String(r.stderr) };
}

const made: string[] = [];
export function tempDir(prefix = 'runts-test-'): string {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  made.push(dir);
  return dir;
}
process.on('exit', () => {
  for (const dir of made) rmSync(dir, { recursive: true, force: true });
});

export const isRoot = process.getuid?.() === 0;
