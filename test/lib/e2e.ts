/**
 * The e2e harness: real containerd, dockerd and podman with runts as their
 * runtime, all private to one temp dir (or the host's own, started by its
 * systemd: RUNTS_E2E_DAEMONS=system), and checks that nothing is left on
 * the host after each scenario.
 *
 *   - Packages (docker.io, containerd, podman) are installed with apt when
 *     missing and running as root (scripts/quickstart.sh installs them too).
 *   - containerd and dockerd run with their own state, sockets and cgroup
 *     parents under BASE (a /tmp/rte-XXXXXX dir: short, for socket paths);
 *     dockerd: no bridge, no iptables, no masquerading; containers run with
 *     --network none. Nothing sends traffic anywhere.
 *   - The daemons call runts through a wrapper (BASE/bin/runts) that logs
 *     each argv to BASE/argv.log, keeps copies of the --process and
 *     --resources files, and when runts fails, appends the argv, the exit
 *     code, stderr and the tail of the --log file the shim passed to
 *     BASE/failures.log: the scenarios print these when they fail.
 *   - A scenario may start a second private dockerd with
 *     --userns-remap=default on the same containerd (startRemappedDockerd);
 *     the users and id ranges it and podman's --userns=auto need go into
 *     copies of /etc/passwd, group, subuid and subgid bound over the real
 *     ones in the test file's private mount namespace (bindEtc), never
 *     into the machine's.
 *   - A busybox image made from busybox-static (scripts/make-rootfs.sh) is
 *     imported into each engine: `docker import`, `ctr images import` of an
 *     OCI archive built here, `podman import`.
 *   - With RUNTS_E2E_DAEMONS=system, the daemons are the host's, as its
 *     systemd started them with their default settings (on cgroup v2: the
 *     systemd cgroup driver everywhere): dockerd at /run/docker.sock with
 *     a runtime "runts" whose path is SYSTEM_WRAPPER (the host's
 *     daemon.json says so; the harness writes its wrapper there), containerd
 *     at /run/containerd/containerd.sock (ctr in a namespace of this run,
 *     runc shim with SystemdCgroup), podman with its own defaults but the
 *     runtime. Containers then live in systemd scopes: the leftover checks
 *     add the units and cgroups that name a container. Nothing of the
 *     daemons is stopped; what this run imported and ran is removed.
 *
 * Environment:
 *   RUNTS_E2E=skip      skip the e2e suites
 *   RUNTS_E2E=require   a missing package or a daemon that does not start is
 *                       a failure instead of a skip
 *   RUNTS_E2E_RUNTIME   the binary the wrapper runs (default bin/runts): e.g.
 *                       /usr/bin/runc to check the scenarios themselves
 *   RUNTS_E2E_VERBOSE=1 print every runtime argv (normalised) at the end
 *   RUNTS_E2E_KEEP=1    keep BASE (logs, argv.log) after the run
 *   RUNTS_E2E_DAEMONS=system  use the host's systemd-started daemons (above)
 *   RUNTS_E2E_ONLY      a regular expression: only the scenarios it matches
 *                       (by name) are run; the others are left out, not
 *                       skipped (for a slow host: the systemd VM's subset)
 */
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import type { Test } from 'uvu';
import {
  appendFileSync,
  chmodSync,
  closeSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  openSync,
  readFileSync,
  readdirSync,
  readlinkSync,
  rmSync,
  rmdirSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { readOr } from '../../conformance/host';
import {
  type ContainerRef,
  ContainerWatch,
  type Leftover,
  type ResolvedContainer,
  describeLeftover,
  removeLeftovers,
} from '../../conformance/leftovers';
import { type Engine, dockerCli, ensureEngine, privateContainerd, privateDockerdArgs, which } from '../../scripts/engines';
import { childDirs } from './cgroups';
import { RUNTS, TOP, isRoot } from './cli';
import { alive, mountsUnder } from './container';
import { skipTest } from './skips';

export type { Engine };

/** Whether the scenarios run against the host's own daemons (RUNTS_E2E_DAEMONS=system) instead of private ones. */
export const SYSTEM_DAEMONS = process.env.RUNTS_E2E_DAEMONS === 'system';
/** Where the harness puts its wrapper with system daemons: dockerd's daemon.json names it as the runtime "runts". */
export const SYSTEM_WRAPPER = '/run/runts-e2e/runts';
const SYSTEM_DOCKER_SOCK = '/run/docker.sock';
const SYSTEM_CONTAINERD_SOCK = '/run/containerd/containerd.sock';
/** The slice of ctr's containers with system daemons: a Kubernetes-like nested one (kubepods.slice/kubepods-besteffort.slice). */
const CTR_SLICE = 'kubepods-besteffort.slice';

export interface Ran {
  code: number | null;
  signal: string | null;
  stdout: string;
  stderr: string;
  ms: number;
}

export const sleepSync = (ms: number) => Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);

/** Polls fn until it returns a truthy value or ms pass; returns the last value. */
export function eventually<T>(fn: () => T, ms = 5000, every = 100): T {
  const deadline = Date.now() + ms;
  for (;;) {
    const v = fn();
    if (v || Date.now() > deadline) return v;
    sleepSync(every);
  }
}

