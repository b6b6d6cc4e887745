/**
 * Reads libseccomp's exported program back: per architecture, the largest
 * syscall number it compares the syscall number with. The ENOSYS stub needs
 * the largest number of the names the config lists, per architecture (runc's
 * findLastSyscalls); resolving every name for every architecture costs an FFI
 * call each (a thousand for Docker's profile), while the program already
 * holds the number of every name that got a rule, for every architecture.
 *
 * The program is walked as data flow (its jumps only go forward): what the
 * accumulator holds (the syscall number, the architecture word, something
 * else) and which architecture the path has matched, at each instruction.
 * A `jeq K` on the syscall number under a known architecture is one of its
 * numbers (x32's, in x86_64's part as they share an AUDIT_ARCH, have
 * X32_SYSCALL_BIT); the tree layout's `jge`/`jgt` only split between those,
 * and x86_64's `jge X32_SYSCALL_BIT` tells the ABIs apart: neither is counted.
 * The syscall number compared under an unknown architecture or with X, or a
 * comparison where paths holding different things meet, means the program is
 * not shaped as this expects: undefined, and the caller resolves every name.
 */
import { AUDIT_ARCH_X86_64, SCMP_ARCH_X32, SECCOMP_DATA_ARCH, SECCOMP_DATA_NR, X32_SYSCALL_BIT } from './constants';

// linux/bpf_common.h
const BPF_CLASS = 0x07;
const BPF_LD = 0x00;
const BPF_LDX = 0x01;
const BPF_ST = 0x02;
const BPF_STX = 0x03;
const BPF_ALU = 0x04;
const BPF_JMP = 0x05;
const BPF_RET = 0x06;
const BPF_MISC = 0x07;
const BPF_MODE = 0xe0;
const BPF_ABS = 0x20;
const BPF_OP = 0xf0;
const BPF_JA = 0x00;
const BPF_JEQ = 0x10;
const BPF_SRC = 0x08;
const BPF_X = 0x08;
/** BPF_MISC: TXA copies X into the accumulator; TAX leaves it. */
const BPF_TXA = 0x80;

/** The accumulator's source on a path; 'mixed' where paths holding different ones meet. */
type Source = 'nr' | 'arch' | 'other' | 'mixed';
interface State {
  a: Source;
  /** The AUDIT_ARCH this path matched, if known. */
  arch?: number;
}

function merge(into: State | undefined, from: State): State {
  if (!into) return from;
  return { a: into.a === from.a ? into.a : 'mixed', arch: into.arch === from.arch ? into.arch : undefined };
}

/**
 * libseccomp arch token -> the largest syscall number the program compares
 * with `jeq` in that architecture's part; an architecture whose part compares
 * none is absent. undefined when the program is not shaped as expected.
 */
export function syscallMaxima(program: Buffer): Map<number, number> | undefined {
  const count = program.length / 8;
  const states: (State | undefined)[] = new Array(count);
  states[0] = { a: 'other' };
  const maxima = new Map<number, number>();
  const flow = (to: number, state: State): boolean => {
    if (to >= count) return false;
    states[to] = merge(states[to], state);
    return true;
  };
  for (let pc = 0; pc < count; pc++) {
    const state = states[pc];
    if (!state) continue; // not reached
    const code = program.readUInt16LE(8 * pc);
    const jt = program[8 * pc + 2]!;
    const jf = program[8 * pc + 3]!;
    const k = program.readUInt32LE(8 * pc + 4);
    const next = (a: Source): boolean => flow(pc + 1, { ...state, a });
    switch (code & BPF_CLASS) {
      case BPF_LD: {
        const abs = (code & BPF_MODE) === BPF_ABS;
        if (!next(abs && k === SECCOMP_DATA_NR ? 'nr' : abs && k === SECCOMP_DATA_ARCH ? 'arch' : 'other')) return;
        break;
      }
      case BPF_ALU:
        if (!next('other')) return;
        break;
      case BPF_MISC:
        if (!next(code & BPF_TXA ? 'other' : state.a)) return;
        break;
      case BPF_LDX:
      case BPF_ST:
      case BPF_STX:
        if (!next(state.a)) return;
        break;
      case BPF_RET:
        break;
      case BPF_JMP: {
        if ((code & BPF_OP) === BPF_JA) {
          if (!flow(pc + 1 + k, state)) return;
          break;
        }
        if (state.a === 'mixed') return;
        const jeqK = (code & BPF_OP) === BPF_JEQ && (code & BPF_SRC) !== BPF_X;
        let taken = state;
        if (state.a === 'nr') {
          if (state.arch === undefined || (code & BPF_SRC) === BPF_X) return;
          if (jeqK) {
            const token = state.arch === AUDIT_ARCH_X86_64 && k & X32_SYSCALL_BIT ? SCMP_ARCH_X32 : state.arch;
            maxima.set(token, Math.max(maxima.get(token) ?? 0, k));
          }
        } else if (state.a === 'arch' && jeqK) {
          taken = { ...state, arch: k };
        }
        if (!flow(pc + 1 + jt, taken) || !flow(pc + 1 + jf, state)) return;
        break;
      }
    }
  }
  return maxima;
}
