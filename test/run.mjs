// The test command (npm test): bundles each test file with esbuild, runs it
// in its own node process (uvu), and sums up. Unit tests need no root;
// integration and e2e tests skip themselves when not root.
//   npm test                  everything
//   npm test -- unit sys      only files whose path contains "unit" or "sys"
//   npm test -- lint          only ESLint, which a run without filters
//                             starts with and counts as one test, "lint"
// The last line is the plain "N passed, N failed, N skipped".
// As root, each file runs in private mount, pid, uts and ipc namespaces of
// its own (scripts/isolate.mjs): a runtime bug cannot reach this machine's.
// A hang is a failure: each file has RUNTS_TEST_FILE_TIMEOUT seconds (default
// 900), then it is killed with all it started and the test it hung in is
// named. Every skip is listed with its reason; with RUNTS_TEST_STRICT_SKIPS=1
// (CI) a skip that test/allowed-skips.txt does not allow is a failure.
import { spawn } from 'node:child_process';
import { existsSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { bundleTool } from '../scripts/bundle-tool.mjs';
import { checkIsolation, isolatedCommand, isolatedEnv, shouldIsolate } from '../scripts/isolate.mjs';

const top = join(dirname(fileURLToPath(import.meta.url)), '..');
// Per run: two runs at once (a developer and an editor's watcher, say) must not share bundles.
const outDir = join(top, '.tmp', `test-${process.pid}`);
const filters = process.argv.slice(2);
const fileTimeout = Number(process.env.RUNTS_TEST_FILE_TIMEOUT ?? 900);
const strictSkips = process.env.RUNTS_TEST_STRICT_SKIPS === '1';
const TRACED_UVU = join(top, 'test', 'lib', 'traced-uvu.ts');

function findTests(dir) {
  const found = [];
  if (!existsSync(dir)) return found;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) found.push(...findTests(path));
    else if (entry.name.endsWith('.test.ts')) found.push(path);
  }
  return found;
}

const order = ['unit', 'integration', 'e2e'];
const files = order
  .flatMap((kind) => findTests(join(top, 'test', kind)).sort())
  .filter((f) => !filters.length || filters.some((w) => relative(top, f).includes(w)));

rmSync(outDir, { recursive: true, force: true });
await bundleTool({
  entryPoints: files,
  outdir: outDir,
  outbase: join(top, 'test'),
  outExtension: { '.js': '.mjs' },
  define: { RUNTS_VERSION: JSON.stringify('test') },
  // Test files get uvu through test/lib/traced-uvu.ts (their running test and skip reasons).
  plugins: [
    {
      name: 'traced-uvu',
      setup(b) {
        b.onResolve({ filter: /^uvu$/ }, (args) => (args.importer === TRACED_UVU ? undefined : { path: TRACED_UVU }));
      },
    },
  ],
});

/** test/allowed-skips.txt: one substring of an allowed "what — why" per line; # starts a comment. */
function allowedSkips() {
  const file = join(top, 'test', 'allowed-skips.txt');
  if (!existsSync(file)) return [];
  return readFileSync(file, 'utf8')
    .split('\n')
    .map((l) => l.replace(/#.*/, '').trim())
    .filter(Boolean);
}
const allowed = allowedSkips();
const skips = [];

const totals = { passed: 0, failed: 0, skipped: 0 };
const isolate = shouldIsolate();
if (isolate) checkIsolation();

function runFile(file) {
  const bundled = join(outDir, relative(join(top, 'test'), file)).replace(/\.ts$/, '.mjs');
  const trace = `${bundled}.trace`;
  return new Promise((resolve) => {
    const [program, ...args] = isolate ? isolatedCommand(process.execPath, [bundled]) : [process.execPath, bundled];
    const env = { ...(isolate ? isolatedEnv() : process.env), RUNTS_TEST_TRACE: trace };
    const child = spawn(program, args, { cwd: top, stdio: ['ignore', 'pipe', 'inherit'], env });
    // Killing the isolation's unshare ends its namespace, and so everything the file started in it.
    let hung = false;
    const timer = setTimeout(() => {
      hung = true;
      child.kill('SIGKILL');
    }, fileTimeout * 1000);
    let out = '';
    child.stdout.on('data', (chunk) => {
      out += chunk;
      process.stdout.write(chunk);
    });
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      // eslint-disable-next-line no-control-regex -- ESC starts uvu's colour codes
      const plain = out.replace(/\x1b\[[0-9;]*m/g, '');
      for (const [, what] of plain.matchAll(/SKIP: (.*)$/gm)) skips.push({ file: relative(top, file), what });
      if (hung) {
        const started = existsSync(trace) ? readFileSync(trace, 'utf8').trim().split('\n') : [];
        console.log(
          `\n  ✘ ${relative(top, file)} hung: killed after ${fileTimeout} s, in test "${started.at(-1) ?? '(before the first test)'}"`,
        );
        totals.failed += 1;
        resolve();
        return;
      }
      const num = (label) => Number((new RegExp(`${label}:\\s+(\\d+)`).exec(plain) ?? [])[1] ?? NaN);
      const total = num('Total');
      const passed = num('Passed');
      const skipped = num('Skipped');
      if (Number.isNaN(total)) {
        // Crashed before uvu could report: count the file as one failure.
        console.log(`\n  ✘ ${relative(top, file)} ended without a report (exit ${code ?? signal})`);
        totals.failed += 1;
      } else {
        totals.passed += passed;
        totals.failed += total - passed;
        totals.skipped += skipped;
        if (code !== 0 && total === passed) totals.failed += 1; // an error outside any test
      }
      resolve();
    });
  });
}

// Checks of the whole tree, each counted as one test named by its name and
// selected like a file (npm test -- lint): passed when the tool exits 0.
const CHECKS = [
  { name: 'lint', what: 'eslint', tool: ['eslint', 'bin', 'eslint.js'], args: ['.'] },
  {
    name: 'format',
    what: 'prettier --check',
    tool: ['prettier', 'bin', 'prettier.cjs'],
    args: ['--check', '--log-level', 'warn', '.'],
  },
];

function runCheck({ name, what, tool, args }) {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [join(top, 'node_modules', ...tool), ...args], {
      cwd: top,
      stdio: ['ignore', 'inherit', 'inherit'],
    });
    child.on('close', (code, signal) => {
      if (code === 0) {
        console.log(`  ✔ ${name}: ${what} found no problem`);
        totals.passed += 1;
      } else {
        console.log(`\n  ✘ ${name}: ${what} failed (exit ${code ?? signal})`);
        totals.failed += 1;
      }
      resolve();
    });
  });
}

for (const check of CHECKS.filter((c) => !filters.length || filters.some((w) => c.name.includes(w)))) {
  console.log(`\n# ${check.name} (${check.what})`);
  await runCheck(check);
}
for (const file of files) {
  console.log(`\n# ${relative(top, file)}`);
  await runFile(file);
}
rmSync(outDir, { recursive: true, force: true });
if (skips.length) {
  console.log('\nSkipped, with reasons:');
  for (const { file, what } of skips) {
    const ok = !strictSkips || allowed.some((a) => what.includes(a));
    if (!ok) totals.failed += 1;
    console.log(`  ${ok ? '-' : '✘ not allowed in CI:'} ${file}: ${what}`);
  }
}
console.log(`\n${totals.passed} passed, ${totals.failed} failed, ${totals.skipped} skipped`);
process.exitCode = totals.failed ? 1 : 0;
