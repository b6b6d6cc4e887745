/**
 * Real containers for integration tests: a busybox-static rootfs made at
 * test time (scripts/make-rootfs.sh, once per test run), bundles around it,
 * and runts (or any runtime) driven through its CLI.
 */
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { closeSync, existsSync, openSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { type ContainerRef, ContainerWatch, describeLeftover, removeLeftovers } from '../../conformance/leftovers';
import { capabilityMask } from '../../conformance/parse';
import type { Spec } from '../../src/spec/types';
import { baseSpec } from './bundle';
import { RUNTS, TOP, tempDir } from './cli';

const SHARED_ROOTFS = join(TOP, '.tmp', 'rootfs-busybox');

/** The shared busybox rootfs (read-only in the default config). */
export function busyboxRootfs(): string {
  if (!existsSync(join(SHARED_ROOTFS, 'bin', 'busybox'))) {
    execFileSync('sh', [join(TOP, 'scripts', 'make-rootfs.sh'), SHARED_ROOTFS], { stdio: 'inherit' });
  }
  return SHARED_ROOTFS;
}

/** A private copy, for containers that write to their root. */
export function ownRootfs(): string {
  const dir = join(tempDir('runts-rootfs-'), 'rootfs');
  execFileSync('sh', [join(TOP, 'scripts', 'make-rootfs.sh'), dir]);
  return dir;
}

export interface BundleOptions {
  rootfs?: string;
}

/** A bundle with the default config (terminal off), changed by `edit`. */
export function bundle(edit: (spec: Spec) => void = () => {}, opts: BundleOptions = {}): string {
  const dir = tempDir('runts-bundle-');
  const spec = baseSpec();
  spec.root = { path: opts.rootfs ?? busyboxRootfs(), readonly: true };
  edit(spec);
  writeFileSync(join(dir, 'config.json'), JSON.stringify(spec, null, 2));
  return dir;
}

export const shArgs = (script: string) => (spec: Spec) => {
  spec.process!.args = ['sh', '-c', script];
};

export interface Outcome {
  code: number | null;
  stdout: string;
  stderr: string;
}

/**
 * Runs a runtime command whose stdio the container may inherit (create,
 * run -d): output goes to files, so that nothing waits for a pipe the
 * container keeps open.
 */
export function runtime(
  args: string[],
  opts: { runtime?: string; root: string; input?: string; env?: NodeJS.ProcessEnv },
): Outcome {
  const dir = tempDir('runts-out-');
  const out = openSync(join(dir, 'out'), 'w');
  const err = openSync(join(dir, 'err'), 'w');
  try {
    const r = spawnSync(opts.runtime ?? RUNTS, ['--root', opts.root, ...args], {
      stdio: [opts.input === undefined ? 'ignore' : 'pipe', out, err],
      input: opts.input,
      timeout: 60_000,
      ...(opts.env ? { env: opts.env } : {}),
    });
    if (r.error) throw r.error;
    return { code: r.status, stdout: readFileSync(join(dir, 'out'), 'utf8'), stderr: readFileSync(join(dir, 'err'), 'utf8') };
  } finally {
    closeSync(out);
    closeSync(err);
  }
}

/** `run` of a bundle in the foreground; deletes it after (runts' default). */
export function runBundle(bundleDir: string, opts: { runtime?: string; root?: string; id?: string } = {}): Outcome {
  return runtime(['run', '--bundle', bundleDir, opts.id ?? uniqueId()], {
    runtime: opts.runtime,
    root: opts.root ?? tempDir('runts-root-'),
  });
}

/**
 * A stand-in seccomp agent at socketPath: the one message it gets. node's
 * socket drops the SCM_RIGHTS fd (closing it): the kernel then answers the
 * notified syscall with ENOSYS, which the container sees.
 */
export function agentMessage(socketPath: string): Promise<string> {
  return new Promise((resolve) => {
    const server = createServer((conn) => {
      let data = '';
      conn.on('data', (d) => (data += d));
      conn.on('end', () => {
        server.close();
        resolve(data);
      });
    }).listen(socketPath);
  });
}

/** `run` of a bundle that leaves this process's event loop running (for an agent in it). */
export function runBundleAsync(
  bundleDir: string,
  root: string,
  id: string,
): Promise<{ code: number | null; out: string; err: string }> {
  return new Promise((resolve) => {
    const c = spawn(RUNTS, ['--root', root, 'run', '--bundle', bundleDir, id], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    c.stdout.on('data', (d) => (out += d));
    c.stderr.on('data', (d) => (err += d));
    c.on('close', (code) => resolve({ code, out, err }));
  });
}

/**
 * A runtime command raced against others: its exit code and stderr. The stderr goes to a file
 * read once the command has exited, since a pipe can neither be read to its end on 'exit'
 * (which can come first) nor waited for on 'close' (a container it creates holds it open).
 */
export function racer(args: string[], root: string): Promise<{ code: number | null; err: string }> {
  const errFile = join(tempDir(), 'stderr');
  const fd = openSync(errFile, 'w');
  const c = spawn(RUNTS, ['--root', root, ...args], { stdio: ['ignore', 'ignore', fd] });
  closeSync(fd);
  return new Promise((resolve) => c.on('exit', (code) => resolve({ code, err: readFileSync(errFile, 'utf8') })));
}

let counter = 0;
// Unique across concurrent test runs too: every isolated test file is pid 2 of its own pid
// namespace, while container ids name cgroups in the host's one cgroup tree.
export const RUN_TOKEN = `${Date.now().toString(36).slice(-4)}${Math.random().toString(36).slice(2, 6)}`;
export const uniqueId = (prefix = 't') => `${prefix}${RUN_TOKEN}-${++counter}`;

/** The state JSON of a container (throws with stderr when state fails). */
export function stateOf(root: string, id: string, rt?: string): { status: string; pid: number; [k: string]: unknown } {
  const r = runtime(['state', id], { root, runtime: rt });
  if (r.code !== 0) throw new Error(`state ${id}: ${r.stderr}`);
  return JSON.parse(r.stdout);
}

/** Is a process with this pid alive (and not a zombie)? */
export function alive(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'latin1');
    return !/^\d+ \(.*\) [ZX] /s.test(stat);
  } catch {
    return false;
  }
}

