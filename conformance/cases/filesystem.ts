/**
 * config-linux.md, the container's filesystem view: default filesystems,
 * rootfs mount propagation, masked and read-only paths.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { type Case, STEP2, check, same } from '../case';
import { hostMount, readOr } from '../host';
import { inside, refused, scenario, section } from '../kinds';
import { type MountRecord, keyValues, parseMountinfo, visibleMount } from '../parse';
import { LONG_RUNNING, sharedDir, untilFile } from '../steps';

const defaultFs = section('config-linux.md', 'Default Filesystems');
const propagation = section('config-linux.md', 'Rootfs Mount Propagation');
const masked = section('config-linux.md', 'Masked Paths');
const readonly = section('config-linux.md', 'Readonly Paths');

const top = (mountinfo: string, point: string): MountRecord => visibleMount(parseMountinfo(mountinfo), point);

const propagationOf = (m: MountRecord) => m.tags.join(' ') || 'private';
const isPrivate = (m: MountRecord) => !m.tags.some((tag) => tag.startsWith('shared:') || tag.startsWith('master:'));

const FROM_CONTAINER = 'conformance-from-container';

/**
 * rootfsPropagation against a host that mounts something into the rootfs
 * after the container started: the rootfs is a shared mount on the host,
 * so a slave "/" receives the host's mount and a private one does not.
 * The other way, a mount the container makes is never the host's. Both are
 * read at once from the mount tables (a mount has propagated by the time
 * mount(2) returns): the container's through /proc/PID/mountinfo.
 * `private` tells a runtime that ignores the field from one that applies
 * it; `slave` is also runc's and runts' default.
 */
const hostPropagation = (value: 'slave' | 'private', reaches: boolean): Case =>
  scenario(
    propagation(
      'MUST',
      `rootfsPropagation ${value}: ${value === 'slave' ? 'the rootfs mount receives propagation events from the host (e.g. if something is mounted on the host it will also appear in the container) but not the other way around' : "the rootfs mount doesn't receive mount propagation events from the host"}. ${STEP2}`,
    ),
    {
      id: `config-linux.rootfs-propagation.${value}`,
      run: async (t) => {
        const c = t.config(
          `mount -t tmpfs tmpfs /tmp && touch /tmp/${FROM_CONTAINER} && echo ready > /out/ready; ${LONG_RUNNING}`,
        );
        c.process!.capabilities!.bounding!.push('CAP_SYS_ADMIN');
        c.process!.capabilities!.effective!.push('CAP_SYS_ADMIN');
        c.process!.capabilities!.permitted!.push('CAP_SYS_ADMIN');
        const out = sharedDir(t, c);
        c.linux!.rootfsPropagation = value;
        const bundle = t.bundle(c, true);
        const rootfs = join(bundle, 'rootfs');
        hostMount(['--bind', rootfs, rootfs]);
        hostMount(['--make-rshared', rootfs]);
        const id = t.newId();
        await t.rt.created(id, bundle);
        const pid = (await t.rt.state(id)).pid!;
        await t.rt.started(id);
        await untilFile(join(out, 'ready'));
        check(!existsSync(join(rootfs, 'tmp', FROM_CONTAINER)), 'a mount the container made reached the host');
        hostMount(['-t', 'tmpfs', 'tmpfs', join(rootfs, 'run')]);
        const mounts = parseMountinfo(readOr(`/proc/${pid}/mountinfo`));
        const root = visibleMount(mounts, '/');
        if (reaches)
          check(
            root.tags.some((tag) => tag.startsWith('master:')),
            `/ is ${propagationOf(root)}, not a slave`,
          );
        else check(isPrivate(root), `/ is ${propagationOf(root)}, not private`);
        const arrived = mounts.some((m) => m.mountPoint === '/run' && m.fstype === 'tmpfs');
        same(arrived, reaches, 'whether a mount made on the host after start reached the container');
      },
    },
  );

