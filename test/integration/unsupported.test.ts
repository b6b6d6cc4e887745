// Configs the schema accepts and runts cannot run as they are (the table in
// test/lib/unsupported.ts; validate's warnings are unit-tested): create
// refuses each with the warning's message and leaves no container, or, for
// deprecations and unknown capabilities, runs the program and warns.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { isRoot, tempDir } from '../lib/cli';
import { bundle, runtime, shArgs, uniqueId } from '../lib/container';
import { UNSUPPORTED } from '../lib/unsupported';

const test = suite('unsupported configs');
const asRoot = isRoot ? test : test.skip;

for (const { name, mutate, message, create } of UNSUPPORTED) {
  asRoot(`create ${create === 'refuses' ? 'refuses' : 'goes on and warns'}: ${name}`, () => {
    const root = tempDir();
    const id = uniqueId('unsupported');
    const b = bundle((s) => {
      shArgs('echo the-program-ran')(s);
      mutate(s);
    });
    const r = runtime(['run', '--bundle', b, id], { root });
    // The log line quotes its message (msg="…"), escaping the quotes in it.
    const said = r.stderr.replace(/\\"/g, '"');
    if (create === 'refuses') {
      assert.is(r.code, 1, r.stderr);
      assert.match(said, message, r.stderr);
      assert.is(r.stdout, '', 'the program ran');
      assert.is.not(runtime(['state', id], { root }).code, 0, 'a container exists after the refusal');
    } else {
      assert.is(r.code, 0, r.stderr);
      assert.match(said, new RegExp(`level=warning msg=".*: ${message.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}`), r.stderr);
      assert.is(r.stdout, 'the-program-ran\n');
    }
  });
}

test.run();
