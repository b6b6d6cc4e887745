/**
 * config-linux.md "Seccomp" and "The Container Process State". Filters
 * act on mkdir and chmod, which busybox makes visible in its output; the
 * default action is always to allow, so that the shell itself runs.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { type Case, STEP2, check, same } from '../case';
import type { Config } from '../config';
import { waitFor } from '../host';
import { expectNoContainer, inside, refused, scenario, section } from '../kinds';
import { keyValues } from '../parse';
import { seccompAgent } from '../seccomp-agent';
import { LONG_RUNNING, createdContainer, sharedDir } from '../steps';

const seccomp = section('config-linux.md', 'Seccomp');
const processState = section('config-linux.md', 'The Container Process State');

const MKDIR = ['mkdir', 'mkdirat'];

/** A writable /tmp and a seccomp profile that allows everything but `rules`. */
function filtered(c: Config, rules: object[], extra: Record<string, unknown> = {}): void {
  c.mounts!.push({ destination: '/tmp', type: 'tmpfs', source: 'tmpfs' });
  c.linux!.seccomp = { defaultAction: 'SCMP_ACT_ALLOW', syscalls: rules, ...extra };
}

const MKDIR_SCRIPT = 'mkdir /tmp/conformance 2>&1; echo rc=$?';

/** A notify filter on mkdir whose agent listens at the case's socket. */
const notifying = (c: Config, listenerPath: string, extra: Record<string, unknown> = {}) =>
  filtered(c, [{ names: MKDIR, action: 'SCMP_ACT_NOTIFY' }], { listenerPath, ...extra });

interface Notified {
  payloads: Record<string, unknown>[];
  closed: boolean[];
  id: string;
  pid: number;
}

/** create + start with a notify filter; what the agent received (after create, or after start at the latest). */
async function notified(t: Parameters<Case['run']>[0], extra: Record<string, unknown> = {}): Promise<Notified> {
  const agent = await seccompAgent(t);
  const c = t.config(LONG_RUNNING);
  notifying(c, agent.path, extra);
  const id = await createdContainer(t, c);
  const pid = (await t.rt.state(id)).pid!;
  if (!agent.connections.length) await t.rt.started(id);
  await waitFor(() => agent.connections.length > 0 && agent.connections.every((x) => x.closed), 5000);
  const payloads = agent.connections.map((x) => {
    try {
      return JSON.parse(x.data) as Record<string, unknown>;
    } catch {
      return { unparsable: x.data.slice(0, 200) };
    }
  });
  return { payloads, closed: agent.connections.map((x) => x.closed), id, pid };
}

