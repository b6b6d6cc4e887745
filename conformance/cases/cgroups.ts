/**
 * config-linux.md "Control groups": cgroupsPath, the allowed device list,
 * and resources, read back from the host's cgroup files (v1 or v2 names)
 * while the container exists. Also "IntelRdt", whose one checkable rule
 * here concerns a host without resctrl.
 */
import { existsSync, readFileSync, statSync } from 'node:fs';
import { dirname } from 'node:path';
import { type Case, STEP2, check, fail, same } from '../case';
import { cgroupLayout, cgroupOf } from '../cgroups';
import type { Config } from '../config';
import type { Need } from '../environment';
import { readOr } from '../host';
import { refused, runScript, scenario, section } from '../kinds';
import { keyValues } from '../parse';
import { LONG_RUNNING, createdContainer, killed, startedContainer } from '../steps';
import type { Trial } from '../trial';

const cgroups = section('config-linux.md', 'Control groups');
const cgroupsPath = section('config-linux.md', 'Cgroups Path');
const ownership = section('config-linux.md', 'Cgroup ownership');
const allowed = section('config-linux.md', 'Allowed Device list');
const intelRdt = section('config-linux.md', 'IntelRdt');

/** A container in its own cgroup (cgroupsPath under the suite's parent), created but not started. */
async function createdInCgroup(t: Trial, name: string, edit: (c: Config) => void = () => {}) {
  const c = t.config(LONG_RUNNING);
  const path = t.cgroupPath(name);
  c.linux!.cgroupsPath = path;
  edit(c);
  const id = await createdContainer(t, c);
  const pid = (await t.rt.state(id)).pid!;
  return { id, path, pid };
}

/** The cgroup file of a controller for a path; a missing file fails the case (no cgroup made). */
function cgroupFile(controller: string, path: string, file: string): string {
  const host = cgroupLayout().file(controller, path, file);
  if (!existsSync(host)) fail(`${host} does not exist: no ${controller} cgroup at cgroupsPath`);
  return readFileSync(host, 'utf8').trim();
}

interface Resource {
  name: string;
  text: string;
  needs?: Need[];
  resources: Record<string, unknown>;
  /** [controller, v1 file, v2 file, expected content (v1), expected (v2)] */
  files: [string, string, string, string, string][];
}

const MiB = 1024 * 1024;