export const quote = (s: string) => (/^[\w@%+=:,./-]+$/.test(s) ? s : `'${s.replace(/'/g, `'\\''`)}'`);

// ---------------------------------------------------------------- packages --

// which, ensureEngine and dockerCli are shared with the bench (scripts/engines.ts).
export { dockerCli, ensureEngine, which };

// ------------------------------------------------------------------- host --

export interface CgroupLayout {
  /** Mount point of each v1 controller (and "" for the v2 hierarchy). */
  mounts: Map<string, string>;
  v2only: boolean;
}

const MOUNT_WORDS = new Set([
  'rw',
  'ro',
  'xattr',
  'clone_children',
  'noprefix',
  'cpuset_v2_mode',
  'nsdelegate',
  'memory_recursiveprot',
  'favordynmods',
]);

export function cgroupLayout(): CgroupLayout {
  const mounts = new Map<string, string>();
  for (const line of readFileSync('/proc/self/mountinfo', 'utf8').split('\n')) {
    const [pre = '', post] = line.split(' - ');
    const point = pre.split(' ')[4];
    if (!post || !point) continue;
    const [fstype, , superOpts = ''] = post.split(' ');
    if (fstype === 'cgroup2') mounts.set('', point);
    else if (fstype === 'cgroup') {
      for (const opt of superOpts.split(',')) {
        if (opt.startsWith('name=') || (!opt.includes('=') && !MOUNT_WORDS.has(opt))) mounts.set(opt, point);
      }
    }
  }
  const v1 = [...mounts.keys()].filter((k) => k !== '');
  return { mounts, v2only: v1.length === 0 };
}

/** The cgroup of a process: controller (v1) or "" (v2) -> path. */
export function cgroupOf(pid: number): Map<string, string> {
  const found = new Map<string, string>();
  for (const line of readFileSync(`/proc/${pid}/cgroup`, 'utf8').trim().split('\n')) {
    const [, ctrls, path] = line.split(':');
    if (ctrls === undefined || path === undefined) continue;
    if (ctrls === '') found.set('', path);
    else for (const c of ctrls.split(',')) found.set(c, path);
  }
  return found;
}

/**
 * A cgroup file of a process as the host sees it: on v1 the controller's
 * file (v1file), on a pure v2 host the unified file (v2file). Returns the
 * path and the cgroup path of the process for that controller.
 */
export function hostCgroupFile(
  pid: number,
  controller: string,
  v1file: string,
  v2file: string,
): { file: string; cgroup: string } {
  const layout = cgroupLayout();
  const of = cgroupOf(pid);
  if (layout.v2only) {
    const cg = of.get('') ?? '/';
    return { file: join(layout.mounts.get('')!, cg, v2file), cgroup: cg };
  }
  const cg = of.get(controller) ?? '/';
  return { file: join(layout.mounts.get(controller)!, cg, v1file), cgroup: cg };
}

/** Every hierarchy's mount point (each v1 controller once, and the v2 one). */
function hierarchies(): string[] {
  return [...new Set(cgroupLayout().mounts.values())];
}

export interface ProcInfo {
  pid: number;
  cmdline: string;
  root: string;
}

/** Live processes whose root directory is under dir (container processes of this harness). */
export function processesRootedUnder(dir: string): ProcInfo[] {
  const found: ProcInfo[] = [];
  for (const p of readdirSync('/proc')) {
    if (!/^\d+$/.test(p)) continue;
    try {
      const root = readlinkSync(`/proc/${p}/root`);
      if (root !== dir && !root.startsWith(`${dir}/`)) continue;
      if (/^\d+ \(.*\) [ZX] /s.test(readFileSync(`/proc/${p}/stat`, 'latin1'))) continue;
      found.push({ pid: Number(p), root, cmdline: readFileSync(`/proc/${p}/cmdline`, 'utf8').replace(/\0/g, ' ').trim() });
    } catch {
      // gone, or a kernel thread
    }
  }
  return found;
}

/** Live processes whose command line contains text. */
export function processesMatching(text: string): ProcInfo[] {
  const found: ProcInfo[] = [];
  for (const p of readdirSync('/proc')) {
    if (!/^\d+$/.test(p) || Number(p) === process.pid) continue;
    try {
      const cmdline = readFileSync(`/proc/${p}/cmdline`, 'utf8').replace(/\0/g, ' ').trim();
      if (!cmdline.includes(text)) continue;
      if (/^\d+ \(.*\) [ZX] /s.test(readFileSync(`/proc/${p}/stat`, 'latin1'))) continue;
      found.push({ pid: Number(p), root: '', cmdline });
    } catch {
      // gone
    }
  }
  return found;
}

/** Subdirectories (deepest first) of each hierarchy's NAME dir. */
function cgroupDirsUnder(name: string): string[] {
  const dirs: string[] = [];
  const walk = (d: string) => {
    if (!existsSync(d)) return;
    for (const sub of childDirs(d)) walk(sub);
    dirs.push(d);
  };
  for (const h of hierarchies()) walk(join(h, name));
  return dirs;
}

/**
 * What systemd still has of a container: units named after it (docker-ID.scope,
 * libpod-ID.scope, libpod-conmon-ID.scope, PREFIX-ID.scope) and cgroups so
 * named in any hierarchy. A failed scope stays listed until reset.
 */
function systemdLeftovers(c: ResolvedContainer): Leftover[] {
  const named = (name: string) =>
    name === c.id || name.endsWith(`-${c.id}.scope`) || name.endsWith(`-${c.id}.slice`) || name.endsWith(`-${c.id}.service`);
  const found: Leftover[] = [];
  const units = spawnSync('systemctl', ['list-units', '--all', '--plain', '--no-legend', '--full'], { encoding: 'utf8' });
  for (const line of (units.stdout ?? '').split('\n')) {
    const [unit, , active, sub] = line.trim().split(/\s+/);
    if (unit && named(unit)) found.push({ kind: 'unit', where: unit, detail: `${active} ${sub}` });
  }
  const walk = (dir: string) => {
    for (const sub of childDirs(dir)) {
      if (named(basename(sub))) found.push({ kind: 'cgroup', where: sub });
      walk(sub);
    }
  };
  for (const h of hierarchies()) walk(h);
  return found;
}

/** Stops and forgets the units a scenario left (a failed unit stays listed until reset). */
function removeUnits(found: Leftover[]): void {
  const units = found.filter((l) => l.kind === 'unit').map((l) => l.where);
  if (!units.length) return;
  spawnSync('systemctl', ['stop', ...units], { stdio: 'ignore', timeout: 30_000 });
  spawnSync('systemctl', ['reset-failed', ...units], { stdio: 'ignore', timeout: 30_000 });
}

// ------------------------------------------------------------------ image --

/** An OCI image layout archive (for `ctr images import`) holding one uncompressed layer. */
export function ociArchive(layerTar: string, name: string, workDir: string): string {
  const dir = join(workDir, 'oci');
  const blobs = join(dir, 'blobs', 'sha256');
  mkdirSync(blobs, { recursive: true });
  const blob = (data: Buffer) => {
    const digest = createHash('sha256').update(data).digest('hex');
    writeFileSync(join(blobs, digest), data);
    return { digest: `sha256:${digest}`, size: data.length };
  };
  const layer = blob(readFileSync(layerTar));
  const arch =
    (
      { x64: 'amd64', arm64: 'arm64', arm: 'arm', s390x: 's390x', ppc64: 'ppc64le', riscv64: 'riscv64' } as Record<string, string>
    )[process.arch] ?? process.arch;
  const config = blob(
    Buffer.from(
      JSON.stringify({
        architecture: arch,
        os: 'linux',
        config: { Env: ['PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin'], Cmd: ['sh'] },
        rootfs: { type: 'layers', diff_ids: [layer.digest] },
        history: [{ created_by: 'runts e2e: scripts/make-rootfs.sh' }],
      }),
    ),
  );
  const manifest = blob(
    Buffer.from(
      JSON.stringify({
        schemaVersion: 2,
        mediaType: 'application/vnd.oci.image.manifest.v1+json',
        config: { mediaType: 'application/vnd.oci.image.config.v1+json', ...config },
        layers: [{ mediaType: 'application/vnd.oci.image.layer.v1.tar', ...layer }],
      }),
    ),
  );
  writeFileSync(join(dir, 'oci-layout'), JSON.stringify({ imageLayoutVersion: '1.0.0' }));
  writeFileSync(
    join(dir, 'index.json'),
    JSON.stringify({
      schemaVersion: 2,
      manifests: [
        {
          mediaType: 'application/vnd.oci.image.manifest.v1+json',
          ...manifest,
          platform: { architecture: arch, os: 'linux' },
          annotations: { 'io.containerd.image.name': name, 'org.opencontainers.image.ref.name': name.split(':').pop() },
        },
      ],
    }),
  );
  const out = join(workDir, 'image-oci.tar');
  const r = spawnSync('tar', ['-C', dir, '-cf', out, 'oci-layout', 'index.json', 'blobs'], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`tar of the OCI layout: ${r.stderr}`);
  return out;
}

// ---------------------------------------------------------------- wrapper --

/**
 * The runtime the daemons call: logs argv, runs the real binary, and keeps
 * the evidence of a failure. Not exec'ed, so that it can look at the exit
 * code; stderr is captured only for the commands whose stdio no container
 * process inherits (create, run and exec pass theirs to the container).
 */
function wrapperScript(base: string, target: string): string {
  return `#!/bin/sh
# runts e2e wrapper: see test/lib/e2e.ts
base=${quote(base)}
target=\${RUNTS_E2E_TARGET:-${quote(target)}}
line="$(date +%s.%N)	$$"
for a in "$@"; do line="$line	$a"; done
printf '%s\\n' "$line" >> "$base/argv.log"
log=; proc=; pidfile=; prev=; cmd=; last=
for a in "$@"; do
  case "$prev" in
    --log) log=$a ;;
    --process|-p) proc=$a ;;
    --pid-file) pidfile=$a ;;
  esac
  case "$a" in
    --log=*) log=\${a#--log=} ;;
    --process=*) proc=\${a#--process=} ;;
    --pid-file=*) pidfile=\${a#--pid-file=} ;;
  esac
  last=$a
  if [ -z "$cmd" ]; then
    case "$prev" in
      --root|--log|--log-format|--criu|--rootless) ;;
      *) case "$a" in -*) ;; *) cmd=$a ;; esac ;;
    esac
  fi
  prev=$a
