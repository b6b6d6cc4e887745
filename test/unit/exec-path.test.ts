// The container's /etc/passwd as runts reads it (init, exec): the container
// owns the file, so only a regular file up to 4 MiB is read, never through a
// symlink, never blocking; anything else leaves HOME at "/".
import { execFileSync } from 'node:child_process';
import { symlinkSync, truncateSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { readPasswd, withHome } from '../../src/linux/exec-path';
import { tempDir } from '../lib/cli';

const test = suite('exec-path');
const PASSWD = 'root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/nonexistent:/bin/false\n';

test('a regular /etc/passwd is read; HOME is the user\'s entry, else "/"', () => {
  const file = join(tempDir(), 'passwd');
  writeFileSync(file, PASSWD);
  assert.is(readPasswd(file), PASSWD);
  assert.equal(
    withHome(['PATH=/bin'], 0, () => readPasswd(file)),
    ['PATH=/bin', 'HOME=/root'],
  );
  assert.equal(
    withHome([], 1234, () => readPasswd(file)),
    ['HOME=/'],
  );
});

test('HOME set by the config: /etc/passwd is not read at all', () => {
  let read = false;
  assert.equal(
    withHome(['HOME=/h'], 0, () => ((read = true), PASSWD)),
    ['HOME=/h'],
  );
  assert.not.ok(read);
});

test('a symlink (to /dev/zero, and even to a regular file), a FIFO, a device, a directory, a file over 4 MiB: ignored, at once', () => {
  const dir = tempDir();
  symlinkSync('/dev/zero', join(dir, 'to-zero'));
  const passwdLink = join(dir, 'to-passwd');
  writeFileSync(join(dir, 'real'), PASSWD);
  symlinkSync(join(dir, 'real'), passwdLink);
  execFileSync('mkfifo', [join(dir, 'fifo')]);
  writeFileSync(join(dir, 'huge'), '');
  truncateSync(join(dir, 'huge'), 4 * 1024 * 1024 + 1);
  for (const path of [
    join(dir, 'to-zero'),
    passwdLink,
    join(dir, 'fifo'),
    '/dev/zero',
    dir,
    join(dir, 'huge'),
    join(dir, 'missing'),
  ]) {
    assert.is(readPasswd(path), undefined, path);
  }
  assert.equal(
    withHome([], 0, () => readPasswd(join(dir, 'to-zero'))),
    ['HOME=/'],
  );
});

test.run();
