// Seccomp as runc loads it (src/linux/seccomp.ts): the ENOSYS stub in front
// of libseccomp's program, and the filter flags runts passes to seccomp(2).
// Two small C programs built here with gcc: one makes raw system calls in the
// three x86 ABIs and prints the errno each got, one reads a process's filter
// back through ptrace.
import { execFileSync } from 'node:child_process';
import { copyFileSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import type { Spec } from '../../src/spec/types';
import { TOP, isRoot, tempDir } from '../lib/cli';
import { agentMessage, bundle, ownRootfs, runBundle, runBundleAsync, runtime, shArgs, stateOf, uniqueId } from '../lib/container';

const test = suite('seccomp-enosys');
const onX64 = isRoot && process.arch === 'x64';
const asRoot = onX64 ? test : test.skip;

type Seccomp = NonNullable<NonNullable<Spec['linux']>['seccomp']>;
const EPERM = 1;
const ENOSYS = 38;

/** Docker's default profile: an allow list for x86_64, x86 and x32 whose default is EPERM; it names nothing above futex_waitv (449). */
const docker = () =>
  JSON.parse(readFileSync(join(TOP, 'test', 'fixtures', 'docker-config.json'), 'utf8')) as Spec & {
    linux: { seccomp: Seccomp };
  };

const built = new Map<string, string>();
/** A fixture C program compiled here (static: nothing of the host's libc is needed in the container). */
function compiled(name: string, flags: string[] = []): string {
  let out = built.get(name);
  if (!out) {
    out = join(tempDir(), name);
    execFileSync('gcc', [...flags, '-O1', '-o', out, join(TOP, 'test', 'fixtures', `${name}.c`)]);
    built.set(name, out);
  }
  return out;
}

let rootfs: string | undefined;
/** A private busybox rootfs holding /seccomp-errno. */
function rootfsWithProbe(): string {
  if (!rootfs) {
    rootfs = ownRootfs();
    copyFileSync(compiled('seccomp-errno', ['-static']), join(rootfs, 'seccomp-errno'));
  }
  return rootfs;
}

/** errno per "abi:nr" from inside a container under profile. */
function errnos(profile: Seccomp, calls: string[], runtimeBin?: string): Record<string, number> {
  const d = docker();
  const r = runBundle(
    bundle(
      (s) => {
        s.linux!.seccomp = profile;
        s.process!.capabilities = d.process!.capabilities;
        s.process!.args = ['/seccomp-errno', ...calls];
      },
      { rootfs: rootfsWithProbe() },
    ),
    { runtime: runtimeBin },
  );
  assert.is(r.code, 0, r.stderr);
  return Object.fromEntries(
    r.stdout
      .trim()
      .split('\n')
      .map((line) => line.split(' '))
      .map(([abi, nr, errno]) => [`${abi}:${nr}`, Number(errno)]),
  );
}

// This host's libseccomp (Debian's 2.5.4) knows up to futex_requeue (456):
// statmount (457) and mseal (462) are past its table, the kernel (6.x) has them.
const withNewer = (): Seccomp => {
  const profile = docker().linux.seccomp;
  profile.syscalls!.push({ names: ['futex_requeue', 'mseal'], action: 'SCMP_ACT_ALLOW' });
  return profile;
};

asRoot(
  'seccomp: syscalls newer than any the profile names get ENOSYS; older ones it leaves out, EPERM (x86_64, i386, x32)',
  () => {
    const calls = {
      // cachestat: libseccomp knows it and the profile names a later one: the default action.
      'x86_64:451': EPERM,
      // statmount: newer than the last the profile names (futex_requeue).
      'x86_64:457': ENOSYS,
      // mseal: named, but unknown to libseccomp, so no rule could allow it: ENOSYS, not EPERM.
      'x86_64:462': ENOSYS,
      // No kernel has it.
      'x86_64:1000': ENOSYS,
      // unshare: known, not allowed.
      'x86_64:272': EPERM,
      // int $0x80: the filter's x86 section (mseal and unshare have i386 numbers 462, 310).
      'i386:462': ENOSYS,
      'i386:1000': ENOSYS,
      'i386:310': EPERM,
      // x32 (X32_SYSCALL_BIT set): the x32 branch, whether or not this kernel has x32. Its
      // last named number is one of x32's own (512..547: execve is 520), above mseal's.
      'x32:462': EPERM,
      'x32:1000': ENOSYS,
      'x32:272': EPERM,
    };
    assert.equal(errnos(withNewer(), Object.keys(calls)), calls);
  },
);

asRoot("seccomp: under Docker's profile as it is, cachestat (451, newer than futex_waitv) gets ENOSYS, as under runc", () => {
  const calls = { 'x86_64:451': ENOSYS, 'x86_64:452': ENOSYS, 'x86_64:272': EPERM, 'i386:451': ENOSYS };
  const profile = docker().linux.seccomp;
  assert.equal(errnos(profile, Object.keys(calls)), calls);
  // runc (1.1, the same libseccomp) on the same bundle, when installed.
  const runc = ['/usr/sbin/runc', '/usr/bin/runc'].find((p) => {
    try {
      execFileSync(p, ['--version']);
      return true;
    } catch {
      return false;
    }
  });
  if (runc) assert.equal(errnos(profile, Object.keys(calls), runc), calls);
});

asRoot(
  "seccomp: x86's own calls in Docker's profile (_llseek, mmap2, fstat64, socketcall: none on x86_64) reach the kernel from i386 code, as under runc",
  () => {
    // Each is allowed for x86 only: libseccomp knows them on x86_64 as
    // pseudo-syscalls (negative numbers), which are rules all the same.
    const calls = ['i386:140', 'i386:192', 'i386:197', 'i386:102'];
    const got = errnos(docker().linux.seccomp, calls);
    for (const call of calls) {
      assert.ok(got[call] !== EPERM && got[call] !== ENOSYS, `${call}: the filter answered errno ${got[call]}`);
    }
  },
);

asRoot(
  'seccomp: a permissive default gets no stub (a syscall past the table is the kernel’s ENOSYS, an unknown name is just skipped)',
  () => {
    const profile: Seccomp = {
      defaultAction: 'SCMP_ACT_ALLOW',
      syscalls: [{ names: ['unshare', 'mseal'], action: 'SCMP_ACT_ERRNO', errnoRet: 13 }],
    };
    assert.equal(errnos(profile, ['x86_64:272', 'x86_64:1000']), { 'x86_64:272': 13, 'x86_64:1000': ENOSYS });
  },
);

asRoot('seccomp: a syscall name libseccomp does not know is skipped, and --debug names it', () => {
  const b = bundle((s) => {
    s.linux!.seccomp = {
      defaultAction: 'SCMP_ACT_ALLOW',
      syscalls: [{ names: ['runts_no_such_call', 'unshare'], action: 'SCMP_ACT_ERRNO', errnoRet: 13 }],
    };
    shArgs('unshare -u true 2>&1')(s);
  });
  const root = tempDir();
  const quiet = runtime(['run', '--bundle', b, uniqueId('seccomp')], { root });
  assert.is(quiet.code, 1, quiet.stderr);
  // errnoRet 13 (EACCES), not the EPERM a missing CAP_SYS_ADMIN would give: the rule beside the unknown name is loaded.
  assert.match(quiet.stdout, 'Permission denied');
  assert.not.match(quiet.stderr, 'runts_no_such_call');
  const debug = runtime(['--debug', 'run', '--bundle', b, uniqueId('seccomp')], { root });
  assert.is(debug.code, 1, debug.stderr);
  assert.match(debug.stderr, 'seccomp: syscalls libseccomp does not know, skipped: runts_no_such_call');
});

/** Starts `exec sleep` under profile; the container's pid, and a cleanup. */
function sleeper(profile: Seccomp): { pid: number; exec: (args: string[]) => ReturnType<typeof runtime>; stop: () => void } {
  const root = tempDir();
  const id = uniqueId('seccomp');
  const d = docker();
  const b = bundle(
    (s) => {
      s.linux!.seccomp = profile;
      s.process!.capabilities = d.process!.capabilities;
      shArgs('exec sleep 100')(s);
    },
    { rootfs: rootfsWithProbe() },
  );
  const created = runtime(['create', '--bundle', b, id], { root });
  assert.is(created.code, 0, created.stderr);
  const started = runtime(['start', id], { root });
  assert.is(started.code, 0, started.stderr);
  return {
    pid: stateOf(root, id).pid,
    exec: (args) => runtime(['exec', id, ...args], { root }),
    stop: () => void runtime(['delete', '--force', id], { root }),
  };
}

/** What seccomp-inspect reads of pid's filter: the flags, and the instructions as "code jt jf k". */
function inspect(pid: number): { flags: number; insns: string[]; filters: string } {
  const lines = execFileSync(compiled('seccomp-inspect'), [String(pid)], { encoding: 'utf8' })
    .trim()
    .split('\n');
  const filters = /^Seccomp_filters:\s*(\d+)$/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1] ?? '?';
  return { flags: parseInt(lines[0]!.split(' ')[1]!, 16), insns: lines.slice(1), filters };
}

