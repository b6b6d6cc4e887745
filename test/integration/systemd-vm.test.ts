// The systemd cgroup driver against a live systemd, on cgroup v2 and on
// cgroup v1: this host has no systemd as PID 1, so systemd-live.test.ts
// runs in two VMs (test/lib/vm.ts, systemd mode) that boot systemd on each,
// and its summary comes back here. Skipped, with the reason, where no VM
// can run. The engines (Docker, containerd, podman) on systemd are
// test/e2e/systemd-vm.test.ts.
// Just this part: npm test -- integration/systemd-vm
import { existsSync } from 'node:fs';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { TOP, isRoot } from '../lib/cli';
import { busyboxRootfs } from '../lib/container';
import { skipTest } from '../lib/skips';
import { END_MARK, SYSTEMD, asGuest, runInVm, vmUnavailable } from '../lib/vm';

const test = suite('systemd cgroup driver in VMs (cgroup v2 and v1)');

const unavailable = !isRoot
  ? 'not root'
  : (vmUnavailable() ?? (existsSync(SYSTEMD) ? undefined : `${SYSTEMD} is missing (Debian package systemd)`));

/** Boot to the script about 25 s on an idle 2-core host (TCG), the tests under a minute; a busy host takes 2 to 3 times that. */
const TIMEOUT_MS = 6 * 60_000;

const script = [
  `cd ${TOP}`,
  // The VM's own copy of dist/ (in its overlay): a rebuild on the host meanwhile does not reach it.
  'cp -a dist .dist-vm && rm -rf dist && mv .dist-vm dist',
  'echo "cgroup: $(stat -f -c %T /sys/fs/cgroup), systemd $(systemctl --version | head -1 | cut -d" " -f2) is $(systemctl is-system-running)"',
  // The VM is the isolation: the runner's own pid namespace would hide the init's pid from systemd.
  `RUNTS_TEST_ISOLATED=1 NODE_DISABLE_COLORS=1 ${process.execPath} test/run.mjs integration/systemd-live`,
].join(' && ');

for (const version of ['v2', 'v1'] as const) {
  const title = `the systemd driver's tests pass against systemd on cgroup ${version}`;
  if (unavailable) {
    skipTest(test, title, unavailable);
    continue;
  }
  test(title, async () => {
    busyboxRootfs(); // made on the host, which the VM's root overlays
    const t0 = Date.now();
    const output = (
      await runInVm(script, TIMEOUT_MS, (lines) => process.stdout.write(asGuest(lines.replace(/\r/g, ''))), {
        units: ['dbus.service'],
        cgroupV1: version === 'v1',
      }).output
    ).replace(/\r/g, '');
    console.log(`  cgroup ${version} VM: ${((Date.now() - t0) / 1000).toFixed(0)} s (host wall clock)`);
    const tail = asGuest(output.slice(-3000));
    const exit = new RegExp(`${END_MARK} (\\d+)(.*)`).exec(output);
    assert.ok(exit, `the VM ended before the tests did:\n${tail}`);
    assert.match(output, version === 'v2' ? /cgroup: cgroup2fs/ : /cgroup: tmpfs/, `not cgroup ${version}:\n${tail}`);
    const summary = /(\d+) passed, (\d+) failed, (\d+) skipped/.exec(output);
    assert.ok(summary, `no test summary from the VM (${exit[0]}):\n${tail}`);
    const [, passed = 0, failed, skipped] = summary.map(Number);
    assert.is(failed, 0, `${failed} test(s) failed against systemd on cgroup ${version} (output above)`);
    assert.is(skipped, 0, `${skipped} test(s) skipped against systemd on cgroup ${version}`);
    assert.ok(passed >= 3, 'the systemd tests did not run');
    assert.is(exit[1], '0', `the runner in the VM exited ${exit[1]}${exit[2]}`);
  });
}

test.run();
