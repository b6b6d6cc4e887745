/** runtime.md: state, lifecycle, errors, warnings and the operations, watched from the host. */
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, realpathSync, statSync, writeFileSync } from 'node:fs';
import { basename, dirname, join, relative } from 'node:path';
import { type Case, type Requirement, check, same } from '../case';
import { namespaceHolder } from '../holder';
import { failingContainerHook, failingHook, markHook } from '../hooks';
import { alive, nsOf, readOr, waitFor } from '../host';
import { expectNoContainer, expectNothingLeft, expectRefusal, refused, scenario, section } from '../kinds';
import { SEMVER, parseMountinfo } from '../parse';
import { describe } from '../runtime-cli';
import { schemaProblems } from '../schema';
import { LONG_RUNNING, createdContainer, killed, sharedDir, startedContainer, untilFile, untilStatus } from '../steps';
import type { Trial } from '../trial';

const scope = section('runtime.md', 'Scope of a Container');
const state = section('runtime.md', 'State');
const lifecycle = section('runtime.md', 'Lifecycle');
const errors = section('runtime.md', 'Errors');
const warnings = section('runtime.md', 'Warnings');
const query = section('runtime.md', 'Query State');
const create = section('runtime.md', 'Create');
const start = section('runtime.md', 'Start');
const kill = section('runtime.md', 'Kill');
const del = section('runtime.md', 'Delete');

/** A command without the container id must fail. */
const needsId = (req: Requirement, id: string, command: string) =>
  scenario(req, {
    id,
    run: async (t) => {
      const r = await t.rt.exec([command]);
      check(r.code !== 0, `\`${command}\` without a container id exited 0`);
    },
  });

/** A command on an id that was never created must fail. */
const needsContainer = (req: Requirement, id: string, command: string) =>
  scenario(req, {
    id,
    run: async (t) => {
      const r = await t.rt.exec([command, 'conformance-no-such-container']);
      check(r.code !== 0, `\`${command}\` of a container that does not exist exited 0`);
    },
  });

/** A created (not started) long-running container whose program marks /out/ran. */
async function createdMarking(t: Trial) {
  const c = t.config(`echo ran >> /out/ran; ${LONG_RUNNING}`);
  const out = sharedDir(t, c);
  const id = t.newId();
  const bundle = t.bundle(c);
  await t.rt.created(id, bundle);
  return { id, bundle, ran: join(out, 'ran') };
}

/** The processes in the pid namespace a process is in: the container's, seen from the host. */
function inPidNamespaceOf(pid: number): number[] {
  const ns = nsOf(pid, 'pid');
  check(ns !== '', `the container process ${pid} is gone`);
  return readdirSync('/proc')
    .filter((name) => /^\d+$/.test(name))
    .map(Number)
    .filter((p) => nsOf(p, 'pid') === ns);
}

/**
 * Whether a process has executed the rootfs's busybox (the user's program
 * is a busybox sh): its executable is that very file (device and inode).
 */
function runsRootfsBusybox(t: Trial, pid: number): boolean {
  const id = (path: string) => {
    const s = statSync(path);
    return `${s.dev}:${s.ino}`;
  };
  try {
    return id(`/proc/${pid}/exe`) === id(join(t.suite.rootfs.shared, 'bin', 'busybox'));
  } catch {
    return false;
  }
}

