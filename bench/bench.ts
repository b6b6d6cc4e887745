/**
 * runts against runc against Node's own start-up, side by side in one run
 * (npm run bench; as root).
 *
 * Every figure is the wall time of spawnSync around the command(s)
 * (process.hrtime.bigint), median of --runs samples after --warmup
 * unrecorded ones. The subjects take turns within each round (the order
 * rotates every round), so drift in the machine's load hits all of them
 * alike. The floor is `node -e 0` started as bin/runts starts node (without
 * NODE_EXTRA_CA_CERTS and NODE_OPTIONS, the node on PATH: the #! line of
 * bin/runts.cjs, which says the same), sampled in the same rounds as each row. A row of its own gives
 * plain `node -e 0` in the bench's environment, which may cost much more
 * (NODE_EXTRA_CA_CERTS: about 30 ms here).
 *
 * Both runtimes run the same bundles: a busybox-static rootfs made with
 * scripts/make-rootfs.sh, config.json from `runts spec` with terminal off
 * and args /bin/true (or `sleep` where a container must stay up). Each
 * runtime has its own --root in the bench's temp dir. Everything the bench
 * makes (containers, state dirs, the private containerd and dockerd, temp dirs) is removed
 * at the end, also after an error, Ctrl-C or SIGTERM.
 */
