/**
 * Running lifecycle hooks (config.md "POSIX-platform Hooks"): each hook's
 * path with its args (args[0] is argv[0]) and env, the state on stdin, and
 * its timeout. Hooks are spawned from the main thread, so they run in the
 * namespaces of the caller: create/start/delete run the runtime-namespace
 * hooks, the init runs createContainer and startContainer.
 */
import { RuntsError } from '../errors';
import type { Hook } from '../spec/types';

/** The state document hooks read on stdin (runtime.md "State"). */
export interface HookState {
  ociVersion: string;
  id: string;
  status: string;
  pid: number;
  bundle: string;
  annotations?: Record<string, string>;
}

/** The state document a hook reads, from the container's record. */
export function hookState(record: Omit<HookState, 'status'>, status: string): HookState {
  const state: HookState = { ociVersion: record.ociVersion, id: record.id, status, pid: record.pid, bundle: record.bundle };
  if (record.annotations) state.annotations = record.annotations;
  return state;
}

/**
 * What runHooks needs, loaded now when there are hooks: the init runs its
 * startContainer hooks after pivot_root, the filter and the credentials,
 * and loads node:child_process before it leaves the host.
 */
export function prepareHooks(hooks: readonly Hook[] | undefined): void {
  if (hooks?.length) require('node:child_process');
}

export function runHooks(kind: string, hooks: readonly Hook[] | undefined, state: HookState): void {
  if (!hooks?.length) return;
  // Loaded only when there is a hook to run: child_process (and net, which
  // it pulls in) would cost every start and delete a few ms.
  const { spawnSync } = require('node:child_process') as typeof import('node:child_process');
  hooks.forEach((hook, i) => {
    const [argv0, ...rest] = hook.args?.length ? hook.args : [hook.path];
    const r = spawnSync(hook.path, rest, {
      argv0,
      env: Object.fromEntries((hook.env ?? []).map((e) => [e.slice(0, e.indexOf('=')), e.slice(e.indexOf('=') + 1)])),
      input: JSON.stringify(state),
      timeout: hook.timeout ? hook.timeout * 1000 : undefined,
      killSignal: 'SIGKILL',
      stdio: ['pipe', 'pipe', 'pipe'],
      encoding: 'utf8',
    });
    const what = `${kind} hook #${i} (${hook.path})`;
    const output = `${r.stderr ?? ''}${r.stdout ?? ''}`.trim();
    const tail = output ? `: ${output}` : '';
    // A hook that does not read its stdin is fine: ignore the EPIPE of writing it.
    if (r.error && (r.error as NodeJS.ErrnoException).code !== 'EPIPE') {
      const code = (r.error as NodeJS.ErrnoException).code;
      if (code === 'ETIMEDOUT') throw new RuntsError(`${what} timed out after ${hook.timeout}s${tail}`);
      throw new RuntsError(`${what}: ${r.error.message}`);
    }
    if (r.signal) throw new RuntsError(`${what} killed by ${r.signal}${tail}`);
    if (r.status !== 0) throw new RuntsError(`${what} failed: exit status ${r.status}${tail}`);
  });
}

/** poststart and poststop: a failure is a warning, the operation goes on (config.md). */
export function runHooksWarnOnly(
  kind: string,
  hooks: readonly Hook[] | undefined,
  state: HookState,
  warn: (msg: string) => void,
): void {
  for (const hook of hooks ?? []) {
    try {
      runHooks(kind, [hook], state);
    } catch (err) {
      warn((err as Error).message);
    }
  }
}
