/**
 * npm run conformance -- [--runtime PATH] [--compare PATH2] [--filter WORD]… [--jobs N] [--list]
 *
 * Runs the runtime-spec conformance cases against any runtime with runc's
 * command line (default: this checkout's bin/runts), printing TAP and a
 * summary per spec section. With --compare, the same cases run against a
 * second runtime and the cases where the two differ are listed. Exits 1
 * when a MUST case fails against the (first) runtime.
 */
import { realpathSync } from 'node:fs';
import { basename } from 'node:path';
import { parseArgs } from 'node:util';
import { DEFAULT_RUNTIME } from './paths';
import { comparison, differences, requirementCount, summary, table, tapHeader, tapLine } from './report';
import { type Result, cleanupActive, runSuite, selectCases } from './suite';

const USAGE = 'usage: npm run conformance -- [--runtime PATH] [--compare PATH2] [--filter WORD]… [--jobs N] [--list]';

function options() {
  try {
    return parseArgs({
      options: {
        runtime: { type: 'string', default: DEFAULT_RUNTIME },
        compare: { type: 'string' },
        filter: { type: 'string', multiple: true, default: [] },
        jobs: { type: 'string', default: '4' },
        list: { type: 'boolean', default: false },
        help: { type: 'boolean', short: 'h', default: false },
      },
    }).values;
  } catch (err) {
    console.error(`conformance: ${(err as Error).message}\n${USAGE}`);
    process.exit(2);
  }
}

const values = options();
if (values.help) {
  console.log(
    `${USAGE}\n\n--filter WORD keeps the cases whose id, spec file or section contains WORD (repeatable); --list lists them without running.`,
  );
  process.exit(0);
}

const filter = values.filter;
const jobs = Number(values.jobs);

if (values.list) {
  const cases = selectCases(filter);
  console.log(
    table(
      ['case', 'level', 'spec file', 'section'],
      cases.map((c) => [c.id, c.level, c.file, c.section]),
    ),
  );
  console.log(`\n${cases.length} cases, ${requirementCount(cases)} distinct requirements`);
  process.exit(0);
}

for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => {
    console.error(`\n# ${signal}: cleaning up containers and mounts`);
    void cleanupActive().finally(() => process.exit(130));
  });
}

async function runAndPrint(runtime: string): Promise<Result[]> {
  console.log(`# conformance against ${runtime}`);
  console.log(tapHeader(selectCases(filter).length));
  const results = await runSuite({ runtime, filter, jobs, onResult: (r, i) => console.log(tapLine(r, i)) });
  console.log(`\n${summary(runtime, results)}\n`);
  return results;
}

const name = (path: string) => {
  try {
    return basename(realpathSync(path));
  } catch {
    return basename(path);
  }
};

const first = await runAndPrint(values.runtime);
if (values.compare) {
  const second = await runAndPrint(values.compare);
  const [a, b] = [name(values.runtime), name(values.compare)];
  console.log(comparison(a === b ? values.runtime : a, a === b ? values.compare : b, differences(first, second)));
}
process.exitCode = first.some((r) => r.status === 'fail' && r.case.level === 'MUST') ? 1 : 0;
