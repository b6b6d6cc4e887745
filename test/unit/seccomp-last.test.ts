// The ENOSYS stub's numbers: per architecture, the largest syscall number of
// the names a profile lists (runc's findLastSyscalls). exportSeccomp reads
// most of them out of libseccomp's program (src/sys/seccomp-bpf.ts); here,
// with the real libseccomp, they must equal resolving every name for every
// architecture, which this test does itself through its own ffi-rs handle.
// No root needed: building and exporting a filter loads nothing.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { compileSeccomp, type SeccompConfig } from '../../src/linux/seccomp';
import { sys } from '../../src/sys';
import { loadFfiBinding } from '../../src/sys/ffi-binding';
import { syscallMaxima } from '../../src/sys/seccomp-bpf';
import type { SeccompArchLast } from '../../src/sys/types';
import { TOP } from '../lib/cli';

const test = suite('seccomp-last');

const LIB = 'seccomp-reference';
const ffi = loadFfiBinding();
let haveLibseccomp = true;
try {
  ffi.open({ library: LIB, path: 'libseccomp.so.2' });
} catch {
  haveLibseccomp = false;
}
const withLib = haveLibseccomp && process.arch === 'x64' ? test : test.skip;

function call(funcName: string, paramsType: unknown[], paramsValue: unknown[]): number {
  const params = { library: LIB, funcName, retType: ffi.DataType.I32, paramsType, paramsValue, freeResultMemory: false };
  return ffi.load(params as Parameters<typeof ffi.load>[0]) as unknown as number;
}

/** runc's findLastSyscalls, one resolve per name and architecture (what src/sys/ffi.ts did before). */
function reference(config: SeccompConfig): SeccompArchLast[] {
  const names = [...new Set((config.syscalls ?? []).flatMap((e) => e.names))];
  const { I32, String: Str } = ffi.DataType;
  const tokens = new Set([call('seccomp_arch_native', [], []) >>> 0]);
  for (const arch of config.architectures ?? []) {
    const name = arch.replace(/^SCMP_ARCH_/, '').toLowerCase();
    tokens.add(call('seccomp_arch_resolve_name', [Str], [name]) >>> 0);
  }
  const lasts: SeccompArchLast[] = [];
  for (const token of tokens) {
    const last = Math.max(...names.map((n) => call('seccomp_syscall_resolve_name_arch', [I32, Str], [token | 0, n])));
    if (last > 0) lasts.push({ token, nr: last });
  }
  return lasts;
}

const docker = (): SeccompConfig =>
  JSON.parse(readFileSync(join(TOP, 'test', 'fixtures', 'docker-config.json'), 'utf8')).linux.seccomp;

type Arch = NonNullable<SeccompConfig['architectures']>[number];
const X86S: Arch[] = ['SCMP_ARCH_X86_64', 'SCMP_ARCH_X86', 'SCMP_ARCH_X32'];
const allow = (...names: [string, ...string[]]) => ({ names, action: 'SCMP_ACT_ALLOW' as const });
/** Forty-odd entries of one name each: more than 32, so libseccomp's binary-tree layout. */
const many = [
  'read',
  'write',
  'close',
  'fstat',
  'lseek',
  'mmap',
  'mprotect',
  'munmap',
  'brk',
  'rt_sigaction',
  'rt_sigprocmask',
  'ioctl',
  'pread64',
  'pwrite64',
  'readv',
  'writev',
  'access',
  'pipe',
  'select',
  'sched_yield',
  'mremap',
  'msync',
  'mincore',
  'madvise',
  'dup',
  'dup2',
  'pause',
  'nanosleep',
  'getitimer',
  'alarm',
  'setitimer',
  'getpid',
  'sendfile',
  'socket',
  'connect',
  'accept',
  'openat',
  'clone3',
  'futex_waitv',
  'exit_group',
];

const cases: [string, SeccompConfig, { tree?: boolean; fast?: boolean }][] = [
  ["Docker's default profile", docker(), { fast: true }],
  [
    'linear layout, three x86 ABIs, an argument condition',
    {
      defaultAction: 'SCMP_ACT_ERRNO',
      architectures: X86S,
      syscalls: [
        allow('read', 'write', 'openat', 'exit_group'),
        { names: ['personality'], action: 'SCMP_ACT_ALLOW', args: [{ index: 0, value: 8, op: 'SCMP_CMP_EQ' }] },
      ],
    },
    { tree: false, fast: true },
  ],
  [
    'tree layout',
    { defaultAction: 'SCMP_ACT_ERRNO', architectures: X86S, syscalls: many.map((n) => allow(n)) },
    { tree: true, fast: true },
  ],
  [
    'x86 only (and the native x86_64)',
    { defaultAction: 'SCMP_ACT_KILL', architectures: ['SCMP_ARCH_X86'], syscalls: [allow('read', 'mmap2', 'getdents64')] },
    { fast: true },
  ],
  [
    'the largest name only in a rule with the default action (dropped from the program)',
    {
      defaultAction: 'SCMP_ACT_ERRNO',
      architectures: X86S,
      syscalls: [allow('read', 'write'), { names: ['futex_waitv'], action: 'SCMP_ACT_ERRNO' }],
    },
    { fast: true },
  ],
  [
    'names unknown to x86_64 (no native rule) and one libseccomp does not know',
    { defaultAction: 'SCMP_ACT_ERRNO', architectures: X86S, syscalls: [allow('read', '_llseek', 'no_such_call')] },
    { fast: true },
  ],
  [
    'x86: socketcall in the program for accept, which only it carries there',
    { defaultAction: 'SCMP_ACT_ERRNO', architectures: ['SCMP_ARCH_X86'], syscalls: [allow('read', 'accept')] },
    {},
  ],
];