/** A hook of `kind` fails: create (or start, for startContainer) must fail, the program must not run. */
function hookFailure(kind: 'prestart' | 'createRuntime' | 'createContainer' | 'startContainer'): Case {
  const step = { prestart: 3, createRuntime: 4, createContainer: 5, startContainer: 7 }[kind];
  return scenario(
    lifecycle(
      'MUST',
      `(step ${step}) If any \`${kind}\` hook fails, the runtime MUST generate an error, stop the container, and continue the lifecycle at step 12.`,
    ),
    {
      id: `runtime.lifecycle.${kind}-hook-fails`,
      run: async (t) => {
        const c = t.config(`echo ran >> /out/ran; ${LONG_RUNNING}`);
        const out = sharedDir(t, c);
        c.hooks = { [kind]: [kind === 'startContainer' ? failingContainerHook() : failingHook(t)] };
        const id = t.newId();
        const bundle = t.bundle(c);
        if (kind !== 'startContainer') {
          await expectRefusal(t, bundle);
        } else {
          await t.rt.created(id, bundle);
          const pid = (await t.rt.state(id)).pid!;
          const r = await t.rt.start(id);
          check(
            await waitFor(() => !alive(pid), 5000),
            `the container process ${pid} still runs after its startContainer hook failed`,
          );
          check(!existsSync(join(out, 'ran')), 'the user-specified program ran although a hook failed');
          check(r.code !== 0, 'start exited 0 although a startContainer hook failed (the container did stop)');
        }
        // No container process is left (checked above) to run the program later: its absence now is final.
        check(!existsSync(join(out, 'ran')), 'the user-specified program ran although a hook failed');
      },
    },
  );
}

/** Things a created container must already have (namespaces, mounts, hostname) seen through its pid. */
function expectEnvironment(pid: number): void {
  for (const kind of ['mnt', 'net', 'ipc', 'uts']) {
    check(nsOf(pid, kind) !== nsOf('self', kind), `the container process has the host's ${kind} namespace after create`);
  }
  const mounts = parseMountinfo(readOr(`/proc/${pid}/mountinfo`));
  for (const [point, fstype] of [
    ['/proc', 'proc'],
    ['/dev', 'tmpfs'],
    ['/sys', 'sysfs'],
  ]) {
    check(
      mounts.some((m) => m.mountPoint === point && m.fstype === fstype),
      `no ${fstype} at ${point} in the container after create`,
    );
  }
  const hostname = spawnSync('nsenter', ['-t', String(pid), '-u', 'hostname'], { encoding: 'utf8' }).stdout.trim();
  same(hostname, 'conformance', "hostname in the container's uts namespace after create");
}

/** The cgroup directory a process is in, if the runtime made one of its own (not the suite's). */
/** Names and types of everything under dir, to see that a failed operation left it as it was. */
function tree(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true, recursive: true })
    .map((e) => `${relative(dir, join(e.parentPath, e.name))}:${e.isDirectory() ? 'd' : e.isSymbolicLink() ? 'l' : 'f'}`)
    .sort();
}

