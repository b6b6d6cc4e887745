/**
 * Checks beyond the schema: rules the spec states in prose, and what runts
 * cannot run (yet). Each problem names its JSON pointer. The input has
 * already passed the schema, so types are as the schema says.
 */
import type { Problem } from '../errors';
import { CAPABILITIES } from '../linux/capabilities';
import { resourceProblems } from '../linux/cgroups/resources';
import { systemdCgroupsPathProblem } from '../linux/cgroups/systemd-unit';
import { idMappingProblems } from '../linux/id-mappings';
import { IDMAP_WORDS, isBindMount, parseMountOptions } from '../linux/mount-options';
import { closIdProblem } from '../linux/intel-rdt';
import { SUPPORTED_NAMESPACES } from '../linux/namespaces';
import { interfaceNameProblem, netDevicePointer, netDevicesOf } from '../linux/net-devices';
import { type MemoryPolicyConfig, memoryPolicyProblems, processAttributeProblems } from '../linux/process-attributes';
import { cleanDestination, procMountRefusal } from '../linux/proc-mounts';
import { RLIMITS } from '../linux/rlimits';
import { sysctlProblems } from '../linux/sysctl';
import { isMapped } from '../linux/user-namespace';
import type { Mount, Spec } from './types';

const CAP_SETS = ['bounding', 'effective', 'permitted', 'inheritable', 'ambient'] as const;
const HOOK_NAMES = ['prestart', 'createRuntime', 'createContainer', 'startContainer', 'poststart', 'poststop'] as const;
const DEVICE_TYPES = new Set(['c', 'b', 'u', 'p']);
/** linux.personality domains and their personality(2) values. */
export const PERSONALITY_DOMAINS: Readonly<Record<string, number>> = { LINUX: 0x0000, LINUX32: 0x0008 };

const seenTimeNamespace = (linux: NonNullable<Spec['linux']>) =>
  (linux.namespaces ?? []).some((n) => (n.type as string) === 'time' && !n.path);

/**
 * The other platforms' sections (config.md "Platform-specific
 * configuration"): runts runs Linux containers in namespaces, so a config
 * that asks for one of these is refused (runtime.md: a property the runtime
 * cannot apply is an error), never run without it.
 */
const OTHER_PLATFORMS: [string, string][] = [
  ['windows', 'Windows container settings'],
  ['solaris', 'Solaris zone settings'],
  ['vm', 'virtual-machine container settings (hypervisor, kernel, image)'],
  ['zos', 'z/OS container settings'],
  ['freebsd', 'FreeBSD jail settings'],
];
/** What --systemd-cgroup runtimes take as linux.cgroupsPath: three words separated by colons. */
const SYSTEMD_CGROUPS_PATH = /^[^/:]*:[^/:]*:[^/:]*$/;

/** How the container's cgroup is to be managed: the runtime's global --systemd-cgroup. */
export interface CgroupDriver {
  systemdCgroup: boolean;
}

/**
 * What runts runs, with a warning (validate and create alike): what the spec
 * deprecates or does not recommend, Windows' process fields (Linux has
 * args and ids for them), and capability names this kernel table does not
 * know (the spec: a runtime SHOULD NOT fail on them; they are left out, as
 * runc does). Each is ignored, and says so.
 */
export function deprecations(spec: Spec): Problem[] {
  const warnings: Problem[] = [];
  for (const set of CAP_SETS) {
    spec.process?.capabilities?.[set]?.forEach((cap, i) => {
      if (!(cap in CAPABILITIES)) {
        warnings.push({
          pointer: `/process/capabilities/${set}/${i}`,
          message: `unknown capability ${JSON.stringify(cap)}: left out`,
        });
      }
    });
  }
  // Windows' own ways to give the command and the user: runts runs args as uid/gid.
  const proc = spec.process as { commandLine?: string; user?: { username?: string } } | undefined;
  if (proc?.commandLine !== undefined)
    warnings.push({ pointer: '/process/commandLine', message: 'is for Windows: ignored, process.args is run' });
  if (proc?.user?.username !== undefined)
    warnings.push({ pointer: '/process/user/username', message: 'is for Windows: ignored, process.user.uid and gid apply' });
  // config-linux.md: NOT RECOMMENDED; runts, as runc, sets no kernel memory limit.
  for (const field of ['kernel', 'kernelTCP'] as const) {
    if (spec.linux?.resources?.memory?.[field] !== undefined)
      warnings.push({
        pointer: `/linux/resources/memory/${field}`,
        message: 'kernel memory limits are not recommended by the spec and not set: ignored',
      });
  }
  spec.mounts?.forEach((m, i) => {
    if (!m.destination.startsWith('/')) {
      warnings.push({
        pointer: `/mounts/${i}/destination`,
        message: 'a relative destination is deprecated: taken as relative to "/"',
      });
    }
  });
  return warnings;
}

