// `runts run` of real busybox containers: what the process sees inside.
import { execFileSync } from 'node:child_process';
import { chownSync, copyFileSync, existsSync, mkdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import type { Spec } from '../../src/spec/types';
import { TOP, isRoot, tempDir } from '../lib/cli';
import { bundle, busyboxRootfs, ownRootfs, runBundle, runtime, shArgs, statusCapabilities } from '../lib/container';

const test = suite('run');
const asRoot = isRoot ? test : test.skip;

asRoot('pid 1, the configured hostname, capabilities as configured', () => {
  const caps = ['CAP_CHOWN', 'CAP_KILL', 'CAP_NET_BIND_SERVICE', 'CAP_SYS_CHROOT'];
  const b = bundle((s) => {
    s.hostname = 'box-under-test';
    s.process!.capabilities = { bounding: caps, effective: caps, permitted: caps };
    shArgs('echo "pid=$$"; hostname; grep -E "^Cap(Bnd|Eff|Prm)" /proc/self/status')(s);
  });
  const r = runBundle(b);
  assert.is(r.code, 0, r.stderr);
  const lines = r.stdout.trim().split('\n');
  assert.is(lines[0], 'pid=1');
  assert.is(lines[1], 'box-under-test');
  const want = statusCapabilities(caps);
  assert.ok(lines.includes(`CapBnd:\t${want}`), r.stdout);
  assert.ok(lines.includes(`CapEff:\t${want}`), r.stdout);
  assert.ok(lines.includes(`CapPrm:\t${want}`), r.stdout);
});

asRoot('mountinfo holds the configured mounts and nothing of the host beyond them', () => {
  const hostDir = tempDir();
  writeFileSync(join(hostDir, 'hello'), 'from the host\n');
  const b = bundle((s) => {
    s.mounts!.push({ destination: '/data', type: 'bind', source: hostDir, options: ['rbind', 'ro'] });
    s.mounts!.push({ destination: '/scratch', type: 'tmpfs', source: 'tmpfs', options: ['nosuid', 'size=1m'] });
    shArgs('cat /data/hello; cat /proc/self/mountinfo')(s);
  });
  const r = runBundle(b);
  assert.is(r.code, 0, r.stderr);
  const [hello, ...mountinfo] = r.stdout.trim().split('\n');
  assert.is(hello, 'from the host');
  const points = mountinfo.map((l) => l.split(' ')[4] ?? '');
  const configured = ['/', '/proc', '/dev', '/dev/pts', '/dev/shm', '/dev/mqueue', '/sys', '/sys/fs/cgroup', '/data', '/scratch'];
  for (const p of configured) assert.ok(points.includes(p), `${p} is not mounted: ${points.join(' ')}`);
  // Beyond them: the cgroup hierarchies under /sys/fs/cgroup and the
  // masked/read-only paths of the config, nothing else.
  const spec = JSON.parse(readFileSync(join(b, 'config.json'), 'utf8')) as Spec;
  const allowed = new Set([...configured, ...spec.linux!.maskedPaths!, ...spec.linux!.readonlyPaths!]);
  const extra = points.filter((p) => !allowed.has(p) && !p.startsWith('/sys/fs/cgroup/'));
  assert.equal(extra, []);
  const options = (point: string) => mountinfo.find((l) => l.split(' ')[4] === point)?.split(' ')[5] ?? '';
  assert.match(options('/data'), /^ro\b/);
  assert.match(options('/'), /^ro\b/, 'root.readonly not applied');
});

asRoot('recursive options (rro, rnosuid, rnoatime) reach the submounts of an rbind; plain ro does not', () => {
  const hostDir = tempDir();
  mkdirSync(join(hostDir, 'sub'));
  execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=1m', 'tmpfs', join(hostDir, 'sub')]);
  try {
    const b = bundle((s) => {
      s.mounts!.push({ destination: '/rec', type: 'bind', source: hostDir, options: ['rbind', 'rro', 'rnosuid', 'rnoatime'] });
      s.mounts!.push({ destination: '/plain', type: 'bind', source: hostDir, options: ['rbind', 'ro'] });
      shArgs(
        'for d in /rec /rec/sub /plain/sub; do touch $d/f 2>/dev/null && echo "$d writable" || echo "$d read-only"; done; cat /proc/self/mountinfo',
      )(s);
    });
    const r = runBundle(b);
    assert.is(r.code, 0, r.stderr);
    const lines = r.stdout.trim().split('\n');
    assert.equal(lines.slice(0, 3), ['/rec read-only', '/rec/sub read-only', '/plain/sub writable']);
    const options = (point: string) =>
      lines
        .find((l) => l.split(' ')[4] === point)
        ?.split(' ')[5]
        ?.split(',') ?? [];
    for (const point of ['/rec', '/rec/sub']) {
      for (const want of ['ro', 'nosuid', 'noatime'])
        assert.ok(options(point).includes(want), `${point}: ${options(point).join(',')} lacks ${want}`);
    }
  } finally {
    execFileSync('umount', [join(hostDir, 'sub')]);
  }
});

asRoot(
  'tmpcopyup: the tmpfs starts with what it covers (modes, owners, symlinks), writes stay on it; ro comes after the copy',
  () => {
    const rootfs = ownRootfs();
    mkdirSync(join(rootfs, 'etc', 'conf.d'), { mode: 0o750 });
    writeFileSync(join(rootfs, 'etc', 'conf.d', 'a.conf'), 'a=1\n', { mode: 0o640 });
    chownSync(join(rootfs, 'etc', 'conf.d', 'a.conf'), 65534, 65534);
    symlinkSync('/etc/passwd', join(rootfs, 'etc', 'passwd-link'));
    mkdirSync(join(rootfs, 'seed'));
    writeFileSync(join(rootfs, 'seed', 'file'), 'seeded\n');
    const b = bundle(
      (s) => {
        s.mounts!.push({ destination: '/etc', type: 'tmpfs', source: 'tmpfs', options: ['nosuid', 'tmpcopyup'] });
        s.mounts!.push({ destination: '/seed', type: 'tmpfs', source: 'tmpfs', options: ['ro', 'tmpcopyup'] });
        shArgs(
          'head -c 5 /etc/passwd; echo; stat -c "%a %u:%g" /etc/conf.d /etc/conf.d/a.conf; readlink /etc/passwd-link; ' +
            'echo new > /etc/added && cat /etc/added; cat /seed/file; touch /seed/x 2>/dev/null || echo seed read-only; ' +
            'grep -E " /(etc|seed) " /proc/self/mountinfo | cut -d" " -f5,6,9',
        )(s);
      },
      { rootfs },
    );
    const r = runBundle(b);
    assert.is(r.code, 0, r.stderr);
    assert.equal(r.stdout.trim().split('\n'), [
      'root:',
      '750 0:0',
      '640 65534:65534',
      '/etc/passwd',
      'new',
      'seeded',
      'seed read-only',
      '/etc rw,nosuid,relatime tmpfs',
      '/seed ro,relatime tmpfs',
    ]);
    assert.not.ok(existsSync(join(rootfs, 'etc', 'added')), 'a write to the tmpfs reached the rootfs');
  },
);

asRoot('exit codes: exit 3 is 3; a process killed by SIGKILL is 137', () => {
  assert.is(runBundle(bundle(shArgs('exit 3'))).code, 3);
  // pid 1 cannot SIGKILL itself; a child of it can be killed, so run without a pid namespace.
  const noPidNs = bundle((s) => {
    s.linux!.namespaces = s.linux!.namespaces!.filter((n) => n.type !== 'pid');
    shArgs('kill -KILL $$')(s);
  });
  assert.is(runBundle(noPidNs).code, 137);
});

asRoot('env, cwd, user, umask and rlimits reach the process', () => {
  const b = bundle(
    (s) => {
      const p = s.process!;
      p.env = ['PATH=/bin', 'GREETING=hello world'];
      p.cwd = '/tmp/work';
      p.user = { uid: 65534, gid: 65534, additionalGids: [5, 1000], umask: 0o027 };
      p.rlimits = [{ type: 'RLIMIT_NOFILE', soft: 321, hard: 654 }];
      shArgs('echo "$GREETING"; pwd; id -u; id -g; id -G; umask; ulimit -n; ulimit -Hn; echo "HOME=$HOME"')(s);
    },
    { rootfs: busyboxRootfs() },
  );
  // The cwd is made when missing: the shared rootfs is read-only, so give this one its own /tmp.
  const spec = JSON.parse(readFileSync(join(b, 'config.json'), 'utf8')) as Spec;
  spec.mounts!.push({ destination: '/tmp', type: 'tmpfs', source: 'tmpfs', options: ['mode=1777'] });
  spec.process!.cwd = '/tmp';
  writeFileSync(join(b, 'config.json'), JSON.stringify(spec));
  const r = runBundle(b);
  assert.is(r.code, 0, r.stderr);
  assert.equal(r.stdout.trim().split('\n'), [
    'hello world',
    '/tmp',
    '65534',
    '65534',
    '65534 5 1000',
    '0027',
    '321',
    '654',
    'HOME=/',
  ]);
});

asRoot("args[0] is found through the container's PATH, not the host's", () => {
  const b = bundle((s) => {
    s.process!.env = ['PATH=/bin'];
    s.process!.args = ['busybox', 'echo', 'found'];
  });
  const r = runBundle(b);
  assert.is(r.code, 0, r.stderr);
  assert.is(r.stdout, 'found\n');
});

asRoot('the config from `runts spec` runs unchanged but for terminal=false', () => {
  const dir = tempDir();
  assert.is(runtime(['spec', '--bundle', dir], { root: tempDir() }).code, 0);
  const spec = JSON.parse(readFileSync(join(dir, 'config.json'), 'utf8')) as Spec;
  spec.process!.terminal = false;
  writeFileSync(join(dir, 'config.json'), JSON.stringify(spec, null, 2));
  // root.path "rootfs", relative to the bundle, as runts spec wrote it.
  execFileSync('cp', ['-a', busyboxRootfs(), join(dir, 'rootfs')]);
  // The default args are an interactive `sh`: with stdin at EOF it exits 0.
  const r = runtime(['run', '--bundle', dir, 'spec-default'], { root: tempDir(), input: 'echo "$(hostname) ran"\n' });
  assert.is(r.code, 0, r.stderr);
  assert.is(r.stdout, 'runts ran\n');
});

/** Docker's config with its host-specific paths pointed into a fresh bundle. */
function dockerBundle(fixture: string, script: string): string {
  const dir = tempDir('runts-docker-');
  let text = readFileSync(join(TOP, 'test', 'fixtures', fixture), 'utf8').replaceAll('@BUNDLE@', dir);
  const spec = JSON.parse(text) as Spec;
  spec.root!.path = busyboxRootfs();
  spec.process!.args = ['sh', '-c', script];
  text = JSON.stringify(spec, null, 2);
  writeFileSync(join(dir, 'config.json'), text);
  for (const f of ['hostname', 'hosts', 'resolv.conf']) writeFileSync(join(dir, f), `${f} from docker\n`);
  mkdirSync(join(dir, 'data'));
  return dir;
}

asRoot('a config that Docker generated runs unchanged (but for its host paths)', () => {
  const b = dockerBundle(
    'docker-config.json',
    'hostname; cat /etc/hostname; echo "$HOSTNAME"; grep -E "^CapEff" /proc/self/status',
  );
  const r = runBundle(b);
  assert.is(r.code, 0, r.stderr);
  const spec = JSON.parse(readFileSync(join(b, 'config.json'), 'utf8')) as Spec;
  const lines = r.stdout.trim().split('\n');
  assert.is(lines[0], spec.hostname);
  assert.is(lines[1], 'hostname from docker');
  assert.is(lines[3], `CapEff:\t${statusCapabilities(spec.process!.capabilities!.effective!)}`);
});

asRoot("Docker's config with options (read-only root, cap-drop, tmpfs, volume, cwd, env) runs", () => {
  const b = dockerBundle(
    'docker-config-options.json',
    'echo "$FOO"; pwd; hostname; touch /data/from-container && echo wrote; touch /x 2>/dev/null || echo "root is read-only"; mount | grep -c " /run "',
  );
  const r = runBundle(b);
  assert.is(r.code, 0, r.stderr);
  assert.equal(r.stdout.trim().split('\n'), ['bar', '/tmp', 'fixturehost', 'wrote', 'root is read-only', '1']);
  copyFileSync(join(b, 'data', 'from-container'), join(tempDir(), 'seen-on-host'));
});

test.run();
