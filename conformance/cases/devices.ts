/**
 * config-linux.md "Devices" and "Default Devices", config.md's terminal
 * settings (which need a console), and runtime-linux.md: file
 * descriptors and /dev symlinks.
 */
import { closeSync, openSync, writeFileSync } from 'node:fs';
import { type Case, STEP2, check, same } from '../case';
import { runOnConsole } from '../console';
import { inside, refused, scenario, section } from '../kinds';
import { keyValues } from '../parse';
import { describe } from '../runtime-cli';

const devices = section('config-linux.md', 'Devices');
const defaults = section('config-linux.md', 'Default Devices');
const processSection = section('config.md', 'Process');
const fds = section('runtime-linux.md', 'File descriptors');
const symlinks = section('runtime-linux.md', 'Dev symbolic links');

/** `stat` of a path as "TYPE MAJOR:MINOR" (hex, as busybox prints them). */
const statLine = (key: string, path: string) => `stat -c "${key}=%F %t:%T" ${path}`;

/** The default devices and their numbers (hex). */
const DEFAULT_DEVICES: Record<string, string> = {
  '/dev/null': '1:3',
  '/dev/zero': '1:5',
  '/dev/full': '1:7',
  '/dev/random': '1:8',
  '/dev/urandom': '1:9',
  '/dev/tty': '5:0',
};

