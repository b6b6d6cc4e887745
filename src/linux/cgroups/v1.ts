/**
 * cgroup v1 (runc's fs driver): the container has the same path in every
 * hierarchy (each controller's, the named ones like name=systemd, and the
 * unified one of a hybrid host); each controller's files live in its own.
 */
import { closeSync, existsSync, openSync, read, writeSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { RuntsError, errorMessage } from '../../errors';
import { pollUntil } from '../../poll';
import type { LinuxResources } from '../../spec/types';
import { EFD_CLOEXEC } from '../../sys/constants';
import { sys } from '../../sys/index';
import { Control, ControlWriteError } from './control';
import { type DeviceRuleSet, v1DeviceWrites } from './devices';
import { isFrozen, v1DirOf } from './frozen';
import { makeCgroupDirs, procsBelow, removeCgroupDir, removeMadeDirs } from './dirs';
import { parseProcCgroup, readProcSelf, v1CgroupDir, v1Hierarchies } from './paths';
import { THROTTLES, hugePageSizes, swappinessOf, throttleLists } from './resources';
import { setCpuset, setPids, setRdma } from './setters';
import {
  type BlkioEntry,
  type CgroupManager,
  type CgroupState,
  type MemoryEntry,
  type NewCgroup,
  type Stats,
  emptyStats,
} from './types';

type V1State = Extract<CgroupState, { version: 1 }>;

/**
 * The Control of a controller that is not mounted: reading finds nothing
 * (stats leave it out); writing or asking for a file says it is missing.
 */
class Unmounted extends Control {
  constructor(readonly controller: string) {
    super(`/nonexistent/${controller}`);
  }

  #missing(): never {
    throw new RuntsError(`the ${this.controller} cgroup controller is not mounted on this host`);
  }

  override has(): boolean {
    return this.#missing();
  }

  override write(): void {
    this.#missing();
  }
}

/** USER_HZ: cpuacct.stat counts in these ticks; runc reports nanoseconds. */
const NS_PER_TICK = 1e9 / 100;

const set = (c: Control, file: string, value: number | string | undefined): void => {
  if (value !== undefined) c.write(file, String(value));
};

function setMemory(c: Control, r: LinuxResources): void {
  const m = r.memory;
  if (!m) return;
  const memsw = 'memory.memsw.limit_in_bytes';
  const limit = m.limit || undefined;
  let swap = m.swap || undefined;
  if (limit === -1 && swap === undefined && c.has(memsw)) swap = -1; // unlimited memory: unlimited swap too
  if (swap !== undefined && !c.has(memsw))
    throw new RuntsError('swap: this kernel does not account swap (no memory.memsw files; boot with swapaccount=1)');
  const writeLimit = () => {
    try {
      set(c, 'memory.limit_in_bytes', limit);
    } catch (err) {
      if (!(err instanceof ControlWriteError) || err.code !== 'EBUSY') throw err;
      throw new RuntsError(`limit: ${limit} is below what the container already uses (${c.read('memory.usage_in_bytes')} bytes)`);
    }
  };
  // The kernel keeps limit <= memsw at each write: when swap grows past the
  // current limit, it goes first.
  if (limit !== undefined && swap !== undefined && (swap === -1 || Number(c.readIfPresent('memory.limit_in_bytes')) < swap)) {
    set(c, memsw, swap);
    writeLimit();
  } else {
    writeLimit();
    set(c, memsw, swap);
  }
  set(c, 'memory.soft_limit_in_bytes', m.reservation || undefined);
  if (m.disableOOMKiller) c.write('memory.oom_control', '1');
  set(c, 'memory.swappiness', swappinessOf(r));
  if (m.useHierarchy !== undefined) c.write('memory.use_hierarchy', m.useHierarchy ? '1' : '0');
}

