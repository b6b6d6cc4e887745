// Signals and state (issue 19, points 6 and 7): runts signals only what it
// has verified to be the container's, never pid 0 or below; and --root, the
// pid file, a damaged state.json, a symlinked rootfs, ids shaped like
// delete's temporary names and the container's /etc/passwd cannot be turned
// against the host or leave a container beyond runts' reach.
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import {
  chmodSync,
  existsSync,
  lstatSync,
  readFileSync,
  readdirSync,
  rmSync,
  rmdirSync,
  statSync,
  symlinkSync,
  truncateSync,
  writeFileSync,
} from 'node:fs';
import { join } from 'node:path';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import type { Spec } from '../../src/spec/types';
import { cgroupDir, eventually } from '../lib/cgroups';
import { RUNTS, isRoot, tempDir } from '../lib/cli';
import { type ContainerWatch } from '../../conformance/leftovers';
import {
  alive,
  bundle,
  busyboxRootfs,
  leftovers,
  ownRootfs,
  runtime,
  shArgs,
  stateOf,
  uniqueId,
  watchContainer,
} from '../lib/container';

const test = suite('escape-state');
const asRoot = isRoot ? test : test.skip;
const MiB = 1024 * 1024;

/** A container left running its script (run -d): its id, init pid, and a watch for what it leaves (lib/container.ts). */
function started(
  root: string,
  script: string,
  edit: (s: Spec) => void = () => {},
  rootfs?: string,
): { id: string; pid: number; watch: ContainerWatch } {
  const id = uniqueId('st');
  const b = bundle(
    (s) => {
      shArgs(script)(s);
      edit(s);
    },
    rootfs ? { rootfs } : {},
  );
  // Other containers run from the shared busybox rootfs too: being rooted there says nothing.
  const watch = watchContainer({ id, root, bundle: b, ...(rootfs ? {} : { sharedRootfs: busyboxRootfs() }) });
  const r = runtime(['run', '-d', '--bundle', b, id], { root });
  assert.is(r.code, 0, r.stderr);
  const { pid } = stateOf(root, id);
  watch.observe(pid);
  return { id, pid, watch };
}

/** The processes of the container's cgroup, as the tests (in runts' own pid namespace) see them. */
const cgroupProcs = (id: string): number[] =>
  readFileSync(join(cgroupDir(`/runts/${id}`, 'devices'), 'cgroup.procs'), 'utf8')
    .split('\n')
    .filter(Boolean)
    .map(Number);

interface GroupOutcome {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
  /** A process that shared the command's process group: still alive afterwards? */
  sentinelAlive: boolean;
}

/**
 * Runs a shell script in a process group of its own, beside a sentinel
 * sleep in that same group: kill(0, …) from anything the script runs
 * reaches the sentinel too (and the script), never the test.
 */
async function inOwnGroup(script: string): Promise<GroupOutcome> {
  const child = spawn('sh', ['-c', `sleep 1000 </dev/null >/dev/null 2>&1 & echo "sentinel $!"; ${script}`], {
    detached: true,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d) => (stdout += d));
  child.stderr.on('data', (d) => (stderr += d));
  const guard = setTimeout(() => process.kill(-child.pid!, 'SIGKILL'), 60_000);
  const [code, signal] = await new Promise<[number | null, NodeJS.Signals | null]>((resolve) =>
    child.once('close', (c, s) => resolve([c, s])),
  );
  clearTimeout(guard);
  const sentinel = Number(/sentinel (\d+)/.exec(stdout)?.[1]);
  const sentinelAlive = alive(sentinel);
  try {
    process.kill(sentinel, 'SIGKILL');
  } catch {
    // Already gone.
  }
  return { code, signal, stdout, stderr, sentinelAlive };
}

const mustBeAlive = (o: GroupOutcome) => {
  assert.is(o.signal, null, `runts (or its process group) was killed by ${o.signal}: ${o.stderr}`);
  assert.ok(o.sentinelAlive, `runts signalled its own process group: ${o.stderr}`);
};

// --- 6: signals ---