/**
 * linux.uidMappings and gidMappings with the user namespace: given for a
 * new one, never without one; ranges the kernel takes; container ids 0
 * mapped (runts, as runc, becomes root of the namespace first), and so the
 * process's own ids.
 */
function userNamespaceProblems(spec: Spec, linux: NonNullable<Spec['linux']>): Problem[] {
  const problems: Problem[] = [];
  const add = (pointer: string, message: string) => problems.push({ pointer, message });
  const user = linux.namespaces?.find((ns) => ns.type === 'user');
  const maps = { uidMappings: linux.uidMappings ?? [], gidMappings: linux.gidMappings ?? [] };
  for (const [field, mappings] of Object.entries(maps)) {
    const pointer = `/linux/${field}`;
    if (!user) {
      if (linux[field as keyof typeof maps]) add(pointer, 'needs a user namespace (linux.namespaces has none)');
      continue;
    }
    if (!mappings.length) {
      if (!user.path) add(pointer, 'a new user namespace needs its mappings');
      continue;
    }
    problems.push(...idMappingProblems(mappings, pointer));
    if (!isMapped(mappings, 0))
      add(
        pointer,
        `must map container ${field === 'uidMappings' ? 'uid' : 'gid'} 0: runts becomes root of the user namespace first, as runc does`,
      );
  }
  if (!user) return problems;
  if (!linux.namespaces?.some((ns) => ns.type === 'mount')) {
    add('/linux/namespaces', "a user namespace needs a mount namespace of the container's own");
  }
  const ids = spec.process?.user;
  if (ids && maps.uidMappings.length && !isMapped(maps.uidMappings, ids.uid ?? 0))
    add('/process/user/uid', 'is not mapped by linux.uidMappings');
  if (ids && maps.gidMappings.length) {
    if (!isMapped(maps.gidMappings, ids.gid ?? 0)) add('/process/user/gid', 'is not mapped by linux.gidMappings');
    ids.additionalGids?.forEach((gid, i) => {
      if (!isMapped(maps.gidMappings, gid)) add(`/process/user/additionalGids/${i}`, 'is not mapped by linux.gidMappings');
    });
  }
  return problems;
}

