// npm run build: generate from the official schema, type-check, bundle.
//   dist/runts.mjs  the CLI (bin/runts loads it); commands split into lazy chunks
//   dist/init.mjs   the container init (a fresh node that becomes PID 1)
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

const top = join(dirname(fileURLToPath(import.meta.url)), '..');
const pkg = JSON.parse(readFileSync(join(top, 'package.json'), 'utf8'));
const quick = process.argv.includes('--no-typecheck');

function step(what, args) {
  try {
    execFileSync(process.execPath, args, { stdio: 'inherit' });
  } catch {
    console.error(`build: ${what} failed`);
    process.exit(1);
  }
}
step('schema generation', [join(top, 'schema', 'generate.mjs')]);
if (!quick) step('type check', [join(top, 'node_modules', 'typescript', 'bin', 'tsc'), '--noEmit', '-p', top]);

const bundleOptions = {
  bundle: true,
  platform: 'node',
  target: 'node20',
  format: 'esm',
  // ffi-rs is a native addon: it stays in node_modules.
  external: ['ffi-rs'],
  define: { RUNTS_VERSION: JSON.stringify(pkg.version) },
  // ESM output still needs require() for the CommonJS pieces it loads.
  banner: { js: "import { createRequire as __cr } from 'node:module'; const require = __cr(import.meta.url);" },
  logLevel: 'warning',
  legalComments: 'none',
};

await build({
  ...bundleOptions,
  absWorkingDir: top,
  entryPoints: { runts: 'src/cli/entry.ts', init: 'src/init/entry.ts' },
  outdir: 'dist',
  outExtension: { '.js': '.mjs' },
  splitting: true,
  // Chunks beside the entries, so that any chunk finds init.mjs as ./init.mjs.
  chunkNames: '[name]-[hash]',
  minify: true,
  keepNames: false,
});
console.error('build: dist/runts.mjs, dist/init.mjs');
