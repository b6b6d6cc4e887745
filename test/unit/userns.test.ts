// User namespaces without root: who sets up which namespace, the helper's
// steps, the mappings' checks, and the init's rootfs in a user namespace
// (devices bound from the host, /sys bound without a network namespace)
// against the recording double.
import { join } from 'node:path';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { helperArgv } from '../../src/linux/exec-helper';
import { namespaceSetup } from '../../src/linux/namespaces';
import { prepareRootfs } from '../../src/linux/rootfs';
import { runtimeProblems } from '../../src/spec/checks';
import { loadBundle } from '../../src/spec/load';
import { type InitPlan, makePlan } from '../../src/spec/plan';
import type { Spec } from '../../src/spec/types';
import { MS_BIND, MS_REC } from '../../src/sys/constants';
import { RecordingSys } from '../../src/sys/recording';
import { baseSpec, writeBundle } from '../lib/bundle';

const test = suite('user namespaces (unit)');

const MAPPING = [{ containerID: 0, hostID: 100000, size: 65536 }];

function withUserNamespace(edit: (s: Spec) => void = () => {}): Spec {
  const spec = baseSpec();
  spec.linux!.namespaces!.push({ type: 'user' } as never);
  spec.linux!.uidMappings = structuredClone(MAPPING);
  spec.linux!.gidMappings = structuredClone(MAPPING);
  edit(spec);
  return spec;
}

const problems = (spec: Spec) => runtimeProblems(spec).map((p) => `${p.pointer}: ${p.message}`);

test('without a user namespace: as before, plus a time namespace joined by the helper', () => {
  const setup = namespaceSetup([
    { type: 'pid' },
    { type: 'mount' },
    { type: 'network', path: '/proc/9/ns/net' },
    { type: 'uts' },
    { type: 'time', path: '/proc/9/ns/time' },
  ]);
  assert.equal(setup.pid, { type: 'pid' });
  assert.is(setup.user, undefined);
  assert.equal(setup.helperJoins, [{ type: 'time', path: '/proc/9/ns/time' }]);
  assert.equal(setup.helperNew, ['mount']);
  assert.equal(setup.init, [{ type: 'network', path: '/proc/9/ns/net' }, { type: 'uts' }]);
});

test("with a user namespace: every join and the new pid and mount namespaces are the helper's; cgroup and time anew the init's", () => {
  const setup = namespaceSetup([
    { type: 'pid' },
    { type: 'network', path: '/proc/9/ns/net' },
    { type: 'ipc' },
    { type: 'uts' },
    { type: 'mount' },
    { type: 'cgroup' },
    { type: 'time' },
    { type: 'user' },
  ]);
  assert.is(setup.pid, undefined);
  assert.equal(setup.user, { type: 'user' });
  assert.equal(setup.helperJoins, [{ type: 'network', path: '/proc/9/ns/net' }]);
  assert.equal(setup.helperNew, ['pid', 'mount']);
  assert.equal(setup.init, [{ type: 'ipc' }, { type: 'uts' }, { type: 'cgroup' }, { type: 'time' }]);
  // A joined pid namespace stays create's to enter, for the spawn.
  assert.equal(namespaceSetup([{ type: 'user' }, { type: 'pid', path: '/p' }]).pid, { type: 'pid', path: '/p' });
});

test("the helper's steps in runc's order: joins, the user namespace and its maps, root, the rest made, PID 1 forked", () => {
  const argv = helperArgv(
    {
      syncFd: 7,
      join: [{ kind: 'net', at: '/proc/9/ns/net' }],
      newUser: true,
      root: true,
      unshare: ['pid', 'mnt'],
      fork: true,
    },
    '/usr/bin/node',
    ['node', 'init.cjs'],
  );
  assert.equal(argv, [
    'runts-helper',
    'sync-fd=7',
    'setns=net:/proc/9/ns/net',
    'unshare=user',
    'await-maps',
    'root',
    'unshare=pid,mnt',
    'fork',
    '--',
    '/usr/bin/node',
    'node',
    'init.cjs',
  ]);
});

test('a user namespace with its mappings passes the checks', () => {
  assert.equal(problems(withUserNamespace()), []);
});

