/**
 * What the kernel schedules a container process by, beyond its credentials:
 * process.scheduler (sched_setattr(2)), process.ioPriority (ioprio_set(2)),
 * process.execCPUAffinity (sched_setaffinity(2)) and linux.memoryPolicy
 * (set_mempolicy(2)). Each is a property of the calling thread, kept
 * across fork and execve (but SCHED_FLAG_RESET_ON_FORK, and SCHED_DEADLINE,
 * which may not fork at all): the finaliser sets them on the thread that
 * execs the helper or spawns it (init/finalize.ts).
 *
 * Names to numbers here; the rules the kernel would refuse with a bare
 * EINVAL are checked beforehand (problems(), for checks.ts), as runc does.
 */
import { type Problem, RuntsError } from '../errors';
import {
  EPERM,
  IOPRIO_CLASS_SHIFT,
  MPOL_BIND,
  MPOL_DEFAULT,
  MPOL_F_NUMA_BALANCING,
  MPOL_F_RELATIVE_NODES,
  MPOL_F_STATIC_NODES,
  MPOL_INTERLEAVE,
  MPOL_LOCAL,
  MPOL_PREFERRED,
  MPOL_PREFERRED_MANY,
  MPOL_WEIGHTED_INTERLEAVE,
  SCHED_BATCH,
  SCHED_DEADLINE,
  SCHED_FIFO,
  SCHED_IDLE,
  SCHED_OTHER,
  SCHED_RR,
} from '../sys/constants';
import { type SchedAttr, type Sys, SysError } from '../sys/types';

/** Scheduling policies (linux/sched.h). SCHED_ISO is in the spec but Linux has none: refused. */
export const SCHED_POLICIES: Readonly<Record<string, number>> = {
  SCHED_OTHER,
  SCHED_FIFO,
  SCHED_RR,
  SCHED_BATCH,
  SCHED_IDLE,
  SCHED_DEADLINE,
};

/** sched_attr.sched_flags bits (linux/sched.h). */
export const SCHED_FLAGS: Readonly<Record<string, number>> = {
  SCHED_FLAG_RESET_ON_FORK: 0x01,
  SCHED_FLAG_RECLAIM: 0x02,
  SCHED_FLAG_DL_OVERRUN: 0x04,
  SCHED_FLAG_KEEP_POLICY: 0x08,
  SCHED_FLAG_KEEP_PARAMS: 0x10,
  SCHED_FLAG_UTIL_CLAMP_MIN: 0x20,
  SCHED_FLAG_UTIL_CLAMP_MAX: 0x40,
};

/** I/O scheduling classes (linux/ioprio.h). */
export const IOPRIO_CLASSES: Readonly<Record<string, number>> = {
  IOPRIO_CLASS_RT: 1,
  IOPRIO_CLASS_BE: 2,
  IOPRIO_CLASS_IDLE: 3,
};

/** set_mempolicy(2) modes and mode flags (linux/mempolicy.h): also what `runts features` lists. */
export const MEMPOLICY_MODES: Readonly<Record<string, number>> = {
  MPOL_DEFAULT,
  MPOL_PREFERRED,
  MPOL_BIND,
  MPOL_INTERLEAVE,
  MPOL_LOCAL,
  MPOL_PREFERRED_MANY,
  MPOL_WEIGHTED_INTERLEAVE,
};
export const MEMPOLICY_FLAGS: Readonly<Record<string, number>> = {
  MPOL_F_NUMA_BALANCING,
  MPOL_F_RELATIVE_NODES,
  MPOL_F_STATIC_NODES,
};

/** The highest CPU and NUMA node numbers taken: the kernel's own limits (NR_CPUS, MAX_NUMNODES) at most. */
const MAX_CPU = 8191;
const MAX_NODE = 1023;