/** rootfsPropagation whose effect the container's "/" shows in its own mountinfo. */
const rootTagged = (value: 'shared' | 'unbindable', description: string, tag: string): Case =>
  inside(propagation('MUST', `rootfsPropagation ${value}: ${description}. ${STEP2}`), {
    id: `config-linux.rootfs-propagation.${value}`,
    script: 'cat /proc/self/mountinfo',
    config: (c) => {
      c.linux!.rootfsPropagation = value;
    },
    check: (out) => {
      const root = top(out, '/');
      check(
        root.tags.some((t) => t.startsWith(tag)),
        `/ is ${propagationOf(root)}, not ${value}`,
      );
    },
  });

export const filesystemCases: Case[] = [
  inside(
    defaultFs(
      'SHOULD',
      "The following filesystems SHOULD be made available in each container's filesystem: /proc proc, /sys sysfs, /dev/pts devpts, /dev/shm tmpfs.",
    ),
    {
      id: 'config-linux.default-filesystems',
      script: 'cat /proc/self/mountinfo',
      check: (out) => {
        for (const [point, fstype] of [
          ['/proc', 'proc'],
          ['/sys', 'sysfs'],
          ['/dev/pts', 'devpts'],
          ['/dev/shm', 'tmpfs'],
        ] as const)
          same(top(out, point).fstype, fstype, `filesystem at ${point}`);
      },
    },
  ),

  rootTagged('shared', 'the rootfs mount belongs to a new peer group', 'shared:'),

  hostPropagation('slave', true),
  hostPropagation('private', false),

  rootTagged('unbindable', 'the rootfs mount is a private mount that cannot be bind-mounted', 'unbindable'),

  inside(
    masked(
      'MUST',
      `maskedPaths (array of strings, OPTIONAL) will mask over the provided paths inside the container so that they cannot be read (a file). ${STEP2}`,
    ),
    {
      id: 'config-linux.masked-paths.file',
      script: 'echo masked=$(wc -c < /proc/cpuinfo); echo other=$(wc -c < /proc/version)',
      config: (c) => {
        c.linux!.maskedPaths!.push('/proc/cpuinfo');
      },
      check: (out) => {
        const seen = keyValues(out);
        same(seen.masked, '0', 'bytes read from the masked /proc/cpuinfo');
        check(Number(seen.other) > 0, '/proc/version (not masked) reads empty too');
      },
    },
  ),

  inside(
    masked(
      'MUST',
      `maskedPaths (array of strings, OPTIONAL) will mask over the provided paths inside the container so that they cannot be read (a directory). ${STEP2}`,
    ),
    {
      id: 'config-linux.masked-paths.directory',
      script: 'echo entries=$(ls /sys/kernel | wc -l)',
      config: (c) => {
        c.linux!.maskedPaths!.push('/sys/kernel');
      },
      check: (out) => same(keyValues(out).entries, '0', 'entries listed in the masked /sys/kernel'),
    },
  ),

  refused(masked('MUST', 'maskedPaths: The values MUST be absolute paths in the container namespace.'), {
    id: 'config-linux.masked-paths.relative',
    config: (c) => {
      c.linux!.maskedPaths!.push('proc/cpuinfo');
    },
  }),

  inside(
    readonly(
      'MUST',
      `readonlyPaths (array of strings, OPTIONAL) will set the provided paths as readonly inside the container. ${STEP2}`,
    ),
    {
      id: 'config-linux.readonly-paths',
      script: 'touch /tmp/conformance 2>/dev/null && echo write=ok || echo write=denied; cat /proc/self/mountinfo',
      config: (c) => {
        c.mounts!.push({ destination: '/tmp', type: 'tmpfs', source: 'tmpfs' });
        c.linux!.readonlyPaths!.push('/tmp');
      },
      check: (out) => {
        same(keyValues(out).write, 'denied', 'writing under the read-only /tmp');
        check(top(out, '/tmp').options.has('ro'), '/tmp is not mounted ro');
      },
    },
  ),

  refused(readonly('MUST', 'readonlyPaths: The values MUST be absolute paths in the container namespace.'), {
    id: 'config-linux.readonly-paths.relative',
    config: (c) => {
      c.linux!.readonlyPaths!.push('proc/sys');
    },
  }),
];
