// /proc without root: the procfs writer against the recording double.
import { closeSync, openSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { reopenThroughProc, writeProcFile } from '../../src/linux/procfs';
import { O_CLOEXEC, O_PATH, O_RDONLY, PROC_SUPER_MAGIC } from '../../src/sys/constants';
import { RecordingSys } from '../../src/sys/recording';
import { tempDir } from '../lib/cli';

const test = suite('procfs');
const TMPFS_MAGIC = 0x01021994;

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
