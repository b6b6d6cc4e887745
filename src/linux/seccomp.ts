/**
 * linux.seccomp -> a libseccomp filter, as runc builds it (seccomp_linux.go):
 * one table each for actions, operators, architectures and flags; a rule
 * whose action is the default is dropped (libseccomp refuses it); when two
 * conditions name the same argument they are ORed (one rule each), else
 * ANDed in one rule. Unknown syscall names are skipped at load.
 */
import { RuntsError } from '../errors';
import type { Spec } from '../spec/types';
import {
  EPERM,
  SCMP_ACT_ALLOW,
  SCMP_ACT_ERRNO,
  SCMP_ACT_KILL_PROCESS,
  SCMP_ACT_KILL_THREAD,
  SCMP_ACT_LOG,
  SCMP_ACT_NOTIFY,
  SCMP_ACT_TRACE,
  SCMP_ACT_TRAP,
  SCMP_CMP_EQ,
  SCMP_CMP_GE,
  SCMP_CMP_GT,
  SCMP_CMP_LE,
  SCMP_CMP_LT,
  SCMP_CMP_MASKED_EQ,
  SCMP_CMP_NE,
  SCMP_FLTATR_CTL_LOG,
  SCMP_FLTATR_CTL_NNP,
  SCMP_FLTATR_CTL_OPTIMIZE,
  SCMP_FLTATR_CTL_SSB,
} from '../sys/constants';
import type { SeccompCondition, SeccompFilter, SeccompRule } from '../sys/types';

export type SeccompConfig = NonNullable<NonNullable<Spec['linux']>['seccomp']>;

/** Action name -> libseccomp value; ERRNO and TRACE carry errnoRet (default EPERM). */
export const ACTIONS: Readonly<Record<string, (ret?: number) => number>> = {
  SCMP_ACT_KILL: () => SCMP_ACT_KILL_THREAD,
  SCMP_ACT_KILL_THREAD: () => SCMP_ACT_KILL_THREAD,
  SCMP_ACT_KILL_PROCESS: () => SCMP_ACT_KILL_PROCESS,
  SCMP_ACT_TRAP: () => SCMP_ACT_TRAP,
  SCMP_ACT_ERRNO: (ret = EPERM) => SCMP_ACT_ERRNO | (ret & 0xffff),
  SCMP_ACT_TRACE: (ret = EPERM) => SCMP_ACT_TRACE | (ret & 0xffff),
  SCMP_ACT_ALLOW: () => SCMP_ACT_ALLOW,
  SCMP_ACT_LOG: () => SCMP_ACT_LOG,
  SCMP_ACT_NOTIFY: () => SCMP_ACT_NOTIFY,
};

export const OPERATORS: Readonly<Record<string, number>> = {
  SCMP_CMP_NE: SCMP_CMP_NE,
  SCMP_CMP_LT: SCMP_CMP_LT,
  SCMP_CMP_LE: SCMP_CMP_LE,
  SCMP_CMP_EQ: SCMP_CMP_EQ,
  SCMP_CMP_GE: SCMP_CMP_GE,
  SCMP_CMP_GT: SCMP_CMP_GT,
  SCMP_CMP_MASKED_EQ: SCMP_CMP_MASKED_EQ,
};

/** Spec architecture -> libseccomp's name for it. */
export const ARCHITECTURES: Readonly<Record<string, string>> = {
  SCMP_ARCH_X86: 'x86',
  SCMP_ARCH_X86_64: 'x86_64',
  SCMP_ARCH_X32: 'x32',
  SCMP_ARCH_ARM: 'arm',
  SCMP_ARCH_AARCH64: 'aarch64',
  SCMP_ARCH_MIPS: 'mips',
  SCMP_ARCH_MIPS64: 'mips64',
  SCMP_ARCH_MIPS64N32: 'mips64n32',
  SCMP_ARCH_MIPSEL: 'mipsel',
  SCMP_ARCH_MIPSEL64: 'mipsel64',
  SCMP_ARCH_MIPSEL64N32: 'mipsel64n32',
  SCMP_ARCH_PPC: 'ppc',
  SCMP_ARCH_PPC64: 'ppc64',
  SCMP_ARCH_PPC64LE: 'ppc64le',
  SCMP_ARCH_S390: 's390',
  SCMP_ARCH_S390X: 's390x',
  SCMP_ARCH_PARISC: 'parisc',
  SCMP_ARCH_PARISC64: 'parisc64',
  SCMP_ARCH_RISCV64: 'riscv64',
};

