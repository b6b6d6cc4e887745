/**
 * What this host offers. A case that needs something missing is skipped,
 * and the table shows the reason: skips are for the environment only,
 * never for what a runtime lacks.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { arch } from 'node:os';
import { cgroupLayout } from './cgroups';
import { ungrantableCapability } from './host';
import { officialSchemaFound } from './schema';

export type Need =
  | 'cgroup-v1'
  | 'cgroup-v2'
  | 'memory-swap'
  | 'blkio-weight'
  | 'hugetlb'
  | 'net-cls'
  | 'time-namespace'
  | 'python3'
  | 'no-resctrl'
  | 'x86_64'
  | 'official-schema'
  | 'capability-missing'
  | 'cpuset-cpus-observable'
  | 'cpuset-mems-observable';

interface Probe {
  holds: () => boolean;
  /** Shown in the table when the need is not met. */
  reason: string;
}

/**
 * Whether "0" written to a new cpuset cgroup shows that the config asked
 * for it: on v2 the file reads only what was written; on v1 a runtime fills
 * it before the cgroup takes a task, from the parent when not from the
 * config, so a parent offering only "0" gives "0" anyway.
 */
function cpusetObservable(file: 'cpus' | 'mems'): boolean {
  const layout = cgroupLayout();
  return layout.version === 2 || readFileSync(layout.file('cpuset', '/', `cpuset.${file}`), 'utf8').trim() !== '0';
}

const PROBES: Record<Need, Probe> = {
  'cgroup-v1': { holds: () => cgroupLayout().version === 1, reason: 'cgroup v1 only' },
  'cgroup-v2': { holds: () => cgroupLayout().version === 2, reason: 'cgroup v2 only' },
  'memory-swap': { holds: () => cgroupLayout().swapAccounting(), reason: 'no swap accounting in the memory cgroup' },
  'blkio-weight': {
    holds: () => cgroupLayout().blkioWeightFile() !== undefined,
    reason: 'no block IO weight file in this cgroup hierarchy',
  },
  hugetlb: {
    holds: () => cgroupLayout().hasController('hugetlb'),
    reason: 'no hugetlb cgroup controller in this cgroup version',
  },
  'net-cls': {
    holds: () => cgroupLayout().hasController('net_cls'),
    reason: 'no net_cls cgroup controller (cgroup v1 only, not mounted here)',
  },
  'time-namespace': { holds: () => existsSync('/proc/self/ns/time'), reason: 'kernel without time namespaces' },
  python3: {
    holds: () => spawnSync('python3', ['-c', 'import socket, array'], { stdio: 'ignore' }).status === 0,
    reason: 'needs python3 to receive the console fd (SCM_RIGHTS) from --console-socket',
  },
  'no-resctrl': {
    holds: () => !readFileSync('/proc/self/mountinfo', 'utf8').includes(' - resctrl '),
    reason: "resctrl is mounted: the case would change the host's Intel RDT groups",
  },
  x86_64: { holds: () => arch() === 'x64', reason: 'x86_64 only' },
  'capability-missing': {
    holds: () => ungrantableCapability() !== undefined,
    reason: "this host's root holds every capability: none that cannot be granted",
  },
  'cpuset-cpus-observable': {
    holds: () => cpusetObservable('cpus'),
    reason: 'cgroup v1 and only CPU 0: a new cpuset gets "0" from its parent anyway',
  },
  'cpuset-mems-observable': {
    holds: () => cpusetObservable('mems'),
    reason: 'cgroup v1 and only memory node 0: a new cpuset gets "0" from its parent anyway',
  },
  'official-schema': {
    holds: officialSchemaFound,
    reason: 'no official runtime-spec schema of v1.1 or later found (set OCI_RUNTIME_SPEC_SCHEMA_DIR)',
  },
};

export class Environment {
  private readonly cache = new Map<Need, boolean>();

  /** The reason the first unmet need gives, or undefined when all are met. */
  unmet(needs: readonly Need[] = []): string | undefined {
    for (const need of needs) {
      if (!this.holds(need)) return PROBES[need].reason;
    }
    return undefined;
  }

  private holds(need: Need): boolean {
    let held = this.cache.get(need);
    if (held === undefined) {
      held = PROBES[need].holds();
      this.cache.set(need, held);
    }
    return held;
  }
}
