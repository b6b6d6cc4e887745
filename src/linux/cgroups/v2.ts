/**
 * cgroup v2 (runc's fs2): one directory in the unified hierarchy. Its
 * controllers must be enabled in each ancestor's cgroup.subtree_control;
 * device rules are an eBPF program attached to it (device-filter.ts).
 */
import { type FSWatcher, closeSync, existsSync, openSync, watch } from 'node:fs';
import { dirname } from 'node:path';
import { RuntsError, errorMessage } from '../../errors';
import { pollUntil } from '../../poll';
import type { LinuxResources } from '../../spec/types';
import { BPF_CGROUP_DEVICE, BPF_F_ALLOW_MULTI, BPF_PROG_TYPE_CGROUP_DEVICE, O_DIRECTORY, O_RDONLY } from '../../sys/constants';
import { sys } from '../../sys/index';
import { Control, UNLIMITED } from './control';
import { isFrozen } from './frozen';
import { blkioToIoWeight, sharesToWeight, swapToV2 } from './convert';
import { DEVICE_FILTER_LICENSE, deviceFilterProgram } from './device-filter';
import type { DeviceRuleSet } from './devices';
import { makeCgroupDirs, procsBelow, removeCgroupDir, removeMadeDirs } from './dirs';
import { CGROUP_ROOT, readProcSelf, v2CgroupDir } from './paths';
import { THROTTLES, hugePageSizes, swappinessOf, throttleLists } from './resources';
import { setCpuset, setPids, setRdma } from './setters';
import {
  type BlkioEntry,
  type CgroupManager,
  type CgroupState,
  type NewCgroup,
  type Stats,
  emptyEntry,
  emptyStats,
} from './types';

type V2State = Extract<CgroupState, { version: 2 }>;

const limitText = (n: number): string => (n === -1 ? 'max' : String(n));

/**
 * v2 has no swappiness, OOM-killer switch or non-hierarchical mode: asking
 * for one is refused, not dropped as runc drops it (swappiness -1 and
 * useHierarchy true ask for nothing). Kernel memory limits: checks.ts warns.
 */
function setMemory(c: Control, r: LinuxResources): void {
  const m = r.memory;
  if (!m) return;
  if (swappinessOf(r) !== undefined) throw new RuntsError('swappiness: cgroup v2 has no memory.swappiness');
  if (m.disableOOMKiller) throw new RuntsError('disableOOMKiller: cgroup v2 cannot turn the OOM killer off');
  if (m.useHierarchy === false) throw new RuntsError('useHierarchy: cgroup v2 is always hierarchical');
  if (m.checkBeforeUpdate && m.limit && m.limit > 0) {
    const usage = Number(c.read('memory.current'));
    if (m.limit <= usage) throw new RuntsError(`limit: ${m.limit} is not above what the container uses now (${usage} bytes)`);
  }
  const swap = swapToV2(m.swap || undefined, m.limit || undefined);
  if (swap !== undefined) c.write('memory.swap.max', swap);
  if (m.limit) c.write('memory.max', limitText(m.limit));
  if (m.reservation) c.write('memory.low', limitText(m.reservation));
}

function setCpu(c: Control, r: LinuxResources): void {
  const cpu = r.cpu;
  if (!cpu) return;
  if (cpu.realtimePeriod || cpu.realtimeRuntime)
    throw new RuntsError('realtimePeriod, realtimeRuntime: cgroup v2 has no real-time group scheduling');
  if (cpu.shares) c.write('cpu.weight', String(sharesToWeight(cpu.shares)));
  // cpu.max is "quota period" in one file; the kernel's default period is 100 ms.
  if (cpu.quota || cpu.period) c.write('cpu.max', `${cpu.quota && cpu.quota > 0 ? cpu.quota : 'max'} ${cpu.period || 100000}`);
  if (cpu.burst !== undefined) c.write('cpu.max.burst', String(cpu.burst));
  if (cpu.idle !== undefined) c.write('cpu.idle', String(cpu.idle));
}

/** BFQ takes v1's weights as they are; without it, io.weight takes them converted. */
function setIo(c: Control, r: LinuxResources): void {
  const b = r.blockIO;
  if (!b) return;
  if (b.leafWeight || b.weightDevice?.some((d) => d.leafWeight))
    throw new RuntsError('leafWeight: cgroup v2 has no leaf weights (io.weight only)');
  const weigh = (device: string, weight: number) => {
    if (c.has('io.bfq.weight')) c.write('io.bfq.weight', `${device}${weight}`);
    else c.write('io.weight', `${device}${blkioToIoWeight(weight)}`);
  };
  if (b.weight) weigh('', b.weight);
  for (const d of b.weightDevice ?? []) if (d.weight) weigh(`${d.major}:${d.minor} `, d.weight);
  for (const t of throttleLists(r)) c.write('io.max', `${t.major}:${t.minor} ${THROTTLES[t.key].v2}=${t.rate || 'max'}`);
}

