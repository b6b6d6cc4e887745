/**
 * Mount option words, as runc reads them (libcontainer/specconv): a word
 * sets or clears a flag, sets propagation, or else goes into the data
 * string for the filesystem (mode=755, size=64k, gid=5, …). One table.
 */
import type { MountAttributes } from '../sys/types';
import {
  MOUNT_ATTR_NOATIME,
  MOUNT_ATTR_NODEV,
  MOUNT_ATTR_NODIRATIME,
  MOUNT_ATTR_NOEXEC,
  MOUNT_ATTR_NOSUID,
  MOUNT_ATTR_NOSYMFOLLOW,
  MOUNT_ATTR_RDONLY,
  MOUNT_ATTR_RELATIME,
  MOUNT_ATTR_STRICTATIME,
  MOUNT_ATTR__ATIME,
  MS_BIND,
  MS_DIRSYNC,
  MS_I_VERSION,
  MS_LAZYTIME,
  MS_MANDLOCK,
  MS_NOATIME,
  MS_NODEV,
  MS_NODIRATIME,
  MS_NOEXEC,
  MS_NOSUID,
  MS_NOSYMFOLLOW,
  MS_POSIXACL,
  MS_PRIVATE,
  MS_RDONLY,
  MS_REC,
  MS_RELATIME,
  MS_REMOUNT,
  MS_SHARED,
  MS_SILENT,
  MS_SLAVE,
  MS_STRICTATIME,
  MS_SYNCHRONOUS,
  MS_UNBINDABLE,
} from '../sys/constants';

interface FlagWord {
  clear: boolean;
  flag: number;
}

export const FLAG_WORDS: Readonly<Record<string, FlagWord>> = {
  acl: { clear: false, flag: MS_POSIXACL },
  async: { clear: true, flag: MS_SYNCHRONOUS },
  atime: { clear: true, flag: MS_NOATIME },
  bind: { clear: false, flag: MS_BIND },
  defaults: { clear: false, flag: 0 },
  dev: { clear: true, flag: MS_NODEV },
  diratime: { clear: true, flag: MS_NODIRATIME },
  dirsync: { clear: false, flag: MS_DIRSYNC },
  exec: { clear: true, flag: MS_NOEXEC },
  iversion: { clear: false, flag: MS_I_VERSION },
  lazytime: { clear: false, flag: MS_LAZYTIME },
  loud: { clear: true, flag: MS_SILENT },
  mand: { clear: false, flag: MS_MANDLOCK },
  noacl: { clear: true, flag: MS_POSIXACL },
  noatime: { clear: false, flag: MS_NOATIME },
  nodev: { clear: false, flag: MS_NODEV },
  nodiratime: { clear: false, flag: MS_NODIRATIME },
  noexec: { clear: false, flag: MS_NOEXEC },
  noiversion: { clear: true, flag: MS_I_VERSION },
  nolazytime: { clear: true, flag: MS_LAZYTIME },
  nomand: { clear: true, flag: MS_MANDLOCK },
  norelatime: { clear: true, flag: MS_RELATIME },
  nostrictatime: { clear: true, flag: MS_STRICTATIME },
  nosuid: { clear: false, flag: MS_NOSUID },
  nosymfollow: { clear: false, flag: MS_NOSYMFOLLOW },
  rbind: { clear: false, flag: MS_BIND | MS_REC },
  relatime: { clear: false, flag: MS_RELATIME },
  remount: { clear: false, flag: MS_REMOUNT },
  ro: { clear: false, flag: MS_RDONLY },
  rw: { clear: true, flag: MS_RDONLY },
  silent: { clear: false, flag: MS_SILENT },
  strictatime: { clear: false, flag: MS_STRICTATIME },
  suid: { clear: true, flag: MS_NOSUID },
  sync: { clear: false, flag: MS_SYNCHRONOUS },
  symfollow: { clear: true, flag: MS_NOSYMFOLLOW },
};

export const PROPAGATION_WORDS: Readonly<Record<string, number>> = {
  private: MS_PRIVATE,
  rprivate: MS_PRIVATE | MS_REC,
  shared: MS_SHARED,
  rshared: MS_SHARED | MS_REC,
  slave: MS_SLAVE,
  rslave: MS_SLAVE | MS_REC,
  unbindable: MS_UNBINDABLE,
  runbindable: MS_UNBINDABLE | MS_REC,
};

/**
 * The recursive words (runtime-spec 1.1, runc 1.1): mount_setattr(2) with
 * AT_RECURSIVE, so that the attribute reaches every mount below the
 * destination too (a plain "ro" on an rbind leaves its submounts writable).
 * A word sets or clears one attribute; the atime mode is one field, so its
 * words each pick a mode. "atime" and "nostrictatime" mean the kernel's
 * default, relatime, as they do for mount(2); "norelatime" changes nothing
 * (as with mount(2), whose norelatime leaves the default relatime; runc
 * does the same).
 */
