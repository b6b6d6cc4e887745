/**
 * config.md "Linux mount options": one case per row of the table, at the
 * row's level. Each mounts something at /tmp with the option and reads
 * the container's /proc/self/mountinfo. Options that clear a flag are
 * given after the flag they clear, and each starts from a mount where
 * leaving the option out shows: relatime on a strictatime source (relatime
 * is the kernel's default for a new mount), slave on a source shared in the
 * container (a bind of a host mount is already a slave in the container's
 * rslave namespace). Where the kernel shows no trace of an option
 * (iversion, loud, …), the mount is a tmpfs: tmpfs rejects words it does
 * not know, so a runtime that passes the option on as data fails the case;
 * one that takes it is reported as skipped, since nothing tells whether it
 * was applied.
 */
import { join } from 'node:path';
import { type Case, type Level, Unobservable, check, same } from '../case';
import type { Config, Mount } from '../config';
import { expectRefusal, inside, scenario, section } from '../kinds';
import { type MountRecord, keyValues, mountsAt, parseMountinfo, visibleMount } from '../parse';
import { playground } from '../playground';
import type { Trial } from '../trial';

const req = section('config.md', 'Linux mount options');

const AT = '/tmp';
const SEPARATOR = '--- conformance ---';

/** What the container shows: its mounts, and files read through /tmp. */
interface View {
  /** The mount a process sees at /tmp, or at /tmp/NAME. */
  at(sub?: string): MountRecord;
  /** The mount a process sees at an absolute path (the sources the case mounted elsewhere). */
  atPath(point: string): MountRecord;
  /** How many mounts are stacked at /tmp. */
  stacked: number;
  files: Record<string, string>;
}

const SCRIPT =
  `cat /proc/self/mountinfo; echo '${SEPARATOR}'; ` +
  'for f in file plain/file; do echo "$f=$(cat /tmp/$f 2>/dev/null)"; done; ' +
  'echo "passwd=$(head -c 5 /etc/passwd)"';

function view(out: string): View {
  const [mountinfo = '', rest = ''] = out.split(SEPARATOR);
  const records = parseMountinfo(mountinfo);
  return {
    at: (sub) => visibleMount(records, sub ? `${AT}/${sub}` : AT),
    atPath: (point) => visibleMount(records, point),
    stacked: mountsAt(records, AT).length,
    files: keyValues(rest),
  };
}

/**
 * What is mounted at /tmp: a tmpfs; a bind of the playground (made a
 * shared mount on the host with shared-bind); a bind of its strictatime
 * submount; or a bind of SHARED_IN_CONTAINER, a tmpfs (with a submount)
 * that the container's own earlier mounts make shared.
 */
type Source = 'tmpfs' | 'bind' | 'shared-bind' | 'strict-bind' | 'container-shared';

/** Where container-shared's source is mounted in the container (the rootfs has the directory). */
const SHARED_IN_CONTAINER = '/run';

interface Row {
  option: string;
  level: Level;
  /** The mount's option words (the option itself last, unless said otherwise). */
  words: string[];
  source?: Source;
  check: (v: View) => void;
}

const has =
  (word: string, where: 'options' | 'superOptions' = 'options') =>
  (v: View, sub?: string) => {
    const m = v.at(sub);
    check(m[where].has(word), `${sub ?? AT} lacks "${word}" (${[...m[where]].join(',')})`);
  };
const lacks =
  (word: string, where: 'options' | 'superOptions' = 'options') =>
  (v: View, sub?: string) => {
    const m = v.at(sub);
    check(!m[where].has(word), `${sub ?? AT} still has "${word}" (${[...m[where]].join(',')})`);
  };
/**
 * For an option the kernel shows no trace of: the tmpfs mounted (tmpfs
 * rejects unknown data words, so the option was not passed on as data),
 * then the case is skipped with `why` nothing more can be seen.
 */
const unobservable = (why: string) => (v: View) => {
  same(v.at().fstype, 'tmpfs', `filesystem at ${AT}`);
  throw new Unobservable(why);
};
const NOT_SHOWN = (flag: string) => `the kernel shows ${flag} nowhere (mountinfo, stat)`;
const tagged = (prefix: string) => (v: View, sub?: string) => {
  const m = v.at(sub);
  check(
    m.tags.some((tag) => tag.startsWith(prefix)),
    `${sub ?? AT} is not "${prefix}…" (propagation: ${m.tags.join(' ') || 'private'})`,
  );
};
/**
 * A slave of the container-shared source's peer group (its submount's, for
 * a sub) and no longer its peer: without the option /tmp would be a peer
 * (shared:N), and a bind of anything else would have another master.
 */
