// The process finaliser (src/init/finalize.ts) against the recording
// double: one order of system calls, for the init's plan and an exec's.
import { existsSync, mkdirSync, openSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { finalizeProcess } from '../../src/init/finalize';
import { HELPER_PATH } from '../../src/linux/exec-helper';
import { prepareSeccomp } from '../../src/linux/seccomp';
import { type ProcessPlan, makeExecBase, makePlan, planExec } from '../../src/spec/plan';
import type { Spec } from '../../src/spec/types';
import { CLOSE_RANGE_CLOEXEC, F_SETFD, PR_SET_NO_NEW_PRIVS } from '../../src/sys/constants';
import { type RecordedCall, RecordingSys } from '../../src/sys/recording';
import { baseSpec } from '../lib/bundle';
import { tempDir } from '../lib/cli';

const test = suite('finalize (recorded)');

const scratch = tempDir();
// The finaliser copies the helper, found beside the bundle, into a memfd:
// here a stand-in file, copied into a real fd the double hands out.
if (!existsSync(HELPER_PATH)) writeFileSync(HELPER_PATH, 'a stand-in for dist/runts-helper');
class FinalizeSys extends RecordingSys {
  override memfdCreate(name: string, flags: number): number {
    super.memfdCreate(name, flags);
    return openSync(join(scratch, 'memfd'), 'w+');
  }
}

const state = { ociVersion: '1.2.0', id: 'x', status: 'creating', pid: 4242, bundle: '/b' };

function spec(noNewPrivileges: boolean): Spec {
  const s = baseSpec();
  s.process!.args = ['/bin/sh'];
  s.process!.noNewPrivileges = noNewPrivileges;
  s.process!.rlimits = [{ type: 'RLIMIT_NOFILE', soft: 1024, hard: 1024 }];
  s.process!.user = { uid: 1000, gid: 1000 };
  s.linux!.seccomp = { defaultAction: 'SCMP_ACT_ALLOW', syscalls: [{ names: ['mkdir'], action: 'SCMP_ACT_ERRNO' }] };
  return s;
}

/** The init's plan and an exec's of the same process, as create and exec compile them. */
function plans(noNewPrivileges = false): { init: ProcessPlan; exec: ProcessPlan } {
  const s = spec(noNewPrivileges);
  const init = makePlan(
    { bundle: '/b', file: '/b/config.json', spec: s, rootfs: '/b/rootfs' },
    { id: 'x', fifoPath: '/f', noPivot: false, preserveFds: 1, cgroup: { version: 2 } },
  );
  const exec = planExec(makeExecBase(s, init), s.process!, { preserveFds: 1 });
  return { init, exec };
}

// The container's root: the double's files are under it once chrooted, its /proc/self a plain directory.
const container = tempDir();
mkdirSync(join(container, 'proc/self'), { recursive: true });
writeFileSync(join(container, 'proc/self/oom_score_adj'), '0');

/** Runs the finaliser; the move into the container shows as a chroot. */
function finalize(plan: ProcessPlan): RecordedCall[] {
  const sys = new FinalizeSys();
  finalizeProcess(sys, plan, { state, enterContainer: () => sys.chroot(container) });
  return sys.calls;
}

const at = (calls: RecordedCall[], match: (c: RecordedCall) => boolean, what: string): number => {
  const i = calls.findIndex(match);
  assert.ok(i >= 0, `no ${what} recorded`);
  return i;
};
const enter = (c: RecordedCall) => c.call === 'chroot';
const named = (name: RecordedCall['call']) => (c: RecordedCall) => c.call === name;

test('the host-side steps come before the move into the container, the rest after', () => {
  const calls = finalize(plans().init);
  const entered = at(calls, enter, 'move into the container');
  assert.ok(at(calls, named('exportSeccomp'), 'exportSeccomp') < entered, 'the filter was built inside the container');
  assert.ok(at(calls, named('memfdCreate'), 'memfdCreate') < entered, 'the helper was copied inside the container');
  for (const inside of ['chdir', 'setrlimit', 'closeRange', 'loadSeccomp', 'setresuid'] as const) {
    assert.ok(at(calls, named(inside), inside) > entered, `${inside} before the move into the container`);
  }
});

test('without no_new_privs the filter is loaded before the credentials change; with it, after no_new_privs', () => {
  const before = finalize(plans(false).init);
  assert.ok(at(before, named('loadSeccomp'), 'loadSeccomp') < at(before, named('setresuid'), 'setresuid'));
  const after = finalize(plans(true).init);
  const noNewPrivs = at(after, (c) => c.call === 'prctl' && c.args[0] === PR_SET_NO_NEW_PRIVS, 'PR_SET_NO_NEW_PRIVS');
  assert.ok(at(after, named('setresuid'), 'setresuid') < noNewPrivs);
  assert.ok(noNewPrivs < at(after, named('loadSeccomp'), 'loadSeccomp'));
});

test('only stdio and the preserved fds stay inheritable, settled before the filter and the credentials', () => {
  const calls = finalize(plans().init);
  const closeRange = at(calls, named('closeRange'), 'closeRange');
  assert.equal(calls[closeRange]?.args, [4, 0xffffffff, CLOSE_RANGE_CLOEXEC]);
  const cleared = calls.filter((c) => c.call === 'fcntl' && c.args[1] === F_SETFD && c.args[2] === 0).map((c) => c.args[0]);
  assert.equal(cleared, [0, 1, 2, 3]);
  const lastOpen = Math.max(...calls.flatMap((c, i) => (c.call === 'memfdCreate' || c.call === 'connectUnix' ? [i] : [])));
  assert.ok(lastOpen < closeRange, 'an fd was opened after close_range');
  assert.ok(closeRange < at(calls, named('loadSeccomp'), 'loadSeccomp'));
  assert.ok(closeRange < at(calls, named('setresuid'), 'setresuid'));
});

test("the init's plan and an exec's of the same process go through the same sequence", () => {
  for (const noNewPrivileges of [false, true]) {
    const { init, exec } = plans(noNewPrivileges);
    assert.equal(
      finalize(exec).map((c) => c.call),
      finalize(init).map((c) => c.call),
    );
  }
});

test("oom_score_adj: through the host's /proc/self before the move (exec), the container's after the rlimits (the init)", () => {
  // This process's own value, written back unchanged.
  const current = Number(readFileSync('/proc/self/oom_score_adj', 'utf8'));
  const { init, exec } = plans();
  init.process.oomScoreAdj = exec.process.oomScoreAdj = current;
  // The write's procfs check (procfs.ts) is the one fstatfs.
  const byExec = finalize(exec);
  assert.ok(at(byExec, named('fstatfs'), 'oom_score_adj write') < at(byExec, enter, 'move into the container'));
  const byInit = finalize(init);
  assert.ok(at(byInit, named('fstatfs'), 'oom_score_adj write') > at(byInit, named('setrlimit'), 'setrlimit'));
  assert.ok(at(byInit, named('fstatfs'), 'oom_score_adj write') < at(byInit, named('closeRange'), 'closeRange'));
});

/** The same two plans, with process.scheduler, ioPriority, execCPUAffinity and linux.memoryPolicy. */
function plansWithAttributes(): { init: ProcessPlan; exec: ProcessPlan } {
  const s = spec(false);
  Object.assign(s.process!, {
    scheduler: { policy: 'SCHED_BATCH', nice: 10 },
    ioPriority: { class: 'IOPRIO_CLASS_BE', priority: 6 },
    execCPUAffinity: { initial: '0', final: '1-2' },
  });
  Object.assign(s.linux!, { memoryPolicy: { mode: 'MPOL_BIND', nodes: '0,2', flags: ['MPOL_F_STATIC_NODES'] } });
  const init = makePlan(
    { bundle: '/b', file: '/b/config.json', spec: s, rootfs: '/b/rootfs' },
    { id: 'x', fifoPath: '/f', noPivot: false, preserveFds: 1, cgroup: { version: 2 } },
  );
  return { init, exec: planExec(makeExecBase(s, init), s.process!, { preserveFds: 1 }) };
}

test('memory policy, I/O priority, scheduler: inside, after the rlimits, before the filter and the credentials', () => {
  const { init, exec } = plansWithAttributes();
  for (const plan of [init, exec]) {
    const calls = finalize(plan);
    const mempolicy = at(calls, named('setMempolicy'), 'setMempolicy');
    const ioprio = at(calls, named('ioprioSet'), 'ioprioSet');
    const sched = at(calls, named('schedSetattr'), 'schedSetattr');
    assert.ok(at(calls, named('setrlimit'), 'setrlimit') < mempolicy && mempolicy < ioprio && ioprio < sched);
    assert.ok(sched < at(calls, named('loadSeccomp'), 'loadSeccomp'), 'the scheduler after the filter');
    assert.ok(sched < at(calls, named('setresuid'), 'setresuid'), 'the scheduler after the credentials (CAP_SYS_NICE)');
    // MPOL_BIND | MPOL_F_STATIC_NODES; IOPRIO_CLASS_BE << 13 | 6; SCHED_BATCH with nice 10.
    assert.equal(calls[mempolicy]?.args, [2 | (1 << 15), [0, 2]]);
    assert.equal(calls[ioprio]?.args, [(2 << 13) | 6]);
    assert.equal(calls[sched]?.args, [{ policy: 3, flags: 0, nice: 10, priority: 0, runtime: 0, deadline: 0, period: 0 }]);
  }
});

test("execCPUAffinity: an exec's initial CPUs before its move into the container; never the init's", () => {
  const { init, exec } = plansWithAttributes();
  assert.equal(exec.cpuAffinity, { initial: [0], final: [1, 2] });
  const calls = finalize(exec);
  const affinity = at(calls, named('schedSetaffinity'), 'schedSetaffinity');
  assert.equal(calls[affinity]?.args, [[0]]);
  assert.ok(affinity < at(calls, enter, 'move into the container'));
  assert.is(init.cpuAffinity, undefined);
  assert.is(finalize(init).filter(named('schedSetaffinity')).length, 0);
});

test('a filter built earlier (the init, during the hooks) is not built again', () => {
  const { init } = plans();
  const sys = new FinalizeSys();
  const prepared = prepareSeccomp(sys, init.seccomp!);
  finalizeProcess(sys, init, { state, seccomp: prepared, enterContainer: () => {} });
  assert.is(sys.callsTo('exportSeccomp').length, 1);
  assert.is(sys.callsTo('loadSeccomp').length, 1);
});

test.run();
