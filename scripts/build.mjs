// npm run build: generate from the official schema, type-check, bundle.
//   dist/runts          the launcher (src/native/runts-launch.c): bin/runts links to it;
//                       it runs node on bin/runts.cjs, or a plain `start` itself
//   dist/runts.cjs      the CLI (bin/runts.cjs loads it)
//   dist/short.cjs      the CLI of state, kill, delete and start (bin/runts.cjs loads it for them)
//   dist/begin.cjs      create's and run's first step, the init spawned (bin/runts.cjs loads it first)
//   dist/init.cjs       the container init (a fresh node that becomes PID 1): loads
//                       dist/init-main.cjs with its code cache (src/init/load.ts)
//   dist/runts-helper   the native helper (src/native/runts-helper.c), static, no libc
import { execFileSync, spawnSync } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { createRequire } from 'node:module';
import { dirname, join, relative } from 'node:path';
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

// The helper: freestanding (raw system calls, its own _start), so that it
// needs no libc in the container and makes no call but its own steps.
const cc = process.env.CC || 'cc';
const ccFlags = [
  '-static',
  '-nostdlib',
  '-no-pie',
  '-fno-pie',
  '-ffreestanding',
  '-fno-builtin',
  '-fno-stack-protector',
  '-fno-asynchronous-unwind-tables',
  '-Os',
  '-s',
  '-Wall',
  '-Wextra',
  '-Werror',
];
mkdirSync(join(top, 'dist'), { recursive: true });
try {
  execFileSync(cc, [...ccFlags, '-o', join(top, 'dist', 'runts-helper'), join(top, 'src', 'native', 'runts-helper.c')], {
    stdio: 'inherit',
  });
} catch {
  console.error(
    `build: compiling src/native/runts-helper.c with ${cc} failed: it needs a C compiler and the Linux headers (Debian: apt-get install gcc linux-libc-dev), on x86_64 or aarch64`,
  );
  process.exit(1);
}
// The launcher, dist/runts (bin/runts links to it): it starts node on the
// CLI, and does a plain `start` without node (src/native/runts-launch.c).
// Static where the C library allows it (no loader at each command's start).
const launcher = [
  '-O2',
  '-s',
  '-Wall',
  '-Wextra',
  '-Werror',
  '-o',
  join(top, 'dist', 'runts'),
  join(top, 'src', 'native', 'runts-launch.c'),
  join(top, 'src', 'native', 'launch-init.c'),
  join(top, 'src', 'native', 'cgroup-primer.c'),
];
try {
  try {
    execFileSync(cc, ['-static', ...launcher], { stdio: 'ignore' });
  } catch {
    execFileSync(cc, launcher, { stdio: 'inherit' });
  }
} catch {
  console.error(
    `build: compiling src/native/runts-launch.c with ${cc} failed: it needs a C compiler and a C library (Debian: apt-get install gcc libc6-dev)`,
  );
  process.exit(1);
}
if (!quick) step('type check', [join(top, 'node_modules', 'typescript', 'bin', 'tsc'), '--noEmit', '-p', top]);

// CommonJS, one file per entry: node loads CommonJS ~10 ms faster than an
// ES module, and one file is one read. Code a command does not run is in
// the file but never evaluated (esbuild keeps lazily imported modules in
// wrappers); only its compile time is paid, so the two big pieces that most
// commands never use live in files of their own, required when needed:
//   dist/yargs-cli.cjs  yargs (help, version, mistakes: see src/cli/fast-path.ts)
//   dist/validator.cjs  the precompiled schema validator (create, run, exec, validate)
//   dist/dbus.cjs       the D-Bus client (--systemd-cgroup: src/linux/cgroups/systemd-dbus.ts)
const SEPARATE = [
  { filter: /^\.\/main$/, file: 'yargs-cli.cjs', entry: 'src/cli/main.ts' },
  { filter: /generated\/validate-config\.js$/, file: 'validator.cjs', entry: 'src/spec/generated/validate-config.js' },
  { filter: /^@homebridge\/dbus-native$/, file: 'dbus.cjs', entry: 'node_modules/@homebridge/dbus-native/index.js' },
];
// The short commands' bundle (src/cli/short.ts) hands any other command to the whole CLI.
const OTHER_BUNDLES = [...SEPARATE, { filter: /^\.\/entry$/, file: 'runts.cjs' }];
const separateFiles = {
  name: 'separate-files',
  setup(b) {
    for (const { filter, file } of OTHER_BUNDLES) {
      b.onResolve({ filter }, (args) => (args.kind === 'entry-point' ? undefined : { path: `./${file}`, external: true }));
    }
  },
};

