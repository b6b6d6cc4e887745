// The real Sys (ffi-rs + glibc), checked against the kernel's own view
// (/proc, stat, other processes). Calls that would change this process's
// namespaces, root, credentials or capabilities run in a child node process
// made from a small script bundled here with esbuild.
import { spawn, spawnSync } from 'node:child_process';
import { closeSync, existsSync, fstatSync, openSync, readFileSync, readlinkSync, rmSync, statSync } from 'node:fs';
import { hostname } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { buildSync } from 'esbuild';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { rlimitResource } from '../../src/linux/rlimits';
import {
  CLOSE_RANGE_CLOEXEC,
  FD_CLOEXEC,
  F_GETFD,
  F_SETFD,
  LOCK_EX,
  LOCK_NB,
  LOCK_SH,
  LOCK_UN,
  MNT_DETACH,
  MS_NODEV,
  MS_NOSUID,
  PR_CAPBSET_READ,
  PR_GET_DUMPABLE,
  S_IFCHR,
  S_IFIFO,
} from '../../src/sys/constants';
import { sys } from '../../src/sys/index';
import { SysError } from '../../src/sys/types';
import { TOP, isRoot, tempDir } from '../lib/cli';

const test = suite('sys (ffi-rs)');
/** Tests that need root are registered as skipped otherwise. */
const asRoot = isRoot ? test : test.skip;

const CAP_SYS_ADMIN = 21;
const CAP_MKNOD = 27;
const EBADF = 9;
const EINVAL = 22;
const ENOENT = 2;
const EWOULDBLOCK = 11;

function sysError(fn: () => unknown): SysError {
  try {
    fn();
  } catch (err) {
    if (err instanceof SysError) return err;
    throw err;
  }
  throw new Error('expected a SysError, but the call succeeded');
}

/** Status line of /proc/self/status, e.g. "CapEff" -> "000001fffeffffff". */
function procStatus(field: string, status = readFileSync('/proc/self/status', 'utf8')): string {
  const line = status.split('\n').find((l) => l.startsWith(`${field}:`));
  if (!line) throw new Error(`no ${field} in /proc/self/status`);
  return line.slice(field.length + 1).trim();
}

// The child scripts are written beside this test's bundle, so that the
// node_modules that served the bundle (ffi-rs) serves them too.
const bundleDir = dirname(fileURLToPath(import.meta.url));

/** Bundles `source` (TypeScript, importing ../../src/...) and runs it in a fresh node. */
function runChild(name: string, source: string): { status: number | null; stdout: string; stderr: string } {
  const outfile = join(bundleDir, `sys-child-${name}.mjs`);
  buildSync({
    stdin: { contents: source, resolveDir: join(TOP, 'test', 'integration'), sourcefile: `${name}.ts`, loader: 'ts' },
    bundle: true,
    platform: 'node',
    format: 'esm',
    packages: 'external',
    outfile,
    logLevel: 'warning',
  });
  try {
    const r = spawnSync(process.execPath, [outfile], { encoding: 'utf8', timeout: 30_000 });
    if (r.error) throw r.error;
    return { status: r.status, stdout: r.stdout, stderr: r.stderr };
  } finally {
    rmSync(outfile, { force: true });
  }
}

/** runChild for a script that prints one JSON value; fails the test on a non-zero exit. */
function childJson(name: string, source: string): unknown {
  const r = runChild(name, source);
  assert.is(r.status, 0, `child ${name} failed: ${r.stderr}`);
  return JSON.parse(r.stdout);
}

// --- calls that change nothing outside this process, or only a temp dir ---

test('getpid is this process', () => {
  assert.is(sys().getpid(), process.pid);
});

test('umask returns the previous mask', () => {
  const previous = sys().umask(0o027);
  try {
    assert.is(sys().umask(0o027), 0o027);
  } finally {
    sys().umask(previous);
  }
  assert.is(process.umask(), previous);
});

test('fcntl: FD_CLOEXEC round-trips through F_SETFD/F_GETFD', () => {
  const fd = openSync('/dev/null', 'r');
  try {
    sys().fcntl(fd, F_SETFD, 0);
    assert.is(sys().fcntl(fd, F_GETFD, 0) & FD_CLOEXEC, 0);
    sys().fcntl(fd, F_SETFD, FD_CLOEXEC);
    assert.is(sys().fcntl(fd, F_GETFD, 0) & FD_CLOEXEC, FD_CLOEXEC);
  } finally {
    closeSync(fd);
  }
  assert.is(sysError(() => sys().fcntl(fd, F_GETFD, 0)).errno, EBADF);
});

