/**
 * Cgroup v2 has no devices files: access is decided by an eBPF program of
 * type BPF_PROG_TYPE_CGROUP_DEVICE attached to the cgroup (as runc and crun
 * do; runc's devicefilter is the model). The program gets
 * struct bpf_cgroup_dev_ctx { u32 access_type; u32 major; u32 minor } in
 * r1 (access_type = type | access << 16) and returns 1 to allow, 0 to deny.
 *
 * Layout: load the four fields into r2..r5; one block per exception, each
 * jumping to the next block when the device does not match, else returning
 * the exception's verdict; last, the default verdict. The match is the v1
 * kernel's: an allow exception must cover all the requested access, a deny
 * exception applies when it covers any of it.
 */
import type { DeviceRuleSet, Exception } from './devices';

// uapi/linux/bpf.h
const BPF_DEVCG_DEV_BLOCK = 1;
const BPF_DEVCG_DEV_CHAR = 2;
const ACCESS_BITS: Record<string, number> = { m: 1, r: 2, w: 4 }; // BPF_DEVCG_ACC_MKNOD, _READ, _WRITE
const ALL_ACCESS = 7;

/** Opcodes used here (class | operation | source), uapi/linux/bpf_common.h. */
const OP = {
  loadWord: 0x61, // BPF_LDX | BPF_MEM | BPF_W
  and32: 0x54, // BPF_ALU | BPF_AND | BPF_K
  rsh32: 0x74, // BPF_ALU | BPF_RSH | BPF_K
  mov32: 0xb4, // BPF_ALU | BPF_MOV | BPF_K
  mov32Reg: 0xbc, // BPF_ALU | BPF_MOV | BPF_X
  jeq: 0x15, // BPF_JMP | BPF_JEQ | BPF_K
  jne: 0x55, // BPF_JMP | BPF_JNE | BPF_K
  jneReg: 0x5d, // BPF_JMP | BPF_JNE | BPF_X
  exit: 0x95, // BPF_JMP | BPF_EXIT
} as const;

/** One struct bpf_insn; `next` marks a jump to the start of the following block. */
interface Insn {
  op: number;
  dst: number;
  src?: number;
  off?: number | 'next';
  imm?: number;
}

export const DEVICE_FILTER_LICENSE = 'Apache';

function block(e: Exception, allow: boolean): Insn[] {
  const insns: Insn[] = [{ op: OP.jne, dst: 2, imm: e.type === 'b' ? BPF_DEVCG_DEV_BLOCK : BPF_DEVCG_DEV_CHAR, off: 'next' }];
  const access = [...e.access].reduce((bits, c) => bits | (ACCESS_BITS[c] ?? 0), 0);
  if (access !== ALL_ACCESS) {
    insns.push({ op: OP.mov32Reg, dst: 1, src: 3 }, { op: OP.and32, dst: 1, imm: access });
    // allow: (requested & access) == requested; deny: (requested & access) != 0.
    insns.push(allow ? { op: OP.jneReg, dst: 1, src: 3, off: 'next' } : { op: OP.jeq, dst: 1, imm: 0, off: 'next' });
  }
  if (e.major >= 0) insns.push({ op: OP.jne, dst: 4, imm: e.major, off: 'next' });
  if (e.minor >= 0) insns.push({ op: OP.jne, dst: 5, imm: e.minor, off: 'next' });
  insns.push({ op: OP.mov32, dst: 0, imm: allow ? 1 : 0 }, { op: OP.exit, dst: 0 });
  return insns;
}

function encode(insns: Insn[], at: number, blockEnd: number, out: Buffer): void {
  insns.forEach((insn, i) => {
    const pc = at + i;
    const off = insn.off === 'next' ? blockEnd - (pc + 1) : (insn.off ?? 0);
    out.writeUInt8(insn.op, pc * 8);
    out.writeUInt8(((insn.src ?? 0) << 4) | insn.dst, pc * 8 + 1);
    out.writeInt16LE(off, pc * 8 + 2);
    out.writeInt32LE(insn.imm ?? 0, pc * 8 + 4);
  });
}

/** The program as the kernel takes it: struct bpf_insn[] (8 bytes each, little-endian). */
export function deviceFilterProgram(set: DeviceRuleSet): Buffer {
  const prologue: Insn[] = [
    { op: OP.loadWord, dst: 2, src: 1, off: 0 },
    { op: OP.and32, dst: 2, imm: 0xffff }, // r2 = type
    { op: OP.loadWord, dst: 3, src: 1, off: 0 },
    { op: OP.rsh32, dst: 3, imm: 16 }, // r3 = access
    { op: OP.loadWord, dst: 4, src: 1, off: 4 }, // r4 = major
    { op: OP.loadWord, dst: 5, src: 1, off: 8 }, // r5 = minor
  ];
  const blocks = [prologue, ...set.exceptions.map((e) => block(e, !set.defaultAllow))];
  blocks.push([
    { op: OP.mov32, dst: 0, imm: set.defaultAllow ? 1 : 0 },
    { op: OP.exit, dst: 0 },
  ]);
  const out = Buffer.alloc(8 * blocks.reduce((n, b) => n + b.length, 0));
  let at = 0;
  for (const b of blocks) {
    encode(b, at, at + b.length, out);
    at += b.length;
  }
  return out;
}