function setCpu(c: Control, r: LinuxResources): void {
  const cpu = r.cpu;
  if (!cpu) return;
  if (cpu.shares) {
    c.write('cpu.shares', String(cpu.shares));
    const kept = Number(c.read('cpu.shares'));
    if (kept !== cpu.shares) throw new RuntsError(`shares: ${cpu.shares} is out of the kernel's range (it kept ${kept})`);
  }
  // A new period can be refused (EINVAL) until the quota fits it: then it goes after the quota.
  let periodAfter = false;
  try {
    set(c, 'cpu.cfs_period_us', cpu.period || undefined);
  } catch (err) {
    if (!(err instanceof ControlWriteError) || err.code !== 'EINVAL' || !cpu.quota) throw err;
    periodAfter = true;
  }
  set(c, 'cpu.cfs_quota_us', cpu.quota || undefined);
  if (periodAfter) set(c, 'cpu.cfs_period_us', cpu.period);
  set(c, 'cpu.cfs_burst_us', cpu.burst);
  set(c, 'cpu.rt_period_us', cpu.realtimePeriod || undefined);
  set(c, 'cpu.rt_runtime_us', cpu.realtimeRuntime || undefined);
  set(c, 'cpu.idle', cpu.idle);
}

function setBlkio(c: Control, r: LinuxResources): void {
  const b = r.blockIO;
  if (!b) return;
  // Without CFQ (gone since Linux 5.0) the weights are BFQ's.
  const weighted = (file: string) => [`blkio.${file}`, `blkio.bfq.${file}`].find((f) => c.has(f)) ?? `blkio.${file}`;
  if (b.weight) c.write(weighted('weight'), String(b.weight));
  set(c, 'blkio.leaf_weight', b.leafWeight || undefined);
  for (const d of b.weightDevice ?? []) {
    if (d.weight) c.write(weighted('weight_device'), `${d.major}:${d.minor} ${d.weight}`);
    if (d.leafWeight) c.write('blkio.leaf_weight_device', `${d.major}:${d.minor} ${d.leafWeight}`);
  }
  for (const t of throttleLists(r)) c.write(THROTTLES[t.key].v1, `${t.major}:${t.minor} ${t.rate}`);
}

function setHugetlb(c: Control, r: LinuxResources): void {
  for (const h of r.hugepageLimits ?? []) c.write(`hugetlb.${h.pageSize}.limit_in_bytes`, String(h.limit));
}

function setNetCls(c: Control, r: LinuxResources): void {
  set(c, 'net_cls.classid', r.network?.classID);
}

function setNetPrio(c: Control, r: LinuxResources): void {
  for (const p of r.network?.priorities ?? []) c.write('net_prio.ifpriomap', `${p.name} ${p.priority}`);
}

/** Each controller, the linux.resources member its errors name, and how it applies. */
const SETTERS: Record<string, { field: string; set: (c: Control, r: LinuxResources) => void }> = {
  memory: { field: 'memory', set: setMemory },
  cpu: { field: 'cpu', set: setCpu },
  cpuset: { field: 'cpu', set: setCpuset },
  pids: { field: 'pids', set: setPids },
  blkio: { field: 'blockIO', set: setBlkio },
  hugetlb: { field: 'hugepageLimits', set: setHugetlb },
  net_cls: { field: 'network', set: setNetCls },
  net_prio: { field: 'network', set: setNetPrio },
  rdma: { field: 'rdma', set: setRdma },
};

const memoryEntry = (c: Control, prefix: string): MemoryEntry => ({
  limit: c.readNumber(`${prefix}.limit_in_bytes`) ?? 0,
  usage: Number(c.readNumber(`${prefix}.usage_in_bytes`) ?? 0),
  max: Number(c.readNumber(`${prefix}.max_usage_in_bytes`) ?? 0),
  failcnt: Number(c.readNumber(`${prefix}.failcnt`) ?? 0),
});

