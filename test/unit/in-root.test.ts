// Paths inside the rootfs through descriptors (in-root.ts, with the real
// openat2: it needs no root), masked paths and --no-pivot's detaching of
// the host's mounts against the recording double.
import { closeSync, existsSync, mkdirSync, readlinkSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { detachHostMounts } from '../../src/linux/host-mounts';
import { RootDir } from '../../src/linux/in-root';
import { maskPaths } from '../../src/linux/masked-paths';
import { MNT_DETACH, MS_BIND, MS_RDONLY } from '../../src/sys/constants';
import { sys } from '../../src/sys/index';
import { RecordingSys } from '../../src/sys/recording';
import { tempDir } from '../lib/cli';

const test = suite('in-root');

/** A rootfs with links that point out of it, and the host directory they name. */
function hostileRoot(): { root: string; outside: string } {
  const root = tempDir();
  const outside = tempDir('runts-outside-');
  mkdirSync(join(root, 'real'));
  symlinkSync(outside, join(root, 'abs-link'));
  symlinkSync(`../../../../..${outside}`, join(root, 'rel-escape'));
  symlinkSync('real', join(root, 'rel-link'));
  symlinkSync('loop2', join(root, 'loop1'));
  symlinkSync('loop1', join(root, 'loop2'));
  symlinkSync('/nowhere/yet', join(root, 'dangling'));
  return { root, outside };
}

function madeAt(root: RootDir, path: string): string {
  const fd = root.mkdirAll(path, 0o755);
  try {
    return readlinkSync(`/proc/self/fd/${fd}`);
  } finally {
    closeSync(fd);
  }
}

test('mkdirAll: symlinks and ".." resolve inside the root; nothing is made outside it', () => {
  const { root: path, outside } = hostileRoot();
  const root = new RootDir(sys(), path);
  try {
    assert.is(madeAt(root, '/abs-link/a'), `${path}${outside}/a`);
    assert.is(madeAt(root, '/rel-escape/b'), `${path}${outside}/b`);
    assert.is(madeAt(root, '/../../c'), `${path}/c`);
    assert.is(madeAt(root, 'rel-link/sub/../d'), `${path}/real/d`);
    assert.is(madeAt(root, '/dangling/e'), `${path}/nowhere/yet/e`);
    assert.is(madeAt(root, '/'), path);
    assert.throws(() => root.mkdirAll('/loop1/x', 0o755), /too many levels of symbolic links/i);
    assert.not.ok(existsSync(join(outside, 'a')) || existsSync(join(outside, 'b')));
  } finally {
    root.close();
  }
});

test('entry: the directory and name of the last component, a last symlink followed inside the root', () => {
  const { root: path, outside } = hostileRoot();
  writeFileSync(join(path, 'real', 'file'), '');
  symlinkSync('/real/file', join(path, 'file-link'));
  const root = new RootDir(sys(), path);
  try {
    for (const [asked, dir, name] of [
      ['/real/file', `${path}/real`, 'file'],
      ['/file-link', `${path}/real`, 'file'],
      ['/abs-link', `${path}${outside.replace(/\/[^/]*$/, '')}`, outside.replace(/^.*\//, '')],
      ['/new/entry', `${path}/new`, 'entry'],
    ] as const) {
      const at = root.entry(asked, 0o755);
      assert.is(readlinkSync(`/proc/self/fd/${at.dir}`), dir, asked);
      assert.is(at.name, name, asked);
      closeSync(at.dir);
    }
    assert.throws(() => root.entry('/', 0o755), /is the root itself/);
    assert.throws(() => root.mkdirAll('/real/file', 0o755), /not a directory/i);
    assert.throws(() => root.mkdirAll('/file-link', 0o755), /not a directory/i);
  } finally {
    root.close();
  }
});

test('maskPaths: a directory gets a read-only tmpfs, a file the null device bound from its descriptor; missing ones are skipped', () => {
  const dir = tempDir();
  mkdirSync(join(dir, 'd'));
  writeFileSync(join(dir, 'f'), 'secret');
  const recorded = new RecordingSys();
  maskPaths(recorded, [join(dir, 'd'), join(dir, 'f'), join(dir, 'missing')]);
  assert.equal(recorded.callsTo('mount'), [
    ['tmpfs', join(dir, 'd'), 'tmpfs', MS_RDONLY, null],
    ['/dev/null', join(dir, 'f'), null, MS_BIND, null],
  ]);
  assert.ok(
    recorded.calls.filter((c) => c.call === 'mount').every((c) => /^\/proc\/self\/fd\/\d+$/.test(c.raw?.[1] as string)),
    'a target passed by its path, not through its descriptor',
  );
});

const MOUNTINFO = [
  '22 27 0:21 / /proc rw - proc proc rw',
  '27 1 254:0 / / rw - ext4 /dev/vda rw',
  '24 27 0:6 / /dev rw - devtmpfs devtmpfs rw',
  '25 24 0:23 / /dev/shm rw - tmpfs tmpfs rw',
  '50 27 0:40 / /srv/data rw - tmpfs tmpfs rw',
  '51 50 0:41 / /srv/data/bundle\\040x/rootfs rw - ext4 /dev/vdb rw',
  '52 51 0:42 / /srv/data/bundle\\040x/rootfs/proc rw - proc proc rw',
  '53 27 0:43 / /srv/other\\040dir rw - tmpfs tmpfs rw',
].join('\n');

test('detachHostMounts: every mount but the rootfs, what is under it and what holds it; parents first; never without a mount namespace', () => {
  const recorded = new RecordingSys();
  const plan = { rootfs: '/srv/data/bundle x/rootfs', mountNamespace: true };
  detachHostMounts(recorded, plan, MOUNTINFO);
  assert.equal(recorded.callsTo('umount2'), [
    ['/dev', MNT_DETACH],
    ['/proc', MNT_DETACH],
    ['/dev/shm', MNT_DETACH],
    ['/srv/other dir', MNT_DETACH],
  ]);
  const shared = new RecordingSys();
  detachHostMounts(shared, { ...plan, mountNamespace: false }, MOUNTINFO);
  assert.equal(shared.calls, []);
});

test.run();