export const seccompCases: Case[] = [
  inside(
    seccomp(
      'MUST',
      `syscalls[].errnoRet (uint, OPTIONAL) - the errno return code to use ... If not specified its default value is EPERM. ${STEP2}`,
    ),
    {
      id: 'config-linux.seccomp.errno-default-eperm',
      script: MKDIR_SCRIPT,
      config: (c) => filtered(c, [{ names: MKDIR, action: 'SCMP_ACT_ERRNO' }]),
      check: (out) => {
        check(out.includes('Operation not permitted'), `mkdir did not fail with EPERM: ${JSON.stringify(out)}`);
        same(keyValues(out).rc, '1', "mkdir's exit status");
      },
    },
  ),

  inside(
    seccomp(
      'MUST',
      `syscalls[].errnoRet (uint, OPTIONAL) - the errno return code to use. Some actions like SCMP_ACT_ERRNO and SCMP_ACT_TRACE allow to specify the errno code to return. ${STEP2}`,
    ),
    {
      id: 'config-linux.seccomp.errno-ret',
      script: MKDIR_SCRIPT,
      config: (c) => filtered(c, [{ names: MKDIR, action: 'SCMP_ACT_ERRNO', errnoRet: 28 }]),
      check: (out) =>
        check(out.includes('No space left on device'), `mkdir did not fail with errno 28 (ENOSPC): ${JSON.stringify(out)}`),
    },
  ),

  inside(
    seccomp('MUST', `syscalls[].action (string, REQUIRED) - the action for seccomp rules (SCMP_ACT_KILL_PROCESS). ${STEP2}`),
    {
      id: 'config-linux.seccomp.kill-process',
      script: MKDIR_SCRIPT,
      config: (c) => filtered(c, [{ names: MKDIR, action: 'SCMP_ACT_KILL_PROCESS' }]),
      check: (out) => same(keyValues(out).rc, String(128 + 31), "mkdir's exit status (killed by SIGSYS)"),
    },
  ),

  inside(
    seccomp('MUST', `syscalls[].args (array of objects, OPTIONAL) - the specific syscall in seccomp: index, value, op. ${STEP2}`),
    {
      id: 'config-linux.seccomp.args',
      script:
        'touch /tmp/f; chmod 777 /tmp/f 2>/dev/null && echo c777=allowed || echo c777=denied; chmod 755 /tmp/f && echo c755=allowed || echo c755=denied',
      config: (c) =>
        filtered(c, [
          { names: ['chmod'], action: 'SCMP_ACT_ERRNO', args: [{ index: 1, value: 0o777, op: 'SCMP_CMP_EQ' }] },
          { names: ['fchmodat'], action: 'SCMP_ACT_ERRNO', args: [{ index: 2, value: 0o777, op: 'SCMP_CMP_EQ' }] },
        ]),
      check: (out) => {
        const seen = keyValues(out);
        same([seen.c777, seen.c755], ['denied', 'allowed'], 'chmod 777 (matches the argument rule) and chmod 755 (does not)');
      },
    },
  ),

  refused(
    seccomp('MUST', "defaultErrnoRet: When the action doesn't support an errno, the runtime MUST print and error and fail."),
    {
      id: 'config-linux.seccomp.default-errno-ret-with-allow',
      config: (c) => filtered(c, [{ names: MKDIR, action: 'SCMP_ACT_ERRNO' }], { defaultErrnoRet: 1 }),
    },
  ),

  refused(
    seccomp('MUST', "syscalls[].errnoRet: When the action doesn't support an errno, the runtime MUST print and error and fail."),
    {
      id: 'config-linux.seccomp.errno-ret-with-kill',
      config: (c) => filtered(c, [{ names: MKDIR, action: 'SCMP_ACT_KILL_PROCESS', errnoRet: 1 }]),
    },
  ),

  refused(
    seccomp(
      'MUST',
      'syscalls[].names (array of strings, REQUIRED) - the names of the syscalls. names MUST contain at least one entry.',
    ),
    {
      id: 'config-linux.seccomp.names-empty',
      config: (c) => filtered(c, [{ names: [], action: 'SCMP_ACT_ERRNO' }]),
    },
  ),

  scenario(
    processState(
      'MUST',
      'The container runtime MUST send the container process state over the UNIX socket as regular payload serialized in JSON and file descriptors MUST be sent using SCM_RIGHTS (state: ociVersion, fds, pid, state).',
    ),
    {
      id: 'config-linux.seccomp.listener-state',
      run: async (t) => {
        const { payloads, id, pid } = await notified(t);
        const [p] = payloads;
        check(p, 'the agent received nothing');
        check(typeof p.ociVersion === 'string', `ociVersion ${JSON.stringify(p.ociVersion)}`);
        check(Array.isArray(p.fds) && p.fds.includes('seccompFd'), `fds ${JSON.stringify(p.fds)} does not name seccompFd`);
        same(p.pid, pid, 'pid (the container process, as seen by the runtime)');
        same((p.state as { id?: string } | undefined)?.id, id, 'state.id');
      },
    },
  ),

  scenario(
    seccomp(
      'MUST',
      'listenerPath: The runtime MUST send exactly one container process state per connection. The connection MUST NOT be reused and it MUST be closed after sending a seccomp state.',
    ),
    {
      id: 'config-linux.seccomp.listener-connection',
      run: async (t) => {
        const { payloads, closed } = await notified(t);
        same(payloads.length, 1, 'connections to the agent');
        const [payload] = payloads;
        check(
          payload && !('unparsable' in payload),
          `the connection did not carry exactly one JSON document: ${JSON.stringify(payload)}`,
        );
        same(closed, [true], 'whether the runtime closed the connection');
      },
    },
  ),

  scenario(
    seccomp(
      'MUST',
      `listenerMetadata (string, OPTIONAL) - specifies an opaque data to pass to the seccomp agent. This string will be sent as the metadata field in the container process state. ${STEP2}`,
    ),
    {
      id: 'config-linux.seccomp.listener-metadata',
      run: async (t) => {
        const { payloads } = await notified(t, { listenerMetadata: 'conformance-metadata' });
        const [payload] = payloads;
        check(payload, 'the agent received nothing');
        same(payload.metadata, 'conformance-metadata', 'metadata');
      },
    },
  ),

  scenario(seccomp('MUST', 'listenerPath: If sending to this socket fails, the runtime MUST generate an error.'), {
    id: 'config-linux.seccomp.listener-unreachable',
    run: async (t) => {
      const c = t.config(`echo ran > /out/ran; ${LONG_RUNNING}`);
      const out = sharedDir(t, c);
      notifying(c, t.path('nobody-listens.sock'));
      const id = t.newId();
      const created = await t.rt.create(id, t.bundle(c));
      if (created.code !== 0) return expectNoContainer(t, id);
      const started = await t.rt.start(id);
      check(started.code !== 0, 'create and start both succeeded although nothing listens at listenerPath');
      check(!existsSync(join(out, 'ran')), 'the program ran although the seccomp state could not be sent');
    },
  }),

  refused(seccomp('MUST', 'listenerMetadata: This field MUST NOT be set if listenerPath is not set.'), {
    id: 'config-linux.seccomp.metadata-without-listener',
    config: (c) => filtered(c, [{ names: MKDIR, action: 'SCMP_ACT_ERRNO' }], { listenerMetadata: 'conformance-metadata' }),
  }),
];
