/**
 * Lifecycle steps the scenario cases share: a host directory the
 * container writes to, waiting for a status, stopping a container.
 */
import { existsSync } from 'node:fs';
import { check, fail } from './case';
import type { Config } from './config';
import { readOr, sleep, waitFor } from './host';
import type { ContainerState } from './runtime-cli';
import type { Trial } from './trial';

/** A process that stays until killed (its pid is the state's pid once started). */
export const LONG_RUNNING = 'exec sleep 600';

/**
 * A host directory bind-mounted read-write at `at` in the container:
 * where the container leaves its marks for the host to read.
 */
export function sharedDir(t: Trial, c: Config, name = 'out', at = '/out'): string {
  const dir = t.hostDir(name);
  c.mounts!.push({ destination: at, type: 'bind', source: dir, options: ['rbind', 'rw'] });
  return dir;
}

export async function untilStatus(t: Trial, id: string, status: string, ms = 10_000): Promise<ContainerState> {
  let last: ContainerState | undefined;
  const end = Date.now() + ms;
  while (Date.now() < end) {
    last = await t.rt.state(id);
    if (last.status === status) return last;
    await sleep(50);
  }
  return fail(`status stayed ${JSON.stringify(last?.status)}, expected ${status}`);
}

/** Waits until a file exists and holds `text` (any content when omitted). */
export async function untilFile(path: string, text = '', ms = 10_000): Promise<string> {
  const ok = await waitFor(() => existsSync(path) && readOr(path).includes(text), ms);
  check(ok, `${path} never held ${JSON.stringify(text)} (has ${JSON.stringify(readOr(path, '(no file)').slice(0, 200))})`);
  return readOr(path);
}

/** create (no start) of a container, by default a long-running one; its id. */
export async function createdContainer(t: Trial, c: Config = t.config(LONG_RUNNING)): Promise<string> {
  const id = t.newId();
  await t.rt.created(id, t.bundle(c));
  return id;
}

/** create + start; the pid is the state's after create (the init that becomes the program). */
export async function startedContainer(
  t: Trial,
  c: Config,
  ownRootfs = false,
): Promise<{ id: string; bundle: string; pid: number }> {
  const id = t.newId();
  const bundle = t.bundle(c, ownRootfs);
  await t.rt.created(id, bundle);
  const pid = (await t.rt.state(id)).pid!;
  await t.rt.started(id);
  return { id, bundle, pid };
}

/** SIGKILL, then wait for "stopped". */
export async function killed(t: Trial, id: string): Promise<void> {
  const r = await t.rt.kill(id, 'KILL');
  check(r.code === 0, `kill KILL failed: ${r.stderr.trim()}`);
  await untilStatus(t, id, 'stopped');
}