export const deviceCases: Case[] = [
  inside(devices('MUST', 'devices (array of objects, OPTIONAL) lists devices that MUST be available in the container.'), {
    id: 'config-linux.devices.available',
    script: statLine('kmsg', '/dev/conformance-kmsg'),
    config: (c) => {
      c.linux!.devices = [{ path: '/dev/conformance-kmsg', type: 'c', major: 1, minor: 11 }];
    },
    check: (out) => same(keyValues(out).kmsg, 'character special file 1:b', '/dev/conformance-kmsg'),
  }),

  inside(
    devices(
      'MUST',
      `fileMode (uint32, OPTIONAL) - file mode for the device; uid, gid (uint32, OPTIONAL) - id of device owner and group in the container namespace. ${STEP2}`,
    ),
    {
      id: 'config-linux.devices.mode-and-owner',
      script: 'stat -c "attrs=%a %u %g" /dev/conformance-kmsg',
      config: (c) => {
        c.linux!.devices = [
          { path: '/dev/conformance-kmsg', type: 'c', major: 1, minor: 11, fileMode: 0o640, uid: 1234, gid: 5 },
        ];
      },
      check: (out) => same(keyValues(out).attrs, '640 1234 5', 'mode, owner and group of the device'),
    },
  ),

  inside(devices('MUST', `type (string, REQUIRED) - type of device: c, b, u or p. ${STEP2}`), {
    id: 'config-linux.devices.types',
    script: [
      statLine('b', '/dev/conformance-block'),
      statLine('u', '/dev/conformance-unbuffered'),
      'stat -c "p=%F" /dev/conformance-fifo',
    ].join('; '),
    config: (c) => {
      c.linux!.devices = [
        { path: '/dev/conformance-block', type: 'b', major: 7, minor: 200 },
        { path: '/dev/conformance-unbuffered', type: 'u', major: 1, minor: 3 },
        { path: '/dev/conformance-fifo', type: 'p' },
      ];
    },
    check: (out) => {
      const seen = keyValues(out);
      same(seen.b, 'block special file 7:c8', 'type "b"');
      same(seen.u, 'character special file 1:3', 'type "u"');
      same(seen.p, 'fifo', 'type "p"');
    },
  }),

  inside(devices('MAY', 'path: The path MAY be anywhere in the container filesystem, notably outside of /dev.'), {
    id: 'config-linux.devices.outside-dev',
    script: statLine('dev', '/tmp/conformance-null'),
    config: (c) => {
      c.mounts!.push({ destination: '/tmp', type: 'tmpfs', source: 'tmpfs' });
      c.linux!.devices = [{ path: '/tmp/conformance-null', type: 'c', major: 1, minor: 3 }];
    },
    check: (out) => same(keyValues(out).dev, 'character special file 1:3', '/tmp/conformance-null'),
  }),

  refused(
    devices(
      'MUST',
      'path: If a file already exists at path that does not match the requested device, the runtime MUST generate an error.',
    ),
    {
      id: 'config-linux.devices.existing-file',
      config: (c, t) => {
        const file = t.path('regular-file');
        writeFileSync(file, 'a regular file, not a device');
        c.mounts!.push({ destination: '/dev/conformance-dev', type: 'bind', source: file, options: ['bind'] });
        c.linux!.devices = [{ path: '/dev/conformance-dev', type: 'c', major: 1, minor: 3 }];
      },
    },
  ),

  inside(
    defaults(
      'MUST',
      'In addition to any devices configured with this setting, the runtime MUST also supply: /dev/null, /dev/zero, /dev/full, /dev/random, /dev/urandom, /dev/tty.',
    ),
    {
      id: 'config-linux.default-devices',
      script: [
        ...Object.keys(DEFAULT_DEVICES).map((path) => statLine(path, path)),
        'echo x > /dev/null && echo write_null=ok',
        'echo zero=$(head -c 3 /dev/zero | od -An -tx1 | tr -d " ")',
        'echo x > /dev/full 2>/dev/null || echo write_full=failed',
        'echo urandom=$(head -c 8 /dev/urandom | wc -c)',
      ].join('; '),
      config: (c) => {
        c.linux!.devices = [{ path: '/dev/conformance-kmsg', type: 'c', major: 1, minor: 11 }];
      },
      check: (out) => {
        const seen = keyValues(out);
        for (const [path, numbers] of Object.entries(DEFAULT_DEVICES))
          same(seen[path], `character special file ${numbers}`, path);
        same(
          [seen.write_null, seen.zero, seen.write_full, seen.urandom],
          ['ok', '000000', 'failed', '8'],
          'writing /dev/null, reading /dev/zero, writing /dev/full, reading /dev/urandom',
        );
      },
    },
  ),

  inside(defaults('MUST', "the runtime MUST also supply: /dev/ptmx. A bind-mount or symlink of the container's /dev/pts/ptmx."), {
    id: 'config-linux.default-devices.ptmx',
    script: 'echo link=$(readlink /dev/ptmx); stat -L -c "ptmx=%d:%i" /dev/ptmx; stat -c "pts_ptmx=%d:%i" /dev/pts/ptmx',
    check: (out) => {
      const seen = keyValues(out);
      check(
        seen.link === 'pts/ptmx' || seen.link === '/dev/pts/ptmx' || seen.ptmx === seen.pts_ptmx,
        `/dev/ptmx is neither a symlink to nor a bind mount of /dev/pts/ptmx (${JSON.stringify(seen)})`,
      );
    },
  }),

  scenario(
    defaults(
      'MUST',
      'the runtime MUST also supply: /dev/console is set up if terminal is enabled in the config by bind mounting the pseudoterminal pty to /dev/console.',
    ),
    {
      id: 'config-linux.default-devices.console',
      needs: ['python3'],
      run: async (t) => {
        const c = t.config(
          'stat -c "console=%t:%T" /dev/console; stat -L -c "pty=%t:%T" $(tty); [ -t 0 ] && [ -t 1 ] && echo stdio=tty',
        );
        const seen = keyValues(await runOnConsole(t, c));
        same(seen.stdio, 'tty', 'stdin and stdout with process.terminal');
        check(
          !!seen.console && seen.console === seen.pty,
          `/dev/console (${seen.console}) is not the container's pty (${seen.pty})`,
        );
      },
    },
  ),

  scenario(
    processSection('MUST', `consoleSize (object, OPTIONAL) specifies the console size in characters of the terminal. ${STEP2}`),
    {
      id: 'config.process.console-size',
      needs: ['python3'],
      run: async (t) => {
        const c = t.config('echo size=$(stty size)');
        c.process!.consoleSize = { height: 25, width: 91 };
        same(keyValues(await runOnConsole(t, c)).size, '25 91', 'rows and columns of the terminal');
      },
    },
  ),

  inside(
    fds(
      'MUST',
      "By default, only the stdin, stdout and stderr file descriptors are kept open for the application by the runtime (stated as the runtime's behaviour).",
    ),
    {
      id: 'runtime-linux.file-descriptors.only-stdio',
      // "; true" keeps the shell from exec'ing ls, which would list its own directory fd.
      // (The suite's own node leaves a descriptor open in the runtime: it must not reach the container.)
      script: 'ls /proc/$$/fd; true',
      check: (out) => same(out.trim().split('\n').sort(), ['0', '1', '2'], 'open file descriptors of the container process'),
    },
  ),

  scenario(
    fds(
      'MAY',
      'The runtime MAY pass additional file descriptors to the application to support features such as socket activation (--preserve-fds).',
    ),
    {
      id: 'runtime-linux.file-descriptors.preserved',
      run: async (t) => {
        const file = t.path('fd3');
        writeFileSync(file, 'passed-as-fd-3');
        const fd = openSync(file, 'r');
        try {
          const id = t.newId();
          const bundle = t.bundle(t.config('cat <&3'));
          t.rt.remember(id, bundle);
          const r = await t.rt.exec(['run', '--preserve-fds', '1', '--bundle', bundle, id], { extraFds: [fd] });
          t.rt.remember(id, bundle, r.files);
          check(r.code === 0, `run --preserve-fds 1 failed (${describe(r)})`);
          same(r.stdout, 'passed-as-fd-3', 'what the container read from fd 3');
        } finally {
          closeSync(fd);
        }
      },
    },
  ),

  inside(
    symlinks(
      'MUST',
      'While creating the container (step 2 in the lifecycle), runtimes MUST create the following symlinks if the source file exists after processing mounts: /dev/fd -> /proc/self/fd, /dev/stdin -> /proc/self/fd/0, /dev/stdout -> /proc/self/fd/1, /dev/stderr -> /proc/self/fd/2.',
    ),
    {
      id: 'runtime-linux.dev-symlinks',
      script: ['fd', 'stdin', 'stdout', 'stderr'].map((n) => `echo ${n}=$(readlink /dev/${n})`).join('; '),
      check: (out) => {
        const seen = keyValues(out);
        same(
          [seen.fd, seen.stdin, seen.stdout, seen.stderr],
          ['/proc/self/fd', '/proc/self/fd/0', '/proc/self/fd/1', '/proc/self/fd/2'],
          'targets of /dev/fd, stdin, stdout, stderr',
        );
      },
    },
  ),
];
