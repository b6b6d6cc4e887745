// e2e: Docker 20.10 (dockerd -> containerd -> runc shim v2) running containers
// on runts: `dockerd --add-runtime runts=…`, `docker run --runtime runts`.
// Issue 6, "Done when" lines 1 to 4; --userns-remap (a second dockerd, started
// by its scenario alone): issue 15, line 7. Each scenario also checks that nothing
// is left behind: runts state under the root the shim passed, container
// processes, cgroups under this run's cgroup parent, mounts.
// Harness: test/lib/e2e.ts (skips, with the reason, when not root or when
// the daemons cannot be installed or started).
import { existsSync, mkdirSync, readFileSync, readlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import {
  Checks,
  PtySession,
  REMAP_BASE,
  type Ran,
  SHOW_IDS,
  SYSTEM_DAEMONS,
  callsFor,
  eventually,
  hostCgroupFile,
  hostIds,
  killSignals,
  processesMatching,
  startHarness,
  scenarios,
} from '../lib/e2e';

const started = startHarness(['docker']);
const { harness } = started;
const test = suite('e2e docker');
const h = harness!;

const scenario = scenarios(test, started);

const RUNTIME = 'runts';
/** A hung exec (e.g. an exit status the shim never gets) costs this much, not the default 90 s. */
const EXEC_TIMEOUT = 30_000;
const LOOP = ['sh', '-c', 'i=0; while true; do echo tick $i; i=$((i+1)); sleep 1; done'];

/** `docker run --network none --runtime runts ARGS…` */
const dockerRun = (args: string[], timeout?: number) =>
  h.docker(['run', '--network', 'none', '--runtime', RUNTIME, ...args], { timeout });

function ok(r: Ran, what: string): void {
  assert.is(r.code, 0, `${what} exited ${r.code ?? r.signal}: ${(r.stderr || r.stdout).trim()}`);
}

function inspect(id: string, format: string): string {
  const r = h.docker(['inspect', '--format', format, id]);
  ok(r, `docker inspect ${format}`);
  return r.stdout.trim();
}

/** A detached container's id, after checking that it went through runts. */
function runDetached(args: string[]): string {
  const r = dockerRun(['-d', ...args]);
  ok(r, `docker run -d ${args.join(' ')}`);
  const id = r.stdout.trim();
  assertRanOnRunts(id);
  return id;
}

function assertRanOnRunts(id: string): void {
  const creates = callsFor(h, id).filter((c) => c.includes('create'));
  assert.ok(creates.length > 0, `container ${id} was not created through the runts wrapper (the --runtime did not reach runts)`);
}

function assertClean(ids: string[], pids: number[] = []): void {
  const left = h.leftovers(ids, pids);
  assert.equal(left, [], `left behind:\n${left.join('\n')}`);
}

function idFrom(cidfile: string): string {
  assert.ok(existsSync(cidfile), 'docker wrote no --cidfile: no container was made');
  return readFileSync(cidfile, 'utf8').trim();
}

/** Waits until docker logs of id match re (or ms pass); returns the logs. */
function logsUntil(id: string, re: RegExp, ms = 10_000): string {
  let last = '';
  eventually(
    () => {
      const r = h.docker(['logs', id]);
      last = r.stdout + r.stderr;
      return re.test(last);
    },
    ms,
    200,
  );
  return last;
}

const ticks = (logs: string) => (logs.match(/^tick \d+$/gm) ?? []).length;

function rmForce(id: string): void {
  h.docker(['rm', '-f', id]);
}

// ------------------------------------------------------------------- 1 --

scenario('[1] docker run --rm --runtime runts busybox echo hi: prints hi, through runts, leaves nothing', () => {
  const cid = h.file('cid');
  const r = dockerRun(['--rm', '--cidfile', cid, h.image, 'echo', 'hi']);
  ok(r, 'docker run --rm … echo hi');
  assert.is(r.stdout, 'hi\n');
  const id = idFrom(cid);
  assertRanOnRunts(id);
  assertClean([id]);
});

scenario('[1] docker run --rm … sh -c "exit 3": docker reports exit code 3', () => {
  const cid = h.file('cid');
  const r = dockerRun(['--rm', '--cidfile', cid, h.image, 'sh', '-c', 'echo about to exit >&2; exit 3']);
  assert.is(r.code, 3, `docker run exited ${r.code}: ${r.stderr}`);
  assert.match(r.stderr, /about to exit/);
  const id = idFrom(cid);
  assertRanOnRunts(id);
  assertClean([id]);
});

// ------------------------------------------------------------------- 2 --

scenario('[2] docker run -d a shell loop: docker ps shows it up, exec date, exec -it shell, logs, top, rm -f', async () => {
  const id = runDetached([h.image, ...LOOP]);
  const pid = Number(inspect(id, '{{.State.Pid}}'));
  const c = new Checks();
  try {
    await c.check('docker ps shows it Up', () => {
      const ps = h.docker(['ps', '--no-trunc', '--filter', `id=${id}`, '--format', '{{.ID}} {{.Status}}']);
      ok(ps, 'docker ps');
      assert.match(ps.stdout, new RegExp(`^${id} Up `), `docker ps: ${JSON.stringify(ps.stdout)}`);
    });
    await c.check('docker exec … date prints the date', () => {
      const e = h.docker(['exec', id, 'date'], { timeout: EXEC_TIMEOUT });
      ok(e, 'docker exec date');
      assert.match(e.stdout, /^\w{3} \w{3} [ \d]\d \d\d:\d\d:\d\d \w+ \d{4}\n$/, `date printed ${JSON.stringify(e.stdout)}`);
    });
    await c.check('docker exec … sh -c "exit 5" reports 5; the exec sees the container (pid ns, hostname)', () => {
      const e = h.docker(['exec', id, 'sh', '-c', 'hostname; cat /proc/1/cmdline | tr "\\0" " "; echo; exit 5'], {
        timeout: EXEC_TIMEOUT,
      });
      assert.is(e.code, 5, `docker exec exited ${e.code ?? e.signal}: ${(e.stderr + e.stdout).trim()}`);
      const [host, init = ''] = e.stdout.split('\n');
      assert.is(host, id.slice(0, 12), 'exec does not see the container hostname');
      assert.match(init, /^sh -c i=0; while true/, 'exec does not see the container pid 1');
    });
    await c.check('docker exec … sh -c "sleep 2; exit 7" (outlives runts exec) reports 7', () => {
      const e = h.docker(['exec', id, 'sh', '-c', 'sleep 2; exit 7'], { timeout: EXEC_TIMEOUT });
      assert.is(e.code, 7, `docker exec exited ${e.code ?? e.signal}: ${(e.stderr + e.stdout).trim()}`);
    });
    await c.check('docker exec -it … sh: a working shell on a pty', async () => {
      const s = new PtySession(h.dockerShell(['exec', '-it', id, 'sh']));
      try {
        await s.expect(/# /);
        s.type('echo $((6*7))-ok; tty\r');
        await s.expect(/42-ok\n\/dev\/pts\/\d+\n/);
        s.type('exit 4\r');
        const e = await s.exit(EXEC_TIMEOUT);
        assert.is(e.code, 4, `docker exec -it exited ${e.code}; the terminal showed:\n${s.text}`);
      } finally {
        s.kill();
      }
    });
    await c.check('docker logs shows its output', () => {
      const logs = logsUntil(id, /tick 1\n/);
      assert.match(logs, /^tick 0\ntick 1\n/, `docker logs: ${JSON.stringify(logs.slice(0, 200))}`);
    });
    await c.check('docker top lists its processes', () => {
      const t = h.docker(['top', id]);
      ok(t, 'docker top');
      const lines = t.stdout.trim().split('\n');
      assert.match(lines[0] ?? '', /\bPID\b.*\bCMD\b/, `docker top header: ${lines[0]}`);
      assert.ok(
        lines.some((l) => l.split(/\s+/)[1] === String(pid) && /sh -c i=0/.test(l)),
        `docker top does not list pid ${pid} (the loop):\n${t.stdout}`,
      );
    });
  } finally {
    await c.check('docker rm -f removes it', () => {
      ok(h.docker(['rm', '-f', id]), 'docker rm -f');
      assert.is(h.docker(['ps', '-aq', '--no-trunc', '--filter', `id=${id}`]).stdout.trim(), '');
    });
  }
  await c.check('nothing left behind', () => assertClean([id], [pid]));
  c.done();
});

scenario('[2] docker stop: a container that handles SIGTERM exits 0 on it, no SIGKILL needed', () => {
  const id = runDetached([h.image, 'sh', '-c', 'trap "echo got TERM; exit 0" TERM; echo ready; while true; do sleep 1; done']);
  const pid = Number(inspect(id, '{{.State.Pid}}'));
  try {
    assert.match(logsUntil(id, /ready/), /ready/, 'the container never said ready');
    const mark = h.mark();
    ok(h.docker(['stop', '-t', '20', id]), 'docker stop');
    // Had SIGTERM not ended it, docker would have sent SIGKILL (exit 137).
    assert.equal(killSignals(h, mark, id), ['TERM'], "the runtime's kill calls");
    assert.is(inspect(id, '{{.State.Status}} {{.State.ExitCode}}'), 'exited 0');
    assert.match(logsUntil(id, /got TERM/), /got TERM/);
  } finally {
    rmForce(id);
  }
  assertClean([id], [pid]);
});

scenario('[2] docker stop -t 2: a container that ignores SIGTERM is killed after the timeout (137)', () => {
  const mark = h.mark();
  const id = runDetached([h.image, 'sh', '-c', 'trap "" TERM; echo ready; while true; do sleep 1; done']);
  const pid = Number(inspect(id, '{{.State.Pid}}'));
  try {
    logsUntil(id, /ready/);
    ok(h.docker(['stop', '-t', '2', id]), 'docker stop -t 2');
    assert.is(inspect(id, '{{.State.Status}} {{.State.ExitCode}}'), 'exited 137');
    // SIGTERM first, ignored; SIGKILL only after it (docker's timeout), which ended the container.
    const kills = killSignals(h, mark, id);
    assert.equal(kills.slice(0, 2), ['TERM', 'KILL'], `runtime kill calls: ${kills.join(', ')}`);
  } finally {
    rmForce(id);
  }
  assertClean([id], [pid]);
});

scenario('[2] docker stop -t 0: killed at once (137)', () => {
  const id = runDetached([h.image, ...LOOP]);
  const pid = Number(inspect(id, '{{.State.Pid}}'));
  try {
    const mark = h.mark();
    ok(h.docker(['stop', '-t', '0', id]), 'docker stop -t 0');
    assert.is(inspect(id, '{{.State.Status}} {{.State.ExitCode}}'), 'exited 137');
    const kills = killSignals(h, mark, id);
    assert.ok(kills.includes('KILL'), `runtime kill calls: ${kills.join(', ')}`);
  } finally {
    rmForce(id);
  }
  assertClean([id], [pid]);
});

scenario('[2] docker kill: -s HUP reaches the process; then SIGKILL ends it (137)', () => {
  const id = runDetached([h.image, 'sh', '-c', 'trap "echo got HUP" HUP; echo ready; while true; do sleep 1; done']);
  const pid = Number(inspect(id, '{{.State.Pid}}'));
  try {
    logsUntil(id, /ready/);
    ok(h.docker(['kill', '--signal', 'HUP', id]), 'docker kill --signal HUP');
    assert.match(logsUntil(id, /got HUP/), /got HUP/, 'the container did not get SIGHUP');
    assert.is(inspect(id, '{{.State.Status}}'), 'running');
    ok(h.docker(['kill', id]), 'docker kill');
    const state = eventually(() => {
      const s = inspect(id, '{{.State.Status}} {{.State.ExitCode}}');
      return s.startsWith('exited') ? s : '';
    }, 10_000);
    assert.is(state, 'exited 137');
  } finally {
    rmForce(id);
  }
  assertClean([id], [pid]);
});

scenario('[2] docker rm -f of a running container: gone, nothing left', () => {
  const id = runDetached([h.image, ...LOOP]);
  const pid = Number(inspect(id, '{{.State.Pid}}'));
  ok(h.docker(['rm', '-f', id]), 'docker rm -f');
  assert.is(h.docker(['ps', '-aq', '--no-trunc', '--filter', `id=${id}`]).stdout.trim(), '');
  assertClean([id], [pid]);
});

// ------------------------------------------------------------------- 3 --

scenario('[3] -v HOSTDIR:/data: the container reads the host file and writes one the host sees', () => {
  const dir = h.file('volume');
  mkdirSync(dir);
  writeFileSync(join(dir, 'in'), 'from the host\n');
  const cid = h.file('cid');
  const r = dockerRun([
    '--rm',
    '--cidfile',
    cid,
    '-v',
    `${dir}:/data`,
    h.image,
    'sh',
    '-c',
    'cat /data/in; echo from the container > /data/out',
  ]);
  ok(r, 'docker run -v');
  assert.is(r.stdout, 'from the host\n');
  assert.is(readFileSync(join(dir, 'out'), 'utf8'), 'from the container\n');
  assertClean([idFrom(cid)]);
});

scenario('[3] --read-only: / is mounted read-only and not writable', () => {
  const cid = h.file('cid');
  const r = dockerRun([
    '--rm',
    '--cidfile',
    cid,
    '--read-only',
    h.image,
    'sh',
    '-c',
    'awk \'$5 == "/" { print $6 }\' /proc/self/mountinfo; touch /probe 2>&1; echo "touch=$?"',
  ]);
  ok(r, 'docker run --read-only');
  const [opts = '', ...rest] = r.stdout.trim().split('\n');
  assert.match(opts, /^ro\b/, `/ is mounted ${opts}`);
  assert.match(rest.join('\n'), /Read-only file system/);
  assert.match(rest.join('\n'), /touch=1$/);
  assertClean([idFrom(cid)]);
});

scenario("[3] --cap-drop ALL --cap-add NET_BIND_SERVICE: only that capability; the default is Docker's 14", () => {
  const caps = (extra: string[]) => {
    const cid = h.file('cid');
    const r = dockerRun(['--rm', '--cidfile', cid, ...extra, h.image, 'grep', '^Cap', '/proc/self/status']);
    ok(r, `docker run ${extra.join(' ')}`);
    assertClean([idFrom(cid)]);
    return Object.fromEntries(
      r.stdout
        .trim()
        .split('\n')
        .map((l) => l.split(/:\s+/)),
    );
  };
  const only = caps(['--cap-drop', 'ALL', '--cap-add', 'NET_BIND_SERVICE']);
  assert.equal(only, {
    CapInh: '0000000000000000',
    CapPrm: '0000000000000400',
    CapEff: '0000000000000400',
    CapBnd: '0000000000000400',
    CapAmb: '0000000000000000',
  });
  const defaults = caps([]);
  assert.equal(defaults, {
    CapInh: '0000000000000000',
    CapPrm: '00000000a80425fb',
    CapEff: '00000000a80425fb',
    CapBnd: '00000000a80425fb',
    CapAmb: '0000000000000000',
  });
});

scenario('[3] --memory 32m: a memory hog is OOM-killed (exit 137, OOMKilled)', () => {
  const cid = h.file('cid');
  // Bounded (300 MB), so that a limit that is not applied cannot hurt the host: then it ends with 0.
  const r = dockerRun(['--cidfile', cid, '--memory', '32m', h.image, 'sh', '-c', 'head -c 300m /dev/zero | tail'], 120_000);
  const id = idFrom(cid);
  try {
    assert.is(
      r.code,
      137,
      `docker run exited ${r.code} (${r.stdout.trim()} ${r.stderr.trim()}): the 32m limit did not stop a 300 MB hog`,
    );
    assert.is(inspect(id, '{{.State.ExitCode}} {{.State.OOMKilled}}'), '137 true');
  } finally {
    rmForce(id);
  }
  assertClean([id]);
});

scenario('[3] --pids-limit 10: pids.max is 10 on the host; forks beyond it fail', () => {
  // The shell ends at its first failed fork: it waits first, so that its cgroup can be read while it lives, even on a slow (emulated) host.
  const id = runDetached([
    '--pids-limit',
    '10',
    h.image,
    'sh',
    '-c',
    'sleep 10; for i in $(seq 1 20); do sleep 30 & done; echo all forked; sleep 30',
  ]);
  const pid = Number(inspect(id, '{{.State.Pid}}'));
  try {
    const c = hostCgroupFile(pid, 'pids', 'pids.max', 'pids.max');
    assert.is(c.cgroup, h.dockerCgroup(id), 'the container is not in the cgroup docker asked for (linux.cgroupsPath)');
    assert.is(readFileSync(c.file, 'utf8').trim(), '10');
    const logs = logsUntil(id, /can't fork|all forked/, 30_000);
    assert.match(logs, /can't fork/, `forks beyond the limit did not fail: ${logs}`);
    assert.not.match(logs, /all forked/);
  } finally {
    rmForce(id);
  }
  assertClean([id], [pid]);
});

scenario('[3] docker pause / unpause: frozen (the kernel reports the cgroup frozen), then running on', () => {
  const id = runDetached([h.image, ...LOOP]);
  const pid = Number(inspect(id, '{{.State.Pid}}'));
  try {
    logsUntil(id, /tick 1\n/);
    ok(h.docker(['pause', id]), 'docker pause');
    assert.is(inspect(id, '{{.State.Status}} {{.State.Paused}}'), 'paused true');
    // What the kernel reports once every task is frozen (v1's FREEZING, v2's "frozen 0", mean not yet).
    const f = hostCgroupFile(pid, 'freezer', 'freezer.state', 'cgroup.events');
    assert.is(f.cgroup, h.dockerCgroup(id), 'the container is not in the cgroup docker asked for');
    assert.match(readFileSync(f.file, 'utf8').trim(), /^FROZEN$|^frozen 1$/m);
    const before = ticks(h.docker(['logs', id]).stdout);
    ok(h.docker(['unpause', id]), 'docker unpause');
    assert.is(inspect(id, '{{.State.Status}} {{.State.Paused}}'), 'running false');
    const after = eventually(() => ticks(h.docker(['logs', id]).stdout) > before, 5000);
    assert.ok(after, 'no output after unpause');
  } finally {
    rmForce(id);
  }
  assertClean([id], [pid]);
});

scenario('[3] docker stats --no-stream: usage against the --memory 64m limit, and a pid count', () => {
  const id = runDetached(['--memory', '64m', h.image, 'sleep', '1000']);
  const pid = Number(inspect(id, '{{.State.Pid}}'));
  try {
    const r = h.docker(['stats', '--no-stream', '--format', '{{.MemUsage}}|{{.PIDs}}', id]);
    ok(r, 'docker stats --no-stream');
    const [mem = '', pids] = r.stdout.trim().split('|');
    assert.match(mem, /^[\d.]+[KMG]?i?B \/ 64MiB$/, `MemUsage ${mem}: not measured against the container's 64m limit`);
    assert.ok(Number(pids) >= 1, `PIDs ${pids}`);
  } finally {
    rmForce(id);
  }
  assertClean([id], [pid]);
});

scenario("[3] docker update --memory 48m: the new limit reaches the container's cgroup", () => {
  const id = runDetached(['--memory', '64m', h.image, 'sleep', '1000']);
  const pid = Number(inspect(id, '{{.State.Pid}}'));
  try {
    const c = hostCgroupFile(pid, 'memory', 'memory.limit_in_bytes', 'memory.max');
    assert.is(c.cgroup, h.dockerCgroup(id), 'the container is not in the cgroup docker asked for (linux.cgroupsPath)');
    assert.is(readFileSync(c.file, 'utf8').trim(), String(64 * 1024 * 1024));
    ok(h.docker(['update', '--memory', '48m', id]), 'docker update --memory 48m');
    assert.is(inspect(id, '{{.HostConfig.Memory}}'), String(48 * 1024 * 1024));
    assert.is(readFileSync(c.file, 'utf8').trim(), String(48 * 1024 * 1024));
  } finally {
    rmForce(id);
  }
  assertClean([id], [pid]);
});

// ------------------------------------------------------------------- 4 --

scenario('[4] docker run -it: the shell on a pty answers keystrokes, ^C interrupts, exit code comes back', async () => {
  const cid = h.file('cid');
  const s = new PtySession(
    h.dockerShell(['run', '-it', '--rm', '--cidfile', cid, '--network', 'none', '--runtime', RUNTIME, h.image, 'sh']),
  );
  try {
    await s.expect(/# /, 30_000);
    s.type('echo $((6*7))-ok; tty\r');
    await s.expect(/42-ok\n\/dev\/pts\/\d+\n/);
    const from = s.text.length;
    s.type('sleep 30; echo slept\r');
    // ^C once the shell runs sleep: its process is in the container's pid namespace.
    const ns = readlinkSync(`/proc/${inspect(idFrom(cid), '{{.State.Pid}}')}/ns/pid`);
    const inContainer = (pid: number) => {
      try {
        return readlinkSync(`/proc/${pid}/ns/pid`) === ns;
      } catch {
        return false;
      }
    };
    const sleeper = eventually(() => processesMatching('sleep 30').find((p) => inContainer(p.pid)), 10_000);
    assert.ok(sleeper, `sleep 30 never ran in the container; the terminal showed:\n${s.text}`);
    s.type('\x03');
    s.type('echo after-int-$((1+1))\r');
    await s.expect(/after-int-2/, 10_000, from);
    assert.not.match(s.text.slice(from), /^slept$/m, '^C did not interrupt sleep');
    assert.not.ok(
      processesMatching('sleep 30').some((p) => p.pid === sleeper.pid),
      'the sleep ^C interrupted still runs',
    );
    s.type('exit 5\r');
    const e = await s.exit();
    assert.is(e.code, 5, `docker run -it exited ${e.code}; the terminal showed:\n${s.text}`);
  } finally {
    s.kill();
  }
  assertClean([idFrom(cid)]);
});

// ------------------------------------------------- user namespaces (15) --

scenario(
  `[15] dockerd --userns-remap=default (dockremap:${REMAP_BASE}:65536): run --rm, run -it and run -d in the user namespace, the init seen from the host as ${REMAP_BASE}, exec and exec -it in it, rm -f, nothing left`,
  async () => {
    const sock = h.startRemappedDockerd();
    const remapped = (args: string[], timeout?: number) => h.docker(args, { sock, timeout });
    const map = `0 ${REMAP_BASE} 65536`;
    const showsMapping = (out: string) => {
      const [uidMap, gidMap, uid, gid] = out.split('\n');
      assert.equal([uidMap, gidMap, uid, gid], [map, map, '0', '0'], `uid_map, gid_map, id -u, id -g: ${JSON.stringify(out)}`);
    };
    const c = new Checks();
    await c.check('docker run --rm: the mapping inside, root in it; nothing left', () => {
      const cid = h.file('cid');
      const r = remapped([
        'run',
        '--rm',
        '--cidfile',
        cid,
        '--network',
        'none',
        '--runtime',
        RUNTIME,
        h.image,
        'sh',
        '-c',
        SHOW_IDS,
      ]);
      ok(r, 'docker run --rm (remapped)');
      showsMapping(r.stdout);
      const id = idFrom(cid);
      assertRanOnRunts(id);
      assertClean([id]);
    });
    await c.check("docker run -it: the init's shell on a pty, the pty the namespace's root's; nothing left", async () => {
      const cid = h.file('cid');
      const run = ['run', '-it', '--rm', '--cidfile', cid, '--network', 'none', '--runtime', RUNTIME, h.image, 'sh'];
      const s = new PtySession(h.dockerShell(run, sock));
      try {
        await s.expect(/# /, 30_000);
        s.type('echo $((6*7))-ok; stat -c "%u" $(tty); echo $(cat /proc/self/uid_map)\r');
        await s.expect(new RegExp(`42-ok\\n0\\n${map}\\n`));
        s.type('exit 3\r');
        const e = await s.exit(EXEC_TIMEOUT);
        assert.is(e.code, 3, `docker run -it exited ${e.code}; the terminal showed:\n${s.text}`);
      } finally {
        s.kill();
      }
      assertClean([idFrom(cid)]);
    });
    const r = remapped(['run', '-d', '--network', 'none', '--runtime', RUNTIME, h.image, ...LOOP]);
    ok(r, 'docker run -d (remapped)');
    const id = r.stdout.trim();
    const pid = Number(remapped(['inspect', '--format', '{{.State.Pid}}', id]).stdout.trim());
    try {
      await c.check(`the host sees the init as uid and gid ${REMAP_BASE}`, () => {
        assertRanOnRunts(id);
        assert.ok(pid > 0, `docker inspect gave no pid for ${id}`);
        const all = Array(4).fill(REMAP_BASE).join(' ');
        assert.equal(hostIds(pid), { uid: all, gid: all });
      });
      await c.check('docker exec: in the same user namespace, root in it', () => {
        const e = remapped(['exec', id, 'sh', '-c', SHOW_IDS], EXEC_TIMEOUT);
        ok(e, 'docker exec (remapped)');
        showsMapping(e.stdout);
      });
      await c.check("docker exec -it … sh: a shell on a pty, the pty the namespace's root's", async () => {
        const s = new PtySession(h.dockerShell(['exec', '-it', id, 'sh'], sock));
        try {
          await s.expect(/# /);
          s.type('echo $((6*7))-ok; stat -c "%u" $(tty)\r');
          await s.expect(/42-ok\n0\n/);
          s.type('exit 4\r');
          const e = await s.exit(EXEC_TIMEOUT);
          assert.is(e.code, 4, `docker exec -it exited ${e.code}; the terminal showed:\n${s.text}`);
        } finally {
          s.kill();
        }
      });
    } finally {
      await c.check('docker rm -f removes it', () => {
        ok(remapped(['rm', '-f', id]), 'docker rm -f (remapped)');
        assert.is(remapped(['ps', '-aq', '--no-trunc', '--filter', `id=${id}`]).stdout.trim(), '');
      });
    }
    await c.check('nothing left behind', () => assertClean([id], [pid]));
    c.done();
  },
  SYSTEM_DAEMONS ? "the --userns-remap dockerd is a private one, and this run uses the system's daemons" : undefined,
);

// ------------------------------------------------------------------ end --

if (harness) {
  test('teardown: containers removed, dockerd and containerd stopped, nothing left on the host', () => {
    const problems = h.teardown();
    assert.equal(problems, [], problems.join('\n'));
    for (const parent of h.cgroupParents) {
      const left = ['/sys/fs/cgroup', ...['memory', 'pids', 'cpu', 'freezer', 'devices'].map((c) => `/sys/fs/cgroup/${c}`)]
        .map((d) => join(d, parent))
        .filter((d) => existsSync(d));
      assert.equal(left, [], 'cgroup parents left');
    }
  });
}
test.after(() => {
  harness?.stop();
});

test.run();
