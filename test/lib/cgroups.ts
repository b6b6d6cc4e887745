/**
 * Cgroups as the host sees them, for tests that run the same on a cgroup
 * v1 host (this one) and a v2 one (the qemu VM, cgroup-v2-vm.test.ts).
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { closeSync, openSync, readFileSync, readdirSync, statfsSync } from 'node:fs';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { parseMountinfo } from '../../conformance/parse';
import { RUNTS, tempDir } from './cli';

export const isV2 = statfsSync('/sys/fs/cgroup').type === 0x63677270;

interface CgroupMount {
  mountPoint: string;
  options: string[];
}

function cgroupMounts(): CgroupMount[] {
  return parseMountinfo(readFileSync('/proc/self/mountinfo', 'utf8'))
    .filter((m) => m.fstype === 'cgroup' || m.fstype === 'cgroup2')
    .map((m) => ({ mountPoint: m.mountPoint, options: [...m.superOptions] }));
}

/** The host directory of cgroupsPath for a controller: its hierarchy's on v1, the one tree on v2. */
export function cgroupDir(cgroupsPath: string, controller: string): string {
  if (isV2) return join('/sys/fs/cgroup', cgroupsPath);
  const mount = cgroupMounts().find((m) => m.options.includes(controller));
  if (!mount) throw new Error(`no ${controller} hierarchy mounted`);
  return join(mount.mountPoint, cgroupsPath);
}

/** A control file of the container with runts' default cgroups path, /runts/<id>: v1's name or v2's. */
export function cgroupFile(id: string, controller: string, files: { v1: string; v2: string }): string {
  return readFileSync(join(cgroupDir(`/runts/${id}`, controller), isV2 ? files.v2 : files.v1), 'utf8').trim();
}

/** The directories in dir (none when it cannot be read: a cgroup removed meanwhile, say). */
export function childDirs(dir: string): string[] {
  try {
    return readdirSync(dir, { withFileTypes: true })
      .filter((e) => e.isDirectory())
      .map((e) => join(dir, e.name));
  } catch {
    return [];
  }
}

export interface Running {
  child: ChildProcess;
  exit: Promise<number | null>;
}

/** How long a runtime command left running may take to end once it should: a hang fails the test, loudly. */
const EXIT_TIMEOUT_MS = 60_000;

/** The child's exit code; past the time-out it is killed and the promise rejects, naming the command. */
function exitOf(child: ChildProcess, what: string): Promise<number | null> {
  const exit = new Promise<number | null>((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`${what} did not end within ${EXIT_TIMEOUT_MS / 1000} s: killed`));
    }, EXIT_TIMEOUT_MS);
    timer.unref();
    child.once('exit', (code) => {
      clearTimeout(timer);
      resolve(code);
    });
  });
  // A test that never awaits it (the command was meant to be killed) must not crash on the rejection.
  exit.catch(() => {});
  return exit;
}

/** A runtime command left running (run in the foreground): its output goes to files. */
export function startRuntime(args: string[], root: string): Running & { output: () => { stdout: string; stderr: string } } {
  const dir = tempDir('runts-out-');
  const out = openSync(join(dir, 'out'), 'w');
  const err = openSync(join(dir, 'err'), 'w');
  const child = spawn(RUNTS, ['--root', root, ...args], { stdio: ['ignore', out, err] });
  closeSync(out);
  closeSync(err);
  return {
    child,
    exit: exitOf(child, `runts ${args.join(' ')}`),
    output: () => ({ stdout: readFileSync(join(dir, 'out'), 'utf8'), stderr: readFileSync(join(dir, 'err'), 'utf8') }),
  };
}

/** `runts events` listening: its JSON lines as they come, and the first of them. */
export function listenEvents(
  root: string,
  id: string,
  interval = '100ms',
): Running & { events: Record<string, unknown>[]; first: Promise<void> } {
  const child = spawn(RUNTS, ['--root', root, 'events', `--interval=${interval}`, id], { stdio: ['ignore', 'pipe', 'inherit'] });
  const events: Record<string, unknown>[] = [];
  let seen: () => void;
  const first = new Promise<void>((resolve) => (seen = resolve));
  createInterface({ input: child.stdout }).on('line', (line) => {
    events.push(JSON.parse(line));
    seen();
  });
  return { child, events, first, exit: exitOf(child, `runts events ${id}`) };
}

/** Resolves once check() holds; rejects after timeoutMs with what. */
export async function eventually(what: string, check: () => boolean, timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}
