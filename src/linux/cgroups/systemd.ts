/**
 * The systemd cgroup driver (--systemd-cgroup; runc's libcontainer/cgroups/systemd):
 * the container's cgroup belongs to a transient systemd unit, a scope
 * delegated to runts (systemd-unit.ts says which, systemd-properties.ts
 * with what). systemd makes the cgroup and moves the init into it; the
 * cgroupfs drivers (v1.ts, v2.ts) then do the rest on the unit's
 * directories, as runc's driver wraps fs and fs2: the files systemd has no
 * property for, the device rules, and every later command (pause, ps,
 * events, kill --all). Only create, update and delete talk to systemd.
 *
 * D-Bus calls are asynchronous: they are made by the runtime's own
 * process (create, update, delete), never by the container's init.
 */
import { RuntsError, errorMessage } from '../../errors';
import type { Linux, LinuxResources } from '../../spec/types';
import type { DeviceRuleSet } from './devices';
import { isUnifiedHost } from './paths';
import { SystemdConnection } from './systemd-dbus';
import { resourceProperties, unitProperties } from './systemd-properties';
import { systemdUnitOf } from './systemd-unit';
import type { NewCgroup } from './types';
import { V1Cgroup } from './v1';
import { V2Cgroup } from './v2';

async function withSystemd<T>(use: (systemd: SystemdConnection) => Promise<T>): Promise<T> {
  const systemd = await SystemdConnection.connect();
  try {
    return await use(systemd);
  } finally {
    systemd.close();
  }
}

/**
 * Starts the container's unit with the init (pid) in it, then configures
 * its cgroup. On failure nothing of it is left: the init is killed (it is
 * in the unit; it would be killed by create anyway) so that the unit can
 * stop at once.
 */
export async function createSystemdCgroup(
  id: string,
  linux: Linux,
  resources: LinuxResources,
  devices: DeviceRuleSet,
  pid: number,
): Promise<NewCgroup> {
  let unit;
  try {
    unit = systemdUnitOf(linux.cgroupsPath, id);
  } catch (err) {
    throw new RuntsError(`linux.cgroupsPath: ${errorMessage(err)}`);
  }
  const cgroupVersion = isUnifiedHost() ? 2 : 1;
  return withSystemd(async (systemd) => {
    const properties = unitProperties(
      unit,
      `runts container ${id}`,
      { pid, resources, devices },
      cgroupVersion,
      await systemd.version(),
    );
    await systemd.startTransientUnit(unit.name, properties);
    try {
      const driver = cgroupVersion === 2 ? V2Cgroup : V1Cgroup;
      return driver.create(unit.path, resources, devices, unit.name);
    } catch (err) {
      process.kill(pid, 'SIGKILL');
      await systemd.stopUnit(unit.name);
      throw err;
    }
  });
}

/** Stops the unit (its processes are gone by now), so that systemd removes it and its cgroup. */
export const stopSystemdUnit = (unit: string): Promise<void> => withSystemd((systemd) => systemd.stopUnit(unit));

/** Tells systemd the container's new resources (update), so that it keeps them when it applies the unit again. */
export function updateSystemdUnit(unit: string, resources: LinuxResources): Promise<void> {
  const cgroupVersion = isUnifiedHost() ? 2 : 1;
  return withSystemd(async (systemd) =>
    systemd.setUnitProperties(unit, resourceProperties(resources, cgroupVersion, await systemd.version())),
  );
}