export function runtimeProblems(spec: Spec, driver: CgroupDriver = { systemdCgroup: false }): Problem[] {
  const problems: Problem[] = [];
  const add = (pointer: string, message: string) => problems.push({ pointer, message });

  if (!/^1\.\d+\.\d+(?:[-+].*)?$/.test(spec.ociVersion)) {
    add('/ociVersion', `version ${JSON.stringify(spec.ociVersion)} is not supported: runts runs configs of version 1.x`);
  }

  if (!spec.root) add('/root', 'is required on Linux');
  else if (!spec.root.path) add('/root/path', 'must not be empty');

  for (const key of Object.keys(spec.annotations ?? {})) {
    if (key === '') add('/annotations', 'keys must not be empty');
  }
  for (const [field, what] of OTHER_PLATFORMS) {
    if ((spec as unknown as Record<string, unknown>)[field] !== undefined)
      add(`/${field}`, `${what} are for another platform: runts runs Linux containers`);
  }
  const proc = spec.process;
  if (!proc) add('/process', 'is required to create a container');
  else {
    if (!proc.args || proc.args.length === 0) add('/process/args', 'must name the program to run');
    if (!proc.cwd.startsWith('/')) add('/process/cwd', 'must be an absolute path');
    proc.env?.forEach((entry, i) => {
      if (!entry.includes('=')) add(`/process/env/${i}`, 'must have the form KEY=value');
    });
    const rlimitTypes = new Set<string>();
    proc.rlimits?.forEach((rl, i) => {
      if (!(rl.type in RLIMITS)) add(`/process/rlimits/${i}/type`, `unknown rlimit ${JSON.stringify(rl.type)}`);
      if (rlimitTypes.has(rl.type)) add(`/process/rlimits/${i}/type`, `duplicate rlimit ${rl.type}`);
      rlimitTypes.add(rl.type);
      if (rl.soft > rl.hard) add(`/process/rlimits/${i}`, 'soft limit must not exceed the hard limit');
    });
    if (proc.oomScoreAdj !== undefined && (proc.oomScoreAdj < -1000 || proc.oomScoreAdj > 1000)) {
      add('/process/oomScoreAdj', 'must be between -1000 and 1000');
    }
    problems.push(...processAttributeProblems(proc));
  }
  const memoryPolicy = (spec.linux as { memoryPolicy?: MemoryPolicyConfig } | undefined)?.memoryPolicy;
  if (memoryPolicy) problems.push(...memoryPolicyProblems(memoryPolicy));

  const containerUserns = (spec.linux?.namespaces ?? []).some((ns) => ns.type === 'user');
  spec.mounts?.forEach((m, i) => {
    problems.push(...idmapProblems(m, `/mounts/${i}`, containerUserns));
    const bind = isBindMount(m.type, parseMountOptions(m.options).flags);
    const refusal = procMountRefusal(cleanDestination(m.destination), { type: m.type ?? '', bind });
    if (refusal) add(`/mounts/${i}/destination`, refusal);
  });

  for (const name of HOOK_NAMES) {
    spec.hooks?.[name]?.forEach((hook, i) => {
      if (!hook.path.startsWith('/')) add(`/hooks/${name}/${i}/path`, 'must be an absolute path');
      if (hook.timeout !== undefined && hook.timeout <= 0) add(`/hooks/${name}/${i}/timeout`, 'must be greater than zero');
    });
  }

  const linux = spec.linux;
  // Without a mount namespace of its own the container shares the caller's:
  // runts then changes nothing of it outside the rootfs (rootfs.ts), so what
  // needs a remount, a propagation change or a mount over /proc is refused.
  if (!(linux?.namespaces ?? []).some((ns) => ns.type === 'mount')) {
    const why = "needs a mount namespace of the container's own (linux.namespaces has none)";
    if (linux?.maskedPaths?.length) add('/linux/maskedPaths', why);
    if (linux?.readonlyPaths?.length) add('/linux/readonlyPaths', why);
    if (linux?.rootfsPropagation) add('/linux/rootfsPropagation', why);
    if (spec.root?.readonly) add('/root/readonly', why);
  }
  if (linux) {
    const seen = new Set<string>();
    linux.namespaces?.forEach((ns, i) => {
      const at = `/linux/namespaces/${i}`;
      if (!SUPPORTED_NAMESPACES.includes(ns.type)) {
        add(`${at}/type`, `unknown namespace type ${JSON.stringify(ns.type)}`);
      }
      if (seen.has(ns.type)) add(`${at}/type`, `duplicate namespace type ${JSON.stringify(ns.type)}`);
      seen.add(ns.type);
      if (ns.path !== undefined && !ns.path.startsWith('/')) add(`${at}/path`, 'must be an absolute path');
    });
    problems.push(...userNamespaceProblems(spec, linux));
    const extra = linux as { personality?: { domain?: string; flags?: string[] }; timeOffsets?: Record<string, unknown> };
    if (extra.personality) {
      if (!extra.personality.domain || !(extra.personality.domain in PERSONALITY_DOMAINS))
        add('/linux/personality/domain', 'must be LINUX or LINUX32');
      if (extra.personality.flags?.length) add('/linux/personality/flags', 'personality flags are not supported yet');
    }
    if (extra.timeOffsets && !seenTimeNamespace(linux)) add('/linux/timeOffsets', 'needs a new time namespace');
    for (const clock of Object.keys(extra.timeOffsets ?? {})) {
      if (clock !== 'monotonic' && clock !== 'boottime')
        add(`/linux/timeOffsets/${clock}`, 'only monotonic and boottime clocks have offsets');
    }
    if (!seen.has('uts') && (spec.hostname || spec.domainname)) {
      add(spec.hostname ? '/hostname' : '/domainname', 'needs a new uts namespace (linux.namespaces has none)');
    }
    if (linux.sysctl && Object.keys(linux.sysctl).length && !seen.has('mount')) {
      add('/linux/sysctl', 'needs a new mount namespace to write /proc/sys safely');
    }
    problems.push(...sysctlProblems(linux.sysctl ?? {}, seen, spec.hostname));
    linux.devices?.forEach((dev, i) => {
      if (!DEVICE_TYPES.has(dev.type)) add(`/linux/devices/${i}/type`, 'must be one of "c", "b", "u", "p"');
      if (!dev.path.startsWith('/dev/')) add(`/linux/devices/${i}/path`, 'must be under /dev/');
    });
    if (linux.cgroupsPath !== undefined && linux.cgroupsPath.split('/').includes('..')) {
      add('/linux/cgroupsPath', 'must not contain ".."');
    }
    // The form of the path is the driver's: "slice:prefix:name" for systemd's, a path for cgroupfs.
    const systemdProblem = linux.cgroupsPath && driver.systemdCgroup ? systemdCgroupsPathProblem(linux.cgroupsPath) : undefined;
    if (systemdProblem) add('/linux/cgroupsPath', systemdProblem);
    if (linux.cgroupsPath !== undefined && !driver.systemdCgroup && SYSTEMD_CGROUPS_PATH.test(linux.cgroupsPath)) {
      add(
        '/linux/cgroupsPath',
        'the systemd form "slice:prefix:name" needs --systemd-cgroup (without it, runts takes a cgroupfs path such as /runts/<id>)',
      );
    }
    problems.push(...netDeviceProblems(linux));
    const closID = (linux as { intelRdt?: { closID?: string } }).intelRdt?.closID;
    const closProblem = closID !== undefined ? closIdProblem(closID) : undefined;
    if (closProblem) add('/linux/intelRdt/closID', closProblem);
    if (linux.resources) problems.push(...resourceProblems(linux.resources, '/linux/resources'));
    for (const key of ['maskedPaths', 'readonlyPaths'] as const) {
      linux[key]?.forEach((p, i) => {
        if (!p.startsWith('/')) add(`/linux/${key}/${i}`, 'must be an absolute path');
      });
    }
  }
  return problems;
}

