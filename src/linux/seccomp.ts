/**
 * linux.seccomp -> a libseccomp filter, as runc builds it (seccomp_linux.go):
 * one table each for actions, operators, architectures and flags; a rule
 * whose action is the default is dropped (libseccomp refuses it); when two
 * conditions name the same argument they are ORed (one rule each), else
 * ANDed in one rule. Unknown syscall names are skipped at load.
 *
 * Loading is runc's too (libcontainer/seccomp/patchbpf): libseccomp builds
 * the program and exports it as BPF; runts puts a stub in front that answers
 * ENOSYS to syscalls newer than any the config names, and loads the result
 * with seccomp(2) and its flags. Without the stub, a syscall the profile
 * predates gets the default action (EPERM in Docker's profile) and a libc
 * that tries it first (glibc's clone3, then clone) takes that as a real
 * refusal; ENOSYS makes it fall back.
 */
import { RuntsError } from '../errors';
import type { Spec } from '../spec/types';
import {
  AUDIT_ARCH_X86_64,
  ENOSYS,
  EPERM,
  SCMP_ACT_ALLOW,
  SCMP_ACT_ERRNO,
  SCMP_ACT_KILL_PROCESS,
  SCMP_ACT_KILL_THREAD,
  SCMP_ACT_LOG,
  SCMP_ACT_NOTIFY,
  SCMP_ACT_TRACE,
  SCMP_ACT_TRAP,
  SCMP_ARCH_X32,
  SCMP_CMP_EQ,
  SCMP_CMP_GE,
  SCMP_CMP_GT,
  SCMP_CMP_LE,
  SCMP_CMP_LT,
  SCMP_CMP_MASKED_EQ,
  SCMP_CMP_NE,
  SCMP_FLTATR_CTL_NNP,
  SCMP_FLTATR_CTL_OPTIMIZE,
  SECCOMP_DATA_ARCH,
  SECCOMP_DATA_NR,
  SECCOMP_FILTER_FLAG_LOG,
  SECCOMP_FILTER_FLAG_NEW_LISTENER,
  SECCOMP_FILTER_FLAG_SPEC_ALLOW,
  SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV,
  X32_SYSCALL_BIT,
} from '../sys/constants';
import type { PreparedSeccomp, SeccompArchLast, SeccompCondition, SeccompFilter, SeccompRule, Sys } from '../sys/types';

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
 * Flag -> the SECCOMP_FILTER_FLAG_* bits runts passes to seccomp(2).
 * TSYNC: none, as runc (its patchbpf never passes it). The filter goes on
 * the thread that execs, and the exec ends node's other threads; with TSYNC
 * they would run under the filter until then, and one of their syscalls the
 * filter kills would kill the init before its exec.
 * WAIT_KILLABLE_RECV (which runc does not implement) is passed with a
 * listener only: see compileSeccomp.
 */
export const FLAGS: Readonly<Record<string, number>> = {
  SECCOMP_FILTER_FLAG_TSYNC: 0,
  SECCOMP_FILTER_FLAG_LOG: SECCOMP_FILTER_FLAG_LOG,
  SECCOMP_FILTER_FLAG_SPEC_ALLOW: SECCOMP_FILTER_FLAG_SPEC_ALLOW,
  SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV: SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV,
};

