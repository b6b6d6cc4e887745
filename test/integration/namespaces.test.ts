// Each namespace kind, from inside, against the host: new ones differ,
// joined ones (linux.namespaces[].path) are the target's.
import { readlinkSync } from 'node:fs';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { namespaceKind } from '../../src/linux/namespaces';
import type { Spec } from '../../src/spec/types';
import { isRoot, runts, tempDir } from '../lib/cli';
import { bundle, hostNs, namespaceHolder, runBundle, runtime, shArgs, stateOf, uniqueId } from '../lib/container';
import { skipTest } from '../lib/skips';

const test = suite('namespaces');
const asRoot = isRoot ? test : test.skip;
// The time namespace is in the schema since runtime-spec 1.1; an older
// schema copy (Debian's) rejects it, and then there is nothing to test.
const timeInSchema =
  runts(['validate', '--bundle', bundle((s) => s.linux!.namespaces!.push({ type: 'time' } as never))]).code === 0;
const KINDS = ['pid', 'mount', 'uts', 'ipc', 'network', 'cgroup', ...(timeInSchema ? ['time'] : [])];
const procName = (kind: string) => namespaceKind(kind).procName;
// pid and time: /proc/self/ns/X is the namespace the process is in.
const readAll = KINDS.map((k) => `echo ${k}=$(readlink /proc/self/ns/${procName(k)})`).join('; ');

function inside(namespaces: { type: string; path?: string }[]): Record<string, string> {
  // Kinds are strings here; the generated type is an enum only with newer schemas.
  const r = runBundle(
    bundle((s) => {
      s.linux!.namespaces = namespaces as NonNullable<NonNullable<Spec['linux']>['namespaces']>;
      if (!namespaces.some((n) => n.type === 'uts' && !n.path)) delete s.hostname;
      shArgs(readAll)(s);
    }),
  );
  assert.is(r.code, 0, r.stderr);
  return Object.fromEntries(
    r.stdout
      .trim()
      .split('\n')
      .map((l) => l.split('=') as [string, string]),
  );
}

asRoot("new namespaces of every kind differ from the host's", () => {
  const seen = inside(KINDS.map((type) => ({ type })));
  for (const kind of KINDS) {
    assert.ok(seen[kind], `no reading for ${kind}`);
    assert.is.not(seen[kind], hostNs(procName(kind)), `${kind} namespace is the host's`);
  }
});

if (!timeInSchema) skipTest(test, 'time namespaces', 'the schema of this build predates them');

asRoot("kinds not asked for stay the host's (mount only: the rest shared)", () => {
  const seen = inside([{ type: 'mount' }]);
  for (const kind of KINDS.filter((k) => k !== 'mount')) assert.is(seen[kind], hostNs(procName(kind)), kind);
  assert.is.not(seen.mount, hostNs('mnt'));
});

asRoot("joined namespaces (by path) are the target's", async () => {
  const holder = await namespaceHolder([
    '--pid',
    '--mount',
    '--uts',
    '--ipc',
    '--net',
    '--cgroup',
    ...(timeInSchema ? ['--time'] : []),
  ]);
  try {
    const target = (kind: string) => `/proc/${holder.pid}/ns/${procName(kind)}`;
    // A time namespace is joined by the helper (setns needs a single thread).
    const seen = inside(KINDS.map((type) => ({ type, path: target(type) })));
    for (const kind of KINDS) assert.is(seen[kind], readlinkSync(target(kind)), `${kind} was not joined`);
  } finally {
    holder.stop();
  }
});

const whenTime = timeInSchema
  ? asRoot
  : (title: string) => skipTest(test, title, 'the schema of this build predates time namespaces');

whenTime(
  "exec joins the container's time namespace (through the helper, before node), new and joined, with its offsets",
  async () => {
    const holder = await namespaceHolder(['--time', '--boottime', '1000000']);
    try {
      for (const joined of [false, true]) {
        const root = tempDir('runts-root-');
        const id = uniqueId();
        const b = bundle((s) => {
          s.linux!.namespaces!.push((joined ? { type: 'time', path: `/proc/${holder.pid}/ns/time` } : { type: 'time' }) as never);
          if (!joined) (s.linux as { timeOffsets?: unknown }).timeOffsets = { boottime: { secs: 2_000_000 } };
          shArgs('sleep 1000')(s);
        });
        assert.is(runtime(['run', '-d', '--bundle', b, id], { root }).code, 0);
        try {
          const { pid } = stateOf(root, id);
          const r = runtime(['exec', id, 'sh', '-c', 'readlink /proc/self/ns/time; cut -d. -f1 /proc/uptime'], { root });
          assert.is(r.code, 0, r.stderr);
          const [ns, uptime] = r.stdout.trim().split('\n');
          assert.is(ns, readlinkSync(`/proc/${pid}/ns/time`), `exec's time namespace is not the init's (joined: ${joined})`);
          // The offset moves boottime, which /proc/uptime reads.
          assert.ok(Number(uptime) >= (joined ? 1_000_000 : 2_000_000), `uptime ${uptime}: the offset does not apply`);
        } finally {
          runtime(['delete', '--force', id], { root });
        }
      }
    } finally {
      holder.stop();
    }
  },
);

test.run();
