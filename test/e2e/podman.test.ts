// e2e: podman 4 (conmon) running containers on runts: `podman --runtime
// <runts> run --rm`, vfs storage, cgroupfs, --network none, all state in the
// run's temp dir. Issue 6, "Done when" line 6; user namespaces (--uidmap,
// --userns=auto): issue 15, line 7.
import { existsSync, readFileSync } from 'node:fs';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import {
  Checks,
  PtySession,
  SHOW_IDS,
  callsFor,
  eventually,
  haveCapSysResource,
  hostIds,
  killSignals,
  startHarness,
  scenarios,
} from '../lib/e2e';
import { received, sdNotifyDir, startPeer } from '../lib/notify';

const started = startHarness(['podman']);
const { harness } = started;
const test = suite('e2e podman');
const h = harness!;

const scenario = scenarios(test, started);

/**
 * podman asks for RLIMIT_NOFILE and RLIMIT_NPROC of 1048576 for root. Without
 * CAP_SYS_RESOURCE (some sandboxes drop it) no runtime can raise a hard
 * limit (runc fails the same way: "error setting rlimit type 6: operation
 * not permitted"), and conmon runs with NPROC 32768: ask for low ones there.
 */
function ulimits(): string[] {
  return haveCapSysResource() ? [] : ['--ulimit', 'nofile=1024:1024', '--ulimit', 'nproc=4096:4096'];
}

function idFrom(cidfile: string): string {
  assert.ok(existsSync(cidfile), 'podman wrote no --cidfile: no container was made');
  return readFileSync(cidfile, 'utf8').trim();
}

scenario('[6] podman --runtime <runts> run --rm: output and exit code 3, nothing left', () => {
  const cid = h.file('cid');
  const r = h.podman([
    'run',
    '--rm',
    '--cidfile',
    cid,
    '--network',
    'none',
    ...h.podmanCgroupArgs(),
    ...ulimits(),
    h.podmanImage,
    'sh',
    '-c',
    'echo hi; echo to-stderr >&2; exit 3',
  ]);
  assert.is(r.code, 3, `podman run exited ${r.code}: ${r.stderr.trim()}`);
  assert.is(r.stdout, 'hi\n');
  assert.match(r.stderr, /to-stderr/);
  const id = idFrom(cid);
  assert.ok(
    callsFor(h, id).some((c) => c.includes('create')),
    `container ${id} was not created through the runts wrapper`,
  );
  assert.is(h.podman(['ps', '-aq']).stdout.trim(), '', 'podman still lists a container');
  const left = h.leftovers([id]);
  assert.equal(left, [], `left behind:\n${left.join('\n')}`);
});

scenario("podman run -d --sdnotify=container: the container's READY reaches podman's own NOTIFY_SOCKET", async () => {
  // podman's own $NOTIFY_SOCKET (systemd's, in a unit). podman 4 binds a
  // socket of its own in through the config (/run/notify, NOTIFY_SOCKET in
  // the process's env) and gives the runtime no $NOTIFY_SOCKET: what runts
  // relays itself is notify.test.ts's; here, that it runs podman's way.
  const host = await startPeer('notify-receiver.py', 'notify.sock', ['READY=1']);
  const cid = h.file('cid');
  const r = h.podman(
    [
      'run',
      '-d',
      '--sdnotify=container',
      '--cidfile',
      cid,
      '--network',
      'none',
      '-v',
      `${sdNotifyDir()}:/opt/sd:ro`,
      ...h.podmanCgroupArgs(),
      ...ulimits(),
      h.podmanImage,
      'sh',
      '-c',
      'sleep 1; /opt/sd/sd-notify READY=1; exec sleep 600',
    ],
    { env: { NOTIFY_SOCKET: host.path } },
  );
  assert.is(r.code, 0, `podman run exited ${r.code}: ${r.stderr.trim()}`);
  const id = idFrom(cid);
  const messages = (await received(host)).map((m) => String(m.message));

  assert.ok(
    messages.some((m) => m.split('\n').includes('READY=1')),
    `no READY=1 at podman's NOTIFY_SOCKET: ${JSON.stringify(messages)}`,
  );
  assert.is(h.podman(['rm', '-f', '-t', '0', id]).code, 0);
  const left = h.leftovers([id]);
  assert.equal(left, [], `left behind:\n${left.join('\n')}`);
});

