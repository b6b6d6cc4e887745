// Escapes through the container's paths while runts builds its filesystem:
// a mount destination swapped for a symlink mid-way, a /dev/null or a
// /dev/console that is not what runts binds, and the host's mounts left
// behind by --no-pivot. Each test attacks runts as the exploit does.
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { lstatSync, mkdirSync, readFileSync, readdirSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import type { Spec } from '../../src/spec/types';
import { TOP, isRoot, tempDir } from '../lib/cli';
import { bundle, runtime, shArgs, stateOf, uniqueId } from '../lib/container';

const test = suite('escape: mounts');
const asRoot = isRoot ? test : test.skip;

/** The container's /dev bound from a directory of the test's (an image's /dev, or a shared volume). */
function devFrom(dir: string) {
  return (s: Spec) => {
    s.mounts = s.mounts!.map((m) =>
      m.destination === '/dev' ? { destination: '/dev', type: 'bind', source: dir, options: ['rbind'] } : m,
    );
  };
}

/** A /dev with a real null device (masking binds it) and a pts directory. */
function devDir(): string {
  const dir = tempDir('runts-dev-');
  mkdirSync(join(dir, 'pts'));
  const r = spawnSync('mknod', ['-m', '666', join(dir, 'null'), 'c', '1', '3'], { encoding: 'utf8' });
  assert.is(r.status, 0, r.stderr);
  return dir;
}

/**
 * Mount destinations and a device under /dev/race, which a racing process
 * (a host process sharing the directory, as with a volume) swaps between a
 * directory and a symlink to a host directory outside the rootfs. A
 * createContainer hook (in the container's mount namespace, before
 * pivot_root) counts the mounts that landed outside; mkdir and mknod leave
 * their traces on the host.
 */
asRoot(
  'mount destinations: a component swapped for a symlink during create never takes a mount, a mkdir or a device outside the rootfs',
  async () => {
    const ATTEMPTS = 12;
    const MOUNTS = 16;
    const source = tempDir('runts-source-');
    writeFileSync(join(source, 'marker'), 'bound\n');
    const report = join(tempDir(), 'landed');
    writeFileSync(report, '');
    const root = tempDir('runts-root-');
    let created = 0;
    const traces: string[] = [];
    const errors: string[] = [];
    for (let i = 0; i < ATTEMPTS; i++) {
      const dev = devDir();
      mkdirSync(join(dev, 'race'));
      const outside = tempDir('runts-outside-');
      const b = bundle((s) => {
        devFrom(dev)(s);
        for (let m = 0; m < MOUNTS; m++)
          s.mounts!.push({ destination: `/dev/race/t${m}`, type: 'bind', source, options: ['bind', 'ro'] });
        s.linux!.devices = [{ path: '/dev/race/null', type: 'c', major: 1, minor: 3 }];
        s.hooks = {
          createContainer: [
            { path: '/bin/sh', args: ['sh', '-c', `grep -c " ${outside}/" /proc/self/mountinfo >> ${report}; true`] },
          ],
        };
      });
      const flipper = spawn('python3', [join(TOP, 'test', 'lib', 'flip-path.py'), join(dev, 'race'), outside], {
        stdio: ['ignore', 'ignore', 'pipe'],
      });
      await new Promise<void>((resolve) => flipper.stderr.on('data', (d) => String(d).includes('flipping') && resolve()));
      const id = uniqueId('race');
      try {
        const r = runtime(['create', '--bundle', b, id], { root });
        if (r.code === 0) created++;
        else
          errors.push(
            r.stderr
              .trim()
              .split('\n')
              .pop()!
              .replace(/^.*msg="/, '')
              .replace(/"$/, ''),
          );
      } finally {
        flipper.kill('SIGKILL');
        runtime(['delete', '--force', id], { root });
      }
      traces.push(...readdirSync(outside));
    }
    const landed = readFileSync(report, 'utf8')
      .split('\n')
      .filter(Boolean)
      .map(Number)
      .reduce((a, n) => a + n, 0);
    console.log(
      `\nrace: ${ATTEMPTS} creates x ${MOUNTS} mounts: ${created} created, ${landed} mounts landed outside, traces outside: [${traces.join(' ')}]; errors: ${[...new Set(errors)].join(' | ')}`,
    );
    assert.is(landed, 0, 'mounts landed outside the rootfs');
    assert.equal(traces, [], 'runts created files outside the rootfs');
  },
);

asRoot(
  'maskedPaths: a /dev/null that is a symlink or a regular file is refused at create, never bound over a masked path (CVE-2025-31133)',
  () => {
    for (const plant of [
      (dev: string) => symlinkSync('/etc/passwd', join(dev, 'null')),
      (dev: string) => writeFileSync(join(dev, 'null'), 'not-the-null-device\n'),
    ]) {
      const dev = devDir();
      rmSync(join(dev, 'null'));
      plant(dev);
      const root = tempDir('runts-root-');
      const r = runtime(
        [
          'run',
          '--bundle',
          bundle((s) => {
            devFrom(dev)(s);
            shArgs('cat /proc/timer_list; echo end')(s);
          }),
          uniqueId(),
        ],
        { root },
      );
      assert.not.match(r.stdout, /root:x:0|not-the-null-device/, 'a masked path shows what /dev/null pointed to');
      assert.is(r.code, 1, `create was not refused: ${r.stdout}${r.stderr}`);
      assert.match(r.stderr, /\/dev\/null .*not the null device/);
    }
  },
);

asRoot('maskedPaths: a real null device in a bound /dev still masks (reads empty)', () => {
  const dev = devDir();
  const r = runtime(
    [
      'run',
      '--bundle',
      bundle((s) => {
        devFrom(dev)(s);
        shArgs('wc -c < /proc/timer_list; wc -c < /proc/keys; ls -A /sys/firmware | wc -l')(s);
      }),
      uniqueId(),
    ],
    { root: tempDir('runts-root-') },
  );
  assert.is(r.code, 0, r.stderr);
  assert.equal(r.stdout.trim().split('\n'), ['0', '0', '0']);
});

/** A console-socket peer (test/lib/console-receiver.py) that types `input`; its screen when it ends. */
function consolePeer(input: string): { path: string; peer: ChildProcess; screen: Promise<string>; listening: Promise<void> } {
  const path = join(tempDir(), 'console.sock');
  const peer = spawn('python3', [join(TOP, 'test', 'lib', 'console-receiver.py'), path, input], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  peer.stdout.on('data', (d) => (out += d));
  const screen = new Promise<string>((resolve) => peer.on('close', () => resolve(out)));
  const listening = new Promise<void>((resolve) => peer.stderr.on('data', (d) => String(d).includes('listening') && resolve()));
  return { path, peer, screen, listening };
}

/** A container with a terminal whose /dev is bound from dev, created against a console peer typing input. */
async function createWithConsole(dev: string, input: string) {
  const { path, peer, screen, listening } = consolePeer(input);
  await listening;
  const root = tempDir('runts-root-');
  const id = uniqueId();
  const b = bundle((s) => {
    devFrom(dev)(s);
    s.process!.terminal = true;
    s.process!.args = ['sh'];
  });
  const created = runtime(['create', '--console-socket', path, '--bundle', b, id], { root });
  return { root, id, peer, screen, created };
}

asRoot(
  'terminal: a /dev/console that is a symlink is refused, the pty is never bound on its target (CVE-2025-52565)',
  async () => {
    const dev = devDir();
    symlinkSync('/etc/group', join(dev, 'console'));
    const { root, id, peer, screen, created } = await createWithConsole(dev, 'stat -c %F /etc/group; exit\\n');
    if (created.code === 0) runtime(['start', id], { root });
    else peer.kill();
    const text = await screen;
    assert.not.match(text, /character special file/, 'the pty was bound on /etc/group');
    assert.is(created.code, 1, `create was not refused: ${text}`);
    assert.match(created.stderr, /\/dev\/console .*symbolic link/);
    if (created.code === 0) runtime(['delete', '--force', id], { root });
  },
);

asRoot('terminal: a /dev/console that is a regular file gets the pty bound on it', async () => {
  const dev = devDir();
  writeFileSync(join(dev, 'console'), '');
  const { root, id, peer, screen, created } = await createWithConsole(dev, 'stat -c %F /dev/console; exit\\n');
  if (created.code !== 0) peer.kill();
  assert.is(created.code, 0, created.stderr);
  assert.is(runtime(['start', id], { root }).code, 0);
  assert.match((await screen).replace(/\r/g, ''), /\ncharacter special file\n/);
  assert.ok(lstatSync(join(dev, 'console')).isFile(), 'the host file itself changed');
  for (let i = 0; i < 200 && stateOf(root, id).status !== 'stopped'; i++)
    Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 10);
  assert.is(runtime(['delete', '--force', id], { root }).code, 0);
});

/** Mount points of this process's mount table (the one the container's was copied from). */
function hostMountPoints(): string[] {
  return readFileSync('/proc/self/mountinfo', 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((l) => (l.split(' ')[4] ?? '').replace(/\\([0-7]{3})/g, (_, o) => String.fromCharCode(parseInt(o, 8))));
}

/**
 * Joins the container's mount namespace as nsenter does (setns puts it at
 * the namespace's root) and prints which of `paths` are mount points there.
 */
const LAND_IN_NAMESPACE = `
import ctypes, json, os, sys
pid, paths = sys.argv[1], json.loads(sys.argv[2])
libc = ctypes.CDLL(None, use_errno=True)
if libc.setns(os.open(f"/proc/{pid}/ns/mnt", os.O_RDONLY), 0x20000) != 0:
    sys.exit("setns: " + os.strerror(ctypes.get_errno()))
def is_mount(p):
    try:
        a, b = os.lstat(p), os.lstat(p + "/..")
    except OSError:
        return False
    return a.st_dev != b.st_dev or a.st_ino == b.st_ino
print(json.dumps([p for p in paths if is_mount(p)]))
`;

/**
 * With --no-pivot the rootfs is moved over "/" and the old root stays
 * beneath it in the container's mount namespace. A container with
 * CAP_SYS_ADMIN unmounts its "/" (umount -l /): what lies beneath is then
 * the namespace's root, where setns (nsenter, an exec) lands.
 */
asRoot(
  "--no-pivot: beneath the container's root none of the host's mounts are left, and exec keeps to the container's root",
  () => {
    const root = tempDir('runts-root-');
    const id = uniqueId('nopivot');
    const b = bundle((s) => {
      shArgs('umount -l / && exec sleep 101')(s);
      for (const set of ['bounding', 'effective', 'permitted'] as const) s.process!.capabilities![set]!.push('CAP_SYS_ADMIN');
    });
    const rootfs = (JSON.parse(readFileSync(join(b, 'config.json'), 'utf8')) as Spec).root!.path;
    const started = runtime(['run', '--detach', '--no-pivot', '--bundle', b, id], { root });
    assert.is(started.code, 0, started.stderr);
    try {
      const pid = stateOf(root, id).pid;
      const unmounted = () => readFileSync(`/proc/${pid}/cmdline`, 'utf8') === 'sleep\x00101\x00';
      for (let i = 0; i < 500 && !unmounted(); i++) Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 10);
      assert.ok(unmounted(), 'the container did not unmount its root');
      // In the container's root, whose /proc went with its "/" (exec may fail for want of it), never in the host's.
      const exec = runtime(['exec', id, 'ls', '/'], { root });
      const hostOnly = readdirSync('/').filter((e) => !readdirSync(rootfs).includes(e));
      assert.equal(
        exec.stdout.split('\n').filter((e) => hostOnly.includes(e)),
        [],
        "exec landed in the host's root",
      );
      if (exec.code === 0) assert.equal(exec.stdout.trim().split('\n').sort(), readdirSync(rootfs).sort());
      // Not the mounts the rootfs sits on (they hold it), nor the rootfs and what is under it.
      const host = [...new Set(hostMountPoints())].filter(
        (p) => p !== '/' && !rootfs.startsWith(`${p}/`) && p !== rootfs && !p.startsWith(`${rootfs}/`),
      );
      assert.ok(host.includes('/proc'), 'no host mounts to look for');
      const r = spawnSync('python3', ['-c', LAND_IN_NAMESPACE, String(pid), JSON.stringify(host)], { encoding: 'utf8' });
      assert.is(r.status, 0, r.stderr);
      assert.equal(JSON.parse(r.stdout), [], "host mounts left in the container's mount namespace");
    } finally {
      runtime(['delete', '--force', id], { root });
    }
  },
);

asRoot('--no-pivot: the container still gets its mounts, masked paths and own /proc', () => {
  const r = runtime(
    [
      'run',
      '--no-pivot',
      '--bundle',
      bundle(shArgs('wc -c < /proc/timer_list; cat /proc/1/comm; grep -c " /sys/fs/cgroup " /proc/self/mountinfo')),
      uniqueId(),
    ],
    { root: tempDir('runts-root-') },
  );
  assert.is(r.code, 0, r.stderr);
  assert.equal(r.stdout.trim().split('\n'), ['0', 'sh', '1']);
});

test.run();
