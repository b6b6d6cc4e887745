// The cgroup tests (cgroups.test.ts) on a cgroup v2 kernel: this host is
// cgroup v1, so they run again inside a qemu VM (test/lib/vm.ts) with the
// same runner, and their summary comes back here. Skipped, with the reason,
// where no VM can run (not root, no qemu, no kernel with 9p modules).
// Just this part: npm test -- cgroup-v2-vm
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { TOP, isRoot } from '../lib/cli';
import { skipTest } from '../lib/skips';
import { busyboxRootfs } from '../lib/container';
import { END_MARK, asGuest, runInVm, vmUnavailable } from '../lib/vm';

const test = suite('cgroup v2 in a VM');
// Inside the VM this file is not run (the runner there is given cgroups.test only).
const unavailable = isRoot ? vmUnavailable() : 'not root';
const whenVm = unavailable ? (title: string) => skipTest(test, title, unavailable) : test;

/**
 * Boot, the cgroup tests and the conformance cgroup cases: about 4 minutes
 * on an idle 2-core host (qemu emulates the CPU), 6 to 8 on a busy one.
 * Under the runner's per-file limit (RUNTS_TEST_FILE_TIMEOUT, 15 minutes).
 */
const TIMEOUT_MS = 12 * 60_000;

whenVm('the cgroup integration tests and the conformance cgroup cases all pass on a cgroup v2 kernel', async () => {
  busyboxRootfs(); // made on the host, which the VM's root overlays
  const script = [
    `cd ${TOP}`,
    // The VM's own copy of dist/ (in its overlay): a rebuild on the host meanwhile does not reach it.
    'cp -a dist .dist-vm && rm -rf dist && mv .dist-vm dist',
    'echo "cgroup v2 controllers: $(cat /sys/fs/cgroup/cgroup.controllers)"',
    `${process.execPath} test/run.mjs integration/cgroups.test`,
    // The conformance suite's cgroup cases too: "unified" can run only on v2.
    `${process.execPath} conformance/run.mjs --filter config-linux.resources`,
  ].join(' && ');
  const output = await runInVm(script, TIMEOUT_MS, (lines) => process.stdout.write(asGuest(lines))).output;
  const tail = asGuest(output.slice(-3000));
  const exit = new RegExp(`${END_MARK} (\\d+)(.*)`).exec(output);
  assert.ok(exit, `the VM ended before the tests did:\n${tail}`);
  const summary = /(\d+) passed, (\d+) failed, (\d+) skipped/.exec(output);
  assert.ok(summary, `no test summary from the VM (${exit[0]}):\n${tail}`);
  const [, passed = 0, failed, skipped] = summary.map(Number);
  assert.is(failed, 0, `${failed} cgroup test(s) failed on cgroup v2 (output above)`);
  assert.is(skipped, 0, `${skipped} cgroup test(s) skipped on cgroup v2`);
  assert.ok(passed > 0, 'no cgroup test ran on cgroup v2');
  assert.is(exit[1], '0', `the runner in the VM exited ${exit[1]}${exit[2]}`);
  // The conformance suite's resource cases: none failed, and the v2-only one ran and passed.
  assert.not.match(
    output,
    /^not ok \d+ - config-linux\.resources\./m,
    'a conformance cgroup case failed on cgroup v2 (output above)',
  );
  assert.match(
    output,
    /^ok \d+ - config-linux\.resources\.unified (?!.*# SKIP)/m,
    'config-linux.resources.unified did not run and pass on cgroup v2',
  );
});

test.run();
