/**
 * The one step that turns a validated config.json into what the init does
 * (runc's specconv): defaults applied, paths made absolute, option words
 * parsed into flags, capability and rlimit names into numbers. Later code
 * reads the plan, never the raw spec: an exec's plan too (planExec), from
 * what create kept of the config (ExecBase).
 */
import { dirname, isAbsolute, join } from 'node:path';
import { RuntsError } from '../errors';
import { CAPABILITIES } from '../linux/capabilities';
import type { CgroupMountView } from '../linux/cgroups/types';
import type { ProcessCredentials } from '../linux/credentials';
import type { PlannedDevice } from '../linux/devices';
import type { ConsoleSize } from '../linux/console';
import type { IdmapPlan } from '../linux/idmapped-mounts';
import { type ParsedMountOptions, isBindMount, parseMountOptions } from '../linux/mount-options';
import { type LsmPlan, planLsm, withMountLabel } from '../linux/lsm';
import { namespaceSetup } from '../linux/namespaces';
import {
  type CpuAffinityPlan,
  type MemoryPolicyConfig,
  type MemoryPolicyPlan,
  type ProcessAttributeConfig,
  type ThreadAttributes,
  planCpuAffinity,
  planIoPriority,
  planMemoryPolicy,
  planScheduler,
} from '../linux/process-attributes';
import { rlimitResource } from '../linux/rlimits';
import type { RootfsPlan } from '../linux/rootfs';
import { compileSeccomp } from '../linux/seccomp';
import { MS_BIND, MS_PRIVATE, MS_REC, MS_SHARED, MS_SLAVE, MS_UNBINDABLE } from '../sys/constants';
import type { SeccompFilter } from '../sys/types';
import { PERSONALITY_DOMAINS } from './checks';
import type { LoadedConfig } from './load';
import { NOTIFY_SOCKET_IN_CONTAINER } from './notify-socket';
import type { Hook, Linux, Mount, Process, Spec } from './types';

/** config.json's process: what runs, where, and with what credentials and limits. */
export interface PlannedProcess extends ProcessCredentials {
  args: [program: string, ...rest: string[]];
  env: string[];
  cwd: string;
  terminal: boolean;
  umask?: number;
}

/** process.terminal: the pty the finaliser makes (init/finalize.ts). */
export interface ConsolePlan {
  /**
   * Where the pty master goes: the --console-socket path (connected while
   * the host is in sight), or an fd the process already holds (the init of
   * a foreground `runts run`). Neither: the caller keeps it (a foreground
   * exec relays it).
   */
  socketPath?: string;
  fd?: number;
  size?: ConsoleSize;
  /** The slave bound on the container's /dev/console too: the init's terminal only, as with runc. */
  devConsole: boolean;
}

/**
 * One process's last steps before execve, the init's or an exec's: what the
 * finaliser (init/finalize.ts) applies. Where the two differ, a field here
 * says how.
 */
export interface ProcessPlan {
  process: PlannedProcess;
  lsm: LsmPlan;
  /** Loaded last before execve (after the credentials when noNewPrivileges). */
  seccomp?: SeccompFilter;
  /**
   * The fd of a filter with SCMP_ACT_NOTIFY rules: sent to the agent
   * listening at listenerPath, with the metadata (the init); or closed
   * (exec: runts has no agent to tell). Absent: such a filter is refused.
   */
  seccompNotify?: { listenerPath: string; metadata: string } | 'close';
  console?: ConsolePlan;
  /** Count of fds after stdio that the process keeps (LISTEN_FDS + --preserve-fds). */
  preserveFds: number;
  /** process.scheduler, process.ioPriority, linux.memoryPolicy: set on the finaliser's thread. */
  attributes?: ThreadAttributes;
  /** process.execCPUAffinity: an exec's only (config.md: not the init's). */
  cpuAffinity?: CpuAffinityPlan;
  /**
   * Which procfs the process's own files (oom_score_adj, the LSM exec
   * label) are written through, at /proc/self: the container's (the init,
   * its PID 1, once inside, as runc does; procfs.ts checks it is procfs),
   * or the host's (exec: runts is outside the container's pid namespace,
   * where /proc/self does not exist; written before the move).
   */
  procSelf: 'container' | 'host';
  /**
   * How the program starts: by this very process's execve (the init, after
   * `runts start`: the terminal becomes its own); or as a child it spawns
   * (exec: the helper makes the terminal the child's).
   */
  start: 'execve' | 'spawn';
}

