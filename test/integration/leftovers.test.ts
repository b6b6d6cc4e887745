// The "nothing left behind" helper (conformance/leftovers.ts) that every
// such check uses, tried on leaks made on purpose: a mount under the
// rootfs in our mount namespace, inits and programs runts can no longer
// delete (their state dir removed by hand), a cgroup directory and a state
// dir named after the container. Each must be found, and cleaned up; a
// container deleted as it should be leaves nothing.
import { existsSync, mkdirSync, rmSync, rmdirSync } from 'node:fs';
import { join } from 'node:path';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { hierarchyRoots } from '../../conformance/cgroups';
import { ContainerWatch, leftoversOf } from '../../conformance/leftovers';
import { Trial } from '../../conformance/trial';
import { RUNTS, isRoot, tempDir } from '../lib/cli';
import {
  alive,
  bundle,
  busyboxRootfs,
  leftovers,
  mountsUnder,
  RUN_TOKEN,
  runtime,
  shArgs,
  stateOf,
  uniqueId,
  watchContainer,
} from '../lib/container';
import { sys } from '../../src/sys/index';
import { MNT_DETACH } from '../../src/sys/constants';

const test = suite('leftovers');
const asRoot = isRoot ? test : test.skip;

const LONG = shArgs('echo started; exec sleep 1000');

/** A created container of LONG on the shared rootfs: its root, bundle, id, init pid and a watch made before create. */
function created(script = LONG, observe = true) {
  const root = tempDir('runts-root-');
  const b = bundle(script);
  const id = uniqueId('left');
  const watch = watchContainer({ id, root, bundle: b });
  const r = runtime(['create', '--bundle', b, id], { root });
  assert.is(r.code, 0, r.stderr);
  const pid = stateOf(root, id).pid;
  if (observe) watch.observe(pid);
  return { root, b, id, pid, watch };
}

/** runts forgets the container: its state dir goes, so delete finds nothing to kill. */
function forget(root: string, id: string): void {
  rmSync(join(root, id), { recursive: true, force: true });
  assert.is(runtime(['delete', '--force', id], { root }).code, 0, 'delete --force of a missing container is no error');
}

const kinds = (found: string[]) => [...new Set(found.map((l) => l.split(' ')[0]))].sort();

asRoot('a container deleted as it should be leaves nothing', () => {
  const { root, id, pid, watch } = created();
  assert.is(runtime(['start', id], { root }).code, 0);
  assert.is(runtime(['delete', '--force', id], { root }).code, 0);
  assert.not.ok(alive(pid));
  assert.equal(leftovers(watch), []);
});

asRoot('a leaked init (created; its state dir removed by hand) is found, watched or not, and killed', () => {
  for (const observe of [true, false]) {
    const { root, b, id, pid, watch } = created(LONG, observe);
    forget(root, id);
    assert.ok(alive(pid), 'the init is still there: the leak this test needs');
    // Never watched at all (a failed create's check): its cgroup and the exec.fifo it holds name it.
    const unwatched = leftoversOf({ id, root, bundle: b })
      .filter((l) => l.kind === 'process')
      .map((l) => l.pid);
    assert.equal(unwatched, [pid]);
    const found = leftovers(watch);
    assert.ok(
      found.some((l) => l.startsWith(`process left: ${pid} `)),
      found.join('\n'),
    );
    assert.equal(kinds(found), ['cgroup', 'process'], found.join('\n'));
    assert.not.ok(alive(pid), 'leftovers() kills what it found');
    assert.equal(new ContainerWatch({ id, root, bundle: b }).leftovers(), [], 'the cleanup removed the cgroup too');
  }
});

asRoot("a started container runts forgot: its program and the program's child are found, by namespace and by cgroup", () => {
  for (const observe of [true, false]) {
    const { root, b, id, pid, watch } = created(shArgs('sleep 1001 & exec sleep 1000'), observe);
    assert.is(runtime(['start', id], { root }).code, 0);
    forget(root, id);
    const found = leftovers(watch);
    const pids = found.filter((l) => l.startsWith('process left:')).map((l) => Number(l.split(' ')[2]));
    assert.is(pids.length, 2, found.join('\n'));
    assert.ok(pids.includes(pid), found.join('\n'));
    const why = observe ? /in its (mnt|pid|net|ipc|uts) namespace|the init it had/ : /in its cgroup /;
    assert.ok(
      found.filter((l) => l.startsWith('process left:')).every((l) => why.test(l)),
      found.join('\n'),
    );
    assert.ok(pids.every((p) => !alive(p)));
    assert.equal(leftoversOf({ id, root, bundle: b }), []);
  }
});

