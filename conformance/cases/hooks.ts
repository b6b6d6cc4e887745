/**
 * config.md "POSIX-platform Hooks" and the section of each hook: when it
 * runs, in which namespace, where its path resolves, what it gets.
 *
 * One lifecycle per case (create, start, kill, delete) with a recording
 * hook of one kind; after each step the host notes whether the hook has
 * run yet. The hook records its own namespaces, the state it read, and
 * facts about the container at that moment.
 */
import { copyFileSync, existsSync, realpathSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { type Case, type Requirement, check, same } from '../case';
import type { Hook, HookKind } from '../config';
import { containerHook, hostHook, markHook, recordingHook } from '../hooks';
import { alive, nsOf, readOr } from '../host';
import { expectRefusal, refused, scenario, section } from '../kinds';
import { keyValues } from '../parse';
import { CALLER_ENV } from '../runtime-cli';
import { LONG_RUNNING, createdContainer, killed, sharedDir, untilFile } from '../steps';
import type { Trial } from '../trial';

const posixHooks = section('config.md', 'POSIX-platform Hooks');
const SECTIONS: Record<HookKind, ReturnType<typeof section>> = {
  prestart: section('config.md', 'Prestart'),
  createRuntime: section('config.md', 'CreateRuntime Hooks'),
  createContainer: section('config.md', 'CreateContainer Hooks'),
  startContainer: section('config.md', 'StartContainer Hooks'),
  poststart: section('config.md', 'Poststart'),
  poststop: section('config.md', 'Poststop'),
};

/** What a host path the container does not have tells: is the hook's root (or the init's) still the host's? */
const HOST_MARKER = 'host-marker';

interface Observation {
  /** The hook's record: mnt, net, state, and the facts below. */
  record: Record<string, string>;
  /** Whether the hook had run when each operation returned. */
  ranBy: { create: boolean; start: boolean; delete: boolean };
  /** The container init's pid (state after create) and its mount namespace. */
  pid: number;
  initMnt: string;
  /** What the user's program saw: its mount namespace, and whether the hook had run before it. */
  program: Record<string, string>;
}

/**
 * Facts the hook records (shell, each ending in ";"): whether its own root
 * and the init's root are still the host's (before pivot_root), the init's
 * command line, whether the init is still alive, and how many proc mounts
 * sit under the rootfs in the hook's mount namespace and in the init's.
 * (A zombie is not alive: whoever reaps the killed process may take its
 * time.) A count is empty when its mountinfo could not be read.
 */
const facts = (marker: string, rootfs: string) =>
  `echo "own_root=$(test -e ${marker} && echo host || echo container)"; ` +
  `echo "init_root=$(test -e /proc/$pid/root${marker} && echo host || echo container)"; ` +
  `echo "init_cmdline=$(tr '\\0' ' ' < /proc/$pid/cmdline 2>/dev/null)"; ` +
  `a=$(awk '/^State:/ { print ($2 == "Z" || $2 == "X") ? "no" : "yes" }' /proc/$(cat ${marker}.pid)/status 2>/dev/null); echo "init_alive=\${a:-no}"; ` +
  `echo "rootfs_proc_mounts=$(grep -c ' ${rootfs}/proc .* - proc ' /proc/self/mountinfo)"; ` +
  `echo "init_proc_mounts=$(grep -c ' ${rootfs}/proc .* - proc ' /proc/$pid/mountinfo 2>/dev/null)";`;

/** A count the hook recorded: a number, or a failure saying it could not count. */
function count(o: Observation, fact: 'rootfs_proc_mounts' | 'init_proc_mounts'): number {
  const value = o.record[fact];
  check(value !== undefined && /^\d+$/.test(value), `the hook could not count ${fact} (recorded ${JSON.stringify(value)})`);
  return Number(value);
}

async function observe(t: Trial, kind: HookKind): Promise<Observation> {
  const c = t.config(
    'echo "mnt=$(readlink /proc/self/ns/mnt)" > /out/program; ' +
      'echo "hook_before=$(test -e /conformance-hook/record && echo yes || echo no)" >> /out/program; ' +
      LONG_RUNNING,
  );
  const out = sharedDir(t, c);
  const hookDir = sharedDir(t, c, 'hook', '/conformance-hook');
  const marker = t.path(HOST_MARKER);
  writeFileSync(marker, 'only on the host');
  let hook: Hook;
  let record: string;
  if (kind === 'startContainer') {
    // Its path must resolve in the container: a busybox only the container has.
    copyFileSync(t.suite.rootfs.hostBusybox, join(hookDir, 'busybox'));
    hook = {
      ...recordingHook(t, '/conformance-hook/record', facts(marker, t.suite.rootfs.shared)),
      path: '/conformance-hook/busybox',
    };
    record = join(hookDir, 'record');
  } else {
    record = t.path('record');
    hook = recordingHook(t, record, facts(marker, t.suite.rootfs.shared));
  }
  c.hooks = { [kind]: [hook] };
  // A slow startContainer hook delays the exec of the program: a runtime that
  // runs poststart hooks before the program is executed is then caught every time.
  if (kind === 'poststart') c.hooks.startContainer = [containerHook('sleep 1')];
  const id = await createdContainer(t, c);
  const ranBy = { create: existsSync(record), start: false, delete: false };
  const state = await t.rt.state(id);
  writeFileSync(`${marker}.pid`, String(state.pid));
  const initMnt = nsOf(state.pid!, 'mnt');
  await t.rt.started(id);
  ranBy.start = existsSync(record);
  await untilFile(join(out, 'program'), 'hook_before=');
  await killed(t, id);
  await t.rt.delete(id);
  ranBy.delete = existsSync(record);
  return { record: keyValues(readOr(record)), ranBy, pid: state.pid!, initMnt, program: keyValues(readOr(join(out, 'program'))) };
}

const HOST = () => ({ mnt: nsOf('self', 'mnt'), net: nsOf('self', 'net') });

/** The hook ran in the runtime's mount and network namespaces. */
function inRuntimeNamespace(o: Observation): void {
  check(o.ranBy.delete, 'the hook never ran');
  same(
    [o.record.mnt, o.record.net],
    [HOST().mnt, HOST().net],
    "the hook's mount and network namespaces (the runtime's expected)",
  );
}

/** The hook ran in the container's mount namespace. */
function inContainerNamespace(o: Observation, containerMnt: string | undefined): void {
  check(o.ranBy.delete, 'the hook never ran');
  check(o.record.mnt !== HOST().mnt, "the hook ran in the runtime's mount namespace");
  same(o.record.mnt, containerMnt, "the hook's mount namespace (the container's expected)");
}

/**
 * prestart and createRuntime: during create, once the runtime environment
 * exists (the container's /proc is mounted under the rootfs in the init's
 * mount namespace), before pivot_root.
 */
const beforePivotInRuntime = (o: Observation) => {
  check(o.ranBy.create, 'the hook had not run when create returned');
  check(o.record.init_root === 'host', 'the container had already done pivot_root (or equivalent) when the hook ran');
  check(
    count(o, 'init_proc_mounts') > 0,
    "the container's /proc was not mounted yet in its mount namespace when the hook ran (the runtime environment was not created)",
  );
};

const TIMING: Record<HookKind, { text: string; check: (o: Observation) => void }> = {
  prestart: {
    text: 'The prestart hooks MUST be called as part of the create operation after the runtime environment has been created (according to the configuration in config.json) but before the pivot_root or any equivalent operation has been executed.',
    check: beforePivotInRuntime,
  },
  createRuntime: {
    text: 'The createRuntime hooks MUST be called as part of the create operation after the runtime environment has been created (according to the configuration in config.json) but before the pivot_root or any equivalent operation has been executed.',
    check: beforePivotInRuntime,
  },
  createContainer: {
    text: 'The createContainer hooks MUST be called as part of the create operation after the runtime environment has been created (according to the configuration in config.json) but before the pivot_root or any equivalent operation has been executed.',
    check: (o) => {
      check(o.ranBy.create, 'the hook had not run when create returned');
      same(o.record.own_root, 'host', "the hook's root (before pivot_root it is still the host's)");
      check(count(o, 'rootfs_proc_mounts') > 0, "the container's /proc was not mounted yet when the hook ran");
    },
  },
  startContainer: {
    text: 'The startContainer hooks MUST be called before the user-specified process is executed as part of the start operation.',
    check: (o) => {
      check(!o.ranBy.create, 'the hook ran during create');
      check(o.ranBy.delete, 'the hook never ran');
      same(o.program.hook_before, 'yes', "whether the hook had run when the user's program started");
    },
  },
  poststart: {
    text: 'The poststart hooks MUST be called after the user-specified process is executed but before the start operation returns.',
    check: (o) => {
      check(!o.ranBy.create, 'the hook ran during create');
      check(o.ranBy.start, 'the hook had not run when start returned');
      // The user's program is `sh -c '…; exec sleep 600'`: before or after its
      // exec of sleep (a slow host may run the hook in between), it is the
      // user's process, never the runtime's own init.
      const cmdline = o.record.init_cmdline ?? '';
      check(
        cmdline === 'sleep 600' || cmdline.startsWith('sh -c '),
        `the container process when the hook ran was ${JSON.stringify(cmdline)}, not the user's program (sh -c …, then sleep 600)`,
      );
    },
  },
  poststop: {
    text: 'The poststop hooks MUST be called after the container is deleted but before the delete operation returns.',
    check: (o) => {
      check(!o.ranBy.start, 'the hook ran before delete');
      check(o.ranBy.delete, 'the hook had not run when delete returned');
      same(o.record.init_alive, 'no', 'whether the container process was still there when the hook ran');
    },
  },
};

const NAMESPACE: Record<HookKind, { text: string; check: (o: Observation) => void }> = {
  prestart: {
    text: "The prestart hooks' path MUST resolve in the runtime namespace. The prestart hooks MUST be executed in the runtime namespace.",
    check: inRuntimeNamespace,
  },
  createRuntime: {
    text: "The createRuntime hooks' path MUST resolve in the runtime namespace. The createRuntime hooks MUST be executed in the runtime namespace.",
    check: inRuntimeNamespace,
  },
  createContainer: {
    text: "The createContainer hooks' path MUST resolve in the runtime namespace. The createContainer hooks MUST be executed in the container namespace.",
    check: (o) => inContainerNamespace(o, o.initMnt),
  },
  startContainer: {
    text: "The startContainer hooks' path MUST resolve in the container namespace. The startContainer hooks MUST be executed in the container namespace.",
    check: (o) => inContainerNamespace(o, o.program.mnt),
  },
  poststart: {
    text: "The poststart hooks' path MUST resolve in the runtime namespace. The poststart hooks MUST be executed in the runtime namespace.",
    check: inRuntimeNamespace,
  },
  poststop: {
    text: "The poststop hooks' path MUST resolve in the runtime namespace. The poststop hooks MUST be executed in the runtime namespace.",
    check: inRuntimeNamespace,
  },
};

const KINDS = Object.keys(TIMING) as HookKind[];

/** Two hook kinds mark one log: `first`'s line must come before `second`'s. */
const hookOrder = (req: Requirement, first: HookKind, second: HookKind, id: string) =>
  scenario(req, {
    id,
    run: async (t) => {
      const c = t.config(LONG_RUNNING);
      const log = t.path('log');
      c.hooks = { [second]: [markHook(t, log, second)], [first]: [markHook(t, log, first)] };
      await createdContainer(t, c);
      same(readOr(log).trim().split('\n'), [first, second], 'the order the hooks ran in');
    },
  });

export const hookCases: Case[] = [
  scenario(posixHooks('MUST', 'Hooks MUST be called in the listed order.'), {
    id: 'config.hooks.listed-order',
    run: async (t) => {
      const c = t.config(LONG_RUNNING);
      const log = t.path('log');
      c.hooks = { createRuntime: ['1', '2', '3'].map((n) => markHook(t, log, n)) };
      await createdContainer(t, c);
      same(readOr(log).trim().split('\n'), ['1', '2', '3'], 'the order three createRuntime hooks ran in');
    },
  }),

  scenario(
    posixHooks(
      'MUST',
      'The state of the container MUST be passed to hooks over stdin so that they may do work appropriate to the current state of the container.',
    ),
    {
      id: 'config.hooks.state-on-stdin',
      run: async (t) => {
        const c = t.config(LONG_RUNNING);
        const record = t.path('record');
        c.hooks = { createRuntime: [recordingHook(t, record)] };
        const id = t.newId();
        const bundle = t.bundle(c);
        await t.rt.created(id, bundle);
        let state: Record<string, unknown>;
        try {
          state = JSON.parse(keyValues(readOr(record)).state ?? '');
        } catch {
          return check(false, `the hook read no JSON state on stdin: ${JSON.stringify(readOr(record).slice(0, 200))}`);
        }
        same(state.id, id, 'state.id');
        same(state.bundle, realpathSync(bundle), 'state.bundle');
        same(state.pid, (await t.rt.state(id)).pid, 'state.pid (the container process)');
        check(typeof state.ociVersion === 'string', `state.ociVersion ${JSON.stringify(state.ociVersion)}`);
      },
    },
  ),

  scenario(
    posixHooks(
      'MUST',
      "path (string, REQUIRED) with similar semantics to IEEE Std 1003.1-2008 execv's path. This specification extends the IEEE standard in that path MUST be absolute.",
    ),
    {
      id: 'config.hooks.path-relative',
      run: async (t) => {
        // Relative to the runtime's cwd, the path would name a real busybox.
        const c = t.config(LONG_RUNNING);
        c.hooks = { createRuntime: [{ path: 'hostbin/busybox', args: ['sh', '-c', 'exit 0'] }] };
        await expectRefusal(t, t.bundle(c), { cwd: t.suite.dir });
      },
    },
  ),

  refused(
    posixHooks(
      'MUST',
      'timeout (int, OPTIONAL) is the number of seconds before aborting the hook. If set, timeout MUST be greater than zero.',
    ),
    {
      id: 'config.hooks.timeout-zero',
      config: (c, t) => {
        c.hooks = { createRuntime: [hostHook(t, 'exit 0', { timeout: 0 })] };
      },
    },
  ),

  scenario(
    posixHooks(
      'MUST',
      'timeout (int, OPTIONAL) is the number of seconds before aborting the hook (an aborted createRuntime hook has failed: the runtime MUST generate an error).',
    ),
    {
      id: 'config.hooks.timeout-aborts',
      run: async (t) => {
        // The hook would end well (exit 0) only after the case's own time
        // limit: a runtime that waits for it fails by that limit or by
        // creating the container; one that aborts it leaves no hook behind.
        const c = t.config(LONG_RUNNING);
        const pidFile = t.path('hook.pid');
        c.hooks = { createRuntime: [hostHook(t, `echo $$ > ${pidFile}; exec sleep 600`, { timeout: 1 })] };
        await expectRefusal(t, t.bundle(c));
        const pid = Number(readOr(pidFile));
        check(pid > 0, 'the hook never ran');
        check(!alive(pid), `the hook (pid ${pid}) is still running after create failed: it was not aborted`);
      },
    },
  ),

  scenario(
    posixHooks(
      'MUST',
      "args (array of strings, OPTIONAL) with the same semantics as IEEE Std 1003.1-2008 execv's argv; env (array of strings, OPTIONAL) with the same semantics as IEEE Std 1003.1-2008's environ.",
    ),
    {
      id: 'config.hooks.args-and-env',
      run: async (t) => {
        const c = t.config(LONG_RUNNING);
        const record = t.path('record');
        // argv[0] "sh" makes busybox a shell: a runtime that puts the path there fails the hook.
        const hook = hostHook(t, `{ echo "args=$0|$1"; env; } > ${record}`, { env: ['CONFORMANCE_HOOK=value'] });
        c.hooks = { createRuntime: [{ ...hook, args: [...(hook.args ?? []), 'zero', 'one'] }] };
        await createdContainer(t, c);
        const seen = keyValues(readOr(record));
        same(seen.args, 'zero|one', "the hook's $0|$1");
        same(seen.CONFORMANCE_HOOK, 'value', "the hook's CONFORMANCE_HOOK");
        check(!Object.keys(CALLER_ENV).some((name) => name in seen), "the runtime caller's environment leaked into the hook");
      },
    },
  ),

  ...KINDS.map((kind) =>
    scenario(SECTIONS[kind]('MUST', TIMING[kind].text), {
      id: `config.hooks.${kind}.when`,
      run: async (t) => TIMING[kind].check(await observe(t, kind)),
    }),
  ),

  ...KINDS.map((kind) =>
    scenario(SECTIONS[kind]('MUST', NAMESPACE[kind].text), {
      id: `config.hooks.${kind}.namespace`,
      run: async (t) => NAMESPACE[kind].check(await observe(t, kind)),
    }),
  ),

  hookOrder(
    SECTIONS.prestart('MUST', 'The prestart hooks MUST be called before the createRuntime hooks.'),
    'prestart',
    'createRuntime',
    'config.hooks.prestart.before-createRuntime',
  ),
  hookOrder(
    SECTIONS.createContainer('MUST', 'The createContainer hooks MUST be called after the createRuntime hooks.'),
    'createRuntime',
    'createContainer',
    'config.hooks.createContainer.after-createRuntime',
  ),
];