/** What the init does: the rootfs steps' part (RootfsPlan), its process's last steps (ProcessPlan), and the rest. */
export interface InitPlan extends ProcessPlan, RootfsPlan {
  id: string;
  bundle: string;
  /** The session keyring the init joins (keyring.ts); none with --no-new-keyring. */
  sessionKeyring?: string;
  hostname?: string;
  domainname?: string;
  hooks: { createContainer: Hook[]; startContainer: Hook[] };
  /** personality(2) value for the process (linux.personality), if any. */
  personality?: number;
  /** Offsets written for the new time namespace, /proc/self/timens_offsets lines. */
  timeOffsets?: string[];
  /** Host path of exec.fifo: the init waits on it for `start`. */
  fifoPath: string;
  /**
   * With a user namespace: the fd on which create sends exec.fifo, opened
   * (the init, root of its user namespace only, cannot reach the state dir).
   */
  fifoSocket?: number;
  /** The init's fd of the socket create sends the detached id-mapped mounts over (idmapped-mounts.ts). */
  idmappedMounts?: number;
}

/**
 * What every exec in the container starts from: compiled once by create and
 * kept in the container's record (planExec reads it, never config.json).
 */
export interface ExecBase {
  /**
   * The container's process as config.json gives it: without --process,
   * exec lays its flags over it (runc's getProcess).
   */
  process: Process;
  /**
   * The namespaces an exec joins, those of the init (/proc/<pid>/ns/...):
   * all of the config's but user and time, which node cannot join (setns
   * needs a single thread): the helper joins those, before exec's stage.
   */
  namespaces: string[];
  /** The container has a user namespace: exec goes through the stage. */
  userNamespace?: true;
  /** The container has a time namespace (new or joined): exec goes through the stage. */
  timeNamespace?: true;
  /** linux.seccomp, compiled: an exec's process gets the container's filter. */
  seccomp?: SeccompFilter;
  /** linux.memoryPolicy: an exec's process gets the container's, as with runc. */
  memoryPolicy?: MemoryPolicyPlan;
}

/** An exec's process plan, and the namespaces it joins. */
export interface ExecPlan extends ProcessPlan {
  namespaces: string[];
}

const PROPAGATION: Record<string, number> = {
  private: MS_PRIVATE | MS_REC,
  shared: MS_SHARED | MS_REC,
  slave: MS_SLAVE | MS_REC,
  unbindable: MS_UNBINDABLE | MS_REC,
};

/** Names to numbers; a name this table does not know is left out (checks.ts warns of it). */
const capNumbers = (names: string[] | undefined): number[] =>
  (names ?? []).map((n) => CAPABILITIES[n]).filter((n) => n !== undefined);

export interface PlanOptions {
  id: string;
  fifoPath: string;
  noPivot: boolean;
  preserveFds: number;
  cgroup: CgroupMountView;
  sessionKeyring?: string;
  /** Socket-activated fds (LISTEN_FDS), the first of the preserved ones: the process is told of them. */
  listenFds?: number;
  /** The init's fd that brings exec.fifo (InitFds.fifo), when it has one. */
  fifoSocket?: number;
  /** process.terminal: where the pty master goes (create has checked that there is a place). */
  console?: { socketPath: string } | { fd: number };
  /** The init's fd of the socket its id-mapped mounts come over, if create made one. */
  idmappedMounts?: number;
  /** With $NOTIFY_SOCKET: the host directory of the runtime's notify socket (container/notify-socket.ts). */
  notifyDir?: string;
}

/** process -> what the init (or exec) applies: names to numbers, defaults filled. */
export function planProcess(proc: Process): PlannedProcess {
  const [program, ...rest] = proc.args ?? [];
  if (program === undefined) throw new RuntsError('process.args: must name the program to run');
  const caps = proc.capabilities ?? {};
  return {
    args: [program, ...rest],
    env: proc.env ?? [],
    cwd: proc.cwd,
    terminal: proc.terminal ?? false,
    uid: proc.user?.uid ?? 0,
    gid: proc.user?.gid ?? 0,
    additionalGids: proc.user?.additionalGids ?? [],
    umask: proc.user?.umask,
    capabilities: {
      bounding: capNumbers(caps.bounding),
      effective: capNumbers(caps.effective),
      permitted: capNumbers(caps.permitted),
      inheritable: capNumbers(caps.inheritable),
      ambient: capNumbers(caps.ambient),
    },
    rlimits: (proc.rlimits ?? []).map((r) => ({ resource: rlimitResource(r.type), soft: r.soft, hard: r.hard })),
    noNewPrivileges: proc.noNewPrivileges ?? false,
    oomScoreAdj: proc.oomScoreAdj,
  };
}

/** What the finaliser sets on its thread: the process's scheduling and I/O priority, the container's memory policy. */
function threadAttributes(proc: Process, memoryPolicy: MemoryPolicyPlan | undefined): Pick<ProcessPlan, 'attributes'> {
  const extra = proc as ProcessAttributeConfig;
  const attributes: ThreadAttributes = {
    ...(memoryPolicy ? { memoryPolicy } : {}),
    ...(extra.ioPriority ? { ioPriority: planIoPriority(extra.ioPriority) } : {}),
    ...(extra.scheduler ? { scheduler: planScheduler(extra.scheduler) } : {}),
  };
  return Object.keys(attributes).length ? { attributes } : {};
}

