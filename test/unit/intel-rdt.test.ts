// linux.intelRdt (src/linux/intel-rdt.ts) on a fake resctrl tree: the files
// create writes, what delete removes, and the refusals.
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { applyIntelRdt, joinIntelRdt, removeIntelRdt, resctrlRoot, schemataLines } from '../../src/linux/intel-rdt';
import { runtimeProblems } from '../../src/spec/checks';
import { baseSpec } from '../lib/bundle';
import { tempDir } from '../lib/cli';

const test = suite('intel rdt');

/**
 * A fake resctrl: regular files stand for the kernel's, and each write
 * replaces the file, so the test sees the last write (the real schemata
 * file keeps every resource).
 */
function fakeResctrl(): string {
  const root = tempDir();
  writeFileSync(join(root, 'schemata'), 'L3:0=fff\n');
  return root;
}

test('a CLOS named after the container: schemata lines (l3 without MB, memBw, then schemata), the pid in tasks', () => {
  const root = fakeResctrl();
  const rdt = { l3CacheSchema: 'L3:0=7f0;1=1f\nMB:0=100', memBwSchema: 'MB:0=20;1=70', schemata: ['L2:0=f'] };
  assert.equal(schemataLines(rdt), ['L3:0=7f0;1=1f', 'MB:0=20;1=70', 'L2:0=f']);
  const state = applyIntelRdt(root, 'ctr-1', rdt, 4242);
  assert.equal(state, { group: join(root, 'ctr-1'), created: true });
  // Each line is one write; the fake file keeps the last.
  assert.is(readFileSync(join(root, 'ctr-1', 'schemata'), 'utf8'), 'L2:0=f\n');
  assert.is(readFileSync(join(root, 'ctr-1', 'tasks'), 'utf8'), '4242');
});

test('enableMonitoring: a mon_groups/<id> group holding the pid; delete removes it and the CLOS create made', () => {
  const root = fakeResctrl();
  mkdirSync(join(root, 'gold'));
  mkdirSync(join(root, 'gold', 'mon_groups'));
  writeFileSync(join(root, 'gold', 'schemata'), '    L3:0=00ff0;1=1f\nMB:0= 20;1=70\n');
  const state = applyIntelRdt(root, 'ctr-2', { closID: 'gold', l3CacheSchema: 'L3:0=ff0', enableMonitoring: true }, 77);
  assert.equal(state, { group: join(root, 'gold'), created: false, monitor: join(root, 'gold', 'mon_groups', 'ctr-2') });
  assert.is(readFileSync(join(root, 'gold', 'mon_groups', 'ctr-2', 'tasks'), 'utf8'), '77');
  assert.is(readFileSync(join(root, 'gold', 'tasks'), 'utf8'), '77');
  assert.is(
    readFileSync(join(root, 'gold', 'schemata'), 'utf8'),
    '    L3:0=00ff0;1=1f\nMB:0= 20;1=70\n',
    'an existing CLOS is compared, not written',
  );
  // An exec'd process's main thread joins both groups.
  joinIntelRdt(state, 99);
  assert.is(readFileSync(join(root, 'gold', 'tasks'), 'utf8'), '99');
  assert.is(readFileSync(join(state.monitor!, 'tasks'), 'utf8'), '99');
  // resctrl's rmdir takes a group whatever its files: the fake one needs them gone first.
  rmSync(join(state.monitor!, 'tasks'));
  assert.equal(removeIntelRdt(state), []);
  assert.not.ok(existsSync(state.monitor!));
  assert.ok(existsSync(join(root, 'gold')), "the host's pre-configured CLOS stays");
});

test('an existing closID whose schemata differ is an error; a missing one without schemata too; nothing is made', () => {
  const root = fakeResctrl();
  mkdirSync(join(root, 'gold'));
  writeFileSync(join(root, 'gold', 'schemata'), 'L3:0=ff0\n');
  assert.throws(
    () => applyIntelRdt(root, 'c', { closID: 'gold', l3CacheSchema: 'L3:0=f' }, 1),
    /\/linux\/intelRdt: .*differ.*L3:0=f/,
  );
  assert.not.ok(existsSync(join(root, 'gold', 'tasks')));
  assert.throws(
    () => applyIntelRdt(root, 'c', { closID: 'silver' }, 1),
    /\/linux\/intelRdt\/closID: no pre-configured CLOS "silver"/,
  );
  assert.not.ok(existsSync(join(root, 'silver')));
});

test('a failure names the field; delete removes a CLOS create made, not one it found', () => {
  const root = fakeResctrl();
  // No mon_groups in the new CLOS (a host without monitoring): making the monitoring group fails.
  assert.throws(() => applyIntelRdt(root, 'c3', { enableMonitoring: true }, 1), /^\/linux\/intelRdt: .*mon_groups/);
  mkdirSync(join(root, 'made'));
  mkdirSync(join(root, 'found'));
  assert.equal(removeIntelRdt({ group: join(root, 'made'), created: true }), []);
  assert.equal(removeIntelRdt({ group: join(root, 'found'), created: false }), []);
  assert.not.ok(existsSync(join(root, 'made')));
  assert.ok(existsSync(join(root, 'found')));
  // Gone already (a second delete, a host that removed it) is no problem.
  assert.equal(removeIntelRdt({ group: join(root, 'made'), created: true }), []);
});

test('where resctrl is mounted, from mountinfo', () => {
  const info = [
    '22 1 0:21 / /sys rw,nosuid - sysfs sysfs rw',
    '40 22 0:35 / /sys/fs/resctrl rw,relatime - resctrl resctrl rw,mba_MBps',
  ].join('\n');
  assert.is(resctrlRoot(info), '/sys/fs/resctrl');
  assert.is(resctrlRoot('22 1 0:21 / /sys rw,nosuid - sysfs sysfs rw'), undefined);
});

test('checks: closID must name one directory', () => {
  for (const closID of ['', '.', '..', 'a/b']) {
    const spec = baseSpec();
    (spec.linux as { intelRdt?: unknown }).intelRdt = { closID };
    assert.equal(
      runtimeProblems(spec).map((p) => p.pointer),
      ['/linux/intelRdt/closID'],
      closID,
    );
  }
  const spec = baseSpec();
  (spec.linux as { intelRdt?: unknown }).intelRdt = { closID: 'gold', enableMonitoring: true };
  assert.equal(runtimeProblems(spec), []);
});

test.run();
