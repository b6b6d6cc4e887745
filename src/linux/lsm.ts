/**
 * AppArmor and SELinux, as runc treats them: a profile or label is applied
 * to the user's process at execve (written to /proc/self/attr/…/exec); on a
 * host without that LSM, a config that asks for one is refused at create
 * (runc fails too, at init, with "apparmor failed to apply profile" or
 * "selinux … is disabled"). linux.mountLabel is used only with SELinux on.
 */
import { existsSync, readFileSync } from 'node:fs';
import { RuntsError, errorMessage } from '../errors';
import type { Sys } from '../sys/types';
import { writeProcFile } from './procfs';

function apparmorEnabled(): boolean {
  try {
    return readFileSync('/sys/module/apparmor/parameters/enabled', 'utf8').trim() === 'Y';
  } catch {
    return false;
  }
}

function selinuxEnabled(): boolean {
  return existsSync('/sys/fs/selinux/enforce');
}

export interface LsmPlan {
  apparmorProfile?: string;
  selinuxLabel?: string;
  /** context= for the container's own mounts, when SELinux is on. */
  mountLabel?: string;
}

/** What the config asks for, checked against the host (create fails early, like runc). */
export function planLsm(apparmorProfile?: string, selinuxLabel?: string, mountLabel?: string): LsmPlan {
  const plan: LsmPlan = {};
  if (apparmorProfile) {
    if (!apparmorEnabled())
      throw new RuntsError(
        `process.apparmorProfile ${JSON.stringify(apparmorProfile)} is set, but AppArmor is not enabled on this host`,
      );
    plan.apparmorProfile = apparmorProfile;
  }
  const selinux = selinuxEnabled();
  if (selinuxLabel) {
    if (!selinux) throw new RuntsError('selinux label is specified in config, but selinux is disabled or not supported');
    plan.selinuxLabel = selinuxLabel;
  }
  if (mountLabel && selinux) plan.mountLabel = mountLabel;
  return plan;
}

/** Just before execve: the profile/label the exec'd program gets. */
export function applyLsmOnExec(sys: Sys, plan: LsmPlan): void {
  if (plan.apparmorProfile) {
    const attr = existsSync('/proc/self/attr/apparmor/exec') ? '/proc/self/attr/apparmor/exec' : '/proc/self/attr/exec';
    write(sys, attr, `exec ${plan.apparmorProfile}`, 'apparmor profile');
  }
  if (plan.selinuxLabel) write(sys, '/proc/self/attr/exec', plan.selinuxLabel, 'selinux label');
}

function write(sys: Sys, file: string, value: string, what: string): void {
  try {
    writeProcFile(sys, file, value);
  } catch (err) {
    throw new RuntsError(`applying ${what} ${JSON.stringify(value)}: ${errorMessage(err)}`);
  }
}

/** Mount data with the SELinux context, for filesystems that take one (not binds). */
export function withMountLabel(data: string, label: string | undefined): string {
  if (!label) return data;
  const context = `context="${label}"`;
  return data ? `${data},${context}` : context;
}
