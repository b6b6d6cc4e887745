/** The resources whose files are the same in cgroup v1 and v2. */
import type { LinuxResources } from '../../spec/types';
import type { Control } from './control';

export function setCpuset(c: Control, r: LinuxResources): void {
  if (r.cpu?.cpus) c.write('cpuset.cpus', r.cpu.cpus);
  if (r.cpu?.mems) c.write('cpuset.mems', r.cpu.mems);
}

/** 0 leaves the limit as it is; a negative limit means none. */
export function setPids(c: Control, r: LinuxResources): void {
  const limit = r.pids?.limit;
  if (limit) c.write('pids.max', limit > 0 ? String(limit) : 'max');
}

export function setRdma(c: Control, r: LinuxResources): void {
  for (const [device, limits] of Object.entries(r.rdma ?? {})) {
    const parts = [
      limits?.hcaHandles !== undefined ? `hca_handle=${limits.hcaHandles}` : '',
      limits?.hcaObjects !== undefined ? `hca_object=${limits.hcaObjects}` : '',
    ];
    c.write('rdma.max', [device, ...parts].filter(Boolean).join(' '));
  }
}