const slaveOfShared = (v: View, sub?: string) => {
  const source = v.atPath(sub ? `${SHARED_IN_CONTAINER}/${sub}` : SHARED_IN_CONTAINER);
  const peerGroup = source.tags.find((tag) => tag.startsWith('shared:'));
  check(
    peerGroup,
    `${source.mountPoint}, the source, is not shared (propagation: ${source.tags.join(' ') || 'private'}): the case's setup did not hold`,
  );
  const m = v.at(sub);
  const wanted = `master:${peerGroup.slice('shared:'.length)}`;
  same(
    m.tags,
    [wanted],
    `propagation of ${sub ? `${AT}/${sub}` : AT} (a slave of ${source.mountPoint}'s peer group ${peerGroup})`,
  );
};
const untagged = (v: View, sub?: string) => {
  const m = v.at(sub);
  check(
    !m.tags.some((tag) => tag.startsWith('shared:') || tag.startsWith('master:')),
    `${sub ?? AT} is not private (propagation: ${m.tags.join(' ')})`,
  );
};
const strict = (v: View, sub?: string) => {
  lacks('relatime')(v, sub);
  lacks('noatime')(v, sub);
};
/** A check on /tmp and on a submount of the bind (recursive options reach it). */
const andSub = (f: (v: View, sub?: string) => void, sub: string) => (v: View) => {
  f(v);
  f(v, sub);
};
/** A recursive option: the check holds on the playground submount it changes. */
const onSub = (f: (v: View, sub?: string) => void, sub: string) => (v: View) => f(v, sub);

