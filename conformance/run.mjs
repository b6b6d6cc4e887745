// npm run conformance -- ARGS: bundles the suite (conformance/main.ts)
// with esbuild, as the project bundles everything, and runs it. As root it
// runs in private mount, pid, uts and ipc namespaces of its own
// (scripts/isolate.mjs), so that the runtime under test cannot reach this
// machine's mounts or processes. See main.ts for the arguments.
import { spawnSync } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { bundleTool } from '../scripts/bundle-tool.mjs';
import { checkIsolation, isolatedCommand, isolatedEnv, shouldIsolate } from '../scripts/isolate.mjs';

const top = join(dirname(fileURLToPath(import.meta.url)), '..');
const outfile = join(top, '.tmp', 'conformance', 'main.mjs');

await bundleTool({
  entryPoints: [join(top, 'conformance', 'main.ts')],
  outfile,
});
if (shouldIsolate()) {
  checkIsolation();
  const [program, ...args] = isolatedCommand(process.execPath, [outfile, ...process.argv.slice(2)]);
  const r = spawnSync(program, args, { stdio: 'inherit', env: isolatedEnv() });
  process.exit(r.status ?? 1);
} else {
  await import(pathToFileURL(outfile).href);
}
