// Escapes through /proc (issue 19, points 4 and 5): a config or a rootfs
// that puts something of its own over /proc, so that the init's procfs
// writes (sysctls, oom_score_adj, LSM labels, exec.fifo) land in files the
// container controls (CVE-2019-16884, CVE-2019-19921, CVE-2025-52881
// class); and sysctls that reach past the container's namespaces, into the
// runtime's (the caller's) or the whole host's kernel settings.
//
// "The host" below is this test process: runts is its child, in the same
// net, ipc and uts namespaces (the sandbox's, private to the test run), so
// a value that changes here is a value runts changed outside the container.
import { closeSync, existsSync, openSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { writeProcFile } from '../../src/linux/procfs';
import type { Spec } from '../../src/spec/types';
import { MNT_DETACH } from '../../src/sys/constants';
import { sys } from '../../src/sys/index';
import { isRoot, tempDir } from '../lib/cli';
import { bundle, initProcesses, mountsUnder, runtime, uniqueId } from '../lib/container';

const test = suite('escape-procfs');
const asRoot = isRoot ? test : test.skip;

type Edit = (s: Spec) => void;

const withSysctl = (sysctl: Record<string, string>): Edit => (s) => {
  s.linux!.sysctl = sysctl;
};
const all = (...edits: Edit[]): Edit => (s) => edits.forEach((e) => e(s));

/** A host file the container could control (bound over a procfs file). */
function plantedFile(): string {
  const file = join(tempDir(), 'planted');
  writeFileSync(file, 'planted\n');
  return file;
}

/**
 * create of this bundle exits 1 with `reason` and leaves nothing behind:
 * no state dir, no init, no mount under the bundle. `first` checks the
 * host right after create, whatever create did.
 */
function assertRefused(b: string, reason: RegExp, first: () => void = () => {}): string {
  const root = join(tempDir(), 'root');
  const before = initProcesses();
  const id = uniqueId('procfs');
  const r = runtime(['create', '--bundle', b, id], { root });
  if (r.code === 0) runtime(['delete', '--force', id], { root });
  first();
  assert.is(r.code, 1, `create succeeded: ${r.stderr}`);
  assert.match(r.stderr, reason);
  assert.equal(existsSync(root) ? readdirSync(root) : [], [], 'state dir left behind');
  assert.equal(initProcesses().filter((p) => !before.includes(p)), [], 'init process left behind');
  assert.equal(mountsUnder(b), []);
  return r.stderr;
}

// --- point 4: the init's procfs writes go only to procfs ---

const TMPFS_MAGIC = 0x01021994;

asRoot('writer: the real fstatfs tells procfs from tmpfs; a tmpfs file is refused, unchanged; a procfs file is written', () => {
  const dir = tempDir();
  sys().mount('tmpfs', dir, 'tmpfs', 0, null);
  try {
    const file = join(dir, 'oom_score_adj');
    writeFileSync(file, 'planted\n');
    const fd = openSync(file, 'r');
    assert.is(sys().fstatfs(fd).type, TMPFS_MAGIC);
    closeSync(fd);
    assert.throws(() => writeProcFile(sys(), file, '0'), /is not on procfs \(filesystem type 0x1021994\)/);
    assert.is(readFileSync(file, 'utf8'), 'planted\n');
  } finally {
    sys().umount2(dir, MNT_DETACH);
  }
  const current = readFileSync('/proc/self/oom_score_adj', 'utf8').trim();
  writeProcFile(sys(), '/proc/self/oom_score_adj', current);
  assert.is(readFileSync('/proc/self/oom_score_adj', 'utf8').trim(), current);
});

/**
 * Something the config cannot ask for but a process in the container's
 * mount namespace can do (CVE-2025-52881 races; here a createContainer
 * hook, which runs there before the init writes): a host file bound over
 * the procfs file the init is about to write.
 */
const plantOver = (procFile: string, planted: string): Edit => (s) => {
  s.hooks = { createContainer: [{ path: '/bin/sh', args: ['sh', '-c', `mount --bind ${planted} ${s.root!.path}${procFile}`] }] };
};

asRoot('writer: a host file bound over /proc/sys/net/ipv4/ip_forward after the mounts: the sysctl is refused, the file untouched', () => {
  const planted = plantedFile();
  const b = bundle(all(withSysctl({ 'net.ipv4.ip_forward': '1' }), plantOver('/proc/sys/net/ipv4/ip_forward', planted)));
  assertRefused(b, /sysctl net\.ipv4\.ip_forward=1: \/proc\/sys\/net\/ipv4\/ip_forward is not on procfs/, () => assert.is(readFileSync(planted, 'utf8'), 'planted\n'));
});

asRoot('writer: a host file bound over the init\'s /proc/1/oom_score_adj: oomScoreAdj is refused, the file untouched', () => {
  const planted = plantedFile();
  const b = bundle(all((s) => (s.process!.oomScoreAdj = 7), plantOver('/proc/1/oom_score_adj', planted)));
  assertRefused(b, /oomScoreAdj 7: \/proc\/self\/oom_score_adj is not on procfs/, () => assert.is(readFileSync(planted, 'utf8'), 'planted\n'));
});

test.run();
