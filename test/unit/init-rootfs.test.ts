// The init's filesystem work for a typical container, without root: the
// plan made as create makes it (loadBundle + makePlan, sent as JSON), then
// prepareRootfs, enterRootfs and finishRootfs against the recording double,
// whose plain files are real under a temporary rootfs. Asserts the recorded
// order of the calls and what landed in the rootfs.
import { mkdirSync, readFileSync, symlinkSync, unlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { enterRootfs, finishRootfs, prepareRootfs } from '../../src/linux/rootfs';
import { loadBundle } from '../../src/spec/load';
import { type InitPlan, makePlan } from '../../src/spec/plan';
import type { Spec } from '../../src/spec/types';
import {
  MS_BIND,
  MS_NODEV,
  MS_NOEXEC,
  MS_NOSUID,
  MS_RDONLY,
  MS_REC,
  MS_REMOUNT,
  MS_PRIVATE,
  MS_SLAVE,
  O_NOFOLLOW,
  O_WRONLY,
  S_IFCHR,
} from '../../src/sys/constants';
import { type RecordedCall, RecordingSys } from '../../src/sys/recording';
import { baseSpec, writeBundle } from '../lib/bundle';

const test = suite('init rootfs (recorded)');
const TMPFS_MAGIC = 0x01021994;

/**
 * The default spec's container (proc, /dev tmpfs, devpts, shm, mqueue,
 * sysfs, cgroup; masked and read-only paths), with a sysctl and a
 * read-only root. In its rootfs: some of the masked and read-only paths
 * (the others are missing, and skipped) and the sysctl's file.
 */
function typicalContainer(edit: (s: Spec) => void = () => {}): { plan: InitPlan; rootfs: string } {
  const spec = baseSpec();
  spec.linux!.sysctl = { 'net.ipv4.ip_forward': '1' };
  spec.root = { path: 'rootfs', readonly: true };
  edit(spec);
  const bundle = writeBundle(spec);
  const rootfs = join(bundle, 'rootfs');
  mkdirSync(join(rootfs, 'proc/sys/net/ipv4'), { recursive: true });
  writeFileSync(join(rootfs, 'proc/sys/net/ipv4/ip_forward'), '0');
  writeFileSync(join(rootfs, 'proc/kcore'), 'host memory');
  mkdirSync(join(rootfs, 'sys/firmware'), { recursive: true });
  const made = makePlan(loadBundle(bundle), {
    id: 'x',
    fifoPath: join(bundle, 'exec.fifo'),
    noPivot: false,
    preserveFds: 0,
    cgroup: { version: 2 },
  });
  // What the init gets: the plan as create sends it over the channel.
  return { plan: JSON.parse(JSON.stringify(made)) as InitPlan, rootfs };
}

/** prepareRootfs, enterRootfs, finishRootfs: the init's order. */
function buildRootfs(sys: RecordingSys, plan: InitPlan): void {
  prepareRootfs(sys, plan);
  enterRootfs(sys, plan);
  finishRootfs(sys, plan);
}

const indexOf = (calls: RecordedCall[], match: (c: RecordedCall) => boolean): number => calls.findIndex(match);
const lastIndexOf = (calls: RecordedCall[], match: (c: RecordedCall) => boolean): number => calls.findLastIndex(match);
const isMount = (c: RecordedCall) => c.call === 'mount';

test('"/" is made rslave and the rootfs\'s parent private before anything is mounted; the rootfs is bound on itself next', () => {
  const { plan, rootfs } = typicalContainer();
  const sys = new RecordingSys();
  buildRootfs(sys, plan);
  const mounts = sys.callsTo('mount');
  assert.equal(mounts[0], [null, '/', null, MS_SLAVE | MS_REC, null]);
  assert.is(mounts[1]?.[3], MS_PRIVATE);
  assert.ok(rootfs.startsWith(mounts[1]?.[1] as string), `${mounts[1]?.[1]} does not hold the rootfs`);
  assert.equal(mounts[2], [rootfs, rootfs, 'bind', MS_BIND | MS_REC, null]);
});

test('mounts[] go in order under the rootfs, each onto its destination held by descriptor, then the devices; pivot_root comes after all of it', () => {
  const { plan, rootfs } = typicalContainer();
  const sys = new RecordingSys();
  buildRootfs(sys, plan);
  const pivot = indexOf(sys.calls, (c) => c.call === 'pivotRoot');
  assert.ok(pivot > 0, 'no pivot_root');
  const before = sys.calls.slice(0, pivot);
  // The new filesystems, as the plan has them (a remount or propagation change has no type).
  const made = before.filter((c) => isMount(c) && c.args[2] !== null && c.args[2] !== 'bind').map((c) => [c.args[2], c.args[1]]);
  assert.equal(made, [
    ['proc', `${rootfs}/proc`],
    ['tmpfs', `${rootfs}/dev`],
    ['devpts', `${rootfs}/dev/pts`],
    ['tmpfs', `${rootfs}/dev/shm`],
    ['mqueue', `${rootfs}/dev/mqueue`],
    ['sysfs', `${rootfs}/sys`],
    ['cgroup2', `${rootfs}/sys/fs/cgroup`],
  ]);
  assert.ok(
    before
      .filter((c) => isMount(c) && c.args[1] !== '/' && c.args[1] !== rootfs)
      .every((c) => /^\/proc\/self\/fd\/\d+$/.test(c.raw?.[1] as string)),
    'a mount target named by its path, not its descriptor',
  );
  const sysfs = before.find((c) => isMount(c) && c.args[2] === 'sysfs')!;
  assert.is(sysfs.args[3], MS_NOSUID | MS_NOEXEC | MS_NODEV | MS_RDONLY);
  // /dev is a tmpfs: the default devices are made in it, after every mount of mounts[].
  const lastMount = lastIndexOf(before, isMount);
  const nodes = before.map((c, i) => [c, i] as const).filter(([c]) => c.call === 'mknod');
  assert.equal(
    nodes.map(([c]) => c.args[0]),
    ['null', 'zero', 'full', 'random', 'urandom', 'tty'].map((d) => `${rootfs}/dev/${d}`),
  );
  assert.ok(nodes.every(([c, i]) => i > lastMount && ((c.args[1] as number) & S_IFCHR) === S_IFCHR));
  assert.ok(
    before.some((c) => c.call === 'symlink' && c.args[0] === 'pts/ptmx' && c.args[1] === `${rootfs}/dev/ptmx`),
    '/dev/ptmx is not a link to pts/ptmx',
  );
  assert.equal(sys.callsTo('pivotRoot'), [['.', '.']]);
  assert.equal(sys.calls[pivot - 1], { call: 'chdir', args: [rootfs] });
});

test('after pivot_root: the sysctl written through the procfs check, read-only paths, masked paths, then the read-only root last', () => {
  const { plan, rootfs } = typicalContainer();
  const sys = new RecordingSys();
  buildRootfs(sys, plan);
  const after = sys.calls.slice(indexOf(sys.calls, (c) => c.call === 'pivotRoot') + 1);
  // The sysctl: its /proc/sys file opened (never through a last symlink), checked to be procfs, written in one write.
  const file = '/proc/sys/net/ipv4/ip_forward';
  const open = indexOf(after, (c) => c.call === 'open' && c.args[0] === file);
  assert.ok(open >= 0, 'the sysctl file was not opened');
  assert.is((after[open]?.args[1] as number) & (O_WRONLY | O_NOFOLLOW), O_WRONLY | O_NOFOLLOW);
  assert.equal(
    after.slice(open + 1, open + 3).map((c) => c.call),
    ['fstatfs', 'write'],
  );
  assert.equal(after[open + 2]?.args.slice(1), ['1']);
  assert.is(readFileSync(join(rootfs, file), 'utf8'), '1');
  // Read-only and masked paths, in container terms: what is missing in the rootfs is skipped.
  const mounts = after.filter(isMount).map((c) => c.args);
  const slaveAndDetach = mounts.slice(0, 1);
  assert.equal(slaveAndDetach, [[null, '.', null, MS_SLAVE | MS_REC, null]]);
  assert.equal(mounts.slice(1), [
    ['/proc/sys', '/proc/sys', null, MS_BIND | MS_REC, null],
    [null, '/proc/sys', null, MS_BIND | MS_REMOUNT | MS_RDONLY | MS_REC, null],
    // Named by their descriptors: the paths the double shows are where those are.
    [`${rootfs}/dev/null`, `${rootfs}/proc/kcore`, null, MS_BIND, null],
    ['tmpfs', `${rootfs}/sys/firmware`, 'tmpfs', MS_RDONLY, null],
    [null, '/', null, MS_BIND | MS_REMOUNT | MS_RDONLY | MS_REC, null],
  ]);
  assert.ok(
    indexOf(after, (c) => c.call === 'write') < indexOf(after, (c) => isMount(c) && c.args[1] === '/proc/sys'),
    'sysctls come before the read-only paths',
  );
});

test('a sysctl file that is not on procfs is refused before anything is written to it', () => {
  const { plan, rootfs } = typicalContainer();
  const sys = new RecordingSys();
  prepareRootfs(sys, plan);
  enterRootfs(sys, plan);
  // Something the container mounted over /proc/sys.
  sys.filesystemOf = () => TMPFS_MAGIC;
  assert.throws(
    () => finishRootfs(sys, plan),
    /sysctl net\.ipv4\.ip_forward=1: \/proc\/sys\/net\/ipv4\/ip_forward is not on procfs/,
  );
  assert.equal(sys.callsTo('write'), []);
  assert.is(readFileSync(join(rootfs, 'proc/sys/net/ipv4/ip_forward'), 'utf8'), '0');
});

test('masked paths: a /dev/null swapped for a symlink after the devices were made is refused, nothing bound over the masked paths', () => {
  const { plan, rootfs } = typicalContainer((s) => {
    delete s.linux!.sysctl;
  });
  const sys = new RecordingSys();
  prepareRootfs(sys, plan);
  enterRootfs(sys, plan);
  // CVE-2025-31133: /dev/null made a link to a host-wide procfs file.
  unlinkSync(join(rootfs, 'dev/null'));
  symlinkSync('/proc/sys/kernel/core_pattern', join(rootfs, 'dev/null'));
  const before = sys.callsTo('mount').length;
  assert.throws(
    () => finishRootfs(sys, plan),
    /\/dev\/null in the container is not the null device \(char 1:3\) but a symbolic link/,
  );
  assert.not.ok(
    sys
      .callsTo('mount')
      .slice(before)
      .some((a) => a[0] === `${rootfs}/dev/null` || String(a[0]).endsWith('core_pattern')),
  );
});

test('a mount that fails stops the rootfs: no devices, no pivot_root', () => {
  const { plan } = typicalContainer();
  const sys = new RecordingSys().failOn('mount', 19, (a) => a[2] === 'mqueue');
  assert.throws(() => prepareRootfs(sys, plan), /mount mqueue to \/dev\/mqueue \(mqueue\)/);
  assert.equal(sys.callsTo('mknod'), []);
  assert.equal(
    sys.callsTo('mount').filter((a) => a[2] === 'sysfs'),
    [],
  );
});

test.run();