const REFUSED: [string, (s: Spec) => void, string][] = [
  [
    'a new user namespace without uid mappings',
    (s) => delete s.linux!.uidMappings,
    '/linux/uidMappings: a new user namespace needs its mappings',
  ],
  [
    'mappings without a user namespace',
    (s) => (s.linux!.namespaces = s.linux!.namespaces!.filter((n) => n.type !== 'user')),
    '/linux/uidMappings: needs a user namespace (linux.namespaces has none)',
  ],
  ['a range of size 0', (s) => (s.linux!.uidMappings![0]!.size = 0), '/linux/uidMappings/0/size: must be greater than zero'],
  [
    'a range past 2^32',
    (s) => (s.linux!.gidMappings![0]!.hostID = 2 ** 32 - 10),
    '/linux/gidMappings/0: the hostID range ends past the last id',
  ],
  [
    'overlapping host ranges',
    (s) => s.linux!.uidMappings!.push({ containerID: 70000, hostID: 100100, size: 10 }),
    '/linux/uidMappings/1: its hostID range overlaps that of /linux/uidMappings/0',
  ],
  [
    'overlapping container ranges',
    (s) => s.linux!.gidMappings!.push({ containerID: 5, hostID: 300000, size: 10 }),
    '/linux/gidMappings/1: its containerID range overlaps that of /linux/gidMappings/0',
  ],
  [
    'more ranges than the kernel takes',
    (s) => (s.linux!.uidMappings = Array.from({ length: 341 }, (_, i) => ({ containerID: i, hostID: 100000 + i, size: 1 }))),
    '/linux/uidMappings: must have at most 340 mappings',
  ],
  [
    'container uid 0 unmapped',
    (s) => (s.linux!.uidMappings = [{ containerID: 1, hostID: 100001, size: 10 }]),
    '/linux/uidMappings: must map container uid 0',
  ],
  ["the process's uid unmapped", (s) => (s.process!.user!.uid = 70000), '/process/user/uid: is not mapped by linux.uidMappings'],
  [
    'an additional gid unmapped',
    (s) => (s.process!.user!.additionalGids = [5, 70000]),
    '/process/user/additionalGids/1: is not mapped by linux.gidMappings',
  ],
  [
    'no mount namespace',
    (s) => (s.linux!.namespaces = s.linux!.namespaces!.filter((n) => n.type !== 'mount')),
    "/linux/namespaces: a user namespace needs a mount namespace of the container's own",
  ],
];

for (const [name, edit, expected] of REFUSED) {
  test(`refused: ${name}`, () => {
    const found = problems(withUserNamespace(edit));
    assert.ok(
      found.some((p) => p.startsWith(expected)),
      `expected "${expected}", got:\n${found.join('\n')}`,
    );
  });
}

test('a joined user namespace needs no mappings', () => {
  const spec = withUserNamespace((s) => {
    s.linux!.namespaces = s.linux!.namespaces!.map((n) =>
      n.type === 'user' ? { type: 'user', path: '/proc/9/ns/user' } : n,
    ) as never;
    delete s.linux!.uidMappings;
    delete s.linux!.gidMappings;
  });
  assert.equal(problems(spec), []);
});

function planOf(spec: Spec): InitPlan {
  const bundle = writeBundle(spec);
  const plan = makePlan(loadBundle(bundle), {
    id: 'x',
    fifoPath: join(bundle, 'exec.fifo'),
    noPivot: false,
    preserveFds: 0,
    cgroup: { version: 2 },
    fifoSocket: 9,
  });
  return JSON.parse(JSON.stringify(plan)) as InitPlan;
}

test('the plan: the init takes exec.fifo from its socket and sets up only what the helper left', () => {
  const plan = planOf(withUserNamespace());
  assert.is(plan.userNamespace, true);
  assert.is(plan.fifoSocket, 9);
  assert.equal(
    plan.namespaces.map((n) => n.type),
    ['network', 'ipc', 'uts'],
  );
});

test("sysfs: mounted with a network namespace of its own, else /sys bound (runc's rule)", () => {
  const sysfs = (spec: Spec) => planOf(spec).mounts.find((m) => m.destination === '/sys')!;
  assert.is(sysfs(withUserNamespace()).type, 'sysfs');
  const bound = sysfs(withUserNamespace((s) => (s.linux!.namespaces = s.linux!.namespaces!.filter((n) => n.type !== 'network'))));
  assert.equal(
    [bound.type, bound.source, bound.bind, (bound.flags & (MS_BIND | MS_REC)) === (MS_BIND | MS_REC)],
    ['bind', '/sys', true, true],
  );
  // Without a user namespace, sysfs stays sysfs.
  const spec = baseSpec();
  spec.linux!.namespaces = spec.linux!.namespaces!.filter((n) => n.type !== 'network');
  assert.is(planOf(spec).mounts.find((m) => m.destination === '/sys')!.type, 'sysfs');
});

test("devices in a user namespace: the host's nodes bound onto empty files, no mknod", () => {
  const plan = planOf(withUserNamespace((s) => (s.root = { path: 'rootfs' })));
  const sys = new RecordingSys();
  prepareRootfs(sys, plan);
  assert.equal(sys.callsTo('mknod'), []);
  const bound = sys
    .callsTo('mount')
    .filter((a) => a[2] === 'bind' && typeof a[0] === 'string' && a[0].startsWith('/dev/'))
    .map((a) => a[0]);
  assert.equal(bound, ['/dev/null', '/dev/zero', '/dev/full', '/dev/random', '/dev/urandom', '/dev/tty']);
});

test.run();
