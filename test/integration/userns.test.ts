// User namespaces with real containers: the mapping seen inside and from
// the host, root of the namespace inside, files owned as the mapping says
// (the rootfs is not chowned), failures that leave nothing, and joining a
// time namespace by path (the helper's single-threaded setns).
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import {
  chmodSync,
  chownSync,
  existsSync,
  mkdirSync,
  readFileSync,
  readdirSync,
  readlinkSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { dirname, join } from 'node:path';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import type { Spec } from '../../src/spec/types';
import { baseSpec } from '../lib/bundle';
import { RUNTS, TOP, isRoot, runts, tempDir } from '../lib/cli';
import {
  bundle,
  busyboxRootfs,
  leftovers,
  namespaceHolder,
  ownRootfs,
  runBundle,
  runtime,
  shArgs,
  stateOf,
  statusCapabilities,
  uniqueId,
  watchContainer,
} from '../lib/container';
import { skipTest } from '../lib/skips';

const test = suite('userns');
const asRoot = isRoot ? test : test.skip;

const HOST_ID = 100000;
const MAPPING = [{ containerID: 0, hostID: HOST_ID, size: 65536 }];

/** A user namespace with the test's mapping, added to the default config. */
const inUserNamespace = (spec: Spec) => {
  spec.linux!.namespaces!.push({ type: 'user' } as never);
  spec.linux!.uidMappings = MAPPING;
  spec.linux!.gidMappings = MAPPING;
};

const userBundle = (edit: (s: Spec) => void = () => {}, rootfs?: string) =>
  bundle(
    (s) => {
      inUserNamespace(s);
      edit(s);
    },
    rootfs ? { rootfs } : {},
  );

/** A private rootfs the namespace's root can reach (tempDir's parent is 0700). */
function reachableRootfs(): string {
  const rootfs = ownRootfs();
  chmodSync(dirname(rootfs), 0o755);
  return rootfs;
}

function runIn(edit: (s: Spec) => void, rootfs?: string) {
  const r = runBundle(userBundle(edit, rootfs));
  assert.is(r.code, 0, r.stderr);
  return r.stdout;
}

const statusField = (pid: number, field: string) =>
  readFileSync(`/proc/${pid}/status`, 'utf8')
    .split('\n')
    .find((l) => l.startsWith(`${field}:`))!
    .split(/\s+/)
    .slice(1, 5);

asRoot('inside: the mapping in /proc/self/uid_map and gid_map, root of the namespace, hostname set, proc mounted', () => {
  const out = runIn(
    shArgs(
      'cat /proc/self/uid_map /proc/self/gid_map; id -u; id -g; hostname; echo pid1=$(cat /proc/1/comm); grep ^CapEff /proc/self/status',
    ),
  );
  const lines = out.trim().split('\n');
  assert.equal(
    lines.slice(0, 2).map((l) => l.trim().split(/\s+/)),
    [
      ['0', String(HOST_ID), '65536'],
      ['0', String(HOST_ID), '65536'],
    ],
  );
  assert.equal(lines.slice(2, 5), ['0', '0', 'runts']);
  // proc of the container's own pid namespace: the program is its PID 1.
  assert.is(lines[5], 'pid1=sh');
  // The capabilities of the default config, now those of the namespace's root.
  assert.is(lines[6], `CapEff:\t${statusCapabilities(baseSpec().process!.capabilities!.effective!)}`);
});

asRoot(
  '/sys and the cgroup mount as a namespace root may have them: sysfs with a network namespace, a bind of /sys without',
  () => {
    // The filesystem type at /sys and at /sys/fs/cgroup, and that the container's cgroup files are readable there.
    const script =
      'awk \'$5 == "/sys" || $5 == "/sys/fs/cgroup" { print $5, $(NF-2) }\' /proc/self/mountinfo; ls /sys/fs/cgroup | grep -c . ; ls /sys/class/net | grep -qx lo && echo has-lo';
    const withNet = runIn(shArgs(script)).trim().split('\n');
    assert.equal(withNet[0], '/sys sysfs', withNet.join('\n'));
    assert.ok(/^\/sys\/fs\/cgroup (cgroup2?|tmpfs)$/.test(withNet[1] ?? ''), withNet.join('\n'));
    assert.ok(Number(withNet[2]) > 0, 'nothing in /sys/fs/cgroup');
    const noNet = runIn((spec) => {
      spec.linux!.namespaces = spec.linux!.namespaces!.filter((n) => n.type !== 'network');
      shArgs(script)(spec);
    })
      .trim()
      .split('\n');
    // runc's rule: the kernel refuses a sysfs mount in a user namespace without a network namespace of its own
    // (create would fail with EPERM); the host's /sys is bound instead, so /sys is still a sysfs, with the host's devices.
    assert.equal(noNet[0], '/sys sysfs', noNet.join('\n'));
    // (The bind is recursive: the host's own /sys/fs/cgroup comes along, under the container's cgroup mount.)
    const entries = Number(noNet.find((l) => /^\d+$/.test(l)));
    assert.ok(entries > 0, `nothing in /sys/fs/cgroup without a network namespace: ${noNet.join(' / ')}`);
    assert.ok(noNet.includes('has-lo'), noNet.join('\n'));
  },
);

asRoot('from the host: the container process runs as the mapped ids, PID 1 of its pid namespace', () => {
  const root = tempDir();
  const id = uniqueId();
  const b = userBundle((s) => (s.process!.args = ['sleep', '30']));
  const watch = watchContainer({ id, root, bundle: b });
  try {
    const r = runtime(['create', '--bundle', b, id], { root });
    assert.is(r.code, 0, r.stderr);
    const { pid } = stateOf(root, id);
    watch.observe(pid);
    // The init too, before start: every thread of it was born as the namespace's root.
    assert.equal(statusField(pid, 'Uid'), Array(4).fill(String(HOST_ID)));
    assert.equal(statusField(pid, 'NSpid').slice(-1), ['1']);
    for (const task of readdirSync(`/proc/${pid}/task`)) {
      assert.equal(readFileSync(`/proc/${pid}/task/${task}/uid_map`, 'utf8').trim().split(/\s+/), [
        '0',
        String(HOST_ID),
        '65536',
      ]);
    }
    assert.is(runtime(['start', id], { root }).code, 0);
    assert.equal(statusField(pid, 'Uid'), Array(4).fill(String(HOST_ID)));
    assert.equal(statusField(pid, 'Gid'), Array(4).fill(String(HOST_ID)));
    assert.is(readlinkSync(`/proc/${pid}/exe`), '/bin/busybox');
  } finally {
    runtime(['delete', '--force', id], { root });
  }
  assert.equal(leftovers(watch), []);
});

asRoot("files: the rootfs is not chowned; the host's uid 100000 is root inside, an unmapped owner is nobody", () => {
  const rootfs = reachableRootfs();
  writeFileSync(join(rootfs, 'mapped'), 'x');
  chownSync(join(rootfs, 'mapped'), HOST_ID + 0, HOST_ID + 7);
  writeFileSync(join(rootfs, 'unmapped'), 'x');
  chownSync(join(rootfs, 'unmapped'), 5, 5);
  const out = runIn((s) => {
    s.root!.readonly = false;
    shArgs('stat -c "%u:%g" /mapped /unmapped /bin/busybox; touch /tmp/made && stat -c "%u:%g" /tmp/made')(s);
  }, rootfs);
  assert.equal(out.trim().split('\n'), ['0:7', '65534:65534', '65534:65534', '0:0']);
  // Made by the namespace's root: the host sees the mapped owner.
  assert.equal(statOwner(join(rootfs, 'tmp', 'made')), [HOST_ID, HOST_ID]);
  assert.equal(statOwner(join(rootfs, 'bin', 'busybox')), [0, 0], 'the rootfs was chowned');
});

function statOwner(path: string): [number, number] {
  const { uid, gid } = statSync(path);
  return [uid, gid];
}

asRoot("an id-mapped bind mount with the container's own mapping: host files of uid 0 are root inside", () => {
  const src = tempDir();
  chmodSync(src, 0o755);
  writeFileSync(join(src, 'hosts-root'), 'x');
  // The mount point exists beforehand: the namespace's root may not make one in a rootfs the host's root owns.
  const rootfs = reachableRootfs();
  mkdirSync(join(rootfs, 'data'));
  const out = runIn((s) => {
    s.mounts!.push({ destination: '/data', type: 'bind', source: src, options: ['bind', 'idmap'] });
    shArgs('stat -c %u:%g /data/hosts-root; echo made > /data/new')(s);
  }, rootfs);
  assert.is(out.trim(), '0:0');
  // Through the mapping both ways: made by the namespace's root (host 100000), owned by 0 on the source.
  assert.equal(statOwner(join(src, 'new')), [0, 0]);
});

asRoot('a mapping the kernel refuses fails create with a clear message and leaves nothing', () => {
  const root = tempDir();
  const id = uniqueId();
  // (u32)-1 is no id: the kernel refuses it, whatever the writer may map.
  const b = userBundle((s) => (s.linux!.uidMappings = [{ containerID: 0, hostID: 4294967295, size: 1 }]));
  const watch = watchContainer({ id, root, bundle: b });
  const r = runtime(['create', '--bundle', b, id], { root });
  assert.is(r.code, 1, r.stderr);
  assert.match(r.stderr, /linux\.uidMappings: writing uid_map .*0 4294967295 1.*: EINVAL/);
  assert.equal(leftovers(watch), []);
  assert.equal(existsSync(root) ? readdirSync(root) : [], []);
});

asRoot('a user namespace path that does not exist fails create in the helper and leaves nothing', () => {
  const root = tempDir();
  const id = uniqueId();
  const b = bundle((s) => {
    s.linux!.namespaces!.push({ type: 'user', path: '/proc/self/ns/no-such-namespace' } as never);
  });
  const watch = watchContainer({ id, root, bundle: b });
  const r = runtime(['create', '--bundle', b, id], { root });
  assert.is(r.code, 1, r.stderr);
  assert.match(r.stderr, /starting the container init: open namespace \/proc\/self\/ns\/no-such-namespace: no such file/);
  assert.equal(leftovers(watch), []);
  assert.equal(existsSync(root) ? readdirSync(root) : [], []);
});

asRoot('a failure in the init, after the namespace is made, leaves nothing: a bind source root of the host only may read', () => {
  const root = tempDir();
  const id = uniqueId();
  const secret = tempDir(); // 0700, the host's root's
  const b = userBundle((s) => s.mounts!.push({ destination: '/secret', type: 'bind', source: secret, options: ['rbind'] }));
  const watch = watchContainer({ id, root, bundle: b });
  const r = runtime(['create', '--bundle', b, id], { root });
  assert.is(r.code, 1, r.stderr);
  assert.match(r.stderr, /mount source .* does not exist|permission denied/);
  assert.equal(leftovers(watch), []);
  assert.equal(existsSync(root) ? readdirSync(root) : [], []);
});

asRoot("joining a user namespace by path (another container's): its mapping inside, a pid namespace of its own", () => {
  const root = tempDir();
  const holder = uniqueId();
  assert.is(runtime(['create', '--bundle', userBundle((s) => (s.process!.args = ['sleep', '30'])), holder], { root }).code, 0);
  try {
    const ns = `/proc/${stateOf(root, holder).pid}/ns/user`;
    const out = runIn((s) => {
      s.linux!.namespaces = s.linux!.namespaces!.map((n) => (n.type === 'user' ? { type: 'user', path: ns } : n)) as never;
      delete s.linux!.uidMappings;
      delete s.linux!.gidMappings;
      shArgs('readlink /proc/self/ns/user; cat /proc/self/uid_map; id -u; echo $$')(s);
    });
    assert.equal(
      out
        .trim()
        .split('\n')
        .map((l) => l.trim().split(/\s+/).join(' ')),
      [readlinkSync(ns), `0 ${HOST_ID} 65536`, '0', '1'],
    );
  } finally {
    runtime(['delete', '--force', holder], { root });
  }
});

asRoot('mappings given with a joined user namespace must be its own: others fail create, leaving nothing', () => {
  const holder = sleeper();
  const { root } = holder;
  try {
    const ns = `/proc/${holder.pid}/ns/user`;
    const joining = (uidMappings: typeof MAPPING) =>
      userBundle((s) => {
        s.linux!.namespaces = s.linux!.namespaces!.map((n) => (n.type === 'user' ? { type: 'user', path: ns } : n)) as never;
        s.linux!.uidMappings = uidMappings;
        shArgs('id -u')(s);
      });
    assert.is(runBundle(joining(MAPPING), { root }).stdout.trim(), '0');
    const id = uniqueId();
    const b = joining([{ containerID: 0, hostID: 200000, size: 65536 }]);
    // The holder runs in the same rootfs meanwhile.
    const watch = watchContainer({ id, root, bundle: b, sharedRootfs: busyboxRootfs() });
    const r = runtime(['create', '--bundle', b, id], { root });
    assert.is(r.code, 1, r.stderr);
    assert.match(r.stderr, /linux\.uidMappings: not those of the user namespace joined \(0 100000 65536\)/);
    assert.equal(leftovers(watch), []);
    assert.equal(readdirSync(root), [holder.id]);
  } finally {
    holder.done();
  }
});

/** A running container with a user namespace to exec into. */
function sleeper() {
  const root = tempDir();
  const id = uniqueId();
  const r = runtime(['run', '-d', '--bundle', userBundle(shArgs('exec sleep 1000')), id], { root });
  assert.is(r.code, 0, r.stderr);
  return { root, id, pid: stateOf(root, id).pid, done: () => runtime(['delete', '--force', id], { root }) };
}

asRoot(
  "exec: joins the user namespace first, then the others; root of the namespace, the exec's capabilities; status relayed",
  () => {
    const c = sleeper();
    try {
      const script =
        'cat /proc/self/uid_map; id -u; for k in user mnt pid; do readlink /proc/self/ns/$k; done; grep ^CapEff /proc/self/status; exit 3';
      const r = runtime(['exec', '--cap', 'CAP_SYS_ADMIN', c.id, 'sh', '-c', script], { root: c.root });
      assert.is(r.code, 3, r.stderr);
      const lines = r.stdout.trim().split('\n');
      assert.is(lines[0]!.trim().split(/\s+/).join(' '), `0 ${HOST_ID} 65536`);
      assert.is(lines[1], '0');
      for (const [i, kind] of ['user', 'mnt', 'pid'].entries())
        assert.is(lines[2 + i], readlinkSync(`/proc/${c.pid}/ns/${kind}`), kind);
      const caps = [...baseSpec().process!.capabilities!.effective!, 'CAP_SYS_ADMIN'];
      assert.is(lines[5], `CapEff:\t${statusCapabilities(caps)}`);
      const user = runtime(['exec', '--user', '1000:1000', c.id, 'id'], { root: c.root });
      assert.is(user.stdout.trim(), 'uid=1000 gid=1000');
    } finally {
      c.done();
    }
  },
);

asRoot("exec --detach --pid-file: the host sees the mapped ids, in the container's pid namespace", () => {
  const c = sleeper();
  try {
    const pidFile = join(tempDir(), 'pid');
    const r = runtime(['exec', '--detach', '--pid-file', pidFile, c.id, 'sleep', '30'], { root: c.root });
    assert.is(r.code, 0, r.stderr);
    const pid = Number(readFileSync(pidFile, 'utf8'));
    assert.equal(statusField(pid, 'Uid'), Array(4).fill(String(HOST_ID)));
    assert.is(readlinkSync(`/proc/${pid}/ns/pid`), readlinkSync(`/proc/${c.pid}/ns/pid`));
    assert.is(readlinkSync(`/proc/${pid}/ns/user`), readlinkSync(`/proc/${c.pid}/ns/user`));
  } finally {
    c.done();
  }
});

/** A console-socket peer (python: node cannot receive fds) that types `input` and collects the screen. */
function consolePeer(input: string): { path: string; peer: ChildProcess; screen: Promise<string> } {
  const path = join(tempDir(), 'console.sock');
  const peer = spawn('python3', [join(TOP, 'test', 'lib', 'console-receiver.py'), path, input], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  peer.stdout.on('data', (d) => (out += d));
  const screen = new Promise<string>((resolve) => peer.on('close', () => resolve(out)));
  return { path, peer, screen };
}

asRoot("exec --tty: with a console socket, and in the foreground through the user's terminal", async () => {
  const c = sleeper();
  try {
    const { path, peer, screen } = consolePeer('echo exec-$((5*5)); id -u; echo ctty=$(cut -d" " -f7 /proc/$$/stat); exit\\n');
    await new Promise<void>((resolve) => peer.stderr!.on('data', (d) => String(d).includes('listening') && resolve()));
    const r = runtime(['exec', '--tty', '--detach', '--console-socket', path, c.id, 'sh'], { root: c.root });
    assert.is(r.code, 0, r.stderr);
    const text = (await screen).replace(/\r/g, '');
    assert.match(text, /exec-25\n0\n/);
    assert.match(text, /ctty=[1-9]\d*\n/, 'the shell has no controlling terminal');
    const fg = spawnSync(
      'script',
      ['-qec', `"${RUNTS}" --root "${c.root}" exec --tty ${c.id} sh -c 'tty; read line; echo "got:$line"; exit 4'`, '/dev/null'],
      {
        input: 'hello-pty\n',
        encoding: 'utf8',
        timeout: 30_000,
      },
    );
    const fgText = fg.stdout.replace(/\r/g, '');
    assert.match(fgText, /\/dev\/pts\/\d+\n/);
    assert.match(fgText, /got:hello-pty/);
    assert.is(fg.status, 4, fgText + fg.stderr);
  } finally {
    c.done();
  }
});

asRoot(
  "create --console-socket in a directory only the host's root reaches: the init gets its terminal all the same",
  async () => {
    // tempDir()'s parent is 0700: the init, root of the namespace only, could not connect to the socket itself.
    const { path, peer, screen } = consolePeer('echo init-$((6*7)); id -u; echo $(cat /proc/self/uid_map); exit\\n');
    await new Promise<void>((resolve) => peer.stderr!.on('data', (d) => String(d).includes('listening') && resolve()));
    const root = tempDir();
    const id = uniqueId();
    try {
      const b = userBundle((s) => {
        s.process!.terminal = true;
        s.process!.args = ['sh'];
      });
      const created = runtime(['create', '--console-socket', path, '--bundle', b, id], { root });
      assert.is(created.code, 0, created.stderr);
      assert.is(runtime(['start', id], { root }).code, 0);
      const text = (await screen).replace(/\r/g, '');
      assert.match(text, new RegExp(`init-42\\n0\\n0 ${HOST_ID} 65536\\n`));
    } finally {
      peer.kill();
      runtime(['delete', '--force', id], { root });
    }
  },
);

// The time namespace is in the schema since runtime-spec 1.1 (see namespaces.test.ts).
const timeInSchema =
  runts(['validate', '--bundle', bundle((s) => s.linux!.namespaces!.push({ type: 'time' } as never))]).code === 0;
if (!timeInSchema) skipTest(test, 'joining a time namespace', 'the schema of this build predates time namespaces');
else {
  for (const withUser of [false, true]) {
    asRoot(`joining a time namespace by path${withUser ? ', in a user namespace' : ''}`, async () => {
      const holder = await namespaceHolder(['--time', '--boottime', '1000']);
      try {
        const target = `/proc/${holder.pid}/ns/time`;
        const r = runBundle(
          bundle((s) => {
            if (withUser) inUserNamespace(s);
            s.linux!.namespaces!.push({ type: 'time', path: target } as never);
            shArgs('readlink /proc/self/ns/time')(s);
          }),
        );
        assert.is(r.code, 0, r.stderr);
        assert.is(r.stdout.trim(), readlinkSync(target));
      } finally {
        holder.stop();
      }
    });
  }
}

test.run();
