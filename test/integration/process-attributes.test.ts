// process.scheduler, process.ioPriority, process.execCPUAffinity and
// linux.memoryPolicy on real containers: read back from inside (/proc/self,
// busybox's ionice) and from the host (/proc/PID/stat of the init).
import { existsSync, mkdirSync, readFileSync, readdirSync, rmdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import type { Spec } from '../../src/spec/types';
import { isRoot, tempDir } from '../lib/cli';
import { bundle, runBundle, runtime, shArgs, stateOf, uniqueId } from '../lib/container';

const test = suite('process attributes');
const asRoot = isRoot ? test : test.skip;

type Extra = Record<string, unknown>;
const proc = (s: Spec) => s.process as unknown as Extra;
const linux = (s: Spec) => s.linux as unknown as Extra;

/** /proc/PID/stat's fields by their proc(5) numbers (1: pid, 2: comm, …), comm's spaces and parentheses aside. */
function statFields(text: string): (n: number) => string {
  const rest = text
    .slice(text.lastIndexOf(')') + 2)
    .trim()
    .split(' ');
  return (n) => rest[n - 3]!;
}
/** What proc(5) says of the scheduling: nice (19), rt_priority (40), policy (41). */
const schedulingOf = (stat: string) => {
  const field = statFields(stat);
  return { nice: Number(field(19)), rtPriority: Number(field(40)), policy: Number(field(41)) };
};

const cpusAllowed = (status: string) => /^Cpus_allowed_list:\s*(\S+)$/m.exec(status)?.[1];
const allCpus = readFileSync('/sys/devices/system/cpu/online', 'utf8').trim();
const smp = allCpus !== '0';

/** A long-running container; the callback gets its root, id and init pid, and the container goes after. */
function withContainer(edit: (s: Spec) => void, body: (c: { root: string; id: string; pid: number }) => void): void {
  const root = tempDir();
  const id = uniqueId('pa');
  const b = bundle((s) => {
    shArgs('exec sleep 1000')(s);
    edit(s);
  });
  const r = runtime(['run', '-d', '--bundle', b, id], { root });
  assert.is(r.code, 0, r.stderr);
  try {
    body({ root, id, pid: stateOf(root, id).pid });
  } finally {
    runtime(['delete', '-f', id], { root });
  }
}

/** `exec --process FILE` of this process document; its outcome. */
function execProcess(root: string, id: string, process: Extra, global: string[] = []) {
  const file = join(tempDir(), 'process.json');
  writeFileSync(file, JSON.stringify({ cwd: '/', env: ['PATH=/bin:/usr/bin'], user: { uid: 0, gid: 0 }, ...process }));
  return runtime([...global, 'exec', '--process', file, id], { root });
}

asRoot('process.scheduler: the init, an exec inheriting it, and an exec with its own', () => {
  withContainer(
    (s) => (proc(s).scheduler = { policy: 'SCHED_BATCH', nice: 19 }),
    ({ root, id, pid }) => {
      assert.equal(schedulingOf(readFileSync(`/proc/${pid}/stat`, 'utf8')), { nice: 19, rtPriority: 0, policy: 3 });
      const inherited = runtime(['exec', id, 'cat', '/proc/self/stat'], { root });
      assert.is(inherited.code, 0, inherited.stderr);
      assert.equal(schedulingOf(inherited.stdout), { nice: 19, rtPriority: 0, policy: 3 });
      const own = execProcess(root, id, {
        args: ['cat', '/proc/self/stat'],
        scheduler: { policy: 'SCHED_OTHER', nice: 5 },
      });
      assert.is(own.code, 0, own.stderr);
      assert.equal(schedulingOf(own.stdout), { nice: 5, rtPriority: 0, policy: 0 });
    },
  );
});

// On cgroup v1 with real-time group scheduling (CONFIG_RT_GROUP_SCHED) a
// real-time policy needs real-time runtime in the process's cgroup, and a
// cgroup cannot have more than its parent: runts' /runts has none, so this
// container's cgroup sits below a parent of the test's own that has some.
const RT_GROUP_SCHED = existsSync('/sys/fs/cgroup/cpu/cpu.rt_runtime_us');

asRoot('process.scheduler: SCHED_FIFO with its priority', () => {
  const parent = `runts-rt-${uniqueId()}`;
  const parentDir = join('/sys/fs/cgroup/cpu', parent);
  if (RT_GROUP_SCHED) {
    mkdirSync(parentDir);
    writeFileSync(join(parentDir, 'cpu.rt_runtime_us'), '20000');
  }
  try {
    const r = runBundle(
      bundle((s) => {
        proc(s).scheduler = { policy: 'SCHED_FIFO', priority: 10 };
        if (RT_GROUP_SCHED) {
          s.linux!.cgroupsPath = `/${parent}/${uniqueId()}`;
          s.linux!.resources = { ...s.linux!.resources, cpu: { realtimeRuntime: 10000, realtimePeriod: 1000000 } };
        }
        shArgs('cat /proc/self/stat')(s);
      }),
    );
    assert.is(r.code, 0, r.stderr);
    assert.equal(schedulingOf(r.stdout), { nice: 0, rtPriority: 10, policy: 1 });
  } finally {
    // The container's path made the parent in every hierarchy, and delete removes only its own leaf.
    if (RT_GROUP_SCHED) {
      for (const hierarchy of readdirSync('/sys/fs/cgroup')) {
        const dir = join('/sys/fs/cgroup', hierarchy, parent);
        if (existsSync(dir)) rmdirSync(dir);
      }
    }
  }
});

asRoot('process.scheduler: SCHED_DEADLINE for the init (which execs, never forks)', () => {
  withContainer(
    (s) =>
      (proc(s).scheduler = {
        policy: 'SCHED_DEADLINE',
        flags: ['SCHED_FLAG_RESET_ON_FORK'],
        runtime: 42000,
        deadline: 100000,
        period: 1000000,
      }),
    ({ pid }) => {
      assert.equal(schedulingOf(readFileSync(`/proc/${pid}/stat`, 'utf8')), { nice: 0, rtPriority: 0, policy: 6 });
      // /proc/PID/sched has the deadline entity's lines only for a SCHED_DEADLINE task
      // (its runtime is what is left of the period's budget, not the configured one).
      assert.match(readFileSync(`/proc/${pid}/sched`, 'utf8'), /^dl\.runtime\s*:/m);
    },
  );
});

(smp && isRoot ? test : test.skip)(
  'process.scheduler: SCHED_DEADLINE with a cpuset of some CPUs fails create, saying why',
  () => {
    const r = runBundle(
      bundle((s) => {
        proc(s).scheduler = { policy: 'SCHED_DEADLINE', runtime: 42000, deadline: 1000000, period: 1000000 };
        s.linux!.resources = { ...s.linux!.resources, cpu: { cpus: '0', mems: '0' } };
      }),
    );
    assert.is.not(r.code, 0);
    assert.match(r.stderr, "SCHED_DEADLINE needs the process's CPU affinity to hold every CPU");
  },
);

asRoot('process.scheduler: rules the kernel would refuse are named before anything starts', () => {
  const r = runBundle(bundle((s) => (proc(s).scheduler = { policy: 'SCHED_BATCH', priority: 3 })));
  assert.is.not(r.code, 0);
  assert.match(r.stderr, '/process/scheduler/priority: can only be given for SCHED_FIFO or SCHED_RR');
  const dl = runBundle(bundle((s) => (proc(s).scheduler = { policy: 'SCHED_DEADLINE', runtime: 2000000, deadline: 1000000 })));
  assert.is.not(dl.code, 0);
  assert.match(dl.stderr, '/process/scheduler: SCHED_DEADLINE needs runtime <= deadline <= period');
});

asRoot("process.scheduler: SCHED_DEADLINE for an exec's process is refused (runts forks it)", () => {
  withContainer(
    () => {},
    ({ root, id }) => {
      const r = execProcess(root, id, {
        args: ['true'],
        scheduler: { policy: 'SCHED_DEADLINE', runtime: 42000, deadline: 100000, period: 1000000 },
      });
      assert.is.not(r.code, 0);
      assert.match(r.stderr, '/process/scheduler/policy: SCHED_DEADLINE is not supported for exec');
    },
  );
});

asRoot('process.ioPriority: the init, an exec inheriting it, and an exec with its own', () => {
  withContainer(
    (s) => (proc(s).ioPriority = { class: 'IOPRIO_CLASS_BE', priority: 4 }),
    ({ root, id }) => {
      const init = runtime(['exec', id, 'ionice', '-p', '1'], { root });
      assert.is(init.code, 0, init.stderr);
      assert.is(init.stdout.trim(), 'best-effort: prio 4');
      const inherited = runtime(['exec', id, 'ionice'], { root });
      assert.is(inherited.stdout.trim(), 'best-effort: prio 4', inherited.stderr);
      const own = execProcess(root, id, { args: ['ionice'], ioPriority: { class: 'IOPRIO_CLASS_RT', priority: 2 } });
      assert.is(own.code, 0, own.stderr);
      assert.is(own.stdout.trim(), 'realtime: prio 2');
    },
  );
});

(smp && isRoot ? test : test.skip)(
  "process.execCPUAffinity: an exec's final CPUs; initial alone leaves all; not the init's",
  () => {
    withContainer(
      (s) => (proc(s).execCPUAffinity = { initial: '0', final: '1' }),
      ({ root, id, pid }) => {
        // config.md: not applicable to the init.
        assert.is(cpusAllowed(readFileSync(`/proc/${pid}/status`, 'utf8')), allCpus);
        const inherited = runtime(['exec', id, 'cat', '/proc/self/status'], { root });
        assert.is(inherited.code, 0, inherited.stderr);
        assert.is(cpusAllowed(inherited.stdout), '1');
        for (const [affinity, want] of [
          [{ final: '0' }, '0'],
          [{ initial: '1', final: '0-1' }, allCpus],
          [{ initial: '1' }, allCpus],
        ] as const) {
          const r = execProcess(root, id, { args: ['cat', '/proc/self/status'], execCPUAffinity: affinity });
          assert.is(r.code, 0, r.stderr);
          assert.is(cpusAllowed(r.stdout), want, JSON.stringify(affinity));
        }
        // initial: runts' own thread's, read back from the kernel (--debug), before the cgroup move.
        for (const initial of ['1', '0']) {
          const r = execProcess(root, id, { args: ['true'], execCPUAffinity: { initial } }, ['--debug']);
          assert.is(r.code, 0, r.stderr);
          assert.match(r.stderr, `execCPUAffinity.initial: on CPUs ${initial} until the cgroup move`);
        }
        const bad = execProcess(root, id, { args: ['true'], execCPUAffinity: { final: '1-0' } });
        assert.is.not(bad.code, 0);
        assert.match(bad.stderr, /\/process\/execCPUAffinity\/final: \S*1-0\S* is not a CPU list/);
      },
    );
  },
);

/** The policy of the first mapping in /proc/self/numa_maps (the second word of its first line). */
const numaPolicy = (numaMaps: string) => numaMaps.split('\n')[0]!.split(' ')[1];
const NUMA_MAPS = 'head -n 1 /proc/self/numa_maps';

asRoot('linux.memoryPolicy: the init process and an exec', () => {
  for (const [policy, want] of [
    [{ mode: 'MPOL_INTERLEAVE', nodes: '0' }, 'interleave:0'],
    [{ mode: 'MPOL_BIND', nodes: '0', flags: ['MPOL_F_STATIC_NODES'] }, 'bind=static:0'],
    [{ mode: 'MPOL_DEFAULT' }, 'default'],
  ] as const) {
    const r = runBundle(
      bundle((s) => {
        linux(s).memoryPolicy = policy;
        shArgs(NUMA_MAPS)(s);
      }),
    );
    assert.is(r.code, 0, r.stderr);
    assert.is(numaPolicy(r.stdout), want, JSON.stringify(policy));
  }
  withContainer(
    (s) => (linux(s).memoryPolicy = { mode: 'MPOL_PREFERRED', nodes: '0', flags: ['MPOL_F_RELATIVE_NODES'] }),
    ({ root, id }) => {
      const r = runtime(['exec', id, 'sh', '-c', NUMA_MAPS], { root });
      assert.is(r.code, 0, r.stderr);
      assert.is(numaPolicy(r.stdout), 'prefer=relative:0');
    },
  );
});

asRoot('linux.memoryPolicy: a missing mode is named; what set_mempolicy refuses fails create', () => {
  const noMode = runBundle(bundle((s) => (linux(s).memoryPolicy = { nodes: '0-7' })));
  assert.is.not(noMode.code, 0);
  assert.match(noMode.stderr, '/linux/memoryPolicy/mode: invalid memory policy mode');
  const refused = runBundle(
    bundle((s) => (linux(s).memoryPolicy = { mode: 'MPOL_DEFAULT', nodes: '0', flags: ['MPOL_F_STATIC_NODES'] })),
  );
  assert.is.not(refused.code, 0);
  assert.match(refused.stderr, /set_mempolicy .*Invalid argument/);
});

asRoot("in a user namespace: the init's and an exec's, whose finaliser runs in the exec stage", () => {
  const mapping = [{ containerID: 0, hostID: 100000, size: 65536 }];
  withContainer(
    (s) => {
      s.linux!.namespaces!.push({ type: 'user' } as never);
      s.linux!.uidMappings = mapping;
      s.linux!.gidMappings = mapping;
      // What a process may do to itself without CAP_SYS_NICE in the host's user namespace.
      proc(s).scheduler = { policy: 'SCHED_BATCH', nice: 7 };
      proc(s).ioPriority = { class: 'IOPRIO_CLASS_BE', priority: 6 };
      linux(s).memoryPolicy = { mode: 'MPOL_INTERLEAVE', nodes: '0' };
    },
    ({ root, id, pid }) => {
      assert.equal(schedulingOf(readFileSync(`/proc/${pid}/stat`, 'utf8')), { nice: 7, rtPriority: 0, policy: 3 });
      const script = `cat /proc/self/stat; ionice -p 1; ionice; ${NUMA_MAPS}; grep Cpus_allowed_list /proc/self/status`;
      // --process: the exec's own process, without the config's scheduler; the memory policy is the container's.
      const r = execProcess(root, id, {
        args: ['sh', '-c', script],
        ioPriority: { class: 'IOPRIO_CLASS_IDLE' },
        ...(smp ? { execCPUAffinity: { final: '1' } } : {}),
      });
      assert.is(r.code, 0, r.stderr);
      const [stat, initIonice, ionice, numaMaps, cpus] = r.stdout.trim().split('\n');
      assert.equal(schedulingOf(stat!), { nice: 0, rtPriority: 0, policy: 0 });
      assert.is(initIonice, 'best-effort: prio 6');
      assert.match(ionice!, /^idle\b/);
      assert.is(numaPolicy(numaMaps!), 'interleave:0');
      if (smp) assert.is(cpusAllowed(cpus!), '1');
    },
  );
});

test.run();
