/**
 * What must happen in the new process itself, between fork and exec, and
 * node's spawn cannot do (runc runs its own code there):
 *   - cgroup v2: join the container's cgroup as a single-threaded process.
 *     Moving runts' own node there instead (cgroup.procs moves a whole
 *     process on v2) brought about ten threads under the container's pids
 *     limit. The helper writes "0" (itself) to the container's cgroup.procs,
 *     opened by runts and passed at a known fd, and closes it; if the write
 *     fails it exits 126 without running the program.
 *   - exec --tty: setsid(); ioctl(0, TIOCSCTTY, 0), so the terminal is the
 *     process's controlling terminal.
 * Then execve(argv[1], &argv[2], envp), or exit 127.
 * runts runs it from a sealed memfd: a static program of a few hundred
 * bytes that is neither node nor a file the container can see or change.
 * x86_64 only; elsewhere exec.ts falls back (its comments say how).
 */
import { writeSync } from 'node:fs';
import { F_ADD_SEALS, F_SEAL_GROW, F_SEAL_SEAL, F_SEAL_SHRINK, F_SEAL_WRITE, MFD_ALLOW_SEALING, MFD_CLOEXEC } from '../sys/constants';
import type { Sys } from '../sys/types';

const BASE = 0x400000;
const HEADERS = 64 + 56;

const imm32 = (n: number): number[] => [n & 0xff, (n >>> 8) & 0xff, (n >>> 16) & 0xff, (n >>> 24) & 0xff];

// write(fd, "0", 1) == 1, else exit(126); close(fd)
const joinCgroup = (fd: number): number[] => [
  0x6a, 0x30, //                                               push '0'
  0xbf, ...imm32(fd), //                                       mov edi, fd
  0x48, 0x89, 0xe6, //                                         mov rsi, rsp
  0xba, 0x01, 0x00, 0x00, 0x00, //                             mov edx, 1
  0xb8, 0x01, 0x00, 0x00, 0x00, 0x0f, 0x05, //                 mov eax, 1 (write); syscall
  0x59, //                                                     pop rcx (the stack as it was)
  0x48, 0x83, 0xf8, 0x01, //                                   cmp rax, 1
  0x74, 0x0c, //                                               je +12 (past the exit)
  0xbf, 0x7e, 0x00, 0x00, 0x00, 0xb8, 0x3c, 0x00, 0x00, 0x00, 0x0f, 0x05, // exit(126)
  0xbf, ...imm32(fd), //                                       mov edi, fd
  0xb8, 0x03, 0x00, 0x00, 0x00, 0x0f, 0x05, //                 mov eax, 3 (close); syscall
];

// setsid(); ioctl(0, TIOCSCTTY, 0)
const takeTerminal = [
  0xb8, 0x70, 0x00, 0x00, 0x00, 0x0f, 0x05, //                 mov eax, 112 (setsid); syscall
  0x31, 0xff, 0xbe, 0x0e, 0x54, 0x00, 0x00, 0x31, 0xd2, //     xor edi,edi; mov esi,0x540e; xor edx,edx
  0xb8, 0x10, 0x00, 0x00, 0x00, 0x0f, 0x05, //                 mov eax, 16 (ioctl); syscall
];

// execve(argv[1], &argv[2], envp); exit(127)
const exec = [
  0x48, 0x8b, 0x0c, 0x24, //                                   mov rcx, [rsp]          argc
  0x48, 0x8b, 0x7c, 0x24, 0x10, //                             mov rdi, [rsp+16]       argv[1]
  0x48, 0x8d, 0x74, 0x24, 0x18, //                             lea rsi, [rsp+24]       &argv[2]
  0x48, 0x8d, 0x54, 0xcc, 0x10, //                             lea rdx, [rsp+rcx*8+16] envp
  0xb8, 0x3b, 0x00, 0x00, 0x00, 0x0f, 0x05, //                 mov eax, 59 (execve); syscall
  0xbf, 0x7f, 0x00, 0x00, 0x00, 0xb8, 0x3c, 0x00, 0x00, 0x00, 0x0f, 0x05, // exit(127)
];

/** A minimal ELF64 executable: one header, one loadable segment. */
function elf(code: number[]): Buffer {
  const size = HEADERS + code.length;
  const b = Buffer.alloc(size);
  b.set([0x7f, 0x45, 0x4c, 0x46, 2, 1, 1, 0], 0); // magic, 64-bit, little-endian, version 1, SysV
  b.writeUInt16LE(2, 16); // ET_EXEC
  b.writeUInt16LE(0x3e, 18); // EM_X86_64
  b.writeUInt32LE(1, 20);
  b.writeBigUInt64LE(BigInt(BASE + HEADERS), 24); // entry
  b.writeBigUInt64LE(64n, 32); // program headers right after this header
  b.writeUInt16LE(64, 52); // header size
  b.writeUInt16LE(56, 54); // program header size
  b.writeUInt16LE(1, 56); // one program header
  b.writeUInt32LE(1, 64); // PT_LOAD
  b.writeUInt32LE(5, 68); // R+X
  b.writeBigUInt64LE(0n, 72); // from file offset 0
  b.writeBigUInt64LE(BigInt(BASE), 80); // vaddr
  b.writeBigUInt64LE(BigInt(BASE), 88); // paddr
  b.writeBigUInt64LE(BigInt(size), 96); // filesz
  b.writeBigUInt64LE(BigInt(size), 104); // memsz
  b.writeBigUInt64LE(0x1000n, 112); // align
  b.set(code, HEADERS);
  return b;
}

export const execHelperAvailable = (): boolean => process.arch === 'x64';

export interface ExecHelperSteps {
  /** The fd (in the new process) of the container's cgroup.procs, opened for writing. */
  cgroupFd?: number;
  /** setsid + TIOCSCTTY on fd 0. */
  terminal: boolean;
}

/** The helper as an exec-able fd (sealed memfd); call it only where execHelperAvailable(). */
export function execHelper(sys: Sys, steps: ExecHelperSteps): number {
  const code = [...(steps.cgroupFd !== undefined ? joinCgroup(steps.cgroupFd) : []), ...(steps.terminal ? takeTerminal : []), ...exec];
  const fd = sys.memfdCreate('runts-exec', MFD_CLOEXEC | MFD_ALLOW_SEALING);
  const image = elf(code);
  for (let off = 0; off < image.length; ) off += writeSync(fd, image, off);
  sys.fcntl(fd, F_ADD_SEALS, F_SEAL_SEAL | F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_WRITE);
  return fd;
}
