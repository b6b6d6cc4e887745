/**
 * config.md, apart from hooks and the mount option table: version, root,
 * mounts, process (args, env, cwd, rlimits, capabilities, user, …),
 * hostname, annotations, extensibility and valid values.
 */
import { chmodSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { type Case, STEP2, check, fail, same } from '../case';
import { expectNoContainer, expectRefusal, inside, refused, scenario, section } from '../kinds';
import { capabilityMask, capabilityNames, keyValues, limitOf, parseMountinfo, statusField, visibleMount } from '../parse';
import { CALLER_ENV, describe } from '../runtime-cli';
import { ungrantableCapability } from '../host';
import { sharedDir } from '../steps';

const version = section('config.md', 'Specification version');
const root = section('config.md', 'Root');
const mounts = section('config.md', 'Mounts');
const mountOptions = section('config.md', 'Linux mount options');
const processSection = section('config.md', 'Process');
const posix = section('config.md', 'POSIX process');
const linuxProcess = section('config.md', 'Linux Process');
const user = section('config.md', 'POSIX-platform User');
const hostname = section('config.md', 'Hostname');
const domainname = section('config.md', 'Domainname');
const annotations = section('config.md', 'Annotations');
const extensibility = section('config.md', 'Extensibility');
const validValues = section('config.md', 'Valid values');

const VALID_VALUES = '(with "Valid values": Runtimes MUST generate an error when invalid or unsupported values are encountered.)';

/** The mount the container sees at a path, from its mountinfo. */
const mountIn = (mountinfo: string, point: string) => visibleMount(parseMountinfo(mountinfo), point);

const hexMask = (status: string, field: string) => BigInt(`0x${statusField(status, field) ?? '0'}`);

/** A capability set of the process equals the names (shown by name when not). */
function capsEqual(status: string, field: string, expected: string[]): void {
  const mask = hexMask(status, field);
  if (mask !== capabilityMask(expected))
    fail(`${field} holds ${JSON.stringify(capabilityNames(mask))}, expected ${JSON.stringify(expected)}`);
}

const NOBODY = { uid: 1000, gid: 1000 };

/** rlimits in one config: soft and hard are read back from /proc/self/limits. */
const RLIMITS = [
  { type: 'RLIMIT_NOFILE', soft: 123, hard: 456, title: 'Max open files' },
  { type: 'RLIMIT_MSGQUEUE', soft: 4096, hard: 8192, title: 'Max msgqueue size' },
  { type: 'RLIMIT_CORE', soft: 0, hard: 1048576, title: 'Max core file size' },
];

const rlimitCase = (which: 'soft' | 'hard', field: 'rlim_cur' | 'rlim_max'): Case =>
  inside(posix('MUST', `rlimits: \`rlim.${field}\` MUST match the configured value.`), {
    id: `config.rlimits.${which}`,
    script: 'cat /proc/self/limits',
    config: (c) => {
      c.process!.rlimits = RLIMITS.map(({ type, soft, hard }) => ({ type, soft, hard }));
    },
    check: (out) => {
      for (const r of RLIMITS) {
        const row = limitOf(out, r.title);
        same(row?.[which], String(r[which]), `${r.type} ${which} limit`);
      }
    },
  });

export const configCases: Case[] = [
  refused(version('MUST', `ociVersion (string, REQUIRED) MUST be in SemVer v2.0.0 format ${VALID_VALUES}`), {
    id: 'config.version.not-semver',
    config: (c) => {
      c.ociVersion = 'conformance-not-a-version';
    },
  }),

  scenario(root('MUST', 'A directory MUST exist at the path declared by the field (path).'), {
    id: 'config.root.path-missing',
    run: async (t) => {
      const c = t.config();
      c.root!.path = t.path('no-such-rootfs');
      await expectRefusal(t, t.bundle(c));
    },
  }),

  scenario(root('MUST', 'A directory MUST exist at the path declared by the field (path).'), {
    id: 'config.root.path-not-a-directory',
    run: async (t) => {
      const c = t.config();
      c.root!.path = t.path('a-file');
      writeFileSync(c.root!.path, 'not a directory');
      await expectRefusal(t, t.bundle(c));
    },
  }),

  inside(
    root(
      'MUST',
      'readonly (bool, OPTIONAL) If true then the root filesystem MUST be read-only inside the container, defaults to false.',
    ),
    {
      id: 'config.root.readonly',
      ownRootfs: true,
      script: 'touch /conformance-write 2>/dev/null && echo write=ok || echo write=denied; cat /proc/self/mountinfo',
      check: (out) => {
        same(keyValues(out).write, 'denied', 'writing to / with root.readonly');
        check(mountIn(out, '/').options.has('ro'), '/ is not mounted ro');
      },
    },
  ),

  inside(
    root(
      'MUST',
      'readonly (bool, OPTIONAL) If true then the root filesystem MUST be read-only inside the container, defaults to false.',
    ),
    {
      id: 'config.root.readonly-defaults-false',
      ownRootfs: true,
      script: 'touch /conformance-write && echo write=ok; cat /proc/self/mountinfo',
      config: (c) => {
        delete c.root!.readonly;
      },
      check: (out) => {
        same(keyValues(out).write, 'ok', 'writing to / without root.readonly');
        check(mountIn(out, '/').options.has('rw'), '/ is not mounted rw');
      },
    },
  ),

  inside(mounts('MUST', 'The runtime MUST mount entries in the listed order.'), {
    id: 'config.mounts.order',
    script: 'cat /proc/self/mountinfo',
    config: (c) => {
      c.mounts!.push({ destination: '/tmp', type: 'tmpfs', source: 'tmpfs', options: ['size=1m'] });
      c.mounts!.push({ destination: '/tmp/second', type: 'tmpfs', source: 'tmpfs', options: ['size=2m'] });
    },
    check: (out) => {
      const first = mountIn(out, '/tmp');
      const second = mountIn(out, '/tmp/second');
      check(
        first.superOptions.has('size=1024k') && second.superOptions.has('size=2048k'),
        'the two tmpfs mounts are not the configured ones',
      );
      same(second.parent, first.id, '/tmp/second is mounted on /tmp (its parent mount id)');
    },
  }),

  inside(
    mounts(
      'MUST',
      'destination (Linux): For compatibility with old tools and configurations, it MAY be a relative path, in which case it MUST be interpreted as relative to "/".',
    ),
    {
      id: 'config.mounts.relative-destination',
      script: 'cat /proc/self/mountinfo',
      config: (c) => {
        c.mounts!.push({ destination: 'tmp', type: 'tmpfs', source: 'tmpfs', options: ['size=3m'] });
      },
      check: (out) => {
        check(mountIn(out, '/tmp').superOptions.has('size=3072k'), 'the tmpfs with destination "tmp" is not at /tmp');
      },
    },
  ),

  scenario(mounts('MUST', `source: Path values for bind mounts are either absolute or relative to the bundle. ${STEP2}`), {
    id: 'config.mounts.bind-source-relative-to-bundle',
    run: async (t) => {
      const c = t.config('cat /root/conformance-file');
      c.mounts!.push({ destination: '/root', type: 'bind', source: 'conformance-data', options: ['rbind', 'ro'] });
      const bundle = t.bundle(c);
      mkdirSync(join(bundle, 'conformance-data'));
      writeFileSync(join(bundle, 'conformance-data', 'conformance-file'), 'from-the-bundle');
      const r = await t.rt.run(t.newId(), bundle, { cwd: t.hostDir('elsewhere') });
      check(r.code === 0, `the container did not run (${describe(r)})`);
      same(r.stdout, 'from-the-bundle', 'the file read through the relative bind source');
    },
  }),

  inside(
    mountOptions(
      'SHOULD',
      'Runtimes SHOULD treat unknown options as filesystem-specific ones and pass those as a comma-separated string to the fifth (const void *data) argument of mount(2).',
    ),
    {
      id: 'config.mount-options.unknown-as-data',
      script: 'cat /proc/self/mountinfo',
      config: (c) => {
        c.mounts!.push({ destination: '/tmp', type: 'tmpfs', source: 'tmpfs', options: ['size=1m', 'mode=701', 'nr_inodes=1k'] });
      },
      check: (out) => {
        const m = mountIn(out, '/tmp');
        for (const o of ['size=1024k', 'mode=701', 'nr_inodes=1024'])
          check(m.superOptions.has(o), `tmpfs options ${[...m.superOptions].join(',')} lack ${o}`);
      },
    },
  ),

  scenario(
    processSection(
      'MUST',
      'process (object, OPTIONAL) specifies the container process. This property is REQUIRED when start is called.',
    ),
    {
      id: 'config.process.required-at-start',
      run: async (t) => {
        const c = t.config();
        delete c.process;
        const id = t.newId();
        const created = await t.rt.create(id, t.bundle(c));
        if (created.code !== 0) return expectNoContainer(t, id); // refused at create: start cannot even be called
        const started = await t.rt.start(id);
        check(started.code !== 0, 'start of a container without process exited 0');
      },
    },
  ),

  inside(processSection('MUST', 'consoleSize: Runtimes MUST ignore consoleSize if terminal is false or unset.'), {
    id: 'config.process.console-size-ignored',
    script: '[ -t 0 ] || [ -t 1 ] && echo stdio=tty || echo stdio=notty',
    config: (c) => {
      c.process!.consoleSize = { height: 7, width: 13 };
    },
    check: (out) => same(keyValues(out).stdio, 'notty', 'stdin/stdout with terminal false and a consoleSize'),
  }),

  inside(
    processSection('MUST', `cwd (string, REQUIRED) is the working directory that will be set for the executable. ${STEP2}`),
    {
      id: 'config.process.cwd',
      script: 'echo cwd=$(pwd -P)',
      config: (c) => {
        c.process!.cwd = '/etc';
      },
      check: (out) => same(keyValues(out).cwd, '/etc', 'working directory'),
    },
  ),

  refused(processSection('MUST', `cwd: This value MUST be an absolute path. ${VALID_VALUES}`), {
    id: 'config.process.cwd-relative',
    config: (c) => {
      c.process!.cwd = 'etc';
    },
  }),

  inside(
    processSection(
      'MUST',
      `env (array of strings, OPTIONAL) with the same semantics as IEEE Std 1003.1-2008's environ. ${STEP2}`,
    ),
    {
      id: 'config.process.env',
      script: 'env',
      config: (c) => {
        c.process!.env!.push('CONFORMANCE_SPACES=a value with spaces', 'CONFORMANCE_EMPTY=');
      },
      check: (out) => {
        const env = keyValues(out);
        same(env.CONFORMANCE_SPACES, 'a value with spaces', 'CONFORMANCE_SPACES');
        same(env.CONFORMANCE_EMPTY, '', 'CONFORMANCE_EMPTY');
        const leaked = Object.keys(CALLER_ENV).filter((name) => name in env);
        check(!leaked.length, `the runtime caller's environment leaked into the container (${leaked.join(', ')})`);
      },
    },
  ),

  inside(
    processSection('MUST', "args (array of strings, OPTIONAL) with similar semantics to IEEE Std 1003.1-2008 execvp's argv."),
    {
      id: 'config.process.args',
      script: '',
      config: (c) => {
        c.process!.args = ['sh', '-c', 'printf "%s|" "$0" "$@"', 'zero', 'with space', '', '*'];
      },
      check: (out) => same(out, 'zero|with space||*|', 'arguments as the program received them'),
    },
  ),

  scenario(
    processSection(
      'MUST',
      "args: at least one entry is REQUIRED (non-Windows), and that entry is used with the same semantics as execvp's file.",
    ),
    {
      id: 'config.process.args-path-lookup',
      run: async (t) => {
        const c = t.config();
        const bin = sharedDir(t, c, 'bin', '/root');
        writeFileSync(join(bin, 'conformance-hello'), '#!/bin/sh\necho found-through-PATH\n');
        chmodSync(join(bin, 'conformance-hello'), 0o755);
        c.process!.args = ['conformance-hello'];
        c.process!.env = ['PATH=/root:/bin', t.marker];
        const r = await t.rt.run(t.newId(), t.bundle(c));
        check(r.code === 0, `a program found through the container's PATH did not run (${describe(r)})`);
        same(r.stdout.trim(), 'found-through-PATH', 'output');
      },
    },
  ),

  refused(processSection('MUST', 'args: at least one entry is REQUIRED (non-Windows).'), {
    id: 'config.process.args-empty',
    config: (c) => {
      c.process!.args = [];
    },
  }),

  refused(
    posix(
      'MUST',
      'rlimits type: The runtime MUST generate an error for any values which cannot be mapped to a relevant kernel interface.',
    ),
    {
      id: 'config.rlimits.unknown-type',
      config: (c) => {
        c.process!.rlimits = [{ type: 'RLIMIT_CONFORMANCE', soft: 1, hard: 1 }];
      },
    },
  ),

  rlimitCase('soft', 'rlim_cur'),
  rlimitCase('hard', 'rlim_max'),

  refused(posix('MUST', 'If rlimits contains duplicated entries with same type, the runtime MUST generate an error.'), {
    id: 'config.rlimits.duplicate-type',
    config: (c) => {
      c.process!.rlimits = [
        { type: 'RLIMIT_NOFILE', soft: 100, hard: 100 },
        { type: 'RLIMIT_NOFILE', soft: 200, hard: 200 },
      ];
    },
  }),

  inside(
    linuxProcess(
      'SHOULD',
      'capabilities: Runtimes SHOULD NOT fail if the container configuration requests capabilities that cannot be granted (any value which cannot be mapped to a relevant kernel interface MUST be logged as a warning).',
    ),
    {
      id: 'config.capabilities.unknown-not-fatal',
      script: 'cat /proc/self/status',
      config: (c) => {
        for (const set of ['bounding', 'effective', 'permitted'] as const)
          c.process!.capabilities![set]!.push('CAP_CONFORMANCE_NOT_A_CAPABILITY');
      },
      check: (out) => capsEqual(out, 'CapBnd', ['CAP_AUDIT_WRITE', 'CAP_KILL', 'CAP_NET_BIND_SERVICE']),
    },
  ),

  inside(
    linuxProcess(
      'SHOULD',
      'capabilities: Runtimes SHOULD NOT fail if the container configuration requests capabilities that cannot be granted, for example, if the runtime operates in a restricted environment with a limited set of capabilities.',
    ),
    {
      id: 'config.capabilities.ungrantable-not-fatal',
      needs: ['capability-missing'],
      script: 'cat /proc/self/status',
      config: (c) => {
        c.process!.capabilities = {
          bounding: ['CAP_KILL', ungrantableCapability()!],
          permitted: ['CAP_KILL'],
          effective: ['CAP_KILL'],
        };
      },
      check: (out) =>
        check((hexMask(out, 'CapBnd') & capabilityMask(['CAP_KILL'])) !== 0n, 'CAP_KILL is not in the bounding set'),
    },
  ),

  inside(
    linuxProcess('MUST', `capabilities.bounding: an array of bounding capabilities that are kept for the process. ${STEP2}`),
    {
      id: 'config.capabilities.bounding',
      script: 'cat /proc/self/status',
      config: (c) => {
        c.process!.capabilities = {
          bounding: ['CAP_CHOWN', 'CAP_KILL', 'CAP_SYS_CHROOT'],
          permitted: ['CAP_KILL'],
          effective: ['CAP_KILL'],
        };
      },
      check: (out) => capsEqual(out, 'CapBnd', ['CAP_CHOWN', 'CAP_KILL', 'CAP_SYS_CHROOT']),
    },
  ),

  inside(
    linuxProcess(
      'MUST',
      `capabilities.inheritable: an array of inheritable capabilities that are kept for the process. ${STEP2}`,
    ),
    {
      id: 'config.capabilities.inheritable',
      script: 'cat /proc/self/status',
      config: (c) => {
        c.process!.capabilities = {
          bounding: ['CAP_KILL', 'CAP_NET_RAW'],
          permitted: ['CAP_KILL', 'CAP_NET_RAW'],
          inheritable: ['CAP_KILL', 'CAP_NET_RAW'],
        };
      },
      check: (out) => capsEqual(out, 'CapInh', ['CAP_KILL', 'CAP_NET_RAW']),
    },
  ),

  // A non-root process keeps, across execve of a program without file
  // capabilities, exactly its ambient set (in its effective and permitted
  // sets too): ambient is the one set a non-root container process shows.
  inside(linuxProcess('MUST', `capabilities.ambient: an array of ambient capabilities that are kept for the process. ${STEP2}`), {
    id: 'config.capabilities.ambient',
    script: 'cat /proc/self/status',
    config: (c) => {
      const caps = ['CAP_NET_BIND_SERVICE', 'CAP_KILL'];
      c.process!.user = { ...NOBODY };
      c.process!.capabilities = {
        bounding: caps,
        permitted: caps,
        inheritable: caps,
        effective: caps,
        ambient: ['CAP_NET_BIND_SERVICE'],
      };
    },
    check: (out) => {
      capsEqual(out, 'CapAmb', ['CAP_NET_BIND_SERVICE']);
      capsEqual(out, 'CapEff', ['CAP_NET_BIND_SERVICE']);
    },
  }),

  // permitted bounds what can be raised: an ambient capability outside it
  // must not reach the process (refusing the config is also conformant).
  scenario(
    linuxProcess('MUST', `capabilities.permitted: an array of permitted capabilities that are kept for the process. ${STEP2}`),
    {
      id: 'config.capabilities.permitted',
      run: async (t) => {
        const c = t.config('cat /proc/self/status');
        c.process!.user = { ...NOBODY };
        const nbs = ['CAP_NET_BIND_SERVICE'];
        c.process!.capabilities = { bounding: nbs, inheritable: nbs, ambient: nbs, permitted: [], effective: [] };
        const r = await t.rt.run(t.newId(), t.bundle(c));
        if (!r.stdout.includes('CapPrm:')) {
          // The program never ran: conformant only as a refusal of this config, for its capabilities.
          check(
            r.code !== 0 && /capabilit|ambient|CAP_NET_BIND_SERVICE/i.test(r.stderr),
            `the program did not run, and not because the runtime refused its capabilities (${describe(r)})`,
          );
          return;
        }
        check(r.code === 0, `the container did not run to exit 0 (${describe(r)})`);
        capsEqual(r.stdout, 'CapPrm', []);
        capsEqual(r.stdout, 'CapAmb', []);
      },
    },
  ),

  inside(
    linuxProcess(
      'MUST',
      `noNewPrivileges (bool, OPTIONAL) setting noNewPrivileges to true prevents the process from gaining additional privileges. ${STEP2}`,
    ),
    {
      id: 'config.no-new-privileges.true',
      script: 'cat /proc/self/status',
      check: (out) => same(statusField(out, 'NoNewPrivs'), '1', 'NoNewPrivs with noNewPrivileges true'),
    },
  ),

  inside(
    linuxProcess(
      'MUST',
      `noNewPrivileges (bool, OPTIONAL) setting noNewPrivileges to true prevents the process from gaining additional privileges. ${STEP2}`,
    ),
    {
      id: 'config.no-new-privileges.false',
      script: 'cat /proc/self/status',
      config: (c) => {
        c.process!.noNewPrivileges = false;
      },
      check: (out) => same(statusField(out, 'NoNewPrivs'), '0', 'NoNewPrivs with noNewPrivileges false'),
    },
  ),

  inside(linuxProcess('MUST', 'If oomScoreAdj is set, the runtime MUST set oom_score_adj to the given value.'), {
    id: 'config.oom-score-adj.set',
    script: 'echo oom=$(cat /proc/self/oom_score_adj)',
    config: (c) => {
      c.process!.oomScoreAdj = 321;
    },
    check: (out) => same(keyValues(out).oom, '321', 'oom_score_adj'),
  }),

  inside(linuxProcess('MUST', 'If oomScoreAdj is not set, the runtime MUST NOT change the value of oom_score_adj.'), {
    id: 'config.oom-score-adj.unset',
    script: 'echo oom=$(cat /proc/self/oom_score_adj)',
    cli: { oomScoreAdj: 234 },
    check: (out) => same(keyValues(out).oom, '234', 'oom_score_adj (the runtime was started with 234)'),
  }),

  inside(user('MUST', `uid (int, REQUIRED) specifies the user ID in the container namespace. ${STEP2}`), {
    id: 'config.user.uid',
    script: 'echo uid=$(id -u)',
    config: (c) => {
      c.process!.user = { uid: 1234, gid: 0 };
    },
    check: (out) => same(keyValues(out).uid, '1234', 'uid'),
  }),

  inside(user('MUST', `gid (int, REQUIRED) specifies the group ID in the container namespace. ${STEP2}`), {
    id: 'config.user.gid',
    script: 'echo gid=$(id -g)',
    config: (c) => {
      c.process!.user = { uid: 0, gid: 4321 };
    },
    check: (out) => same(keyValues(out).gid, '4321', 'gid'),
  }),

  inside(
    user(
      'MUST',
      `additionalGids (array of ints, OPTIONAL) specifies additional group IDs in the container namespace to be added to the process. ${STEP2}`,
    ),
    {
      id: 'config.user.additional-gids',
      script: 'cat /proc/self/status',
      config: (c) => {
        c.process!.user = { uid: 1000, gid: 1000, additionalGids: [5, 2001] };
      },
      check: (out) => {
        const groups = (statusField(out, 'Groups') ?? '')
          .split(/\s+/)
          .filter(Boolean)
          .map(Number)
          .sort((a, b) => a - b);
        check(
          [5, 2001].every((g) => groups.includes(g)),
          `supplementary groups ${JSON.stringify(groups)} lack 5 and 2001`,
        );
        check(
          groups.every((g) => [5, 1000, 2001].includes(g)),
          `supplementary groups ${JSON.stringify(groups)} hold groups not configured`,
        );
      },
    },
  ),

  inside(user('MUST', `umask (int, OPTIONAL) specifies the umask of the user. ${STEP2}`), {
    id: 'config.user.umask',
    script: 'echo umask=$(umask)',
    config: (c) => {
      c.process!.user.umask = 0o027;
    },
    check: (out) => same(keyValues(out).umask, '0027', 'umask'),
  }),

  inside(
    hostname(
      'MUST',
      `hostname (string, OPTIONAL) specifies the container's hostname as seen by processes running inside the container. ${STEP2}`,
    ),
    {
      id: 'config.hostname',
      script: 'echo hostname=$(hostname)',
      config: (c) => {
        c.hostname = 'conformance-host';
      },
      check: (out) => same(keyValues(out).hostname, 'conformance-host', 'hostname'),
    },
  ),

  inside(
    domainname(
      'MUST',
      `domainname (string, OPTIONAL) specifies the container's domainname as seen by processes running inside the container. ${STEP2}`,
    ),
    {
      id: 'config.domainname',
      script: 'echo domainname=$(cat /proc/sys/kernel/domainname)',
      config: (c) => {
        c.domainname = 'conformance.test';
      },
      check: (out) => same(keyValues(out).domainname, 'conformance.test', 'domainname'),
    },
  ),

  inside(annotations('MUST', 'Runtimes MUST handle unknown annotation keys like any other unknown property.'), {
    id: 'config.annotations.unknown-keys',
    script: 'echo ran=yes',
    config: (c) => {
      c.annotations = { 'com.example.conformance.unknown': 'value', 'org.opencontainers.conformance.reserved-but-unknown': '' };
    },
    check: (out) => same(keyValues(out).ran, 'yes', 'the program ran'),
  }),

  refused(annotations('MUST', `Keys MUST NOT be an empty string. ${VALID_VALUES}`), {
    id: 'config.annotations.empty-key',
    config: (c) => {
      c.annotations = { '': 'value' };
    },
  }),

  refused(annotations('MUST', `Values MUST be strings. ${VALID_VALUES}`), {
    id: 'config.annotations.non-string-value',
    config: (c) => {
      (c as { annotations: unknown }).annotations = { 'com.example.conformance': 42 };
    },
  }),

  inside(
    extensibility(
      'MUST',
      'Runtimes MAY log unknown properties but MUST otherwise ignore them. That includes not generating errors if they encounter an unknown property.',
    ),
    {
      id: 'config.extensibility.unknown-properties',
      script: 'echo ran=yes',
      config: (c) => {
        c['com.example.conformance'] = { nested: [1, 2, 3] };
        c.process!.conformanceUnknown = true;
        c.linux!.conformanceUnknown = 'value';
        c.root = { ...c.root!, conformanceUnknown: 1 } as typeof c.root;
      },
      check: (out) => same(keyValues(out).ran, 'yes', 'the program ran'),
    },
  ),

  refused(
    validValues(
      'MUST',
      'Runtimes MUST generate an error when invalid or unsupported values are encountered (linux.rootfsPropagation "sideways").',
    ),
    {
      id: 'config.valid-values.rootfs-propagation',
      config: (c) => {
        c.linux!.rootfsPropagation = 'sideways';
      },
    },
  ),
];