const ROWS: Row[] = [
  { option: 'async', level: 'MUST', words: ['sync', 'async'], check: lacks('sync', 'superOptions') },
  { option: 'atime', level: 'MUST', words: ['noatime', 'atime'], check: lacks('noatime') },
  {
    option: 'bind',
    level: 'MUST',
    words: ['bind'],
    source: 'bind',
    check: (v) => {
      same(v.files.file, 'from-the-host', 'a file read through the bind mount');
      same(v.files['plain/file'], '', 'a file on a submount of the source (bind is not recursive)');
    },
  },
  {
    option: 'defaults',
    level: 'MUST',
    words: ['defaults'],
    check: (v) => {
      has('rw')(v);
      for (const flag of ['nosuid', 'nodev', 'noexec', 'noatime']) lacks(flag)(v);
    },
  },
  { option: 'dev', level: 'MUST', words: ['nodev', 'dev'], check: lacks('nodev') },
  { option: 'diratime', level: 'MUST', words: ['nodiratime', 'diratime'], check: lacks('nodiratime') },
  { option: 'dirsync', level: 'MUST', words: ['dirsync'], check: has('dirsync', 'superOptions') },
  { option: 'exec', level: 'MUST', words: ['noexec', 'exec'], check: lacks('noexec') },
  { option: 'iversion', level: 'MUST', words: ['iversion'], check: unobservable(NOT_SHOWN('MS_I_VERSION')) },
  { option: 'lazytime', level: 'MUST', words: ['lazytime'], check: has('lazytime', 'superOptions') },
  { option: 'loud', level: 'MUST', words: ['silent', 'loud'], check: unobservable(NOT_SHOWN('MS_SILENT')) },
  // The kernel ignores mand since 5.15 but still shows it among the superblock's options.
  { option: 'mand', level: 'MAY', words: ['mand'], check: has('mand', 'superOptions') },
  { option: 'noatime', level: 'MUST', words: ['noatime'], check: has('noatime') },
  { option: 'nodev', level: 'MUST', words: ['nodev'], check: has('nodev') },
  { option: 'nodiratime', level: 'MUST', words: ['nodiratime'], check: has('nodiratime') },
  { option: 'noexec', level: 'MUST', words: ['noexec'], check: has('noexec') },
  { option: 'noiversion', level: 'MUST', words: ['iversion', 'noiversion'], check: unobservable(NOT_SHOWN('MS_I_VERSION')) },
  { option: 'nolazytime', level: 'MUST', words: ['lazytime', 'nolazytime'], check: lacks('lazytime', 'superOptions') },
  { option: 'nomand', level: 'MAY', words: ['mand', 'nomand'], check: lacks('mand', 'superOptions') },
  // On a strictatime source a bind keeps strictatime unless relatime is still asked for.
  {
    option: 'norelatime',
    level: 'MUST',
    words: ['bind', 'relatime', 'norelatime'],
    source: 'strict-bind',
    check: (v) => strict(v),
  },
  { option: 'nostrictatime', level: 'MUST', words: ['strictatime', 'nostrictatime'], check: has('relatime') },
  { option: 'nosuid', level: 'MUST', words: ['nosuid'], check: has('nosuid') },
  { option: 'nosymfollow', level: 'SHOULD', words: ['nosymfollow'], check: has('nosymfollow') },
  { option: 'private', level: 'MUST', words: ['bind', 'shared', 'private'], source: 'shared-bind', check: untagged },
  { option: 'ratime', level: 'SHOULD', words: ['rbind', 'ratime'], source: 'bind', check: onSub(lacks('noatime'), 'restricted') },
  {
    option: 'rbind',
    level: 'MUST',
    words: ['rbind'],
    source: 'bind',
    check: (v) => same(v.files['plain/file'], 'from-plain', 'a file on a submount of the source (rbind is recursive)'),
  },
  { option: 'rdev', level: 'SHOULD', words: ['rbind', 'rdev'], source: 'bind', check: onSub(lacks('nodev'), 'restricted') },
  {
    option: 'rdiratime',
    level: 'SHOULD',
    words: ['rbind', 'rdiratime'],
    source: 'bind',
    check: onSub(lacks('nodiratime'), 'restricted'),
  },
  { option: 'relatime', level: 'MUST', words: ['bind', 'relatime'], source: 'strict-bind', check: has('relatime') },
  { option: 'rexec', level: 'SHOULD', words: ['rbind', 'rexec'], source: 'bind', check: onSub(lacks('noexec'), 'restricted') },
  { option: 'rnoatime', level: 'SHOULD', words: ['rbind', 'rnoatime'], source: 'bind', check: onSub(has('noatime'), 'plain') },
  {
    option: 'rnodiratime',
    level: 'SHOULD',
    words: ['rbind', 'rnodiratime'],
    source: 'bind',
    check: onSub(has('nodiratime'), 'plain'),
  },
  { option: 'rnoexec', level: 'SHOULD', words: ['rbind', 'rnoexec'], source: 'bind', check: onSub(has('noexec'), 'plain') },
  {
    option: 'rnorelatime',
    level: 'SHOULD',
    words: ['rnorelatime'],
    check: unobservable('rnorelatime picks no atime mode: mounts are relatime by default and submounts keep theirs'),
  },
  {
    option: 'rnostrictatime',
    level: 'SHOULD',
    words: ['rbind', 'rnostrictatime'],
    source: 'bind',
    check: onSub(
      (v, sub) => check(v.at(sub).options.has('relatime') || v.at(sub).options.has('noatime'), `${sub} is still strictatime`),
      'strict',
    ),
  },
  { option: 'rnosuid', level: 'SHOULD', words: ['rbind', 'rnosuid'], source: 'bind', check: onSub(has('nosuid'), 'plain') },
  {
    option: 'rnosymfollow',
    level: 'SHOULD',
    words: ['rbind', 'rnosymfollow'],
    source: 'bind',
    check: onSub(has('nosymfollow'), 'plain'),
  },
  { option: 'ro', level: 'MUST', words: ['ro'], check: has('ro') },
  {
    option: 'rprivate',
    level: 'MUST',
    words: ['rbind', 'rshared', 'rprivate'],
    source: 'shared-bind',
    check: andSub(untagged, 'plain'),
  },
  {
    option: 'rrelatime',
    level: 'SHOULD',
    words: ['rbind', 'rrelatime'],
    source: 'bind',
    check: onSub(has('relatime'), 'restricted'),
  },
  { option: 'rro', level: 'SHOULD', words: ['rbind', 'rro'], source: 'bind', check: onSub(has('ro'), 'plain') },
  { option: 'rrw', level: 'SHOULD', words: ['rbind', 'rrw'], source: 'bind', check: onSub(has('rw'), 'restricted') },
  { option: 'rshared', level: 'MUST', words: ['rbind', 'rshared'], source: 'bind', check: andSub(tagged('shared:'), 'plain') },
  {
    option: 'rslave',
    level: 'MUST',
    words: ['rbind', 'rslave'],
    source: 'container-shared',
    check: andSub(slaveOfShared, 'sub'),
  },
  { option: 'rstrictatime', level: 'SHOULD', words: ['rbind', 'rstrictatime'], source: 'bind', check: onSub(strict, 'plain') },
  { option: 'rsuid', level: 'SHOULD', words: ['rbind', 'rsuid'], source: 'bind', check: onSub(lacks('nosuid'), 'restricted') },
  {
    option: 'rsymfollow',
    level: 'SHOULD',
    words: ['rbind', 'rsymfollow'],
    source: 'bind',
    check: onSub(lacks('nosymfollow'), 'restricted'),
  },
  {
    option: 'runbindable',
    level: 'MUST',
    words: ['rbind', 'runbindable'],
    source: 'bind',
    check: andSub(tagged('unbindable'), 'plain'),
  },
  { option: 'rw', level: 'MUST', words: ['ro', 'rw'], check: has('rw') },
  { option: 'shared', level: 'MUST', words: ['shared'], check: tagged('shared:') },
  { option: 'silent', level: 'MUST', words: ['silent'], check: unobservable(NOT_SHOWN('MS_SILENT')) },
  { option: 'slave', level: 'MUST', words: ['bind', 'slave'], source: 'container-shared', check: slaveOfShared },
  { option: 'strictatime', level: 'MUST', words: ['strictatime'], check: (v) => strict(v) },
  { option: 'suid', level: 'MUST', words: ['nosuid', 'suid'], check: lacks('nosuid') },
  { option: 'symfollow', level: 'SHOULD', words: ['nosymfollow', 'symfollow'], check: lacks('nosymfollow') },
  { option: 'sync', level: 'MUST', words: ['sync'], check: has('sync', 'superOptions') },
  { option: 'unbindable', level: 'MUST', words: ['unbindable'], check: tagged('unbindable') },
];