asRoot(
  'a tmpfs mounted under the (shared) rootfs in our mount namespace is found; a look under the bundle alone finds nothing',
  () => {
    const { root, b, id, watch } = created();
    const point = join(busyboxRootfs(), 'tmp');
    sys().mount('tmpfs', point, 'tmpfs', 0, null);
    try {
      assert.is(runtime(['delete', '--force', id], { root }).code, 0);
      assert.equal(mountsUnder(b), [], 'the bundle holds only config.json: no mount is ever there');
      assert.equal(leftovers(watch), [`mount left: ${point}`]);
      assert.equal(mountsUnder(point), [], 'leftovers() unmounted it');
    } finally {
      if (mountsUnder(point).length) sys().umount2(point, MNT_DETACH);
    }
  },
);

asRoot('a cgroup directory named after the container, in any hierarchy, is found and removed', () => {
  const { root, id, watch } = created();
  assert.is(runtime(['delete', '--force', id], { root }).code, 0);
  const hierarchy = hierarchyRoots().find((h) => h.endsWith('/pids')) ?? hierarchyRoots()[0];
  assert.ok(hierarchy, 'no cgroup hierarchy on this host');
  const dir = join(hierarchy, `runts-leftovers-${RUN_TOKEN}`, id);
  mkdirSync(dir, { recursive: true });
  try {
    assert.equal(leftovers(watch), [`cgroup left: ${dir}`]);
    assert.not.ok(existsSync(dir));
  } finally {
    for (const d of [dir, join(hierarchy, `runts-leftovers-${RUN_TOKEN}`)]) if (existsSync(d)) rmdirSync(d);
  }
});

asRoot('a state dir left under --root, and a half-deleted one, are found', () => {
  const root = tempDir('runts-root-');
  const id = uniqueId('left');
  mkdirSync(join(root, id));
  mkdirSync(join(root, `~deleting.42.${id}`));
  mkdirSync(join(root, `~deleting.42.${id}0`));
  // A container whose id looks like the old tomb name is another container.
  mkdirSync(join(root, `.deleting-${id}-42`));
  assert.equal(
    leftoversOf({ id, root })
      .map((l) => l.where)
      .sort(),
    [join(root, id), join(root, `~deleting.42.${id}`)],
  );
});

asRoot("what a probe of the caller's finds (a systemd unit, say) is reported with the rest", () => {
  const root = tempDir('runts-root-');
  const found = leftoversOf({ id: 'probed', root, probes: [(c) => [{ kind: 'unit', where: `runts-${c.id}.scope` }]] });
  assert.equal(found, [{ kind: 'unit', where: 'runts-probed.scope' }]);
});

asRoot(
  'conformance: a case that leaked an init (state dir removed by hand) is cleaned up by Trial.finish, which kills the init',
  async () => {
    const rootfs = {
      shared: busyboxRootfs(),
      hostBusybox: '/bin/busybox',
      copy: () => {
        throw new Error('not needed');
      },
    };
    for (const watched of [true, false]) {
      const t = new Trial({ runtime: RUNTS, token: `lo${RUN_TOKEN}`, dir: tempDir('runts-suite-'), rootfs }, watched ? 1 : 2);
      const id = t.newId();
      const bundleDir = t.bundle(t.config('exec sleep 600'));
      // created() reads the state (the watch sees the init); a bare exec of create does not.
      if (watched) await t.rt.created(id, bundleDir);
      else assert.is((await t.rt.exec(['create', '--bundle', bundleDir, id])).code, 0);
      const pid = stateOf(t.rt.root, id).pid;
      rmSync(join(t.rt.root, id), { recursive: true });
      assert.ok(
        t.leftovers(id).some((l) => l.pid === pid),
        `the init ${pid} is not among ${JSON.stringify(t.leftovers(id))}`,
      );
      await t.finish();
      assert.not.ok(alive(pid), `Trial.finish left the init ${pid} (${watched ? 'watched' : 'never watched'}) alive`);
      assert.equal(leftoversOf({ id, root: t.rt.root }), []);
    }
  },
);

test.run();
