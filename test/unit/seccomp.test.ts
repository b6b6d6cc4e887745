// linux.seccomp -> the flags runts passes to seccomp(2) and the ENOSYS stub
// (src/linux/seccomp.ts), against the recording double. The stub is run by a
// small interpreter of the classic BPF it uses, on (arch, nr) pairs.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { features } from '../../src/container/features';
import { compileSeccomp, enosysStub, loadSeccomp, prepareSeccomp, supportedFlags } from '../../src/linux/seccomp';
import {
  SECCOMP_FILTER_FLAG_LOG,
  SECCOMP_FILTER_FLAG_NEW_LISTENER,
  SECCOMP_FILTER_FLAG_SPEC_ALLOW,
  SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV,
} from '../../src/sys/constants';
import { RecordingSys } from '../../src/sys/recording';
import type { SeccompArchLast } from '../../src/sys/types';
import type { SeccompConfig } from '../../src/linux/seccomp';

const test = suite('seccomp');

const AUDIT_X86_64 = 0xc000003e;
const AUDIT_I386 = 0x40000003;
const AUDIT_AARCH64 = 0xc00000b7;
const AUDIT_S390X = 0x80000016;
const SCMP_X32 = 0x4000003e;
const X32 = 0x40000000;
const RET_ENOSYS = 0x50026;

/**
 * Runs a stub followed by a one-instruction "filter" for (arch, nr): the
 * stub's RET value, or 'filter' when it fell through to the program after it.
 */
function run(stub: Buffer, arch: number, nr: number): number | 'filter' {
  const count = stub.length / 8;
  let a = 0;
  for (let pc = 0, steps = 0; steps < 1000; steps++) {
    if (pc === count) return 'filter';
    assert.ok(pc < count, `jumped past the filter's first instruction (${pc})`);
    const code = stub.readUInt16LE(8 * pc);
    const [jt, jf, k] = [stub[8 * pc + 2]!, stub[8 * pc + 3]!, stub.readUInt32LE(8 * pc + 4)];
    const cond = (holds: boolean) => (pc += 1 + (holds ? jt : jf));
    switch (code) {
      case 0x20: // ld [k]
        assert.ok(k === 0 || k === 4, `ld [${k}]`);
        a = (k === 0 ? nr : arch) >>> 0;
        pc++;
        break;
      case 0x05: // ja k
        pc += 1 + k;
        break;
      case 0x15:
        cond(a === k);
        break;
      case 0x25:
        cond(a > k);
        break;
      case 0x45:
        cond((a & k) !== 0);
        break;
      case 0x06:
        return k;
      default:
        throw new Error(`opcode ${code.toString(16)}`);
    }
  }
  throw new Error('no end');
}

const lasts: SeccompArchLast[] = [
  { token: AUDIT_X86_64, nr: 456 },
  { token: AUDIT_I386, nr: 456 },
  { token: SCMP_X32, nr: X32 | 547 },
];

test('stub: past the last named syscall of each architecture, ENOSYS; up to it, the filter (x86_64, i386, x32)', () => {
  const stub = enosysStub(lasts);
  const cases: [number, number, number | 'filter'][] = [
    [AUDIT_X86_64, 0, 'filter'],
    [AUDIT_X86_64, 456, 'filter'],
    [AUDIT_X86_64, 457, RET_ENOSYS],
    [AUDIT_X86_64, 1000, RET_ENOSYS],
    // x32 numbers: checked against x32's last, not x86_64's.
    [AUDIT_X86_64, X32 | 520, 'filter'],
    [AUDIT_X86_64, X32 | 547, 'filter'],
    [AUDIT_X86_64, X32 | 548, RET_ENOSYS],
    [AUDIT_I386, 456, 'filter'],
    [AUDIT_I386, 457, RET_ENOSYS],
    // An architecture the filter lacks: libseccomp's program (its bad-arch action) decides.
    [AUDIT_AARCH64, 1000, 'filter'],
  ];
  for (const [arch, nr, want] of cases) assert.is(run(stub, arch, nr), want, `arch ${arch.toString(16)} nr ${nr.toString(16)}`);
});