/** blkio.*_recursive: "major:minor Op value" lines (the "Total" line is left out, as runc does). */
function blkioEntries(text: string | undefined): BlkioEntry[] {
  return (text ?? '').split('\n').flatMap((line) => {
    const m = /^(\d+):(\d+) (\w+) (\d+)$/.exec(line.trim());
    return m ? [{ major: Number(m[1]), minor: Number(m[2]), op: m[3]!, value: Number(m[4]) }] : [];
  });
}

export class V1Cgroup implements CgroupManager {
  constructor(readonly state: V1State) {}

  /**
   * With systemdUnit, the cgroup is that unit's, started by systemd.ts
   * with the init in it, in the hierarchies systemd manages: the others
   * get the same path, made here (as runc does).
   */
  static create(cgroupsPath: string, resources: LinuxResources, devices: DeviceRuleSet, systemdUnit?: string): NewCgroup {
    const procCgroup = readProcSelf('cgroup');
    const hierarchies = v1Hierarchies(readProcSelf('mountinfo'), procCgroup);
    if (!hierarchies.some((h) => h.controllers.split(',').includes('devices'))) {
      throw new RuntsError(
        'cgroup: the devices controller is not mounted: runts does not run containers without device access control',
      );
    }
    const own = parseProcCgroup(procCgroup);
    const paths = Object.fromEntries(hierarchies.map((h) => [h.controllers, v1CgroupDir(h, cgroupsPath, own)]));
    const cgroup = new V1Cgroup({ version: 1, paths, ...(systemdUnit ? { systemdUnit } : {}) });
    const made: string[] = [];
    try {
      for (const h of hierarchies) made.push(...makeCgroupDirs(h.mountPoint, paths[h.controllers]!));
      const busy = systemdUnit ? [] : cgroup.pids();
      if (busy.length) throw new RuntsError(`linux.cgroupsPath: ${cgroupsPath} already holds processes (${busy.join(', ')})`);
      const cpuset = hierarchies.find((h) => h.controllers.split(',').includes('cpuset'));
      if (cpuset) inheritCpuset(cpuset.mountPoint, paths[cpuset.controllers]!);
      cgroup.apply(resources);
      cgroup.#applyDevices(devices);
    } catch (err) {
      removeMadeDirs(made);
      throw err;
    }
    const mounted = hierarchies.filter((h) => h.controllers !== '');
    return {
      cgroup,
      view: {
        version: 1,
        hierarchies: mounted.map((h) => ({
          name: basename(h.mountPoint),
          controllers: h.controllers,
          path: paths[h.controllers]!,
        })),
      },
    };
  }