done
mkdir -p "$base/calls"
[ -n "$proc" ] && [ -f "$proc" ] && cp "$proc" "$base/calls/$$.process.json"
case " $* " in
  *" --resources - "*) cat > "$base/calls/$$.resources.json"; exec < "$base/calls/$$.resources.json" ;;
esac
case "$cmd" in
  create|run|exec|events) "$target" "$@"; rc=$?; err= ;;
  *) "$target" "$@" 2> "$base/calls/$$.stderr"; rc=$?; err="$base/calls/$$.stderr"; cat "$err" >&2 ;;
esac
# What the created init is (its namespaces and cgroups), for the leftover checks (conformance/leftovers.ts).
if [ "$cmd" = create ] && [ "$rc" -eq 0 ] && [ -s "$pidfile" ]; then
  pid=$(cat "$pidfile")
  mkdir -p "$base/observed"
  { for ns in mnt pid net ipc uts cgroup time; do readlink "/proc/$pid/ns/$ns"; done; cat "/proc/$pid/cgroup"; } > "$base/observed/$last" 2>/dev/null
fi
if [ "$rc" -ne 0 ]; then
  {
    printf '== runtime failed (exit %s): %s\\n' "$rc" "$line"
    [ -n "$err" ] && [ -s "$err" ] && sed 's/^/   stderr: /' "$err"
    [ -n "$log" ] && [ -s "$log" ] && tail -n 20 "$log" | sed 's/^/   --log: /'
  } >> "$base/failures.log"