test('stub: x86_64 without x32 leaves x32 numbers to the filter, and x32 alone leaves x86_64 ones', () => {
  const only64 = enosysStub([{ token: AUDIT_X86_64, nr: 456 }]);
  assert.is(run(only64, AUDIT_X86_64, X32 | 1000), 'filter');
  assert.is(run(only64, AUDIT_X86_64, 1000), RET_ENOSYS);
  const only32 = enosysStub([{ token: SCMP_X32, nr: X32 | 547 }]);
  assert.is(run(only32, AUDIT_X86_64, 1000), 'filter');
  assert.is(run(only32, AUDIT_X86_64, X32 | 1000), RET_ENOSYS);
});

test("stub: s390x's syscall 0 (where the kernel puts numbers it does not know) is ENOSYS", () => {
  const stub = enosysStub([{ token: AUDIT_S390X, nr: 400 }]);
  assert.is(run(stub, AUDIT_S390X, 0), RET_ENOSYS);
  assert.is(run(stub, AUDIT_S390X, 1), 'filter');
  assert.is(run(stub, AUDIT_S390X, 401), RET_ENOSYS);
});

test('stub: its shape for x86_64 + x86 + x32 (ld arch; jeq per AUDIT_ARCH; ja filter; the sections; ret ENOSYS)', () => {
  const stub = enosysStub(lasts);
  const insns = [];
  for (let i = 0; i < stub.length; i += 8) insns.push([stub.readUInt16LE(i), stub[i + 2], stub[i + 3], stub.readUInt32LE(i + 4)]);
  assert.equal(insns, [
    [0x20, 0, 0, 4],
    [0x15, 2, 0, AUDIT_X86_64],
    [0x15, 5, 0, AUDIT_I386],
    [0x05, 0, 0, 7],
    [0x20, 0, 0, 0],
    [0x45, 1, 0, X32],
    [0x25, 3, 4, 456],
    [0x25, 2, 3, X32 | 547],
    [0x20, 0, 0, 0],
    [0x25, 0, 1, 456],
    [0x06, 0, 0, RET_ENOSYS],
  ]);
  assert.is(enosysStub([]).length, 0, 'nothing to check, no stub');
});

test('flags: LOG and SPEC_ALLOW are passed; TSYNC is taken and not passed; a notify rule adds NEW_LISTENER, and WAIT_KILLABLE_RECV is passed with it only', () => {
  const base: SeccompConfig = { defaultAction: 'SCMP_ACT_ERRNO', syscalls: [{ names: ['read'], action: 'SCMP_ACT_ALLOW' }] };
  const flagged = compileSeccomp({
    ...base,
    flags: ['SECCOMP_FILTER_FLAG_LOG', 'SECCOMP_FILTER_FLAG_SPEC_ALLOW', 'SECCOMP_FILTER_FLAG_TSYNC'],
  });
  assert.is(flagged.flags, SECCOMP_FILTER_FLAG_LOG | SECCOMP_FILTER_FLAG_SPEC_ALLOW);
  const notify = compileSeccomp({
    defaultAction: 'SCMP_ACT_ALLOW',
    listenerPath: '/agent.sock',
    flags: ['SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV'],
    syscalls: [{ names: ['mkdir'], action: 'SCMP_ACT_NOTIFY' }],
  });
  assert.is(notify.flags, SECCOMP_FILTER_FLAG_NEW_LISTENER | SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV);
  // No notify rule: nothing for it to change, and the kernel would refuse it without a listener.
  assert.is(
    compileSeccomp({ ...base, flags: ['SECCOMP_FILTER_FLAG_LOG', 'SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV'] }).flags,
    SECCOMP_FILTER_FLAG_LOG,
  );
});

