// The layers of src/ (.dependency-cruiser.cjs): imports flow one way, top to
// bottom, and form no cycle, type-only imports included.
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { TOP } from '../lib/cli';

interface Violation {
  type: string;
  from: string;
  to: string;
  rule: { name: string };
  cycle?: { name: string }[];
}
interface CruiseResult {
  summary: { violations: Violation[]; totalCruised: number };
}

const test = suite('layers');

let cruised: CruiseResult | undefined;
/** One run of dependency-cruiser over src/ (a few seconds), shared by the tests. */
function cruise(): CruiseResult {
  if (cruised) return cruised;
  const depcruise = join(TOP, 'node_modules', 'dependency-cruiser', 'bin', 'dependency-cruise.mjs');
  const args = [depcruise, 'src', '--config', '.dependency-cruiser.cjs', '--output-type', 'json'];
  const r = spawnSync(process.execPath, args, { cwd: TOP, encoding: 'utf8', maxBuffer: 64 << 20 });
  // It exits with the number of violations: its JSON is what tells.
  assert.ok(r.stdout.startsWith('{'), `dependency-cruiser failed: ${r.stderr}`);
  cruised = JSON.parse(r.stdout) as CruiseResult;
  return cruised;
}

const violations = (isCycle: boolean) => cruise().summary.violations.filter((v) => (v.rule.name === 'no-cycle') === isCycle);

test('the whole of src/ is cruised', () => {
  assert.ok(cruise().summary.totalCruised > 50, `only ${cruise().summary.totalCruised} modules cruised`);
});

test('no import goes up a layer, and every module is in one', () => {
  const found = violations(false).map((v) => `${v.from} → ${v.to} (${v.rule.name})`);
  assert.equal(found, [], `imports against the layers:\n  ${found.join('\n  ')}\n`);
});

test('no import cycle', () => {
  const found = violations(true).map((v) => [v.from, ...(v.cycle ?? []).map((c) => c.name)].join(' → '));
  assert.equal(found, [], `import cycles:\n  ${found.join('\n  ')}\n`);
});

test.run();