/** The row's mount at /tmp, after any mount its source needs. */
function mountsFor(row: Row, t: Trial): Mount[] {
  // "none": a mount is a bind mount because its options say so.
  const bindOf = (source: string): Mount => ({ destination: AT, type: 'none', source, options: row.words });
  switch (row.source ?? 'tmpfs') {
    case 'tmpfs':
      return [{ destination: AT, type: 'tmpfs', source: 'tmpfs', options: row.words }];
    case 'bind':
      return [bindOf(playground(t))];
    case 'shared-bind':
      return [bindOf(playground(t, true))];
    case 'strict-bind':
      return [bindOf(join(playground(t), 'strict'))];
    case 'container-shared':
      // A bind source resolves in the container's mount namespace before
      // pivot_root, where the rootfs's /run is the shared tmpfs mounted here.
      return [
        { destination: SHARED_IN_CONTAINER, type: 'tmpfs', source: 'tmpfs', options: ['shared'] },
        { destination: `${SHARED_IN_CONTAINER}/sub`, type: 'tmpfs', source: 'tmpfs', options: ['shared'] },
        bindOf(join(t.suite.rootfs.shared, SHARED_IN_CONTAINER)),
      ];
  }
}

/** remount, tmpcopyup and idmap need more than one mount word on /tmp: their cases follow the table. */
const rowCase = (row: Row): Case =>
  inside(
    req(row.level, `\`${row.option}\` (${row.level}): ${DESCRIPTIONS[row.option] ?? 'mount(8) filesystem-independent option'}`),
    {
      id: `config.mount-options.${row.option}`,
      script: SCRIPT,
      config: (c, t) => {
        c.mounts!.push(...mountsFor(row, t));
      },
      check: (out) => row.check(view(out)),
    },
  );

/** The table's description column where it says more than "mount(8)". */
const DESCRIPTIONS: Record<string, string> = {
  bind: 'Bind mount',
  rbind: 'Recursive bind mount',
  private: 'Bind mount propagation',
  rprivate: 'Bind mount propagation',
  shared: 'mount(8) shared subtree',
  rshared: 'Bind mount propagation',
  slave: 'Bind mount propagation',
  rslave: 'Bind mount propagation',
  unbindable: 'Bind mount propagation',
  runbindable: 'Bind mount propagation',
  symfollow: 'Opposite of nosymfollow',
  tmpcopyup: 'copy up the contents to a tmpfs',
  remount: 'mount(8) remount: change the mount already at the destination',
};
for (const option of [
  'ratime',
  'rdev',
  'rdiratime',
  'rexec',
  'rnoatime',
  'rnodiratime',
  'rnoexec',
  'rnorelatime',
  'rnostrictatime',
  'rnosuid',
  'rnosymfollow',
  'rrelatime',
  'rro',
  'rrw',
  'rstrictatime',
  'rsuid',
  'rsymfollow',
]) {
  DESCRIPTIONS[option] = `Recursive \`${option.slice(1)}\` (AT_RECURSIVE, kernel 5.12+)`;
}

