/** config-linux.md "Namespaces", "User namespace mappings", "Offset for Time Namespace". */
import { statSync } from 'node:fs';
import { hostname as hostHostname } from 'node:os';
import { join } from 'node:path';
import { type Case, NotApplicable, STEP2, check, same } from '../case';
import type { Config } from '../config';
import { namespaceHolder } from '../holder';
import { nsOf, readOr } from '../host';
import { expectNothingLeft, expectRefusal, inside, refused, runScript, scenario, section } from '../kinds';
import { keyValues, parseMountinfo } from '../parse';
import type { Trial } from '../trial';

/**
 * features-linux.md: a runtime declares the namespaces it supports. One
 * that leaves a kind out (runts built with a schema copy older than that
 * kind, say) cannot be held to the fields of that kind: not applicable.
 * A runtime with no usable features document is tested all the same.
 */
async function requireDeclaredNamespace(t: Trial, kind: string): Promise<void> {
  const r = await t.rt.exec(['features']);
  let declared: unknown;
  try {
    declared = (JSON.parse(r.stdout) as { linux?: { namespaces?: unknown } }).linux?.namespaces;
  } catch {
    return;
  }
  if (r.code === 0 && Array.isArray(declared) && !declared.includes(kind)) {
    throw new NotApplicable(`the runtime's features document does not list the ${kind} namespace`);
  }
}

const namespaces = section('config-linux.md', 'Namespaces');
const userMappings = section('config-linux.md', 'User namespace mappings');
const timeOffsets = section('config-linux.md', 'Offset for Time Namespace');

/** Config type → /proc/PID/ns name. */
const PROC_NAME = {
  pid: 'pid',
  network: 'net',
  mount: 'mnt',
  ipc: 'ipc',
  uts: 'uts',
  user: 'user',
  cgroup: 'cgroup',
  time: 'time',
} as const;
type NamespaceType = keyof typeof PROC_NAME;

const readAll = (types: readonly NamespaceType[]) =>
  types.map((type) => `echo ${type}=$(readlink /proc/self/ns/${PROC_NAME[type]})`).join('; ');

const USER_MAP = [{ containerID: 0, hostID: 100000, size: 65536 }];

function withUserNamespace(c: Config): void {
  if (!c.linux!.namespaces!.some((n) => n.type === 'user')) c.linux!.namespaces!.push({ type: 'user' });
  c.linux!.uidMappings = USER_MAP;
  c.linux!.gidMappings = USER_MAP;
}

interface Support {
  type: string;
  description: string;
  needs?: ['time-namespace'];
  script: string;
  config?: (c: Config) => void;
  check: (out: string) => void;
}

/** What each namespace type is for (the spec's words), and how the container shows it. */
const SUPPORT: Support[] = [
  {
    type: 'pid',
    description:
      'processes inside the container will only be able to see other processes inside the same container or inside the same pid namespace',
    script: 'echo self=$$; echo processes=$(ls /proc | grep -c "^[0-9]")',
    check: (out) => {
      const seen = keyValues(out);
      same(seen.self, '1', "the container process's pid in its namespace");
      check(Number(seen.processes) <= 5, `the container sees ${seen.processes} processes`);
    },
  },
  {
    type: 'network',
    description: 'the container will have its own network stack',
    script: 'echo interfaces=$(tail -n +3 /proc/net/dev | cut -d: -f1 | tr -d " " | sort | tr "\\n" " ")',
    check: (out) => same(keyValues(out).interfaces, 'lo', 'network interfaces in the container'),
  },
  {
    type: 'mount',
    description: 'the container will have an isolated mount table',
    script: 'cat /proc/self/mountinfo',
    // Only its own mounts: "/" and what the config mounts under /proc, /sys and /dev.
    check: (out) => {
      const foreign = parseMountinfo(out)
        .map((m) => m.mountPoint)
        .filter((p) => p !== '/' && !['/proc', '/sys', '/dev'].some((d) => p === d || p.startsWith(`${d}/`)));
      same(foreign, [], 'mount points in the container that its config does not make');
    },
  },
  {
    type: 'ipc',
    description:
      'processes inside the container will only be able to communicate to other processes inside the same container via system level IPC',
    script: readAll(['ipc']),
    check: (out) => check(keyValues(out).ipc !== nsOf('self', 'ipc'), "the container is in the host's ipc namespace"),
  },
  {
    type: 'uts',
    description: 'the container will be able to have its own hostname and domain name',
    script: 'echo hostname=$(hostname)',
    config: (c) => {
      c.hostname = 'conformance-uts';
    },
    check: (out) => {
      same(keyValues(out).hostname, 'conformance-uts', 'hostname in the container');
      check(hostHostname() !== 'conformance-uts', "the host's hostname changed");
    },
  },
  {
    type: 'user',
    description:
      'the container will be able to remap user and group IDs from the host to local users and groups within the container',
    script: 'echo uid_map=$(cat /proc/self/uid_map | tr -s " " | sed "s/^ //"); echo uid=$(id -u)',
    config: withUserNamespace,
    check: (out) => {
      same(keyValues(out).uid_map, '0 100000 65536', 'uid_map in the container');
      same(keyValues(out).uid, '0', 'uid in the container');
    },
  },
  {
    type: 'cgroup',
    description: 'the container will have an isolated view of the cgroup hierarchy',
    script: 'cat /proc/self/cgroup',
    check: (out) => {
      const paths = out
        .trim()
        .split('\n')
        .map((l) => l.split(':').slice(2).join(':'));
      check(
        paths.length > 0 && paths.every((p) => p === '/'),
        `the container sees cgroup paths ${JSON.stringify(paths)} (its cgroup namespace root is "/")`,
      );
    },
  },
  {
    type: 'time',
    description: 'the container will be able to have its own clocks',
    needs: ['time-namespace'],
    script: readAll(['time']),
    check: (out) => check(keyValues(out).time !== nsOf('self', 'time'), "the container is in the host's time namespace"),
  },
];

