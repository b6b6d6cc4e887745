// e2e: containerd 1.6 with its runc shim (io.containerd.runc.v2) running
// runts as the runc binary: `ctr run --runtime io.containerd.runc.v2
// --runc-binary <runts>`. Issue 6, "Done when" line 5. The image is an OCI
// archive built from the busybox-static rootfs (test/lib/e2e.ts ociArchive).
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { Checks, type Ran, callsFor, eventually, startHarness, scenarios } from '../lib/e2e';

const started = startHarness(['containerd']);
const { harness } = started;
const test = suite('e2e containerd');
const h = harness!;

const scenario = scenarios(test, started);

let fifoDir = '';
/** The runc shim with runts as its binary; state (--runc-root) and fifos in the run's temp dir; the cgroup flags of the harness's mode. */
function runtimeFlags(id: string): string[] {
  if (!fifoDir) {
    fifoDir = join(h.base, 'fifo');
    mkdirSync(fifoDir, { recursive: true });
  }
  return [
    '--runtime',
    'io.containerd.runc.v2',
    '--runc-binary',
    h.wrapper,
    '--runc-root',
    h.ctrRuncRoot!,
    '--fifo-dir',
    fifoDir,
    ...h.ctrCgroupArgs(id),
  ];
}

let n = 0;
const newId = () => `e2e-${process.pid}-${++n}`;

function assertRanOnRunts(id: string): void {
  assert.ok(
    callsFor(h, id).some((c) => c.includes('create')),
    `container ${id} was not created through the runts wrapper`,
  );
}

function assertNoTask(id: string): void {
  assert.not.ok(h.ctr(['tasks', 'ls', '-q']).stdout.split('\n').includes(id), `task ${id} is still listed`);
  assert.not.ok(h.ctr(['containers', 'ls', '-q']).stdout.split('\n').includes(id), `container ${id} is still listed`);
}

function assertClean(ids: string[]): void {
  const left = h.leftovers(ids);
  assert.equal(left, [], `left behind:\n${left.join('\n')}`);
}

const show = (r: Ran) => `exit ${r.code ?? r.signal}; stdout ${JSON.stringify(r.stdout)}; stderr ${JSON.stringify(r.stderr)}`;

scenario('[5] ctr run --rm --runtime io.containerd.runc.v2 --runc-binary <runts>: output and exit code 7', () => {
  const id = newId();
  const r = h.ctr(['run', '--rm', ...runtimeFlags(id), h.ctrImage, id, 'sh', '-c', 'echo hi; echo to-stderr >&2; exit 7']);
  assert.is(r.code, 7, show(r));
  assert.is(r.stdout, 'hi\n');
  assert.match(r.stderr, /to-stderr/);
  assertRanOnRunts(id);
  assertNoTask(id);
  assertClean([id]);
});

scenario('[5] ctr run -d, ctr task exec (exit code), ctr task kill, task rm: nothing left', async () => {
  const id = newId();
  const started = h.ctr([
    'run',
    '-d',
    ...runtimeFlags(id),
    h.ctrImage,
    id,
    'sh',
    '-c',
    'trap "exit 0" TERM; while true; do sleep 1; done',
  ]);
  assert.is(started.code, 0, show(started));
  assertRanOnRunts(id);
  const c = new Checks();
  try {
    await c.check('ctr task ls shows it RUNNING', () => {
      const ls = h.ctr(['tasks', 'ls']);
      assert.match(ls.stdout, new RegExp(`^${id}\\s+\\d+\\s+RUNNING$`, 'm'), ls.stdout + ls.stderr);
    });
    await c.check('ctr task exec … sh -c "echo in; exit 6" reports 6', () => {
      const e = h.ctr(['tasks', 'exec', '--fifo-dir', fifoDir, '--exec-id', 'x1', id, 'sh', '-c', 'echo in-$((2+3)); exit 6'], {
        timeout: 30_000,
      });
      assert.is(e.code, 6, show(e));
      assert.is(e.stdout, 'in-5\n');
    });
    await c.check('ctr task exec … sh -c "sleep 2; exit 7" (outlives runts exec) reports 7', () => {
      const e = h.ctr(['tasks', 'exec', '--fifo-dir', fifoDir, '--exec-id', 'x2', id, 'sh', '-c', 'sleep 2; exit 7'], {
        timeout: 30_000,
      });
      assert.is(e.code, 7, show(e));
    });
    await c.check('ctr task kill (SIGTERM) ends it; ctr task rm', () => {
      const k = h.ctr(['tasks', 'kill', id]);
      assert.is(k.code, 0, show(k));
      let ls = '';
      const stopped = eventually(
        () => new RegExp(`^${id}\\s+\\d+\\s+STOPPED$`, 'm').test((ls = h.ctr(['tasks', 'ls']).stdout)),
        10_000,
        200,
      );
      assert.ok(stopped, `task not STOPPED 10 s after SIGTERM: ${ls}`);
      const rm = h.ctr(['tasks', 'rm', id]);
      assert.is(rm.code, 0, show(rm));
    });
  } finally {
    h.ctr(['tasks', 'kill', '-s', 'SIGKILL', id]);
    h.ctr(['tasks', 'rm', '-f', id]);
    h.ctr(['containers', 'rm', id]);
  }
  await c.check('nothing left behind', () => {
    assertNoTask(id);
    assertClean([id]);
  });
  c.done();
});

if (harness) {
  test('teardown: containerd stopped, nothing left on the host', () => {
    const problems = h.teardown();
    assert.equal(problems, [], problems.join('\n'));
  });
}
test.after(() => {
  harness?.stop();
});

test.run();
