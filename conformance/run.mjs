// npm run conformance -- ARGS: bundles the suite (conformance/main.ts)
// with esbuild, as the project bundles everything, and runs it in this
// process. See main.ts for the arguments.
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { bundleTool } from '../scripts/bundle-tool.mjs';

const top = join(dirname(fileURLToPath(import.meta.url)), '..');
const outfile = join(top, '.tmp', 'conformance', 'main.mjs');

await bundleTool({
  entryPoints: [join(top, 'conformance', 'main.ts')],
  outfile,
});
await import(pathToFileURL(outfile).href);