scenario("podman run --tmpfs /etc: the tmpfs starts with the image's /etc (podman asks for tmpcopyup)", () => {
  const r = h.podman([
    'run',
    '--rm',
    '--network',
    'none',
    ...h.podmanCgroupArgs(),
    ...ulimits(),
    '--tmpfs',
    '/etc',
    h.podmanImage,
    'sh',
    '-c',
    'head -c 5 /etc/passwd; echo; grep " /etc " /proc/self/mountinfo | cut -d" " -f9',
  ]);
  assert.is(r.code, 0, `podman run exited ${r.code}: ${r.stderr.trim()}`);
  assert.is(r.stdout, 'root:\ntmpfs\n');
});

scenario(
  '[6] podman run -d, exec (exit code), logs, stop -t 2 (TERM ignored: KILL, 137), rm; seccomp unconfined, so independent of the default profile',
  async () => {
    const r = h.podman([
      'run',
      '-d',
      '--network',
      'none',
      ...h.podmanCgroupArgs(),
      ...ulimits(),
      '--security-opt',
      'seccomp=unconfined',
      h.podmanImage,
      'sh',
      '-c',
      'trap "" TERM; echo ready; while true; do sleep 1; done',
    ]);
    assert.is(r.code, 0, `podman run -d exited ${r.code}: ${r.stderr.trim()}`);
    const id = r.stdout.trim();
    const c = new Checks();
    try {
      await c.check('podman ps shows it Up', () => {
        const ps = h.podman(['ps', '--no-trunc', '--filter', `id=${id}`, '--format', '{{.ID}} {{.Status}}']);
        assert.match(ps.stdout, new RegExp(`^${id} Up `), ps.stdout + ps.stderr);
      });
      await c.check('podman exec … sh -c "echo in; exit 6" reports 6', () => {
        const e = h.podman(['exec', id, 'sh', '-c', 'echo in-$((2+3)); exit 6'], { timeout: 30_000 });
        assert.is(e.code, 6, `podman exec exited ${e.code ?? e.signal}: ${(e.stderr + e.stdout).trim()}`);
        assert.is(e.stdout, 'in-5\n');
      });
      await c.check('podman exec … sh -c "sleep 2; exit 7" (outlives runts exec) reports 7', () => {
        const e = h.podman(['exec', id, 'sh', '-c', 'sleep 2; exit 7'], { timeout: 30_000 });
        assert.is(e.code, 7, `podman exec exited ${e.code ?? e.signal}: ${(e.stderr + e.stdout).trim()}`);
      });
      await c.check('podman logs shows its output', () => {
        const ok = eventually(() => /ready/.test(h.podman(['logs', id]).stdout), 5000, 200);
        assert.ok(ok, `podman logs: ${h.podman(['logs', id]).stdout}`);
      });
      await c.check('podman stop -t 2: SIGTERM ignored, killed after the timeout (137)', () => {
        const mark = h.mark();
        const st = h.podman(['stop', '-t', '2', id], { timeout: 60_000 });
        assert.is(st.code, 0, `podman stop exited ${st.code}: ${st.stderr.trim()}`);
        assert.is(h.podman(['inspect', '--format', '{{.State.Status}} {{.State.ExitCode}}', id]).stdout.trim(), 'exited 137');
        // SIGTERM first, ignored; SIGKILL only after it (podman's timeout), which ended the container.
        const kills = killSignals(h, mark, id);
        assert.equal(kills.slice(0, 2), ['TERM', 'KILL'], `runtime kill calls: ${kills.join(', ')}`);
      });
    } finally {
      await c.check('podman rm removes it', () => {
        const rm = h.podman(['rm', '-f', '-t', '0', id], { timeout: 60_000 });
        assert.is(rm.code, 0, rm.stderr);
        assert.is(h.podman(['ps', '-aq']).stdout.trim(), '');
      });
    }
    await c.check('nothing left behind', () => {
      const left = h.leftovers([id]);
      assert.equal(left, [], `left behind:\n${left.join('\n')}`);
    });
    c.done();
  },
);