fi
[ -n "$err" ] && rm -f "$err"
exit "$rc"
`;
}

// ---------------------------------------------------------------- harness --

interface Daemon {
  name: string;
  child: ChildProcess;
  log: string;
}

export interface Mark {
  argv: number;
  failures: number;
  logs: Map<string, number>;
  /** When (ms since the epoch): the system daemons' journal is read from there. */
  at?: number;
}

const size = (f: string) => {
  try {
    return statSync(f).size;
  } catch {
    return 0;
  }
};
const readFrom = (f: string, offset: number) => {
  try {
    return readFileSync(f).subarray(offset).toString('utf8');
  } catch {
    return '';
  }
};

const SHIM_SOCKETS = '/run/containerd/s';
/** The remapped dockerd's "dockremap" user (its own ids are never used: only its ranges are). */
const REMAP_USER_ID = 64999;
/** Where the remapped dockerd's range starts: container root is this uid and gid on the host. */
export const REMAP_BASE = 300000;
/** podman (as root) keeps a blob info cache here whatever --root says: removed at the end when we made it. */
const PODMAN_CACHE = '/var/lib/containers';
const listDir = (d: string) => {
  try {
    return readdirSync(d);
  } catch {
    return [];
  }
};

/** /run dirs the daemons make at fixed places; removed at the end when we made them and they are empty. */
const FIXED_DIRS = [
  '/run/containerd/s',
  '/run/containerd/fifo',
  '/run/containerd/runc',
  '/run/containerd',
  '/run/docker/plugins',
  '/run/docker',
  '/run/containers/networks',
  '/run/containers',
  '/run/runts',
  '/run/runc',
  '/run/libpod',
];

export class Harness {
  readonly base: string;
  /** Unique per run: names the cgroup parents and the containerd namespace. */
  readonly tag: string;
  readonly wrapper: string;
  readonly target: string;
  readonly argvLog: string;
  readonly failuresLog: string;
  readonly rootfsTar: string;
  readonly daemons: Daemon[] = [];
  /** Cgroup parents (top-level names) containers of this run go under. */
  readonly cgroupParents: string[] = [];
  containerdSock?: string;
  containerdState?: string;
  dockerSock?: string;
  /** The --userns-remap=default dockerd's socket, once a scenario started it. */
  remappedDockerSock?: string;
  /** Every private dockerd's socket by its daemon's name: stop() removes their containers. */
  private readonly dockerds = new Map<string, string>();
  /** /etc files bound over with copies (bindEtc), unbound by stop(). */
  private readonly boundEtc: string[] = [];
  ctrNamespace?: string;
  ctrRuncRoot?: string;
  podmanArgs?: string[];
  readonly image = 'runts-e2e/busybox:latest';
  readonly ctrImage = 'docker.io/runts-e2e/busybox:latest';
  readonly podmanImage = 'localhost/runts-e2e/busybox:latest';
  private baselineMounts: string[] = [];
  private readonly fixedDirsBefore = new Set(FIXED_DIRS.filter((d) => existsSync(d)));
  private readonly shimSocketsBefore = new Set(listDir(SHIM_SOCKETS));
  private readonly podmanCacheBefore = existsSync(PODMAN_CACHE);
  private readonly topCgroupsBefore = new Set<string>();
  private stopped = false;
  private counter = 0;

  constructor() {
    this.base = mkdtempSync('/tmp/rte-');
    chmodSync(this.base, 0o755);
    this.tag = `runts-e2e-${this.base.slice('/tmp/rte-'.length)}`;
    this.argvLog = join(this.base, 'argv.log');
    this.failuresLog = join(this.base, 'failures.log');
    writeFileSync(this.argvLog, '');
    writeFileSync(this.failuresLog, '');
    mkdirSync(join(this.base, 'bin'));
    mkdirSync(join(this.base, 'out'));
    this.target = process.env.RUNTS_E2E_RUNTIME || RUNTS;
    this.wrapper = SYSTEM_DAEMONS ? SYSTEM_WRAPPER : join(this.base, 'bin', 'runts');
    mkdirSync(dirname(this.wrapper), { recursive: true });
    writeFileSync(this.wrapper, wrapperScript(this.base, this.target), { mode: 0o755 });
    for (const h of hierarchies()) for (const dir of childDirs(h)) this.topCgroupsBefore.add(dir);
    // The busybox rootfs, and its tar (the image of every engine).
    const rootfs = join(this.base, 'rootfs');
    const made = spawnSync('sh', [join(TOP, 'scripts', 'make-rootfs.sh'), rootfs], { encoding: 'utf8' });
    if (made.status !== 0) throw new Error(`make-rootfs.sh: ${made.stderr}`);
    this.rootfsTar = join(this.base, 'rootfs.tar');
    const tar = spawnSync('tar', ['-C', rootfs, '-cf', this.rootfsTar, '.'], { encoding: 'utf8' });
    if (tar.status !== 0) throw new Error(`tar: ${tar.stderr}`);
    const stop = () => this.stop();
    process.once('exit', stop);
    for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
      process.once(sig, () => {
        stop();
        process.exit(130);
      });
    }
  }

  /** A file name under BASE/out, unique in this run. */
  file(name: string): string {
    return join(this.base, 'out', `${++this.counter}-${name}`);
  }

  /** Runs a command with its output in files (a container may keep a pipe open); never throws for a non-zero exit. */
  run(file: string, args: string[], opts: { timeout?: number; input?: string; env?: NodeJS.ProcessEnv } = {}): Ran {
    const n = ++this.counter;
    const outFile = join(this.base, 'out', `${n}.out`);
    const errFile = join(this.base, 'out', `${n}.err`);
    const out = openSync(outFile, 'w');
    const err = openSync(errFile, 'w');
    const t0 = Date.now();
    try {
      const r = spawnSync(file, args, {
        stdio: [opts.input === undefined ? 'ignore' : 'pipe', out, err],
        input: opts.input,
        timeout: opts.timeout ?? 90_000,
        killSignal: 'SIGKILL',
        env: opts.env ?? process.env,
      });
      const stderr = readFileSync(errFile, 'utf8') + (r.error ? `\n[harness] ${r.error.message}` : '');
      return { code: r.status, signal: r.signal, stdout: readFileSync(outFile, 'utf8'), stderr, ms: Date.now() - t0 };
    } finally {
      closeSync(out);
      closeSync(err);
      rmSync(outFile, { force: true });
      rmSync(errFile, { force: true });
    }
  }

  // ------------------------------------------------------------ daemons --

  private startDaemon(name: string, file: string, args: string[], ready: () => boolean, timeoutMs = 60_000): void {
    const log = join(this.base, `${name}.log`);
    const fd = openSync(log, 'a');
    const child = spawn(file, args, { detached: true, stdio: ['ignore', fd, fd] });
    closeSync(fd);
    child.on('error', () => {});
    this.daemons.push({ name, child, log });
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      if (!child.pid || !alive(child.pid))
        throw new Error(`${name} exited at start: ${readFrom(log, 0).trim().split('\n').slice(-8).join('\n')}`);
      if (ready()) return;
      if (Date.now() > deadline)
        throw new Error(
          `${name} did not answer within ${timeoutMs / 1000} s: ${readFrom(log, 0).trim().split('\n').slice(-8).join('\n')}`,
        );
      sleepSync(100);
    }
  }

  /** containerd: a private one, or the system's; ctr works in a namespace of this run. */
  startContainerd(): void {
    if (SYSTEM_DAEMONS) {
      this.containerdSock = SYSTEM_CONTAINERD_SOCK;
      const v = this.ctr(['version'], { timeout: 30_000 });
      if (v.code !== 0)
        throw new Error(`the system's containerd does not answer at ${SYSTEM_CONTAINERD_SOCK}: ${v.stderr.trim()}`);
    } else this.startPrivateContainerd();
    this.ctrNamespace = this.tag;
    this.ctrRuncRoot = join(this.base, 'ctr-runc-root');
  }

  private startPrivateContainerd(): void {
    const dir = join(this.base, 'containerd');
    mkdirSync(dir);
    const containerd = privateContainerd(dir, join(this.base, 'containerd.sock'));
    this.containerdSock = containerd.sock;
    this.containerdState = containerd.state;
    this.startDaemon(
      'containerd',
      'containerd',
      containerd.args,
      () => existsSync(containerd.sock) && this.ctr(['version'], { timeout: 10_000 }).code === 0,
    );
    this.cgroupParents.push(this.tag); // ctr's default cgroupsPath is /NAMESPACE/ID
  }

  /** dockerd: a private one, or the system's (which must list the runtime "runts" at SYSTEM_WRAPPER); then the image. */
  startDockerd(): void {
    if (SYSTEM_DAEMONS) {
      this.dockerSock = SYSTEM_DOCKER_SOCK;
      mkdirSync(join(this.base, 'docker-cli'));
      const v = this.docker(['version'], { timeout: 30_000 });
      if (v.code !== 0) throw new Error(`the system's dockerd does not answer at ${SYSTEM_DOCKER_SOCK}: ${v.stderr.trim()}`);
      const info = this.docker([
        'info',
        '--format',
        'cgroup driver {{.CgroupDriver}}, cgroup v{{.CgroupVersion}}, security {{join .SecurityOptions " "}}',
      ]);
      console.log(`  e2e: the system's dockerd: ${info.stdout.trim()}`);
    } else this.startPrivateDockerd();
    const runtimes = this.docker(['info', '--format', '{{json .Runtimes}}']);
    const runts = (JSON.parse(runtimes.stdout || '{}') as Record<string, { path?: string }>).runts;
    if (runts?.path !== this.wrapper)
      throw new Error(`dockerd does not have the runts runtime at ${this.wrapper}: ${runtimes.stdout}${runtimes.stderr}`);
    const imported = this.docker(['import', this.rootfsTar, this.image], { timeout: 120_000 });
    if (imported.code !== 0) throw new Error(`docker import: ${imported.stderr}`);
  }

  private startPrivateDockerd(): void {
    this.dockerSock = this.startPrivateDockerdAs('dockerd', '', []);
  }

  /**
   * A private dockerd on the harness's containerd, named name (its log and
   * socket), its data and exec roots BASE/dd and BASE/de with the suffix
   * (short: socket paths are made under them), more flags; returns its socket.
   */
  private startPrivateDockerdAs(name: string, suffix: string, extra: string[]): string {
    if (!this.containerdSock) throw new Error('startDockerd: containerd first');
    const sock = join(this.base, `${name}.sock`);
    const parent = `${this.tag}-docker`;
    if (!this.cgroupParents.includes(parent)) this.cgroupParents.push(parent);
    mkdirSync(join(this.base, 'docker-cli'), { recursive: true });
    const places = {
      config: join(this.base, `${name}.json`),
      sock,
      dataRoot: join(this.base, `dd${suffix}`),
      execRoot: join(this.base, `de${suffix}`),
      pidfile: join(this.base, `${name}.pid`),
      containerd: this.containerdSock,
      runtimes: { runts: this.wrapper },
    };
    const args = privateDockerdArgs(places, ['--cgroup-parent', `/${parent}`, ...extra]);
    this.dockerds.set(name, sock);
    this.startDaemon(
      name,
      'dockerd',
      args,
      () => existsSync(sock) && this.docker(['version'], { timeout: 10_000, sock }).code === 0,
    );
    return sock;
  }

  /**
   * A second private dockerd with --userns-remap=default, on the harness's
   * containerd (in containerd namespaces of its own), with the image
   * imported; returns its socket. Its "dockremap" user and its ranges
   * (dockremap:REMAP_BASE:65536 in /etc/subuid and /etc/subgid) are put in
   * this file's private copies of /etc (bindEtc): dockerd would otherwise
   * add the user and the ranges to the machine's files itself (adduser,
   * usermod -v/-w). Started at most once per harness, by the scenario that
   * needs it.
   */
  startRemappedDockerd(): string {
    if (this.remappedDockerSock) return this.remappedDockerSock;
    if (SYSTEM_DAEMONS) throw new Error('a remapped dockerd is private: not with RUNTS_E2E_DAEMONS=system');
    this.bindEtc({
      passwd: [`dockremap:x:${REMAP_USER_ID}:${REMAP_USER_ID}:runts e2e:/nonexistent:/bin/false`],
      group: [`dockremap:x:${REMAP_USER_ID}:`],
      subuid: [`dockremap:${REMAP_BASE}:65536`],
      subgid: [`dockremap:${REMAP_BASE}:65536`],
    });
    const sock = this.startPrivateDockerdAs('dockerd-userns', '-u', [
      '--userns-remap=default',
      '--containerd-namespace',
      `${this.tag}-userns`,
      '--containerd-plugins-namespace',
      `${this.tag}-userns-plugins`,
    ]);
    const imported = this.docker(['import', this.rootfsTar, this.image], { timeout: 120_000, sock });
    if (imported.code !== 0) throw new Error(`docker import (dockerd-userns): ${imported.stderr}`);
    this.remappedDockerSock = sock;
    return sock;
  }

  /**
   * Lines added to /etc files (passwd, group, subuid, subgid) without
   * touching the machine's: each file is copied under BASE once, bound over
   * the real one in this test file's mount namespace, and the lines not
   * there yet are appended to the copy. Only under the test runner's
   * isolation (a private mount namespace per file): else it throws. stop()
   * unbinds them.
   */
  bindEtc(lines: Partial<Record<'passwd' | 'group' | 'subuid' | 'subgid', string[]>>): void {
    if (process.env.RUNTS_TEST_ISOLATED !== '1')
      throw new Error(
        "binding over /etc files needs the test runner's private mount namespace (RUNTS_TEST_ISOLATED=1): the machine's would change",
      );
    for (const [name, add] of Object.entries(lines)) {
      const etc = `/etc/${name}`;
      if (!this.boundEtc.includes(etc)) {
        const copy = join(this.base, 'etc', name);
        mkdirSync(dirname(copy), { recursive: true });
        writeFileSync(copy, readOr(etc), { mode: 0o644 });
        const bound = spawnSync('mount', ['--bind', copy, etc], { encoding: 'utf8' });
        if (bound.status !== 0) throw new Error(`mount --bind ${copy} ${etc}: ${bound.stderr.trim()}`);
        this.boundEtc.push(etc);
      }
      const text = readFileSync(etc, 'utf8');
      const missing = add.filter((l) => !text.split('\n').includes(l));
      const sep = text === '' || text.endsWith('\n') ? '' : '\n';
      if (missing.length) appendFileSync(etc, `${sep}${missing.join('\n')}\n`);
    }
  }

  importCtrImage(): void {
    const archive = ociArchive(this.rootfsTar, this.ctrImage, this.base);
    const r = this.ctr(['images', 'import', archive], { timeout: 120_000 });
    if (r.code !== 0) throw new Error(`ctr images import: ${r.stderr}${r.stdout}`);
    const ls = this.ctr(['images', 'ls', '-q']);
    if (!ls.stdout.split('\n').includes(this.ctrImage))
      throw new Error(`ctr images import did not make ${this.ctrImage}: ${ls.stdout}`);
  }

  /**
   * podman with storage, state, tmp and network config of its own; vfs,
   * cgroupfs, file events. With system daemons: podman's defaults (its
   * storage, the systemd cgroup manager, journald events), runtime aside.
   */
  setupPodman(): void {
    const dir = join(this.base, 'podman');
    mkdirSync(join(dir, 'tmp'), { recursive: true });
    this.podmanArgs = SYSTEM_DAEMONS ? ['--runtime', this.wrapper] : this.privatePodmanArgs(dir);
    const v = this.podman(['version', '--format', '{{.Client.Version}}'], { timeout: 60_000 });
    if (v.code !== 0) throw new Error(`podman version: ${v.stderr}`);
    const r = this.podman(['import', this.rootfsTar, this.podmanImage], { timeout: 120_000 });
    if (r.code !== 0) throw new Error(`podman import: ${r.stderr}`);
    if (SYSTEM_DAEMONS) {
      const format =
        'cgroup manager {{.Host.CgroupManager}}, cgroup {{.Host.CgroupsVersion}}, storage {{.Store.GraphDriverName}}';
      const info = this.podman(['info', '--format', format], { timeout: 180_000 });
      console.log(`  e2e: podman: ${info.code === 0 ? info.stdout.trim() : `podman info failed: ${info.stderr.trim()}`}`);
    }
  }

  private privatePodmanArgs(dir: string): string[] {
    this.cgroupParents.push(`${this.tag}-podman`);
    // prettier-ignore
    return [
      '--root', join(dir, 'root'),
      '--runroot', join(dir, 'run'),
      '--tmpdir', join(dir, 'tmp'),
      '--network-config-dir', join(dir, 'networks'),
      '--volumepath', join(dir, 'volumes'),
      '--storage-driver', 'vfs',
      '--cgroup-manager', 'cgroupfs',
      '--events-backend', 'file',
      '--runtime', this.wrapper,
    ];
  }

  // ------------------------------------------------------------ cgroups --

  /** The cgroup docker puts a container in: its systemd driver's scope, or the private dockerd's --cgroup-parent. */
  dockerCgroup(id: string): string {
    return SYSTEM_DAEMONS ? `/system.slice/docker-${id}.scope` : `/${this.tag}-docker/${id}`;
  }

  /** ctr run's cgroup flags: with the system's containerd, the runc shim's systemd cgroup driver in a Kubernetes-like slice. */
  ctrCgroupArgs(id: string): string[] {
    return SYSTEM_DAEMONS ? ['--runc-systemd-cgroup', '--cgroup', `${CTR_SLICE}:runts-e2e:${id}`] : [];
  }

  /** podman run's cgroup flags: none with the system's podman (its default, machine.slice), else this run's parent. */
  podmanCgroupArgs(): string[] {
    return SYSTEM_DAEMONS ? [] : ['--cgroup-parent', `/${this.tag}-podman`];
  }

  /** Mounts under BASE once everything is up: what a scenario must leave as it found. */
  settle(): void {
    this.baselineMounts = mountsUnder(this.base);
  }

  // ------------------------------------------------------------ clients --

  /** The docker client of the harness's dockerd, or of the one at opts.sock. */
  docker(args: string[], opts: { timeout?: number; input?: string; sock?: string } = {}): Ran {
    const sock = opts.sock ?? this.dockerSock;
    const env = { ...process.env, DOCKER_CONFIG: join(this.base, 'docker-cli'), DOCKER_HOST: `unix://${sock}` };
    return this.run(dockerCli(), ['-H', `unix://${sock}`, ...args], { ...opts, env });
  }

  /** The docker command line as one shell string (for a pty session), for the harness's dockerd or the one at sock. */
  dockerShell(args: string[], sock = this.dockerSock): string {
    return [dockerCli(), '-H', `unix://${sock}`, ...args].map(quote).join(' ');
  }

  ctr(args: string[], opts: { timeout?: number; namespace?: string } = {}): Ran {
    return this.run(
      'ctr',
      ['--address', this.containerdSock!, '--namespace', opts.namespace ?? this.ctrNamespace ?? 'default', ...args],
      opts,
    );
  }

  podman(args: string[], opts: { timeout?: number; env?: NodeJS.ProcessEnv } = {}): Ran {
    const env = { ...process.env, ...this.podmanEnv(), ...opts.env };
    return this.run('podman', [...this.podmanArgs!, ...args], { ...opts, env });
  }

  /** The podman command line as one shell string (for a pty session). */
  podmanShell(args: string[]): string {
    const env = Object.entries(this.podmanEnv()).map(([k, v]) => `${k}=${quote(v)}`);
    return ['env', ...env, ...['podman', ...this.podmanArgs!, ...args].map(quote)].join(' ');
  }

  /** TMPDIR: image copies go there (else /var/tmp). */
  private podmanEnv(): Record<string, string> {
    return { TMPDIR: join(this.base, 'podman', 'tmp') };
  }

  // -------------------------------------------------------- diagnostics --

  mark(): Mark {
    return {
      argv: size(this.argvLog),
      failures: size(this.failuresLog),
      logs: new Map(this.daemons.map((d) => [d.log, size(d.log)])),
      at: Date.now(),
    };
  }

  /** The runtime calls since the mark, one line each (argv as the daemon passed it). */
  callsSince(mark: Mark): string[][] {
    return readFrom(this.argvLog, mark.argv)
      .split('\n')
      .filter(Boolean)
      .map((l) => l.split('\t').slice(2));
  }

  /** What happened since the mark: runtime argv, runtime failures (stderr, --log), daemon log lines. */
  diagnostics(mark: Mark): string {
    const parts: string[] = [];
    const calls = this.callsSince(mark);
    if (calls.length) parts.push(`runtime calls (${calls.length}):\n${calls.map((c) => `  ${c.join(' ')}`).join('\n')}`);
    const failures = readFrom(this.failuresLog, mark.failures).trim();
    if (failures) parts.push(`runtime failures:\n${failures}`);
    for (const d of this.daemons) {
      const lines = readFrom(d.log, mark.logs.get(d.log) ?? 0).trim();
      if (lines) parts.push(`${d.name} log:\n${lines.split('\n').slice(-15).join('\n')}`);
    }
    if (SYSTEM_DAEMONS && mark.at) {
      const since = `@${Math.floor(mark.at / 1000)}`;
      const journal = spawnSync(
        'journalctl',
        ['-q', '--no-pager', '-o', 'short-monotonic', '--since', since, '-u', 'docker', '-u', 'containerd', '-p', 'warning'],
        { encoding: 'utf8' },
      );
      const lines = (journal.stdout ?? '').trim();
      if (lines) parts.push(`journal (docker, containerd; warnings):\n${lines.split('\n').slice(-15).join('\n')}`);
    }
    return parts.join('\n');
  }

  /** Every distinct runtime argv shape seen, ids and paths normalised (for the record of what each engine calls). */
  argvShapes(): string[] {
    const shapes = new Set<string>();
    for (const line of readFileSync(this.argvLog, 'utf8').split('\n').filter(Boolean)) {
      const args = line.split('\t').slice(2);
      shapes.add(
        args
          .map((a) => (a.startsWith(this.base) ? `BASE${a.slice(this.base.length)}` : a))
          .map((a) =>
            a
              .replace(/[0-9a-f]{64}/g, 'ID')
              .replace(/runc-process\d+/g, 'runc-processN')
              .replace(/pty\d+/g, 'ptyN')
              .replace(/\/tmp\/[\w.-]+\//g, (m) => (m.startsWith('/tmp/rte-') ? m : '/tmp/…/')),
          )
          .join(' '),
      );
    }
    return [...shapes];
  }

  // ---------------------------------------------------------- leftovers --

  /** The containers with these ids as the runtime was told of them: --root (its default when none) and the bundle of their create. */
  private containersOf(ids: string[]): ContainerRef[] {
    const refs = new Map<string, ContainerRef>();
    const value = (args: string[], flag: string) => {
      const i = args.findIndex((a) => a === flag || a.startsWith(`${flag}=`));
      const word = args[i];
      return word === undefined ? undefined : word.startsWith(`${flag}=`) ? word.slice(flag.length + 1) : args[i + 1];
    };
    for (const line of readFileSync(this.argvLog, 'utf8').split('\n').filter(Boolean)) {
      const args = line.split('\t').slice(2);
      const id = ids.find((i) => args[args.length - 1] === i || args.includes(i));
      if (!id) continue;
      const root = value(args, '--root') ?? (this.target === RUNTS ? '/run/runts' : '/run/runc');
      const ref = refs.get(`${root}\0${id}`) ?? { id, root, probes: SYSTEM_DAEMONS ? [systemdLeftovers] : [] };
      ref.bundle = value(args, '--bundle') ?? ref.bundle;
      refs.set(`${root}\0${id}`, ref);
    }
    return [...refs.values()];
  }

  /**
   * What containers with these ids left on the host (conformance/leftovers.ts:
   * processes in the namespaces and cgroups the wrapper saw their init in,
   * holding their state or bundle; mounts under their bundle; cgroups named
   * after them; runtime state), and what this run's containers left at
   * large: processes rooted under BASE or given by pid, cgroups under this
   * run's parents, mounts under BASE. Waits up to 5 s for teardown that
   * happens after the client returns. What it finds it reports, then
   * removes (so that one leak does not fail every later test).
   */
  leftovers(ids: string[], pids: number[] = []): string[] {
    const look = (): Leftover[] => {
      const found: Leftover[] = [];
      for (const ref of this.containersOf(ids)) {
        const watch = new ContainerWatch(ref);
        watch.noteRecorded(readOr(join(this.base, 'observed', ref.id)));
        found.push(...watch.leftovers());
      }
      const seen = (pid: number) => found.some((l) => l.pid === pid);
      for (const p of processesRootedUnder(this.base))
        if (!seen(p.pid))
          found.push({ kind: 'process', where: String(p.pid), pid: p.pid, detail: `root ${p.root}: ${p.cmdline}` });
      for (const pid of pids)
        if (pid > 0 && alive(pid) && !seen(pid))
          found.push({ kind: 'process', where: String(pid), pid, detail: 'container pid' });
      for (const parent of this.cgroupParents) {
        for (const d of cgroupDirsUnder(parent)) {
          const rel = d.split(`/${parent}`)[1];
          if (!rel || rel === '/conmon') continue; // the parent itself; podman's conmon cgroup is podman's
          if (!found.some((l) => l.where === d)) found.push({ kind: 'cgroup', where: d });
        }
      }
      for (const m of mountsUnder(this.base))
        if (!this.baselineMounts.includes(m) && !found.some((l) => l.where === m)) found.push({ kind: 'mount', where: m });
      // Once each: a scope's cgroup is both where the container was and a cgroup named after it.
      return [...new Map(found.map((l) => [`${l.kind}\0${l.where}`, l])).values()];
    };
    const found =
      eventually(() => {
        const f = look();
        return f.length ? undefined : f;
      }, 5000) ?? look();
    if (found.length) this.scrub(found);
    return found.map(describeLeftover);
  }

  /** Removes what a scenario left: units, container processes, cgroups, mounts (not runtime state: evidence). */
  private scrub(found: Leftover[]): void {
    removeUnits(found);
    removeLeftovers(found.filter((l) => l.kind === 'process'));
    sleepSync(200);
    removeLeftovers(found.filter((l) => l.kind === 'cgroup' || (l.kind === 'mount' && !this.baselineMounts.includes(l.where))));
  }

  // --------------------------------------------------------------- stop --

  /**
   * The last test of each e2e file: stop(), then what it found plus any
   * process of this run still alive. Empty when the host is clean.
   */
  teardown(): string[] {
    const problems = this.stop();
    const alive = processesMatching(this.base).map((p) => `process of this run still alive: ${p.pid} ${p.cmdline}`);
    return [...problems, ...alive];
  }

  /**
   * Removes every container, stops the daemons, and cleans the host.
   * Idempotent, synchronous. The system's daemons are left running: only
   * this run's containers (those of the runts runtime) and images go.
   */
  stop(): string[] {
    if (this.stopped) return [];
    this.stopped = true;
    const problems: string[] = [];
    const up = (name: string) => this.daemons.some((d) => d.name === name && d.child.pid && alive(d.child.pid));
    const dockerSocks = SYSTEM_DAEMONS
      ? [this.dockerSock].filter((s) => s !== undefined)
      : [...this.dockerds].filter(([name]) => up(name)).map(([, sock]) => sock);
    for (const sock of dockerSocks) {
      const ps = ['ps', '-aq', ...(SYSTEM_DAEMONS ? ['--filter', `ancestor=${this.image}`] : [])];
      const ids = this.docker(ps, { timeout: 30_000, sock }).stdout.split('\n').filter(Boolean);
      if (ids.length) {
        const rm = this.docker(['rm', '-f', ...ids], { timeout: 120_000, sock });
        if (rm.code !== 0) problems.push(`docker rm -f: ${rm.stderr.trim()}`);
      }
      if (SYSTEM_DAEMONS) this.docker(['rmi', this.image], { timeout: 60_000, sock });
    }
    if ((up('containerd') || SYSTEM_DAEMONS) && this.ctrNamespace) {
      for (const task of this.ctr(['tasks', 'ls', '-q'], { timeout: 30_000 }).stdout.split('\n').filter(Boolean)) {
        this.ctr(['tasks', 'kill', '-s', 'SIGKILL', task], { timeout: 30_000 });
        sleepSync(300);
        this.ctr(['tasks', 'rm', '-f', task], { timeout: 30_000 });
      }
      for (const c of this.ctr(['containers', 'ls', '-q'], { timeout: 30_000 }).stdout.split('\n').filter(Boolean))
        this.ctr(['containers', 'rm', c], { timeout: 30_000 });
      if (SYSTEM_DAEMONS) {
        this.ctr(['images', 'rm', this.ctrImage], { timeout: 30_000 });
        this.ctr(['namespaces', 'rm', this.ctrNamespace], { timeout: 30_000 });
      }
    }
    if (this.podmanArgs) {
      const rm = SYSTEM_DAEMONS
        ? this.podman(['rmi', '-f', this.podmanImage], { timeout: 120_000 })
        : this.podman(['rm', '-af', '-t', '0'], { timeout: 120_000 });
      if (rm.code !== 0) problems.push(`podman ${SYSTEM_DAEMONS ? 'rmi -f' : 'rm -af'}: ${rm.stderr.trim()}`);
    }
    // Daemons, last started first: TERM, then KILL.
    for (const d of [...this.daemons].reverse()) {
      const pid = d.child.pid;
      if (!pid || !alive(pid)) continue;
      try {
        process.kill(pid, 'SIGTERM');
      } catch {
        // gone
      }
      if (!eventually(() => !alive(pid), 30_000, 100)) {
        problems.push(`${d.name} did not stop within 30 s of SIGTERM: killed`);
        try {
          process.kill(pid, 'SIGKILL');
        } catch {
          // gone
        }
        eventually(() => !alive(pid), 5000);
      }
    }
    // Stray processes: shims of our containerd, conmons of our podman, container processes.
    const strays = [...processesMatching(this.base), ...processesRootedUnder(this.base)];
    for (const p of strays) {
      problems.push(`process left at the end: ${p.pid} ${p.cmdline.slice(0, 200)}`);
      try {
        process.kill(p.pid, 'SIGKILL');
      } catch {
        // gone
      }
    }
    if (strays.length) eventually(() => strays.every((p) => !alive(p.pid)), 5000);
    for (const m of mountsUnder(this.base)) spawnSync('umount', ['-l', m]);
    for (const etc of this.boundEtc.splice(0)) spawnSync('umount', [etc]);
    // Cgroups: this run's parents, and top-level dirs the daemons made (docker, libpod_parent) when empty.
    for (const parent of this.cgroupParents) {
      for (const d of cgroupDirsUnder(parent)) {
        try {
          rmdirSync(d);
        } catch (err) {
          problems.push(`cgroup ${d} could not be removed: ${(err as Error).message}`);
        }
      }
    }
    for (const h of hierarchies()) {
      for (const name of ['docker', 'libpod_parent']) {
        const d = join(h, name);
        if (this.topCgroupsBefore.has(d) || !existsSync(d)) continue;
        for (const sub of cgroupDirsUnder(name).filter((x) => x.startsWith(`${d}/`) || x === d)) {
          try {
            rmdirSync(sub);
          } catch {
            // in use by someone else
          }
        }
      }
    }
    // A shim that was killed leaves its socket (named by a hash of the containerd address, namespace and id).
    const bound = new Set(
      readFileSync('/proc/net/unix', 'utf8')
        .split('\n')
        .map((l) => l.trim().split(/\s+/)[7])
        .filter(Boolean),
    );
    for (const name of listDir(SHIM_SOCKETS)) {
      const path = join(SHIM_SOCKETS, name);
      if (!this.shimSocketsBefore.has(name) && !bound.has(path)) rmSync(path, { force: true });
    }
    for (const d of FIXED_DIRS) {
      if (this.fixedDirsBefore.has(d)) continue;
      try {
        for (const ns of readdirSync(d)) if (d === '/run/containerd/runc' && ns === this.ctrNamespace) rmdirSync(join(d, ns));
        rmdirSync(d);
      } catch {
        // not there, or not empty (someone else's)
      }
    }
    if (this.podmanArgs && !this.podmanCacheBefore && !SYSTEM_DAEMONS) rmSync(PODMAN_CACHE, { recursive: true, force: true });
    if (process.env.RUNTS_E2E_VERBOSE) {
      console.log(`\n  runtime argv seen by ${this.target} (normalised):`);
      for (const s of this.argvShapes()) console.log(`    ${s}`);
    }
    if (SYSTEM_DAEMONS) rmSync(this.wrapper, { force: true });
    const remaining = mountsUnder(this.base);
    if (remaining.length) problems.push(`mounts still under ${this.base}: ${remaining.join(' ')}: not removed`);
    else if (process.env.RUNTS_E2E_KEEP) console.log(`  e2e: kept ${this.base}`);
    else rmSync(this.base, { recursive: true, force: true });
    return problems;
  }
}