function setHugetlb(c: Control, r: LinuxResources): void {
  for (const h of r.hugepageLimits ?? []) c.write(`hugetlb.${h.pageSize}.max`, String(h.limit));
}

function refuseNetwork(_c: Control, r: LinuxResources): void {
  if (r.network?.classID !== undefined || r.network?.priorities?.length) {
    throw new RuntsError('net_cls and net_prio are cgroup v1 controllers: cgroup v2 has neither');
  }
}

/** linux.resources.unified: file names and values as they are; applied last, so they win. */
function setUnified(c: Control, r: LinuxResources): void {
  for (const [file, value] of Object.entries(r.unified ?? {})) {
    if (value === undefined) continue;
    if (!c.has(file)) throw new RuntsError(`${file}: no such file in the cgroup (is its controller enabled on this host?)`);
    c.write(file, value);
  }
}

/** In order, each with the linux.resources member its errors name. */
const SETTERS: { field: string; set: (c: Control, r: LinuxResources) => void }[] = [
  { field: 'memory', set: setMemory },
  { field: 'cpu', set: setCpu },
  { field: 'cpu', set: setCpuset },
  { field: 'pids', set: setPids },
  { field: 'blockIO', set: setIo },
  { field: 'hugepageLimits', set: setHugetlb },
  { field: 'rdma', set: setRdma },
  { field: 'network', set: refuseNetwork },
  { field: 'unified', set: setUnified },
];

/** io.stat: "major:minor rbytes=… wbytes=… rios=… wios=… …" lines. */
function ioEntries(text: string | undefined): Stats['blkio'] {
  const bytes: BlkioEntry[] = [];
  const ios: BlkioEntry[] = [];
  const MAP: Record<string, [BlkioEntry[], string]> = {
    rbytes: [bytes, 'Read'],
    wbytes: [bytes, 'Write'],
    rios: [ios, 'Read'],
    wios: [ios, 'Write'],
  };
  for (const line of (text ?? '').split('\n')) {
    const [device, ...pairs] = line.trim().split(/\s+/);
    const m = /^(\d+):(\d+)$/.exec(device ?? '');
    if (!m) continue;
    for (const pair of pairs) {
      const [key = '', value] = pair.split('=');
      const target = MAP[key];
      if (target) target[0].push({ major: Number(m[1]), minor: Number(m[2]), op: target[1], value: Number(value) });
    }
  }
  return { ioServiceBytesRecursive: bytes, ioServicedRecursive: ios };
}

/** Every controller of the root, enabled for the children of each ancestor of leaf (runc's CreateCgroupPath). */
function enableControllers(leaf: string): void {
  const available = new Control(CGROUP_ROOT).read('cgroup.controllers').split(/\s+/).filter(Boolean);
  const ancestors: string[] = [];
  for (let dir = dirname(leaf); dir.startsWith(CGROUP_ROOT); dir = dirname(dir)) ancestors.unshift(dir);
  for (const dir of ancestors) {
    const c = new Control(dir);
    try {
      c.write('cgroup.subtree_control', available.map((name) => `+${name}`).join(' '));
    } catch {
      for (const name of available) {
        try {
          c.write('cgroup.subtree_control', `+${name}`);
        } catch {
          // Not available here (a threaded subtree, a cgroup not delegated to
          // us): the resources that need it will say so when written.
        }
      }
    }
  }
}

export class V2Cgroup implements CgroupManager {
  readonly #c: Control;

  constructor(readonly state: V2State) {
    this.#c = new Control(state.path);
  }

  /**
   * With systemdUnit, the cgroup is that unit's, started by systemd.ts
   * with the init in it: only what systemd has not done is done here.
   */
  static create(cgroupsPath: string, resources: LinuxResources, devices: DeviceRuleSet, systemdUnit?: string): NewCgroup {
    const dir = v2CgroupDir(cgroupsPath, readProcSelf('cgroup'));
    const made = makeCgroupDirs(CGROUP_ROOT, dir);
    const cgroup = new V2Cgroup({ version: 2, path: dir, ...(systemdUnit ? { systemdUnit } : {}) });
    try {
      enableControllers(dir);
      const busy = systemdUnit ? [] : cgroup.pids();
      if (busy.length) throw new RuntsError(`linux.cgroupsPath: ${cgroupsPath} already holds processes (${busy.join(', ')})`);
      cgroup.apply(resources);
      cgroup.#applyDevices(devices);
    } catch (err) {
      removeMadeDirs(made);
      throw err;
    }
    return { cgroup, view: { version: 2 } };
  }

  join(pid: number): void {
    this.#c.write('cgroup.procs', String(pid));
  }

  joinMainThread(pid = process.pid): void {
    this.join(pid);
  }

