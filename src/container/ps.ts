/**
 * runc's ps: the container's processes are those of its cgroup. As a
 * table, the host's ps(1) output (default `ps -ef`) keeps the header and
 * the lines of those pids.
 */
import { spawnSync } from 'node:child_process';
import { RuntsError } from '../errors';
import { isProcessId } from '../linux/process-signal';
import type { StateStore } from '../state/store';
import { Container } from './container';

/** The processes this process can name (a member outside its pid namespace is listed as 0 on v2). */
export const containerPids = (store: StateStore, id: string): number[] =>
  Container.load(store, id).cgroup().pids().filter(isProcessId);

export function psTable(pids: readonly number[], psArgs: readonly string[]): string {
  const args = psArgs.length ? [...psArgs] : ['-ef'];
  const r = spawnSync('ps', args, { encoding: 'utf8' });
  if (r.error) throw new RuntsError(`ps ${args.join(' ')}: ${r.error.message}`);
  if (r.status !== 0) throw new RuntsError(`ps ${args.join(' ')}: exit status ${r.status}: ${`${r.stderr}${r.stdout}`.trim()}`);
  const [header = '', ...lines] = r.stdout.split('\n');
  const column = header.trim().split(/\s+/).indexOf('PID');
  if (column < 0) throw new RuntsError(`ps ${args.join(' ')}: no PID column in its output`);
  const wanted = new Set(pids);
  const kept = lines.filter((line) => line.trim() && wanted.has(Number(line.trim().split(/\s+/)[column])));
  return [header, ...kept].join('\n') + '\n';
}
