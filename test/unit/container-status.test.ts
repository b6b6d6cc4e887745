// The lifecycle rules (which status allows which operation, and what a refusal says), and the status a loaded container has.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { Container, type Operation, allows, refusal } from '../../src/container/container';
import { readProcStat } from '../../src/state/process-identity';
import type { ContainerRecord } from '../../src/state/record';
import type { Status } from '../../src/state/status';
import { StateStore } from '../../src/state/store';
import { tempDir } from '../lib/cli';

const test = suite('container-status');

const STATUSES: Status[] = ['creating', 'created', 'running', 'paused', 'stopped'];

/** Each operation: its message for each status, or true where the status allows it. */
const TABLE: Record<Operation, Record<Status, true | string>> = {
  start: {
    creating: 'cannot start a container in the creating state',
    created: true,
    running: 'cannot start an already running container',
    paused: 'cannot start a container in the paused state',
    stopped: 'cannot start a container that has stopped',
  },
  kill: {
    creating: 'container c1 is not running (creating)',
    created: true,
    running: true,
    paused: true,
    stopped: 'container c1 is not running (stopped)',
  },
  delete: {
    creating: true,
    created: true,
    running: 'cannot delete container c1 that is not stopped: running',
    paused: 'cannot delete container c1 that is not stopped: paused',
    stopped: true,
  },
  pause: {
    creating: 'cannot pause container c1 that is creating',
    created: 'cannot pause container c1 that is created',
    running: true,
    paused: 'cannot pause container c1 that is paused',
    stopped: 'cannot pause container c1 that is stopped',
  },
  resume: {
    creating: 'cannot resume container c1 that is creating, not paused',
    created: 'cannot resume container c1 that is created, not paused',
    running: 'cannot resume container c1 that is running, not paused',
    paused: true,
    stopped: 'cannot resume container c1 that is stopped, not paused',
  },
  update: {
    creating: 'cannot update container c1 that is creating',
    created: true,
    running: true,
    paused: true,
    stopped: 'cannot update container c1 that is stopped',
  },
  events: { creating: true, created: true, running: true, paused: true, stopped: 'container with id c1 is not running' },
  exec: {
    creating: 'cannot exec in a creating container',
    created: true,
    running: true,
    paused: 'cannot exec in a paused container (use --ignore-paused to override)',
    stopped: 'cannot exec in a stopped container',
  },
  'exec --ignore-paused': {
    creating: 'cannot exec in a creating container',
    created: true,
    running: true,
    paused: true,
    stopped: 'cannot exec in a stopped container',
  },
};

test('status × operation: allowed, or refused with its one message', () => {
  for (const [operation, row] of Object.entries(TABLE) as [Operation, Record<Status, true | string>][]) {
    for (const status of STATUSES) {
      const want = row[status];
      const what = `${operation} of a ${status} container`;
      assert.is(allows(operation, status), want === true, what);
      if (want !== true) assert.is(refusal(operation, 'c1', status).message, want, what);
    }
  }
});

/** A record for a process this test names, as create would write it. */
function writeRecord(store: StateStore, id: string, fields: Partial<ContainerRecord>): void {
  store.claim(id);
  const self = readProcStat(process.pid)!;
  store.write({
    ociVersion: '1.2.0',
    id,
    status: 'created',
    pid: process.pid,
    pidStartTime: self.startTime,
    bundle: '/b',
    rootfs: '/b/rootfs',
    created: 'now',
    owner: 'root',
    ...fields,
  });
}

test('load: the live status from the record, the init and exec.fifo; the can* methods follow the rules', () => {
  const store = new StateStore(join(tempDir(), 'root'));
  writeRecord(store, 'creating1', { status: 'creating' });
  writeRecord(store, 'created1', {});
  writeFileSync(store.execFifo('created1'), '');
  writeRecord(store, 'running1', {});
  writeRecord(store, 'reused1', { pidStartTime: '1' });
  const expected: Record<string, Status> = {
    creating1: 'creating',
    created1: 'created',
    running1: 'running',
    reused1: 'stopped',
  };
  for (const [id, status] of Object.entries(expected)) {
    const container = Container.load(store, id);
    assert.is(container.status, status, id);
    assert.is(container.id, id);
    assert.is(container.canStart(), allows('start', status), `${id} start`);
    assert.is(container.canKill(), allows('kill', status), `${id} kill`);
    assert.is(container.canPause(), allows('pause', status), `${id} pause`);
    assert.is(container.canResume(), allows('resume', status), `${id} resume`);
    assert.is(container.canUpdate(), allows('update', status), `${id} update`);
    assert.is(container.canWatchEvents(), allows('events', status), `${id} events`);
    assert.is(container.canExec(false), allows('exec', status), `${id} exec`);
    assert.is(container.canExec(true), allows('exec --ignore-paused', status), `${id} exec --ignore-paused`);
    assert.is(container.refusal('start').message, refusal('start', id, status).message);
    assert.is(container.state().status, status);
  }
  assert.is(Container.load(store, 'reused1').state().pid, 0, 'a stopped container reports pid 0');
});

test('load and locked: an id that names no container "does not exist"', async () => {
  const store = new StateStore(join(tempDir(), 'root'));
  assert.throws(() => Container.load(store, 'nothere'), /^container nothere does not exist$/);
  store.claim('half');
  assert.throws(() => Container.load(store, 'half'), /^container half does not exist$/, 'a directory with neither file');
  assert.throws(() => Container.loadRemains(store, 'nothere'), /^container nothere does not exist$/);
  try {
    await Container.locked(store, 'nothere', () => assert.unreachable('ran without a container'));
    assert.unreachable('no error');
  } catch (err) {
    assert.is((err as Error).message, 'container nothere does not exist');
  }
});

test.run();