/** The config's fields, as the 1.2/1.3 schemas give them (read untyped: older schema copies lack them). */
export interface SchedulerConfig {
  policy: string;
  nice?: number;
  priority?: number;
  flags?: string[];
  runtime?: number;
  deadline?: number;
  period?: number;
}
export interface IoPriorityConfig {
  class: string;
  priority?: number;
}
export interface CpuAffinityConfig {
  initial?: string;
  final?: string;
}
export interface MemoryPolicyConfig {
  mode?: string;
  nodes?: string;
  flags?: string[];
}
export interface ProcessAttributeConfig {
  scheduler?: SchedulerConfig;
  ioPriority?: IoPriorityConfig;
  execCPUAffinity?: CpuAffinityConfig;
}

/** set_mempolicy's arguments: the mode with its flags, and the nodes. */
export interface MemoryPolicyPlan {
  mode: number;
  nodes: number[];
}

/**
 * An exec's CPU affinities: initial, for runts' own thread before it joins
 * the container's cgroup; final, set by the helper after the join, just
 * before the program's execve. 'all' (initial given, final not): every CPU,
 * which the kernel narrows to the cgroup's cpuset, as runc resets it.
 */
export interface CpuAffinityPlan {
  initial?: number[];
  final?: number[] | 'all';
}

/**
 * A CPU or node list, "0-3,7" (spaces allowed, as the schema's pattern):
 * the numbers in it, ascending; undefined when it is not such a list.
 */
export function parseIdList(text: string, max: number): number[] | undefined {
  const ids = new Set<number>();
  for (const part of text.split(',')) {
    const m = /^\s*(\d+)\s*(?:-\s*(\d+)\s*)?$/.exec(part);
    if (!m) return undefined;
    const first = Number(m[1]);
    const last = m[2] === undefined ? first : Number(m[2]);
    if (last < first || last > max) return undefined;
    for (let id = first; id <= last; id++) ids.add(id);
  }
  return [...ids].sort((a, b) => a - b);
}

const isEmpty = (list: string | undefined): boolean => list === undefined || list.trim() === '';

/** process.scheduler, ioPriority, execCPUAffinity (a process of any schema copy): the rules sched_setattr(2) and ioprio_set(2) state (runc's too). */
export function processAttributeProblems(process: object): Problem[] {
  const proc = process as ProcessAttributeConfig;
  const problems: Problem[] = [];
  const add = (pointer: string, message: string) => problems.push({ pointer, message });
  const s = proc.scheduler;
  if (s) {
    const at = '/process/scheduler';
    const policy = SCHED_POLICIES[s.policy];
    if (policy === undefined) add(`${at}/policy`, `${JSON.stringify(s.policy)} is not a scheduling policy Linux has`);
    if (s.nice !== undefined && (s.nice < -20 || s.nice > 19)) add(`${at}/nice`, 'must be between -20 and 19');
    const realtime = policy === SCHED_FIFO || policy === SCHED_RR;
    if (realtime && (s.priority === undefined || s.priority < 1 || s.priority > 99))
      add(`${at}/priority`, `must be between 1 and 99 for ${s.policy}`);
    if (!realtime && s.priority) add(`${at}/priority`, 'can only be given for SCHED_FIFO or SCHED_RR');
    for (const field of ['runtime', 'deadline', 'period'] as const) {
      if (policy !== SCHED_DEADLINE && s[field]) add(`${at}/${field}`, 'can only be given for SCHED_DEADLINE');
    }
    if (policy === SCHED_DEADLINE) {
      // The kernel's __checkparam_dl: 0 < runtime <= deadline <= period (period 0: the deadline).
      const runtime = s.runtime ?? 0;
      const deadline = s.deadline ?? 0;
      const period = s.period || deadline;
      if (runtime < 1024) add(`${at}/runtime`, 'SCHED_DEADLINE needs a runtime of at least 1024 (ns)');
      else if (!(runtime <= deadline && deadline <= period))
        add(at, 'SCHED_DEADLINE needs runtime <= deadline <= period (a period of 0 is the deadline)');
    }
    s.flags?.forEach((flag, i) => {
      if (SCHED_FLAGS[flag] === undefined) add(`${at}/flags/${i}`, `unknown scheduling flag ${JSON.stringify(flag)}`);
    });
  }
  const io = proc.ioPriority;
  if (io) {
    if (IOPRIO_CLASSES[io.class] === undefined) add('/process/ioPriority/class', `unknown I/O class ${JSON.stringify(io.class)}`);
    if (io.priority !== undefined && (io.priority < 0 || io.priority > 7))
      add('/process/ioPriority/priority', 'must be between 0 (highest) and 7 (lowest)');
  }
  for (const key of ['initial', 'final'] as const) {
    const list = proc.execCPUAffinity?.[key];
    if (!isEmpty(list) && !parseIdList(list!, MAX_CPU))
      add(`/process/execCPUAffinity/${key}`, `${JSON.stringify(list)} is not a CPU list such as "0-3,7" (CPUs 0 to ${MAX_CPU})`);
  }
  return problems;
}

