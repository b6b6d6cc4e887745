/**
 * features.md: what this build of runts can do, as a features document.
 * Honest by construction: a feature is listed only once runts implements it.
 */
import { capabilityNames } from '../linux/capabilities';
import { knownMountOptions } from '../linux/mount-options';
import { SUPPORTED_NAMESPACES } from '../linux/namespaces';
import { SPEC_VERSION, SPEC_VERSION_MIN } from '../spec/version';

declare const RUNTS_VERSION: string;

export function features() {
  return {
    ociVersionMin: SPEC_VERSION_MIN,
    ociVersionMax: SPEC_VERSION,
    hooks: ['prestart', 'createRuntime', 'createContainer', 'startContainer', 'poststart', 'poststop'],
    mountOptions: knownMountOptions(),
    linux: {
      namespaces: [...SUPPORTED_NAMESPACES],
      capabilities: capabilityNames(),
      cgroup: { v1: false, v2: false, systemd: false, systemdUser: false, rdma: false },
      seccomp: { enabled: false },
      apparmor: { enabled: false },
      selinux: { enabled: false },
      intelRdt: { enabled: false },
      mountExtensions: { idmap: { enabled: false } },
    },
    annotations: {
      'org.opencontainers.runts.version': RUNTS_VERSION,
    },
  };
}
