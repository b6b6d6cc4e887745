// Id-mapped bind mounts (mounts[].uidMappings/gidMappings, "idmap",
// "ridmap") in containers without a user namespace: owners as the mapping
// shows them inside, files made inside owned as mapped on the host, the
// top mount only or the whole tree, and a refusal, by the validation or by
// the kernel, that leaves nothing behind.
import { execFileSync } from 'node:child_process';
import { chmodSync, chownSync, existsSync, mkdirSync, readFileSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import type { Mount, Spec } from '../../src/spec/types';
import { RUNTS, isRoot, tempDir } from '../lib/cli';
import { bundle, leftovers, runBundle, runtime, shArgs, uniqueId, watchContainer } from '../lib/container';

const test = suite('id-mapped mounts');
const asRoot = isRoot ? test : test.skip;

/**
 * As runc reads a mount's mapping: the ids on the source's filesystem are
 * the containerIDs, seen as the hostIDs (without a user namespace, what
 * the container sees). Here files of uid/gid 1000 are root's.
 */
const MAP = [{ containerID: 1000, hostID: 0, size: 1 }];

/** A host directory owned by 1000 (root inside), with a file owned by 1000 and one by 0. */
function source(): string {
  const dir = tempDir('runts-idmap-');
  writeFileSync(join(dir, 'mine'), 'x');
  writeFileSync(join(dir, 'roots'), 'x');
  chownSync(dir, 1000, 1000);
  chownSync(join(dir, 'mine'), 1000, 1000);
  return dir;
}

const idmapped = (src: string, options: string[], extra: Partial<Mount> = {}): Mount => ({
  destination: '/data',
  type: 'bind',
  source: src,
  options,
  uidMappings: MAP,
  gidMappings: MAP,
  ...extra,
});

function run(edit: (s: Spec) => void): string {
  const r = runBundle(bundle(edit));
  assert.is(r.code, 0, `run failed: ${r.stderr}`);
  return r.stdout;
}

const lines = (out: string) => out.trim().split('\n');

asRoot(
  'owners through the mount are mapped; a file made inside as root is the host uid 1000; unmapped owners are the overflow id',
  () => {
    const src = source();
    const overflow = readFileSync('/proc/sys/kernel/overflowuid', 'utf8').trim();
    const out = run((s) => {
      s.mounts!.push(idmapped(src, ['bind']));
      shArgs('stat -c %u:%g /data/mine /data/roots; echo made > /data/new && stat -c %u:%g /data/new')(s);
    });
    assert.equal(lines(out), ['0:0', `${overflow}:${overflow}`, '0:0']);
    const made = statSync(join(src, 'new'));
    assert.equal([made.uid, made.gid], [1000, 1000], 'owner on the host of the file made inside');
    assert.equal(
      [statSync(join(src, 'mine')).uid, statSync(join(src, 'roots')).uid],
      [1000, 0],
      'the source files are unchanged',
    );
  },
);

asRoot('the "idmap" word with the mount\'s mappings; read-only and the other bind attributes still apply', () => {
  const src = source();
  const out = run((s) => {
    s.mounts!.push(idmapped(src, ['bind', 'idmap', 'ro']));
    shArgs('stat -c %u /data/mine; touch /data/other 2>/dev/null && echo writable || echo read-only')(s);
  });
  assert.equal(lines(out), ['0', 'read-only']);
  assert.not.ok(existsSync(join(src, 'other')));
});

/** A source with a tmpfs submount holding a file owned by 1000. */
function nestedSource(): string {
  const src = source();
  mkdirSync(join(src, 'sub'));
  execFileSync('mount', ['-t', 'tmpfs', 'tmpfs', join(src, 'sub')]);
  writeFileSync(join(src, 'sub', 'file'), 'x');
  chownSync(join(src, 'sub', 'file'), 1000, 1000);
  return src;
}

asRoot('the direction: ids on the source are containerIDs, seen as hostIDs', () => {
  const src = tempDir('runts-idmap-');
  chmodSync(src, 0o755);
  writeFileSync(join(src, 'roots'), 'x');
  const out = run((s) => {
    s.mounts!.push(idmapped(src, ['bind'], { uidMappings: [{ containerID: 0, hostID: 100000, size: 65536 }] }));
    shArgs('stat -c %u /data/roots')(s);
  });
  assert.equal(lines(out), ['100000']);
});

asRoot('rbind with "idmap" maps the top mount only; with "ridmap" the submount too', () => {
  const src = nestedSource();
  try {
    const script = shArgs('stat -c %u /data/mine /data/sub/file');
    assert.equal(lines(run((s) => (s.mounts!.push(idmapped(src, ['rbind', 'idmap'])), script(s)))), ['0', '1000']);
    assert.equal(lines(run((s) => (s.mounts!.push(idmapped(src, ['rbind', 'ridmap'])), script(s)))), ['0', '0']);
  } finally {
    execFileSync('umount', [join(src, 'sub')]);
  }
});

asRoot('a mount after the id-mapped one, in config order, lands on it', () => {
  const src = source();
  const out = run((s) => {
    s.mounts!.push(idmapped(src, ['bind']), { destination: '/data/tmp', type: 'tmpfs', source: 'tmpfs' });
    shArgs('grep -c " /data/tmp " /proc/self/mountinfo; stat -c %u /data/mine')(s);
  });
  assert.equal(lines(out), ['1', '0']);
  assert.ok(existsSync(join(src, 'tmp')), 'the mount point made through the id-mapped mount');
});

/** Processes of the userns holder still around (none once create has returned). */
const holders = () =>
  readdirSync('/proc')
    .filter((p) => /^\d+$/.test(p))
    .filter((p) => {
      try {
        return readFileSync(`/proc/${p}/cmdline`, 'utf8').includes('userns-hold');
      } catch {
        return false;
      }
    });

function refused(edit: (s: Spec) => void, reason: RegExp): void {
  const root = join(tempDir(), 'root');
  const b = bundle(edit);
  const id = uniqueId();
  const mountsBefore = readFileSync('/proc/self/mountinfo', 'utf8');
  const watch = watchContainer({ id, root, bundle: b });
  const r = runtime(['create', '--bundle', b, id], { root });
  assert.is(r.code, 1, `create succeeded: ${r.stderr}`);
  assert.match(r.stderr, reason);
  assert.equal(leftovers(watch), []);
  assert.equal(existsSync(root) ? readdirSync(root) : [], [], 'entries left under --root');
  assert.equal(holders(), [], 'user namespace holders left');
  assert.is(readFileSync('/proc/self/mountinfo', 'utf8'), mountsBefore, 'mounts changed');
}

asRoot('bad mappings are refused with their pointer, before anything is made', () => {
  const src = source();
  refused(
    (s) =>
      s.mounts!.push(
        idmapped(src, ['bind'], {
          uidMappings: [
            { containerID: 0, hostID: 1000, size: 10 },
            { containerID: 5, hostID: 2000, size: 10 },
          ],
        }),
      ),
    /\/mounts\/\d+\/uidMappings\/1: its containerID range overlaps that of \/mounts\/\d+\/uidMappings\/0/,
  );
  refused(
    (s) => s.mounts!.push(idmapped(src, ['bind'], { gidMappings: [{ containerID: 0, hostID: 1000, size: 0 }] })),
    /\/mounts\/\d+\/gidMappings\/0\/size: must be greater than zero/,
  );
  refused(
    (s) => s.mounts!.push({ destination: '/data', type: 'tmpfs', source: 'tmpfs', uidMappings: MAP, gidMappings: MAP }),
    /\/mounts\/\d+: id-mapped mounts are only supported for bind mounts/,
  );
  refused(
    (s) => s.mounts!.push({ destination: '/data', type: 'bind', source: src, options: ['rbind', 'ridmap'] }),
    /\/mounts\/\d+\/options\/1: needs uidMappings and gidMappings on the mount, or a user namespace/,
  );
});

asRoot("a source whose filesystem refuses id-mapping (sysfs): the kernel's error, and nothing left behind", () => {
  refused(
    (s) => s.mounts!.push(idmapped('/sys/kernel', ['rbind'])),
    /mount \/sys\/kernel to \/data: id-mapped mount: mount_setattr .*Invalid argument \(the filesystem of the source may not support id-mapped mounts/,
  );
});

asRoot('features: mountExtensions.idmap enabled, and the idmap and ridmap words', () => {
  const doc = JSON.parse(execFileSync(RUNTS, ['features'], { encoding: 'utf8' }));
  assert.equal(doc.linux.mountExtensions, { idmap: { enabled: true } });
  assert.ok(doc.mountOptions.includes('idmap') && doc.mountOptions.includes('ridmap'));
});

test.run();
