/**
 * uvu as every test file gets it (test/run.mjs points their `import … from
 * 'uvu'` here): the same suite, telling the runner two things uvu keeps to
 * itself. Each test's name as it starts goes to $RUNTS_TEST_TRACE, so that a
 * file killed for hanging is reported with the test it hung in; each skip is
 * printed with its reason (skips.ts; uvu's own skip takes none).
 */
import { appendFileSync } from 'node:fs';
import * as uvu from 'uvu';
import { reportSkip } from './skips';

const traceFile = process.env.RUNTS_TEST_TRACE;

export function suite(name = '', state = {}): uvu.Test {
  const s = uvu.suite(name, state);
  if (traceFile) {
    s.before.each((ctx: { __suite__?: string; __test__?: string }) => {
      appendFileSync(traceFile, `${ctx.__suite__ ?? name} › ${ctx.__test__ ?? '?'}\n`);
    });
  }
  const skip = s.skip;
  s.skip = (title: string, handler: unknown, why?: string) => {
    reportSkip(
      `${name} › ${title}`,
      why ?? (process.getuid?.() !== 0 ? 'not root (assumed: no reason given)' : 'no reason given'),
    );
    (skip as (title: string, handler: unknown) => void)(title, handler);
  };
  return s;
}

export const test = suite();
export const exec = uvu.exec;
