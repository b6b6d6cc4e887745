// e2e on the users' host: a VM with systemd as PID 1 on pure cgroup v2
// (test/lib/vm.ts, systemd mode), dockerd and containerd started by their
// Debian units with their default settings (the systemd cgroup driver),
// podman with its default cgroup manager (systemd). In it, the e2e files
// (docker, containerd, podman) run against those daemons
// (RUNTS_E2E_DAEMONS=system, test/lib/e2e.ts), once with runc as the
// runtime (a check of the scenarios) and once with runts; each scenario
// also checks that no unit, scope, cgroup, mount, process or state is
// left. Issue 14, "Done when" 3, 4 and 6. Skipped, with the reason, where
// no VM can run or a package is missing and cannot be installed.
//
// Under TCG the whole set takes long (see TIMEOUT_MS): by default only runts
// runs, and only the scenarios of SUBSET. Environment:
//   RUNTS_E2E_VM_RUNTIMES=runc,runts   the runtimes, in this order (default runts)
//   RUNTS_E2E_VM_SCENARIOS=all         every scenario of the three files (or a regex: those it matches)
// Just this part: npm test -- systemd-vm
// The side-by-side check of the scenarios (raise the runner's per-file limit):
//   RUNTS_TEST_FILE_TIMEOUT=3600 RUNTS_E2E_VM_RUNTIMES=runc,runts RUNTS_E2E_VM_SCENARIOS=all npm test -- systemd-vm
import { existsSync } from 'node:fs';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { TOP, isRoot } from '../lib/cli';
import { SYSTEM_WRAPPER, ensureEngine, quote } from '../lib/e2e';
import { skipTest } from '../lib/skips';
import { END_MARK, START_MARK, SYSTEMD, asGuest, runInVm, vmUnavailable } from '../lib/vm';

const test = suite('e2e on systemd and cgroup v2 (VM)');

const RUNC = '/usr/sbin/runc';
const BINARIES: Record<string, string> = { runc: RUNC, runts: `${TOP}/bin/runts` };
const RUNTIMES = (process.env.RUNTS_E2E_VM_RUNTIMES || 'runts').split(',').map((name) => {
  if (!BINARIES[name]) throw new Error(`RUNTS_E2E_VM_RUNTIMES: ${name} is neither runc nor runts`);
  return { name, binary: BINARIES[name] };
});
const FILES = ['e2e/docker', 'e2e/containerd', 'e2e/podman'];

/**
 * The scenarios that fit CI's time (RUNTS_E2E_ONLY in the VM): each
 * engine's basic run through the systemd driver, and what reaches the unit
 * from an engine: a memory limit as a unit property (OOM) and a live
 * update. The rest of the driver (exec into the scope, signals, the
 * freezer, ps, events, delete) is runts' own lifecycle in
 * test/integration/systemd-vm.test.ts, which costs a fraction of this.
 */
const SUBSET = [
  /^\[5\] ctr run --rm /,
  /^\[1\] docker run --rm --runtime runts busybox echo hi/,
  /^\[3\] --memory 32m/,
  /^\[3\] docker update/,
  /^\[6\] podman --runtime <runts> run --rm/,
]
  .map((r) => r.source)
  .join('|');
/** Every scenario but dockerd --userns-remap, which needs a dockerd of its own, not the system's (it skips there). */
const ALL = '^(?!\\[15\\] dockerd --userns-remap)';
const SCENARIOS = process.env.RUNTS_E2E_VM_SCENARIOS;
const ONLY = SCENARIOS === 'all' ? ALL : SCENARIOS || SUBSET;

function unavailable(): string | undefined {
  if (process.env.RUNTS_E2E === 'skip' || process.env.RUNTS_E2E === '0') return 'RUNTS_E2E=skip';
  if (!isRoot) return 'not root';
  const vm = vmUnavailable();
  if (vm) return vm;
  if (!existsSync(SYSTEMD)) return `${SYSTEMD} is missing (Debian package systemd)`;
  for (const engine of ['docker', 'containerd', 'podman'] as const) {
    const why = ensureEngine(engine); // installed on the host: the VM's root is the host's
    if (why) return `${engine}: ${why}`;
  }
  if (!existsSync(RUNC)) return `${RUNC} is missing (Debian package runc)`;
  return undefined;
}

