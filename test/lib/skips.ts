/**
 * What a test did not check, and why, for the runner (test/run.mjs), which
 * lists every skip with its reason and, in CI, fails on one that is not in
 * test/allowed-skips.txt. One line each on stdout: "SKIP: what — why".
 */
export function reportSkip(what: string, why: string): void {
  console.log(`SKIP: ${what} — ${why}`);
}

/** Registers a skipped test with its reason (the runner's tracing uvu takes a third argument). */
export function skipTest(test: { skip: (...args: never[]) => void }, title: string, why: string): void {
  (test.skip as unknown as (title: string, handler: () => void, why: string) => void)(title, () => {}, why);
}
