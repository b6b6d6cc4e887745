// process.scheduler, ioPriority, execCPUAffinity and linux.memoryPolicy:
// the rules checked before anything starts, and the numbers the kernel gets.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { helperArgv } from '../../src/linux/exec-helper';
import {
  memoryPolicyProblems,
  parseIdList,
  planCpuAffinity,
  planIoPriority,
  planMemoryPolicy,
  planScheduler,
  processAttributeProblems,
  spawnedProcessProblems,
} from '../../src/linux/process-attributes';

const test = suite('process attributes');

const pointers = (problems: { pointer: string }[]) => problems.map((p) => p.pointer);

test('CPU and node lists: "0-3,7" with spaces as the schema allows; anything else is no list', () => {
  assert.equal(parseIdList('0-3,7', 100), [0, 1, 2, 3, 7]);
  assert.equal(parseIdList(' 1 , 0 - 1 ', 100), [0, 1]);
  assert.equal(parseIdList('5', 100), [5]);
  for (const bad of ['', '3-1', '1,,2', '-1', '1-', 'a', '0-101']) assert.is(parseIdList(bad, 100), undefined, bad);
});

test("process.scheduler: runc's rules, and the kernel's for real-time and deadline parameters", () => {
  const problems = (scheduler: object) => pointers(processAttributeProblems({ scheduler }));
  assert.equal(problems({ policy: 'SCHED_BATCH', nice: 19 }), []);
  assert.equal(problems({ policy: 'SCHED_FIFO', priority: 99 }), []);
  assert.equal(problems({ policy: 'SCHED_DEADLINE', runtime: 42000, deadline: 100000, period: 1000000 }), []);
  assert.equal(problems({ policy: 'SCHED_DEADLINE', runtime: 42000, deadline: 100000 }), [], 'period 0 is the deadline');
  assert.equal(problems({ policy: 'SCHED_ISO' }), ['/process/scheduler/policy']);
  assert.equal(problems({ policy: 'SCHED_OTHER', nice: 20 }), ['/process/scheduler/nice']);
  assert.equal(problems({ policy: 'SCHED_IDLE', priority: 1 }), ['/process/scheduler/priority']);
  assert.equal(problems({ policy: 'SCHED_RR' }), ['/process/scheduler/priority']);
  assert.equal(problems({ policy: 'SCHED_OTHER', runtime: 5, period: 9 }), [
    '/process/scheduler/runtime',
    '/process/scheduler/period',
  ]);
  assert.equal(problems({ policy: 'SCHED_DEADLINE', runtime: 100, deadline: 1000 }), ['/process/scheduler/runtime']);
  assert.equal(problems({ policy: 'SCHED_DEADLINE', runtime: 5000, deadline: 4000 }), ['/process/scheduler']);
  assert.equal(problems({ policy: 'SCHED_DEADLINE', runtime: 2000, deadline: 4000, period: 3000 }), ['/process/scheduler']);
});

test('process.ioPriority: a known class, a level of 0 to 7', () => {
  const problems = (ioPriority: object) => pointers(processAttributeProblems({ ioPriority }));
  assert.equal(problems({ class: 'IOPRIO_CLASS_RT', priority: 7 }), []);
  assert.equal(problems({ class: 'IOPRIO_CLASS_BE', priority: 8 }), ['/process/ioPriority/priority']);
  assert.equal(problems({ class: 'IOPRIO_CLASS_NONE' }), ['/process/ioPriority/class']);
});

test('process.execCPUAffinity: each list a CPU list, empty as unset', () => {
  const problems = (execCPUAffinity: object) => pointers(processAttributeProblems({ execCPUAffinity }));
  assert.equal(problems({ initial: '0-1', final: '' }), []);
  assert.equal(problems({ initial: '2-1', final: '0,x' }), [
    '/process/execCPUAffinity/initial',
    '/process/execCPUAffinity/final',
  ]);
});