// ------------------------------------------------- user namespaces (15) --

/**
 * A shell on a pty (podman run -it or exec -it): answers, its tty is owned
 * by the namespace's root, its uid_map passes expectMap, exit 3 comes back.
 */
async function shellOnPty(command: string, expectMap: (inside: string) => void): Promise<void> {
  const s = new PtySession(command);
  try {
    await s.expect(/# /, 60_000);
    s.type('echo $((6*7))-ok; stat -c "%u" $(tty); echo "map=$(echo $(cat /proc/self/uid_map))"\r');
    const [, owner, map] = await s.expect(/42-ok\n(\d+)\nmap=([\d ]+)\n/);
    assert.is(owner, '0', "the pty is not the namespace's root's");
    expectMap(map ?? '');
    s.type('exit 3\r');
    const e = await s.exit(30_000);
    assert.is(e.code, 3, `exited ${e.code}; the terminal showed:\n${s.text}`);
  } finally {
    s.kill();
  }
}

/**
 * A user-namespaced container's life on podman: run --rm shows the mapping
 * inside (userns, the flags that give it, and the map line expected), then
 * run -d: its init seen from the host as hostRoot, exec inside the same
 * namespace, stop, rm, nothing left.
 */
async function usernsLife(userns: string[], expectMap: (inside: string) => void, hostRoot: (uidMap: string) => number) {
  const cid = h.file('cid');
  const common = ['--network', 'none', ...h.podmanCgroupArgs(), ...ulimits(), ...userns];
  const c = new Checks();
  await c.check('run --rm: the mapping inside, root in it', () => {
    const r = h.podman(['run', '--rm', '--cidfile', cid, ...common, h.podmanImage, 'sh', '-c', SHOW_IDS], { timeout: 120_000 });
    assert.is(r.code, 0, `podman run exited ${r.code}: ${r.stderr.trim()}`);
    const [uidMap = '', gidMap = '', uid, gid] = r.stdout.split('\n');
    expectMap(uidMap);
    assert.is(gidMap, uidMap, 'gid_map differs from uid_map');
    assert.equal([uid, gid], ['0', '0'], 'not root in the user namespace');
    const id = idFrom(cid);
    assert.ok(
      callsFor(h, id).some((call) => call.includes('create')),
      `container ${id} was not created through the runts wrapper`,
    );
    const left = h.leftovers([id]);
    assert.equal(left, [], `left behind:\n${left.join('\n')}`);
  });
  await c.check("run -it: the init's shell on a pty, the pty the namespace's root's; nothing left", async () => {
    const cid = h.file('cid');
    await shellOnPty(h.podmanShell(['run', '-it', '--rm', '--cidfile', cid, ...common, h.podmanImage, 'sh']), expectMap);
    const left = h.leftovers([idFrom(cid)]);
    assert.equal(left, [], `left behind:\n${left.join('\n')}`);
  });
  const r = h.podman(['run', '-d', ...common, h.podmanImage, 'sh', '-c', 'echo ready; while true; do sleep 1; done'], {
    timeout: 120_000,
  });
  assert.is(r.code, 0, `podman run -d exited ${r.code}: ${r.stderr.trim()}`);
  const id = r.stdout.trim();
  const pid = Number(h.podman(['inspect', '--format', '{{.State.Pid}}', id]).stdout.trim());
  try {
    let uidMap = '';
    await c.check('exec: in the same user namespace, root in it', () => {
      const e = h.podman(['exec', id, 'sh', '-c', SHOW_IDS], { timeout: 30_000 });
      assert.is(e.code, 0, `podman exec exited ${e.code ?? e.signal}: ${(e.stderr + e.stdout).trim()}`);
      const [map = '', gidMap, uid, gid] = e.stdout.split('\n');
      expectMap(map);
      assert.is(gidMap, map, 'gid_map differs from uid_map');
      assert.equal([uid, gid], ['0', '0'], 'not root in the user namespace');
      uidMap = map;
    });
    await c.check("exec -it … sh: a shell on a pty, the pty the namespace's root's", () =>
      shellOnPty(h.podmanShell(['exec', '-it', id, 'sh']), expectMap),
    );
    await c.check("the host sees the init as the mapping's root", () => {
      assert.ok(pid > 0, `podman inspect gave no pid for ${id}`);
      const root = hostRoot(uidMap || readFileSync(`/proc/${pid}/uid_map`, 'utf8').trim().split(/\s+/).join(' '));
      assert.equal(hostIds(pid), { uid: `${root} ${root} ${root} ${root}`, gid: `${root} ${root} ${root} ${root}` });
    });
    await c.check('podman stop -t 2: exited', () => {
      const st = h.podman(['stop', '-t', '2', id], { timeout: 60_000 });
      assert.is(st.code, 0, `podman stop exited ${st.code}: ${st.stderr.trim()}`);
      assert.match(h.podman(['inspect', '--format', '{{.State.Status}}', id]).stdout.trim(), /^exited$/);
    });
  } finally {
    await c.check('podman rm removes it', () => {
      const rm = h.podman(['rm', '-f', '-t', '0', id], { timeout: 60_000 });
      assert.is(rm.code, 0, rm.stderr);
      assert.is(h.podman(['ps', '-aq']).stdout.trim(), '');
    });
  }
  await c.check('nothing left behind', () => {
    const left = h.leftovers([id], [pid]);
    assert.equal(left, [], `left behind:\n${left.join('\n')}`);
  });
  c.done();
}

scenario(
  '[15] podman run --uidmap 0:100000:65536 --gidmap 0:100000:65536: the mapping inside and from the host, run -it, exec, exec -it, stop, rm, nothing left',
  () =>
    usernsLife(
      ['--uidmap', '0:100000:65536', '--gidmap', '0:100000:65536'],
      (map) => assert.is(map, '0 100000 65536'),
      () => 100000,
    ),
);

/** The range /etc/subuid and /etc/subgid give podman's "containers" user for --userns=auto (in this file's copies). */
const AUTO_RANGE = { start: 400000, count: 131072 };

scenario(
  '[15] podman run --userns=auto (containers:400000:131072 in /etc/subuid, subgid): a mapping podman picks in that range, run -it, exec, exec -it, stop, rm, nothing left',
  () => {
    h.bindEtc({
      subuid: [`containers:${AUTO_RANGE.start}:${AUTO_RANGE.count}`],
      subgid: [`containers:${AUTO_RANGE.start}:${AUTO_RANGE.count}`],
    });
    const parse = (map: string) => map.split(' ').map(Number);
    return usernsLife(
      ['--userns=auto'],
      (map) => {
        const [inside, outside = 0, count = 0] = parse(map);
        assert.is(inside, 0, `uid_map ${map}: not from 0`);
        assert.ok(
          outside >= AUTO_RANGE.start && outside + count <= AUTO_RANGE.start + AUTO_RANGE.count && count > 0,
          `uid_map ${map}: not within containers' ${AUTO_RANGE.start}:${AUTO_RANGE.count}`,
        );
      },
      (map) => parse(map)[1] ?? -1,
    );
  },
);

if (harness) {
  test('teardown: containers removed, nothing left on the host', () => {
    const problems = h.teardown();
    assert.equal(problems, [], problems.join('\n'));
  });
}
test.after(() => {
  harness?.stop();
});

test.run();
