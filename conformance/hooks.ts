/**
 * Hooks the cases configure: busybox shell scripts. A runtime-namespace
 * hook runs the suite's host-only busybox (its path exists in no
 * container, so running it shows the path resolved in the runtime
 * namespace); busybox picks the `sh` applet from argv[0], so a runtime
 * that passes the wrong argv[0] fails the hook.
 */
import type { Hook } from './config';
import type { Trial } from './trial';

export const hostHook = (t: Trial, script: string, extra: Partial<Hook> = {}): Hook => ({
  path: t.suite.rootfs.hostBusybox,
  args: ['sh', '-c', script],
  ...extra,
});

/** A hook that appends `line` to a host file. */
export const markHook = (t: Trial, file: string, line: string): Hook => hostHook(t, `echo ${line} >> ${file}`);

/** A hook whose path resolves in the container (startContainer's rule): the rootfs's busybox. */
export const containerHook = (script: string): Hook => ({ path: '/bin/busybox', args: ['sh', '-c', script] });

const FAIL = 'echo conformance: this hook fails on purpose >&2; exit 1';

export const failingHook = (t: Trial): Hook => hostHook(t, FAIL);

export const failingContainerHook = (): Hook => containerHook(FAIL);

/**
 * A hook that records, one KEY=value per line into `file`: its mount and
 * network namespaces, the state it read on stdin, and what `more` (shell
 * commands, each ending in ";") prints. $pid is the state's pid.
 */
export const recordingHook = (t: Trial, file: string, more = ''): Hook =>
  hostHook(
    t,
    `state=$(cat); pid=$(echo "$state" | sed -n 's/.*"pid": *\\([0-9]*\\).*/\\1/p'); ` +
      `{ echo "mnt=$(readlink /proc/self/ns/mnt)"; echo "net=$(readlink /proc/self/ns/net)"; echo "state=$state"; ${more} } > ${file}`,
  );