test('linux.memoryPolicy: a mode is needed, known flags, nodes where the mode needs them', () => {
  assert.equal(pointers(memoryPolicyProblems({ mode: 'MPOL_INTERLEAVE', nodes: '0' })), []);
  assert.equal(pointers(memoryPolicyProblems({ mode: 'MPOL_DEFAULT' })), []);
  assert.equal(pointers(memoryPolicyProblems({ mode: 'MPOL_LOCAL' })), []);
  assert.equal(pointers(memoryPolicyProblems({ mode: 'MPOL_PREFERRED' })), [], 'an empty preferred set is local allocation');
  assert.equal(pointers(memoryPolicyProblems({ nodes: '0-7' })), ['/linux/memoryPolicy/mode']);
  assert.equal(pointers(memoryPolicyProblems({ mode: 'INTERLEAVE', nodes: '0' })), ['/linux/memoryPolicy/mode']);
  assert.equal(pointers(memoryPolicyProblems({ mode: 'MPOL_BIND' })), ['/linux/memoryPolicy/nodes']);
  assert.equal(pointers(memoryPolicyProblems({ mode: 'MPOL_BIND', nodes: '0-9876543210' })), ['/linux/memoryPolicy/nodes']);
  assert.equal(pointers(memoryPolicyProblems({ mode: 'MPOL_BIND', nodes: '0', flags: ['badflag'] })), [
    '/linux/memoryPolicy/flags/0',
  ]);
});

test('the numbers the kernel gets', () => {
  assert.equal(
    planScheduler({
      policy: 'SCHED_DEADLINE',
      flags: ['SCHED_FLAG_RESET_ON_FORK', 'SCHED_FLAG_RECLAIM'],
      runtime: 1,
      deadline: 2,
    }),
    { policy: 6, flags: 3, nice: 0, priority: 0, runtime: 1, deadline: 2, period: 0 },
  );
  assert.is(planIoPriority({ class: 'IOPRIO_CLASS_IDLE' }), 3 << 13);
  assert.is(planIoPriority({ class: 'IOPRIO_CLASS_RT', priority: 2 }), (1 << 13) | 2);
  assert.equal(planMemoryPolicy({ mode: 'MPOL_PREFERRED', nodes: '1', flags: ['MPOL_F_RELATIVE_NODES'] }), {
    mode: 1 | (1 << 14),
    nodes: [1],
  });
  // The kernel, not runts, refuses nodes for MPOL_DEFAULT (as with runc).
  assert.equal(planMemoryPolicy({ mode: 'MPOL_DEFAULT', nodes: '0-1' }), { mode: 0, nodes: [0, 1] });
});

test('execCPUAffinity: initial alone resets to every CPU after the cgroup join, as runc does; empty lists are unset', () => {
  assert.equal(planCpuAffinity({ initial: '1' }), { initial: [1], final: 'all' });
  assert.equal(planCpuAffinity({ final: '0-1' }), { final: [0, 1] });
  assert.is(planCpuAffinity({ initial: '', final: ' ' }), undefined);
});

test("the helper's final CPUs: after the cgroup join, before the terminal and the execve", () => {
  assert.equal(helperArgv({ cgroupFd: 5, cpus: [0, 3], terminal: true }, '/bin/sh', ['sh']), [
    'runts-helper',
    'cgroup-fd=5',
    'cpus=0,3',
    'tty',
    '--',
    '/bin/sh',
    'sh',
  ]);
  assert.equal(helperArgv({ cpus: 'all' }, '/bin/sh', ['sh']).slice(1, 2), ['cpus=all']);
});

test("an exec's process: no SCHED_DEADLINE and no SCHED_FLAG_RESET_ON_FORK (runts forks it)", () => {
  assert.equal(pointers(spawnedProcessProblems({ scheduler: { policy: 'SCHED_BATCH' } })), []);
  assert.equal(
    pointers(
      spawnedProcessProblems({
        scheduler: { policy: 'SCHED_DEADLINE', flags: ['SCHED_FLAG_RECLAIM', 'SCHED_FLAG_RESET_ON_FORK'] },
      }),
    ),
    ['/process/scheduler/policy', '/process/scheduler/flags/1'],
  );
});

test.run();
