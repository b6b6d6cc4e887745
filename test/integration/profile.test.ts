// RUNTS_PROFILE (src/profile.ts, bench --profile): the marks of one
// `runts run`, from the CLI and the init, in the order the work happens;
// and nothing of it reaches the container's program.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { parseMarks } from '../../bench/profile';
import { isRoot, tempDir } from '../lib/cli';
import { bundle, runBundle, shArgs } from '../lib/container';

const test = suite('profile');
const asRoot = isRoot ? test : test.skip;

// Each step waits for the one before it (a message, the fifo, an exit),
// whatever the timings: the marks of each chain must come in this order.
const CHAINS = [
  [
    'launcher spawn init',
    'init node start',
    'init main',
    'init plan received',
    'init rootfs done',
    'init created',
    'cli created seen',
    'cli start',
    'init exec',
    'cli started',
    'cli exit seen',
    'cli deleted',
    'cli done',
  ],
  // The CLI's side while the init starts: the init spawned by the launcher
  // before node starts, adopted by dist/begin.cjs before the CLI bundle
  // loads (its main), the plan sent once both are done.
  [
    'launcher cgroup primer started',
    'launcher spawn init',
    'launcher init spawned',
    'cli node start',
    'cli init adopted',
    'cli main',
    'cli config valid',
    'cli cgroup made',
    'init plan received',
  ],
];

asRoot('run: the marks of the CLI and the init, in causal order; none reach the program', () => {
  const file = join(tempDir('runts-profile-'), 'marks');
  // The program lists the files its shell holds open, and its environment.
  const b = bundle(shArgs('for f in /proc/$$/fd/*; do readlink "$f"; done; env'));
  process.env.RUNTS_PROFILE = file;
  let r;
  try {
    r = runBundle(b);
  } finally {
    delete process.env.RUNTS_PROFILE;
  }
  assert.is(r.code, 0, r.stderr);
  const marks = parseMarks(readFileSync(file, 'utf8'));
  const names = marks.map((m) => `${m.who} ${m.what}`);
  for (const chain of CHAINS) {
    const missing = chain.filter((name) => !names.includes(name));
    assert.equal(missing, [], `missing marks; got ${names.join(', ')}`);
    const seen = chain.map((name) => names.indexOf(name));
    const late = chain.filter((_, i) => i > 0 && seen[i]! < seen[i - 1]!);
    assert.equal(late, [], `marks before the one they wait for; got ${names.join(', ')}`);
  }
  // Two processes wrote them: the CLI (the launcher, then node in its place) and the init.
  const pid = (who: string) => new Set(marks.filter((m) => m.who === who).map((m) => m.pid));
  assert.is(pid('cli').size, 1);
  assert.is(pid('init').size, 1);
  assert.equal([...pid('launcher')], [...pid('cli')]);
  assert.not.equal([...pid('cli')], [...pid('init')]);
  assert.not.match(r.stdout, /marks/, 'the program holds the profile file open');
  assert.not.match(r.stdout, /RUNTS_PROFILE/, 'the program has the variable');
});

test.run();