// ffi-rs's glibc binding (the package src/sys/ffi-binding.ts requires), as
// a path from dist/: the bundles load that file without resolving the name.
const FFI_GLIBC = { x64: '@yuuang/ffi-rs-linux-x64-gnu', arm64: '@yuuang/ffi-rs-linux-arm64-gnu' }[process.arch];
let ffiNative = null;
try {
  if (FFI_GLIBC) ffiNative = relative(join(top, 'dist'), createRequire(join(top, 'dist', 'runts.cjs')).resolve(FFI_GLIBC));
} catch {
  // Not installed: the bundles find ffi-rs by name.
}

const common = {
  absWorkingDir: top,
  bundle: true,
  platform: 'node',
  target: 'node20',
  format: 'cjs',
  // ffi-rs is a native addon: it stays in node_modules.
  external: ['ffi-rs'],
  define: {
    RUNTS_VERSION: JSON.stringify(pkg.version),
    RUNTS_FFI_NATIVE: JSON.stringify(ffiNative),
    'import.meta.url': '__runtsModuleUrl',
  },
  // The sources (and yargs) speak of import.meta.url; in CommonJS it is this file's URL.
  // (Built by hand: loading node:url for pathToFileURL costs every command a few ms.)
  banner: { js: "const __runtsModuleUrl = 'file://' + __filename.split('/').map(encodeURIComponent).join('/');" },
  minify: true,
  logLevel: 'warning',
  legalComments: 'none',
};

await Promise.all([
  build({
    ...common,
    entryPoints: {
      runts: 'src/cli/entry.ts',
      short: 'src/cli/short.ts',
      begin: 'src/cli/begin.ts',
      init: 'src/init/load.ts',
      'init-main': 'src/init/entry.ts',
    },
    outdir: 'dist',
    outExtension: { '.js': '.cjs' },
    plugins: [separateFiles],
  }),
  ...SEPARATE.map(({ file, entry }) =>
    build({ ...common, entryPoints: [entry], outfile: `dist/${file}`, plugins: [separateFiles] }),
  ),
]);

// The V8 code caches bin/runts loads: dist/runts.cjs.cache, and
// dist/validator.cjs.cache for create, run, exec and validate; for the short
// bundle, one per command (dist/short.cjs.COMMAND.cache). Each is made by
// running its command once through bin/runts, which writes the functions
// it compiled. As root, those are real commands on the tiniest container
// (the helper, which exits 126 once started: "no program given"): a `run`,
// so that the whole CLI's caches hold create's and run's code and the
// validator's (a cache made by `state` holds neither), then state, start,
// kill and delete of created containers. The init of that `run` writes
// its own cache (dist/init-main.cjs.cache, loaded by dist/init.cjs) once created. (Measured: `run` 4% faster than
// with the state-made cache (wall, paired medians); a cache of everything
// compiled eagerly (--no-lazy) made `state` 8% slower, the cache being 4
// times larger; `state` 2% slower with one cache made by all four short
// commands than with its own, `kill` 4% faster with its own than with
// state's.) The build runs on users' machines as root, so the containers
// are kept from the host: a bundle, rootfs and --root in a temp dir of the
// build's own, and the whole sequence inside unshare's new pid, mount
// (private), uts, ipc and network namespaces, killed with them after 30 s.
// Without root or unshare, or if a step fails, the caches come from
// commands that find no container (`list`, `state code-cache`, ...).
// Old caches go first: V8 checks a cache against the source's length only,
// and took one made for a previous bundle of the same length (the commands
// then failed with "<identifier> is not defined").
const SHORT_COMMANDS = ['state', 'kill', 'delete', 'start'];
const CACHES = [
  'runts.cjs.cache',
  'begin.cjs.cache',
  'validator.cjs.cache',
  'init-main.cjs.cache',
  ...SHORT_COMMANDS.map((command) => `short.cjs.${command}.cache`),
].map((file) => join(top, 'dist', file));
// The CLI's script itself: the caches are made by node running it.
const runts = join(top, 'bin', 'runts.cjs');