/**
 * linux.netDevices, as runc 1.3 validates them: a network namespace of the
 * container's (a new one, or one joined by path: create refuses the
 * runtime's own), names the kernel takes, no two devices under one name.
 */
function netDeviceProblems(linux: NonNullable<Spec['linux']>): Problem[] {
  const devices = netDevicesOf(linux);
  if (!devices) return [];
  const problems: Problem[] = [];
  if (!linux.namespaces?.some((ns) => ns.type === 'network'))
    problems.push({
      pointer: '/linux/netDevices',
      message: "needs a network namespace of the container's (linux.namespaces has none)",
    });
  const targets = new Map<string, string>();
  for (const [host, device] of Object.entries(devices)) {
    const at = netDevicePointer(host);
    const hostProblem = interfaceNameProblem(host);
    if (hostProblem) problems.push({ pointer: at, message: `the interface name ${hostProblem}` });
    const target = device.name || host;
    const nameProblem = device.name !== undefined ? interfaceNameProblem(device.name) : undefined;
    if (nameProblem) problems.push({ pointer: `${at}/name`, message: nameProblem });
    const other = targets.get(target);
    if (other !== undefined)
      problems.push({
        pointer: device.name ? `${at}/name` : at,
        message: `${JSON.stringify(target)} is already the container's name of ${netDevicePointer(other)}`,
      });
    else targets.set(target, host);
  }
  return problems;
}

/**
 * A mount's id-mapping (config.md "idmap", "ridmap"; runc 1.2's rules): on
 * a bind only; mappings on the mount, both of them, that the kernel would
 * take; without any, the container's user namespace's, so it needs one.
 */
function idmapProblems(m: Mount, at: string, containerUserns: boolean): Problem[] {
  const parsed = parseMountOptions(m.options);
  const own = Boolean(m.uidMappings?.length || m.gidMappings?.length);
  if (!parsed.idmap && !own) return [];
  const problems: Problem[] = [];
  if (!isBindMount(m.type, parsed.flags))
    problems.push({ pointer: at, message: 'id-mapped mounts are only supported for bind mounts' });
  if (own) {
    for (const key of ['uidMappings', 'gidMappings'] as const) {
      const mappings = m[key] ?? [];
      if (mappings.length) problems.push(...idMappingProblems(mappings, `${at}/${key}`));
      else problems.push({ pointer: `${at}/${key}`, message: 'an id-mapped mount needs both uidMappings and gidMappings' });
    }
  } else if (!containerUserns) {
    const word = m.options!.findIndex((o) => IDMAP_WORDS.includes(o));
    problems.push({
      pointer: `${at}/options/${word}`,
      message:
        "needs uidMappings and gidMappings on the mount, or a user namespace of the container's (linux.namespaces has none)",
    });
  }
  return problems;
}
