/**
 * features.md and features-linux.md: the runtime's `features` document,
 * and that the runtime accepts what the document says it recognizes.
 */
import { readFileSync } from 'node:fs';
import { arch } from 'node:os';
import { join } from 'node:path';
import { type Case, NotApplicable, check, fail, same } from '../case';
import { HOOK_KINDS, type HookKind } from '../config';
import { containerHook, markHook } from '../hooks';
import { runScript, scenario, section } from '../kinds';
import { SEMVER, capabilityMask, capabilityNames, statusField } from '../parse';
import { describe } from '../runtime-cli';
import { hostCapabilities } from '../host';
import { definedProperties, schemaProblems } from '../schema';
import { LONG_RUNNING, createdContainer, killed, sharedDir } from '../steps';
import type { Trial } from '../trial';

const version = section('features.md', 'Specification version');
const hooks = section('features.md', 'Hooks');
const mountOptions = section('features.md', 'Mount Options');
const annotations = section('features.md', 'Annotations');
const linuxNamespaces = section('features-linux.md', 'Namespaces');
const linuxCapabilities = section('features-linux.md', 'Capabilities');
const linuxSeccomp = section('features-linux.md', 'Seccomp');

interface Features {
  ociVersionMin?: unknown;
  ociVersionMax?: unknown;
  hooks?: string[] | null;
  mountOptions?: string[] | null;
  annotations?: Record<string, unknown> | null;
  linux?: {
    namespaces?: string[] | null;
    capabilities?: string[] | null;
    seccomp?: {
      actions?: string[] | null;
      operators?: string[] | null;
      archs?: string[] | null;
      supportedFlags?: string[] | null;
    } | null;
    [key: string]: unknown;
  } | null;
  [key: string]: unknown;
}

async function featuresOf(t: Trial): Promise<Features> {
  const r = await t.rt.exec(['features']);
  if (r.code !== 0) fail(`\`features\` failed (${describe(r)})`);
  try {
    return JSON.parse(r.stdout) as Features;
  } catch {
    return fail(`\`features\` printed no JSON: ${JSON.stringify(r.stdout.slice(0, 200))}`);
  }
}

/** SemVer 2.0.0 precedence (pre-releases below their release; identifiers compared numerically when numeric). */
function compareSemver(a: string, b: string): number {
  const [, ...pa] = SEMVER.exec(a)!;
  const [, ...pb] = SEMVER.exec(b)!;
  for (let i = 0; i < 3; i++) if (Number(pa[i]) !== Number(pb[i])) return Number(pa[i]) - Number(pb[i]);
  if (pa[3] === pb[3]) return 0;
  if (pa[3] === undefined) return 1;
  if (pb[3] === undefined) return -1;
  const [xa, xb] = [pa[3].split('.'), pb[3].split('.')];
  for (let i = 0; i < Math.min(xa.length, xb.length); i++) {
    const [ia, ib] = [xa[i]!, xb[i]!];
    if (ia === ib) continue;
    const [na, nb] = [/^\d+$/.test(ia), /^\d+$/.test(ib)];
    if (na && nb) return Number(ia) - Number(ib);
    if (na !== nb) return na ? -1 : 1;
    return ia < ib ? -1 : 1;
  }
  return xa.length - xb.length;
}

/** A list the document declares; a case about it has nothing to check when it is absent or null. */
function declared(list: string[] | null | undefined, what: string): string[] {
  if (!list) throw new NotApplicable(`the features document declares no ${what}`);
  return list;
}

const acceptsVersion = (key: 'ociVersionMin' | 'ociVersionMax'): Case =>
  scenario(
    version(
      'MUST',
      `${key} (string, REQUIRED) ... The runtime MUST accept this value as the ociVersion property of config.json.`,
    ),
    {
      id: `features.${key}-accepted`,
      run: async (t) => {
        const value = (await featuresOf(t))[key];
        check(typeof value === 'string', `${key} ${JSON.stringify(value)}`);
        const out = await runScript(t, 'echo ran=yes', (c) => {
          c.ociVersion = value;
        });
        check(out.includes('ran=yes'), `a config with ociVersion ${value} did not run`);
      },
    },
  );

/** Option words that only a filesystem reads (mount(2)'s data). */
const FILESYSTEM_SPECIFIC = [
  'size',
  'mode',
  'uid',
  'gid',
  'nr_inodes',
  'nr_blocks',
  'newinstance',
  'ptmxmode',
  'context',
  'errors',
  'discard',
  'data',
  'journal',
];

/** Options that need a setup of their own (a bind source, an existing mount, user namespaces). */
const NOT_ON_TMPFS = new Set(['bind', 'rbind', 'remount', 'idmap', 'ridmap']);

/**
 * Architectures a filter on this host can hold: libseccomp refuses to mix
 * byte orders, so "recognized" can only be tried with the host's family.
 */
