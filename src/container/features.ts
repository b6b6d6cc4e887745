/**
 * features.md: what this build of runts can do, as a runtime-spec 1.3.0
 * features document. Honest by construction: a feature is listed only once
 * runts implements it; test/unit/features.test.ts checks the document
 * against the official features schema with no property it does not define,
 * and each claim against the code that makes it true. The document is the
 * runtime's, not the host's (features.md: "irrelevant to the actual
 * availability of the features in the host operating system").
 */
import { capabilityNames } from '../linux/capabilities';
import { knownMountOptions } from '../linux/mount-options';
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
    // Every 1.3.0 field is applied or refused by name (test/unit/schema-walk.test.ts);
    // a build with an older schema copy checks their types less, and says so
    // (runts --version, runts validate).
    ociVersionMax: SPEC_VERSION,
    hooks: ['prestart', 'createRuntime', 'createContainer', 'startContainer', 'poststart', 'poststop'],
    mountOptions: knownMountOptions(),
    // Annotations whose values change what runts does: none (runts stores
    // them for the state and hooks and reads no key; runc lists its own,
    // such as org.systemd.property., which runts does not interpret).
    potentiallyUnsafeConfigAnnotations: [] as string[],
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
        // The flags compileSeccomp applies (others are refused with their pointer).
        knownFlags: Object.keys(FLAGS),
        supportedFlags: sys ? supportedFlags(sys) : Object.keys(FLAGS),
      },
      // Whether runts applies a profile or label (src/linux/lsm.ts), not
      // whether this host has the LSM (features-linux.md); a config asking for
      // one on a host without it fails at create.
      apparmor: { enabled: true },
      selinux: { enabled: true },
      // Likewise whether runts implements them (linux/intel-rdt.ts through
      // resctrl, refused at create where resctrl is not mounted;
      // linux/net-devices.ts).
      intelRdt: { enabled: true },
      netDevices: { enabled: true },
      // linux.memoryPolicy (applied: linux/process-attributes.ts) has no
      // entry: the 1.3.0 features schema defines none, and a features
      // document MUST NOT hold a property its ociVersionMax does not define.
      mountExtensions: { idmap: { enabled: true } },
    },
    annotations: {
      'org.opencontainers.runts.version': RUNTS_VERSION,
    },
  };
}