/** linux.memoryPolicy: a mode runts knows, with its flags; nodes a node list, and given where the mode needs some. */
export function memoryPolicyProblems(policy: MemoryPolicyConfig): Problem[] {
  const problems: Problem[] = [];
  const at = '/linux/memoryPolicy';
  if (policy.mode === undefined || MEMPOLICY_MODES[policy.mode] === undefined)
    problems.push({ pointer: `${at}/mode`, message: `invalid memory policy mode ${JSON.stringify(policy.mode ?? '')}` });
  policy.flags?.forEach((flag, i) => {
    if (MEMPOLICY_FLAGS[flag] === undefined)
      problems.push({ pointer: `${at}/flags/${i}`, message: `invalid memory policy flag ${JSON.stringify(flag)}` });
  });
  if (!isEmpty(policy.nodes) && !parseIdList(policy.nodes!, MAX_NODE)) {
    problems.push({
      pointer: `${at}/nodes`,
      message: `invalid memory policy nodes ${JSON.stringify(policy.nodes)}: a node list such as "0-3,7" (nodes 0 to ${MAX_NODE})`,
    });
  }
  const needsNodes = ['MPOL_BIND', 'MPOL_INTERLEAVE', 'MPOL_WEIGHTED_INTERLEAVE', 'MPOL_PREFERRED_MANY'];
  if (policy.mode && needsNodes.includes(policy.mode) && isEmpty(policy.nodes))
    problems.push({ pointer: `${at}/nodes`, message: `${policy.mode} needs nodes` });
  return problems;
}

/** process.scheduler as sched_setattr's struct (checks.ts has refused what would not map). */
export function planScheduler(s: SchedulerConfig): SchedAttr {
  return {
    policy: SCHED_POLICIES[s.policy]!,
    flags: (s.flags ?? []).reduce((bits, f) => bits | SCHED_FLAGS[f]!, 0),
    nice: s.nice ?? 0,
    priority: s.priority ?? 0,
    runtime: s.runtime ?? 0,
    deadline: s.deadline ?? 0,
    period: s.period ?? 0,
  };
}

/** process.ioPriority as ioprio_set's value: the class in the top bits, the level below. */
export const planIoPriority = (io: IoPriorityConfig): number =>
  (IOPRIO_CLASSES[io.class]! << IOPRIO_CLASS_SHIFT) | (io.priority ?? 0);

/**
 * linux.memoryPolicy as set_mempolicy's arguments. The nodes go as given,
 * even where the mode takes none (MPOL_DEFAULT, MPOL_LOCAL): the kernel
 * says what it refuses, as with runc.
 */
export function planMemoryPolicy(policy: MemoryPolicyConfig): MemoryPolicyPlan {
  const flags = (policy.flags ?? []).reduce((bits, f) => bits | MEMPOLICY_FLAGS[f]!, 0);
  return {
    mode: MEMPOLICY_MODES[policy.mode!]! | flags,
    nodes: isEmpty(policy.nodes) ? [] : parseIdList(policy.nodes!, MAX_NODE)!,
  };
}