/**
 * Sets up what a suite needs, or says why it cannot run. With
 * RUNTS_E2E=require, a reason is an error instead.
 */
export function startHarness(engines: Engine[]): { harness?: Harness; skip?: string } {
  const reason = (why: string) => {
    if (process.env.RUNTS_E2E === 'require') throw new Error(`e2e required (RUNTS_E2E=require) but: ${why}`);
    return { skip: why };
  };
  if (process.env.RUNTS_E2E === 'skip' || process.env.RUNTS_E2E === '0') return { skip: 'RUNTS_E2E=skip' };
  if (!isRoot) return reason('not root');
  for (const e of engines) {
    const why = ensureEngine(e, (line) => console.log(`  e2e: ${line}`));
    if (why) return reason(`${e}: ${why}`);
  }
  let h: Harness | undefined;
  try {
    h = new Harness();
    if (engines.includes('containerd') || engines.includes('docker')) h.startContainerd();
    if (engines.includes('docker')) h.startDockerd();
    if (engines.includes('containerd')) h.importCtrImage();
    if (engines.includes('podman')) h.setupPodman();
    h.settle();
    return { harness: h };
  } catch (err) {
    const problems = h?.stop() ?? [];
    return reason(`${(err as Error).message}${problems.length ? `\n  (teardown: ${problems.join('; ')})` : ''}`);
  }
}