import { spawn, spawnSync } from 'node:child_process';
import {
  appendFileSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  readdirSync,
  readlinkSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { ensureEngine, which } from '../scripts/engines';
import { Docker } from './docker';
import { Interrupted, Output, catchInterrupts, checkpoint, interruptedBy, stats, timed, timedAsync, vmRssKb } from './measure';
import { type Machine, type Row, type Series, type Subject, SUBJECTS, machine, newRow, notes, table, toJson } from './report';
import { formatTimeline, parseMarks, timeline } from './profile';
import { Containers, type Runtime, SampleError } from './runtimes';

const HELP = `usage: npm run bench -- [options]      (as root)

Times runts against runc (when installed) and \`node -e 0\` in one run
(node started the way bin/runts starts it: see bin/runts.cjs's #! line).

  --runs N        samples per figure (median reported; default 20)
  --warmup N      unrecorded samples first (default 3)
  --parallel N    containers created and started at once for throughput (default 10)
  --rounds N      throughput rounds (default 5)
  --docker        also time \`docker run --rm\` and containerd's \`ctr run --rm\` with each runtime
                  (starts a private containerd and dockerd; apt installs them when missing)
  --only LIST     comma list of: node,run,csd,start,state,kill,delete,throughput,docker,containerd
  --runc PATH     the runc to compare with (default: /usr/sbin/runc, else runc on PATH)
  --json FILE     also save every sample and figure as JSON
  --profile       instead: the timeline of runts' own marks through \`run\` of /bin/true
                  (RUNTS_PROFILE; median over --runs; see bench/profile.ts)
`;

/** The repository's top (this file runs from bench/ or, bundled, from .tmp/bench/). */
function findTop(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  while (!existsSync(join(dir, 'bin', 'runts')) || !existsSync(join(dir, 'package.json'))) {
    const up = dirname(dir);
    if (up === dir) throw new Error('cannot find the runts repository above the bench');
    dir = up;
  }
  return dir;
}

interface Options {
  runs: number;
  warmup: number;
  parallel: number;
  rounds: number;
  docker: boolean;
  only: Set<string> | null;
  runc: string | null;
  json: string | null;
  profile: boolean;
}

const KEYS = ['node', 'run', 'csd', 'start', 'state', 'kill', 'delete', 'throughput', 'docker', 'containerd'];

function options(argv: string[]): Options {
  const { values } = parseArgs({
    args: argv,
    options: {
      runs: { type: 'string', default: '20' },
      warmup: { type: 'string', default: '3' },
      parallel: { type: 'string', default: '10' },
      rounds: { type: 'string', default: '5' },
      docker: { type: 'boolean', default: false },
      only: { type: 'string' },
      runc: { type: 'string' },
      json: { type: 'string' },
      profile: { type: 'boolean', default: false },
      help: { type: 'boolean', short: 'h', default: false },
    },
  });
  if (values.help) {
    process.stdout.write(HELP);
    process.exit(0);
  }
  const count = (name: string, v: string, min: number) => {
    const n = Number(v);
    if (!Number.isInteger(n) || n < min) throw new Error(`--${name} wants a whole number of at least ${min}, not ${v}`);
    return n;
  };
  const only = values.only
    ? new Set(
        values.only
          .split(',')
          .map((s) => s.trim())
          .filter(Boolean),
      )
    : null;
  for (const k of only ?? []) if (!KEYS.includes(k)) throw new Error(`--only: unknown "${k}" (known: ${KEYS.join(',')})`);
  const runc = values.runc ?? (existsSync('/usr/sbin/runc') ? '/usr/sbin/runc' : (which('runc') ?? null));
  if (values.runc && !existsSync(values.runc)) throw new Error(`--runc ${values.runc}: no such file`);
  return {
    runs: count('runs', values.runs, 1),
    warmup: count('warmup', values.warmup, 0),
    parallel: count('parallel', values.parallel, 1),
    rounds: count('rounds', values.rounds, 1),
    docker: values.docker || !!only?.has('docker') || !!only?.has('containerd'),
    only,
    runc,
    json: values.json ? resolve(values.json) : null,
    profile: values.profile,
  };
}

const say = (line: string) => process.stderr.write(`${line}\n`);

/** What a sample loop needs. */
interface Context {
  opts: Options;
  nodeBin: string;
  /** node as bin/runts starts it: the floor. */
  node: Launch;
  out: Output;
  containers: Containers;
  runtimes: Runtime[];
  /** /bin/true and `sleep` bundles. */
  trueBundle: string;
  sleepBundle: string;
}

function runtimeOf(ctx: Context, who: Subject): Runtime {
  const rt = ctx.runtimes.find((r) => r.name === who);
  if (!rt) throw new Error(`no runtime ${who}`);
  return rt;
}

/** A command and the arguments that start node, before node's own. */
interface Launch {
  cmd: string;
  args: string[];
}

/**
 * node as bin/runts starts it, from bin/runts.cjs's #! line (`#!/usr/bin/env
 * -S -u X node`), which drops what the launcher drops: the floor pays what
 * runts pays for node, and no more.
 */
function launchOf(runtsBin: string): Launch {
  const [first = ''] = readFileSync(runtsBin, 'utf8').split('\n');
  const m = /^#!\s*(\S+)(.*)$/.exec(first);
  if (!m) throw new Error(`${runtsBin} has no #! line`);
  return { cmd: m[1]!, args: m[2]!.split(/\s+/).filter((w) => w && w !== '-S') };
}

function nodeFloor(ctx: Context): number {
  const r = timed(ctx.node.cmd, [...ctx.node.args, '-e', '0'], ctx.out);
  if (!r.ok) throw new SampleError(r.detail);
  return r.ms;
}

function subjects(ctx: Context, withNode = true): Subject[] {
  return [...ctx.runtimes.map((r) => r.name), ...(withNode ? (['node'] as const) : [])];
}

function firstLine(err: unknown): string {
  const [first = ''] = (err instanceof Error ? err.message : String(err)).split('\n');
  return first;
}

/** The subjects in the order of one round: each round starts one further along. */
function rotated(who: readonly Subject[], round: number): Subject[] {
  const k = round % who.length;
  return [...who.slice(k), ...who.slice(0, k)];
}

/**
 * The sample loop: --warmup unrecorded rounds, then --runs rounds; in each
 * round every subject takes one sample, in an order that rotates. A
 * failing subject keeps its error and is not sampled again in this row.
 */
async function sampleRow(
  ctx: Context,
  row: Row,
  who: Subject[],
  sample: (who: Subject, recorded: boolean) => number,
  rounds = ctx.opts.runs,
  warmup = ctx.opts.warmup,
): Promise<void> {
  for (let i = -warmup; i < rounds; i++) {
    for (const w of rotated(who, i + warmup)) {
      const series = (row.series[w] ??= { samples: [] });
      if (series.error) continue;
      try {
        const v = sample(w, i >= 0);
        if (i >= 0) series.samples.push(v);
      } catch (err) {
        if (err instanceof Interrupted) throw err;
        series.error = firstLine(err);
        say(`  ${row.label}: ${w} failed: ${series.error}`);
        if (w !== 'node') ctx.containers.sweep(runtimeOf(ctx, w));
      }
      await checkpoint();
    }
  }
  progress(row);
}

function progress(row: Row): void {
  const parts = SUBJECTS.filter((w) => row.series[w]).map((w) => {
    const s = row.series[w]!;
    const m = stats(s.samples)?.median;
    return m === undefined ? `${w} error` : `${w} ${m.toFixed(1)} ${row.unit}`;
  });
  say(`  ${row.label}: ${parts.join(', ')}`);
}

/** Idle `node` (after start-up, waiting in its event loop): the floor for resident memory. */
async function idleNodeRss(node: Launch): Promise<number> {
  const child = spawn(node.cmd, [...node.args, '-e', "process.stdout.write('r'); setInterval(() => {}, 1e6)"], {
    stdio: ['ignore', 'pipe', 'ignore'],
  });
  try {
    await new Promise<void>((ok, fail) => {
      child.stdout.once('data', () => ok());
      child.once('error', fail);
      child.once('exit', () => fail(new Error('idle node exited')));
    });
    const kb = vmRssKb(child.pid!);
    if (kb === undefined) throw new Error('no VmRSS for the idle node');
    return kb / 1024;
  } finally {
    child.kill('SIGKILL');
  }
}

/** dockerOrWhy: the private daemons, or why there are none. */
async function bench(ctx: Context, dockerOrWhy: Docker | string | undefined, rootfs: string, runtsBin: string): Promise<Row[]> {
  const docker = typeof dockerOrWhy === 'object' ? dockerOrWhy : undefined;
  const { opts, containers } = ctx;
  const want = (key: string) => !opts.only || opts.only.has(key);
  const rows: Row[] = [];

  if (want('node')) {
    // What the floor would be without bin/runts' care: plain node, this environment.
    const row = newRow(
      'node',
      "node -e 0, the bench's own environment",
      'ms',
      'plain `node -e 0`, environment as given (NODE_EXTRA_CA_CERTS and all)',
    );
    rows.push(row);
    await sampleRow(ctx, row, ['node'], () => {
      const r = timed(ctx.nodeBin, ['-e', '0'], ctx.out);
      if (!r.ok) throw new SampleError(r.detail);
      return r.ms;
    });
  }

  if (want('run')) {
    const row = newRow('run', 'run /bin/true', 'ms');
    rows.push(row);
    await sampleRow(ctx, row, subjects(ctx), (who) => {
      if (who === 'node') return nodeFloor(ctx);
      const rt = runtimeOf(ctx, who);
      return containers.run(rt, ctx.trueBundle, containers.newId(rt)).ms;
    });
  }

  if (want('csd')) {
    const row = newRow('csd', 'create+start+wait+delete', 'ms');
    const createRow = newRow('create', '  create (step of the above)', 'ms');
    rows.push(row, createRow);
    await sampleRow(ctx, row, subjects(ctx), (who, recorded) => {
      let createMs: number;
      let total: number;
      if (who === 'node') {
        total = createMs = nodeFloor(ctx);
      } else {
        const rt = runtimeOf(ctx, who);
        const id = containers.newId(rt);
        const t0 = process.hrtime.bigint();
        createMs = containers.create(rt, ctx.trueBundle, id).ms;
        containers.start(rt, id);
        containers.waitStopped(id);
        containers.delete(rt, id);
        total = Number(process.hrtime.bigint() - t0) / 1e6;
      }
      if (recorded) (createRow.series[who] ??= { samples: [] }).samples.push(createMs);
      return total;
    });
    for (const [w, s] of Object.entries(row.series))
      if (s.error) (createRow.series[w as Subject] ??= { samples: [] }).error = s.error;
    progress(createRow);
  }

  if (want('start')) {
    const row = newRow('start', 'start (of a created container)', 'ms');
    const mem = newRow('rss', 'init RSS, created (not started)', 'MiB', 'VmRSS of an idle `node -e` (event loop waiting)');
    rows.push(row);
    await sampleRow(ctx, row, subjects(ctx), (who, recorded) => {
      if (who === 'node') return nodeFloor(ctx);
      const rt = runtimeOf(ctx, who);
      const id = containers.newId(rt);
      containers.create(rt, ctx.trueBundle, id);
      const kb = vmRssKb(containers.pid(id));
      if (kb === undefined) throw new SampleError(`${id}: no VmRSS for the init ${containers.pid(id)} after create`);
      if (recorded) (mem.series[who] ??= { samples: [] }).samples.push(kb / 1024);
      const ms = containers.start(rt, id).ms;
      containers.waitStopped(id);
      containers.delete(rt, id);
      return ms;
    });
    for (const [w, s] of Object.entries(row.series))
      if (s.error && w !== 'node') (mem.series[w as Subject] ??= { samples: [] }).error = s.error;
    const nodeMem: Series = (mem.series.node = { samples: [] });
    for (let i = 0; i < opts.runs; i++) {
      try {
        nodeMem.samples.push(await idleNodeRss(ctx.node));
      } catch (err) {
        nodeMem.error = firstLine(err);
        break;
      }
      await checkpoint();
    }
    progress(mem);
    rows.push(mem);
  }

  if (want('state')) {
    const row = newRow('state', 'state (of a running container)', 'ms');
    rows.push(row);
    const ids = new Map<Subject, string>();
    for (const rt of ctx.runtimes) {
      const id = containers.newId(rt);
      try {
        containers.create(rt, ctx.sleepBundle, id);
        containers.start(rt, id);
        ids.set(rt.name, id);
      } catch (err) {
        row.series[rt.name] = { samples: [], error: firstLine(err) };
        containers.remove(rt, id);
      }
    }
    try {
      await sampleRow(ctx, row, subjects(ctx), (who) => {
        if (who === 'node') return nodeFloor(ctx);
        const r = containers.cmd(runtimeOf(ctx, who), ['state', ids.get(who)!]);
        if (!r.ok) throw new SampleError(r.detail);
        return r.ms;
      });
    } finally {
      for (const [who, id] of ids) containers.remove(runtimeOf(ctx, who), id);
    }
  }

  if (want('kill')) {
    const row = newRow('kill', 'kill KILL (of a running container)', 'ms');
    rows.push(row);
    await sampleRow(ctx, row, subjects(ctx), (who) => {
      if (who === 'node') return nodeFloor(ctx);
      const rt = runtimeOf(ctx, who);
      const id = containers.newId(rt);
      containers.create(rt, ctx.sleepBundle, id);
      containers.start(rt, id);
      const ms = containers.kill(rt, id, 'KILL').ms;
      containers.waitStopped(id);
      containers.delete(rt, id);
      return ms;
    });
  }

  if (want('delete')) {
    const row = newRow('delete', 'delete (of a stopped container)', 'ms');
    rows.push(row);
    await sampleRow(ctx, row, subjects(ctx), (who) => {
      if (who === 'node') return nodeFloor(ctx);
      const rt = runtimeOf(ctx, who);
      const id = containers.newId(rt);
      containers.create(rt, ctx.trueBundle, id);
      containers.start(rt, id);
      containers.waitStopped(id);
      return containers.delete(rt, id).ms;
    });
  }

  if (want('throughput')) {
    const n = opts.parallel;
    const wall = newRow('throughput', `${n} × create+start in parallel (wall)`, 'ms', `${n} × \`node -e 0\` in parallel`);
    const rate = newRow(
      'rate',
      `  containers started per second`,
      'containers/s',
      `${n} × \`node -e 0\` in parallel, per second`,
    );
    rows.push(wall, rate);
    const who = subjects(ctx);
    for (let i = -1; i < opts.rounds; i++) {
      for (const w of rotated(who, i + 1)) {
        const series = (wall.series[w] ??= { samples: [] });
        if (series.error) continue;
        try {
          const ms = w === 'node' ? await parallelNode(ctx, n) : await burst(ctx, runtimeOf(ctx, w), n);
          if (i >= 0) {
            series.samples.push(ms);
            (rate.series[w] ??= { samples: [] }).samples.push(n / (ms / 1000));
          }
        } catch (err) {
          if (err instanceof Interrupted) throw err;
          series.error = firstLine(err);
          (rate.series[w] ??= { samples: [] }).error = series.error;
          say(`  ${wall.label}: ${w} failed: ${series.error}`);
        }
        await checkpoint();
      }
    }
    progress(wall);
    progress(rate);
  }

  // The private containerd, and dockerd on it, serve the last two rows.
  const engines = opts.docker && (want('docker') || want('containerd'));
  let noEngine: string | undefined;
  if (engines && !docker) noEngine = typeof dockerOrWhy === 'string' ? dockerOrWhy : 'no dockerd';
  else if (engines && docker) {
    say('bench: starting a private containerd and dockerd');
    try {
      await docker.start(runtsBin, rootfs);
    } catch (err) {
      noEngine = firstLine(err);
      say(`  docker: ${noEngine}`);
    }
  }
  const names = ctx.runtimes.map((r) => r.name);
  const engineRow = async (key: string, label: string, prepare: () => void, sample: (who: Subject) => number) => {
    const row = newRow(key, label, 'ms', 'none');
    rows.push(row);
    let why = noEngine;
    if (!why) {
      try {
        prepare();
      } catch (err) {
        why = firstLine(err);
        say(`  ${key}: ${why}`);
      }
    }
    if (why) for (const w of names) row.series[w] = { samples: [], error: why };
    else await sampleRow(ctx, row, names, sample);
  };

  if (engines && want('docker')) {
    await engineRow(
      'docker',
      'docker run --rm --network none … true',
      () => {},
      (who) => {
        const r = docker!.run(who);
        if (!r.ok) throw new SampleError(r.detail);
        return r.ms;
      },
    );
  }

  if (engines && want('containerd')) {
    // The same containerd without docker: the shim's create, start and deletes, and no hooks.
    let n = 0;
    await engineRow(
      'containerd',
      'ctr run --rm … true (containerd)',
      () => docker!.prepareContainerd(),
      (who) => {
        const r = docker!.ctrRun(runtimeOf(ctx, who).bin, who, `${containers.prefix}ctr-${who}-${++n}`);
        if (!r.ok) throw new SampleError(r.detail);
        return r.ms;
      },
    );
  }
  return rows;
}

/**
 * --profile: --runs foreground runs of /bin/true (after --warmup), each
 * with RUNTS_PROFILE naming a file of its own, between the bench's two
 * marks around the spawn; the timeline of their medians.
 */
async function profile(ctx: Context, tmp: string): Promise<string> {
  const rt = runtimeOf(ctx, 'runts');
  const runs = [];
  for (let i = -ctx.opts.warmup; i < ctx.opts.runs; i++) {
    const file = join(tmp, `profile-${i + ctx.opts.warmup}`);
    const id = ctx.containers.newId(rt);
    const benchMark = (what: string) => appendFileSync(file, `${process.hrtime.bigint()} ${process.pid} bench ${what}\n`);
    const said = ctx.out.mark();
    benchMark('spawn');
    const r = spawnSync(rt.bin, ['--root', rt.root, 'run', '--bundle', ctx.trueBundle, id], {
      stdio: ['ignore', ctx.out.fd, ctx.out.fd],
      env: { ...process.env, RUNTS_PROFILE: file },
      timeout: 60_000,
      killSignal: 'SIGKILL',
    });
    benchMark('reaped');
    if (r.error || r.status !== 0)
      throw new Error(`profile: runts run: ${r.error?.message ?? `exit ${r.status}`}: ${ctx.out.since(said)}`);
    if (i >= 0) runs.push(parseMarks(readFileSync(file, 'utf8')));
    await checkpoint();
  }
  return formatTimeline(timeline(runs), runs.length);
}

/** N containers created and started at once: wall time from the first create to the last start's end. */
async function burst(ctx: Context, rt: Runtime, n: number): Promise<number> {
  const { containers } = ctx;
  const ids = Array.from({ length: n }, () => containers.newId(rt));
  try {
    const t0 = process.hrtime.bigint();
    const results = await Promise.all(
      ids.map(async (id) => {
        const c = await containers.createAsync(rt, ctx.sleepBundle, id);
        return c.ok ? containers.startAsync(rt, id) : c;
      }),
    );
    const ms = Number(process.hrtime.bigint() - t0) / 1e6;
    const failed = results.find((r) => !r.ok);
    if (failed) throw new SampleError(failed.detail);
    return ms;
  } finally {
    for (const id of ids) containers.remove(rt, id);
  }
}

async function parallelNode(ctx: Context, n: number): Promise<number> {
  const t0 = process.hrtime.bigint();
  const results = await Promise.all(
    Array.from({ length: n }, () => timedAsync(ctx.node.cmd, [...ctx.node.args, '-e', '0'], ctx.out)),
  );
  const ms = Number(process.hrtime.bigint() - t0) / 1e6;
  const failed = results.find((r) => !r.ok);
  if (failed) throw new SampleError(failed.detail);
  return ms;
}

/** The two bundles around one rootfs, from `runts spec`. */
function makeBundles(
  tmp: string,
  top: string,
  runtsBin: string,
  out: Output,
): { rootfs: string; trueBundle: string; sleepBundle: string } {
  const rootfs = join(tmp, 'rootfs');
  const made = timed('sh', [join(top, 'scripts', 'make-rootfs.sh'), rootfs], out);
  if (!made.ok) throw new Error(made.detail);
  const specDir = join(tmp, 'spec');
  mkdirSync(specDir);
  const spec = timed(runtsBin, ['spec', '--bundle', specDir], out);
  if (!spec.ok) throw new Error(spec.detail);
  const base = readFileSync(join(specDir, 'config.json'), 'utf8');
  const bundle = (name: string, args: string[]) => {
    const dir = join(tmp, name);
    mkdirSync(dir);
    const config = JSON.parse(base);
    config.process.terminal = false;
    config.process.args = args;
    config.root = { ...config.root, path: rootfs };
    writeFileSync(join(dir, 'config.json'), JSON.stringify(config, null, 2));
    return dir;
  };
  return { rootfs, trueBundle: bundle('bundle-true', ['/bin/true']), sleepBundle: bundle('bundle-sleep', ['sleep', '1000000']) };
}

/** Does the process name the temp dir in its command line (the private dockerd, its containerd and shims) or hold a file in it open? */
function usesDir(pid: string, tmp: string): boolean {
  try {
    if (readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes(tmp)) return true;
    // A container or init whose runtime lost track of it still has create's stdio: the bench's output.log.
    return readdirSync(`/proc/${pid}/fd`).some((fd) => {
      try {
        return readlinkSync(`/proc/${pid}/fd/${fd}`).startsWith(`${tmp}/`);
      } catch {
        return false;
      }
    });
  } catch {
    return false;
  }
}

/** Stops every process that belongs to this bench run and is still there (SIGTERM, then SIGKILL after 5 s). */
async function stopStrays(tmp: string): Promise<string[]> {
  const find = () =>
    readdirSync('/proc')
      .filter((p) => /^\d+$/.test(p) && Number(p) !== process.pid && usesDir(p, tmp))
      .map(Number);
  const found = find();
  if (!found.length) return [];
  const signal = (sig: NodeJS.Signals) => {
    for (const pid of find()) {
      try {
        process.kill(pid, sig);
      } catch {
        // gone
      }
    }
  };
  signal('SIGTERM');
  for (let i = 0; i < 50 && find().length; i++) await new Promise((r) => setTimeout(r, 100));
  signal('SIGKILL');
  return [`stopped leftover processes ${found.join(', ')}`];
}

/** Unmounts whatever is still mounted under the temp dir (deepest first). */
function unmountUnder(tmp: string): string[] {
  const decode = (s: string) => s.replace(/\\([0-7]{3})/g, (_, o) => String.fromCharCode(parseInt(o, 8)));
  const points = readFileSync('/proc/self/mountinfo', 'utf8')
    .split('\n')
    .map((l) => decode(l.split(' ')[4] ?? ''))
    .filter((m) => m === tmp || m.startsWith(`${tmp}/`))
    .sort((a, b) => b.length - a.length);
  for (const m of points) spawnSync('umount', ['-l', m]);
  return points.length ? [`unmounted ${points.length} leftover mount(s) under ${tmp}`] : [];
}

async function main(): Promise<void> {
  let opts: Options;
  try {
    opts = options(process.argv.slice(2));
  } catch (err) {
    say(`bench: ${firstLine(err)}\n\n${HELP}`);
    process.exit(2);
  }
  if (process.getuid?.() !== 0) {
    say('bench: run it as root (containers need it)');
    process.exit(1);
  }
  const top = findTop();
  const runtsBin = join(top, 'bin', 'runts');
  const nodeBin = which('node') ?? process.execPath;
  catchInterrupts();

  const tmp = mkdtempSync(join(tmpdir(), 'runts-bench-'));
  const out = new Output(join(tmp, 'output.log'));
  const runtimes: Runtime[] = [{ name: 'runts', bin: runtsBin, root: join(tmp, 'root-runts') }];
  if (opts.runc) runtimes.push({ name: 'runc', bin: opts.runc, root: join(tmp, 'root-runc') });
  for (const rt of runtimes) mkdirSync(rt.root, { mode: 0o700 });
  mkdirSync(join(tmp, 'pids'));
  const containers = new Containers(join(tmp, 'pids'), out);
  // dockerd, containerd and ctr: installed now if missing (apt, as the e2e harness does).
  const noDocker = opts.docker ? ensureEngine('docker', (line) => say(`bench: ${line}`)) : undefined;
  const docker = opts.docker && !noDocker ? new Docker(join(tmp, 'docker'), out, `${containers.prefix}ctr`) : null;

  const info: Machine = machine(nodeBin, runtsBin, opts.runc, !!docker);
  const date = new Date().toISOString();
  const command = ['npm', 'run', 'bench', ...(process.argv.length > 2 ? ['--', ...process.argv.slice(2)] : [])].join(' ');
  say(`bench: ${command}`);
  say(`bench: ${info.nproc} × ${info.cpu}, Linux ${info.kernel}, node ${info.node}; ${info.runts}; ${info.runc ?? 'no runc'}`);
  const floor = launchOf(`${runtsBin}.cjs`);
  const floorText = [floor.cmd, ...floor.args, '-e', '0'].join(' ');
  say(`bench: medians of ${opts.runs} after ${opts.warmup} warm-up; node floor: ${floorText}; temp dir ${tmp}`);
  if (!opts.runc) say('bench: runc not found: runts and the node floor only');

  let rows: Row[] = [];
  let profileText: string | undefined;
  let failure: unknown;
  try {
    const bundles = makeBundles(tmp, top, runtsBin, out);
    const ctx: Context = { opts, nodeBin, node: floor, out, containers, runtimes, ...bundles };
    if (opts.profile) profileText = await profile(ctx, tmp);
    else rows = await bench(ctx, docker ?? noDocker, bundles.rootfs, runtsBin);
  } catch (err) {
    failure = err;
  } finally {
    say('bench: cleaning up');
    const problems: string[] = [];
    try {
      problems.push(...containers.cleanup(runtimes));
      if (docker) problems.push(...(await docker.stop()));
      problems.push(...(await stopStrays(tmp)));
      problems.push(...unmountUnder(tmp));
      out.close();
      rmSync(tmp, { recursive: true, force: true });
    } catch (err) {
      problems.push(`cleanup: ${firstLine(err)} (temp dir ${tmp})`);
    }
    for (const p of problems) say(`bench: cleanup: ${p}`);
  }

  if (failure instanceof Interrupted || interruptedBy()) {
    say(`bench: ${interruptedBy() ?? 'interrupted'}: stopped; nothing left behind`);
    process.exit(130);
  }
  if (failure) {
    say(`bench: ${failure instanceof Error ? failure.message : String(failure)}`);
    process.exit(1);
  }

  info.loadavgAfter = loadavg().map((l) => Math.round(l * 100) / 100);
  if (profileText !== undefined) {
    const load = `load average before ${info.loadavgBefore.join(' ')}, after ${info.loadavgAfter.join(' ')}`;
    process.stdout.write(`\nrunts run /bin/true: timeline, medians of ${opts.runs} runs; ${load}\n${profileText}\n`);
    return;
  }
  const lines = [
    '',
    `runts bench, ${date}`,
    `machine: ${info.nproc} × ${info.cpu}, Linux ${info.kernel}, node ${info.node}`,
    `${info.runts}; ${info.runc ?? 'runc not installed'}${info.docker ? `; dockerd: ${info.docker}` : ''}`,
    `medians of ${opts.runs} (after ${opts.warmup} warm-up), throughput: median of ${opts.rounds} rounds; load average before ${info.loadavgBefore.join(' ')}, after ${info.loadavgAfter.join(' ')}`,
    `command: ${command}`,
    `node floor: ${floorText} (as bin/runts starts node)`,
    '',
    table(rows),
    '',
    ...notes(rows).map((n) => `note: ${n}`),
  ];
  process.stdout.write(`${lines.join('\n')}\n`);
  if (opts.json) {
    const json = {
      date,
      command,
      options: { ...opts, only: opts.only ? [...opts.only] : null },
      machine: info,
      floor: floorText,
      rows: toJson(rows),
      markdown: table(rows, true),
    };
    writeFileSync(opts.json, `${JSON.stringify(json, null, 2)}\n`);
    say(`bench: figures saved to ${opts.json}`);
  }
}

main().catch((err) => {
  say(`bench: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`);
  process.exit(1);
});