test('closeRange: CLOEXEC marks the range; no flags closes it', () => {
  const a = openSync('/dev/null', 'r');
  const b = openSync('/dev/null', 'r');
  sys().fcntl(a, F_SETFD, 0);
  sys().fcntl(b, F_SETFD, 0);
  sys().closeRange(b, b, CLOSE_RANGE_CLOEXEC);
  assert.is(sys().fcntl(a, F_GETFD, 0), 0, 'outside the range: untouched');
  assert.is(sys().fcntl(b, F_GETFD, 0), FD_CLOEXEC);
  sys().closeRange(a, a, 0);
  assert.throws(() => fstatSync(a), /EBADF/);
  closeSync(b);
});

test("dup2 makes newfd refer to oldfd's file", () => {
  const dir = tempDir();
  const a = openSync(join(dir, 'a'), 'w');
  const b = openSync(join(dir, 'b'), 'w');
  try {
    sys().dup2(a, b);
    assert.is(fstatSync(b).ino, fstatSync(a).ino);
  } finally {
    closeSync(a);
    closeSync(b);
  }
});

test('symlink', () => {
  const link = join(tempDir(), 'link');
  sys().symlink('/some/target', link);
  assert.is(readlinkSync(link), '/some/target');
  assert.is(sysError(() => sys().symlink('/x', link)).call, 'symlink');
});

test('flock: a second open file description cannot take the lock', () => {
  const file = join(tempDir(), 'lock');
  const first = openSync(file, 'w');
  const second = openSync(file, 'r');
  try {
    sys().flock(first, LOCK_EX | LOCK_NB);
    const err = sysError(() => sys().flock(second, LOCK_SH | LOCK_NB));
    assert.is(err.errno, EWOULDBLOCK);
    assert.is(err.message, `flock fd ${second}: Resource temporarily unavailable`);
    if (existsSync('/usr/bin/flock')) {
      assert.is(spawnSync('/usr/bin/flock', ['-n', file, 'true']).status, 1, 'util-linux flock sees the lock');
    }
    sys().flock(first, LOCK_UN);
    sys().flock(second, LOCK_SH | LOCK_NB);
  } finally {
    closeSync(first);
    closeSync(second);
  }
});

test("capget returns this process's sets, as /proc/self/status shows them", () => {
  const caps = sys().capget();
  const status = readFileSync('/proc/self/status', 'utf8');
  assert.is(caps.effective, BigInt(`0x${procStatus('CapEff', status)}`));
  assert.is(caps.permitted, BigInt(`0x${procStatus('CapPrm', status)}`));
  assert.is(caps.inheritable, BigInt(`0x${procStatus('CapInh', status)}`));
});

test('prctl returns its value; a bad option is EINVAL', () => {
  const bounding = BigInt(`0x${procStatus('CapBnd')}`);
  assert.is(sys().prctl(PR_CAPBSET_READ, CAP_SYS_ADMIN), Number((bounding >> BigInt(CAP_SYS_ADMIN)) & 1n));
  assert.is(sys().prctl(PR_GET_DUMPABLE), 1);
  assert.is(sysError(() => sys().prctl(PR_CAPBSET_READ, 1000)).errno, EINVAL);
});

test('setrlimit: RLIMIT_NOFILE shows in /proc/self/limits', () => {
  const limits = (): [soft: string, hard: string] => {
    const line = readFileSync('/proc/self/limits', 'utf8')
      .split('\n')
      .find((l) => l.startsWith('Max open files'));
    const [, soft = '', hard = ''] = line!.split(/\s{2,}/);
    return [soft, hard];
  };
  const [soft, hard] = limits();
  try {
    sys().setrlimit(rlimitResource('RLIMIT_NOFILE'), 512n, BigInt(hard));
    assert.equal(limits(), ['512', hard]);
  } finally {
    sys().setrlimit(rlimitResource('RLIMIT_NOFILE'), BigInt(soft), BigInt(hard));
  }
  assert.equal(limits(), [soft, hard]);
});

test("SysError: the call, its argument and strerror's text", () => {
  const err = sysError(() => sys().mount('tmpfs', '/nonexistent/runts-sys-test', 'tmpfs', 0, null));
  assert.is(err.call, 'mount');
  assert.is(err.errno, ENOENT);
  assert.match(err.message, /No such file or directory$/);
  assert.ok(err.message.includes('/nonexistent/runts-sys-test'));
});