for (const [name, config, { tree, fast }] of cases) {
  withLib(name, () => {
    const filter = compileSeccomp(config);
    const { program, lastSyscalls } = sys().exportSeccomp(filter);
    const expected = reference(config);
    assert.ok(expected.length, 'the reference has numbers to compare');
    assert.equal(lastSyscalls, expected);
    // JGE / JGT against the syscall number: the tree layout is what was tested.
    const codes = new Set(Array.from({ length: program.length / 8 }, (_, i) => program.readUInt16LE(8 * i)));
    if (tree !== undefined) assert.is(codes.has(0x35) || codes.has(0x25), tree, 'binary-tree jumps');
    // The program was read, not given up on: its numbers are the names' ones.
    const maxima = syscallMaxima(program);
    if (fast) assert.ok(maxima, 'the program was read');
  });
}

// The reader on its own: a shape it does not expect is refused, never guessed.
const insn = (code: number, jt: number, jf: number, k: number): Buffer => {
  const b = Buffer.alloc(8);
  b.writeUInt16LE(code, 0);
  b.writeUInt8(jt, 2);
  b.writeUInt8(jf, 3);
  b.writeUInt32LE(k >>> 0, 4);
  return b;
};
const LD = 0x20;
const JEQ = 0x15;
const RET = 0x06;
const ALLOW = 0x7fff0000;

test('syscallMaxima: per architecture, x32 apart by its bit; arguments and unmatched arches are not numbers', () => {
  const program = Buffer.concat([
    insn(LD, 0, 0, 4), // 0: arch
    insn(JEQ, 0, 9, 0xc000003e), // 1: x86_64 / x32 -> 2, else 11
    insn(LD, 0, 0, 0), // 2: nr
    insn(JEQ, 0, 3, 59), // 3: execve -> 4, else 7
    insn(LD, 0, 0, 16), // 4: arg 0
    insn(JEQ, 0, 3, 999), // 5: an argument, not a number
    insn(RET, 0, 0, ALLOW), // 6
    insn(JEQ, 2, 0, 0x40000200), // 7: an x32 number (reached with nr in A, though after an argument load)
    insn(JEQ, 1, 0, 12), // 8
    insn(RET, 0, 0, 0), // 9
    insn(RET, 0, 0, ALLOW), // 10
    insn(JEQ, 0, 3, 0x40000003), // 11: x86 -> 12, else 15
    insn(LD, 0, 0, 0), // 12
    insn(JEQ, 1, 0, 140), // 13
    insn(RET, 0, 0, 0), // 14
    insn(RET, 0, 0, ALLOW), // 15
  ]);
  assert.equal(
    syscallMaxima(program),
    new Map([
      [0xc000003e, 59],
      [0x4000003e, 0x40000200],
      [0x40000003, 140],
    ]),
  );
});

test('syscallMaxima: a number compared before any architecture matched is refused', () => {
  const program = Buffer.concat([insn(LD, 0, 0, 0), insn(JEQ, 0, 1, 59), insn(RET, 0, 0, ALLOW), insn(RET, 0, 0, 0)]);
  assert.is(syscallMaxima(program), undefined);
});

test('syscallMaxima: where paths with different accumulators meet, a comparison is refused', () => {
  const program = Buffer.concat([
    insn(LD, 0, 0, 4), // 0
    insn(JEQ, 0, 2, 0xc000003e), // 1 -> 2, else 4
    insn(LD, 0, 0, 0), // 2: nr
    insn(0x05, 0, 0, 1), // 3: ja 5 (with nr)
    insn(LD, 0, 0, 16), // 4: an argument
    insn(JEQ, 0, 1, 1), // 5: nr or argument
    insn(RET, 0, 0, ALLOW),
    insn(RET, 0, 0, 0),
  ]);
  assert.is(syscallMaxima(program), undefined);
});

test.run();