/** Is CAP_SYS_RESOURCE in our effective set? (Some sandboxes drop it: no raising of hard rlimits then.) */
export function haveCapSysResource(): boolean {
  const eff = /CapEff:\s*([0-9a-f]+)/.exec(readFileSync('/proc/self/status', 'utf8'))?.[1] ?? '0';
  return ((BigInt(`0x${eff}`) >> 24n) & 1n) === 1n;
}

// -------------------------------------------------------------------- pty --

/**
 * An interactive session on a pty: util-linux `script` runs the command on a
 * new pty and relays our pipe to it, so a test can type and read like a user
 * at a terminal.
 */
export class PtySession {
  private readonly child: ChildProcess;
  private buf = '';
  private exitInfo?: { code: number | null; signal: string | null };
  private readonly exited: Promise<{ code: number | null; signal: string | null }>;

  constructor(shellCommand: string) {
    this.child = spawn('script', ['-qefc', shellCommand, '/dev/null'], {
      stdio: ['pipe', 'pipe', 'pipe'],
      env: { ...process.env, TERM: 'xterm' },
    });
    this.child.stdout!.on('data', (d) => (this.buf += d.toString('utf8')));
    this.child.stderr!.on('data', (d) => (this.buf += d.toString('utf8')));
    this.exited = new Promise((resolve) =>
      this.child.on('close', (code, signal) => {
        this.exitInfo = { code, signal };
        resolve(this.exitInfo);
      }),
    );
  }