  apply(resources: LinuxResources): void {
    for (const { field, set } of SETTERS) {
      try {
        set(this.#c, resources);
      } catch (err) {
        throw new RuntsError(`linux.resources.${field}: ${errorMessage(err)}`);
      }
    }
  }

  /** The program stays attached when its fd is closed, and goes with the cgroup. */
  #applyDevices(devices: DeviceRuleSet): void {
    const s = sys();
    try {
      const prog = s.bpfProgLoad(BPF_PROG_TYPE_CGROUP_DEVICE, deviceFilterProgram(devices), DEVICE_FILTER_LICENSE);
      const dirFd = openSync(this.state.path, O_RDONLY | O_DIRECTORY);
      try {
        s.bpfProgAttach(dirFd, prog, BPF_CGROUP_DEVICE, BPF_F_ALLOW_MULTI);
      } finally {
        closeSync(dirFd);
        closeSync(prog);
      }
    } catch (err) {
      throw new RuntsError(`linux.resources.devices: ${errorMessage(err)}`);
    }
  }

  pids(): number[] {
    return procsBelow(this.state.path);
  }

  killAll(): boolean {
    if (!this.#c.has('cgroup.kill')) return false;
    this.#c.write('cgroup.kill', '1');
    return true;
  }

  canFreeze(): boolean {
    return this.#c.has('cgroup.freeze');
  }

  #setFrozen(frozen: 0 | 1): void {
    this.#c.write('cgroup.freeze', String(frozen));
    if (!pollUntil(() => this.#c.readKeyed('cgroup.events').frozen === frozen, 5_000)) {
      if (frozen) this.#c.write('cgroup.freeze', '0');
      throw new RuntsError(`cgroup: ${this.state.path} did not ${frozen ? 'freeze' : 'thaw'} in 5 s`);
    }
  }

  freeze(): void {
    this.#setFrozen(1);
  }

  thaw(): void {
    this.#setFrozen(0);
  }

  isFrozen(): boolean {
    return isFrozen(this.state);
  }

  stats(): Stats {
    const c = this.#c;
    const s = emptyStats();
    const cpu = c.readKeyed('cpu.stat');
    const us = (n: number | undefined) => (n === undefined ? undefined : n * 1000);
    s.cpu.usage = { total: us(cpu.usage_usec), kernel: us(cpu.system_usec) ?? 0, user: us(cpu.user_usec) ?? 0 };
    s.cpu.throttling = { periods: cpu.nr_periods, throttledPeriods: cpu.nr_throttled, throttledTime: us(cpu.throttled_usec) };
    const raw = c.readKeyed('memory.stat');
    const usage = Number(c.readNumber('memory.current') ?? 0);
    const limit = c.readNumber('memory.max') ?? UNLIMITED;
    const swapUsage = Number(c.readNumber('memory.swap.current') ?? 0);
    const swapLimit = c.readNumber('memory.swap.max') ?? UNLIMITED;
    // v1 reported swap as memory+swap; runc keeps that meaning on v2.
    const both = typeof limit === 'number' && typeof swapLimit === 'number' ? limit + swapLimit : UNLIMITED;
    s.memory = {
      cache: raw.file,
      usage: { limit, usage, max: Number(c.readNumber('memory.peak') ?? 0) || undefined, failcnt: 0 },
      swap: { limit: both, usage: usage + swapUsage, failcnt: 0 },
      kernel: emptyEntry(),
      kernelTCP: emptyEntry(),
      raw,
    };
    const max = c.readNumber('pids.max');
    s.pids = { current: Number(c.readNumber('pids.current') ?? 0), limit: typeof max === 'number' ? max : 0 };
    s.blkio = ioEntries(c.readIfPresent('io.stat'));
    for (const size of hugePageSizes()) {
      if (!c.has(`hugetlb.${size}.current`)) continue;
      s.hugetlb[size] = {
        usage: Number(c.readNumber(`hugetlb.${size}.current`) ?? 0),
        failcnt: c.readKeyed(`hugetlb.${size}.events`).max ?? 0,
      };
    }
    return s;
  }

  /**
   * inotify on memory.events (the kernel notifies each change); its
   * oom_kill counter counts the kills. The removal of the cgroup sends no
   * notification: stop ends the watch, or a notification read too late.
   */
  watchOom(onOom: () => void, stop: AbortSignal): Promise<void> {
    let seen = this.#c.readKeyed('memory.events').oom_kill ?? 0;
    return new Promise((resolve, reject) => {
      let watcher: FSWatcher;
      try {
        watcher = watch(this.#c.path('memory.events'), () => {
          let kills: number;
          try {
            kills = this.#c.readKeyed('memory.events').oom_kill ?? 0;
          } catch {
            // The cgroup went before this reader came to it: its counter
            // went with it (a kill it held is not seen: the limit of v2's
            // notification, which carries no count).
            end();
            return;
          }
          for (; seen < kills; seen++) onOom();
        });
      } catch (err) {
        reject(new RuntsError(`OOM notifications need the memory controller in ${this.state.path}: ${errorMessage(err)}`));
        return;
      }
      const end = () => {
        watcher.close();
        resolve();
      };
      watcher.on('error', end);
      if (stop.aborted) end();
      else stop.addEventListener('abort', end, { once: true });
    });
  }

  exists(): boolean {
    return existsSync(this.state.path);
  }

  removeDirs(): void {
    removeCgroupDir(this.state.path);
  }
}