test('a string with a NUL byte is refused, not cut short', () => {
  const cwd = process.cwd();
  const err = sysError(() => sys().chdir('/tmp\0/etc'));
  assert.is(err.errno, EINVAL);
  assert.is(process.cwd(), cwd);
});

test('execve that fails returns as SysError (and this process goes on)', () => {
  const err = sysError(() => sys().execve('/nonexistent/runts-binary', ['x'], ['A=b']));
  assert.is(err.call, 'execve');
  assert.is(err.errno, ENOENT);
});

test('pidfdOpen + pidfdSendSignal(SIGTERM) kill exactly that process', async () => {
  const child = spawn('sleep', ['100'], { stdio: 'ignore' });
  const exited = new Promise<NodeJS.Signals | null>((resolve) => child.on('exit', (_code, signal) => resolve(signal)));
  const pidfd = sys().pidfdOpen(child.pid!);
  try {
    sys().pidfdSendSignal(pidfd, 15);
    assert.is(await exited, 'SIGTERM');
  } finally {
    closeSync(pidfd);
  }
  assert.is(sysError(() => sys().pidfdOpen(0x3fffffff)).call, 'pidfd_open');
});

// --- calls that need root: in temp dirs, or in child processes ---

asRoot('mount a tmpfs (with data), see it in /proc/self/mountinfo, umount2 it', () => {
  const dir = tempDir();
  sys().mount('runts-sys-test', dir, 'tmpfs', MS_NOSUID | MS_NODEV, 'size=1m,mode=0750');
  const line = (): string | undefined =>
    readFileSync('/proc/self/mountinfo', 'utf8')
      .split('\n')
      .find((l) => l.split(' ')[4] === dir);
  try {
    const mounted = line();
    assert.ok(mounted, 'in mountinfo');
    assert.match(mounted, / - tmpfs runts-sys-test rw,size=1024k,mode=750/);
    assert.match(mounted.split(' ')[5] ?? '', /nosuid,nodev/);
  } finally {
    sys().umount2(dir, MNT_DETACH);
  }
  assert.is(line(), undefined);
});

asRoot('mknod: a char device 1:3 and a fifo', () => {
  const dir = tempDir();
  sys().mknod(join(dir, 'null'), S_IFCHR | 0o666, 1, 3);
  const st = statSync(join(dir, 'null'));
  assert.ok(st.isCharacterDevice());
  assert.is(st.rdev, (1 << 8) | 3);
  sys().mknod(join(dir, 'fifo'), S_IFIFO | 0o600, 0, 0);
  assert.ok(statSync(join(dir, 'fifo')).isFIFO());
  assert.is(sysError(() => sys().mknod(join(dir, 'null'), S_IFCHR | 0o666, 1, 3)).call, 'mknod');
});

asRoot('unshare(CLONE_NEWUTS) + sethostname/setdomainname; setns back (child)', () => {
  const out = childJson(
    'uts',
    `
    import { openSync, readFileSync } from 'node:fs';
    import { hostname } from 'node:os';
    import { sys } from '../../src/sys/index';
    import { CLONE_NEWUTS } from '../../src/sys/constants';
    const original = openSync('/proc/self/ns/uts', 'r');
    const before = hostname();
    sys().unshare(CLONE_NEWUTS);
    sys().sethostname('runts-sys-test');
    sys().setdomainname('runts.test');
    const inside = { host: hostname(), domain: readFileSync('/proc/sys/kernel/domainname', 'utf8').trim() };
    sys().setns(original, CLONE_NEWUTS);
    console.log(JSON.stringify({ before, inside, after: hostname() }));
  `,
  ) as { before: string; inside: { host: string; domain: string }; after: string };
  assert.equal(out.inside, { host: 'runts-sys-test', domain: 'runts.test' });
  assert.is(out.after, out.before);
  assert.is(hostname(), out.before, "this process's hostname is untouched");
});

asRoot('pivotRoot into a tmpfs in a new mount namespace; chroot (child)', () => {
  const dir = tempDir();
  const out = childJson(
    'pivot',
    `
    import { mkdirSync, readdirSync, writeFileSync } from 'node:fs';
    import { sys } from '../../src/sys/index';
    import { CLONE_NEWNS, MNT_DETACH, MS_PRIVATE, MS_REC } from '../../src/sys/constants';
    const dir = ${JSON.stringify(dir)};
    sys().unshare(CLONE_NEWNS);
    sys().mount(null, '/', null, MS_REC | MS_PRIVATE, null);
    sys().mount('tmpfs', dir, 'tmpfs', 0, null);
    mkdirSync(dir + '/old');
    mkdirSync(dir + '/sub');
    writeFileSync(dir + '/sub/marker', '');
    sys().pivotRoot(dir, dir + '/old');
    sys().chdir('/');
    sys().umount2('/old', MNT_DETACH);
    const afterPivot = readdirSync('/').sort();
    sys().chroot('/sub');
    sys().chdir('/');
    console.log(JSON.stringify({ afterPivot, afterChroot: readdirSync('/') }));
  `,
  );
  assert.equal(out, { afterPivot: ['old', 'sub'], afterChroot: ['marker'] });
  assert.equal(
    readFileSync('/proc/self/mountinfo', 'utf8').includes(` ${dir} `),
    false,
    "the tmpfs stayed in the child's namespace",
  );
});