  /** Everything the terminal showed so far, escape sequences removed. */
  get text(): string {
    // eslint-disable-next-line no-control-regex -- ESC starts the terminal's escape sequences
    return this.buf.replace(/\x1b\[[0-9;?]*[A-Za-z]/g, '').replace(/\r/g, '');
  }

  /** Resolves with the first match of re in the output after `from`; rejects after ms with what was seen. */
  async expect(re: RegExp, ms = 20_000, from = 0): Promise<RegExpMatchArray> {
    const deadline = Date.now() + ms;
    for (;;) {
      const m = this.text.slice(from).match(re);
      if (m) return m;
      if (this.exitInfo)
        throw new Error(
          `pty session ended (exit ${this.exitInfo.code ?? this.exitInfo.signal}) before ${re}; it showed:\n${this.text}`,
        );
      if (Date.now() > deadline) throw new Error(`no ${re} within ${ms / 1000} s; the terminal showed:\n${this.text}`);
      await new Promise((r) => setTimeout(r, 50));
    }
  }

  type(keys: string): void {
    this.child.stdin!.write(keys);
  }

  async exit(ms = 20_000): Promise<{ code: number | null; signal: string | null }> {
    const timer = new Promise<undefined>((r) => setTimeout(() => r(undefined), ms));
    const r = await Promise.race([this.exited, timer]);
    if (!r) {
      this.kill();
      throw new Error(`pty session did not end within ${ms / 1000} s; it showed:\n${this.text}`);
    }
    return r;
  }

  kill(): void {
    try {
      this.child.stdin!.end();
      this.child.kill('SIGKILL');
    } catch {
      // gone
    }
  }
}

// ------------------------------------------------------------ scenarios --

/** What a container prints of its user namespace: its uid_map and gid_map lines (spaces squeezed), id -u, id -g. */
export const SHOW_IDS = 'for m in uid_map gid_map; do echo $(cat /proc/self/$m); done; id -u; id -g';

/** The Uid: and Gid: lines of /proc/PID/status (real, effective, saved, fs ids), spaces squeezed. */
export function hostIds(pid: number): { uid: string; gid: string } {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const ids = (key: string) => new RegExp(`^${key}:\\s*(.*)$`, 'm').exec(status)?.[1]?.trim().split(/\s+/).join(' ') ?? '';
  return { uid: ids('Uid'), gid: ids('Gid') };
}

const message = (err: unknown) => (err instanceof Error ? err.message : String(err));

/**
 * Soft checks inside one scenario: each is run and reported (✓/✘ line),
 * and done() fails with all that failed, so one missing feature does not
 * hide the state of the others.
 */
export class Checks {
  private readonly failed: string[] = [];

