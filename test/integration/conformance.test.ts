// The runtime-spec conformance suite (conformance/) against runts: every
// MUST case this host can exercise passes, except those listed in
// conformance/expected-failures-runts.txt, and every listed case still
// fails (one that passes or is skipped fails the test), so that the list
// shrinks as features land and any new failure is caught. With runc
// installed, the comparison is printed too (for
// conformance/KNOWN-DIFFERENCES.md; not asserted).
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { reportSkip } from '../lib/skips';
import { comparison, differences } from '../../conformance/report';
import { runSuite } from '../../conformance/suite';
import { RUNTS, TOP, isRoot } from '../lib/cli';

const test = suite('conformance');
const asRoot = isRoot ? test : test.skip;

/** case id -> why it fails today. */
function expectedFailures(): Map<string, string> {
  const text = readFileSync(join(TOP, 'conformance', 'expected-failures-runts.txt'), 'utf8');
  const entries = text
    .split('\n')
    .map((line) => line.trim())
    .filter((line) => line && !line.startsWith('#'))
    .map((line): [string, string] => {
      const [id = '', ...why] = line.split(/\s+/);
      return [id, why.join(' ')];
    });
  return new Map(entries);
}

asRoot('every MUST case passes against runts, but for the listed expected failures, which still fail', async () => {
  const expected = expectedFailures();
  const results = await runSuite({ runtime: RUNTS, jobs: 4 });
  const byId = new Map(results.map((r) => [r.case.id, r]));
  const counts = { pass: 0, fail: 0, skip: 0 };
  for (const r of results) counts[r.status] += 1;
  for (const r of results) if (r.status === 'skip') reportSkip(`conformance ${r.case.id}`, r.reason ?? 'no reason given');
  console.log(
    `  conformance: ${counts.pass} passed, ${counts.fail} failed, ${counts.skip} skipped (${expected.size} MUST failures expected)`,
  );
  const runc = spawnSync('sh', ['-c', 'command -v runc'], { encoding: 'utf8' }).stdout.trim();
  if (runc) console.log(comparison('runts', 'runc', differences(results, await runSuite({ runtime: runc, jobs: 4 }))));

  const unexpected = results
    .filter((r) => r.case.level === 'MUST' && r.status === 'fail' && !expected.has(r.case.id))
    .map((r) => `${r.case.id}: ${r.reason}`);
  assert.equal(unexpected, [], 'MUST cases that fail and are not in expected-failures-runts.txt');

  const misfiled = [...expected.keys()].filter((id) => byId.get(id)?.case.level !== 'MUST');
  assert.equal(misfiled, [], 'listed ids that are not MUST cases of the suite');

  const fixed = [...expected.keys()].filter((id) => byId.get(id)?.status === 'pass');
  assert.equal(fixed, [], 'listed cases that pass now: delete them from expected-failures-runts.txt');

  // A listed case that skips was not seen failing: the list would go stale unnoticed.
  const unseen = [...expected.keys()]
    .filter((id) => byId.get(id)?.status === 'skip')
    .map((id) => `${id}: ${byId.get(id)!.reason}`);
  assert.equal(unseen, [], 'listed cases that were skipped here, so not seen to fail');
});

test.run();
