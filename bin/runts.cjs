#!/usr/bin/env -S -u NODE_EXTRA_CA_CERTS -u NODE_OPTIONS node
// The CLI's script: bin/runts (the launcher, src/native/runts-launch.c)
// runs node on it for every command but a plain `start`, without the
// caller's NODE_OPTIONS and NODE_EXTRA_CA_CERTS. It runs alone too, through
// the #! line above, which drops the same two (env -S, coreutils >= 8.30).
// NODE_EXTRA_CA_CERTS makes node parse the whole CA bundle at start-up,
// before any JavaScript runs: 29 ms of a 47 ms start here, for a program
// that never opens a TLS connection. NODE_OPTIONS would let the environment
// add flags or preload code into a process that runs as root; the init is
// spawned with neither, and the CLI matches it.
//
// It runs the CLI bundle made by `npm run build`, with
// the V8 code cache the build made for it: every command pays node's
// start-up, and compiling the bundle would add ~3 ms more. state, kill,
// delete and start, whose run is little more than that start-up, load a
// bundle of their own (dist/short.cjs, a half of the whole CLI's size),
// each with a cache made by that command (dist/short.cjs.COMMAND.cache):
// the code a cache holds is deserialized whether it runs or not. The rest
// load dist/runts.cjs (cache dist/runts.cjs.cache); the config's validator
// too has one (dist/validator.cjs.cache). A cache V8 rejects (another node)
// only means compiling as usual.
'use strict';
const { readFileSync, writeFileSync } = require('node:fs');
const { join } = require('node:path');
// node's Module class, as module.constructor: require('node:module') would
// compile its public wrapper first (0.3 ms).
const Module = module.constructor;
const vm = require('node:vm');

const dist = join(__dirname, '..', 'dist');
const writeCache = !!process.env.RUNTS_WRITE_CODE_CACHE;
// The bundle's own require, but for dist/validator.cjs (the config's
// validator, for create, run, exec, validate) and dist/runts.cjs (the short
// bundle's hand-over): also compiled with a cache.
const CACHED = new Set(['./validator.cjs', './runts.cjs']);

/** Compiles and runs one CommonJS file of dist/ with its code cache; returns its exports. */
function load(source, file, parent, cache = `${file}.cache`) {
  let cachedData;
  try {
    cachedData = readFileSync(cache);
  } catch {
    // No cache: compile.
  }
  const script = new vm.Script(Module.wrap(source), { filename: file, cachedData });
  if (writeCache) {
    // The build runs commands this way: the functions they compiled go in the caches.
    process.on('exit', () => writeFileSync(cache, script.createCachedData()));
  }
  const mod = new Module(file, parent);
  mod.filename = file;
  mod.paths = Module._nodeModulePaths(dist);
  // (The bundle requires each of its files once: its modules are evaluated once.)
  const require = (id) => (CACHED.has(id) ? load(readFileSync(join(dist, id), 'utf8'), join(dist, id), mod) : mod.require(id));
  script.runInThisContext().call(mod.exports, mod.exports, require, mod, file, dist);
  mod.loaded = true;
  return mod.exports;
}

/**
 * The command word, as far as it can be told without parsing (the bundle
 * parses the words): the first that is not a flag, nor the value of a
 * global flag written apart (--root DIR). A wrong guess only costs time:
 * the short bundle hands any other command to the whole CLI.
 */
function commandWord(words) {
  for (let i = 0; i < words.length; i++) {
    const word = words[i];
    if (!word.startsWith('-') || word === '-') return word;
    if (/^--?(root|log|log-format|rootless|criu)$/.test(word)) i++;
  }
  return undefined;
}

// The short commands (src/cli/short.ts), by the name of their cache.
const SHORT = { state: 'state', kill: 'kill', delete: 'delete', rm: 'delete', start: 'start' };
const word = commandWord(process.argv.slice(2));
const short = Object.hasOwn(SHORT, word) ? SHORT[word] : undefined;
const file = join(dist, short ? 'short.cjs' : 'runts.cjs');
let source;
try {
  source = readFileSync(file, 'utf8');
} catch {
  process.stderr.write('runts: not built yet: run `npm run build` in the runts directory\n');
  process.exit(1);
}
// create and run: the container's init spawned first, by dist/begin.cjs, a
// small bundle of its own; its node start-up, the longest step of create,
// then overlaps the loading of the CLI bundle (src/cli/begin.ts).
if (word === 'create' || word === 'run') {
  const begin = join(dist, 'begin.cjs');
  load(readFileSync(begin, 'utf8'), begin, module);
}
load(source, file, module, short ? `${file}.${short}.cache` : undefined);