/** process.execCPUAffinity, for an exec's process (the spec: not for the init's). */
export function planCpuAffinity(affinity: CpuAffinityConfig): CpuAffinityPlan | undefined {
  const initial = isEmpty(affinity.initial) ? undefined : parseIdList(affinity.initial!, MAX_CPU)!;
  const final = isEmpty(affinity.final) ? undefined : parseIdList(affinity.final!, MAX_CPU)!;
  if (!initial && !final) return undefined;
  return { ...(initial ? { initial } : {}), final: final ?? 'all' };
}

/** What the finaliser applies to its own thread, in this order, before the credentials go (CAP_SYS_NICE). */
export interface ThreadAttributes {
  memoryPolicy?: MemoryPolicyPlan;
  ioPriority?: number;
  scheduler?: SchedAttr;
}

/**
 * The scheduler last: a real-time or SCHED_DEADLINE policy slows nothing of
 * the rest, and SCHED_IDLE or nice 19 do not delay it.
 */
export function applyThreadAttributes(sys: Sys, attrs: ThreadAttributes): void {
  if (attrs.memoryPolicy) sys.setMempolicy(attrs.memoryPolicy.mode, attrs.memoryPolicy.nodes);
  if (attrs.ioPriority !== undefined) sys.ioprioSet(attrs.ioPriority);
  if (attrs.scheduler) setScheduler(sys, attrs.scheduler);
}

const REALTIME_EPERM =
  "a real-time policy needs real-time runtime in the container's cgroup where cgroup v1 has real-time group scheduling: " +
  "linux.resources.cpu.realtimeRuntime, within its parent cgroup's";
/** EPERM's likely reasons, beyond CAP_SYS_NICE, as sched_setattr(2) gives them. */
const SCHED_EPERM: Readonly<Record<number, string>> = {
  [SCHED_FIFO]: REALTIME_EPERM,
  [SCHED_RR]: REALTIME_EPERM,
  [SCHED_DEADLINE]:
    "SCHED_DEADLINE needs the process's CPU affinity to hold every CPU of the system, which linux.resources.cpu.cpus " +
    'narrows (runc refuses the two together)',
};

function setScheduler(sys: Sys, attr: SchedAttr): void {
  try {
    sys.schedSetattr(attr);
  } catch (err) {
    const why = SCHED_EPERM[attr.policy];
    if (!(err instanceof SysError && err.errno === EPERM && why)) throw err;
    throw new RuntsError(`process.scheduler: ${err.message} (${why})`);
  }
}

/**
 * What an exec's process cannot have: runts sets the scheduler on its own
 * thread and then spawns the program (a fork), which the kernel refuses to
 * a SCHED_DEADLINE thread, and after which SCHED_FLAG_RESET_ON_FORK would
 * leave the program with SCHED_OTHER. The init execs, never forks: it can.
 */
export function spawnedProcessProblems(process: object): Problem[] {
  const s = (process as ProcessAttributeConfig).scheduler;
  const why = "runts starts an exec's program by a fork";
  const problems: Problem[] = [];
  if (s?.policy === 'SCHED_DEADLINE')
    problems.push({
      pointer: '/process/scheduler/policy',
      message: `SCHED_DEADLINE is not supported for exec's processes: ${why}, which a SCHED_DEADLINE thread cannot make`,
    });
  const reset = s?.flags?.indexOf('SCHED_FLAG_RESET_ON_FORK') ?? -1;
  if (reset >= 0)
    problems.push({
      pointer: `/process/scheduler/flags/${reset}`,
      message: `SCHED_FLAG_RESET_ON_FORK is not supported for exec's processes: ${why}, which would reset the policy`,
    });
  return problems;
}