const skip = unavailable();
if (skip && process.env.RUNTS_E2E === 'require' && skip !== 'RUNTS_E2E=skip')
  throw new Error(`e2e required (RUNTS_E2E=require) but: ${skip}`);

/** Seconds since the VM's kernel started, of the units' readiness and of the script's start. */
const timings = [
  'echo "vm time: systemd started at $(awk \'{ print $22 / 100 }\' /proc/1/stat) s"',
  ...['basic.target', 'containerd.service', 'docker.service'].map(
    (u) => `echo "vm time: ${u} active at $(( $(systemctl show -P ActiveEnterTimestampMonotonic ${u}) / 1000 )) ms"`,
  ),
  'echo "vm time: the script started at $(cut -d" " -f1 /proc/uptime) s"',
];

/** One run of the e2e files per runtime, each between marks (its name, its duration). */
const runs = RUNTIMES.map(
  (r) => `echo "=== runtime ${r.name}"; t0=$(date +%s)
RUNTS_E2E_RUNTIME=${r.binary} ${process.execPath} test/run.mjs ${FILES.join(' ')}
echo "=== runtime ${r.name} done in $(( $(date +%s) - t0 )) s"`,
);

const script = [
  ...timings,
  `cd ${TOP}`,
  // The VM's own copy of dist/ (in its overlay): a rebuild on the host meanwhile does not reach it.
  'cp -a dist .dist-vm && rm -rf dist && mv .dist-vm dist',
  // The VM is the isolation: the runner's own (private pid and mount namespaces) would hide the daemons' processes and mounts.
  'export RUNTS_E2E_DAEMONS=system RUNTS_E2E=require RUNTS_TEST_ISOLATED=1 NODE_DISABLE_COLORS=1',
  // The runner's per-file limit in the VM is the host's: all of docker.test's scenarios take over 15 minutes on a busy host.
  `export RUNTS_TEST_FILE_TIMEOUT=${Number(process.env.RUNTS_TEST_FILE_TIMEOUT) || 900}`,
  ...(ONLY ? [`export RUNTS_E2E_ONLY=${quote(ONLY)}`] : []),
  ...runs,
].join('\n');

/** What the VM's systemd starts before the script, and the settings that are not the defaults: no network at all, the runtime "runts". */
const SYSTEM = {
  units: ['containerd.service', 'docker.service', 'dbus.service'],
  files: {
    '/etc/docker/daemon.json': `${JSON.stringify(
      {
        bridge: 'none',
        iptables: false,
        ip6tables: false,
        'ip-masq': false,
        'ip-forward': false,
        runtimes: { runts: { path: SYSTEM_WRAPPER } },
      },
      null,
      2,
    )}\n`,
  },
  // overlay2 and the overlayfs snapshotter cannot work on the VM's overlay root.
  tmpfs: ['/var/lib/docker', '/var/lib/containerd', '/var/lib/containers'],
  memoryMb: 4096,
};

/**
 * Measured under TCG on a 2-core host: boot 0.5 minutes when it is idle,
 * 1.3 to 1.7 when busy (systemd's own start, AppArmor's profiles,
 * containerd, dockerd); then per runtime: all scenarios on runts 8 minutes
 * (idle), on runc 14 to 18 (busy); the subset on runc 6 (busy; half of it
 * setup: bundling, the images).
 */
const TIMEOUT_MS = 40 * 60_000;

let vm: Promise<{ output: string; bootMs: number; totalMs: number }> | undefined;
/** The VM's console output, the VM booted once for all the tests of this file. */
function vmOutput() {
  vm ??= (async () => {
    const t0 = Date.now();
    let bootMs = 0;
    const run = runInVm(
      script,
      TIMEOUT_MS,
      (lines) => {
        if (!bootMs && lines.includes(START_MARK)) bootMs = Date.now() - t0;
        process.stdout.write(asGuest(lines.replace(/\r/g, '')));
      },
      SYSTEM,
    );
    const output = (await run.output).replace(/\r/g, '');
    return { output, bootMs, totalMs: Date.now() - t0 };
  })();
  return vm;
}