export const runtimeCases: Case[] = [
  scenario(
    scope(
      'MUST',
      'Barring access control concerns, the entity using a runtime to create a container MUST be able to use the operations defined in this specification against that same container.',
    ),
    {
      id: 'runtime.scope.operations-on-own-container',
      run: async (t) => {
        const id = await createdContainer(t);
        await t.rt.state(id);
        await t.rt.started(id);
        await untilStatus(t, id, 'running');
        await killed(t, id);
        const r = await t.rt.delete(id);
        check(r.code === 0, `delete failed (${describe(r)})`);
      },
    },
  ),

  scenario(
    state('MUST', 'When serialized in JSON, the format MUST adhere to the following pattern (the official state-schema.json).'),
    {
      id: 'runtime.state.schema',
      needs: ['official-schema'],
      run: async (t) => {
        const id = await createdContainer(t);
        const validate = async (when: string) => {
          const problems = schemaProblems('state-schema.json', await t.rt.state(id));
          check(problems.length === 0, `state while ${when}: ${problems.join('; ')}`);
        };
        await validate('created');
        await t.rt.started(id);
        await validate('running');
        await killed(t, id);
        await validate('stopped');
      },
    },
  ),

  scenario(
    state(
      'MUST',
      'ociVersion (string, REQUIRED) is version of the Open Container Initiative Runtime Specification with which the state complies.',
    ),
    {
      id: 'runtime.state.oci-version',
      run: async (t) => {
        const id = await createdContainer(t);
        const { ociVersion } = await t.rt.state(id);
        check(
          typeof ociVersion === 'string' && SEMVER.test(ociVersion),
          `ociVersion ${JSON.stringify(ociVersion)} is not a SemVer 2.0.0 version`,
        );
      },
    },
  ),

  scenario(
    state('MUST', "id (string, REQUIRED) is the container's ID. This MUST be unique across all containers on this host."),
    {
      id: 'runtime.state.id',
      run: async (t) => {
        const ids = [t.newId(), t.newId()];
        for (const id of ids) await t.rt.created(id, t.bundle(t.config(LONG_RUNNING)));
        for (const id of ids) same((await t.rt.state(id)).id, id, `state ${id}: id`);
        const listed = await t.rt.list();
        check(
          ids.every((id) => listed.includes(id)),
          `list shows ${JSON.stringify(listed)}, expected both ${ids.join(' and ')}`,
        );
      },
    },
  ),

  scenario(
    state(
      'MUST',
      'status (string, REQUIRED): created, running, stopped. Additional values MAY be defined by the runtime, however, they MUST be used to represent new runtime states not defined above.',
    ),
    {
      id: 'runtime.state.status-values',
      run: async (t) => {
        const id = await createdContainer(t);
        const seen = [(await t.rt.state(id)).status];
        await t.rt.started(id);
        seen.push((await t.rt.state(id)).status);
        await t.rt.kill(id, 'KILL');
        seen.push((await untilStatus(t, id, 'stopped')).status);
        same(seen, ['created', 'running', 'stopped'], 'status after create, start, kill');
      },
    },
  ),

  scenario(
    state(
      'MUST',
      'pid (int, REQUIRED when status is created or running on Linux) is the ID of the container process, as seen by the host.',
    ),
    {
      id: 'runtime.state.pid',
      run: async (t) => {
        const id = await createdContainer(t);
        const created = await t.rt.state(id);
        check(Number.isInteger(created.pid) && created.pid! > 0, `pid ${created.pid} while created`);
        check(alive(created.pid!), `no live host process ${created.pid} while created`);
        check(
          nsOf(created.pid!, 'pid') !== nsOf('self', 'pid'),
          `host process ${created.pid} is not in the container's pid namespace`,
        );
        await t.rt.started(id);
        const running = await untilStatus(t, id, 'running');
        check(Number.isInteger(running.pid) && running.pid! > 0, `pid ${running.pid} while running`);
        const cmdline = readOr(`/proc/${running.pid}/cmdline`).split('\0');
        same(cmdline.slice(0, 2), ['sleep', '600'], `host process ${running.pid}'s command line while running`);
      },
    },
  ),

  scenario(state('MUST', "bundle (string, REQUIRED) is the absolute path to the container's bundle directory."), {
    id: 'runtime.state.bundle',
    run: async (t) => {
      const id = t.newId();
      const bundle = t.bundle(t.config(LONG_RUNNING));
      // Given relative to the runtime's cwd: the state must still say where it is.
      await t.rt.created(id, basename(bundle), [], { cwd: dirname(bundle) });
      same((await t.rt.state(id)).bundle, realpathSync(bundle), 'state.bundle for --bundle given as a relative path');
    },
  }),

  scenario(
    state(
      'MAY',
      'annotations (map, OPTIONAL): If no annotations were provided then this property MAY either be absent or an empty map.',
    ),
    {
      id: 'runtime.state.annotations-absent',
      run: async (t) => {
        const id = await createdContainer(t);
        const { annotations } = await t.rt.state(id);
        check(
          annotations === undefined ||
            (typeof annotations === 'object' && annotations !== null && Object.keys(annotations).length === 0),
          `annotations ${JSON.stringify(annotations)} without any configured`,
        );
      },
    },
  ),

  scenario(
    lifecycle(
      'MUST',
      "(step 2) The container's runtime environment MUST be created according to the configuration in config.json.",
    ),
    {
      id: 'runtime.lifecycle.environment-at-create',
      run: async (t) => {
        const id = await createdContainer(t);
        expectEnvironment((await t.rt.state(id)).pid!);
      },
    },
  ),

  refused(
    lifecycle(
      'MUST',
      '(step 2) If the runtime is unable to create the environment specified in the config.json, it MUST generate an error.',
    ),
    {
      id: 'runtime.lifecycle.unable-to-create',
      config: (c) => {
        c.mounts!.push({ destination: '/tmp', type: 'conformance-no-such-fs', source: 'none' });
      },
    },
  ),

  scenario(lifecycle('MUST', '(step 2) Any updates to config.json after this step MUST NOT affect the container.'), {
    id: 'runtime.lifecycle.config-updates-ignored',
    run: async (t) => {
      const c = t.config('echo original > /out/ran');
      const out = sharedDir(t, c);
      const id = t.newId();
      const bundle = t.bundle(c);
      await t.rt.created(id, bundle);
      c.process!.args = ['sh', '-c', 'echo changed > /out/ran'];
      c.hostname = 'changed';
      writeFileSync(join(bundle, 'config.json'), JSON.stringify(c));
      await t.rt.started(id);
      same((await untilFile(join(out, 'ran'))).trim(), 'original', 'what the program wrote');
    },
  }),

  hookFailure('prestart'),
  hookFailure('createRuntime'),
  hookFailure('createContainer'),
  hookFailure('startContainer'),

  scenario(
    lifecycle(
      'MUST',
      '(step 9) If any `poststart` hook fails, the runtime MUST generate an error, stop the container, and continue the lifecycle at step 12.',
    ),
    {
      id: 'runtime.lifecycle.poststart-hook-fails',
      run: async (t) => {
        const c = t.config(LONG_RUNNING);
        c.hooks = { poststart: [failingHook(t)] };
        const id = t.newId();
        const created = await t.rt.create(id, t.bundle(c));
        if (created.code !== 0) {
          // A runtime that runs poststart hooks too early errs at create: the
          // failure is still reported and the container gone (the timing case catches the rest).
          await expectNoContainer(t, id);
          return;
        }
        const pid = (await t.rt.state(id)).pid!;
        const r = await t.rt.start(id);
        check(r.code !== 0, 'start exited 0 although a poststart hook failed');
        check(await waitFor(() => !alive(pid), 5000), `the container process ${pid} still runs after the poststart hook failed`);
      },
    },
  ),

  scenario(
    lifecycle(
      'MUST',
      '(steps 4, 12, 13) If any `createRuntime` hook fails, the runtime MUST ... continue the lifecycle at step 12; (13) the `poststop` hooks MUST be invoked by the runtime.',
    ),
    {
      id: 'runtime.lifecycle.failed-create-runs-poststop',
      run: async (t) => {
        const c = t.config(LONG_RUNNING);
        const mark = t.path('poststop-ran');
        c.hooks = { createRuntime: [failingHook(t)], poststop: [markHook(t, mark, 'poststop')] };
        await expectRefusal(t, t.bundle(c));
        check(existsSync(mark), 'the poststop hook did not run after the failed create');
      },
    },
  ),

  scenario(
    lifecycle(
      'MUST',
      '(step 13) If any `poststop` hook fails, the runtime MUST log a warning, but the remaining hooks and lifecycle continue as if the hook had succeeded.',
    ),
    {
      id: 'runtime.lifecycle.poststop-hook-fails',
      run: async (t) => {
        const c = t.config('true');
        const mark = t.path('second-poststop');
        c.hooks = { poststop: [failingHook(t), markHook(t, mark, 'second')] };
        const { id } = await startedContainer(t, c);
        await untilStatus(t, id, 'stopped');
        await t.rt.delete(id);
        check(existsSync(mark), 'the poststop hook after the failing one did not run');
      },
    },
  ),

  scenario(
    lifecycle('MUST', '(step 12) The container MUST be destroyed by undoing the steps performed during create phase (step 2).'),
    {
      id: 'runtime.lifecycle.destroyed',
      run: async (t) => {
        const { id } = await startedContainer(t, t.config(LONG_RUNNING));
        await killed(t, id);
        const r = await t.rt.delete(id);
        check(r.code === 0, `delete failed (${describe(r)})`);
        expectNothingLeft(t, id, 'after delete');
      },
    },
  ),

  scenario(
    errors(
      'MUST',
      'Unless otherwise stated, generating an error MUST leave the state of the environment as if the operation were never attempted - modulo any possible trivial ancillary changes such as logging.',
    ),
    {
      id: 'runtime.errors.no-trace',
      run: async (t) => {
        const c = t.config(LONG_RUNNING);
        // Mount work is done before the failing mount: all of it must be undone.
        c.mounts!.push({ destination: '/tmp', type: 'tmpfs', source: 'tmpfs' });
        c.mounts!.push({ destination: '/run', type: 'conformance-no-such-fs', source: 'none' });
        const bundle = t.bundle(c, true);
        const rootfs = join(bundle, 'rootfs');
        const before = tree(rootfs);
        const pidFile = t.path('pid-file');
        const id = t.newId();
        const r = await t.rt.create(id, bundle, ['--pid-file', pidFile]);
        check(r.code !== 0, 'create of a config with an unknown filesystem type succeeded');
        await expectNoContainer(t, id);
        check(!existsSync(pidFile), 'the failed create wrote the --pid-file');
        same(tree(rootfs), before, 'rootfs contents after the failed create');
        same(await t.rt.list(), [], 'containers listed after the failed create');
      },
    },
  ),

  scenario(
    warnings(
      'MUST',
      'Unless otherwise stated, logging a warning does not change the flow of the operation; it MUST continue as if the warning had not been logged.',
    ),
    {
      id: 'runtime.warnings.operation-continues',
      run: async (t) => {
        const c = t.config('true');
        c.hooks = { poststop: [failingHook(t)] };
        const { id, bundle } = await startedContainer(t, c);
        await untilStatus(t, id, 'stopped');
        const r = await t.rt.delete(id);
        check(r.code === 0, `delete with a failing poststop hook (a warning) did not succeed (${describe(r)})`);
        check((await t.rt.exec(['state', id])).code !== 0, 'the container still exists after delete');
        const again = await t.rt.create(id, bundle);
        check(again.code === 0, `the id could not be used again after the delete (${describe(again)})`);
      },
    },
  ),

  needsId(
    query('MUST', 'This operation MUST generate an error if it is not provided the ID of a container.'),
    'runtime.query-state.no-id',
    'state',
  ),
  needsContainer(
    query('MUST', 'Attempting to query a container that does not exist MUST generate an error.'),
    'runtime.query-state.no-such-container',
    'state',
  ),

  scenario(
    query(
      'MUST',
      'This operation MUST return the state of a container as specified in the State section (REQUIRED properties and their types).',
    ),
    {
      id: 'runtime.query-state.required-properties',
      run: async (t) => {
        const id = t.newId();
        const bundle = t.bundle(t.config(LONG_RUNNING));
        await t.rt.created(id, bundle);
        const s = await t.rt.state(id);
        check(typeof s.ociVersion === 'string', `ociVersion ${JSON.stringify(s.ociVersion)}`);
        same(s.id, id, 'id');
        same(s.status, 'created', 'status');
        check(Number.isInteger(s.pid), `pid ${JSON.stringify(s.pid)} while created`);
        same(s.bundle, realpathSync(bundle), 'bundle');
      },
    },
  ),

  scenario(
    query(
      'MUST',
      'This operation MUST return the state of a container as specified in the State section (annotations: the list of annotations associated with the container).',
    ),
    {
      id: 'runtime.query-state.annotations',
      run: async (t) => {
        const c = t.config(LONG_RUNNING);
        c.annotations = { 'org.example.conformance/one': 'first', 'org.example.conformance/empty': '' };
        const id = await createdContainer(t, c);
        const sorted = (m: object | undefined) => Object.entries(m ?? {}).sort();
        same(sorted((await t.rt.state(id)).annotations), sorted(c.annotations), 'state annotations');
      },
    },
  ),

  needsId(
    create(
      'MUST',
      'This operation MUST generate an error if it is not provided a path to the bundle and the container ID to associate with the container.',
    ),
    'runtime.create.no-id',
    'create',
  ),

  scenario(
    create(
      'MUST',
      'This operation MUST generate an error if it is not provided a path to the bundle and the container ID to associate with the container.',
    ),
    {
      id: 'runtime.create.no-bundle',
      run: async (t) => {
        // No --bundle: runc's CLI takes the cwd, which holds no config.json here.
        const id = t.newId();
        const cwd = t.hostDir('empty');
        t.rt.remember(id, cwd);
        const r = await t.rt.exec(['create', id], { cwd });
        t.rt.remember(id, cwd, r.files);
        check(r.code !== 0, 'create without a bundle exited 0');
        await expectNoContainer(t, id);
      },
    },
  ),

  scenario(
    create(
      'MUST',
      'If the ID provided is not unique across all containers within the scope of the runtime, or is not valid in any other way, the implementation MUST generate an error and a new container MUST NOT be created.',
    ),
    {
      id: 'runtime.create.duplicate-id',
      run: async (t) => {
        const id = await createdContainer(t);
        const first = await t.rt.state(id);
        const r = await t.rt.create(id, t.bundle(t.config(LONG_RUNNING)));
        check(r.code !== 0, 'a second create with the same id exited 0');
        const after = await t.rt.state(id);
        same(
          [after.status, after.pid, after.bundle],
          [first.status, first.pid, first.bundle],
          'the first container (status, pid, bundle) after the second create',
        );
        check(alive(first.pid!), "the first container's process died");
      },
    },
  ),

  scenario(
    create(
      'MUST',
      'If the ID provided is not unique across all containers within the scope of the runtime, or is not valid in any other way, the implementation MUST generate an error and a new container MUST NOT be created.',
    ),
    {
      id: 'runtime.create.invalid-id',
      run: async (t) => {
        const bundle = t.bundle(t.config(LONG_RUNNING));
        for (const id of ['../conformance-escape', 'conformance/slash']) {
          const r = await t.rt.create(id, bundle);
          check(r.code !== 0, `create with the invalid id ${JSON.stringify(id)} exited 0`);
        }
        check(
          !existsSync(t.path('conformance-escape')),
          'create with id "../conformance-escape" made a directory outside the runtime root',
        );
        same(await t.rt.list(), [], 'containers listed');
        for (const id of ['../conformance-escape', 'conformance/slash'])
          expectNothingLeft(t, id, `after the create with the invalid id ${JSON.stringify(id)}`);
      },
    },
  ),

  scenario(create('MUST', 'Using the data in config.json, this operation MUST create a new container.'), {
    id: 'runtime.create.creates-container',
    run: async (t) => {
      const id = await createdContainer(t);
      same((await t.rt.state(id)).id, id, 'state of the new container: id');
      check((await t.rt.list()).includes(id), 'the new container is not listed');
    },
  }),

  scenario(
    create(
      'MUST',
      'This means that all of the resources associated with the container MUST be created, however, the user-specified program MUST NOT be run at this time.',
    ),
    {
      id: 'runtime.create.program-not-run',
      run: async (t) => {
        const { id, ran } = await createdMarking(t);
        const pid = (await t.rt.state(id)).pid!;
        // The program's process exists once create returns: had it been run, busybox would be its executable.
        const running = inPidNamespaceOf(pid).filter((p) => runsRootfsBusybox(t, p));
        same(running, [], 'processes of the container already running the user-specified program (busybox sh) after create');
        check(!existsSync(ran), 'the user-specified program ran at create');
        expectEnvironment(pid);
        await t.rt.started(id);
        await untilFile(ran, 'ran');
      },
    },
  ),

  refused(
    create(
      'MUST',
      'If the runtime cannot create the container as specified in config.json, it MUST generate an error and a new container MUST NOT be created.',
    ),
    {
      id: 'runtime.create.cannot-create',
      config: (c) => {
        c.process!.args = ['/conformance/no/such/program'];
      },
    },
  ),

  scenario(
    create('MUST', 'Upon successful completion of this operation the status property of this container MUST be created.'),
    {
      id: 'runtime.create.status-created',
      run: async (t) => {
        const id = await createdContainer(t);
        same((await t.rt.state(id)).status, 'created', 'status after create');
      },
    },
  ),

  needsId(
    start('MUST', 'This operation MUST generate an error if it is not provided the container ID.'),
    'runtime.start.no-id',
    'start',
  ),
  needsContainer(
    start('MUST', 'Attempting to start a container that does not exist MUST generate an error.'),
    'runtime.start.no-such-container',
    'start',
  ),

  scenario(
    start(
      'MUST',
      'Attempting to start an already started container MUST have no effect on the container and MUST generate an error.',
    ),
    {
      id: 'runtime.start.already-started',
      run: async (t) => {
        const { id, ran } = await createdMarking(t);
        await t.rt.started(id);
        await untilFile(ran, 'ran');
        const before = await t.rt.state(id);
        const r = await t.rt.start(id);
        check(r.code !== 0, 'a second start exited 0');
        const after = await t.rt.state(id);
        same([after.status, after.pid], [before.status, before.pid], 'status and pid after the second start');
        // A second run of the program would be a process of the container by the time start returned.
        same(inPidNamespaceOf(before.pid!), [before.pid], 'processes in the container after the second start (its program only)');
        same(readOr(ran), 'ran\n', 'marks of the program after the second start (it must have run once)');
      },
    },
  ),

  scenario(start('MUST', 'This operation MUST run the user-specified program as specified by process.'), {
    id: 'runtime.start.runs-program',
    run: async (t) => {
      const c = t.config('echo "args=$0 $1" > /out/ran');
      c.process!.args = ['sh', '-c', 'echo "args=$0 $1" > /out/ran', 'zero', 'one'];
      const out = sharedDir(t, c);
      const id = await createdContainer(t, c);
      await t.rt.started(id);
      same((await untilFile(join(out, 'ran'))).trim(), 'args=zero one', 'what the program wrote');
    },
  }),

  scenario(start('MUST', 'Upon successful completion of this operation the status property of this container MUST be running.'), {
    id: 'runtime.start.status-running',
    run: async (t) => {
      const id = await createdContainer(t);
      await t.rt.started(id);
      same((await t.rt.state(id)).status, 'running', 'status right after start');
    },
  }),

  needsId(
    kill('MUST', 'This operation MUST generate an error if it is not provided the container ID.'),
    'runtime.kill.no-id',
    'kill',
  ),

  scenario(
    kill(
      'MUST',
      'Attempting to send a signal to a container that is not running MUST have no effect on the container and MUST generate an error.',
    ),
    {
      id: 'runtime.kill.not-running',
      run: async (t) => {
        const { id } = await startedContainer(t, t.config('true'));
        await untilStatus(t, id, 'stopped');
        const r = await t.rt.kill(id, 'TERM');
        check(r.code !== 0, 'kill of a stopped container exited 0');
        same((await t.rt.state(id)).status, 'stopped', 'status after the refused kill');
      },
    },
  ),

  scenario(kill('MUST', 'This operation MUST send the specified signal to the process in the container.'), {
    id: 'runtime.kill.sends-signal',
    run: async (t) => {
      const c = t.config('trap "echo got-usr1 >> /out/signals" USR1; echo ready > /out/ready; while true; do sleep 0.05; done');
      const out = sharedDir(t, c);
      const { id } = await startedContainer(t, c);
      await untilFile(join(out, 'ready'));
      const r = await t.rt.kill(id, 'USR1');
      check(r.code === 0, `kill USR1 failed (${describe(r)})`);
      await untilFile(join(out, 'signals'), 'got-usr1');
      same((await t.rt.state(id)).status, 'running', 'status after a handled USR1');
    },
  }),

  scenario(
    kill(
      'MUST',
      'When the process in the container is stopped, irrespective of it being as a result of a kill operation or any other reason, the status property of this container MUST be stopped.',
    ),
    {
      id: 'runtime.kill.stopped-after-kill',
      run: async (t) => {
        const { id, pid } = await startedContainer(t, t.config(LONG_RUNNING));
        await untilStatus(t, id, 'running');
        await t.rt.kill(id, 'KILL');
        check(await waitFor(() => !alive(pid), 5000), 'the process survived SIGKILL');
        same((await t.rt.state(id)).status, 'stopped', 'status once the killed process is gone');
      },
    },
  ),

  scenario(
    kill(
      'MUST',
      'When the process in the container is stopped, irrespective of it being as a result of a kill operation or any other reason, the status property of this container MUST be stopped.',
    ),
    {
      id: 'runtime.kill.stopped-after-exit',
      run: async (t) => {
        const id = await createdContainer(t, t.config('exit 3'));
        const pid = (await t.rt.state(id)).pid!;
        await t.rt.started(id);
        check(await waitFor(() => !alive(pid), 5000), 'the process did not exit');
        same((await t.rt.state(id)).status, 'stopped', 'status once the process exited by itself');
      },
    },
  ),

  needsId(
    del('MUST', 'This operation MUST generate an error if it is not provided the container ID.'),
    'runtime.delete.no-id',
    'delete',
  ),
  needsContainer(
    del('MUST', 'Attempting to delete a container that does not exist MUST generate an error.'),
    'runtime.delete.no-such-container',
    'delete',
  ),

  scenario(del('MUST', 'Attempting to delete a container whose process is still running MUST generate an error.'), {
    id: 'runtime.delete.running',
    run: async (t) => {
      const { id, pid } = await startedContainer(t, t.config(LONG_RUNNING));
      await untilStatus(t, id, 'running');
      const r = await t.rt.delete(id);
      check(r.code !== 0, 'delete of a running container exited 0');
      same((await t.rt.state(id)).status, 'running', 'status after the refused delete');
      check(alive(pid), 'the container process died');
    },
  }),

  scenario(del('MUST', 'Deleting a container MUST delete the resources that were created during the create step.'), {
    id: 'runtime.delete.removes-resources',
    run: async (t) => {
      const c = t.config('true');
      c.mounts!.push({ destination: '/tmp', type: 'tmpfs', source: 'tmpfs' });
      const id = t.newId();
      await t.rt.created(id, t.bundle(c));
      await t.rt.started(id);
      await untilStatus(t, id, 'stopped');
      const r = await t.rt.delete(id);
      check(r.code === 0, `delete failed (${describe(r)})`);
      check((await t.rt.exec(['state', id])).code !== 0, 'state still answers after delete');
      check(!(await t.rt.list()).includes(id), 'still listed after delete');
      expectNothingLeft(t, id, 'after delete');
    },
  }),

  scenario(
    del('MUST', 'Note that resources associated with the container, but not created by this container, MUST NOT be deleted.'),
    {
      id: 'runtime.delete.keeps-others-resources',
      run: async (t) => {
        const holder = await namespaceHolder(t, ['--net']);
        const net = nsOf(holder, 'net');
        const c = t.config('echo written-by-the-container > /out/by-container');
        const out = sharedDir(t, c);
        writeFileSync(join(out, 'by-host'), 'host file');
        c.linux!.namespaces = c.linux!.namespaces!.map((n) =>
          n.type === 'network' ? { type: 'network', path: `/proc/${holder}/ns/net` } : n,
        );
        const { id, bundle } = await startedContainer(t, c);
        await untilStatus(t, id, 'stopped');
        await t.rt.delete(id);
        same(nsOf(holder, 'net'), net, 'the joined network namespace (its holder)');
        check(alive(holder), 'the process holding the joined network namespace died');
        same(readOr(join(out, 'by-host')), 'host file', 'a host file in a bind-mounted directory');
        check(existsSync(join(out, 'by-container')), 'what the container wrote to a bind-mounted directory is gone');
        check(existsSync(join(bundle, 'config.json')), "the bundle's config.json was deleted");
        check(existsSync(join(t.suite.rootfs.shared, 'bin', 'busybox')), 'the rootfs was deleted');
      },
    },
  ),

  scenario(del('MAY', 'Once a container is deleted its ID MAY be used by a subsequent container.'), {
    id: 'runtime.delete.id-reusable',
    run: async (t) => {
      const { id, bundle } = await startedContainer(t, t.config('true'));
      await untilStatus(t, id, 'stopped');
      await t.rt.delete(id);
      const r = await t.rt.create(id, bundle);
      check(r.code === 0, `create with the id of a deleted container failed (${describe(r)})`);
    },
  }),
];
