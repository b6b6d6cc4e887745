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

// What the accumulator holds on the paths reaching an instruction (numbers,
// not objects: this runs once per process, before the JIT has seen it).
const UNREACHED = 0;
const NR = 1;
const ARCH = 2;
const OTHER = 3;
/** Paths holding different things meet here. */
const MIXED = 4;
/** No architecture matched yet, or paths that matched different ones meet. */
const ANY_ARCH = -1;

/**
 * libseccomp arch token -> the largest syscall number the program compares
 * with `jeq` in that architecture's part; an architecture whose part compares
 * none is absent. undefined when the program is not shaped as expected.
 */
export function syscallMaxima(program: Buffer): Map<number, number> | undefined {
  const count = program.length >> 3;
  const held = new Uint8Array(count);
  const arch = new Float64Array(count).fill(ANY_ARCH);
  held[0] = OTHER;
  const maxima = new Map<number, number>();
  /** Merges (a, matched) into what reaches `to`; false when `to` is past the end. */
  const flow = (to: number, a: number, matched: number): boolean => {
    if (to >= count) return false;
    if (held[to] === UNREACHED) {
      held[to] = a;
      arch[to] = matched;
    } else {
      if (held[to] !== a) held[to] = MIXED;
      if (arch[to] !== matched) arch[to] = ANY_ARCH;
    }
    return true;
  };
  for (let pc = 0; pc < count; pc++) {
    const a = held[pc]!;
    if (a === UNREACHED) continue;
    const matched = arch[pc]!;
    const at = pc << 3;
    const code = program[at]! | (program[at + 1]! << 8);
    const jt = program[at + 2]!;
    const jf = program[at + 3]!;
    const k = (program[at + 4]! | (program[at + 5]! << 8) | (program[at + 6]! << 16) | (program[at + 7]! << 24)) >>> 0;
    let ok = true;
    switch (code & BPF_CLASS) {
      case BPF_LD: {
        const abs = (code & BPF_MODE) === BPF_ABS;
        ok = flow(pc + 1, abs && k === SECCOMP_DATA_NR ? NR : abs && k === SECCOMP_DATA_ARCH ? ARCH : OTHER, matched);
        break;
      }
      case BPF_ALU:
        ok = flow(pc + 1, OTHER, matched);
        break;
      case BPF_MISC:
        ok = flow(pc + 1, code & BPF_TXA ? OTHER : a, matched);
        break;
      case BPF_LDX:
      case BPF_ST:
      case BPF_STX:
        ok = flow(pc + 1, a, matched);
        break;
      case BPF_RET:
        break;
      case BPF_JMP: {
        if ((code & BPF_OP) === BPF_JA) {
          ok = flow(pc + 1 + k, a, matched);
          break;
        }
        if (a === MIXED) return undefined;
        const jeqK = (code & BPF_OP) === BPF_JEQ && (code & BPF_SRC) !== BPF_X;
        let taken = matched;
        if (a === NR) {
          if (matched === ANY_ARCH || (code & BPF_SRC) === BPF_X) return undefined;
          if (jeqK) {
            const token = matched === AUDIT_ARCH_X86_64 && k & X32_SYSCALL_BIT ? SCMP_ARCH_X32 : matched;
            maxima.set(token, Math.max(maxima.get(token) ?? 0, k));
          }
        } else if (a === ARCH && jeqK) {
          taken = k;
        }
        ok = flow(pc + 1 + jt, a, taken) && flow(pc + 1 + jf, a, matched);
        break;
      }
    }
    if (!ok) return undefined;
  }
  return maxima;
}