/** features.md's linux.seccomp.supportedFlags: those of FLAGS this kernel takes. */
export function supportedFlags(sys: Sys): string[] {
  return Object.entries(FLAGS)
    .filter(([, bits]) => {
      if (!bits) return true;
      const probe = bits & SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV ? bits | SECCOMP_FILTER_FLAG_NEW_LISTENER : bits;
      return sys.seccompFlagsSupported(probe);
    })
    .map(([name]) => name);
}

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
  let flags = 0;
  (config.flags ?? []).forEach((flag, i) => {
    const bits = FLAGS[flag];
    if (bits === undefined) throw new RuntsError(`/linux/seccomp/flags/${i}: seccomp flag ${flag} is not supported`);
    flags |= bits;
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
  const notifies = rules.some((r) => r.action === SCMP_ACT_NOTIFY);
  if (notifies && !config.listenerPath) {
    throw new RuntsError('/linux/seccomp/listenerPath: required when a rule uses SCMP_ACT_NOTIFY');
  }
  // WAIT_KILLABLE_RECV is about notifications: without a listener there are
  // none for it to change, and the kernel would refuse the load (EINVAL).
  if (notifies) flags |= SECCOMP_FILTER_FLAG_NEW_LISTENER;
  else flags &= ~SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV;
  // runc's generatePatch: no stub when unknown syscalls pass anyway (a
  // tracer should handle ENOSYS itself) or already get ENOSYS.
  const permissive = [SCMP_ACT_ALLOW, SCMP_ACT_LOG].includes(defaultAction) || config.defaultAction === 'SCMP_ACT_TRACE';
  const enosysAlready = config.defaultAction === 'SCMP_ACT_ERRNO' && config.defaultErrnoRet === ENOSYS;
  const filter: SeccompFilter = { defaultAction, architectures, attributes, rules, flags };
  if (!permissive && !enosysAlready) filter.enosysNames = [...new Set((config.syscalls ?? []).flatMap((e) => e.names))];
  return filter;
}

/** Builds and exports the filter (libseccomp), and puts the ENOSYS stub in front. */
export function prepareSeccomp(sys: Sys, filter: SeccompFilter): PreparedSeccomp {
  const { program, skipped, lastSyscalls } = sys.exportSeccomp(filter);
  return { filter, skipped, program: Buffer.concat([enosysStub(lastSyscalls), program]) };
}

/** Loads a prepared filter on the calling thread; the listener fd, or -1. */
export function loadSeccomp(sys: Sys, prepared: PreparedSeccomp): number {
  return sys.loadSeccomp(prepared.program, prepared.filter.flags);
}

// The stub, in classic BPF (linux/filter.h, linux/bpf_common.h).
const BPF_LD_W_ABS = 0x20;
const BPF_JMP_JA = 0x05;
const BPF_JEQ_K = 0x15;
const BPF_JGT_K = 0x25;
const BPF_JSET_K = 0x45;
const BPF_RET_K = 0x06;
/** s390 and s390x: a number the kernel does not know reaches the filter as 0 (setup(2), long gone). */
const AUDIT_ARCH_S390 = new Set([0x16, 0x80000016]);

type Target = number | 'enosys' | 'filter';
interface Insn {
  code: number;
  k: number;
  /** Absolute index (or label) of the next instruction when true / false; absent: the one after. */
  jt?: Target;
  jf?: Target;
}

/**
 * runc's generateEnosysStub: by the architecture word, a section per
 * AUDIT_ARCH whose syscall numbers above the last one the config names
 * return ENOSYS; everything else falls through to libseccomp's program,
 * which starts right after the stub. x86_64 and x32 share an AUDIT_ARCH and
 * are told apart by X32_SYSCALL_BIT. Empty when there is nothing to check.
 */
export function enosysStub(lastSyscalls: readonly SeccompArchLast[]): Buffer {
  // AUDIT_ARCH -> the last syscall per mode (x86_64 / x32 are two modes of one).
  const byArch = new Map<number, { native?: number; x32?: number }>();
  for (const { token, nr } of lastSyscalls) {
    const audit = token === SCMP_ARCH_X32 ? AUDIT_ARCH_X86_64 : token;
    const entry = byArch.get(audit) ?? {};
    if (token === SCMP_ARCH_X32) entry.x32 = nr;
    else entry.native = nr;
    byArch.set(audit, entry);
  }
  if (!byArch.size) return Buffer.alloc(0);

  const ld = (offset: number): Insn => ({ code: BPF_LD_W_ABS, k: offset });
  const jgt = (k: number): Insn => ({ code: BPF_JGT_K, k, jt: 'enosys', jf: 'filter' });
  const sections: Insn[][] = [];
  for (const [audit, { native, x32 }] of byArch) {
    const section: Insn[] = [ld(SECCOMP_DATA_NR)];
    if (audit === AUDIT_ARCH_X86_64) {
      if (native !== undefined && x32 !== undefined) {
        // jset: an x32 number goes to the second jgt (index 3 of the section).
        section.push({ code: BPF_JSET_K, k: X32_SYSCALL_BIT, jt: 3 }, jgt(native), jgt(x32));
      } else if (native !== undefined) {
        section.push({ code: BPF_JSET_K, k: X32_SYSCALL_BIT, jt: 'filter' }, jgt(native));
      } else {
        section.push({ code: BPF_JSET_K, k: X32_SYSCALL_BIT, jf: 'filter' }, jgt(x32!));
      }
    } else {
      if (AUDIT_ARCH_S390.has(audit)) section.push({ code: BPF_JEQ_K, k: 0, jt: 'enosys' });
      section.push(jgt(native!));
    }
    sections.push(section);
  }

  // ld arch; one jeq per arch; ja filter (another arch); the sections; ret ENOSYS.
  const head = 1 + sections.length + 1;
  const starts: number[] = [];
  let at = head;
  for (const section of sections) {
    starts.push(at);
    at += section.length;
  }
  const enosys = at;
  const filter = at + 1;
  const insns: Insn[] = [ld(SECCOMP_DATA_ARCH)];
  [...byArch.keys()].forEach((audit, i) => insns.push({ code: BPF_JEQ_K, k: audit, jt: starts[i] }));
  insns.push({ code: BPF_JMP_JA, k: filter });
  sections.forEach((section, i) =>
    // Section-relative numeric targets (the jset's) become absolute.
    insns.push(...section.map((insn) => relocate(insn, starts[i]!))),
  );
  insns.push({ code: BPF_RET_K, k: (SCMP_ACT_ERRNO | ENOSYS) >>> 0 });

  const out = Buffer.alloc(8 * insns.length);
  insns.forEach((insn, pc) => {
    const skip = (target: Target | undefined): number => {
      if (target === undefined) return 0;
      const to = target === 'enosys' ? enosys : target === 'filter' ? filter : target;
      const n = to - pc - 1;
      // Never near with the 20-odd architectures there are; kept honest anyway.
      if (n < 0 || n > 255) throw new Error(`seccomp ENOSYS stub: jump of ${n} at ${pc}`);
      return n;
    };
    // struct sock_filter { u16 code; u8 jt; u8 jf; u32 k } in host byte order, as
    // libseccomp exports it: little-endian on the two architectures runts runs on.
    out.writeUInt16LE(insn.code, 8 * pc);
    if (insn.code === BPF_JMP_JA) {
      out.writeUInt32LE(insn.k - pc - 1, 8 * pc + 4);
      return;
    }
    out.writeUInt8(skip(insn.jt), 8 * pc + 2);
    out.writeUInt8(skip(insn.jf), 8 * pc + 3);
    out.writeUInt32LE(insn.k >>> 0, 8 * pc + 4);
  });
  return out;
}

/** A section's instruction with its numeric targets (relative to the section) made absolute. */
function relocate(insn: Insn, start: number): Insn {
  const move = (t: Target | undefined): Target | undefined => (typeof t === 'number' ? t + start : t);
  return { ...insn, jt: move(insn.jt), jf: move(insn.jf) };
}
