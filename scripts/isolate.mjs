// Test safety: every container a test or conformance run starts lives in a
// private mount + pid (+ uts, ipc) namespace of its own, so that a runtime
// bug (a pivot_root or unmount of the caller's mount namespace, a signal to
// -1, a hostname change) can only hurt that namespace, never the machine
// that runs the tests. The effect is `unshare --mount --propagation private
// --pid --fork`; pid 1 of the namespace is a bash that reaps orphans (node
// as pid 1 would leave adopted container inits as zombies), and when it
// ends the kernel kills whatever the test left in the namespace.
import { spawnSync } from 'node:child_process';

const UNSHARE = ['--fork', '--kill-child', '--pid', '--mount-proc', '--mount', '--propagation', 'private', '--uts', '--ipc'];
// The reaper: runs "$@", passes its status on; TERM/INT/HUP end everything inside.
const REAPER = 'trap "kill -KILL -1 2>/dev/null" TERM INT HUP; "$@" & wait $!';

/** Set in the environment of what runs isolated, so that nothing isolates twice. */
export const ISOLATED_ENV = 'RUNTS_TEST_ISOLATED';

/** Whether this process can and should isolate what it starts (root, not isolated yet). */
export function shouldIsolate() {
  return process.getuid?.() === 0 && process.env[ISOLATED_ENV] !== '1';
}

/** argv (program first) that runs `command args…` in a namespace of its own. */
export function isolatedCommand(command, args) {
  return ['unshare', ...UNSHARE, '--', 'bash', '-c', REAPER, 'runts-isolated', command, ...args];
}

/**
 * Fails loudly when isolation cannot work here (no unshare, a kernel or
 * seccomp profile that forbids it): running containers unisolated is what
 * this exists to prevent.
 */
export function checkIsolation() {
  const [program, ...args] = isolatedCommand('true', []);
  const r = spawnSync(program, args, { stdio: ['ignore', 'ignore', 'pipe'] });
  if (r.status !== 0) {
    const why = r.error ? r.error.message : r.stderr.toString().trim();
    throw new Error(
      `cannot isolate the tests in namespaces of their own (${why}); refusing to run containers on the bare machine`,
    );
  }
}

/** Environment for an isolated child. */
export const isolatedEnv = (env = process.env) => ({ ...env, [ISOLATED_ENV]: '1' });