asRoot(
  "kill --all and delete --force: the container's processes die, runts exits 0 and its own process group lives on",
  async () => {
    const root = tempDir('runts-root-');
    const a = started(root, 'sleep 1000 & sleep 1000');
    const aProcs = cgroupProcs(a.id);
    assert.ok(aProcs.length >= 2, `expected the init and a sleep: ${aProcs}`);
    const k = await inOwnGroup(`exec ${RUNTS} --root ${root} kill --all ${a.id} KILL`);
    mustBeAlive(k);
    assert.is(k.code, 0, k.stderr);
    await eventually('the processes killed by kill --all to die', () => aProcs.every((p) => !alive(p)), 10_000);

    const b = started(root, 'sleep 1000 & sleep 1000');
    const bProcs = cgroupProcs(b.id);
    const d = await inOwnGroup(`exec ${RUNTS} --root ${root} delete --force ${b.id}`);
    mustBeAlive(d);
    assert.is(d.code, 0, d.stderr);
    assert.ok(
      bProcs.every((p) => !alive(p)),
      'delete --force returned with processes of the container alive',
    );
    assert.equal(leftovers(b.watch), []);
    assert.is(runtime(['delete', a.id], { root }).code, 0);
    assert.equal(leftovers(a.watch), []);
    assert.equal(readdirSync(root), []);
  },
);

/**
 * The container as runts sees it on a cgroup v2 host. On this cgroup v1
 * host, the v2 view of the very same cgroup is the hybrid unified
 * hierarchy's directory (runts puts the container there too): the record is
 * pointed at it. Returns how to put back what the v1 record held, or
 * undefined where there is no v2 view at all.
 */
function asOnV2(root: string, id: string): { v2Dir: string; v1Dirs: string[] } | undefined {
  const file = join(root, id, 'state.json');
  const record = JSON.parse(readFileSync(file, 'utf8'));
  if (record.cgroup.version === 2) return { v2Dir: record.cgroup.path, v1Dirs: [] };
  const unified: string | undefined = record.cgroup.paths[''];
  if (!unified) return undefined;
  writeFileSync(file, JSON.stringify({ ...record, cgroup: { version: 2, path: unified } }));
  return {
    v2Dir: unified,
    v1Dirs: Object.entries(record.cgroup.paths as Record<string, string>)
      .filter(([k]) => k !== '')
      .map(([, dir]) => dir),
  };
}

/** runts run from another pid namespace (a sibling of the container's), with this /proc. */
const fromOtherPidNs = (root: string, command: string) => `exec unshare --pid --fork ${RUNTS} --root ${root} ${command}`;

asRoot(
  "cgroup v2 lists pid 0 for processes outside the reader's pid namespace: kill --all and delete --force from there never signal runts' own process group",
  async () => {
    const root = tempDir('runts-root-');
    const c = started(root, 'sleep 1000 & sleep 1000');
    const procs = cgroupProcs(c.id);
    const v2 = asOnV2(root, c.id);
    if (!v2) {
      console.log('  (skipped: no cgroup v2 view of the container on this host)');
      assert.is(runtime(['delete', '--force', c.id], { root }).code, 0);
      return;
    }
    // The premise: seen from there, the container's processes are all "0".
    const seen = await inOwnGroup(`exec unshare --pid --fork cat ${v2.v2Dir}/cgroup.procs`);
    assert.equal([...new Set(seen.stdout.split('\n').filter((l) => l && !l.startsWith('sentinel')))], ['0']);

    // A signal other than SIGKILL cannot reach processes runts cannot name: an error, and nothing else.
    const term = await inOwnGroup(fromOtherPidNs(root, `kill --all ${c.id} TERM`));
    mustBeAlive(term);
    assert.is(term.code, 1, `kill --all TERM: ${term.stderr}`);
    assert.match(term.stderr, /not visible from this pid namespace/);
    assert.is(readFileSync(join(v2.v2Dir, 'cgroup.freeze'), 'utf8').trim(), '0', 'the container was left frozen');
    assert.ok(procs.every(alive), 'a process of the container died');

    // SIGKILL goes through cgroup.kill: the kernel finds every member.
    const kill = await inOwnGroup(fromOtherPidNs(root, `kill --all ${c.id} KILL`));
    mustBeAlive(kill);
    assert.is(kill.code, 0, kill.stderr);
    await eventually("the container's processes to die", () => procs.every((p) => !alive(p)), 10_000);

    // delete --force of another one, from there too.
    const d = started(root, 'sleep 1000 & sleep 1000');
    const dProcs = cgroupProcs(d.id);
    const dV2 = asOnV2(root, d.id)!;
    const del = await inOwnGroup(fromOtherPidNs(root, `delete --force ${d.id}`));
    mustBeAlive(del);
    assert.is(del.code, 0, del.stderr);
    assert.ok(
      dProcs.every((p) => !alive(p)),
      'delete --force returned with processes of the container alive',
    );
    assert.not.ok(existsSync(dV2.v2Dir), 'the cgroup is still there');
    assert.not.ok(existsSync(join(root, d.id)), 'the state dir is still there');
    // What the v1 record named and the v2 view could not know of.
    for (const dir of dV2.v1Dirs) rmdirSync(dir);
    assert.is(runtime(['delete', '--force', c.id], { root }).code, 0);
    for (const dir of v2.v1Dirs) if (existsSync(dir)) rmdirSync(dir);
    assert.equal(leftovers(d.watch), []);
    assert.equal(leftovers(c.watch), []);
  },
);