const HOST_ARCHS =
  arch() === 'arm64' ? ['SCMP_ARCH_AARCH64', 'SCMP_ARCH_ARM'] : ['SCMP_ARCH_X86_64', 'SCMP_ARCH_X86', 'SCMP_ARCH_X32'];

/** Unusual syscalls the seccomp recognition case puts rules on, one per action. */
const RARE_SYSCALLS = [
  'acct',
  'swapon',
  'swapoff',
  'kexec_load',
  'init_module',
  'delete_module',
  'syslog',
  'vhangup',
  'pivot_root',
  'quotactl',
];

export const featureCases: Case[] = [
  scenario(
    version(
      'MUST',
      'ociVersionMin (string, REQUIRED), ociVersionMax (string, REQUIRED): the features document MUST hold both, as SemVer strings (and match features-schema.json).',
    ),
    {
      id: 'features.document',
      run: async (t) => {
        const doc = await featuresOf(t);
        for (const key of ['ociVersionMin', 'ociVersionMax'] as const) {
          check(
            typeof doc[key] === 'string' && SEMVER.test(doc[key]),
            `${key} ${JSON.stringify(doc[key])} is not a SemVer version`,
          );
        }
        const problems = schemaProblems('features-schema.json', doc);
        check(problems.length === 0, `features-schema.json: ${problems.join('; ')}`);
      },
      needs: ['official-schema'],
    },
  ),

  acceptsVersion('ociVersionMin'),
  acceptsVersion('ociVersionMax'),

  scenario(version('MUST', 'ociVersionMax: The value MUST NOT be less than the value of the ociVersionMin property.'), {
    id: 'features.version-order',
    run: async (t) => {
      const { ociVersionMin: min, ociVersionMax: max } = await featuresOf(t);
      check(
        typeof min === 'string' && SEMVER.test(min) && typeof max === 'string' && SEMVER.test(max),
        `versions ${JSON.stringify([min, max])}`,
      );
      check(compareSemver(max, min) >= 0, `ociVersionMax ${max} is less than ociVersionMin ${min}`);
    },
  }),

  scenario(
    version(
      'MUST',
      'The feature document MUST NOT contain properties that are not defined in this version of the Open Container Initiative Runtime Specification (checked against the newest schema found).',
    ),
    {
      id: 'features.defined-properties-only',
      needs: ['official-schema'],
      run: async (t) => {
        const doc = await featuresOf(t);
        const top = definedProperties('features-schema.json', []);
        same(
          Object.keys(doc).filter((k) => !top.includes(k)),
          [],
          'undefined top-level properties',
        );
        const linux = definedProperties('features-linux.json', ['linux']);
        same(
          Object.keys(doc.linux ?? {}).filter((k) => !linux.includes(k)),
          [],
          'undefined properties of linux',
        );
      },
    },
  ),

  scenario(
    hooks(
      'MUST',
      'hooks (array of strings, OPTIONAL) The recognized names of the hooks. The runtime MUST support the elements in this array as the hooks property of config.json.',
    ),
    {
      id: 'features.hooks-supported',
      run: async (t) => {
        const listed = declared((await featuresOf(t)).hooks, 'hooks');
        const unknown = listed.filter((h) => !(HOOK_KINDS as readonly string[]).includes(h));
        same(unknown, [], 'listed hooks the spec does not define');
        const c = t.config(LONG_RUNNING);
        const out = sharedDir(t, c);
        const log = join(out, 'log');
        c.hooks = Object.fromEntries(
          listed.map((kind) => [
            kind,
            [kind === 'startContainer' ? containerHook(`echo ${kind} >> /out/log`) : markHook(t, log, kind)],
          ]),
        );
        const id = await createdContainer(t, c);
        await t.rt.started(id);
        await killed(t, id);
        await t.rt.delete(id);
        const ran = readFileSync(log, 'utf8').trim().split('\n') as HookKind[];
        same([...new Set(ran)].sort(), [...listed].sort(), 'hook kinds that ran');
      },
    },
  ),

  scenario(
    mountOptions(
      'MUST',
      'mountOptions (array of strings, OPTIONAL) The recognized names of the mount options. The runtime MUST recognize the elements in this array as the options of mounts objects in config.json.',
    ),
    {
      id: 'features.mount-options-recognized',
      run: async (t) => {
        const listed = declared((await featuresOf(t)).mountOptions, 'mount options').filter((o) => !NOT_ON_TMPFS.has(o));
        // One tmpfs per option: tmpfs rejects any word passed to it as data.
        const c = t.config('true');
        c.mounts!.push({ destination: '/tmp', type: 'tmpfs', source: 'tmpfs' });
        listed.forEach((option, i) =>
          c.mounts!.push({ destination: `/tmp/${i}`, type: 'tmpfs', source: 'tmpfs', options: [option] }),
        );
        const r = await t.rt.run(t.newId(), t.bundle(c));
        check(r.code === 0, `a container with a tmpfs for each listed option (${listed.join(' ')}) did not run (${describe(r)})`);
      },
    },
  ),

  scenario(
    mountOptions(
      'SHOULD',
      'Linux: this array SHOULD NOT contain filesystem-specific mount options that are passed to the mount(2) syscall as const void *data.',
    ),
    {
      id: 'features.mount-options-no-filesystem-specific',
      run: async (t) => {
        const listed = declared((await featuresOf(t)).mountOptions, 'mount options');
        same(
          listed.filter((o) => o.includes('=') || FILESYSTEM_SPECIFIC.includes(o)),
          [],
          'filesystem-specific options listed',
        );
      },
    },
  ),

  scenario(
    annotations(
      'MUST',
      'annotations (object, OPTIONAL): Annotations MUST be a key-value map that follows the same convention as the Key and Values of the annotations property of config.json (keys non-empty strings, values strings).',
    ),
    {
      id: 'features.annotations',
      run: async (t) => {
        const map = (await featuresOf(t)).annotations;
        if (map === undefined || map === null) throw new NotApplicable('the features document has no annotations');
        check(typeof map === 'object' && !Array.isArray(map), `annotations ${JSON.stringify(map)} is not a map`);
        for (const [key, value] of Object.entries(map)) {
          check(key !== '', 'an annotation key is empty');
          check(typeof value === 'string', `annotation ${key} has a non-string value ${JSON.stringify(value)}`);
        }
      },
    },
  ),

  scenario(
    linuxNamespaces(
      'MUST',
      'namespaces (array of strings, OPTIONAL) The recognized names of the namespaces. The runtime MUST recognize the elements in this array as the type of linux.namespaces objects in config.json.',
    ),
    {
      id: 'features-linux.namespaces-recognized',
      run: async (t) => {
        const listed = declared((await featuresOf(t)).linux?.namespaces, 'namespaces');
        await runScript(t, 'true', (c) => {
          c.linux!.namespaces = listed.map((type) => ({ type }));
          if (listed.includes('user')) {
            const map = [{ containerID: 0, hostID: 100000, size: 65536 }];
            c.linux!.uidMappings = map;
            c.linux!.gidMappings = map;
          }
          if (!listed.includes('uts')) delete c.hostname;
        });
      },
    },
  ),

  scenario(
    linuxCapabilities(
      'MUST',
      'capabilities (array of strings, OPTIONAL) The recognized names of the capabilities. The runtime MUST recognize the elements in this array in the process.capabilities object of config.json.',
    ),
    {
      id: 'features-linux.capabilities-recognized',
      run: async (t) => {
        // What the runtime can grant here: capabilities this host's root has.
        const grantable = hostCapabilities();
        const listed = declared((await featuresOf(t)).linux?.capabilities, 'capabilities').filter((name) =>
          grantable.includes(name),
        );
        const out = await runScript(t, 'cat /proc/self/status', (c) => {
          c.process!.capabilities = { bounding: listed, permitted: listed, effective: listed };
        });
        const missing = capabilityMask(listed) & ~BigInt(`0x${statusField(out, 'CapBnd') ?? '0'}`);
        same(capabilityNames(missing), [], 'listed capabilities missing from the bounding set');
      },
    },
  ),

  scenario(
    linuxSeccomp(
      'MUST',
      'seccomp actions, operators, archs, supportedFlags: The runtime MUST recognize the elements in these arrays in the linux.seccomp object of config.json (and support the supported flags).',
    ),
    {
      id: 'features-linux.seccomp-recognized',
      run: async (t) => {
        const s = (await featuresOf(t)).linux?.seccomp;
        const actions = declared(s?.actions, 'seccomp actions').filter((a) => a !== 'SCMP_ACT_ALLOW' && a !== 'SCMP_ACT_NOTIFY');
        const operators = declared(s?.operators, 'seccomp operators');
        check(actions.length <= RARE_SYSCALLS.length, `${actions.length} actions: more than the case has syscalls for`);
        await runScript(t, 'true', (c) => {
          c.linux!.seccomp = {
            defaultAction: 'SCMP_ACT_ALLOW',
            architectures: (s?.archs ?? []).filter((a) => HOST_ARCHS.includes(a)),
            flags: s?.supportedFlags ?? undefined,
            syscalls: [
              ...actions.map((action, i) => ({ names: [RARE_SYSCALLS[i]], action })),
              ...operators.map((op, i) => ({
                names: ['personality'],
                action: 'SCMP_ACT_ERRNO',
                args: [{ index: 0, value: 0xc0ffee00 + i, valueTwo: 0xffffffff, op }],
              })),
            ],
          };
        });
      },
    },
  ),
];