type RecursiveWord = { set: number } | { clear: number } | { atime: number } | { none: true };

export const RECURSIVE_WORDS: Readonly<Record<string, RecursiveWord>> = {
  rro: { set: MOUNT_ATTR_RDONLY },
  rrw: { clear: MOUNT_ATTR_RDONLY },
  rnosuid: { set: MOUNT_ATTR_NOSUID },
  rsuid: { clear: MOUNT_ATTR_NOSUID },
  rnodev: { set: MOUNT_ATTR_NODEV },
  rdev: { clear: MOUNT_ATTR_NODEV },
  rnoexec: { set: MOUNT_ATTR_NOEXEC },
  rexec: { clear: MOUNT_ATTR_NOEXEC },
  rnodiratime: { set: MOUNT_ATTR_NODIRATIME },
  rdiratime: { clear: MOUNT_ATTR_NODIRATIME },
  rnosymfollow: { set: MOUNT_ATTR_NOSYMFOLLOW },
  rsymfollow: { clear: MOUNT_ATTR_NOSYMFOLLOW },
  rnoatime: { atime: MOUNT_ATTR_NOATIME },
  rstrictatime: { atime: MOUNT_ATTR_STRICTATIME },
  rrelatime: { atime: MOUNT_ATTR_RELATIME },
  ratime: { atime: MOUNT_ATTR_RELATIME },
  rnostrictatime: { atime: MOUNT_ATTR_RELATIME },
  rnorelatime: { none: true },
};

function addRecursive(attributes: MountAttributes, word: RecursiveWord): void {
  if ('set' in word) {
    attributes.set |= word.set;
    attributes.clear &= ~word.set;
  } else if ('clear' in word) {
    attributes.clear |= word.clear;
    attributes.set &= ~word.clear;
  } else if ('atime' in word) {
    attributes.clear |= MOUNT_ATTR__ATIME;
    attributes.set = (attributes.set & ~MOUNT_ATTR__ATIME) | word.atime;
  }
}

/** runc's extension word: honoured on tmpfs mounts, ignored elsewhere (as by runc). */
const COPY_UP = 'tmpcopyup';

/**
 * The id-mapping words (runtime-spec 1.2): the mount's mapping on its top
 * mount only (idmap), or on every mount of the tree (ridmap); see
 * idmapped-mounts.ts. Never given to mount(2).
 */
export const IDMAP_WORDS: readonly string[] = ['idmap', 'ridmap'];

export interface ParsedMountOptions {
  flags: number;
  /** Propagation changes, applied after the mount, in order. */
  propagation: number[];
  /** From the recursive words, applied last; absent when there are none. */
  recursive?: MountAttributes;
  /** tmpcopyup: a tmpfs filled with what it covers (copy-up.ts). */
  copyUp: boolean;
  /** idmap or ridmap (the last one given); absent when neither is. */
  idmap?: { recursive: boolean };
  /** Comma-joined words the kernel's filesystem parses (mode=, size=, …). */
  data: string;
}

export function parseMountOptions(options: readonly string[] = []): ParsedMountOptions {
  let flags = 0;
  const propagation: number[] = [];
  const data: string[] = [];
  let recursive: MountAttributes | undefined;
  let copyUp = false;
  let idmap: { recursive: boolean } | undefined;
  for (const word of options) {
    const flagWord = FLAG_WORDS[word];
    const propagationFlags = PROPAGATION_WORDS[word];
    const recursiveWord = RECURSIVE_WORDS[word];
    if (word === COPY_UP) {
      copyUp = true;
    } else if (IDMAP_WORDS.includes(word)) {
      idmap = { recursive: word === 'ridmap' };
    } else if (flagWord) {
      flags = flagWord.clear ? flags & ~flagWord.flag : flags | flagWord.flag;
    } else if (propagationFlags !== undefined) {
      propagation.push(propagationFlags);
    } else if (recursiveWord) {
      addRecursive((recursive ??= { set: 0, clear: 0 }), recursiveWord);
    } else {
      data.push(word);
    }
  }
  return { flags, propagation, data: data.join(','), copyUp, ...(recursive ? { recursive } : {}), ...(idmap ? { idmap } : {}) };
}

/** A bind mount: type "bind", or the bind/rbind words among the options. */
export const isBindMount = (type: string | undefined, flags: number): boolean => type === 'bind' || (flags & MS_BIND) !== 0;

export const knownMountOptions = (): string[] =>
  [
    ...Object.keys(FLAG_WORDS),
    ...Object.keys(PROPAGATION_WORDS),
    ...Object.keys(RECURSIVE_WORDS),
    ...IDMAP_WORDS,
    COPY_UP,
  ].sort();
