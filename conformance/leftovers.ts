/**
 * What a container left on the host: the one answer behind every "nothing
 * left behind" check, the suite's, the integration tests' and the e2e
 * harness's, for any runtime (runc's layout of state and cgroups as well as
 * runts'). It reads only the host: /proc, this process's mount table, the
 * cgroup hierarchies and the runtime's --root.
 *
 * A container is known by its id, --root and bundle (its config.json names
 * the rootfs, the namespaces it joins and its cgroupsPath). A
 * ContainerWatch shown the init's pid while the container runs also knows
 * the namespaces and cgroups it had. Left are:
 *
 *   mount    a mount at or under its rootfs or bundle in this process's
 *            mount namespace (a container without a mount namespace of its
 *            own mounts there; one with its own mounts in that namespace,
 *            which goes with its last process)
 *   process  a live process in a namespace the container had, or in one
 *            of its cgroups (below); whose root directory is its rootfs;
 *            holding a file of its state dir or bundle (a created init
 *            holds exec.fifo: runc's and runts' alike) or one of `held`;
 *            or a runtime init that appeared since the watch began
 *   cgroup   a directory named after the id, one the container was in, or
 *            its cgroupsPath, in any hierarchy
 *   state    its directory under --root (and runts' "~deleting.PID.ID", cut
 *            to 255 characters)
 *   and what the caller's `probes` find (a systemd unit, say).
 */