asRoot(
  'seccomp: the loaded filter is one program, the stub first (an exec gets it too); SECCOMP_FILTER_FLAG_LOG reaches the kernel, SPEC_ALLOW is taken',
  () => {
    const plain = sleeper(docker().linux.seccomp);
    try {
      const { flags, insns, filters } = inspect(plain.pid);
      assert.is(filters, '1', 'one filter: libseccomp did not load one of its own');
      assert.is(flags, 0);
      // ld [4] (the arch), then a jeq per AUDIT_ARCH: x86_64's and i386's.
      assert.equal(insns.slice(0, 3), ['20 0 0 4', '15 2 0 c000003e', '15 5 0 40000003']);
      assert.ok(insns.includes(`6 0 0 ${(0x50000 | ENOSYS).toString(16)}`), 'no RET ERRNO(ENOSYS)');
      // runts exec: the filter compiled at create, stub included.
      const probe = plain.exec(['/seccomp-errno', 'x86_64:451', 'x86_64:272']);
      assert.is(probe.code, 0, probe.stderr);
      assert.is(probe.stdout, `x86_64 451 ${ENOSYS}\nx86_64 272 ${EPERM}\n`);
    } finally {
      plain.stop();
    }
    const profile = docker().linux.seccomp;
    profile.flags = ['SECCOMP_FILTER_FLAG_LOG', 'SECCOMP_FILTER_FLAG_SPEC_ALLOW', 'SECCOMP_FILTER_FLAG_TSYNC'];
    const flagged = sleeper(profile);
    try {
      // The kernel reports LOG only; SPEC_ALLOW shows only where SSB is mitigated
      // (Speculation_Store_Bypass in /proc/PID/status), and the load took it.
      assert.is(inspect(flagged.pid).flags, 2);
    } finally {
      flagged.stop();
    }
  },
);

asRoot(
  'seccomp: SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV with a notify listener is taken; the listener still reaches the agent',
  async () => {
    const socketPath = join(tempDir(), 'agent.sock');
    const received = agentMessage(socketPath);
    const b = bundle((s) => {
      s.mounts!.push({ destination: '/tmp', type: 'tmpfs', source: 'tmpfs', options: ['mode=1777'] });
      s.linux!.seccomp = {
        defaultAction: 'SCMP_ACT_ALLOW',
        flags: ['SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV'],
        listenerPath: socketPath,
        syscalls: [{ names: ['mkdir', 'mkdirat'], action: 'SCMP_ACT_NOTIFY' }],
      };
      shArgs('mkdir /tmp/d; echo "mkdir=$?"')(s);
    });
    // Asynchronous: the agent (this process) must accept while the container runs.
    const run = runBundleAsync(b, tempDir(), uniqueId('notify'));
    assert.equal(JSON.parse(await received).fds, ['seccompFd']);
    const r = await run;
    assert.is(r.code, 0, r.err);
    assert.is(r.out.trim(), 'mkdir=1', r.err);
    assert.match(r.err, /Function not implemented/);
  },
);

test.run();