const supportCase = (s: Support): Case =>
  inside(namespaces('SHOULD', `The following namespace types SHOULD be supported: ${s.type} (${s.description}).`), {
    id: `config-linux.namespaces.${s.type}`,
    needs: s.needs,
    script: s.script,
    config: (c) => {
      if (!c.linux!.namespaces!.some((n) => n.type === s.type)) c.linux!.namespaces!.push({ type: s.type });
      s.config?.(c);
    },
    check: s.check,
  });

export const namespaceCases: Case[] = [
  inside(namespaces('MUST', 'If path is not specified, the runtime MUST create a new container namespace of type type.'), {
    id: 'config-linux.namespaces.new',
    script: readAll(['pid', 'network', 'mount', 'ipc', 'uts']),
    check: (out) => {
      const seen = keyValues(out);
      for (const type of ['pid', 'network', 'mount', 'ipc', 'uts'] as const) {
        check(
          seen[type] && seen[type] !== nsOf('self', PROC_NAME[type]),
          `${type}: the container is in the runtime's namespace (${seen[type]})`,
        );
      }
    },
  }),

  ...SUPPORT.map(supportCase),

  inside(
    namespaces(
      'MUST',
      'If a namespace type is not specified in the namespaces array, the container MUST inherit the runtime namespace of that type.',
    ),
    {
      id: 'config-linux.namespaces.inherit',
      script: readAll(['pid', 'network', 'ipc', 'uts', 'cgroup']),
      config: (c) => {
        c.linux!.namespaces = [{ type: 'mount' }];
        delete c.hostname;
      },
      check: (out) => {
        const seen = keyValues(out);
        for (const type of ['pid', 'network', 'ipc', 'uts', 'cgroup'] as const)
          same(seen[type], nsOf('self', PROC_NAME[type]), `${type} namespace (not listed: the runtime's)`);
      },
    },
  ),

  scenario(
    namespaces(
      'MUST',
      'If a namespace type is not specified in the namespaces array, the container MUST inherit the runtime namespace of that type.',
    ),
    {
      // runtime-tools' linux_ns_itype: every namespace removed, mount included.
      // The container then lives in the runtime's mount namespace: the
      // runtime must not pivot it, change its propagation or leave mounts.
      id: 'config-linux.namespaces.inherit-all',
      run: async (t) => {
        const types = ['pid', 'network', 'mount', 'ipc', 'uts', 'cgroup'] as const;
        const c = t.config(readAll(types));
        c.linux!.namespaces = [];
        delete c.hostname;
        // What runc, too, cannot honour without a mount namespace of the container's own.
        delete c.linux!.maskedPaths;
        delete c.linux!.readonlyPaths;
        c.root!.readonly = false;
        const bundle = t.bundle(c, true);
        const table = () =>
          readOr('/proc/self/mountinfo')
            .split('\n')
            .map((l) => l.split(' '))
            .filter((f) => f[4] && !f[4].startsWith(bundle))
            .map((f) => [f[4], ...f.slice(6, f.indexOf('-'))].join(' '));
        const before = table();
        const id = t.newId();
        const r = await t.rt.run(id, bundle);
        check(r.code === 0, `the container did not run (exit ${r.code}: ${r.stderr.trim()})`);
        const seen = keyValues(r.stdout);
        for (const type of types)
          same(seen[type], nsOf('self', PROC_NAME[type]), `${type} namespace (not listed: the runtime's)`);
        same(table(), before, "the runtime's own mounts and their propagation, after the container");
        expectNothingLeft(t, id, 'after the container is gone');
      },
    },
  ),

  scenario(namespaces('MUST', 'path: The runtime MUST place the container process in the namespace associated with that path.'), {
    id: 'config-linux.namespaces.join-path',
    run: async (t) => {
      const types = ['pid', 'network', 'ipc', 'uts', 'cgroup'] as const;
      const holder = await namespaceHolder(t, ['--pid', '--net', '--ipc', '--uts', '--cgroup']);
      const out = await runScript(t, readAll(types), (c) => {
        c.linux!.namespaces = [
          { type: 'mount' },
          ...types.map((type) => ({ type, path: `/proc/${holder}/ns/${PROC_NAME[type]}` })),
        ];
      });
      const seen = keyValues(out);
      for (const type of types) same(seen[type], nsOf(holder, PROC_NAME[type]), `${type} namespace (the one at path)`);
    },
  }),

  scenario(
    namespaces('MUST', 'path: The runtime MUST generate an error if path is not associated with a namespace of type type.'),
    {
      id: 'config-linux.namespaces.path-of-other-type',
      run: async (t) => {
        const holder = await namespaceHolder(t, ['--net']);
        const c = t.config('exec sleep 60');
        c.linux!.namespaces = c.linux!.namespaces!.map((n) =>
          n.type === 'ipc' ? { type: 'ipc', path: `/proc/${holder}/ns/net` } : n,
        );
        await expectRefusal(t, t.bundle(c));
      },
    },
  ),

  refused(namespaces('MUST', 'path: This value MUST be an absolute path in the runtime mount namespace.'), {
    id: 'config-linux.namespaces.path-relative',
    // From "/", the relative path would name pid 1's network namespace.
    cli: { cwd: '/' },
    config: (c) => {
      c.linux!.namespaces = c.linux!.namespaces!.map((n) =>
        n.type === 'network' ? { type: 'network', path: 'proc/1/ns/net' } : n,
      );
    },
  }),

  refused(
    namespaces(
      'MUST',
      'If a namespaces field contains duplicated namespaces with same type, the runtime MUST generate an error.',
    ),
    {
      id: 'config-linux.namespaces.duplicate-type',
      config: (c) => {
        c.linux!.namespaces!.push({ type: 'network' });
      },
    },
  ),

  scenario(
    userMappings('SHOULD', 'The runtime SHOULD NOT modify the ownership of referenced filesystems to realize the mapping.'),
    {
      id: 'config-linux.user-namespace.ownership-unchanged',
      run: async (t) => {
        const c = t.config('id -u');
        withUserNamespace(c);
        const bundle = t.bundle(c, true);
        const r = await t.rt.run(t.newId(), bundle);
        check(r.code === 0, `a container with a user namespace did not run (exit ${r.code}: ${r.stderr.trim()})`);
        for (const path of ['rootfs', 'rootfs/bin/busybox', 'rootfs/etc/passwd']) {
          const st = statSync(join(bundle, path));
          same(`${st.uid}:${st.gid}`, '0:0', `owner of ${path} after the run`);
        }
      },
    },
  ),

  inside(timeOffsets('MUST', `timeOffsets (object, OPTIONAL) sets the offset for Time Namespace. ${STEP2}`), {
    id: 'config-linux.time-offsets',
    needs: ['time-namespace'],
    script: 'echo uptime=$(cut -d. -f1 /proc/uptime)',
    config: async (c, t) => {
      await requireDeclaredNamespace(t, 'time');
      c.linux!.namespaces!.push({ type: 'time' });
      c.linux!.timeOffsets = { boottime: { secs: 1_000_000_000 }, monotonic: { secs: 1_000_000_000 } };
    },
    check: (out) =>
      check(Number(keyValues(out).uptime) >= 1_000_000_000, `uptime ${keyValues(out).uptime}s with a boottime offset of 1e9s`),
  }),
];