interface RuntimeResult {
  section: string;
  scenarios: Map<string, string>;
}

/** The part of the output of one runtime's run, and its scenarios' results (✓ or ✘, by name). */
function resultOf(output: string, runtime: string): RuntimeResult {
  const from = output.indexOf(`=== runtime ${runtime}\n`);
  const to = output.indexOf(`=== runtime ${runtime} done`);
  const section = from < 0 ? '' : output.slice(from, to < 0 ? undefined : to);
  const scenarios = new Map<string, string>();
  for (const [, mark, name = '', took = ''] of section.matchAll(/^ {2}([✓✘]) (.+) \((\d+\.\d) s\)$/gm))
    scenarios.set(name, `${mark} ${took.padStart(5)} s`);
  return { section, scenarios };
}

function report(output: string, bootMs: number, totalMs: number): void {
  const results = RUNTIMES.map((r) => resultOf(output, r.name));
  const names = [...new Set(results.flatMap((r) => [...r.scenarios.keys()]))];
  console.log(`\n  scenario results (${RUNTIMES.map((r) => r.name).join(' | ')}):`);
  for (const name of names)
    console.log(`    ${results.map((r) => (r.scenarios.get(name) ?? '-').padEnd(9)).join('  ')}  ${name}`);
  console.log(
    `\n  time: to the script ${(bootMs / 1000).toFixed(0)} s, in all ${(totalMs / 1000).toFixed(0)} s (host wall clock)`,
  );
  for (const line of output.match(/^(vm time: .*|=== runtime \w+ done in .*)$/gm) ?? []) console.log(`    ${line}`);
}

if (skip) {
  for (const r of RUNTIMES) skipTest(test, `the e2e scenarios on ${r.name}, on systemd and cgroup v2`, skip);
} else {
  test('the VM boots systemd on cgroup v2; dockerd (systemd cgroup driver), containerd and podman (systemd cgroup manager) are up', async () => {
    const { output, bootMs, totalMs } = await vmOutput();
    const tail = asGuest(output.slice(-3000));
    const exit = new RegExp(`${END_MARK} (\\d+)(.*)`).exec(output);
    report(output, bootMs, totalMs);
    assert.ok(exit, `the VM ended before the tests did:\n${tail}`);
    assert.match(
      output,
      /the system's dockerd: cgroup driver systemd, cgroup v2/,
      'dockerd did not use the systemd cgroup driver on cgroup v2',
    );
    assert.match(
      output,
      /podman: cgroup manager systemd, cgroup v2/,
      'podman did not use the systemd cgroup manager on cgroup v2',
    );
  });
  for (const r of RUNTIMES) {
    test(`the e2e scenarios on ${r.name}, on systemd and cgroup v2: all pass, nothing left`, async () => {
      const { output } = await vmOutput();
      const { section, scenarios } = resultOf(output, r.name);
      assert.ok(section, `no run of the e2e files on ${r.name} in the VM's output`);
      const summary = /(\d+) passed, (\d+) failed, (\d+) skipped/.exec(section);
      assert.ok(summary, `no test summary of the run on ${r.name}:\n${asGuest(section.slice(-3000))}`);
      const [, passed = 0, failed, skipped] = summary.map(Number);
      const failing = [...scenarios].filter(([, result]) => result.startsWith('✘')).map(([name]) => name);
      assert.is(
        failed,
        0,
        `${failed} test(s) failed on ${r.name}${failing.length ? `: ${failing.join('; ')}` : ''} (output above)`,
      );
      assert.is(skipped, 0, `${skipped} test(s) skipped on ${r.name}`);
      assert.ok(passed > 0, `no test ran on ${r.name}`);
    });
  }
}

test.run();
