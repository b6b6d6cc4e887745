// /proc and sysctls without root: the rules on mounts into /proc and on
// sysctl keys (each refusal by JSON pointer), the rootfs check of resolved
// destinations, and the procfs writer against the recording double.
import { closeSync, mkdirSync, openSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { cleanDestination, procMountRefusal } from '../../src/linux/proc-mounts';
import { reopenThroughProc, writeProcFile } from '../../src/linux/procfs';
import { prepareRootfs } from '../../src/linux/rootfs';
import { parseSysctlKey, sysctlNamespace } from '../../src/linux/sysctl';
import { runtimeProblems } from '../../src/spec/checks';
import { makePlan } from '../../src/spec/plan';
import type { Spec } from '../../src/spec/types';
import { O_CLOEXEC, O_PATH, O_RDONLY, PROC_SUPER_MAGIC } from '../../src/sys/constants';
import { RecordingSys } from '../../src/sys/recording';
import { baseSpec } from '../lib/bundle';
import { tempDir } from '../lib/cli';

const test = suite('procfs');
const TMPFS_MAGIC = 0x01021994;

const problemsOf = (edit: (s: Spec) => void) => {
  const spec = baseSpec();
  edit(spec);
  return runtimeProblems(spec);
};

// --- mounts on /proc ---

test('cleanDestination: absolute, without ".", "..", repeated or trailing "/"', () => {
  assert.is(cleanDestination('proc/sys'), '/proc/sys');
  assert.is(cleanDestination('/tmp/../proc//sys/'), '/proc/sys');
  assert.is(cleanDestination('//proc/.'), '/proc');
  assert.is(cleanDestination('/'), '/');
});

test('procMountRefusal: /proc only for procfs; inside /proc only the lxcfs files; elsewhere anything', () => {
  const tmpfs = { type: 'tmpfs', bind: false };
  const bind = { type: 'bind', bind: true };
  assert.is(procMountRefusal('/proc', { type: 'proc', bind: false }), undefined);
  assert.is(procMountRefusal('/proc', bind), undefined, 'a bind onto /proc: its source is checked when mounting');
  assert.match(procMountRefusal('/proc', tmpfs) ?? '', /must be a mount of type proc/);
  for (const allowed of [
    '/proc/cpuinfo',
    '/proc/meminfo',
    '/proc/uptime',
    '/proc/loadavg',
    '/proc/net/dev',
    '/proc/sys/kernel/ns_last_pid',
  ]) {
    assert.is(procMountRefusal(allowed, bind), undefined, allowed);
  }
  for (const refused of [
    '/proc/sys',
    '/proc/sys/kernel/core_pattern',
    '/proc/self/attr',
    '/proc/self/fd',
    '/proc/1/oom_score_adj',
    '/proc/cpuinfo/x',
  ]) {
    assert.match(procMountRefusal(refused, bind) ?? '', /inside \/proc/, refused);
  }
  assert.is(procMountRefusal('/process', tmpfs), undefined);
  assert.is(procMountRefusal('/srv/proc/sys', tmpfs), undefined);
});

test('checks: a mount inside /proc is refused at /mounts/<i>/destination, whatever the spelling', () => {
  for (const destination of ['/proc/sys', 'proc/sys', '/proc//sys/', '/dev/../proc/sys']) {
    const problems = problemsOf((s) => s.mounts!.push({ destination, type: 'tmpfs', source: 'tmpfs' }));
    const i = baseSpec().mounts!.length;
    assert.ok(
      problems.some((p) => p.pointer === `/mounts/${i}/destination` && /inside \/proc/.test(p.message)),
      `${destination}: ${JSON.stringify(problems)}`,
    );
  }
  const onProc = problemsOf((s) => (s.mounts![0] = { destination: '/proc', type: 'tmpfs', source: 'tmpfs' }));
  assert.equal(onProc.filter((p) => p.pointer === '/mounts/0/destination').length, 1);
  assert.equal(
    problemsOf((s) => s.mounts!.push({ destination: '/proc/uptime', type: 'none', source: '/x', options: ['bind'] })),
    [],
  );
});

function planWith(rootfs: string, mounts: Spec['mounts']) {
  const spec = baseSpec();
  spec.mounts = mounts;
  return makePlan(
    { bundle: '/b', file: '/b/config.json', spec, rootfs },
    { id: 'x', fifoPath: '/f', noPivot: false, preserveFds: 0, cgroup: { version: 2 } },
  );
}

test('prepareRootfs: a destination that a rootfs symlink leads into /proc is refused by pointer, nothing mounted there', () => {
  const rootfs = join(tempDir(), 'rootfs');
  mkdirSync(join(rootfs, 'proc'), { recursive: true });
  symlinkSync('/proc', join(rootfs, 'foo'));
  const sys = new RecordingSys();
  const plan = planWith(rootfs, [
    { destination: '/proc', type: 'proc', source: 'proc' },
    { destination: '/foo/sys', type: 'tmpfs', source: 'tmpfs' },
  ]);
  assert.throws(
    () => prepareRootfs(sys, plan),
    /\/mounts\/1\/destination: \/foo\/sys resolves to \/proc\/sys in the rootfs, and nothing may be mounted inside \/proc/,
  );
  assert.not.ok(sys.callsTo('mount').some((m) => String(m[1]).endsWith('/proc/sys')));
});

test('prepareRootfs: proc on a /proc that is a symlink (or a file) is refused', () => {
  const rootfs = join(tempDir(), 'rootfs');
  mkdirSync(join(rootfs, 'elsewhere'), { recursive: true });
  symlinkSync('/elsewhere', join(rootfs, 'proc'));
  writeFileSync(join(rootfs, 'sys'), '');
  const proc = planWith(rootfs, [{ destination: '/proc', type: 'proc', source: 'proc' }]);
  assert.throws(
    () => prepareRootfs(new RecordingSys(), proc),
    /\/mounts\/0\/destination: proc must be mounted on an ordinary directory/,
  );
  const sysfs = planWith(rootfs, [{ destination: '/sys', type: 'sysfs', source: 'sysfs' }]);
  assert.throws(
    () => prepareRootfs(new RecordingSys(), sysfs),
    /\/mounts\/0\/destination: sysfs must be mounted on an ordinary directory/,
  );
});

test('prepareRootfs: a bind onto /proc must bind a procfs', () => {
  const rootfs = join(tempDir(), 'rootfs');
  mkdirSync(join(rootfs, 'proc'), { recursive: true });
  const plan = planWith(rootfs, [{ destination: '/proc', type: 'bind', source: tempDir(), options: ['rbind'] }]);
  const sys = new RecordingSys();
  sys.filesystemOf = () => TMPFS_MAGIC;
  assert.throws(() => prepareRootfs(sys, plan), /\/mounts\/0\/destination: only a procfs may be bound onto \/proc/);
});

// --- sysctl keys ---

test('parseSysctlKey: "/" separators as runc and sysctl.d take them; empty, "." and ".." components refused', () => {
  assert.equal(parseSysctlKey('net.ipv4.ip_forward'), { dotted: 'net.ipv4.ip_forward', file: '/proc/sys/net/ipv4/ip_forward' });
  assert.equal(parseSysctlKey('net/ipv4/ip_forward'), { dotted: 'net.ipv4.ip_forward', file: '/proc/sys/net/ipv4/ip_forward' });
  assert.equal(parseSysctlKey('net/ipv4/conf/eth0.100/rp_filter'), {
    dotted: 'net.ipv4.conf.eth0/100.rp_filter',
    file: '/proc/sys/net/ipv4/conf/eth0.100/rp_filter',
  });
  assert.equal(parseSysctlKey('net.ipv4.conf.eth0/100.rp_filter')?.file, '/proc/sys/net/ipv4/conf/eth0.100/rp_filter');
  for (const bad of [
    'net/../kernel/core_pattern',
    'net.ipv4..ip_forward',
    '.net.x',
    'net.x.',
    'net./.x',
    'net.//.x',
    '',
    'net/./x',
  ]) {
    assert.is(parseSysctlKey(bad), undefined, bad);
  }
});

test('sysctlNamespace: ipc keys and fs.mqueue.*, net.*, kernel.hostname/domainname; nothing else', () => {
  for (const key of [
    'kernel.msgmax',
    'kernel.msgmnb',
    'kernel.msgmni',
    'kernel.sem',
    'kernel.shmall',
    'kernel.shmmax',
    'kernel.shmmni',
    'kernel.shm_rmid_forced',
    'fs.mqueue.msg_max',
  ]) {
    assert.is(sysctlNamespace(key), 'ipc', key);
  }
  assert.is(sysctlNamespace('net.ipv4.ip_forward'), 'network');
  assert.is(sysctlNamespace('kernel.hostname'), 'uts');
  assert.is(sysctlNamespace('kernel.domainname'), 'uts');
  for (const key of [
    'kernel.core_pattern',
    'vm.swappiness',
    'kernel.shm_next_id',
    'fs.file-max',
    'kernel.ns_last_pid',
    'network.x',
    'fs.mqueue',
  ]) {
    assert.is(sysctlNamespace(key), undefined, key);
  }
});

test('checks: each refused sysctl is named /linux/sysctl/<key> ("/" escaped as ~1)', () => {
  const without = (type: string) => (s: Spec) => {
    s.linux!.namespaces = s.linux!.namespaces!.filter((ns) => ns.type !== type);
  };
  const cases: [(s: Spec) => void, Record<string, string>, string, RegExp][] = [
    [
      without('network'),
      { 'net.ipv4.ip_forward': '1' },
      '/linux/sysctl/net.ipv4.ip_forward',
      /needs a namespace of type network/,
    ],
    [
      without('network'),
      { 'net/ipv4/ip_forward': '1' },
      '/linux/sysctl/net~1ipv4~1ip_forward',
      /needs a namespace of type network/,
    ],
    [without('ipc'), { 'kernel.shmmax': '1' }, '/linux/sysctl/kernel.shmmax', /needs a namespace of type ipc/],
    [without('ipc'), { 'fs.mqueue.queues_max': '1' }, '/linux/sysctl/fs.mqueue.queues_max', /needs a namespace of type ipc/],
    [without('uts'), { 'kernel.domainname': 'x' }, '/linux/sysctl/kernel.domainname', /needs a namespace of type uts/],
    [() => {}, { 'kernel.core_pattern': 'x' }, '/linux/sysctl/kernel.core_pattern', /not namespaced/],
    [() => {}, { 'vm.swappiness': '1' }, '/linux/sysctl/vm.swappiness', /not namespaced/],
    [() => {}, { 'net/../kernel/core_pattern': 'x' }, '/linux/sysctl/net~1..~1kernel~1core_pattern', /not a sysctl name/],
    [(s) => (s.hostname = 'h'), { 'kernel.hostname': 'other' }, '/linux/sysctl/kernel.hostname', /conflicts with \/hostname/],
  ];
  for (const [edit, sysctl, pointer, message] of cases) {
    const problems = problemsOf((s) => {
      edit(s);
      s.linux!.sysctl = sysctl;
    });
    assert.ok(
      problems.some((p) => p.pointer === pointer && message.test(p.message)),
      `${pointer}: ${JSON.stringify(problems)}`,
    );
  }
  const allowed = {
    'net.ipv4.ip_forward': '1',
    'net/ipv4/conf/all/forwarding': '1',
    'kernel.shmmax': '1',
    'fs.mqueue.msg_max': '9',
    'kernel.domainname': 'd',
    'kernel.hostname': 'h',
  };
  const problems = problemsOf((s) => {
    delete s.hostname;
    s.linux!.sysctl = allowed;
  });
  assert.equal(problems, []);
});

// --- the procfs writer ---

test('writeProcFile: a file not on procfs is refused before anything is written', () => {
  const file = join(tempDir(), 'planted');
  writeFileSync(file, 'planted\n');
  const sys = new RecordingSys();
  sys.filesystemOf = () => TMPFS_MAGIC;
  assert.throws(() => writeProcFile(sys, file, '1'), /is not on procfs \(filesystem type 0x1021994\)/);
  assert.is(readFileSync(file, 'utf8'), 'planted\n');
  assert.is(sys.callsTo('fstatfs').length, 1);
});

test('writeProcFile: on procfs, the value is written; a symlink as last component is not followed', () => {
  const dir = tempDir();
  const file = join(dir, 'value');
  writeFileSync(file, '');
  const sys = new RecordingSys();
  writeProcFile(sys, file, '42');
  assert.is(readFileSync(file, 'utf8'), '42');
  symlinkSync(file, join(dir, 'link'));
  assert.throws(() => writeProcFile(sys, join(dir, 'link'), '7'), /too many symbolic links/);
  assert.is(readFileSync(file, 'utf8'), '42');
});

test('reopenThroughProc: /proc/self/fd must be procfs; the reopened fd is the held file', () => {
  const file = join(tempDir(), 'held');
  writeFileSync(file, 'held');
  const handle = openSync(file, O_PATH | O_CLOEXEC);
  try {
    const faked = new RecordingSys();
    faked.filesystemOf = () => TMPFS_MAGIC;
    assert.throws(() => reopenThroughProc(faked, handle, O_RDONLY), /\/proc\/self\/fd is not on procfs/);
    const sys = new RecordingSys();
    sys.filesystemOf = () => PROC_SUPER_MAGIC;
    const fd = reopenThroughProc(sys, handle, O_RDONLY | O_CLOEXEC);
    assert.is(readFileSync(fd, 'utf8'), 'held');
    closeSync(fd);
  } finally {
    closeSync(handle);
  }
});

test.run();