asRoot(
  'capset, PR_CAPBSET_DROP, setgroups/setresgid/setresuid (the calling thread only, every thread read), setrlimit(RLIM_INFINITY) (child)',
  () => {
    const out = childJson(
      'creds',
      `
    import { readFileSync, readdirSync } from 'node:fs';
    import { sys } from '../../src/sys/index';
    import { PR_CAPBSET_DROP, PR_CAPBSET_READ, RLIM_INFINITY } from '../../src/sys/constants';
    const field = (name: string, status = '/proc/self/status') => readFileSync(status, 'utf8').split('\\n').find((l) => l.startsWith(name + ':'))!.split(':')[1].trim();
    sys().prctl(PR_CAPBSET_DROP, ${CAP_MKNOD});
    const mknodInBounding = sys().prctl(PR_CAPBSET_READ, ${CAP_MKNOD});
    const caps = sys().capget();
    const without = caps.effective & ~(1n << ${CAP_SYS_ADMIN}n);
    sys().capset({ ...caps, effective: without });
    const capEff = field('CapEff');
    sys().setrlimit(${rlimitResource('RLIMIT_CORE')}, RLIM_INFINITY, RLIM_INFINITY);
    const core = readFileSync('/proc/self/limits', 'utf8').split('\\n').find((l) => l.startsWith('Max core file size'))!;
    sys().setgroups([10, 20]);
    sys().setresgid(1000, 1001, 1002);
    sys().setresuid(2000, 2001, 2002);
    const threads = readdirSync('/proc/self/task').map((tid) => {
      const status = '/proc/self/task/' + tid + '/status';
      return { main: tid === String(process.pid), groups: field('Groups', status), uid: field('Uid', status), gid: field('Gid', status) };
    });
    console.log(JSON.stringify({
      mknodInBounding, capBnd: field('CapBnd'), capEff, expectedEff: without.toString(16).padStart(16, '0'),
      core: core.split(/\\s{2,}/).slice(1, 3), threads,
    }));
  `,
    ) as Record<string, unknown>;
    assert.is(out.mknodInBounding, 0);
    assert.is((BigInt(`0x${out.capBnd}`) >> BigInt(CAP_MKNOD)) & 1n, 0n);
    assert.is(out.capEff, out.expectedEff);
    assert.equal(out.core, ['unlimited', 'unlimited']);
    // The raw per-thread calls (not glibc's process-wide setxid broadcast):
    // only the calling (main) thread changed, which spawns and execs; every
    // other thread of node, read one by one, kept root's.
    const threads = out.threads as { main: boolean; groups: string; uid: string; gid: string }[];
    assert.ok(threads.length > 1, `node had ${threads.length} thread(s): the check needs several`);
    for (const t of threads) {
      const expected = t.main
        ? { groups: '10 20', uid: '2000\t2001\t2002\t2001', gid: '1000\t1001\t1002\t1001' }
        : { groups: '', uid: '0\t0\t0\t0', gid: '0\t0\t0\t0' };
      assert.equal(t, { main: t.main, ...expected });
    }
    assert.is(threads.filter((t) => t.main).length, 1, 'the main thread is among /proc/self/task');
  },
);

asRoot('execve from the main thread replaces node (child prints "hi")', () => {
  const r = runChild(
    'execve',
    `
    import { sys } from '../../src/sys/index';
    import { F_SETFD } from '../../src/sys/constants';
    // Node sets FD_CLOEXEC on fds 1 and 2 (docs/architecture.md, "Verified platform facts", 4).
    for (const fd of [0, 1, 2]) sys().fcntl(fd, F_SETFD, 0);
    sys().execve('/bin/echo', ['echo', 'hi'], []);
  `,
  );
  assert.is(r.stderr, '');
  assert.is(r.stdout, 'hi\n');
  assert.is(r.status, 0);
});

test.run();