/** linux.memoryPolicy (a field of newer schemas: read untyped). */
function memoryPolicyOf(linux: object): MemoryPolicyPlan | undefined {
  const policy = (linux as { memoryPolicy?: MemoryPolicyConfig }).memoryPolicy;
  return policy ? planMemoryPolicy(policy) : undefined;
}

/** linux.personality and linux.timeOffsets (fields of newer schemas: read untyped). */
function planExecutionDomain(linux: object): Pick<InitPlan, 'personality' | 'timeOffsets'> {
  const extra = linux as {
    personality?: { domain: string };
    timeOffsets?: Record<string, { secs?: number; nanosecs?: number }>;
  };
  const plan: Pick<InitPlan, 'personality' | 'timeOffsets'> = {};
  if (extra.personality) plan.personality = PERSONALITY_DOMAINS[extra.personality.domain];
  if (extra.timeOffsets) {
    plan.timeOffsets = Object.entries(extra.timeOffsets).map(([clock, o]) => `${clock} ${o.secs ?? 0} ${o.nanosecs ?? 0}`);
  }
  return plan;
}

export function makePlan(loaded: LoadedConfig, opts: PlanOptions): InitPlan {
  const { spec, bundle, rootfs } = loaded;
  const proc = spec.process!;
  const linux = spec.linux ?? {};
  const lsm = planLsm(proc.apparmorProfile, proc.selinuxLabel, linux.mountLabel);
  const seccomp = linux.seccomp;
  const planned = planProcess(proc);
  // Socket-activated fds come first, then --preserve-fds, as with runc.
  if (opts.listenFds) planned.env = [...planned.env, `LISTEN_FDS=${opts.listenFds}`, 'LISTEN_PID=1'];
  // runc's: the directory read-only (the socket is written to all the same), the variable added to the rest.
  const notifyMounts: Mount[] = opts.notifyDir
    ? [
        {
          destination: dirname(NOTIFY_SOCKET_IN_CONTAINER),
          source: opts.notifyDir,
          type: 'bind',
          options: ['bind', 'nosuid', 'noexec', 'nodev', 'ro'],
        },
      ]
    : [];
  if (opts.notifyDir) planned.env = [...planned.env, `NOTIFY_SOCKET=${NOTIFY_SOCKET_IN_CONTAINER}`];
  const namespaces = linux.namespaces ?? [];
  const has = (type: string) => namespaces.some((ns) => ns.type === type);
  const userNamespace = has('user');
  // runc's rule: sysfs belongs to the network namespace's owner; in a user
  // namespace without a network namespace of its own, /sys is bound instead.
  const sysfsBound = userNamespace && !namespaces.some((ns) => ns.type === 'network' && !ns.path);
  return {
    id: opts.id,
    bundle,
    rootfs,
    rootReadonly: spec.root?.readonly ?? false,
    ...(linux.rootfsPropagation ? { rootPropagation: PROPAGATION[linux.rootfsPropagation] } : {}),
    noPivot: opts.noPivot,
    mountNamespace: has('mount'),
    userNamespace,
    cgroupNamespace: has('cgroup'),
    ...(opts.sessionKeyring ? { sessionKeyring: opts.sessionKeyring } : {}),
    // Those the init itself joins or makes (namespaceSetup: the rest are set up as it is spawned).
    namespaces: namespaceSetup(namespaces).init.map((ns) => ({ type: ns.type, ...(ns.path ? { path: ns.path } : {}) })),
    mounts: [...(spec.mounts ?? []), ...notifyMounts].map((m) => {
      const parsed = parseMountOptions(m.options);
      if (sysfsBound && m.type === 'sysfs') {
        parsed.flags |= MS_BIND | MS_REC;
        m = { ...m, type: 'bind', source: '/sys' };
      }
      const bind = isBindMount(m.type, parsed.flags);
      const type = m.type ?? (bind ? 'bind' : 'none');
      const source = m.source ?? type;
      const idmap = planIdmap(m, parsed, linux);
      return {
        destination: m.destination,
        source: bind && !isAbsolute(source) ? join(bundle, source) : source,
        type,
        bind,
        flags: parsed.flags,
        propagation: parsed.propagation,
        data: bind ? parsed.data : withMountLabel(parsed.data, lsm.mountLabel),
        ...(parsed.recursive ? { recursive: parsed.recursive } : {}),
        ...(parsed.copyUp && type === 'tmpfs' ? { copyUp: true as const } : {}),
        ...(idmap ? { idmap } : {}),
      };
    }),
    devices: (linux.devices ?? []).map((d) => ({
      path: d.path,
      type: d.type as PlannedDevice['type'],
      major: d.major ?? 0,
      minor: d.minor ?? 0,
      fileMode: d.fileMode ?? 0o666,
      uid: d.uid ?? 0,
      gid: d.gid ?? 0,
    })),
    maskedPaths: linux.maskedPaths ?? [],
    readonlyPaths: linux.readonlyPaths ?? [],
    sysctl: Object.fromEntries(Object.entries(linux.sysctl ?? {}).filter((e): e is [string, string] => e[1] !== undefined)),
    hostname: spec.hostname,
    domainname: spec.domainname,
    process: planned,
    ...threadAttributes(proc, memoryPolicyOf(linux)),
    hooks: {
      createContainer: spec.hooks?.createContainer ?? [],
      startContainer: spec.hooks?.startContainer ?? [],
    },
    ...(seccomp ? { seccomp: compileSeccomp(seccomp) } : {}),
    ...(seccomp?.listenerPath
      ? { seccompNotify: { listenerPath: seccomp.listenerPath, metadata: seccomp.listenerMetadata ?? '' } }
      : {}),
    lsm,
    ...(proc.terminal && opts.console ? { console: { ...opts.console, ...consoleSize(proc), devConsole: true } } : {}),
    procSelf: 'container',
    start: 'execve',
    ...planExecutionDomain(linux),
    cgroup: opts.cgroup,
    fifoPath: opts.fifoPath,
    ...(opts.fifoSocket !== undefined ? { fifoSocket: opts.fifoSocket } : {}),
    preserveFds: opts.preserveFds,
    ...(opts.idmappedMounts !== undefined ? { idmappedMounts: opts.idmappedMounts } : {}),
  };
}

