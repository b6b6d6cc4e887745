// npm run conformance -- ARGS: bundles the suite (conformance/main.ts)
// with esbuild, as the project bundles everything, and runs it in this
// process. See main.ts for the arguments.
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { build } from 'esbuild';

const top = join(dirname(fileURLToPath(import.meta.url)), '..');
const outfile = join(top, '.tmp', 'conformance', 'main.mjs');

await build({
  entryPoints: [join(top, 'conformance', 'main.ts')],
  outfile,
  bundle: true,
  platform: 'node',
  target: 'node20',
  format: 'esm',
  packages: 'external',
  banner: { js: "import { createRequire as __cr } from 'node:module'; const require = __cr(import.meta.url);" },
  logLevel: 'warning',
});
await import(pathToFileURL(outfile).href);