asRoot("kill from another pid namespace never signals the process that holds the init's pid number there", async () => {
  const root = tempDir('runts-root-');
  const c = started(root, 'sleep 1000');
  // In a fresh pid namespace (with this /proc, where the record's pid is
  // the container's init), a victim is given that same pid number.
  const r = await inOwnGroup(
    `exec unshare --pid --fork sh -c 'echo ${c.pid - 1} > /proc/sys/kernel/ns_last_pid; sleep 1000 & victim=$!; echo "victim $victim"; ` +
      `${RUNTS} --root ${root} kill ${c.id} KILL; echo "kill exit $?"; kill -TERM $victim; wait $victim; echo "victim status $?"'`,
  );
  mustBeAlive(r);
  assert.match(r.stdout, new RegExp(`^victim ${c.pid}$`, 'm'), 'the victim did not get the pid (the test proves nothing)');
  assert.match(r.stdout, /^victim status 143$/m, `runts killed the victim (137 = SIGKILL): ${r.stderr}`);
  assert.match(r.stdout, /^kill exit 1$/m);
  assert.match(r.stderr, /not the container's init in this pid namespace/);
  assert.is(stateOf(root, c.id).status, 'running');
  assert.is(runtime(['delete', '--force', c.id], { root }).code, 0);
  assert.equal(leftovers(c.watch), []);
});

// --- 7: state ---

/**
 * Makes the next process forked in this pid namespace get `pid` (as CRIU
 * does), so that a test can plant things at names runts derives from its
 * own pid. Nothing else forks in between: the test runs alone in its
 * sandbox's pid namespace.
 */
function nextPidWillBe(pid: number): void {
  writeFileSync('/proc/sys/kernel/ns_last_pid', String(pid - 1));
}

/** A pid well above any in use, for nextPidWillBe. */
const unusedPid = (): number => Number(readFileSync('/proc/sys/kernel/ns_last_pid', 'utf8')) + 1000;

asRoot('--root: an existing directory keeps its mode (--root /tmp must not become 0700); a missing one is made 0700', () => {
  const shared = tempDir('runts-shared-');
  chmodSync(shared, 0o1777);
  const id = uniqueId();
  const b = bundle(shArgs('sleep 1000'));
  assert.is(runtime(['create', '--bundle', b, id], { root: shared }).code, 0);
  assert.is(statSync(shared).mode & 0o7777, 0o1777, 'create changed the mode of --root');
  assert.is(runtime(['delete', '--force', id], { root: shared }).code, 0);
  assert.is(statSync(shared).mode & 0o7777, 0o1777, 'delete changed the mode of --root');

  const fresh = join(tempDir(), 'made', 'root');
  const other = uniqueId();
  assert.is(runtime(['create', '--bundle', b, other], { root: fresh }).code, 0);
  assert.is(statSync(fresh).mode & 0o7777, 0o700);
  assert.is(runtime(['delete', '--force', other], { root: fresh }).code, 0);
});

asRoot('--pid-file: symlinks planted at the temp names beside it are never followed (create and exec)', () => {
  const root = tempDir('runts-root-');
  const dir = tempDir('runts-pids-');
  chmodSync(dir, 0o1777);
  const victim = join(tempDir(), 'victim');
  writeFileSync(victim, 'precious');
  // runts named its temp file after its own pid: links at those names, and
  // at the pid files themselves, all to the victim.
  const plant = (first: number) => {
    for (let p = first; p < first + 20; p++) symlinkSync(victim, join(dir, `.${p}.pid`));
  };
  const createPidFile = join(dir, 'create.pid');
  const execPidFile = join(dir, 'exec.pid');
  symlinkSync(victim, createPidFile);
  symlinkSync(victim, execPidFile);
  const id = uniqueId();
  const b = bundle(shArgs('sleep 1000'));
  const first = unusedPid();
  plant(first);
  nextPidWillBe(first);
  const created = runtime(['create', '--pid-file', createPidFile, '--bundle', b, id], { root });
  assert.is(created.code, 0, created.stderr);
  assert.is(readFileSync(victim, 'utf8'), 'precious', 'create wrote through a planted symlink');
  assert.ok(lstatSync(createPidFile).isFile(), 'the pid file is not a regular file');
  assert.is(readFileSync(createPidFile, 'utf8'), String(stateOf(root, id).pid));

  assert.is(runtime(['start', id], { root }).code, 0);
  const second = unusedPid();
  plant(second);
  nextPidWillBe(second);
  const exec = runtime(['exec', '--pid-file', execPidFile, id, 'true'], { root });
  assert.is(exec.code, 0, exec.stderr);
  assert.is(readFileSync(victim, 'utf8'), 'precious', 'exec wrote through a planted symlink');
  assert.ok(lstatSync(execPidFile).isFile(), 'the exec pid file is not a regular file');
  assert.match(readFileSync(execPidFile, 'utf8'), /^[1-9]\d*$/);
  assert.equal(
    readdirSync(dir)
      .filter((n) => !lstatSync(join(dir, n)).isSymbolicLink())
      .sort(),
    ['create.pid', 'exec.pid'],
    'a temp file was left',
  );
  assert.is(runtime(['delete', '--force', id], { root }).code, 0);
});

for (const [how, damage] of [
  ['truncated', (file: string) => truncateSync(file, 17)],
  ['emptied', (file: string) => truncateSync(file, 0)],
  ['removed', (file: string) => rmSync(file)],
] as const) {
  asRoot(
    `a ${how} state.json: state says so (no stack trace), list goes on, delete --force kills the processes and removes the cgroup and state dir`,
    async () => {
      const root = tempDir('runts-root-');
      // The survivor first: the watch of the damaged one counts inits started after it as its own.
      const survivor = started(root, 'sleep 1000');
      const c = started(root, 'sleep 1000 & sleep 1000');
      const procs = cgroupProcs(c.id);
      damage(join(root, c.id, 'state.json'));

      const s = runtime(['state', c.id], { root });
      assert.is(s.code, 1);
      assert.match(s.stderr, new RegExp(`container ${c.id}: its state file .*state\\.json is (damaged|missing)`));
      assert.match(s.stderr, /delete --force/);
      const l = runtime(['list', '--format', 'json'], { root });
      assert.is(l.code, 0, l.stderr);
      assert.equal(
        JSON.parse(l.stdout).map((x: { id: string }) => x.id),
        [survivor.id],
      );
      assert.match(l.stderr, new RegExp(`container ${c.id}: its state file`));

      const d = runtime(['delete', '--force', c.id], { root });
      assert.is(d.code, 0, d.stderr);
      await eventually("the container's processes to die", () => procs.every((p) => !alive(p)), 10_000);
      assert.equal(leftovers(c.watch), []);
      assert.is(stateOf(root, survivor.id).status, 'running');
      assert.is(runtime(['delete', '--force', survivor.id], { root }).code, 0);
      assert.equal(readdirSync(root), []);
    },
  );
}

/** A bundle whose root.path is set after the bundle exists (made by layout, from the bundle dir). */
function bundleWithRoot(layout: (bundleDir: string) => string): string {
  const b = bundle(shArgs('true'));
  const file = join(b, 'config.json');
  const spec = JSON.parse(readFileSync(file, 'utf8'));
  spec.root.path = layout(b);
  writeFileSync(file, JSON.stringify(spec));
  return b;
}

for (const [name, layout] of [
  ['relative root.path that is a symlink', (b: string) => (symlinkSync(busyboxRootfs(), join(b, 'rootfs')), 'rootfs')],
  ['absolute root.path that is a symlink', (b: string) => (symlinkSync(busyboxRootfs(), join(b, 'rootfs')), join(b, 'rootfs'))],
  [
    'root.path through a symlinked directory of the bundle',
    (b: string) => {
      const real = tempDir('runts-images-');
      execFileSync('cp', ['-a', busyboxRootfs(), join(real, 'rootfs')]);
      symlinkSync(real, join(b, 'images'));
      return 'images/rootfs';
    },
  ],
] as const) {
  asRoot(`rootfs: ${name} is refused (/root/path, exit 1, nothing left)`, () => {
    const root = join(tempDir(), 'root');
    const b = bundleWithRoot(layout);
    const id = uniqueId();
    const watch = watchContainer({ id, root, bundle: b });
    const r = runtime(['create', '--bundle', b, id], { root });
    assert.is(r.code, 1, `create succeeded: ${r.stderr}`);
    assert.match(r.stderr, /\/root\/path: .*symlink/);
    assert.equal(leftovers(watch), []);
    assert.equal(existsSync(root) ? readdirSync(root) : [], []);
  });
}

asRoot("an id shaped like delete's temporary name: created, listed, deleted; deleting another container never touches it", () => {
  const root = tempDir('runts-root-');
  const other = uniqueId('tomb');
  // delete renamed the container's dir to ".deleting-<id>-<its pid>": the
  // pid the delete of `other` will get is fixed below.
  const deleterPid = unusedPid();
  const shaped = `.deleting-${other}-${deleterPid}`;
  const b = bundle(shArgs('sleep 1000'));
  const runWatched = (id: string) => {
    const watch = watchContainer({ id, root, bundle: b, sharedRootfs: busyboxRootfs() });
    assert.is(runtime(['run', '-d', '--bundle', b, id], { root }).code, 0);
    watch.observe(stateOf(root, id).pid);
    return watch;
  };
  const watches = [runWatched(shaped), runWatched(other)] as const;
  const listed = runtime(['list', '-q'], { root });
  assert.equal(listed.stdout.split('\n').filter(Boolean).sort(), [shaped, other].sort(), 'list hides a container');

  nextPidWillBe(deleterPid);
  const d = runtime(['delete', '--force', other], { root });
  assert.is(d.code, 0, d.stderr);
  assert.equal(leftovers(watches[1]), []);
  assert.is(stateOf(root, shaped).status, 'running', 'deleting another container changed this one');
  assert.ok(existsSync(join(root, shaped, 'state.json')));
  assert.equal(runtime(['list', '-q'], { root }).stdout.trim(), shaped);

  const gone = runtime(['delete', '--force', shaped], { root });
  assert.is(gone.code, 0, gone.stderr);
  assert.equal(leftovers(watches[0]), []);
  assert.equal(readdirSync(root), []);
});

/** runts, with a deadline that fails the test loudly instead of hanging it. */
function bounded(args: string[], root: string): { code: number | null; stdout: string; stderr: string } {
  const r = spawnSync(RUNTS, ['--root', root, ...args], {
    encoding: 'utf8',
    timeout: 30_000,
    killSignal: 'SIGKILL',
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  if (r.error) throw new Error(`runts ${args.join(' ')} did not finish in 30 s (${r.error.message}): ${r.stderr}`);
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

// An unbounded read of /dev/zero takes all the memory it can: the memory
// limit makes that kill the reader (it is in the container's cgroup) and
// not the machine.
const limitMemory = (s: Spec) => {
  s.linux!.resources = { ...s.linux!.resources, memory: { limit: 256 * MiB } };
};

const PASSWD_TRAPS = [
  ['a symlink to /dev/zero', (etc: string) => symlinkSync('/dev/zero', join(etc, 'passwd')), 'ln -s /dev/zero /etc/passwd'],
  ['a FIFO', (etc: string) => execFileSync('mkfifo', [join(etc, 'passwd')]), 'mkfifo /etc/passwd'],
] as const;

const isPlanted = (file: string): boolean => {
  try {
    return !lstatSync(file).isFile();
  } catch {
    return false;
  }
};

for (const [name, plant, plantInside] of PASSWD_TRAPS) {
  asRoot(`/etc/passwd is ${name}: run finishes, with HOME=/`, () => {
    const rootfs = ownRootfs();
    rmSync(join(rootfs, 'etc', 'passwd'));
    plant(join(rootfs, 'etc'));
    const b = bundle(
      (s) => {
        limitMemory(s);
        shArgs('echo "HOME=$HOME"')(s);
      },
      { rootfs },
    );
    const r = bounded(['run', '--bundle', b, uniqueId()], tempDir('runts-root-'));
    assert.is(r.code, 0, r.stderr);
    assert.is(r.stdout, 'HOME=/\n');
  });

  asRoot(`/etc/passwd made ${name} by the container once started: exec finishes, with HOME=/`, async () => {
    const root = tempDir('runts-root-');
    const rootfs = ownRootfs();
    const c = started(
      root,
      `rm /etc/passwd; ${plantInside}; sleep 1000`,
      (s) => {
        s.root!.readonly = false;
        limitMemory(s);
      },
      rootfs,
    );
    await eventually('the container to plant /etc/passwd', () => isPlanted(join(rootfs, 'etc', 'passwd')), 10_000);
    const e = bounded(['exec', c.id, 'sh', '-c', 'echo "HOME=$HOME"'], root);
    assert.is(e.code, 0, e.stderr);
    assert.is(e.stdout, 'HOME=/\n');
    assert.is(runtime(['delete', '--force', c.id], { root }).code, 0);
    assert.equal(leftovers(c.watch), []);
  });
}

test.run();