  async check(name: string, fn: () => unknown): Promise<boolean> {
    try {
      await fn();
      console.log(`    ✓ ${name}`);
      return true;
    } catch (err) {
      this.failed.push(`${name}: ${message(err)}`);
      console.log(`    ✘ ${name}: ${message(err).split('\n').slice(0, 12).join('\n      ')}`);
      return false;
    }
  }

  done(): void {
    if (this.failed.length) throw new Error(`${this.failed.length} check(s) failed:\n- ${this.failed.join('\n- ')}`);
  }
}

const ONLY = process.env.RUNTS_E2E_ONLY ? new RegExp(process.env.RUNTS_E2E_ONLY) : undefined;

/**
 * The `scenario(name, fn, cannot?)` of an e2e file: a test with
 * diagnostics, skipped with the reason when the harness could not start or
 * the scenario says why it cannot run here (cannot), left out when
 * RUNTS_E2E_ONLY does not match its name.
 */
export function scenarios(
  test: Test,
  started: { harness?: Harness; skip?: string },
): (name: string, fn: () => unknown, cannot?: string) => void {
  return (name, fn, cannot) => {
    if (ONLY && !ONLY.test(name)) return;
    if (!started.harness) skipTest(test, name, started.skip ?? 'no harness');
    else if (cannot) skipTest(test, name, cannot);
    else test(name, withDiagnostics(started.harness, name, fn));
  };
}

/** A test body that, when it fails, prints what the runtime and the daemons did meanwhile. */
export function withDiagnostics(h: Harness, name: string, fn: () => unknown): () => Promise<void> {
  return async () => {
    const mark = h.mark();
    const t0 = Date.now();
    const took = () => `${((Date.now() - t0) / 1000).toFixed(1)} s`;
    console.log(`  ▸ ${name}`);
    try {
      await fn();
      console.log(`  ✓ ${name} (${took()})`);
    } catch (err) {
      const d = h.diagnostics(mark);
      console.log(`  ✘ ${name} (${took()})\n${message(err).replace(/^/gm, '    ')}${d ? `\n${d.replace(/^/gm, '    | ')}` : ''}`);
      throw err;
    }
  };
}

/** Calls of the runtime (argv after the wrapper's time and pid) that name this container id. */
export function callsFor(h: Harness, id: string): string[][] {
  return h.callsSince({ argv: 0, failures: 0, logs: new Map() }).filter((c) => c.includes(id));
}

/**
 * The signals of the runtime's `kill` calls for this container since the
 * mark, in the order the engine made them, by name ("TERM", "KILL"; the
 * signal is the call's last word, a name or a number).
 */
export function killSignals(h: Harness, mark: Mark, id: string): string[] {
  const byNumber: Record<string, string> = { '9': 'KILL', '15': 'TERM' };
  return h
    .callsSince(mark)
    .filter((c) => c.includes('kill') && c.includes(id))
    .map((c) => {
      const signal = c.at(-1) ?? '';
      return byNumber[signal] ?? signal.replace(/^SIG/, '');
    });
}