// $1 node, $2 bin/runts.cjs, $3 --root, $4 the bundle, $5 an id. `cache` runs a
// command that writes its caches. The started container's program exits at
// once; delete is refused until then (it is retried).
const CACHE_SEQUENCE = `
node=$1 runts=$2 root=$3 bundle=$4 id=$5
cli() { "$node" "$runts" --root "$root" "$@"; }
cache() { RUNTS_WRITE_CODE_CACHE=1 cli "$@"; }
cache run --bundle "$bundle" "$id-run"; [ $? -eq 126 ] || exit 1
cli create --bundle "$bundle" "$id" && cli create --bundle "$bundle" "$id-k" || exit 1
cache state "$id" >/dev/null && cache start "$id" && cache kill "$id-k" KILL || exit 1
for try in 1 2 3 4 5 6 7 8 9 10; do cache delete "$id" 2>/dev/null && break; sleep 0.1; done
[ $try -lt 10 ] && cli delete --force "$id-k"
`;

function cacheFromCommands(dir) {
  const bundle = join(dir, 'bundle');
  mkdirSync(join(bundle, 'rootfs'), { recursive: true });
  copyFileSync(join(top, 'dist', 'runts-helper'), join(bundle, 'rootfs', 'runts-helper'));
  if (spawnSync(process.execPath, [runts, 'spec', '--bundle', bundle], { stdio: 'ignore' }).status !== 0) return false;
  const config = JSON.parse(readFileSync(join(bundle, 'config.json'), 'utf8'));
  config.process = { ...config.process, terminal: false, args: ['runts-helper'], env: ['PATH=/'], cwd: '/' };
  writeFileSync(join(bundle, 'config.json'), JSON.stringify(config));
  const isolate = [
    '--fork',
    '--kill-child',
    '--pid',
    '--mount-proc',
    '--mount',
    '--propagation',
    'private',
    '--uts',
    '--ipc',
    '--net',
  ];
  const env = { ...process.env };
  delete env.RUNTS_WRITE_CODE_CACHE; // (the sequence says which commands write)
  const ran = spawnSync(
    'unshare',
    [
      ...isolate,
      'sh',
      '-c',
      CACHE_SEQUENCE,
      'sh',
      process.execPath,
      runts,
      join(dir, 'root'),
      bundle,
      `runts-build-${process.pid}`,
    ],
    { env, stdio: 'ignore', timeout: 30_000, killSignal: 'SIGKILL' },
  );
  return ran.status === 0;
}

/** Without containers: each command finds none (`list` an empty root), which still compiles its first steps. */
function cacheFromNothing(dir) {
  const commands = [
    ['list'],
    ['state', 'code-cache'],
    ['kill', 'code-cache', 'KILL'],
    ['delete', 'code-cache'],
    ['start', 'code-cache'],
  ];
  for (const command of commands) {
    spawnSync(process.execPath, [runts, '--root', join(dir, 'state'), ...command], {
      env: { ...process.env, RUNTS_WRITE_CODE_CACHE: '1' },
      stdio: 'ignore',
    });
  }
}

for (const cache of CACHES) rmSync(cache, { force: true });
const cacheDir = mkdtempSync(join(tmpdir(), 'runts-build-'));
try {
  if (process.getuid?.() !== 0 || !cacheFromCommands(cacheDir)) {
    for (const cache of CACHES) rmSync(cache, { force: true });
    cacheFromNothing(cacheDir);
  }
} finally {
  rmSync(cacheDir, { recursive: true, force: true });
}
console.error(
  'build: dist/runts.cjs, dist/short.cjs, dist/begin.cjs, dist/validator.cjs and dist/init-main.cjs (+ code caches), dist/init.cjs, dist/yargs-cli.cjs, dist/dbus.cjs, dist/runts-helper, dist/runts',
);