  /** The directory of the hierarchy holding controller, if it is mounted. */
  #dirOf(controller: string): string | undefined {
    return v1DirOf(this.state.paths, controller);
  }

  #control(controller: string): Control {
    const dir = this.#dirOf(controller);
    return dir ? new Control(dir) : new Unmounted(controller);
  }

  join(pid: number): void {
    for (const dir of Object.values(this.state.paths)) new Control(dir).write('cgroup.procs', String(pid));
  }

  joinMainThread(pid = process.pid): void {
    // The main thread's tid is the process's pid. A hybrid host's cgroup2
    // hierarchy (key "") has no tasks file and no controllers: the whole
    // process goes there.
    for (const [controllers, dir] of Object.entries(this.state.paths)) {
      new Control(dir).write(controllers === '' ? 'cgroup.procs' : 'tasks', String(pid));
    }
  }

  apply(resources: LinuxResources): void {
    if (Object.keys(resources.unified ?? {}).length)
      throw new RuntsError('linux.resources.unified: needs cgroup v2, and this host is cgroup v1');
    for (const [controller, { field, set: apply }] of Object.entries(SETTERS)) {
      try {
        apply(this.#control(controller), resources);
      } catch (err) {
        throw new RuntsError(`linux.resources.${field}: ${errorMessage(err)}`);
      }
    }
  }

  #applyDevices(devices: DeviceRuleSet): void {
    const c = this.#control('devices');
    try {
      for (const { file, value } of v1DeviceWrites(devices)) c.write(file, value);
    } catch (err) {
      throw new RuntsError(`linux.resources.devices: ${errorMessage(err)}`);
    }
  }

  pids(): number[] {
    return procsBelow(this.#dirOf('devices')!);
  }

  /** A hybrid host's unified hierarchy holds the container too (join), and has cgroup.kill. */
  killAll(): boolean {
    const unified = this.state.paths[''];
    if (unified === undefined || !new Control(unified).has('cgroup.kill')) return false;
    new Control(unified).write('cgroup.kill', '1');
    return true;
  }

  canFreeze(): boolean {
    return this.#dirOf('freezer') !== undefined;
  }

  #setFreezer(state: 'FROZEN' | 'THAWED'): void {
    const c = this.#control('freezer');
    // The state reads FREEZING while tasks are on their way; writing it
    // again helps the ones that were forking at the first write.
    const reached = pollUntil(() => {
      c.write('freezer.state', state);
      return c.read('freezer.state') === state;
    }, 5_000);
    if (reached) return;
    if (state === 'FROZEN') c.write('freezer.state', 'THAWED');
    throw new RuntsError(`cgroup: the freezer did not reach ${state} in 5 s`);
  }

  freeze(): void {
    this.#setFreezer('FROZEN');
  }

  thaw(): void {
    this.#setFreezer('THAWED');
  }

  isFrozen(): boolean {
    return isFrozen(this.state);
  }

  stats(): Stats {
    const s = emptyStats();
    const cpuacct = this.#control('cpuacct');
    const ticks = cpuacct.readKeyed('cpuacct.stat');
    s.cpu.usage = {
      total: Number(cpuacct.readNumber('cpuacct.usage') ?? 0),
      percpu: (cpuacct.readIfPresent('cpuacct.usage_percpu') ?? '').split(/\s+/).filter(Boolean).map(Number),
      kernel: (ticks.system ?? 0) * NS_PER_TICK,
      user: (ticks.user ?? 0) * NS_PER_TICK,
    };
    const cpu = this.#control('cpu').readKeyed('cpu.stat');
    s.cpu.throttling = { periods: cpu.nr_periods, throttledPeriods: cpu.nr_throttled, throttledTime: cpu.throttled_time };
    const memory = this.#control('memory');
    const raw = memory.readKeyed('memory.stat');
    s.memory = {
      cache: raw.cache,
      usage: memoryEntry(memory, 'memory'),
      swap: memoryEntry(memory, 'memory.memsw'),
      kernel: memoryEntry(memory, 'memory.kmem'),
      kernelTCP: memoryEntry(memory, 'memory.kmem.tcp'),
      raw,
    };
    const pids = this.#control('pids');
    const max = pids.readNumber('pids.max');
    s.pids = { current: Number(pids.readNumber('pids.current') ?? 0), limit: typeof max === 'number' ? max : 0 };
    const blkio = this.#control('blkio');
    s.blkio = {
      ioServiceBytesRecursive: blkioEntries(blkio.readIfPresent('blkio.throttle.io_service_bytes_recursive')),
      ioServicedRecursive: blkioEntries(blkio.readIfPresent('blkio.throttle.io_serviced_recursive')),
    };
    const hugetlb = this.#control('hugetlb');
    for (const size of this.#dirOf('hugetlb') ? hugePageSizes() : []) {
      s.hugetlb[size] = {
        usage: Number(hugetlb.readNumber(`hugetlb.${size}.usage_in_bytes`) ?? 0),
        max: Number(hugetlb.readNumber(`hugetlb.${size}.max_usage_in_bytes`) ?? 0),
        failcnt: Number(hugetlb.readNumber(`hugetlb.${size}.failcnt`) ?? 0),
      };
    }
    return s;
  }

  /**
   * memory.oom_control notifications through an eventfd registered in
   * cgroup.event_control. The kernel also signals it when the cgroup is
   * removed (after the rmdir, as the cgroup goes offline), which ends the
   * watch; so does stop, whose signal is counted apart (STOP_SIGNAL). A kill
   * just before the removal (a foreground run deletes its container as soon
   * as the process dies) can be read after the cgroup is gone, alone or
   * with the removal's signal: the count tells the second case, a short
   * wait for the removal's own signal the first.
   */
  async watchOom(onOom: () => void, stop: AbortSignal): Promise<void> {
    const dir = this.#dirOf('memory');
    if (!dir) throw new RuntsError('OOM notifications need the memory cgroup controller, which is not mounted on this host');
    const efd = sys().eventfd(0, EFD_CLOEXEC);
    const oomControl = openSync(join(dir, 'memory.oom_control'), 'r');
    const wake = () => writeSync(efd, new BigUint64Array([STOP_SIGNAL]));
    stop.addEventListener('abort', wake);
    const counter = new BigUint64Array(1);
    /** The kernel's signals in one read of the counter, without stop's. */
    const kernelSignals = () =>
      new Promise<bigint>((resolve, reject) =>
        read(efd, counter, 0, 8, null, (err) => (err ? reject(err) : resolve(counter[0]! % STOP_SIGNAL))),
      );
    /** Whether one more kernel signal comes soon: then the one read before it was a kill's. */
    const removalFollows = async (): Promise<boolean> => {
      // Only the kernel's signal may end this wait, not stop's (events stops
      // once it sees the cgroup gone): the wait is short anyway.
      stop.removeEventListener('abort', wake);
      const deadline = Date.now() + REMOVAL_SIGNAL_WAIT_MS;
      for (;;) {
        let timer: NodeJS.Timeout | undefined;
        const next = kernelSignals();
        const got = await Promise.race([
          next,
          new Promise<null>((resolve) => (timer = setTimeout(() => resolve(null), Math.max(0, deadline - Date.now())))),
        ]);
        clearTimeout(timer);
        if (got === null) {
          // Released before the fd is closed.
          wake();
          return (await next) > 0n;
        }
        if (got > 0n) return true;
      }
    };
    try {
      new Control(dir).write('cgroup.event_control', `${efd} ${oomControl}`);
      for (;;) {
        const kernel = await kernelSignals();
        // Stop's signal alone.
        if (kernel === 0n) return;
        if (existsSync(join(dir, 'cgroup.event_control'))) {
          onOom();
          if (stop.aborted) return;
          continue;
        }
        if (kernel > 1n || (await removalFollows())) onOom();
        return;
      }
    } finally {
      stop.removeEventListener('abort', wake);
      closeSync(oomControl);
      closeSync(efd);
    }
  }

  exists(): boolean {
    return Object.values(this.state.paths).some((dir) => existsSync(dir));
  }

  removeDirs(): void {
    for (const dir of new Set(Object.values(this.state.paths))) removeCgroupDir(dir);
  }
}

/** How long an OOM watch waits for the removal's signal once the cgroup is gone. */
const REMOVAL_SIGNAL_WAIT_MS = 500;
/** What stop adds to an OOM watch's eventfd: above any count of the kernel's signals. */
const STOP_SIGNAL = 1n << 32n;

/**
 * A new cpuset cgroup starts with no CPU and no memory node, and takes no
 * task until it has some: each level below the mount gets its parent's.
 */
function inheritCpuset(mountPoint: string, leaf: string): void {
  const levels: string[] = [];
  for (let dir = leaf; dir !== mountPoint && dir.startsWith(mountPoint); dir = dirname(dir)) levels.unshift(dir);
  for (const dir of levels) {
    const c = new Control(dir);
    const parent = new Control(dirname(dir));
    for (const file of ['cpuset.cpus', 'cpuset.mems']) if (!c.read(file)) c.write(file, parent.read(file));
  }
}
