// Host escapes, tried as an attacker would (issue "close the host escapes"):
// a config without a mount namespace, a cwd through a magic link to another
// thread's or process's root, a program whose "#!" names /proc/self/exe.
// Each test here failed on runts before its fix; docs/security.md names them.
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, readdirSync, readlinkSync, writeFileSync, chmodSync } from 'node:fs';
import { join } from 'node:path';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import type { Spec } from '../../src/spec/types';
import { RUNTS, isRoot, tempDir } from '../lib/cli';
import {
  alive,
  bundle,
  leftovers,
  mountsUnder,
  ownRootfs,
  runBundle,
  runtime,
  shArgs,
  stateOf,
  uniqueId,
  watchContainer,
} from '../lib/container';

const test = suite('host escapes');
const asRoot = isRoot ? test : test.skip;

/** The caller's mount table, one "mount point + propagation" line per mount, outside dir. */
function mountTableOutside(dir: string): string[] {
  return readFileSync('/proc/self/mountinfo', 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((line) => {
      const f = line.split(' ');
      const sep = f.indexOf('-');
      // mount point, options, optional fields (shared:N, master:N): what a pivot or a propagation change alters
      return [f[4], f[5], ...f.slice(6, sep)].join(' ');
    })
    .filter((l) => {
      const [point = ''] = l.split(' ');
      return point !== dir && !point.startsWith(`${dir}/`);
    });
}

const withoutNamespace = (type: string) => (s: Spec) => {
  s.linux!.namespaces = s.linux!.namespaces!.filter((n) => n.type !== type);
};

/** Every namespace removed, and what runts (like runc) cannot honour without a mount namespace. */
const inheritEverything = (s: Spec) => {
  s.linux!.namespaces = [];
  delete s.hostname;
  delete s.linux!.maskedPaths;
  delete s.linux!.readonlyPaths;
  s.root!.readonly = false;
};

asRoot('the tests run in mount, pid, uts and ipc namespaces of their own (test/run.mjs)', () => {
  // PID 1 of this namespace is the runner's reaper, not the machine's init.
  assert.match(readFileSync('/proc/1/cmdline', 'utf8'), /runts-isolated/);
  assert.is(process.pid, 2);
});

asRoot(
  'no mount namespace: the container shares ours, chrooted; our mount table is untouched, its mounts are gone after delete',
  () => {
    const rootfs = ownRootfs();
    const b = bundle(
      (s) => {
        inheritEverything(s);
        shArgs('readlink /proc/self/ns/mnt; cat /proc/self/mountinfo | wc -l; ls /bin/busybox; sleep 30')(s);
      },
      { rootfs },
    );
    const root = tempDir('runts-root-');
    const id = uniqueId('inherit');
    const before = mountTableOutside(rootfs);
    const ourNamespaces = ['mnt', 'pid', 'net', 'ipc', 'uts', 'cgroup'].map((ns) => readlinkSync(`/proc/self/ns/${ns}`));
    const watch = watchContainer({ id, root, bundle: b });
    const created = runtime(['create', '--bundle', b, id], { root });
    assert.is(created.code, 0, created.stderr);
    try {
      const { pid } = stateOf(root, id);
      watch.observe(pid);
      // The runtime's namespaces, every one (config.md: inherited when not listed).
      assert.equal(
        ['mnt', 'pid', 'net', 'ipc', 'uts', 'cgroup'].map((ns) => readlinkSync(`/proc/${pid}/ns/${ns}`)),
        ourNamespaces,
      );
      // Chrooted into the rootfs; not pivoted: our own root and mounts are as they were.
      assert.is(readlinkSync(`/proc/${pid}/root`), rootfs);
      assert.equal(mountTableOutside(rootfs), before);
      assert.ok(readdirSync('/').length > 0);
      // Its mounts (proc, /dev, …) are under its rootfs, in our namespace.
      assert.ok(mountsUnder(rootfs).includes(join(rootfs, 'proc')), mountsUnder(rootfs).join('\n'));
      assert.is(runtime(['start', id], { root }).code, 0);
    } finally {
      const deleted = runtime(['delete', '--force', id], { root });
      assert.is(deleted.code, 0, deleted.stderr);
    }
    assert.equal(leftovers(watch), []);
    assert.equal(mountTableOutside(rootfs), before);
  },
);

asRoot("no mount namespace: exec runs in the container's root (the init's), not ours", () => {
  const rootfs = markedRootfs();
  const root = tempDir('runts-root-');
  const id = uniqueId('inheritexec');
  const b = bundle((s) => (inheritEverything(s), shArgs('sleep 30')(s)), { rootfs });
  const watch = watchContainer({ id, root, bundle: b });
  const created = runtime(['run', '-d', '--bundle', b, id], { root });
  assert.is(created.code, 0, created.stderr);
  watch.observe(stateOf(root, id).pid);
  try {
    const r = runtime(['exec', id, 'sh', '-c', 'ls -a / | grep -c container-root-marker; readlink /proc/self/ns/mnt'], { root });
    assert.is(r.code, 0, r.stderr);
    assert.equal(r.stdout.trim().split('\n'), ['1', readlinkSync('/proc/self/ns/mnt')]);
  } finally {
    assert.is(runtime(['delete', '--force', id], { root }).code, 0);
  }
  assert.equal(leftovers(watch), []);
});

asRoot('no mount namespace: what would need one is refused by JSON pointer, and nothing is left', () => {
  const cases: [string, (s: Spec) => void][] = [
    ['/linux/maskedPaths', (s) => (s.linux!.maskedPaths = ['/proc/kcore'])],
    ['/linux/readonlyPaths', (s) => (s.linux!.readonlyPaths = ['/proc/sys'])],
    ['/linux/rootfsPropagation', (s) => (s.linux!.rootfsPropagation = 'private')],
    ['/root/readonly', (s) => (s.root!.readonly = true)],
  ];
  const rootfs = ownRootfs();
  for (const [pointer, edit] of cases) {
    const root = tempDir('runts-root-');
    const before = mountTableOutside(rootfs);
    const b = bundle((s) => (inheritEverything(s), edit(s)), { rootfs });
    const id = uniqueId('refused');
    const watch = watchContainer({ id, root, bundle: b });
    const r = runtime(['create', '--bundle', b, id], { root });
    assert.is(r.code, 1, pointer);
    assert.ok(r.stderr.includes(pointer), r.stderr);
    assert.match(r.stderr, /mount namespace/);
    assert.equal(
      readdirSync(root).filter((e) => !e.startsWith('.')),
      [],
    );
    assert.equal(leftovers(watch), [], pointer);
    assert.equal(mountTableOutside(rootfs), before);
  }
});

asRoot('no mount namespace: a failed create unmounts what it mounted under the rootfs', () => {
  const rootfs = ownRootfs();
  const root = tempDir('runts-root-');
  const b = bundle(
    (s) => {
      inheritEverything(s);
      s.process!.args = ['/no/such/program'];
    },
    { rootfs },
  );
  const id = uniqueId('failed');
  const watch = watchContainer({ id, root, bundle: b });
  const r = runtime(['create', '--bundle', b, id], { root });
  assert.is(r.code, 1);
  assert.match(r.stderr, /no\/such\/program/);
  assert.equal(leftovers(watch), []);
  assert.equal(
    readdirSync(root).filter((e) => !e.startsWith('.')),
    [],
  );
});

/** A rootfs of its own with a marker at its top, to tell it from the host's root. */
function markedRootfs(): string {
  const rootfs = ownRootfs();
  writeFileSync(join(rootfs, 'container-root-marker'), '');
  return rootfs;
}

for (const [what, cwd, edit] of [
  ['another thread of the init (pid namespace)', '/proc/self/task/2/root', (_: Spec) => {}],
  ['the init process of the host (no pid namespace)', '/proc/1/root', withoutNamespace('pid')],
  ['its own cwd link', '/proc/self/cwd', (_: Spec) => {}],
] as const) {
  asRoot(`process.cwd through ${what} (${cwd}) stays inside the container`, () => {
    const rootfs = markedRootfs();
    const r = runBundle(
      bundle(
        (s) => {
          edit(s);
          s.process!.cwd = cwd;
          shArgs('pwd -P; ls -a . | grep -c container-root-marker; readlink /proc/self/cwd')(s);
        },
        { rootfs },
      ),
    );
    // Either refused, or run inside its own root: never in the host's.
    if (r.code !== 0) assert.match(r.stderr, /process\.cwd|leads outside/);
    else assert.equal(r.stdout.trim().split('\n'), ['/', '1', '/']);
  });
}

asRoot("while created, every thread of the init has the container root and mount namespace (none keeps the host's)", () => {
  const root = tempDir('runts-root-');
  const id = uniqueId('threads');
  const rootfs = ownRootfs();
  const created = runtime(['create', '--bundle', bundle(shArgs('true'), { rootfs }), id], { root });
  assert.is(created.code, 0, created.stderr);
  try {
    const { pid } = stateOf(root, id);
    const tasks = readdirSync(`/proc/${pid}/task`);
    assert.ok(tasks.length > 1, 'the init is a multithreaded node');
    const mnt = readlinkSync(`/proc/${pid}/ns/mnt`);
    assert.is.not(mnt, readlinkSync('/proc/self/ns/mnt'));
    for (const tid of tasks) {
      assert.is(readlinkSync(`/proc/${pid}/task/${tid}/ns/mnt`), mnt, `thread ${tid}'s mount namespace`);
      // From the host, the container's root reads as "/" of its mount namespace; the host's would be our "/".
      const threadRoot = readdirSync(`/proc/${pid}/task/${tid}/root`);
      assert.ok(threadRoot.includes('bin') && !threadRoot.includes('work'), `thread ${tid}'s root: ${threadRoot.join(' ')}`);
    }
  } finally {
    runtime(['delete', '--force', id], { root });
  }
});

/**
 * The host's libraries, read-only, so that the host's node could run in the
 * container were it ever handed over (images with a glibc have them): without
 * them the exploit below would fail for want of ld.so, and prove nothing.
 */
const withHostLibraries = (s: Spec) => {
  for (const dir of ['/lib', '/lib64', '/usr/lib']) {
    if (existsSync(dir)) s.mounts!.push({ destination: dir, type: 'bind', source: dir, options: ['rbind', 'ro'] });
  }
};

/** A program whose interpreter is /proc/self/exe and whose body is JavaScript (CVE-2019-5736). */
function selfExeRootfs(): string {
  const rootfs = ownRootfs();
  writeFileSync(join(rootfs, 'evil'), '#!/proc/self/exe\nconsole.log("NODE-RAN-" + process.version)\n');
  chmodSync(join(rootfs, 'evil'), 0o755);
  return rootfs;
}

asRoot('run: an entrypoint "#!/proc/self/exe" never runs the host\'s node', () => {
  const r = runBundle(bundle((s) => (withHostLibraries(s), (s.process!.args = ['/evil'])), { rootfs: selfExeRootfs() }));
  assert.not.match(r.stdout + r.stderr, /NODE-RAN/);
  assert.is(r.code, 127, r.stderr);
  assert.match(r.stderr, /runts-helper: refusing to run as an interpreter/);
});

for (const tty of [false, true]) {
  asRoot(`exec${tty ? ' --tty' : ''}: a target "#!/proc/self/exe" never runs the host's node`, () => {
    const root = tempDir('runts-root-');
    const id = uniqueId('selfexe');
    const created = runtime(
      ['run', '-d', '--bundle', bundle((s) => (withHostLibraries(s), shArgs('sleep 30')(s)), { rootfs: selfExeRootfs() }), id],
      { root },
    );
    assert.is(created.code, 0, created.stderr);
    try {
      // --tty without a console socket needs a terminal of ours: `script` gives one (its output is the screen).
      const r = tty
        ? (({ status, stdout, stderr }) => ({ code: status, stdout: String(stdout), stderr: String(stderr) }))(
            spawnSync('script', ['-qec', `"${RUNTS}" --root "${root}" exec --tty ${id} /evil`, '/dev/null'], { timeout: 60_000 }),
          )
        : runtime(['exec', id, '/evil'], { root });
      assert.not.match(r.stdout + r.stderr, /NODE-RAN/);
      assert.is(r.code, 127, r.stdout + r.stderr);
      assert.match(r.stdout + r.stderr, /refusing to run as an interpreter/);
      assert.ok(alive(stateOf(root, id).pid));
    } finally {
      runtime(['delete', '--force', id], { root });
    }
  });
}

asRoot("exec --cwd through a magic link to the host's root (no pid namespace) stays inside the container", () => {
  const root = tempDir('runts-root-');
  const id = uniqueId('execcwd');
  const rootfs = markedRootfs();
  const created = runtime(
    ['run', '-d', '--bundle', bundle((s) => (withoutNamespace('pid')(s), shArgs('sleep 30')(s)), { rootfs }), id],
    { root },
  );
  assert.is(created.code, 0, created.stderr);
  try {
    for (const cwd of ['/proc/1/root', '/proc/self/root', `/proc/${process.pid}/root`]) {
      const r = runtime(['exec', '--cwd', cwd, id, 'sh', '-c', 'pwd -P; ls -a . | grep -c container-root-marker'], { root });
      if (r.code !== 0) assert.match(r.stderr, /process\.cwd|leads outside/, `${cwd}: ${r.stderr}`);
      else assert.equal(r.stdout.trim().split('\n'), ['/', '1'], cwd);
    }
  } finally {
    runtime(['delete', '--force', id], { root });
  }
});

test.run();
