/**
 * What a conformance case is: one requirement of the runtime-spec (file,
 * section, level, the sentence it checks) and the code that checks it
 * against a runtime. A case fails by throwing; `check` and `fail` make
 * failures that read as sentences.
 */
import type { Need } from './environment';
import type { Trial } from './trial';

export type Level = 'MUST' | 'SHOULD' | 'MAY';

export type SpecFile = 'runtime.md' | 'runtime-linux.md' | 'config.md' | 'config-linux.md' | 'features.md' | 'features-linux.md';

export interface Requirement {
  file: SpecFile;
  /** The section heading in that file. */
  section: string;
  level: Level;
  /**
   * The requirement, quoted from the spec. Where a config field has no
   * keyword of its own, the level comes from runtime.md "Lifecycle" step 2
   * ("The container's runtime environment MUST be created according to the
   * configuration in config.json"), and the text says so (STEP2).
   */
  text: string;
}

export interface Case extends Requirement {
  /** Stable id: spec file stem, section, what is checked (used by --filter and expected-failure lists). */
  id: string;
  /** What the host must offer for the case to mean anything; otherwise it is skipped with the need's reason. */
  needs?: Need[];
  run(t: Trial): Promise<void>;
}

/** Quoted when a config field states what it does without a keyword of its own. */
export const STEP2 = '(level from runtime.md Lifecycle step 2: the environment MUST be created according to config.json)';

/** A check that did not hold: the message is the case's failure reason. */
export class Failure extends Error {}

/**
 * Thrown when the runtime declares nothing the case could check (a
 * features list it leaves out): the case is skipped with this reason
 * rather than passing without having checked anything.
 */
export class NotApplicable extends Error {}

/**
 * Thrown when the case saw all it can and the kernel shows no trace of
 * what it checks (a mount flag nothing reports): the case is skipped with
 * this reason, since passing would claim what was never seen.
 */
export class Unobservable extends Error {}

export function fail(message: string): never {
  throw new Failure(message);
}

export function check(condition: unknown, message: string): asserts condition {
  if (!condition) fail(message);
}

export function same<T>(actual: T, expected: T, what: string): void {
  const a = JSON.stringify(actual);
  const e = JSON.stringify(expected);
  if (a !== e) fail(`${what}: expected ${e}, got ${a}`);
}