import { spawnSync } from 'node:child_process';
import {
  closeSync,
  existsSync,
  openSync,
  readFileSync,
  readdirSync,
  readlinkSync,
  rmSync,
  rmdirSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { isAbsolute, join, resolve } from 'node:path';
import { cgroupDirsNamed, cgroupLineDir, hierarchyRoots } from './cgroups';
import { alive, mountsUnder, readOr } from './host';

export interface Leftover {
  kind: 'mount' | 'process' | 'cgroup' | 'state' | (string & {});
  /** The mount point, cgroup directory or state path; a process's pid. */
  where: string;
  pid?: number;
  /** Why it counts as the container's, and what it is (a process's command line). */
  detail?: string;
}

export const describeLeftover = (l: Leftover): string => `${l.kind} left: ${l.where}${l.detail ? ` (${l.detail})` : ''}`;

/** A check of the caller's own (a systemd unit, say): what it finds of the container. */
export type Probe = (c: ResolvedContainer) => Leftover[];

export interface ContainerRef {
  id: string;
  /** The runtime's --root: the container's state is <root>/<id>. */
  root: string;
  bundle?: string;
  /** The rootfs, when the bundle's config.json cannot say (no bundle, or it is gone). */
  rootfs?: string;
  /**
   * A rootfs other containers use at the same time (the suite's shared
   * one): a process rooted there is no evidence against this container.
   */
  sharedRootfs?: string;
  /** More files only the container's processes would hold (its stdio files, say). */
  held?: string[];
  probes?: Probe[];
}

export interface ResolvedContainer {
  id: string;
  root: string;
  stateDir: string;
  bundle?: string;
  rootfs?: string;
  sharedRootfs?: string;
  held: string[];
  /** Namespace kinds (proc names: net, mnt, …) the config joins by path: someone else's. */
  joined: Set<string>;
  cgroupsPath?: string;
}

/** /proc/PID/ns names of the namespaces a container can have of its own (user: never here). */
const NAMESPACE_KINDS = ['mnt', 'pid', 'net', 'ipc', 'uts', 'cgroup', 'time'];
const PROC_NAME: Record<string, string> = {
  mount: 'mnt',
  network: 'net',
  pid: 'pid',
  ipc: 'ipc',
  uts: 'uts',
  cgroup: 'cgroup',
  time: 'time',
  user: 'user',
};

interface BundleConfig {
  root?: { path?: string };
  linux?: { namespaces?: { type: string; path?: string }[]; cgroupsPath?: string };
}

export function resolveContainer(ref: ContainerRef): ResolvedContainer {
  let config: BundleConfig = {};
  if (ref.bundle) {
    try {
      config = JSON.parse(readFileSync(join(ref.bundle, 'config.json'), 'utf8'));
    } catch {
      // No config (a bundle already removed, a create refused for it): nothing more to learn.
    }
  }
  const rootPath = config.root?.path;
  return {
    id: ref.id,
    root: ref.root,
    stateDir: join(ref.root, ref.id),
    bundle: ref.bundle,
    rootfs: ref.rootfs ?? (rootPath && ref.bundle ? resolve(ref.bundle, rootPath) : undefined),
    sharedRootfs: ref.sharedRootfs,
    held: ref.held ?? [],
    joined: new Set((config.linux?.namespaces ?? []).filter((n) => n.path).map((n) => PROC_NAME[n.type] ?? n.type)),
    cgroupsPath: config.linux?.cgroupsPath,
  };
}

// --- processes ---

const isPid = (name: string) => /^\d+$/.test(name);
const under = (path: string, dir: string) => path === dir || path.startsWith(`${dir}/`);

function readlinkOr(path: string): string {
  try {
    return readlinkSync(path);
  } catch {
    return '';
  }
}

/** The fields of /proc/PID/stat after the command name: [0] is the state, [19] the start time. */
function statFields(pid: number | string): string[] | undefined {
  const stat = readOr(`/proc/${pid}/stat`);
  const end = stat.lastIndexOf(')');
  return end < 0 ? undefined : stat.slice(end + 2).split(' ');
}

/** "pid@starttime": a process, not only its (reusable) number. */
function processKey(pid: number | string): string | undefined {
  const f = statFields(pid);
  return f && `${pid}@${f[19]}`;
}

const argvOf = (pid: number | string): string[] => readOr(`/proc/${pid}/cmdline`).split('\0').filter(Boolean);

/** A runtime's init before it execs the container's program: runts' node on dist/init.cjs, `runc init` and its kin. */
export function isRuntimeInit(argv: string[]): boolean {
  return argv.some((a) => a.endsWith('/init.cjs')) || (argv.length === 2 && argv[1] === 'init');
}

/** Init processes alive now, by key: what a watch does not count as new. */
function runtimeInits(): Set<string> {
  const found = new Set<string>();
  for (const name of readdirSync('/proc')) {
    if (!isPid(name) || !isRuntimeInit(argvOf(name))) continue;
    const key = processKey(name);
    if (key) found.add(key);
  }
  return found;
}

/** Paths a process has open, or as its cwd or executable; " (deleted)" taken off. */
function pathsHeld(pid: string): string[] {
  const links = [`/proc/${pid}/cwd`, `/proc/${pid}/exe`];
  try {
    for (const fd of readdirSync(`/proc/${pid}/fd`)) links.push(`/proc/${pid}/fd/${fd}`);
  } catch {
    // gone, or not ours to read
  }
  return links
    .map(readlinkOr)
    .filter((p) => p.startsWith('/'))
    .map((p) => p.replace(/ \(deleted\)$/, ''));
}

/** What the watch learnt of the container while it ran. */
interface Observed {
  /** "mnt:[4026532398]" -> its kind, for namespaces of the container's own (held open by the watch). */
  namespaces: Map<string, string>;
  /** /proc/PID/cgroup lines of the container's own cgroups. */
  cgroupLines: Set<string>;
  /** Processes seen as the container's init. */
  inits: Set<string>;
  /** Runtime inits alive when the watch began, when new ones count. */
  initsBefore?: Set<string>;
}

/** Why a process is the container's, or undefined. */
function claim(
  pid: string,
  c: ResolvedContainer,
  seen: Observed,
  inCgroups: Map<string, string>,
  rootfsId: string | undefined,
): string | undefined {
  const key = processKey(pid);
  if (key && seen.inits.has(key)) return 'the init it had';
  for (const kind of NAMESPACE_KINDS) {
    if (seen.namespaces.has(readlinkOr(`/proc/${pid}/ns/${kind}`))) return `in its ${kind} namespace`;
  }
  const cgroup = inCgroups.get(pid);
  if (cgroup) return `in its cgroup ${cgroup}`;
  if (rootfsId) {
    try {
      const s = statSync(`/proc/${pid}/root`);
      if (`${s.dev}:${s.ino}` === rootfsId) return 'rooted in its rootfs';
    } catch {
      // gone
    }
  }
  const dirs = [c.stateDir, ...(c.bundle ? [c.bundle] : []), ...c.held];
  const held = pathsHeld(pid);
  const hit = held.find((p) => dirs.some((d) => under(p, d)));
  if (hit) return `holds ${hit}`;
  if (seen.initsBefore && key && !seen.initsBefore.has(key) && isRuntimeInit(argvOf(pid))) {
    // Another container's created init holds its own exec.fifo, still there: that one is not ours.
    const othersFifo = held.some((p) => p.endsWith('/exec.fifo') && !under(p, c.stateDir) && existsSync(p));
    if (!othersFifo) return 'a runtime init that appeared since the watch began';
  }
  return undefined;
}

/** pid -> the cgroup directory (of those given) that lists it. */
function processesIn(cgroupDirs: string[]): Map<string, string> {
  const found = new Map<string, string>();
  for (const dir of cgroupDirs) {
    for (const pid of readOr(join(dir, 'cgroup.procs')).split('\n')) if (isPid(pid) && !found.has(pid)) found.set(pid, dir);
  }
  return found;
}

function leftoverProcesses(c: ResolvedContainer, seen: Observed, cgroupDirs: string[]): Leftover[] {
  const inCgroups = processesIn(cgroupDirs);
  let rootfsId: string | undefined;
  if (c.rootfs && c.rootfs !== c.sharedRootfs) {
    try {
      const s = statSync(c.rootfs);
      rootfsId = `${s.dev}:${s.ino}`;
    } catch {
      // removed with the bundle
    }
  }
  return liveProcesses((pid) => claim(pid, c, seen, inCgroups, rootfsId));
}

/** Live processes but this one (zombies are no longer anyone's) that `why` names a reason for. */
function liveProcesses(why: (pid: string) => string | undefined): Leftover[] {
  const found: Leftover[] = [];
  for (const name of readdirSync('/proc')) {
    if (!isPid(name) || Number(name) === process.pid) continue;
    const state = statFields(name)?.[0];
    if (!state || state === 'Z' || state === 'X') continue;
    const reason = why(name);
    if (reason)
      found.push({
        kind: 'process',
        where: name,
        pid: Number(name),
        detail: `${reason}: ${argvOf(name).join(' ').slice(0, 160)}`,
      });
  }
  return found;
}

/** Processes holding a file at or under one of dirs (open, or as cwd or executable): a whole scratch area's. */
export function processesHolding(dirs: string[]): Leftover[] {
  return liveProcesses((pid) => {
    const hit = pathsHeld(pid).find((p) => dirs.some((d) => under(p, d)));
    return hit && `holds ${hit}`;
  });
}

// --- mounts, cgroups, state ---

function leftoverMounts(c: ResolvedContainer): Leftover[] {
  const points = new Set([...(c.rootfs ? mountsUnder(c.rootfs) : []), ...(c.bundle ? mountsUnder(c.bundle) : [])]);
  return [...points].map((where) => ({ kind: 'mount', where }));
}

function leftoverCgroups(c: ResolvedContainer, seen: Observed): Leftover[] {
  const dirs = new Set(cgroupDirsNamed(c.id));
  for (const line of seen.cgroupLines) {
    const dir = cgroupLineDir(line);
    if (dir && existsSync(dir)) dirs.add(dir);
  }
  const path = c.cgroupsPath;
  if (path && !path.includes(':')) {
    // Absolute: from each hierarchy's root; relative: below the caller's own cgroup (runc's and runts' reading).
    const parents = isAbsolute(path)
      ? hierarchyRoots()
      : readOr('/proc/self/cgroup')
          .split('\n')
          .filter(Boolean)
          .map(cgroupLineDir)
          .filter((d): d is string => !!d);
    for (const parent of parents) {
      const dir = join(parent, path);
      if (dir !== parent && existsSync(dir)) dirs.add(dir);
    }
  }
  return [...dirs].sort((a, b) => b.length - a.length).map((where) => ({ kind: 'cgroup', where }));
}

function leftoverState(c: ResolvedContainer): Leftover[] {
  const found: Leftover[] = existsSync(c.stateDir) ? [{ kind: 'state', where: c.stateDir }] : [];
  // runts' delete renames the directory to a name no id can take, then removes it.
  const isTomb = (name: string): boolean => {
    const id = /^~deleting\.\d+\.(.+)$/.exec(name)?.[1];
    return id !== undefined && (id === c.id || (name.length === 255 && c.id.startsWith(id)));
  };
  let entries: string[] = [];
  try {
    entries = readdirSync(c.root);
  } catch {
    // no root: nothing there
  }
  for (const name of entries) if (isTomb(name)) found.push({ kind: 'state', where: join(c.root, name) });
  return found;
}

// --- the watch ---

/**
 * One container, watched: made before its create (runtime inits that
 * appear after count as its own when `newInits` is set: only where nothing
 * else starts containers meanwhile), shown its init's pid while it runs.
 * It holds the container's namespaces open from then on, so that the
 * kernel cannot give their numbers to another container's: release() when
 * done.
 */
export class ContainerWatch {
  private readonly seen: Observed = { namespaces: new Map(), cgroupLines: new Set(), inits: new Set() };
  private readonly fds: number[] = [];

  constructor(
    readonly ref: ContainerRef,
    opts: { newInits?: boolean } = {},
  ) {
    if (opts.newInits) this.seen.initsBefore = runtimeInits();
  }

  /** Notes the namespaces and cgroups of the container's init (pid from `state` while it runs). */
  observe(pid: number): void {
    if (!(pid > 0)) return;
    const key = processKey(pid);
    if (!key) return;
    const joined = resolveContainer(this.ref).joined;
    for (const kind of NAMESPACE_KINDS) {
      const theirs = readlinkOr(`/proc/${pid}/ns/${kind}`);
      if (!this.isOwn(kind, theirs, joined)) continue;
      try {
        this.fds.push(openSync(`/proc/${pid}/ns/${kind}`, 'r'));
      } catch {
        continue; // it died meanwhile
      }
      this.seen.namespaces.set(theirs, kind);
    }
    this.noteCgroups(readOr(`/proc/${pid}/cgroup`).split('\n'));
    // Still the same process after the reads: what was read is its.
    if (processKey(pid) === key) this.seen.inits.add(key);
  }

  /**
   * Notes what another process read of the init while it ran: lines of
   * `readlink /proc/PID/ns/KIND` and of /proc/PID/cgroup (the e2e
   * wrapper's record). Nothing holds these namespaces: only for checks
   * made when no other container runs.
   */
  noteRecorded(text: string): void {
    const lines = text.split('\n');
    const joined = resolveContainer(this.ref).joined;
    for (const link of lines) {
      const kind = /^(\w+):\[\d+\]$/.exec(link)?.[1];
      if (kind && this.isOwn(kind, link, joined)) this.seen.namespaces.set(link, kind);
    }
    this.noteCgroups(lines.filter((l) => /^\d+:/.test(l)));
  }

  /** A namespace of the container's own: not ours, not one its config joins, not noted yet. */
  private isOwn(kind: string, link: string, joined: Set<string>): boolean {
    return (
      !!link &&
      NAMESPACE_KINDS.includes(kind) &&
      link !== readlinkOr(`/proc/self/ns/${kind}`) &&
      !joined.has(kind) &&
      !this.seen.namespaces.has(link)
    );
  }

  /** Cgroup lines that are not ours nor a hierarchy's root. */
  private noteCgroups(lines: string[]): void {
    const own = new Set(readOr('/proc/self/cgroup').split('\n'));
    for (const line of lines) if (line && !own.has(line) && !line.endsWith(':/')) this.seen.cgroupLines.add(line);
  }

  /** Everything the container left, as of now. */
  leftovers(): Leftover[] {
    const c = resolveContainer(this.ref);
    const cgroups = leftoverCgroups(c, this.seen);
    return [
      ...leftoverProcesses(
        c,
        this.seen,
        cgroups.map((l) => l.where),
      ),
      ...leftoverMounts(c),
      ...cgroups,
      ...leftoverState(c),
      ...(this.ref.probes ?? []).flatMap((probe) => probe(c)),
    ];
  }

  /** Lets go of the namespaces held. */
  release(): void {
    for (const fd of this.fds.splice(0)) closeSync(fd);
  }
}

/** What a container never watched left (no namespaces or cgroups known but its cgroupsPath and id). */
export function leftoversOf(ref: ContainerRef): Leftover[] {
  return new ContainerWatch(ref).leftovers();
}

/**
 * Removes what was found, as far as it goes at once: processes get
 * SIGKILL (frozen cgroups are thawed first, or the signal waits), mounts
 * are detached, cgroup directories removed (those whose processes are
 * still dying stay: look again once they are gone), state dirs deleted.
 */
export function removeLeftovers(found: Leftover[]): void {
  for (const l of found.filter((x) => x.kind === 'cgroup')) {
    for (const [file, value] of [
      ['freezer.state', 'THAWED'],
      ['cgroup.freeze', '0'],
      ['cgroup.kill', '1'],
    ] as const) {
      try {
        if (existsSync(join(l.where, file))) writeFileSync(join(l.where, file), value);
      } catch {
        // not that kind of cgroup
      }
    }
  }
  const killed: number[] = [];
  for (const l of found) {
    try {
      if (l.kind === 'process' && l.pid) {
        process.kill(l.pid, 'SIGKILL');
        killed.push(l.pid);
      }
    } catch {
      // gone meanwhile
    }
  }
  // A killed process leaves its cgroup only once it has exited: rmdir before that is EBUSY.
  const deadline = Date.now() + 10_000;
  while (killed.some(alive) && Date.now() < deadline) pause(20);
  for (const l of found) {
    try {
      if (l.kind === 'mount') spawnSync('umount', ['-l', l.where], { stdio: 'ignore' });
      if (l.kind === 'cgroup') removeCgroupDir(l.where, deadline);
      if (l.kind === 'state') rmSync(l.where, { recursive: true, force: true });
    } catch {
      // gone meanwhile, or still busy
    }
  }
}

const pause = (ms: number): void => void Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);

/** rmdir, retried while the kernel still counts an exiting member (EBUSY), until the deadline. */
function removeCgroupDir(dir: string, deadline: number): void {
  for (;;) {
    try {
      rmdirSync(dir);
      return;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EBUSY' || Date.now() > deadline) throw err;
      pause(20);
    }
  }
}
