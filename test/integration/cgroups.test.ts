// Cgroups for real: limits the kernel enforces on the container, the files
// on the host, pause/resume/update/events/ps, and nothing left behind. The
// same file runs on this cgroup v1 host and, through cgroup-v2-vm.test.ts,
// in a cgroup v2 VM.
import { spawn } from 'node:child_process';
import { closeSync, existsSync, readFileSync, rmdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { skipTest } from '../lib/skips';
import { sharesToWeight } from '../../src/linux/cgroups/convert';
import { DEVICE_FILTER_LICENSE, deviceFilterProgram } from '../../src/linux/cgroups/device-filter';
import { deviceRules, reduceDeviceRules } from '../../src/linux/cgroups/devices';
import { procsBelow } from '../../src/linux/cgroups/dirs';
import { isFrozen } from '../../src/linux/cgroups/frozen';
import { destroyCgroup, openCgroup } from '../../src/linux/cgroups/manager';
import { primeCgroupMigration } from '../../src/linux/cgroups/prime';
import type { CgroupState } from '../../src/linux/cgroups/types';
import { BPF_PROG_TYPE_CGROUP_DEVICE } from '../../src/sys/constants';
import { sys } from '../../src/sys/index';
import type { Spec } from '../../src/spec/types';
import { isRoot, tempDir } from '../lib/cli';
import { cgroupDirsNamed } from '../../conformance/cgroups';
import type { ContainerWatch } from '../../conformance/leftovers';
import { cgroupDir, cgroupFile, eventually, isV2, listenEvents, startRuntime } from '../lib/cgroups';
import { alive, bundle, leftovers, RUN_TOKEN, runtime, shArgs, stateOf, uniqueId, watchContainer } from '../lib/container';

const test = suite(`cgroups (v${isV2 ? 2 : 1})`);
const asRoot = isRoot ? test : test.skip;

const MiB = 1024 * 1024;

asRoot("priming the cgroup move (create's first step) moves this process, and leaves it where it was", async () => {
  const before = readFileSync('/proc/self/cgroup', 'utf8');
  assert.is(await primeCgroupMigration(), true);
  assert.is(readFileSync('/proc/self/cgroup', 'utf8'), before);
});

asRoot(
  'a cgroup removed while delete reads it (ENODEV from kernfs) is gone, not an error: procs, frozen state, destroy',
  async () => {
    // systemd removes a scope once its processes end, maybe while delete
    // --force reads it: kernfs then answers ENODEV for its files. A child
    // removes and remakes the directory as fast as it can meanwhile.
    const dir = cgroupDir(`/runts-gone-${RUN_TOKEN}`, 'devices');
    const state: CgroupState = isV2 ? { version: 2, path: dir } : { version: 1, paths: { devices: dir } };
    const script = `const fs = require('fs'); for (;;) { try { fs.mkdirSync(${JSON.stringify(dir)}); fs.rmdirSync(${JSON.stringify(dir)}); } catch {} }`;
    const remover = spawn(process.execPath, ['-e', script], { stdio: 'ignore' });
    const seen = new Map<string, number>();
    try {
      // Until the race has shown itself often enough to have met each reader too.
      for (let i = 0; i < 50_000 && (seen.get('ENODEV') ?? 0) < 200; i++) {
        try {
          readFileSync(join(dir, 'cgroup.procs'));
        } catch (err) {
          const code = (err as NodeJS.ErrnoException).code ?? '?';
          seen.set(code, (seen.get(code) ?? 0) + 1);
        }
        assert.equal(procsBelow(dir), []);
        assert.is(isFrozen(state), false);
        if (i % 100 === 0) await destroyCgroup(openCgroup(state));
      }
    } finally {
      remover.kill('SIGKILL');
      await new Promise((resolve) => remover.once('exit', resolve));
      try {
        rmdirSync(dir);
      } catch {
        // Removed by the child already.
      }
    }
    assert.ok(seen.has('ENODEV'), `the race was never seen (${JSON.stringify([...seen])}): the test proved nothing`);
  },
);

/** A host directory the container sees at /host: a signal from the test, a counter to the test. */
function withHostDir(spec: Spec, dir: string): void {
  spec.mounts!.push({ destination: '/host', type: 'bind', source: dir, options: ['rbind'] });
}

/** Containers of this file by id, watched for what they leave (test/lib/container.ts). */
const watches = new Map<string, ContainerWatch>();

function watched(root: string, id: string, b: string): ContainerWatch {
  const watch = watchContainer({ id, root, bundle: b });
  watches.set(id, watch);
  return watch;
}

/** run -d of script; returns the root, the id and the container's pid. */
function runDetached(edit: (s: Spec) => void): { root: string; id: string; pid: number } {
  const root = tempDir();
  const id = uniqueId('cg');
  const b = bundle(edit);
  const watch = watched(root, id, b);
  const r = runtime(['run', '-d', '--bundle', b, id], { root });
  assert.is(r.code, 0, r.stderr);
  const pid = stateOf(root, id).pid;
  watch.observe(pid);
  return { root, id, pid };
}

function deleteAndCheck(root: string, id: string): void {
  const r = runtime(['delete', '--force', id], { root });
  assert.is(r.code, 0, r.stderr);
  assert.equal(leftovers(watches.get(id)!), [], 'left behind (cgroup directories, processes, mounts, state)');
}

// v1: runts' main thread joins alone; v2: the helper (x86_64) joins as the new process, single-threaded.
const wholeNodeJoins = isV2 && process.arch !== 'x64';
asRoot(
  `exec under a pids limit of 6: ${wholeNodeJoins ? "all of runts exec's threads join (v2 without the helper): a clear error" : 'one task of runts at most joins the cgroup, so the program and its children fit'}`,
  () => {
    const { root, id } = runDetached((s) => {
      s.linux!.resources = { ...s.linux!.resources, pids: { limit: 6 } };
      shArgs('sleep 300')(s);
    });
    try {
      if (wholeNodeJoins) {
        const r = runtime(['exec', id, 'true'], { root });
        assert.is(r.code, 1);
        assert.match(r.stderr, /pids limit is reached: on cgroup v2, runts exec's own threads count against it/);
        return;
      }
      // pid 1 + runts' main thread + sh + 3 sleeps = 6.
      const r = runtime(['exec', id, 'sh', '-c', 'sleep 0.2 & sleep 0.2 & sleep 0.2 & wait; echo three'], { root });
      assert.is(r.code, 0, r.stderr);
      assert.is(r.stdout, 'three\n');
      // In the foreground and detached alike, the process is in every cgroup of the container's init.
      const same = runtime(['exec', id, 'sh', '-c', 'cat /proc/self/cgroup; echo --; cat /proc/1/cgroup'], { root });
      assert.is(same.code, 0, same.stderr);
      const [mine, init] = same.stdout.split('--\n');
      assert.is(mine, init);
      // A user without capabilities joins too (v2: the kernel checks the credentials cgroup.procs was opened with).
      const nobody = runtime(['exec', '--user', '65534:65534', id, 'cat', '/proc/self/cgroup'], { root });
      assert.is(nobody.code, 0, nobody.stderr);
      assert.is(nobody.stdout, init);
      const pidFile = join(tempDir(), 'pid');
      const detached = runtime(['exec', '--detach', '--pid-file', pidFile, id, 'sleep', '30'], { root });
      assert.is(detached.code, 0, detached.stderr);
      const pid = Number(readFileSync(pidFile, 'utf8'));
      assert.is(readFileSync(`/proc/${pid}/cgroup`, 'utf8'), readFileSync(`/proc/${stateOf(root, id).pid}/cgroup`, 'utf8'));
      process.kill(pid, 'SIGKILL');
      // And the limit still holds for the program: 5 more children do not fit (last: the ones that did stay a while).
      const over = runtime(['exec', id, 'sh', '-c', 'for i in 1 2 3 4 5; do sleep 0.2 & done; wait'], { root });
      assert.match(over.stderr, /can't fork|Resource temporarily unavailable/);
    } finally {
      deleteAndCheck(root, id);
    }
  },
);

asRoot('OOM: a 32 MiB container that allocates 64 MiB is killed (run exits 137) and events reports the OOM', async () => {
  const root = tempDir();
  const id = uniqueId('oom');
  const signal = tempDir();
  const b = bundle((s) => {
    s.linux!.resources = { ...s.linux!.resources, memory: { limit: 32 * MiB, swap: 32 * MiB } };
    withHostDir(s, signal);
    // Waits for the test to listen, then holds 64 MiB in a shell variable.
    shArgs('while [ ! -e /host/go ]; do sleep 0.1; done; x=$(head -c 67108864 /dev/zero | tr "\\0" a); echo "survived ${#x}"')(s);
  });
  const watch = watched(root, id, b);
  const run = startRuntime(['run', '--bundle', b, id], root);
  await eventually('the container to run', () => runtime(['state', id], { root }).stdout.includes('"running"'));
  watch.observe(stateOf(root, id).pid);
  const events = listenEvents(root, id);
  await events.first;
  writeFileSync(join(signal, 'go'), '');
  assert.is(await run.exit, 137, JSON.stringify(run.output()));
  assert.not.match(run.output().stdout, /survived/);
  // run deleted the container: the cgroup is gone, which ends events.
  assert.is(await events.exit, 0);
  assert.ok(
    events.events.some((e) => e.type === 'oom' && e.id === id),
    `no oom event in ${JSON.stringify(events.events.map((e) => e.type))}`,
  );
  assert.equal(leftovers(watch), [], 'left behind after an OOM kill');
});

asRoot(
  'OOM read late: events stopped until the container is gone reports the kill on v1 (the removal signals the same eventfd), ends cleanly on v2',
  async () => {
    const root = tempDir();
    const id = uniqueId('oomlate');
    const signal = tempDir();
    const b = bundle((s) => {
      s.linux!.resources = { ...s.linux!.resources, memory: { limit: 32 * MiB, swap: 32 * MiB } };
      withHostDir(s, signal);
      shArgs('while [ ! -e /host/go ]; do sleep 0.1; done; x=$(head -c 67108864 /dev/zero | tr "\\0" a); echo "survived ${#x}"')(
        s,
      );
    });
    watched(root, id, b);
    const run = startRuntime(['run', '--bundle', b, id], root);
    await eventually('the container to run', () => runtime(['state', id], { root }).stdout.includes('"running"'));
    const cgroup = cgroupDir(`/runts/${id}`, 'memory');
    const events = listenEvents(root, id);
    // The OOM watch is in place before events' first line.
    await events.first;
    // The reader is held while the kill and the container's removal (run deletes it) both happen.
    process.kill(events.child.pid!, 'SIGSTOP');
    try {
      writeFileSync(join(signal, 'go'), '');
      assert.is(await run.exit, 137, JSON.stringify(run.output()));
      await eventually('the cgroup to go', () => !existsSync(cgroup));
    } finally {
      process.kill(events.child.pid!, 'SIGCONT');
    }
    assert.is(await events.exit, 0);
    const ooms = events.events.filter((e) => e.type === 'oom' && e.id === id).length;
    if (isV2) assert.is(ooms, 0, 'v2: the kill went with the cgroup, yet an oom was reported');
    else assert.is(ooms, 1, `v1: ${ooms} oom events for one kill read late`);
  },
);

asRoot('pids.limit 10: the container holds 10 processes and the 11th fork fails', () => {
  const root = tempDir();
  const id = uniqueId('pids');
  const b = bundle((s) => {
    s.linux!.resources = { ...s.linux!.resources, pids: { limit: 10 } };
    // sh and 9 sleeps make 10; the shell exits when the next fork fails.
    shArgs('i=1; while [ $i -lt 10 ]; do sleep 1000 & i=$((i+1)); done; echo "$i processes"; sleep 1000 & echo "an 11th"')(s);
  });
  watched(root, id, b);
  const r = runtime(['run', '--keep', '--bundle', b, id], { root });
  assert.match(r.stdout, /^10 processes$/m);
  assert.not.match(r.stdout, /an 11th/);
  assert.match(r.stderr, /can't fork/);
  assert.is(cgroupFile(id, 'pids', { v1: 'pids.max', v2: 'pids.max' }), '10');
  assert.match(cgroupFile(id, 'pids', { v1: 'pids.events', v2: 'pids.events' }), /^max [1-9]/m);
  deleteAndCheck(root, id);
});

// A period of 50 ms: the kernel's default is 100 ms, which a runtime that drops the period would leave.
asRoot("cpu quota/period, shares and blkio weight are in the container's cgroup files", () => {
  const { root, id } = runDetached((s) => {
    s.linux!.resources = { ...s.linux!.resources, cpu: { quota: 25000, period: 50000, shares: 512 }, blockIO: { weight: 500 } };
    shArgs('exec sleep 1000')(s);
  });
  if (isV2) {
    assert.is(cgroupFile(id, 'cpu', { v1: '', v2: 'cpu.max' }), '25000 50000');
    assert.is(cgroupFile(id, 'cpu', { v1: '', v2: 'cpu.weight' }), String(sharesToWeight(512)));
    const bfq = existsSync(join(cgroupDir(`/runts/${id}`, 'io'), 'io.bfq.weight'));
    // Without BFQ, io.weight takes the weight converted from [10, 1000] to [1, 10000].
    assert.is(cgroupFile(id, 'io', { v1: '', v2: bfq ? 'io.bfq.weight' : 'io.weight' }), bfq ? 'default 500' : 'default 4950');
  } else {
    assert.is(cgroupFile(id, 'cpu', { v1: 'cpu.cfs_quota_us', v2: '' }), '25000');
    assert.is(cgroupFile(id, 'cpu', { v1: 'cpu.cfs_period_us', v2: '' }), '50000');
    assert.is(cgroupFile(id, 'cpu', { v1: 'cpu.shares', v2: '' }), '512');
    const weight = existsSync(join(cgroupDir(`/runts/${id}`, 'blkio'), 'blkio.weight')) ? 'blkio.weight' : 'blkio.bfq.weight';
    assert.is(cgroupFile(id, 'blkio', { v1: weight, v2: '' }), '500');
  }
  deleteAndCheck(root, id);
});

/**
 * Why "0" in a new cpuset cgroup would not show that the config asked for
 * it, if so: on v2 the file reads only what was written; on v1 a runtime
 * must fill it before the cgroup takes a task, from the parent when not
 * from the config, and a parent that offers only "0" gives "0" anyway.
 */
function cpusetBlind(file: 'cpus' | 'mems'): string | undefined {
  if (isV2) return undefined;
  const parent = readFileSync(join(cgroupDir('/', 'cpuset'), `cpuset.${file}`), 'utf8').trim();
  return parent === '0'
    ? `this host offers only ${file === 'cpus' ? 'CPU' : 'memory node'} 0, which a v1 cpuset copies from its parent anyway`
    : undefined;
}

for (const file of ['cpus', 'mems'] as const) {
  const blind = cpusetBlind(file);
  const title = `cpu.${file} "0" is the container's cpuset.${file}`;
  if (blind) skipTest(test, title, blind);
  else
    asRoot(title, () => {
      const { root, id } = runDetached((s) => {
        s.linux!.resources = { ...s.linux!.resources, cpu: { [file]: '0' } };
        shArgs('exec sleep 1000')(s);
      });
      assert.is(cgroupFile(id, 'cpuset', { v1: `cpuset.${file}`, v2: `cpuset.${file}` }), '0');
      deleteAndCheck(root, id);
    });
}

asRoot('devices: a rule denying /dev/null makes "echo > /dev/null" fail inside; the other defaults stay usable', () => {
  const script = shArgs(
    'echo x > /dev/null && echo null-written || echo null-denied; head -c 1 /dev/zero > /dev/full; echo x > /dev/zero && echo zero-written',
  );
  const denied = runtime(
    [
      'run',
      '--bundle',
      bundle((s) => {
        s.linux!.resources!.devices!.push({ allow: false, type: 'c', major: 1, minor: 3, access: 'rwm' });
        script(s);
      }),
      uniqueId('dev'),
    ],
    { root: tempDir() },
  );
  assert.match(denied.stdout, /null-denied/, denied.stderr);
  assert.match(denied.stderr, /\/dev\/null: Operation not permitted/);
  assert.match(denied.stdout, /zero-written/);
  const allowed = runtime(['run', '--bundle', bundle(script), uniqueId('dev')], { root: tempDir() });
  assert.match(allowed.stdout, /null-written/, allowed.stderr);
});

asRoot(
  'pause freezes the container (the kernel reports its cgroup frozen, state says paused), resume lets its counter go on',
  async () => {
    const counter = tempDir();
    const { root, id } = runDetached((s) => {
      withHostDir(s, counter);
      shArgs('i=0; while true; do i=$((i+1)); echo $i > /host/count; sleep 0.02; done')(s);
    });
    const count = () => Number(readFileSync(join(counter, 'count'), 'utf8') || 0);
    await eventually('the counter to start', () => existsSync(join(counter, 'count')) && count() > 2);
    assert.is(runtime(['pause', id], { root }).code, 0);
    assert.is(stateOf(root, id).status, 'paused');
    // What the kernel reports once every task is frozen (v1's FREEZING, v2's "frozen 0", mean not yet).
    if (isV2) assert.match(cgroupFile(id, 'freezer', { v1: '', v2: 'cgroup.events' }), /^frozen 1$/m);
    else assert.is(cgroupFile(id, 'freezer', { v1: 'freezer.state', v2: '' }), 'FROZEN');
    const frozenAt = count();
    assert.match(runtime(['pause', id], { root }).stderr, /cannot pause container .* that is paused/);
    assert.is(runtime(['resume', id], { root }).code, 0);
    assert.is(stateOf(root, id).status, 'running');
    await eventually('the counter to go on', () => count() > frozenAt + 2);
    assert.match(runtime(['resume', id], { root }).stderr, /not paused/);
    deleteAndCheck(root, id);
  },
);

asRoot("update --memory changes the limit of a running container; --resources - takes runc's JSON", () => {
  const { root, id } = runDetached((s) => {
    s.linux!.resources = { ...s.linux!.resources, memory: { limit: 32 * MiB }, pids: { limit: 20 } };
    shArgs('exec sleep 1000')(s);
  });
  const limit = () => cgroupFile(id, 'memory', { v1: 'memory.limit_in_bytes', v2: 'memory.max' });
  assert.is(limit(), String(32 * MiB));
  const r = runtime(['update', '--memory', '64m', id], { root });
  assert.is(r.code, 0, r.stderr);
  assert.is(limit(), String(64 * MiB));
  const json = runtime(['update', '--resources', '-', id], {
    root,
    input: JSON.stringify({ pids: { limit: 30 }, cpu: { shares: 256 } }),
  });
  assert.is(json.code, 0, json.stderr);
  assert.is(cgroupFile(id, 'pids', { v1: 'pids.max', v2: 'pids.max' }), '30');
  assert.is(limit(), String(64 * MiB), 'an update of other values changed the memory limit');
  const bad = runtime(['update', '--resources', '-', id], { root, input: '{"memory":{"limit":"lots"}}' });
  assert.is(bad.code, 1);
  assert.match(bad.stderr, /--resources -: \/memory\/limit: must be integer/);
  assert.match(runtime(['update', '--memory', 'lots', id], { root }).stderr, /--memory: \\"lots\\" is not a size/);
  deleteAndCheck(root, id);
});

asRoot("ps --format json lists the pids of the container's cgroup; the table keeps ps's header and their lines", () => {
  const { root, id, pid } = runDetached(shArgs('sleep 1000 & sleep 1001 & wait'));
  const r = runtime(['ps', '--format', 'json', id], { root });
  assert.is(r.code, 0, r.stderr);
  const pids = (JSON.parse(r.stdout) as number[]).sort((a, b) => a - b);
  const procs = readFileSync(join(cgroupDir(`/runts/${id}`, 'pids'), 'cgroup.procs'), 'utf8')
    .split('\n')
    .filter(Boolean)
    .map(Number)
    .sort((a, b) => a - b);
  assert.equal(pids, procs);
  assert.is(pids.length, 3);
  assert.ok(pids.includes(pid));
  const table = runtime(['ps', id, '-o', 'pid,args'], { root });
  assert.is(table.code, 0, table.stderr);
  const [header = '', ...lines] = table.stdout.trim().split('\n');
  assert.match(header, /PID/);
  assert.equal(
    lines.map((l) => Number(l.trim().split(/\s+/)[0])).sort((a, b) => a - b),
    pids,
  );
  assert.ok(lines.some((l) => l.includes('sleep 1001')));
  deleteAndCheck(root, id);
});

asRoot('events --stats prints one stats object with memory, cpu and pids figures', () => {
  const { root, id } = runDetached((s) => {
    s.linux!.resources = { ...s.linux!.resources, memory: { limit: 48 * MiB }, pids: { limit: 20 } };
    shArgs('i=0; while [ $i -lt 2000 ]; do i=$((i+1)); done; exec sleep 1000')(s);
  });
  const r = runtime(['events', '--stats', id], { root });
  assert.is(r.code, 0, r.stderr);
  const lines = r.stdout.trim().split('\n');
  assert.is(lines.length, 1);
  const event = JSON.parse(lines[0]!);
  assert.is(event.type, 'stats');
  assert.is(event.id, id);
  const { memory, cpu, pids } = event.data;
  assert.is(memory.usage.limit, 48 * MiB);
  assert.ok(memory.usage.usage > 0, 'no memory usage');
  assert.ok(cpu.usage.total > 0, 'no cpu usage');
  assert.is(pids.current, 1);
  assert.is(pids.limit, 20);
  deleteAndCheck(root, id);
});

/**
 * Each process of the cgroup must get the signal asked for, one by one:
 * SIGKILL alone may go through cgroup.kill (v2, or v1's unified hierarchy
 * on a hybrid host), so USR1 takes the freeze-and-signal path. Each of
 * three shells notes the signal it trapped; the other processes die of it.
 */
asRoot(
  'kill --all signals every process of the cgroup (here without a pid namespace), each with the signal asked for',
  async () => {
    for (const signal of ['USR1', 'KILL']) {
      const got = tempDir();
      const { root, id, pid } = runDetached((s) => {
        s.linux!.namespaces = s.linux!.namespaces!.filter((n) => n.type !== 'pid');
        withHostDir(s, got);
        const trapper = (n: number) =>
          `sh -c 'trap "echo > /host/got-${n}; exit 0" USR1; echo > /host/ready-${n}; while :; do sleep 0.05; done' &`;
        shArgs(`${[1, 2, 3].map(trapper).join(' ')} sleep 1000 & wait`)(s);
      });
      const procs = () =>
        readFileSync(join(cgroupDir(`/runts/${id}`, 'pids'), 'cgroup.procs'), 'utf8')
          .split('\n')
          .filter(Boolean)
          .map(Number);
      await eventually('the shells to trap USR1', () => [1, 2, 3].every((n) => existsSync(join(got, `ready-${n}`))));
      const all = procs();
      assert.is(runtime(['kill', '--all', id, signal], { root }).code, 0);
      await eventually(`every process to die of ${signal}`, () => all.every((p) => !alive(p)));
      assert.not.ok(alive(pid));
      const trapped = [1, 2, 3].filter((n) => existsSync(join(got, `got-${n}`)));
      assert.equal(trapped, signal === 'USR1' ? [1, 2, 3] : [], `shells that trapped USR1 after kill --all ${signal}`);
      deleteAndCheck(root, id);
    }
  },
);

asRoot('delete --force of a paused container thaws and kills it, and removes its cgroup', () => {
  const { root, id, pid } = runDetached(shArgs('exec sleep 1000'));
  assert.is(runtime(['pause', id], { root }).code, 0);
  assert.is(stateOf(root, id).status, 'paused');
  assert.match(runtime(['delete', id], { root }).stderr, /not stopped: paused/);
  deleteAndCheck(root, id);
  assert.not.ok(alive(pid));
});

asRoot("cgroupsPath: absolute from each hierarchy's root, relative below runts' own cgroup", () => {
  const absolute = `/runts-test-${RUN_TOKEN}/abs`;
  const abs = runDetached((s) => {
    s.linux!.cgroupsPath = absolute;
    shArgs('exec sleep 1000')(s);
  });
  assert.match(readFileSync(join(cgroupDir(absolute, 'memory'), 'cgroup.procs'), 'utf8'), new RegExp(`^${abs.pid}$`, 'm'));
  deleteAndCheck(abs.root, abs.id);
  assert.not.ok(existsSync(cgroupDir(absolute, 'memory')));
  // The parents stay (as runc leaves them); this test's go.
  for (const dir of cgroupDirsNamed(`runts-test-${RUN_TOKEN}`)) rmdirSync(dir);

  const rel = runDetached((s) => {
    s.linux!.cgroupsPath = `rel-${RUN_TOKEN}`;
    shArgs('exec sleep 1000')(s);
  });
  const own = readFileSync(`/proc/${rel.pid}/cgroup`, 'utf8');
  const mine = readFileSync('/proc/self/cgroup', 'utf8');
  const line = (text: string, controller: string) =>
    text
      .split('\n')
      .find((l) => l.split(':')[isV2 ? 0 : 1] === (isV2 ? '0' : controller))
      ?.split(':')[2] ?? '';
  const parent = isV2 ? line(mine, '').replace(/\/[^/]*$/, '') : line(mine, 'memory');
  assert.is(line(own, 'memory'), `${parent === '/' ? '' : parent}/rel-${RUN_TOKEN}`);
  deleteAndCheck(rel.root, rel.id);
});

asRoot('the container sees its own cgroup: /proc/self/cgroup and its /sys/fs/cgroup, with or without a cgroup namespace', () => {
  const look =
    'cat /proc/self/cgroup; echo ---; cat /sys/fs/cgroup/memory.max /sys/fs/cgroup/memory/memory.limit_in_bytes 2>/dev/null; true';
  for (const cgroupns of [true, false]) {
    if (isV2 && !cgroupns) continue; // v2 without a cgroup namespace shows the whole hierarchy, as with runc
    const id = uniqueId('view');
    const root = tempDir();
    const b = bundle((s) => {
      s.linux!.resources = { ...s.linux!.resources, memory: { limit: 40 * MiB } };
      if (cgroupns) s.linux!.namespaces!.push({ type: 'cgroup' });
      shArgs(look)(s);
    });
    const watch = watched(root, id, b);
    const r = runtime(['run', '--bundle', b, id], { root });
    assert.is(r.code, 0, r.stderr);
    const [cgroups = '', files = ''] = r.stdout.split('---\n');
    const paths = cgroups
      .trim()
      .split('\n')
      .map((l) => l.split(':')[2]);
    assert.ok(
      paths.every((p) => p === (cgroupns ? '/' : `/runts/${id}`)),
      `${cgroupns ? 'with' : 'without'} a cgroup namespace: ${cgroups}`,
    );
    assert.is(
      files.trim(),
      String(40 * MiB),
      `${cgroupns ? 'with' : 'without'} a cgroup namespace, the memory limit inside: ${files}`,
    );
    assert.equal(leftovers(watch), []);
  }
});

asRoot('a create that fails after its cgroup was made leaves no cgroup directory', () => {
  const root = tempDir();
  const id = uniqueId('fail');
  const missing = bundle((s) => (s.process!.args = ['no-such-program']));
  const first = watched(root, id, missing);
  const r = runtime(['create', '--bundle', missing, id], { root });
  assert.is(r.code, 1);
  assert.equal(leftovers(first), []);
  const tooMany = bundle((s) => (s.linux!.resources = { ...s.linux!.resources, cpu: { cpus: '9999' } }));
  const second = watched(root, id, tooMany);
  const bad = runtime(['create', '--bundle', tooMany, id], { root });
  assert.is(bad.code, 1);
  assert.match(bad.stderr, /linux\.resources\.cpu: cgroup: writing \\"9999\\" to \S*\/cpuset\.cpus/);
  assert.equal(leftovers(second), []);
});

asRoot("bpf(2) through FFI: the kernel's verifier takes the device program, and a refusal carries its log", () => {
  const program = deviceFilterProgram(reduceDeviceRules(deviceRules([{ allow: false, access: 'rwm' }], [])));
  closeSync(sys().bpfProgLoad(BPF_PROG_TYPE_CGROUP_DEVICE, program, DEVICE_FILTER_LICENSE));
  const exitWithoutVerdict = Buffer.from('9500000000000000', 'hex'); // exit, r0 never set
  assert.throws(
    () => sys().bpfProgLoad(BPF_PROG_TYPE_CGROUP_DEVICE, exitWithoutVerdict, DEVICE_FILTER_LICENSE),
    /bpf BPF_PROG_LOAD .*: Permission denied: .*R0 !read_ok/s,
  );
});

test.run();
