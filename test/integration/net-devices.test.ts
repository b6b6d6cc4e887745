// linux.netDevices on real containers, and linux.intelRdt's refusal where
// resctrl is not mounted. The "host" of these tests is a network namespace
// of their own (a sleeping `unshare --net` holds it, and runts runs in it
// through nsenter): the veth pairs they make and move never touch the
// machine's own network, whatever the test runner's isolation.
import { execFileSync } from 'node:child_process';
import { chmodSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import type { Spec } from '../../src/spec/types';
import { RUNTS, isRoot, tempDir } from '../lib/cli';
import {
  bundle,
  leftovers,
  namespaceHolder,
  ownRootfs,
  runtime,
  shArgs,
  stateOf,
  uniqueId,
  watchContainer,
} from '../lib/container';

const test = suite('net devices');
const asRoot = isRoot ? test : test.skip;

/** A new network namespace, held by a sleeping process: its /proc/<pid>/ns/net. */
async function netns(): Promise<{ path: string; stop: () => void }> {
  const holder = await namespaceHolder(['--net']);
  return { path: `/proc/${holder.pid}/ns/net`, stop: holder.stop };
}

let host: { path: string; stop: () => void };
let wrapper: string;

/** A command in the tests' "host" namespace. */
const inHost = (...cmd: string[]) => execFileSync('nsenter', [`--net=${host.path}`, ...cmd], { encoding: 'utf8' });
const hostLinks = () =>
  inHost('ip', '-o', 'link', 'show')
    .split('\n')
    .map((l) => l.split(': ')[1]?.split('@')[0])
    .filter(Boolean);
const hostAddresses = (dev: string) => inHost('ip', '-o', '-4', 'addr', 'show', 'dev', dev);

test.before(async () => {
  if (!isRoot) return;
  host = await netns();
  wrapper = join(tempDir(), 'runts-in-netns');
  writeFileSync(wrapper, `#!/bin/sh\nexec nsenter --net=${host.path} ${RUNTS} "$@"\n`);
  chmodSync(wrapper, 0o755);
});

test.after(() => {
  host?.stop();
});

/** A veth pair: `name` (up, holding 10.77.<n>.1/24) to move, its peer `name`p staying on the host. */
function veth(name: string, n: number): void {
  inHost('ip', 'link', 'add', name, 'type', 'veth', 'peer', 'name', `${name}p`);
  inHost('ip', 'addr', 'add', `10.77.${n}.1/24`, 'dev', name);
  inHost('ip', 'link', 'set', name, 'up');
}

const withDevices = (devices: Record<string, { name?: string }>) => (s: Spec) => {
  (s.linux as { netDevices?: unknown }).netDevices = devices;
};

asRoot('moved in, renamed and up with its address; gone from the host; back under its name and address after delete', () => {
  veth('nd0', 1);
  const root = tempDir();
  const id = uniqueId('netdev');
  const b = bundle((s) => {
    shArgs('exec sleep 1000')(s);
    withDevices({ nd0: { name: 'ctr0' } })(s);
  });
  const created = runtime(['create', '--bundle', b, id], { root, runtime: wrapper });
  assert.is(created.code, 0, created.stderr);
  try {
    assert.is(runtime(['start', id], { root, runtime: wrapper }).code, 0);
    const inside = runtime(
      ['exec', id, 'sh', '-c', 'cat /proc/net/dev; ip -o -4 addr show dev ctr0; cat /sys/class/net/ctr0/operstate'],
      {
        root,
        runtime: wrapper,
      },
    );
    assert.is(inside.code, 0, inside.stderr);
    assert.match(inside.stdout, /^\s*ctr0:/m, 'the device is in the container, renamed');
    assert.not.match(inside.stdout, /^\s*nd0:/m);
    assert.match(inside.stdout, /ctr0\s+inet 10\.77\.1\.1\/24/, 'with its address');
    assert.ok(!hostLinks().includes('nd0'), `nd0 is still on the host: ${hostLinks()}`);
    assert.ok(hostLinks().includes('nd0p'), 'its peer stayed');
  } finally {
    const deleted = runtime(['delete', '--force', id], { root, runtime: wrapper });
    assert.is(deleted.code, 0, deleted.stderr);
  }
  assert.ok(hostLinks().includes('nd0'), `nd0 is not back: ${hostLinks()}`);
  assert.ok(!hostLinks().includes('ctr0'));
  assert.match(hostAddresses('nd0'), /inet 10\.77\.1\.1\/24/, 'its address came back with it');
  assert.match(inHost('ip', '-o', 'link', 'show', 'nd0'), /state DOWN/, 'down, as the spec asks before the move back');
  inHost('ip', 'link', 'del', 'nd0');
});

asRoot('a network namespace joined by path: `run` moves the device back when the program is done', async () => {
  veth('nd1', 2);
  const joined = await netns();
  try {
    const root = tempDir();
    const b = bundle((s) => {
      shArgs('cat /proc/net/dev')(s);
      withDevices({ nd1: {} })(s);
      s.linux!.namespaces = s.linux!.namespaces!.map((ns) =>
        ns.type === 'network' ? { type: 'network', path: joined.path } : ns,
      );
    });
    const r = runtime(['run', '--bundle', b, uniqueId('netdev')], { root, runtime: wrapper });
    assert.is(r.code, 0, r.stderr);
    assert.match(r.stdout, /^\s*nd1:/m);
    assert.ok(hostLinks().includes('nd1'), `nd1 is not back: ${hostLinks()}`);
    assert.match(hostAddresses('nd1'), /inet 10\.77\.2\.1\/24/);
    assert.is(execFileSync('nsenter', [`--net=${joined.path}`, 'ip', '-o', 'link'], { encoding: 'utf8' }).includes('nd1'), false);
  } finally {
    joined.stop();
    inHost('ip', 'link', 'del', 'nd1');
  }
});

asRoot('a failed create (a device that is not there) names the entry, moves back what it moved and leaves no container', () => {
  veth('nd2', 3);
  const root = tempDir();
  const id = uniqueId('netdev');
  const b = bundle((s) => {
    shArgs('echo the-program-ran')(s);
    withDevices({ nd2: { name: 'ctr2' }, absent0: {} })(s);
  });
  const watch = watchContainer({ id, root, bundle: b });
  const r = runtime(['run', '--bundle', b, id], { root, runtime: wrapper });
  assert.equal(leftovers(watch), []);
  assert.is(r.code, 1, r.stderr);
  assert.match(r.stderr, /\/linux\/netDevices\/absent0: link absent0: no such device/i);
  assert.is(r.stdout, '');
  assert.throws(() => stateOf(root, id, wrapper));
  assert.equal(readdirSync(root), [], 'the state dir is empty');
  assert.ok(hostLinks().includes('nd2'), `nd2 is not back: ${hostLinks()}`);
  assert.match(hostAddresses('nd2'), /inet 10\.77\.3\.1\/24/);
  inHost('ip', 'link', 'del', 'nd2');
});

asRoot("the runtime's own network namespace, joined by path, is refused by pointer", () => {
  veth('nd3', 4);
  const root = tempDir();
  const b = bundle((s) => {
    shArgs('echo the-program-ran')(s);
    withDevices({ nd3: {} })(s);
    s.linux!.namespaces = s.linux!.namespaces!.map((ns) => (ns.type === 'network' ? { type: 'network', path: host.path } : ns));
  });
  const r = runtime(['run', '--bundle', b, uniqueId('netdev')], { root, runtime: wrapper });
  assert.is(r.code, 1, r.stderr);
  assert.match(r.stderr, /\/linux\/netDevices: the container's network namespace is the runtime's own/);
  assert.ok(hostLinks().includes('nd3'));
  inHost('ip', 'link', 'del', 'nd3');
});

asRoot('with a user namespace: into the network namespace it owns, and back on delete', () => {
  veth('nd4', 5);
  const rootfs = ownRootfs();
  chmodSync(dirname(rootfs), 0o755);
  const root = tempDir();
  const id = uniqueId('netdev');
  const mapping = [{ containerID: 0, hostID: 100000, size: 65536 }];
  const b = bundle(
    (s) => {
      s.linux!.namespaces!.push({ type: 'user' } as never);
      s.linux!.uidMappings = mapping;
      s.linux!.gidMappings = mapping;
      shArgs('exec sleep 1000')(s);
      withDevices({ nd4: { name: 'ctr4' } })(s);
    },
    { rootfs },
  );
  const created = runtime(['create', '--bundle', b, id], { root, runtime: wrapper });
  assert.is(created.code, 0, created.stderr);
  try {
    const pid = stateOf(root, id, wrapper).pid;
    const inside = execFileSync('nsenter', [`--net=/proc/${pid}/ns/net`, 'cat', '/proc/net/dev'], { encoding: 'utf8' });
    assert.match(inside, /^\s*ctr4:/m);
    assert.ok(!hostLinks().includes('nd4'));
  } finally {
    const deleted = runtime(['delete', '--force', id], { root, runtime: wrapper });
    assert.is(deleted.code, 0, deleted.stderr);
  }
  assert.ok(hostLinks().includes('nd4'), `nd4 is not back: ${hostLinks()}`);
  assert.match(hostAddresses('nd4'), /inet 10\.77\.5\.1\/24/);
  inHost('ip', 'link', 'del', 'nd4');
});

const resctrl = readFileSync('/proc/self/mountinfo', 'utf8').includes(' - resctrl ');
(isRoot && !resctrl ? test : test.skip)('intelRdt where resctrl is not mounted: refused by pointer, nothing left', () => {
  const root = tempDir();
  const id = uniqueId('rdt');
  const b = bundle((s) => {
    shArgs('echo the-program-ran')(s);
    (s.linux as { intelRdt?: unknown }).intelRdt = { closID: 'runts-test', l3CacheSchema: 'L3:0=f' };
  });
  const r = runtime(['run', '--bundle', b, id], { root });
  assert.is(r.code, 1, r.stderr);
  assert.match(r.stderr, /\/linux\/intelRdt: resctrl is not mounted on this host/);
  assert.is(r.stdout, '');
  assert.equal(readdirSync(root), []);
});

test.run();
