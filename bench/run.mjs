// The bench command (npm run bench): bundles bench/bench.ts with esbuild
// (as test/run.mjs bundles the tests) and runs it in this process.
//   npm run bench                       build runts, then bench it against runc and `node -e 0`
//   npm run bench -- --runs 5 --docker  options: see bench/bench.ts or --help
import { existsSync, rmSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { stop } from 'esbuild';
import { bundleTool } from '../scripts/bundle-tool.mjs';

const top = join(dirname(fileURLToPath(import.meta.url)), '..');
const outDir = join(top, '.tmp', 'bench');
const out = join(outDir, 'bench.mjs');

const wantsHelp = process.argv.slice(2).some((a) => a === '--help' || a === '-h');
if (!wantsHelp && process.getuid?.() !== 0) {
  console.error('bench: run it as root (it makes containers)');
  process.exit(1);
}
rmSync(outDir, { recursive: true, force: true });
await bundleTool({
  entryPoints: [join(top, 'bench', 'bench.ts')],
  outfile: out,
});
// esbuild keeps a service process for further builds: none will come.
await stop();

if (!existsSync(join(top, 'dist', 'runts.cjs'))) {
  console.error('bench: runts is not built: run `npm run build` first');
  process.exit(1);
}
await import(pathToFileURL(out).href);