/**
 * A mount's id-mapping (config.md): idmap or ridmap, or mappings on the
 * mount, which alone mean idmap (as with runc). Its mapping is the mount's
 * own, else the container's user namespace's (checks.ts refuses neither).
 */
function planIdmap(m: Mount, parsed: ParsedMountOptions, linux: Linux): IdmapPlan | undefined {
  const own = Boolean(m.uidMappings?.length || m.gidMappings?.length);
  if (!parsed.idmap && !own) return undefined;
  const recursive = parsed.idmap?.recursive ?? false;
  if (own) return { recursive, userns: { uidMappings: m.uidMappings ?? [], gidMappings: m.gidMappings ?? [] } };
  const path = linux.namespaces?.find((ns) => ns.type === 'user')?.path;
  if (path) return { recursive, userns: { path } };
  return { recursive, userns: { uidMappings: linux.uidMappings ?? [], gidMappings: linux.gidMappings ?? [] } };
}

const consoleSize = (proc: Process): Pick<ConsolePlan, 'size'> => (proc.consoleSize ? { size: proc.consoleSize } : {});

/** What exec needs of the container, from its config and its plan (the filter compiled once). */
export function makeExecBase(spec: Spec, plan: InitPlan): ExecBase {
  return {
    process: spec.process!,
    namespaces: (spec.linux?.namespaces ?? [])
      .map((ns) => ns.type as string)
      .filter((type) => type !== 'user' && type !== 'time'),
    ...(plan.userNamespace ? { userNamespace: true as const } : {}),
    ...((spec.linux?.namespaces ?? []).some((ns) => (ns.type as string) === 'time') ? { timeNamespace: true as const } : {}),
    ...(plan.seccomp ? { seccomp: plan.seccomp } : {}),
    ...(plan.attributes?.memoryPolicy ? { memoryPolicy: plan.attributes.memoryPolicy } : {}),
  };
}

export interface ExecPlanOptions {
  preserveFds: number;
  /** --console-socket (absolute): where the pty master goes; without it, exec keeps the master. */
  consoleSocket?: string;
}

/** An exec's process (already validated) in the container whose ExecBase this is. */
export function planExec(base: ExecBase, proc: Process, opts: ExecPlanOptions): ExecPlan {
  const affinity = (proc as ProcessAttributeConfig).execCPUAffinity;
  const cpuAffinity = affinity ? planCpuAffinity(affinity) : undefined;
  return {
    process: planProcess(proc),
    ...threadAttributes(proc, base.memoryPolicy),
    ...(cpuAffinity ? { cpuAffinity } : {}),
    lsm: planLsm(proc.apparmorProfile, proc.selinuxLabel),
    ...(base.seccomp ? { seccomp: base.seccomp, seccompNotify: 'close' as const } : {}),
    ...(proc.terminal
      ? {
          console: { ...(opts.consoleSocket ? { socketPath: opts.consoleSocket } : {}), ...consoleSize(proc), devConsole: false },
        }
      : {}),
    preserveFds: opts.preserveFds,
    procSelf: 'host',
    start: 'spawn',
    namespaces: base.namespaces,
  };
}
