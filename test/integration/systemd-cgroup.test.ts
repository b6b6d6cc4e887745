// --systemd-cgroup where systemd cannot be reached (this host has no systemd
// as PID 1): create fails at once with one clear sentence, exit 1, no stack
// trace, the JSON log line names the cause, and nothing is left (state,
// cgroup, init). And the "slice:prefix:name" cgroupsPath goes only with the
// flag. (The driver's success path needs systemd: see the systemd VM test.)
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { isRoot, tempDir } from '../lib/cli';
import { bundle, leftovers, runtime, shArgs, uniqueId, watchContainer } from '../lib/container';

const test = suite('systemd cgroup driver, without systemd');
const asRoot = isRoot ? test : test.skip;
const booted = existsSync('/run/systemd/system');
// Making systemd look booted (a tmpfs on /run/systemd) needs the private mount namespace npm test gives each file.
const isolated = process.env.RUNTS_TEST_ISOLATED === '1';

/** create with --systemd-cgroup and a JSON log: the outcome, the log's lines, and what it left. */
function createWithSystemd(edit: Parameters<typeof bundle>[0] = shArgs('true')) {
  const root = join(tempDir(), 'root');
  const logFile = join(tempDir(), 'log.json');
  const b = bundle(edit);
  const id = uniqueId();
  const watch = watchContainer({ id, root, bundle: b });
  const r = runtime(['--systemd-cgroup', '--log', logFile, '--log-format', 'json', 'create', '--bundle', b, id], { root });
  const log = existsSync(logFile)
    ? readFileSync(logFile, 'utf8')
        .split('\n')
        .filter(Boolean)
        .map((l) => JSON.parse(l))
    : [];
  return { r, log, left: leftovers(watch), entries: existsSync(root) ? readdirSync(root) : [] };
}

function assertCleanFailure(outcome: ReturnType<typeof createWithSystemd>, reason: RegExp) {
  const { r, log, left, entries } = outcome;
  assert.is(r.code, 1, `create succeeded: ${r.stderr}`);
  assert.match(r.stderr, reason);
  assert.not.match(r.stderr, /\n\s+at /, 'a stack trace');
  const errors = log.filter((l) => l.level === 'error');
  assert.is(errors.length, 1, JSON.stringify(log));
  assert.match(errors[0].msg, reason);
  assert.equal(left, []);
  assert.equal(entries, [], 'entries left under --root');
}

(booted ? test.skip : asRoot)('no systemd as init: create --systemd-cgroup fails at once, says so, leaves nothing', () => {
  const started = Date.now();
  const outcome = createWithSystemd();
  assertCleanFailure(outcome, /--systemd-cgroup: systemd is not running on this host \(no \/run\/systemd\/system\)/);
  assert.ok(Date.now() - started < 10_000, 'not at once');
});

(booted || !isolated ? test.skip : asRoot)(
  'systemd "booted" but neither its bus nor its private socket there: the same, naming both sockets',
  () => {
    mkdirSync('/run/systemd', { recursive: true });
    execFileSync('mount', ['-t', 'tmpfs', 'runts-test', '/run/systemd']);
    const bus = process.env.DBUS_SYSTEM_BUS_ADDRESS;
    try {
      mkdirSync('/run/systemd/system');
      process.env.DBUS_SYSTEM_BUS_ADDRESS = `unix:path=${join(tempDir(), 'no-bus')}`;
      const outcome = createWithSystemd((s) => (s.linux!.cgroupsPath = 'system.slice:runts-test:x'));
      assertCleanFailure(
        outcome,
        /--systemd-cgroup: cannot reach systemd over D-Bus \(\S+\/no-bus: connect ENOENT.*; \/run\/systemd\/private: connect ENOENT/,
      );
    } finally {
      if (bus === undefined) delete process.env.DBUS_SYSTEM_BUS_ADDRESS;
      else process.env.DBUS_SYSTEM_BUS_ADDRESS = bus;
      execFileSync('umount', ['/run/systemd']);
    }
  },
);

asRoot('"slice:prefix:name" needs --systemd-cgroup; the flag needs that form', () => {
  const root = tempDir();
  const path = runtime(['create', '--bundle', bundle((s) => (s.linux!.cgroupsPath = 'system.slice:docker:abc')), uniqueId()], {
    root,
  });
  assert.is(path.code, 1);
  assert.match(path.stderr, /\/linux\/cgroupsPath: the systemd form \\"slice:prefix:name\\" needs --systemd-cgroup/);
  const flag = runtime(
    ['--systemd-cgroup', 'create', '--bundle', bundle((s) => (s.linux!.cgroupsPath = '/runts/abc')), uniqueId()],
    { root },
  );
  assert.is(flag.code, 1);
  assert.match(flag.stderr, /\/linux\/cgroupsPath: with --systemd-cgroup it must have the form \\"slice:prefix:name\\"/);
  assert.equal(readdirSync(root), []);
});

test.run();