test('the stub is asked for (every name the config gives) unless the default lets calls through or is ENOSYS already', () => {
  const syscalls: SeccompConfig['syscalls'] = [
    { names: ['read', 'write'], action: 'SCMP_ACT_ALLOW' },
    { names: ['write', 'clone3'], action: 'SCMP_ACT_ERRNO', errnoRet: 38 },
  ];
  assert.equal(compileSeccomp({ defaultAction: 'SCMP_ACT_ERRNO', syscalls }).enosysNames, ['read', 'write', 'clone3']);
  assert.equal(compileSeccomp({ defaultAction: 'SCMP_ACT_KILL_PROCESS', syscalls }).enosysNames, ['read', 'write', 'clone3']);
  for (const defaultAction of ['SCMP_ACT_ALLOW', 'SCMP_ACT_LOG', 'SCMP_ACT_TRACE'] as const) {
    assert.is(compileSeccomp({ defaultAction, syscalls }).enosysNames, undefined, defaultAction);
  }
  assert.is(compileSeccomp({ defaultAction: 'SCMP_ACT_ERRNO', defaultErrnoRet: 38, syscalls }).enosysNames, undefined);
});

test("prepare and load: the stub goes in front of libseccomp's program, loaded with the filter's flags; the listener fd comes back", () => {
  const sys = new RecordingSys();
  sys.seccompLastSyscalls = lasts;
  const filter = compileSeccomp({
    defaultAction: 'SCMP_ACT_ERRNO',
    listenerPath: '/agent.sock',
    flags: ['SECCOMP_FILTER_FLAG_LOG'],
    syscalls: [
      { names: ['read'], action: 'SCMP_ACT_ALLOW' },
      { names: ['mkdir'], action: 'SCMP_ACT_NOTIFY' },
    ],
  });
  const prepared = prepareSeccomp(sys, filter);
  const exported = Buffer.from([0x06, 0, 0, 0, 0, 0, 0xff, 0x7f]);
  assert.equal(prepared.program, Buffer.concat([enosysStub(lasts), exported]));
  const fd = loadSeccomp(sys, prepared);
  assert.ok(fd >= 0);
  const [load] = sys.callsTo('loadSeccomp');
  assert.equal(load, [prepared.program, SECCOMP_FILTER_FLAG_LOG | SECCOMP_FILTER_FLAG_NEW_LISTENER]);
  // No notify rule: no listener asked for, none returned.
  const plain = prepareSeccomp(sys, compileSeccomp({ defaultAction: 'SCMP_ACT_ALLOW', syscalls: [] }));
  assert.equal(plain.program, exported, 'a permissive default: no stub');
  assert.is(loadSeccomp(sys, plain), -1);
});

test("features: supportedFlags are the known flags this kernel takes (WAIT_KILLABLE_RECV probed with a listener's flag)", () => {
  const sys = new RecordingSys();
  sys.seccompRefusedFlags = SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV;
  assert.equal(supportedFlags(sys), ['SECCOMP_FILTER_FLAG_TSYNC', 'SECCOMP_FILTER_FLAG_LOG', 'SECCOMP_FILTER_FLAG_SPEC_ALLOW']);
  assert.equal(
    sys.callsTo('seccompFlagsSupported').map((args) => args[0]),
    [
      SECCOMP_FILTER_FLAG_LOG,
      SECCOMP_FILTER_FLAG_SPEC_ALLOW,
      SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV | SECCOMP_FILTER_FLAG_NEW_LISTENER,
    ],
  );
  const listed = features(sys).linux.seccomp;
  assert.equal(listed.knownFlags, [
    'SECCOMP_FILTER_FLAG_TSYNC',
    'SECCOMP_FILTER_FLAG_LOG',
    'SECCOMP_FILTER_FLAG_SPEC_ALLOW',
    'SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV',
  ]);
  assert.not.ok(listed.supportedFlags.includes('SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV'));
});

test.run();
