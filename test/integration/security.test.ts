// Security: seccomp, fd hygiene, non-dumpable init, no_new_privs, oom score,
// masked and read-only paths, LSM refusal. Each claim of docs/security.md
// names the test here that backs it.
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { closeSync, openSync, readFileSync, readdirSync, readlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import type { Spec } from '../../src/spec/types';
import { RUNTS, TOP, isRoot, tempDir } from '../lib/cli';
import { agentMessage, bundle, runBundle, runBundleAsync, runtime, shArgs, stateOf, uniqueId } from '../lib/container';

const test = suite('security');
const asRoot = isRoot ? test : test.skip;

type Seccomp = NonNullable<NonNullable<Spec['linux']>['seccomp']>;
const withTmp = (s: Spec) => s.mounts!.push({ destination: '/tmp', type: 'tmpfs', source: 'tmpfs', options: ['mode=1777'] });
const withSeccomp = (seccomp: Seccomp) => (s: Spec) => {
  s.linux!.seccomp = seccomp;
};

asRoot(
  'session keyring: the container gets "_ses.<id>" of its own (searchable by its owner, as runc does); not with --no-new-keyring',
  () => {
    const b = bundle((s) => {
      s.linux!.maskedPaths = s.linux!.maskedPaths!.filter((p) => p !== '/proc/keys');
      shArgs('grep -o "perm [0-9a-f]* .*keyring *_ses\\.[^:]*" /proc/keys || true')(s);
    });
    const root = tempDir('runts-root-');
    const id = uniqueId('keyring');
    const r = runtime(['run', '--bundle', b, id], { root });
    assert.is(r.code, 0, r.stderr);
    assert.match(r.stdout, new RegExp(`perm 3f1b0000 +0 +0 keyring +_ses\\.${id}$`, 'm'));
    const other = uniqueId('keyring');
    const kept = runtime(['run', '--no-new-keyring', '--bundle', b, other], { root });
    assert.is(kept.code, 0, kept.stderr);
    assert.not.match(kept.stdout, `_ses.${other}`);
  },
);

asRoot('seccomp: a profile denying mkdir with EPERM; other calls work', () => {
  const r = runBundle(
    bundle((s) => {
      withTmp(s);
      withSeccomp({ defaultAction: 'SCMP_ACT_ALLOW', syscalls: [{ names: ['mkdir', 'mkdirat'], action: 'SCMP_ACT_ERRNO' }] })(s);
      shArgs('mkdir /tmp/d; echo "mkdir=$?"; touch /tmp/f && echo touched; grep ^Seccomp: /proc/self/status')(s);
    }),
  );
  assert.is(r.code, 0, r.stderr);
  assert.match(r.stderr, /mkdir: can't create directory '\/tmp\/d': Operation not permitted/);
  assert.equal(r.stdout.trim().split('\n'), ['mkdir=1', 'touched', 'Seccomp:\t2']);
});

/** Docker's default profile (an allow list; anything else fails with the default action), as dockerd wrote it. */
const dockerConfig = () => JSON.parse(readFileSync(join(TOP, 'test', 'fixtures', 'docker-config.json'), 'utf8')) as Spec;

asRoot('seccomp: errnoRet and defaultErrnoRet are the errno returned', () => {
  // Docker's allow list, with mkdir taken out into a rule of its own (ENOSPC)
  // and the default (unshare is not on the list) returning EROFS instead of EPERM.
  const docker = dockerConfig();
  const profile = structuredClone(docker.linux!.seccomp!);
  for (const rule of profile.syscalls!)
    rule.names = rule.names.filter((n) => n !== 'mkdir' && n !== 'mkdirat') as typeof rule.names;
  profile.syscalls!.push({ names: ['mkdir', 'mkdirat'], action: 'SCMP_ACT_ERRNO', errnoRet: 28 });
  profile.defaultErrnoRet = 30;
  const r = runBundle(
    bundle((s) => {
      withTmp(s);
      s.linux!.seccomp = profile;
      s.process!.capabilities = docker.process!.capabilities;
      shArgs('mkdir /tmp/d; echo "mkdir=$?"; unshare -m true; echo "unshare=$?"')(s);
    }),
  );
  assert.is(r.code, 0, r.stderr);
  assert.equal(r.stdout.trim().split('\n'), ['mkdir=1', 'unshare=1'], r.stderr);
  assert.match(r.stderr, /mkdir: can't create directory '\/tmp\/d': No space left on device/);
  assert.match(r.stderr, /unshare: .*: Read-only file system/);
});

asRoot('seccomp: SCMP_ACT_KILL_PROCESS kills the process with SIGSYS: exit 159', () => {
  const r = runBundle(
    bundle((s) => {
      withTmp(s);
      withSeccomp({
        defaultAction: 'SCMP_ACT_ALLOW',
        syscalls: [{ names: ['mkdir', 'mkdirat'], action: 'SCMP_ACT_KILL_PROCESS' }],
      })(s);
      s.process!.args = ['mkdir', '/tmp/d'];
    }),
  );
  assert.is(r.code, 159);
});

asRoot('seccomp: an argument condition denies only the matching call (personality(PER_LINUX32))', () => {
  const PER_LINUX32 = 8;
  const r = runBundle(
    bundle((s) => {
      withSeccomp({
        defaultAction: 'SCMP_ACT_ALLOW',
        syscalls: [
          { names: ['personality'], action: 'SCMP_ACT_ERRNO', args: [{ index: 0, value: PER_LINUX32, op: 'SCMP_CMP_EQ' }] },
        ],
      })(s);
      shArgs('linux64 true && echo linux64-ok; linux32 true || echo linux32-denied')(s);
    }),
  );
  assert.equal(r.stdout.trim().split('\n'), ['linux64-ok', 'linux32-denied'], r.stderr);
});

asRoot('seccomp: unknown syscall names are skipped; an unknown default action is refused by the schema', () => {
  const ok = runBundle(
    bundle((s) => {
      withSeccomp({
        defaultAction: 'SCMP_ACT_ALLOW',
        syscalls: [{ names: ['no_such_syscall_at_all'], action: 'SCMP_ACT_ERRNO' }],
      })(s);
      shArgs('echo fine')(s);
    }),
  );
  assert.is(ok.stdout, 'fine\n', ok.stderr);
  const bad = runBundle(
    bundle((s) => {
      withSeccomp({ defaultAction: 'SCMP_ACT_BOGUS' as Seccomp['defaultAction'], syscalls: [] })(s);
      shArgs('echo the-program-ran')(s);
    }),
  );
  assert.is(bad.code, 1, bad.stderr);
  assert.is(bad.stdout, '');
  assert.match(bad.stderr, /\/linux\/seccomp\/defaultAction: must be one of/);
});

asRoot('seccomp: SCMP_ACT_NOTIFY sends the listener fd and the process state to listenerPath', async () => {
  const socketPath = join(tempDir(), 'agent.sock');
  const received = agentMessage(socketPath);
  const id = uniqueId();
  const root = tempDir();
  const b = bundle((s) => {
    withTmp(s);
    withSeccomp({
      defaultAction: 'SCMP_ACT_ALLOW',
      listenerPath: socketPath,
      listenerMetadata: 'meta-for-agent',
      syscalls: [{ names: ['mkdir', 'mkdirat'], action: 'SCMP_ACT_NOTIFY' }],
    })(s);
    shArgs('sleep 0.5; mkdir /tmp/d; echo "mkdir=$?"')(s);
  });
  const run = runBundleAsync(b, root, id);
  const message = JSON.parse(await received);
  assert.equal(message.fds, ['seccompFd']);
  assert.is(message.metadata, 'meta-for-agent');
  assert.is(message.state.id, id);
  assert.ok(message.pid > 0);
  const r = await run;
  assert.is(r.out.trim(), 'mkdir=1', r.err);
  assert.match(r.err, /Function not implemented/);
});

asRoot("seccomp: Docker's default profile (as dockerd wrote it) runs a busybox shell doing ordinary work", () => {
  const docker = dockerConfig();
  const work = [
    'mkdir -p /tmp/w/a/b && cd /tmp/w && echo hello > a/b/f && cat a/b/f',
    'ls -la /tmp/w/a > /dev/null && sha256sum a/b/f | cut -c1-8',
    'seq 1 1000 | sort -rn | head -1',
    '(sleep 0.1; echo sub) & wait',
    'ps -o pid,comm | grep -c sh',
    'grep ^Seccomp: /proc/self/status',
    'unshare -m true 2>/dev/null || echo unshare-denied',
  ].join('; ');
  const r = runBundle(
    bundle((s) => {
      withTmp(s);
      s.linux!.seccomp = docker.linux!.seccomp;
      s.process!.capabilities = docker.process!.capabilities;
      shArgs(work)(s);
    }),
  );
  assert.is(r.code, 0, r.stderr);
  const lines = r.stdout.trim().split('\n');
  assert.is(lines[0], 'hello');
  assert.is(lines[1], '5891b5b5');
  assert.is(lines[2], '1000');
  assert.is(lines[3], 'sub');
  assert.ok(Number(lines[4]) >= 1);
  assert.is(lines[5], 'Seccomp:\t2');
  assert.is(lines[6], 'unshare-denied');
});

/** The fds of the container's process, seen from the host (nothing in it opens any). */
function hostViewOfFds(root: string, id: string): string[] {
  const pid = stateOf(root, id).pid;
  return readdirSync(`/proc/${pid}/fd`).sort((a, b) => Number(a) - Number(b));
}

/** Starts a `sleep` container with runts run -d; extra fds and env go to runts. */
function detachedSleeper(extra: {
  stdio?: (number | 'ignore')[];
  env?: NodeJS.ProcessEnv;
  preserveFds?: number;
  script?: string;
}) {
  const root = tempDir();
  const id = uniqueId();
  const out = join(tempDir(), 'out');
  const o = openSync(out, 'w');
  const b = bundle(shArgs(`${extra.script ?? ''} exec sleep 100`));
  const args = [
    '--root',
    root,
    'run',
    '-d',
    ...(extra.preserveFds ? ['--preserve-fds', String(extra.preserveFds)] : []),
    '--bundle',
    b,
    id,
  ];
  try {
    const r = spawnSync(RUNTS, args, { stdio: ['ignore', o, 'inherit', ...(extra.stdio ?? [])], env: extra.env ?? process.env });
    assert.is(r.status, 0);
  } finally {
    closeSync(o);
  }
  for (let i = 0; i < 300 && stateOf(root, id).status !== 'running'; i++)
    Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 10);
  return { root, id, out, cleanup: () => runtime(['delete', '--force', id], { root }) };
}

asRoot('fds: the process starts with exactly 0, 1 and 2', () => {
  const c = detachedSleeper({});
  try {
    assert.equal(hostViewOfFds(c.root, c.id), ['0', '1', '2']);
  } finally {
    c.cleanup();
  }
});

asRoot('fds: --preserve-fds 1 passes fd 3, which the process can read', () => {
  const file = join(tempDir(), 'passed');
  writeFileSync(file, 'through fd 3\n');
  const fd3 = openSync(file, 'r');
  try {
    const c = detachedSleeper({ stdio: [fd3], preserveFds: 1, script: 'cat <&3;' });
    try {
      assert.equal(hostViewOfFds(c.root, c.id), ['0', '1', '2', '3']);
      assert.is(readFileSync(c.out, 'utf8'), 'through fd 3\n');
    } finally {
      c.cleanup();
    }
  } finally {
    closeSync(fd3);
  }
});

asRoot('fds: LISTEN_FDS (socket activation) are passed on, with LISTEN_FDS and LISTEN_PID=1', () => {
  const dir = tempDir();
  writeFileSync(join(dir, 'listen'), 'activated\n');
  const b = bundle(shArgs('echo "$LISTEN_FDS $LISTEN_PID"; cat <&3'));
  // LISTEN_PID must be runts' own pid: exec from a shell that knows it.
  const out = execFileSync(
    'sh',
    [
      '-c',
      `exec 3<"$1"; LISTEN_FDS=1 LISTEN_PID=$$ exec "$2" --root "$3" run --bundle "$4" "$5"`,
      'sh',
      join(dir, 'listen'),
      RUNTS,
      tempDir(),
      b,
      uniqueId(),
    ],
    { encoding: 'utf8' },
  );
  assert.equal(out.split('\n'), ['1 1', 'activated', '']);
});

/** "PID read" or "PID <why not>" for each pid: whether a root process without CAP_SYS_PTRACE may read its memory. */
function memoryReadable(...pids: number[]): string[] {
  const r = spawnSync('python3', [join(TOP, 'test', 'lib', 'vm-read.py'), ...pids.map(String)], { encoding: 'utf8' });
  assert.is(r.status, 0, `vm-read.py: ${r.error ?? r.stderr}`);
  return r.stdout.trim().split('\n');
}

asRoot(
  'the init is non-dumpable while it waits for start: the kernel refuses its memory to root without CAP_SYS_PTRACE; the program, once executed, is dumpable',
  () => {
    const root = tempDir();
    const id = uniqueId();
    assert.is(runtime(['create', '--bundle', bundle(shArgs('exec sleep 100')), id], { root }).code, 0);
    const host = spawn('sleep', ['100']);
    try {
      const { pid } = stateOf(root, id);
      // A dumpable root process of the host is readable: the refusal is the init's non-dumpable flag.
      assert.equal(memoryReadable(pid, host.pid!), [`${pid} Operation not permitted`, `${host.pid} read`]);
      assert.is(runtime(['start', id], { root }).code, 0);
      // execve makes the process dumpable again: same pid, now readable.
      for (let i = 0; i < 300 && !readlinkSync(`/proc/${pid}/exe`).endsWith('/busybox'); i++)
        Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 10);
      assert.equal(memoryReadable(pid), [`${pid} read`]);
    } finally {
      host.kill();
      runtime(['delete', '--force', id], { root });
    }
  },
);

asRoot("no node process in a started container; /proc/1/exe is the user's program", () => {
  const r = runBundle(bundle(shArgs('cat /proc/[0-9]*/cmdline | tr "\\0" " "; echo; readlink /proc/1/exe')));
  assert.is(r.code, 0, r.stderr);
  assert.not.match(r.stdout, /node|init\.mjs/);
  assert.match(r.stdout.trim().split('\n').pop()!, /\/bin\/busybox$/);
});

asRoot('noNewPrivileges sets NoNewPrivs; without it, it stays 0', () => {
  const status = (nnp: boolean) =>
    runBundle(
      bundle((s) => {
        s.process!.noNewPrivileges = nnp;
        shArgs('grep ^NoNewPrivs: /proc/self/status')(s);
      }),
    ).stdout.trim();
  assert.is(status(true), 'NoNewPrivs:\t1');
  assert.is(status(false), 'NoNewPrivs:\t0');
});

asRoot('oomScoreAdj is applied', () => {
  const r = runBundle(
    bundle((s) => {
      s.process!.oomScoreAdj = 345;
      shArgs('cat /proc/self/oom_score_adj')(s);
    }),
  );
  assert.is(r.stdout.trim(), '345');
});

asRoot('masked paths read empty; read-only paths refuse writes', () => {
  const r = runBundle(
    bundle(
      shArgs(
        [
          'wc -c < /proc/keys',
          'wc -c < /proc/timer_list',
          'ls -A /sys/firmware | wc -l',
          'echo x > /proc/sys/kernel/hostname 2>/dev/null || echo proc-sys-read-only',
          'echo 1 > /proc/sysrq-trigger 2>/dev/null || echo sysrq-read-only-or-absent',
          'touch /newfile 2>/dev/null || echo root-read-only',
        ].join('; '),
      ),
    ),
  );
  assert.is(r.code, 0, r.stderr);
  assert.equal(r.stdout.trim().split('\n'), ['0', '0', '0', 'proc-sys-read-only', 'sysrq-read-only-or-absent', 'root-read-only']);
  // Control: the host's files are not empty, so the mask did something.
  assert.ok(readFileSync('/proc/timer_list', 'utf8').length > 0);
});

asRoot('AppArmor profile or SELinux label on a host without them: refused at create, like runc', () => {
  for (const [edit, reason] of [
    [(s: Spec) => (s.process!.apparmorProfile = 'docker-default'), /AppArmor is not enabled on this host/],
    [
      (s: Spec) => (s.process!.selinuxLabel = 'system_u:system_r:container_t:s0'),
      /selinux label is specified in config, but selinux is disabled or not supported/,
    ],
  ] as const) {
    const root = tempDir();
    const r = runtime(['create', '--bundle', bundle(edit), uniqueId()], { root });
    assert.is(r.code, 1);
    assert.match(r.stderr, reason);
  }
});

test.run();
