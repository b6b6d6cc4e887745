/**
 * Running the cases against one runtime: a temp directory for the run,
 * the rootfs, bounded parallelism, a time limit per case, environment
 * skips, and cleanup of every case however it ended (also on SIGINT).
 * main.ts prints; the integration test calls runSuite directly.
 */
import { randomBytes } from 'node:crypto';
import { chmodSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type Case, Failure, NotApplicable, Unobservable } from './case';
import { allCases } from './cases/index';
import { cgroupLayout } from './cgroups';
import { Environment } from './environment';
import { unmountUnder } from './host';
import { makeRootfs } from './rootfs';
import { type SuiteContext, Trial } from './trial';

export type Status = 'pass' | 'fail' | 'skip';

export interface Result {
  case: Case;
  status: Status;
  /** Why it failed, or the environment reason it was skipped. */
  reason?: string;
  ms: number;
}

export interface SuiteOptions {
  runtime: string;
  /** Cases whose id, file or section contains one of these words (all when empty). */
  filter?: string[];
  jobs?: number;
  /** Called as each case finishes, in case order (for streaming TAP). */
  onResult?: (result: Result, index: number) => void;
}

const CASE_TIME_LIMIT_MS = 120_000;

export function selectCases(filter: string[] = []): Case[] {
  const words = filter.map((w) => w.toLowerCase());
  return allCases.filter((c) => !words.length || words.some((w) => `${c.id} ${c.file} ${c.section}`.toLowerCase().includes(w)));
}

/** Trials under way, so that an interrupted run can still clean up. */
const active = new Set<Trial>();

export async function cleanupActive(): Promise<void> {
  await Promise.all([...active].map((t) => t.finish().catch(() => {})));
}

export async function runSuite(options: SuiteOptions): Promise<Result[]> {
  const cases = selectCases(options.filter);
  const dir = mkdtempSync(join(tmpdir(), 'runts-conformance-'));
  // Searchable by all: a container root mapped to another uid must reach its rootfs.
  chmodSync(dir, 0o755);
  const token = randomBytes(3).toString('hex');
  try {
    const suite: SuiteContext = { runtime: options.runtime, token, dir, rootfs: makeRootfs(dir) };
    const env = new Environment();
    const results: Result[] = new Array(cases.length);
    let printed = 0;
    const report = () => {
      for (let result = results[printed]; result; result = results[++printed]) options.onResult?.(result, printed);
    };
    // The workers share one iterator: each takes the next case not yet taken.
    const queue = cases.entries();
    const worker = async () => {
      for (const [index, c] of queue) {
        results[index] = await runCase(c, index, suite, env);
        report();
      }
    };
    await Promise.all(Array.from({ length: Math.max(1, options.jobs ?? 4) }, worker));
    return results;
  } finally {
    unmountUnder(dir);
    cgroupLayout().remove(`/runts-conformance-${token}`);
    rmSync(dir, { recursive: true, force: true });
  }
}

async function runCase(c: Case, index: number, suite: SuiteContext, env: Environment): Promise<Result> {
  const started = Date.now();
  const unmet = env.unmet(c.needs);
  if (unmet) return { case: c, status: 'skip', reason: unmet, ms: 0 };
  const trial = new Trial(suite, index);
  active.add(trial);
  let timer: NodeJS.Timeout | undefined;
  try {
    const timeLimit = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Failure(`did not finish within ${CASE_TIME_LIMIT_MS / 1000}s`)), CASE_TIME_LIMIT_MS);
    });
    await Promise.race([c.run(trial), timeLimit]);
    return { case: c, status: 'pass', ms: Date.now() - started };
  } catch (err) {
    if (err instanceof NotApplicable)
      return { case: c, status: 'skip', reason: `not applicable: ${err.message}`, ms: Date.now() - started };
    if (err instanceof Unobservable)
      return { case: c, status: 'skip', reason: `cannot be observed: ${err.message}`, ms: Date.now() - started };
    const reason = err instanceof Failure ? err.message : `error in the case: ${(err as Error).stack ?? err}`;
    return { case: c, status: 'fail', reason, ms: Date.now() - started };
  } finally {
    clearTimeout(timer);
    await trial.finish();
    active.delete(trial);
  }
}
