// The recording double's plain files: real ones under the directory a test
// gives, resolved as the init would after its pivot_root or chroot.
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { EACCES, ENOENT, O_CLOEXEC, O_RDONLY, O_WRONLY, S_IFCHR } from '../../src/sys/constants';
import { RecordingSys } from '../../src/sys/recording';
import { SysError, fileType } from '../../src/sys/types';
import { tempDir } from '../lib/cli';

const test = suite('RecordingSys files');

test('after pivot_root (and after chroot), absolute paths are under the new root, ".." never above it', () => {
  const root = tempDir();
  mkdirSync(join(root, 'etc'));
  writeFileSync(join(root, 'etc/hostname'), 'box');
  for (const enter of [(s: RecordingSys) => (s.chdir(root), s.pivotRoot('.', '.')), (s: RecordingSys) => s.chroot(root)]) {
    const sys = new RecordingSys();
    enter(sys);
    sys.chdir('/');
    assert.is(sys.readFile('/etc/hostname'), 'box');
    assert.is(sys.readFile('../../etc/hostname'), 'box');
    assert.is(sys.stat('/../../../nothing'), undefined);
    const fd = sys.open('/etc/hostname', O_WRONLY | O_CLOEXEC);
    sys.write(fd, 'new');
    sys.close(fd);
    assert.equal(sys.callsTo('open'), [['/etc/hostname', O_WRONLY | O_CLOEXEC]]);
    assert.is(readFileSync(join(root, 'etc/hostname'), 'utf8'), 'new');
    writeFileSync(join(root, 'etc/hostname'), 'box');
  }
});

test('a node made by mknod is an empty file that stat describes as the node, until it is removed', () => {
  const dir = tempDir();
  const sys = new RecordingSys();
  sys.mknod(join(dir, 'null'), S_IFCHR | 0o666, 1, 3);
  const st = sys.stat(join(dir, 'null'))!;
  assert.is(fileType(st), S_IFCHR);
  assert.is(st.rdev, (1 << 8) | 3);
  const fd = sys.open(join(dir, 'null'), O_RDONLY | O_CLOEXEC);
  assert.is(fileType(sys.fstat(fd)), S_IFCHR);
  sys.close(fd);
  sys.unlink(join(dir, 'null'));
  writeFileSync(join(dir, 'null'), '');
  assert.not.equal(fileType(sys.lstat(join(dir, 'null'))!), S_IFCHR);
});

test('file calls fail as SysError, with the errno; failOn makes them fail too', () => {
  const sys = new RecordingSys();
  const missing = join(tempDir(), 'missing');
  try {
    sys.open(missing, O_RDONLY);
    assert.unreachable('opened a missing file');
  } catch (err) {
    assert.instance(err, SysError);
    assert.is((err as SysError).errno, ENOENT);
    assert.match((err as SysError).message, `open ${missing}: no such file or directory`);
  }
  const refusing = new RecordingSys().failOn('mkdir', EACCES);
  assert.throws(() => refusing.mkdir(join(tempDir(), 'd'), 0o755), /mkdir .*: permission denied/);
});

test.run();