const idmapRefusal = (option: 'idmap' | 'ridmap'): Case =>
  scenario(
    req(
      'MUST',
      `\`${option}\`: If there are no uidMappings and gidMappings specified and the container isn't using user namespaces, an error MUST be returned.`,
    ),
    {
      id: `config.mount-options.${option}-without-mappings`,
      run: async (t) => {
        const c = t.config();
        c.mounts!.push({
          destination: AT,
          type: 'none',
          source: playground(t),
          options: [option === 'idmap' ? 'bind' : 'rbind', option],
        });
        await expectRefusal(t, t.bundle(c));
      },
    },
  );

const idmapped = (option: 'idmap' | 'ridmap'): Case =>
  inside(
    req(
      'SHOULD',
      `\`${option}\` (SHOULD): Indicates that the mount MUST have an idmapping applied${option === 'ridmap' ? ', and the mapping is applied recursively' : ''}. If uidMappings or gidMappings are specified for the mount, the runtime MUST use those values for the mount's mapping.`,
    ),
    {
      id: `config.mount-options.${option}`,
      // Not on a plain bind, /tmp/plain/file is not there: the script still exits 0.
      script: 'stat -c "file=%u:%g" /tmp/file; stat -c "sub=%u:%g" /tmp/plain/file 2>/dev/null; true',
      config: (c, t) => {
        // As runc reads it: the source's ids are containerIDs, seen as the hostIDs.
        const map = [{ containerID: 0, hostID: 1000, size: 1 }];
        c.mounts!.push({
          destination: AT,
          type: 'none',
          source: playground(t),
          options: [option === 'idmap' ? 'bind' : 'rbind', option],
          uidMappings: map,
          gidMappings: map,
        });
      },
      check: (out) => {
        const seen = keyValues(out);
        same(seen.file, '1000:1000', 'owner of a root-owned file through the idmapped mount');
        if (option === 'ridmap') same(seen.sub, '1000:1000', 'owner of a root-owned file on a submount');
      },
    },
  );

export const mountOptionCases: Case[] = [
  ...ROWS.map(rowCase),

  inside(req('MUST', `\`remount\` (MUST): ${DESCRIPTIONS.remount}`), {
    id: 'config.mount-options.remount',
    script: SCRIPT,
    config: (c: Config) => {
      c.mounts!.push({ destination: AT, type: 'tmpfs', source: 'tmpfs', options: ['size=1m'] });
      c.mounts!.push({ destination: AT, type: 'tmpfs', source: 'tmpfs', options: ['remount', 'ro'] });
    },
    check: (out) => {
      const v = view(out);
      same(v.stacked, 1, 'mounts at /tmp (remount changes the one there, it mounts nothing new)');
      has('ro')(v);
      has('size=1024k', 'superOptions')(v);
    },
  }),

  scenario(req('MAY', `\`tmpcopyup\` (MAY): ${DESCRIPTIONS.tmpcopyup}`), {
    id: 'config.mount-options.tmpcopyup',
    run: async (t) => {
      const c = t.config(SCRIPT);
      c.mounts!.push({ destination: '/etc', type: 'tmpfs', source: 'tmpfs', options: ['tmpcopyup'] });
      const r = await t.rt.run(t.newId(), t.bundle(c));
      check(r.code === 0, `the container did not run (exit ${r.code}: ${r.stderr.trim()})`);
      const v = view(r.stdout);
      same(v.files.passwd, 'root:', 'the start of /etc/passwd on the tmpfs (copied up from the rootfs)');
      same(v.atPath('/etc').fstype, 'tmpfs', 'filesystem at /etc');
    },
  }),

  idmapRefusal('idmap'),
  idmapRefusal('ridmap'),
  idmapped('idmap'),
  idmapped('ridmap'),
];
