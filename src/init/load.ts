/**
 * What the init's node runs (dist/init.cjs): the init's bundle
 * (dist/init-main.cjs, from entry.ts) compiled with the V8 code cache the
 * build made for it (dist/init-main.cjs.cache), as bin/runts loads the
 * CLI's. The init's start-up is on create's critical path, and without the
 * cache V8 compiles each function of the bundle the first time it runs. A
 * cache V8 rejects (another node) only means compiling as usual. Both files
 * are read here, before anything else runs: nothing is loaded from disk
 * after pivot_root.
 *
 * The build makes the cache with a real container (scripts/build.mjs):
 * with RUNTS_WRITE_CODE_CACHE (passed on by create), the init reports
 * `created` only once the functions compiled so far are written, through a
 * descriptor opened here, on the host (the init has pivoted by then).
 */
import { closeSync, openSync, readFileSync, writeSync } from 'node:fs';
import Module from 'node:module';
import { join } from 'node:path';
import { Script } from 'node:vm';
import { CODE_CACHE_EVENT, WRITE_CODE_CACHE_ENV } from './code-cache';

const file = join(__dirname, 'init-main.cjs');
let cachedData: Buffer | undefined;
try {
  cachedData = readFileSync(`${file}.cache`);
} catch {
  // No cache: compile.
}
const script = new Script(Module.wrap(readFileSync(file, 'utf8')), { filename: file, cachedData });
if (process.env[WRITE_CODE_CACHE_ENV]) {
  const fd = openSync(`${file}.cache`, 'w', 0o644);
  process.once(CODE_CACHE_EVENT, () => {
    writeSync(fd, script.createCachedData());
    closeSync(fd);
  });
}
const main = new Module(file, module);
main.filename = file;
// The bundle requires node's own modules only (ffi-rs through createRequire: ffi-binding.ts).
(script.runInThisContext() as (...args: unknown[]) => void).call(main.exports, main.exports, require, main, file, __dirname);
