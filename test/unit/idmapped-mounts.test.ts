// Id-mapped mounts without root: the option words, the plan, the
// validation, create's side (detached mounts from a user namespace given by
// path) and the init's (each attached at its turn in mounts[]) against the
// recording double.
import { mkdirSync, openSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { detachIdmappedMounts, receiveDetachedMounts, sendDetachedMounts } from '../../src/linux/idmapped-mounts';
import { parseMountOptions } from '../../src/linux/mount-options';
import { prepareRootfs } from '../../src/linux/rootfs';
import { runtimeProblems } from '../../src/spec/checks';
import { makePlan } from '../../src/spec/plan';
import type { Mount, Spec } from '../../src/spec/types';
import { EINVAL, MS_BIND, MS_RDONLY, MS_REC, MS_REMOUNT } from '../../src/sys/constants';
import { RecordingSys } from '../../src/sys/recording';
import { baseSpec } from '../lib/bundle';
import { tempDir } from '../lib/cli';

const test = suite('id-mapped mounts (recorded)');

const MAP = [{ containerID: 1000, hostID: 0, size: 1 }];
const CONTAINER_MAP = [{ containerID: 0, hostID: 100000, size: 65536 }];

function specWith(...mounts: Mount[]): Spec {
  const spec = baseSpec();
  spec.mounts = mounts;
  return spec;
}

function planOf(spec: Spec) {
  const rootfs = join(tempDir(), 'rootfs');
  mkdirSync(rootfs);
  return makePlan(
    { bundle: '/b', file: '/b/config.json', spec, rootfs },
    { id: 'x', fifoPath: '/f', noPivot: false, preserveFds: 0, cgroup: { version: 2 } },
  );
}

const problems = (spec: Spec) => runtimeProblems(spec).map((p) => `${p.pointer}: ${p.message}`);

test('idmap and ridmap are words of their own, never mount data; the last one given counts', () => {
  assert.equal(parseMountOptions(['rbind', 'idmap', 'size=1']).idmap, { recursive: false });
  assert.is(parseMountOptions(['rbind', 'idmap', 'size=1']).data, 'size=1');
  assert.equal(parseMountOptions(['idmap', 'ridmap']).idmap, { recursive: true });
  assert.is(parseMountOptions(['rbind']).idmap, undefined);
});

test('plan: mappings alone mean idmap; ridmap is recursive; idmap alone takes the container user namespace', () => {
  const spec = specWith(
    { destination: '/a', type: 'bind', source: '/src', options: ['rbind'], uidMappings: MAP, gidMappings: MAP },
    { destination: '/b', type: 'bind', source: '/src', options: ['rbind', 'ridmap'], uidMappings: MAP, gidMappings: MAP },
    { destination: '/c', type: 'bind', source: '/src', options: ['bind', 'idmap'] },
    { destination: '/d', type: 'bind', source: '/src', options: ['bind'] },
  );
  spec.linux!.uidMappings = CONTAINER_MAP;
  spec.linux!.gidMappings = CONTAINER_MAP;
  const [a, b, c, d] = planOf(spec).mounts.slice(-4);
  assert.equal(a!.idmap, { recursive: false, userns: { uidMappings: MAP, gidMappings: MAP } });
  assert.equal(b!.idmap, { recursive: true, userns: { uidMappings: MAP, gidMappings: MAP } });
  assert.equal(c!.idmap, { recursive: false, userns: { uidMappings: CONTAINER_MAP, gidMappings: CONTAINER_MAP } });
  assert.is(d!.idmap, undefined);
  spec.linux!.namespaces!.push({ type: 'user', path: '/proc/1/ns/user' });
  assert.equal(planOf(spec).mounts.at(-2)!.idmap, { recursive: false, userns: { path: '/proc/1/ns/user' } });
});

test('validation: a good id-mapped bind passes; each bad one is named by its pointer', () => {
  const bind = (extra: Partial<Mount>): Mount => ({ destination: '/d', type: 'bind', source: '/s', options: ['bind'], ...extra });
  assert.equal(problems(specWith(bind({ uidMappings: MAP, gidMappings: MAP }))), []);
  const n = baseSpec().mounts!.length;
  assert.equal(
    problems(
      specWith(
        ...baseSpec().mounts!,
        bind({
          uidMappings: [
            { containerID: 0, hostID: 1000, size: 10 },
            { containerID: 9, hostID: 5000, size: 1 },
            { containerID: 20, hostID: 1005, size: 0 },
            { containerID: 4294967290, hostID: 9000, size: 10 },
          ],
          gidMappings: MAP,
        }),
      ),
    ),
    [
      `/mounts/${n}/uidMappings/1: its containerID range overlaps that of /mounts/${n}/uidMappings/0`,
      `/mounts/${n}/uidMappings/2/size: must be greater than zero`,
      `/mounts/${n}/uidMappings/3: the containerID range ends past the last id (4294967295)`,
    ],
  );
  assert.equal(problems(specWith(bind({ uidMappings: MAP }))), [
    '/mounts/0/gidMappings: an id-mapped mount needs both uidMappings and gidMappings',
  ]);
  assert.equal(
    problems(
      specWith({ destination: '/d', type: 'tmpfs', source: 'tmpfs', options: ['idmap'], uidMappings: MAP, gidMappings: MAP }),
    ),
    ['/mounts/0: id-mapped mounts are only supported for bind mounts'],
  );
  assert.equal(problems(specWith(bind({ options: ['rbind', 'nosuid', 'ridmap'] }))), [
    "/mounts/0/options/2: needs uidMappings and gidMappings on the mount, or a user namespace of the container's (linux.namespaces has none)",
  ]);
});

test("create's side: one user namespace opened for two mounts, each source cloned (recursively for rbind) and mapped", async () => {
  const sys = new RecordingSys();
  const src = tempDir();
  const userns = join(tempDir(), 'userns');
  writeFileSync(userns, '');
  const mounts = [
    { destination: '/a', source: src, flags: MS_BIND | MS_REC, idmap: { recursive: true, userns: { path: userns } } },
    { destination: '/b', source: src, flags: 0 },
    { destination: '/c', source: src, flags: MS_BIND, idmap: { recursive: false, userns: { path: userns } } },
  ];
  const detached = await detachIdmappedMounts(sys, mounts);
  assert.is(detached.length, 2);
  assert.equal(sys.callsTo('openTreeClone'), [
    [src, true],
    [src, false],
  ]);
  const nsFd = sys.callsTo('idmapMount')[0]![1];
  assert.equal(sys.callsTo('idmapMount'), [
    [detached[0], nsFd, true],
    [detached[1], nsFd, false],
  ]);
  assert.equal(sys.callsTo('close'), [[nsFd]], 'the user namespace closed once used, the mounts kept');
  sendDetachedMounts(sys, 55, detached);
  assert.equal(sys.callsTo('sendFds'), [
    [55, '', [detached[0]]],
    [55, '', [detached[1]]],
  ]);
  assert.equal(sys.callsTo('close').slice(1), [[detached[0]], [detached[1]]]);
});

test("create's side: a filesystem that refuses the mapping is named, and nothing made stays open", async () => {
  const sys = new RecordingSys().failOn('idmapMount', EINVAL);
  const src = tempDir();
  const userns = join(tempDir(), 'userns');
  writeFileSync(userns, '');
  const m = { destination: '/a', source: src, flags: MS_BIND, idmap: { recursive: false, userns: { path: userns } } };
  try {
    await detachIdmappedMounts(sys, [m]);
    assert.unreachable('no error');
  } catch (err) {
    assert.match((err as Error).message, `mount ${src} to /a: id-mapped mount: `);
    assert.match((err as Error).message, /invalid argument/i);
  }
  const opened = [sys.callsTo('openTreeClone').length, sys.callsTo('open').length];
  assert.equal(opened, [1, 1]);
  assert.is(sys.callsTo('close').length, 2, 'the clone and the user namespace closed');
});

test("the init's side: the detached mounts received in mounts[] order, each attached at its turn, then its attributes", () => {
  const sys = new RecordingSys();
  const src = tempDir();
  mkdirSync(join(src, 'dir'));
  const plan = planOf(
    specWith(
      { destination: '/tmp', type: 'tmpfs', source: 'tmpfs' },
      { destination: '/data', type: 'bind', source: src, options: ['rbind', 'ro'], uidMappings: MAP, gidMappings: MAP },
      { destination: '/data/tmp', type: 'tmpfs', source: 'tmpfs' },
    ),
  );
  const socket = openSync(tempDir(), 'r');
  const received = receiveDetachedMounts(sys, socket, plan.mounts);
  assert.equal([...received.keys()], [1]);
  assert.equal(sys.callsTo('recvFd'), [[socket]]);
  // What create would have sent: a clone of the source (the double's is an O_PATH of it).
  const detached = new Map([[1, sys.openTreeClone(src, true)]]);
  prepareRootfs(sys, plan, detached);
  const steps = sys.calls
    .filter((c) => c.call === 'mount' || c.call === 'moveMount')
    .slice(3)
    .map((c) => [c.call, ...c.args.slice(0, 2)]);
  assert.equal(steps, [
    ['mount', 'tmpfs', `${plan.rootfs}/tmp`],
    ['moveMount', src, `${plan.rootfs}/data`],
    ['mount', null, `${plan.rootfs}/data`],
    ['mount', 'tmpfs', `${plan.rootfs}/data/tmp`],
  ]);
  const remount = sys.callsTo('mount').find((a) => a[1] === `${plan.rootfs}/data`)!;
  assert.is(remount[3], MS_BIND | MS_REMOUNT | MS_RDONLY);
  assert.not.ok(
    sys.callsTo('mount').some((a) => a[0] === src),
    'the source bound again besides',
  );
});

test('the init refuses an id-mapped mount that create did not send', () => {
  const sys = new RecordingSys();
  const plan = planOf(
    specWith({ destination: '/data', type: 'bind', source: tempDir(), options: ['bind'], uidMappings: MAP, gidMappings: MAP }),
  );
  assert.throws(() => prepareRootfs(sys, plan), /the id-mapped mount did not come from create/);
});

test.run();