/**
 * Flag -> filter attribute. TSYNC needs none: the filter is loaded on the
 * main thread, which execs; node's other threads end with the exec.
 */
export const FLAGS: Readonly<Record<string, [number, number] | null>> = {
  SECCOMP_FILTER_FLAG_TSYNC: null,
  SECCOMP_FILTER_FLAG_LOG: [SCMP_FLTATR_CTL_LOG, 1],
  SECCOMP_FILTER_FLAG_SPEC_ALLOW: [SCMP_FLTATR_CTL_SSB, 1],
};

function action(name: string, errnoRet: number | undefined, where: string): number {
  const make = ACTIONS[name];
  if (!make) throw new RuntsError(`${where}: unknown seccomp action ${name}`);
  return make(errnoRet);
}

/** Actions that return an errno (or a trace message): the only ones errnoRet may go with. */
const TAKES_ERRNO = new Set(['SCMP_ACT_ERRNO', 'SCMP_ACT_TRACE']);

export function compileSeccomp(config: SeccompConfig): SeccompFilter {
  if (config.defaultErrnoRet !== undefined && !TAKES_ERRNO.has(config.defaultAction)) {
    throw new RuntsError(`/linux/seccomp/defaultErrnoRet: ${config.defaultAction} returns no errno`);
  }
  if (config.listenerMetadata && !config.listenerPath)
    throw new RuntsError('/linux/seccomp/listenerMetadata: set without listenerPath');
  const defaultAction = action(config.defaultAction, config.defaultErrnoRet, '/linux/seccomp/defaultAction');
  if (defaultAction === SCMP_ACT_NOTIFY)
    throw new RuntsError('/linux/seccomp/defaultAction: SCMP_ACT_NOTIFY cannot be the default action');
  const attributes: [number, number][] = [
    // no_new_privs is the config's to set (process.noNewPrivileges), not libseccomp's.
    [SCMP_FLTATR_CTL_NNP, 0],
  ];
  (config.flags ?? []).forEach((flag, i) => {
    if (!(flag in FLAGS)) throw new RuntsError(`/linux/seccomp/flags/${i}: seccomp flag ${flag} is not supported`);
    const attr = FLAGS[flag];
    if (attr) attributes.push(attr);
  });
  // libseccomp's binary-tree layout for long rule sets (as runc: > 32 entries).
  if ((config.syscalls?.length ?? 0) > 32) attributes.push([SCMP_FLTATR_CTL_OPTIMIZE, 2]);
  const architectures = (config.architectures ?? []).map((arch, i) => {
    const name = ARCHITECTURES[arch];
    if (!name) throw new RuntsError(`/linux/seccomp/architectures/${i}: unknown architecture ${arch}`);
    return name;
  });

  const rules: SeccompRule[] = [];
  (config.syscalls ?? []).forEach((entry, i) => {
    const where = `/linux/seccomp/syscalls/${i}`;
    if (entry.errnoRet !== undefined && !TAKES_ERRNO.has(entry.action))
      throw new RuntsError(`${where}/errnoRet: ${entry.action} returns no errno`);
    if (!entry.names.length) throw new RuntsError(`${where}/names: must name at least one syscall`);
    const act = action(entry.action, entry.errnoRet, `${where}/action`);
    if (act === SCMP_ACT_NOTIFY && entry.names.includes('write')) {
      throw new RuntsError(`${where}: SCMP_ACT_NOTIFY cannot be used for the write syscall`);
    }
    if (act === defaultAction) return;
    const conditions: SeccompCondition[] = (entry.args ?? []).map((arg, j) => {
      const op = OPERATORS[arg.op];
      if (op === undefined) throw new RuntsError(`${where}/args/${j}/op: unknown operator ${arg.op}`);
      return { arg: arg.index, op, a: arg.value, b: arg.valueTwo ?? 0 };
    });
    const indexes = conditions.map((c) => c.arg);
    const sameArgTwice = new Set(indexes).size !== indexes.length;
    const groups = sameArgTwice ? conditions.map((c) => [c]) : [conditions];
    for (const syscall of entry.names) for (const group of groups) rules.push({ syscall, action: act, conditions: group });
  });
  if (rules.some((r) => r.action === SCMP_ACT_NOTIFY) && !config.listenerPath) {
    throw new RuntsError('/linux/seccomp/listenerPath: required when a rule uses SCMP_ACT_NOTIFY');
  }
  return { defaultAction, architectures, attributes, rules };
}
