// /proc and sysctls without root: the rules on sysctl keys (each refusal
// by JSON pointer) and the procfs writer against the recording double.
import { closeSync, openSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { reopenThroughProc, writeProcFile } from '../../src/linux/procfs';
import { parseSysctlKey, sysctlNamespace } from '../../src/linux/sysctl';
import { runtimeProblems } from '../../src/spec/checks';
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

// --- sysctl keys ---

test('parseSysctlKey: "/" separators as runc and sysctl.d take them; empty, "." and ".." components refused', () => {
  assert.equal(parseSysctlKey('net.ipv4.ip_forward'), { dotted: 'net.ipv4.ip_forward', file: '/proc/sys/net/ipv4/ip_forward' });
  assert.equal(parseSysctlKey('net/ipv4/ip_forward'), { dotted: 'net.ipv4.ip_forward', file: '/proc/sys/net/ipv4/ip_forward' });
  assert.equal(parseSysctlKey('net/ipv4/conf/eth0.100/rp_filter'), { dotted: 'net.ipv4.conf.eth0/100.rp_filter', file: '/proc/sys/net/ipv4/conf/eth0.100/rp_filter' });
  assert.equal(parseSysctlKey('net.ipv4.conf.eth0/100.rp_filter')?.file, '/proc/sys/net/ipv4/conf/eth0.100/rp_filter');
  for (const bad of ['net/../kernel/core_pattern', 'net.ipv4..ip_forward', '.net.x', 'net.x.', 'net./.x', 'net.//.x', '', 'net/./x']) {
    assert.is(parseSysctlKey(bad), undefined, bad);
  }
});

test('sysctlNamespace: ipc keys and fs.mqueue.*, net.*, kernel.hostname/domainname; nothing else', () => {
  for (const key of ['kernel.msgmax', 'kernel.msgmnb', 'kernel.msgmni', 'kernel.sem', 'kernel.shmall', 'kernel.shmmax', 'kernel.shmmni', 'kernel.shm_rmid_forced', 'fs.mqueue.msg_max']) {
    assert.is(sysctlNamespace(key), 'ipc', key);
  }
  assert.is(sysctlNamespace('net.ipv4.ip_forward'), 'network');
  assert.is(sysctlNamespace('kernel.hostname'), 'uts');
  assert.is(sysctlNamespace('kernel.domainname'), 'uts');
  for (const key of ['kernel.core_pattern', 'vm.swappiness', 'kernel.shm_next_id', 'fs.file-max', 'kernel.ns_last_pid', 'network.x', 'fs.mqueue']) {
    assert.is(sysctlNamespace(key), undefined, key);
  }
});

test('checks: each refused sysctl is named /linux/sysctl/<key> ("/" escaped as ~1)', () => {
  const without = (type: string) => (s: Spec) => {
    s.linux!.namespaces = s.linux!.namespaces!.filter((ns) => ns.type !== type);
  };
  const cases: [(s: Spec) => void, Record<string, string>, string, RegExp][] = [
    [without('network'), { 'net.ipv4.ip_forward': '1' }, '/linux/sysctl/net.ipv4.ip_forward', /needs a namespace of type network/],
    [without('network'), { 'net/ipv4/ip_forward': '1' }, '/linux/sysctl/net~1ipv4~1ip_forward', /needs a namespace of type network/],
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
    assert.ok(problems.some((p) => p.pointer === pointer && message.test(p.message)), `${pointer}: ${JSON.stringify(problems)}`);
  }
  const allowed = { 'net.ipv4.ip_forward': '1', 'net/ipv4/conf/all/forwarding': '1', 'kernel.shmmax': '1', 'fs.mqueue.msg_max': '9', 'kernel.domainname': 'd', 'kernel.hostname': 'h' };
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
  assert.throws(() => writeProcFile(sys, join(dir, 'link'), '7'), /ELOOP/);
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
