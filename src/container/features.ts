/**
 * features.md: what this build of runts can do, as a features document.
 * Honest by construction: a feature is listed only once runts implements it.
 */
import { capabilityNames } from '../linux/capabilities';
import { knownMountOptions } from '../linux/mount-options';
import { apparmorEnabled, selinuxEnabled } from '../linux/lsm';
import { SUPPORTED_NAMESPACES } from '../linux/namespaces';
import { ACTIONS, ARCHITECTURES, FLAGS, OPERATORS, supportedFlags } from '../linux/seccomp';
import { schemaProblems } from '../spec/validate';
import { SPEC_VERSION, SPEC_VERSION_MIN } from '../spec/version';
import type { Sys } from '../sys/types';

declare const RUNTS_VERSION: string;

/** A kind runts can make but the build's schema copy rejects (time, in pre-1.1 schemas) is no feature. */
function schemaAcceptsNamespace(type: string): boolean {
  const probe = { ociVersion: SPEC_VERSION, root: { path: 'rootfs' }, linux: { namespaces: [{ type }] } };
  return !schemaProblems(probe).some((p) => p.pointer.startsWith('/linux/namespaces'));
}

/** With a Sys, the seccomp flags are probed on this kernel; without, the known ones are listed. */
export function features(sys?: Sys) {
  return {
    ociVersionMin: SPEC_VERSION_MIN,
    ociVersionMax: SPEC_VERSION,
    hooks: ['prestart', 'createRuntime', 'createContainer', 'startContainer', 'poststart', 'poststop'],
    mountOptions: knownMountOptions(),
    linux: {
      namespaces: SUPPORTED_NAMESPACES.filter(schemaAcceptsNamespace),
      capabilities: capabilityNames(),
      // systemd: --systemd-cgroup, shown against a live systemd on v2 and v1 by
      // test/integration/systemd-vm.test.ts; the user manager (rootless) is not driven.
      cgroup: { v1: true, v2: true, systemd: true, systemdUser: false, rdma: true },
      seccomp: {
        enabled: true,
        actions: Object.keys(ACTIONS),
        operators: Object.keys(OPERATORS),
        archs: Object.keys(ARCHITECTURES),
        knownFlags: Object.keys(FLAGS),
        supportedFlags: sys ? supportedFlags(sys) : Object.keys(FLAGS),
      },
      apparmor: { enabled: apparmorEnabled() },
      selinux: { enabled: selinuxEnabled() },
      intelRdt: { enabled: false },
      mountExtensions: { idmap: { enabled: true } },
    },
    annotations: {
      'org.opencontainers.runts.version': RUNTS_VERSION,
    },
  };
}