const RESOURCES: Resource[] = [
  {
    name: 'memory.limit',
    text: 'memory.limit (int64, OPTIONAL) - sets limit of memory usage',
    resources: { memory: { limit: 64 * MiB } },
    files: [['memory', 'memory.limit_in_bytes', 'memory.max', `${64 * MiB}`, `${64 * MiB}`]],
  },
  {
    name: 'memory.reservation',
    text: 'memory.reservation (int64, OPTIONAL) - sets soft limit of memory usage',
    resources: { memory: { reservation: 32 * MiB } },
    files: [['memory', 'memory.soft_limit_in_bytes', 'memory.low', `${32 * MiB}`, `${32 * MiB}`]],
  },
  {
    name: 'memory.swap',
    text: 'memory.swap (int64, OPTIONAL) - sets limit of memory+Swap usage',
    needs: ['memory-swap'],
    resources: { memory: { limit: 64 * MiB, swap: 128 * MiB } },
    // cgroup v2 limits swap alone: memory+swap minus memory.
    files: [['memory', 'memory.memsw.limit_in_bytes', 'memory.swap.max', `${128 * MiB}`, `${64 * MiB}`]],
  },
  {
    name: 'cpu.shares',
    text: 'cpu.shares (uint64, OPTIONAL) - specifies a relative share of CPU time available to the tasks in a cgroup',
    needs: ['cgroup-v1'],
    resources: { cpu: { shares: 512 } },
    files: [['cpu', 'cpu.shares', '', '512', '']],
  },
  {
    name: 'cpu.quota-period',
    text: 'cpu.quota (int64, OPTIONAL) - the total amount of time in microseconds for which all tasks in a cgroup can run during one period; cpu.period (uint64, OPTIONAL)',
    // Not the kernel's default period (100000), which a runtime that drops the field would leave.
    resources: { cpu: { quota: 25000, period: 50000 } },
    files: [
      ['cpu', 'cpu.cfs_quota_us', 'cpu.max', '25000', '25000 50000'],
      ['cpu', 'cpu.cfs_period_us', 'cpu.max', '50000', '25000 50000'],
    ],
  },
  {
    name: 'cpu.cpus',
    text: 'cpu.cpus (string, OPTIONAL) - list of CPUs the container will run on',
    needs: ['cpuset-cpus-observable'],
    resources: { cpu: { cpus: '0' } },
    files: [['cpuset', 'cpuset.cpus', 'cpuset.cpus', '0', '0']],
  },
  {
    name: 'cpu.mems',
    text: 'cpu.mems (string, OPTIONAL) - list of memory nodes the container will run on',
    needs: ['cpuset-mems-observable'],
    resources: { cpu: { mems: '0' } },
    files: [['cpuset', 'cpuset.mems', 'cpuset.mems', '0', '0']],
  },
  {
    name: 'pids.limit',
    text: 'pids.limit (int64, REQUIRED) - specifies the maximum number of tasks in the cgroup',
    resources: { pids: { limit: 42 } },
    files: [['pids', 'pids.max', 'pids.max', '42', '42']],
  },
  {
    name: 'blockIO.weight',
    text: 'blockIO.weight (uint16, OPTIONAL) - specifies per-cgroup weight',
    needs: ['blkio-weight'],
    resources: { blockIO: { weight: 500 } },
    files: [['blkio', '', '', '500', '500']],
  },
  {
    name: 'hugepageLimits',
    text: 'hugepageLimits (array of objects, OPTIONAL) represents the hugetlb controller',
    needs: ['hugetlb'],
    resources: { hugepageLimits: [{ pageSize: '2MB', limit: 8 * 2 * MiB }] },
    files: [['hugetlb', 'hugetlb.2MB.limit_in_bytes', 'hugetlb.2MB.max', `${16 * MiB}`, `${16 * MiB}`]],
  },
  {
    name: 'network.classID',
    text: "network.classID (uint32, OPTIONAL) - the network class identifier the cgroup's network packets will be tagged with",
    needs: ['net-cls'],
    resources: { network: { classID: 1048577 } },
    files: [['net_cls', 'net_cls.classid', '', '1048577', '']],
  },
  {
    name: 'unified',
    text: 'unified (object, OPTIONAL) allows cgroup v2 parameters to be set and modified for the container. Each key in the map refers to a file in the cgroup unified hierarchy.',
    needs: ['cgroup-v2'],
    resources: { unified: { 'pids.max': '17' } },
    files: [['pids', '', 'pids.max', '', '17']],
  },
];

const resourceCase = (r: Resource): Case =>
  scenario((r.name === 'unified' ? section('config-linux.md', 'Unified') : cgroups)('MUST', `${r.text}. ${STEP2}`), {
    id: `config-linux.resources.${r.name}`,
    needs: r.needs,
    run: async (t) => {
      const { path } = await createdInCgroup(t, r.name, (c) => {
        c.linux!.resources = { ...c.linux!.resources, ...r.resources };
      });
      const v2 = cgroupLayout().version === 2;
      for (const [controller, v1File, v2File, v1Expected, v2Expected] of r.files) {
        // The block IO weight lives in the file the IO scheduler offers.
        const file = (v2 ? v2File : v1File) || cgroupLayout().blkioWeightFile()!;
        const content = cgroupFile(controller, path, file);
        const expected = v2 ? v2Expected : v1Expected;
        check(
          content === expected || content.split(/\s+/).includes(expected),
          `${file} holds ${JSON.stringify(content)}, expected ${expected}`,
        );
      }
    },
  });

