/**
 * The shapes most cases take, so that a case is a record of data:
 *   inside    a container runs a busybox script; the case reads its output
 *   refused   create must fail, and leave nothing behind
 *   scenario  anything else: lifecycle steps watched from the host
 * and `section`, which makes the requirement half of a record short.
 */
import { type Case, type Level, type Requirement, type SpecFile, check, fail } from './case';
import type { Config } from './config';
import type { Need } from './environment';
import { describeLeftover } from './leftovers';
import { type CliOptions, describe } from './runtime-cli';
import type { Trial } from './trial';

/** Requirements of one section: `const req = section('config.md', 'Root'); req('MUST', '…')`. */
export const section =
  (file: SpecFile, name: string) =>
  (level: Level, text: string): Requirement => ({ file, section: name, level, text });

type Edit = (c: Config, t: Trial) => void | Promise<void>;

export interface InsideSpec {
  id: string;
  needs?: Need[];
  script: string;
  /** Changes to the base config (which already runs the script). */
  config?: Edit;
  /** A private, writable rootfs instead of the shared read-only one. */
  ownRootfs?: boolean;
  /** How the runtime is invoked (cwd, environment, oom_score_adj). */
  cli?: CliOptions;
  /** Checks on what the script printed. */
  check: (stdout: string, t: Trial) => void | Promise<void>;
}

/** The container must run the script to exit 0; `check` reads its stdout. */
export function inside(req: Requirement, spec: InsideSpec): Case {
  return {
    ...req,
    id: spec.id,
    needs: spec.needs,
    run: async (t) => {
      const out = await runScript(t, spec.script, spec.config, spec.ownRootfs, spec.cli);
      await spec.check(out, t);
    },
  };
}

/** Runs `sh -c script` in the foreground; its stdout, or a failure naming the exit and output. */
export async function runScript(t: Trial, script: string, edit?: Edit, ownRootfs = false, cli: CliOptions = {}): Promise<string> {
  const c = t.config(script);
  await edit?.(c, t);
  const r = await t.rt.run(t.newId(), t.bundle(c, ownRootfs), cli);
  if (r.code !== 0) fail(`the container did not run to exit 0 (${describe(r)}); stdout: ${JSON.stringify(r.stdout.slice(-300))}`);
  return r.stdout;
}

export interface RefusedSpec {
  id: string;
  needs?: Need[];
  config: Edit;
  ownRootfs?: boolean;
  cli?: CliOptions;
}

/** create must fail, and no container, process or state may remain. */
export function refused(req: Requirement, spec: RefusedSpec): Case {
  return {
    ...req,
    id: spec.id,
    needs: spec.needs,
    run: async (t) => {
      const c = t.config('echo the-program-ran; exec sleep 60');
      await spec.config(c, t);
      await expectRefusal(t, t.bundle(c, spec.ownRootfs), spec.cli);
    },
  };
}

export async function expectRefusal(t: Trial, bundle: string, cli: CliOptions = {}): Promise<void> {
  const id = t.newId();
  const r = await t.rt.create(id, bundle, [], cli);
  check(r.code !== 0, 'create succeeded: the runtime must generate an error for this config');
  await expectNoContainer(t, id);
}

/**
 * After a failed operation: no state for the id, not listed, and nothing
 * of it left on the host (leftovers.ts: no process, init included, no
 * mount, cgroup or state directory).
 */
export async function expectNoContainer(t: Trial, id: string): Promise<void> {
  const state = await t.rt.exec(['state', id]);
  check(state.code !== 0, `a container ${id} exists after the error (state: ${state.stdout.trim().slice(0, 120)})`);
  check(!(await t.rt.list()).includes(id), `${id} is still listed after the error`);
  expectNothingLeft(t, id, 'after the error');
}

/** Nothing of container `id` is left on the host. */
export function expectNothingLeft(t: Trial, id: string, when: string): void {
  const left = t.leftovers(id).map(describeLeftover);
  check(left.length === 0, `left behind ${when}: ${left.join('; ')}`);
}

export interface ScenarioSpec {
  id: string;
  needs?: Need[];
  run: (t: Trial) => Promise<void>;
}

export const scenario = (req: Requirement, spec: ScenarioSpec): Case => ({ ...req, ...spec });