export { mountsUnder } from '../../conformance/host';

/**
 * A container watched for what it leaves on the host
 * (conformance/leftovers.ts): made before its create, shown the init's pid
 * (`watch.observe(stateOf(root, id).pid)`) while it runs. Runtime inits
 * that appear after it is made count as the container's: the tests of a
 * file run one at a time, in a pid namespace of their own.
 */
export function watchContainer(ref: ContainerRef): ContainerWatch {
  return new ContainerWatch(ref, { newInits: true });
}

export const sleepSync = (ms: number) => Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);

/**
 * What the watched container left on the host, one line each (none: []).
 * What was found is then removed, so that one leak fails one test and not
 * every later one, and the watch lets go of the container's namespaces.
 */
export function leftovers(watch: ContainerWatch): string[] {
  const found = watch.leftovers();
  if (found.length) {
    removeLeftovers(found);
    // Cgroups go once their processes are dead.
    for (let i = 0; i < 500 && watch.leftovers().some((l) => l.kind === 'process'); i++) sleepSync(10);
    removeLeftovers(watch.leftovers());
  }
  watch.release();
  return found.map(describeLeftover);
}

/** A process that holds new namespaces for tests to join (util-linux unshare). */
export async function namespaceHolder(flags: string[]): Promise<{ pid: number; stop: () => void }> {
  const child = spawn('unshare', [...flags, '--fork', '--kill-child', 'sleep', '1000'], { stdio: 'ignore' });
  await new Promise((r) => child.once('spawn', r));
  // With --fork, the namespaces are those of unshare's child: wait for it.
  let pid = child.pid!;
  for (let i = 0; i < 200; i++) {
    const kids = readFileSync(`/proc/${child.pid}/task/${child.pid}/children`, 'utf8').trim();
    if (kids) {
      pid = Number(kids.split(' ')[0]);
      break;
    }
    await new Promise((r) => setTimeout(r, 10));
  }
  return { pid, stop: () => child.kill('SIGKILL') };
}

export const hostNs = (kind: string): string => execFileSync('readlink', [`/proc/self/ns/${kind}`], { encoding: 'utf8' }).trim();

/** Capabilities as /proc/PID/status shows a set (CapEff, CapBnd, …): 16 hex digits. */
export const statusCapabilities = (names: readonly string[]): string => capabilityMask(names).toString(16).padStart(16, '0');