export const cgroupCases: Case[] = [
  scenario(
    cgroupsPath(
      'MUST',
      "In the case of an absolute path (starting with /), the runtime MUST take the path to be relative to the cgroups mount point (the cgroups will be created if they don't exist).",
    ),
    {
      id: 'config-linux.cgroups-path.absolute',
      run: async (t) => {
        const { path, pid } = await createdInCgroup(t, 'absolute');
        same(cgroupOf(readOr(`/proc/${pid}/cgroup`), 'memory'), path, "the container process's cgroup");
        check(existsSync(dirname(cgroupLayout().file('memory', path, 'x'))), `no cgroup directory for ${path}`);
      },
    },
  ),

  scenario(
    cgroupsPath(
      'MUST',
      'If the value is specified, the runtime MUST consistently attach to the same place in the cgroups hierarchy given the same value of cgroupsPath.',
    ),
    {
      id: 'config-linux.cgroups-path.consistent',
      run: async (t) => {
        const path = t.cgroupPath('consistent');
        const seen: (string | undefined)[] = [];
        for (let i = 0; i < 2; i++) {
          const c = t.config(LONG_RUNNING);
          c.linux!.cgroupsPath = path;
          const { id, pid } = await startedContainer(t, c);
          seen.push(cgroupOf(readOr(`/proc/${pid}/cgroup`), 'memory'));
          await killed(t, id);
          await t.rt.delete(id);
        }
        same(seen, [path, path], 'the cgroups of two containers with the same cgroupsPath');
      },
    },
  ),

  scenario(ownership('SHOULD', 'Runtimes SHOULD NOT change the ownership of container cgroups when cgroups v1 is in use.'), {
    id: 'config-linux.cgroup-ownership.v1-unchanged',
    needs: ['cgroup-v1'],
    run: async (t) => {
      const { path } = await createdInCgroup(t, 'owner', (c) => {
        c.process!.user = { uid: 1000, gid: 1000 };
        c.linux!.namespaces!.push({ type: 'cgroup' });
        const mount = c.mounts!.find((m) => m.destination === '/sys/fs/cgroup')!;
        mount.options = mount.options!.filter((o) => o !== 'ro');
      });
      const dir = dirname(cgroupLayout().file('memory', path, 'x'));
      check(existsSync(dir), `no cgroup directory for ${path}`);
      const st = statSync(dir);
      same(`${st.uid}:${st.gid}`, '0:0', `owner of ${dir}`);
    },
  }),

  scenario(
    allowed(
      'MUST',
      'devices (array of objects, OPTIONAL) configures the allowed device list. The runtime MUST apply entries in the listed order.',
    ),
    {
      id: 'config-linux.allowed-devices.order',
      run: async (t) => {
        const write =
          'echo "<7>runts-conformance: allowed device list check" > /dev/conformance-kmsg 2>/dev/null && echo write=allowed || echo write=denied';
        const kmsg = { allow: true, type: 'c', major: 1, minor: 11, access: 'w' };
        const deny = { allow: false, access: 'rwm' };
        const attempt = async (rules: object[]) =>
          keyValues(
            await runScript(t, write, (c) => {
              c.linux!.devices = [{ path: '/dev/conformance-kmsg', type: 'c', major: 1, minor: 11 }];
              c.linux!.resources = { devices: rules };
            }),
          ).write;
        same(await attempt([deny, kmsg]), 'allowed', 'writing the device with [deny all, allow it]');
        same(await attempt([kmsg, deny]), 'denied', 'writing the device with [allow it, deny all]');
      },
    },
  ),

  ...RESOURCES.map(resourceCase),

  refused(
    intelRdt(
      'MUST',
      'If no mounted resctrl pseudo-filesystem is available in the runtime mount namespace, the runtime MUST generate an error.',
    ),
    {
      id: 'config-linux.intel-rdt.no-resctrl',
      needs: ['no-resctrl'],
      config: (c) => {
        c.linux!.intelRdt = { closID: 'conformance' };
      },
    },
  ),
];
