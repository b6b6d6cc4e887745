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

test('a filter built earlier (the init, during the hooks) is not built again', () => {
  const { init } = plans();
  const sys = new FinalizeSys();
  const prepared = prepareSeccomp(sys, init.seccomp!);
  finalizeProcess(sys, init, { state, seccomp: prepared, enterContainer: () => {} });
  assert.is(sys.callsTo('exportSeccomp').length, 1);
  assert.is(sys.callsTo('loadSeccomp').length, 1);
});

test.run();
