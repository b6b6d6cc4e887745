/**
 * The real Sys: glibc's functions called through ffi-rs on the calling (main)
 * thread. See docs/architecture.md, "Verified platform facts", for why no
 * call here may fork and why execve's vectors are built by hand.
 *
 * Calls whose glibc wrapper is newer than the oldest glibc Node 20 runs on
 * (2.28), or that have none, go through syscall(2): pivot_root, mknodat,
 * mount_setattr, open_tree, move_mount, close_range, openat2, pidfd_open, pidfd_send_signal, bpf,
 * keyctl, the per-thread credential calls, and the scheduling and memory
 * policy calls (sched_setattr, sched_{set,get}affinity, ioprio_set,
 * set_mempolicy).
 */
import { closeSync, fstatSync, readFileSync, readSync } from 'node:fs';
import {
  AT_EMPTY_PATH,
  AT_FDCWD,
  AT_RECURSIVE,
  AT_SYMLINK_NOFOLLOW,
  CLD_EXITED,
  EEXIST,
  EFAULT,
  EINVAL,
  ENOENT,
  IOPRIO_WHO_PROCESS,
  ENOMEM,
  ENOSYS,
  KEYCTL_DESCRIBE,
  KEYCTL_JOIN_SESSION_KEYRING,
  KEYCTL_SETPERM,
  MFD_CLOEXEC,
  MOUNT_ATTR_IDMAP,
  MOVE_MOUNT_F_EMPTY_PATH,
  MOVE_MOUNT_T_EMPTY_PATH,
  O_CLOEXEC,
  O_NONBLOCK,
  OPEN_TREE_CLOEXEC,
  OPEN_TREE_CLONE,
  P_PIDFD,
  SECCOMP_FILTER_FLAG_NEW_LISTENER,
  SECCOMP_SET_MODE_FILTER,
  SCHED_ATTR_SIZE_VER0,
  WEXITED,
  WNOHANG,
} from './constants';
import { strerror } from './errno';
import { type FfiBinding, loadFfiBinding } from './ffi-binding';
import { type MountinfoEntry, parseMountinfo } from './mountinfo';
import { nodeFiles } from './node-files';
import { syscallMaxima } from './seccomp-bpf';
import {
  type CapabilitySets,
  type MountAttributes,
  type SeccompArchLast,
  type SeccompExport,
  type SchedAttr,
  type SeccompFilter,
  type Sys,
  SysError,
} from './types';

/**
 * A C argument, typed by its JavaScript value: string = const char*,
 * null = NULL, number = int or unsigned int (same register bits), bigint =
 * long, unsigned long, size_t or a pointer, Buffer = a pointer to its bytes
 * (ffi-rs passes the Buffer's own memory, no copy: verified, so the callee's
 * writes, e.g. capget's, land in it).
 */
type CArg = string | null | number | bigint | Buffer;

interface ErrnoResult<T> {
  value: T;
  errnoCode: number;
  errnoMessage: string;
}

type SyscallName =
  | 'keyctl'
  | 'mount_setattr'
  | 'open_tree'
  | 'move_mount'
  | 'pivot_root'
  | 'mknodat'
  | 'openat2'
  | 'pidfd_send_signal'
  | 'pidfd_open'
  | 'close_range'
  | 'bpf'
  | 'setgroups'
  | 'setresuid'
  | 'setresgid'
  | 'getcwd'
  | 'seccomp'
  | 'sched_setattr'
  | 'sched_setaffinity'
  | 'sched_getaffinity'
  | 'ioprio_set'
  | 'set_mempolicy';

const SYSCALLS: Readonly<Record<string, Readonly<Record<SyscallName, number>>>> = {
  x64: {
    keyctl: 250,
    mount_setattr: 442,
    open_tree: 428,
    move_mount: 429,
    pivot_root: 155,
    mknodat: 259,
    openat2: 437,
    pidfd_send_signal: 424,
    pidfd_open: 434,
    close_range: 436,
    bpf: 321,
    setgroups: 116,
    setresuid: 117,
    setresgid: 119,
    getcwd: 79,
    seccomp: 317,
    sched_setattr: 314,
    sched_setaffinity: 203,
    sched_getaffinity: 204,
    ioprio_set: 251,
    set_mempolicy: 238,
  },
  arm64: {
    keyctl: 219,
    mount_setattr: 442,
    open_tree: 428,
    move_mount: 429,
    pivot_root: 41,
    mknodat: 33,
    openat2: 437,
    pidfd_send_signal: 424,
    pidfd_open: 434,
    close_range: 436,
    bpf: 280,
    setgroups: 159,
    setresuid: 147,
    setresgid: 149,
    getcwd: 17,
    seccomp: 277,
    sched_setattr: 274,
    sched_setaffinity: 122,
    sched_getaffinity: 123,
    ioprio_set: 30,
    set_mempolicy: 237,
  },
};

/** sizeof(struct mount_attr), MOUNT_ATTR_SIZE_VER0. */
const MOUNT_ATTR_SIZE = 32;
/** sizeof(struct open_how), OPEN_HOW_SIZE_VER0. */
const OPEN_HOW_SIZE = 24;
/** sched_getaffinity's mask: 8192 CPUs, the kernel's NR_CPUS at most. */
const CPU_MASK_BYTES = 1024;
/** sizeof(struct statfs) on x86_64 and aarch64 (120), rounded up. */
const STATFS_SIZE = 128;
/** _LINUX_CAPABILITY_VERSION_3: two 32-bit halves per capability set. */
const CAPABILITY_VERSION_3 = 0x20080522;
const LIBC = 'libc';
const LIBSECCOMP = 'libseccomp';
const AF_UNIX = 1;
const SOCK_STREAM_CLOEXEC = 1 | 0o2000000;
const AF_NETLINK = 16;
const SOCK_RAW_CLOEXEC = 3 | 0o2000000;
const SOCK_DGRAM_CLOEXEC = 2 | 0o2000000;
const SOCK_NONBLOCK = 0o4000;
const SOL_SOCKET = 1;
const SCM_RIGHTS = 1;
const MSG_CMSG_CLOEXEC = 0x40000000;
const POSIX_SPAWN_SETSIGDEF = 0x04;
const POSIX_SPAWN_SETSIGMASK = 0x08;
const POSIX_SPAWN_SETSID = 0x80;
// bpf(2) commands, and the size of the union bpf_attr given to it: larger
// than any command's fields here, zero-filled (the kernel accepts a zero tail).
const BPF_PROG_LOAD = 5;
const BPF_PROG_ATTACH = 8;
const BPF_ATTR_SIZE = 128;
const BPF_LOG_SIZE = 65536;

/** malloc'ed copies of Buffers, for structs that hold addresses; freed after use. */
interface CMemory {
  copy(bytes: Buffer): bigint;
  /** length bytes at address, back into JavaScript. */
  read(address: bigint, length: number): Buffer;
}

/** ffi-rs's errnoMessage is Rust's "Text (os error N)"; keep strerror's text. */
const errnoText = (message: string): string => message.replace(/ \(os error \d+\)$/, '');

const hex = (n: number | bigint): string => `0x${n.toString(16)}`;

/** libseccomp returns -errno rather than setting errno. */
function checkSeccomp(what: string, detail: string, rc: number, tolerated: number[] = []): void {
  if (rc < 0 && !tolerated.includes(-rc)) throw new SysError(what, -rc, detail, strerror(-rc));
}

/**
 * struct sockaddr_un { sa_family_t sun_family; char sun_path[108] } for
 * path, cut to its length (the kernel takes an abstract name's length as
 * given). "@name" is the abstract name: a NUL, then name.
 */
function sockaddrUn(call: string, path: string): Buffer {
  const abstract = path.startsWith('@');
  const name = Buffer.from(abstract ? path.slice(1) : path);
  if (name.length > 107 || name.includes(0)) throw new SysError(call, EINVAL, path, 'socket path too long or holding a NUL');
  const addr = Buffer.alloc(2 + (abstract ? 1 : 0) + name.length + (abstract ? 0 : 1));
  addr.writeUInt16LE(AF_UNIX, 0);
  name.copy(addr, abstract ? 3 : 2);
  return addr;
}

/** The kernel's dev_t for mknodat (new_encode_dev): 12-bit major, 20-bit minor. */
function encodeDev(major: number, minor: number): number | undefined {
  if (major < 0 || major > 0xfff || minor < 0 || minor > 0xfffff) return undefined;
  return (minor & 0xff) | (major << 8) | ((minor & ~0xff) << 12);
}

export class FfiSys implements Sys {
  readonly #ffi: FfiBinding;
  #seccompOpen = false;
  readonly #nr: Readonly<Record<SyscallName, number>>;

  constructor() {
    const nr = SYSCALLS[process.arch];
    if (!nr) throw new Error(`runts: unsupported architecture ${process.arch}`);
    this.#nr = nr;
    // Loaded here, not imported at the top, so that importing src/sys costs
    // nothing until a command really needs libc (ffi-rs takes ~1 ms to load).
    this.#ffi = loadFfiBinding();
    this.#ffi.open({ library: LIBC, path: 'libc.so.6' });
  }

  // --- mounts and the root ---

  mount(source: string | null, target: string, fstype: string | null, flags: number, data: string | null): void {
    const detail = `${source ?? 'none'} on ${target}${fstype ? ` (${fstype})` : ''}`;
    this.#check('mount', detail, 'mount', [source, target, fstype, BigInt(flags), data]);
  }

  umount2(target: string, flags: number): void {
    this.#check('umount2', target, 'umount2', [target, flags]);
  }

  mountSetattr(target: string | number, attributes: MountAttributes): void {
    // struct mount_attr { u64 attr_set; u64 attr_clr; u64 propagation; u64 userns_fd }
    const attr = Buffer.alloc(MOUNT_ATTR_SIZE);
    attr.writeBigUInt64LE(BigInt(attributes.set), 0);
    attr.writeBigUInt64LE(BigInt(attributes.clear), 8);
    const where = typeof target === 'number' ? `fd ${target}` : target;
    const detail = `${where} (set ${hex(attributes.set)}, clear ${hex(attributes.clear)})`;
    // A descriptor is the mount itself (AT_EMPTY_PATH); a path's last link is not followed.
    const [dirfd, path, flags] =
      typeof target === 'number' ? [target, '', AT_EMPTY_PATH] : [AT_FDCWD, target, AT_SYMLINK_NOFOLLOW];
    try {
      this.#syscall('mount_setattr', detail, [BigInt(dirfd), path, BigInt(AT_RECURSIVE | flags), attr, BigInt(MOUNT_ATTR_SIZE)]);
    } catch (err) {
      if (err instanceof SysError && err.errno === ENOSYS)
        throw new SysError('mount_setattr', ENOSYS, detail, 'Function not implemented (recursive mount options need Linux 5.12)');
      throw err;
    }
  }

  openTreeClone(path: string, recursive: boolean): number {
    const flags = OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC | (recursive ? AT_RECURSIVE : 0);
    return this.#syscall('open_tree', path, [BigInt(AT_FDCWD), path, BigInt(flags)]);
  }

  idmapMount(fd: number, usernsFd: number, recursive: boolean): void {
    // struct mount_attr { u64 attr_set; u64 attr_clr; u64 propagation; u64 userns_fd }
    const attr = Buffer.alloc(MOUNT_ATTR_SIZE);
    attr.writeBigUInt64LE(BigInt(MOUNT_ATTR_IDMAP), 0);
    attr.writeBigUInt64LE(BigInt(usernsFd), 24);
    const flags = AT_EMPTY_PATH | (recursive ? AT_RECURSIVE : 0);
    const detail = `fd ${fd} (MOUNT_ATTR_IDMAP, user namespace fd ${usernsFd}${recursive ? ', recursive' : ''})`;
    this.#syscall('mount_setattr', detail, [BigInt(fd), '', BigInt(flags), attr, BigInt(MOUNT_ATTR_SIZE)]);
  }

  moveMount(fd: number, onto: number): void {
    const flags = MOVE_MOUNT_F_EMPTY_PATH | MOVE_MOUNT_T_EMPTY_PATH;
    this.#syscall('move_mount', `fd ${fd} onto fd ${onto}`, [BigInt(fd), '', BigInt(onto), '', BigInt(flags)]);
  }

  pivotRoot(newRoot: string, putOld: string): void {
    this.#syscall('pivot_root', `${newRoot} (put_old ${putOld})`, [newRoot, putOld]);
  }

  chroot(path: string): void {
    this.#check('chroot', path, 'chroot', [path]);
  }

  fchdir(fd: number): void {
    this.#check('fchdir', String(fd), 'fchdir', [fd]);
  }

  chdir(path: string): void {
    this.#check('chdir', path, 'chdir', [path]);
  }

  getcwd(): string {
    const buffer = Buffer.alloc(4096);
    // The raw call: it returns the length, and says "(unreachable)" where glibc's wrapper fails.
    const length = this.#syscall('getcwd', '', [buffer, BigInt(buffer.length)]);
    return buffer.toString('utf8', 0, Math.max(0, length - 1));
  }

  mknod(path: string, mode: number, major: number, minor: number): void {
    const detail = `${path} (${major}:${minor})`;
    const dev = encodeDev(major, minor);
    if (dev === undefined) throw new SysError('mknod', EINVAL, detail, 'Invalid argument (device number out of range)');
    this.#syscall('mknodat', detail, [BigInt(AT_FDCWD), path, BigInt(mode), BigInt(dev)], 'mknod');
  }

  symlink(target: string, path: string): void {
    this.#check('symlink', `${path} -> ${target}`, 'symlink', [target, path]);
  }

  // Node's own sync calls make these on the calling (main) thread
  // (node-files.ts); they sit behind Sys so that the recording double sees
  // them with the rest.
  readonly chmod = nodeFiles.chmod;
  readonly chown = nodeFiles.chown;
  readonly open = nodeFiles.open;
  readonly close = nodeFiles.close;
  readonly write = nodeFiles.write;
  readonly readFile = nodeFiles.readFile;
  readonly mkdir = nodeFiles.mkdir;
  readonly unlink = nodeFiles.unlink;
  readonly readdir = nodeFiles.readdir;
  readonly readlink = nodeFiles.readlink;
  readonly realpath = nodeFiles.realpath;
  readonly stat = nodeFiles.stat;
  readonly lstat = nodeFiles.lstat;
  readonly fstat = nodeFiles.fstat;
  readonly copyFile = nodeFiles.copyFile;
  readonly lchown = nodeFiles.lchown;
  readonly lutimes = nodeFiles.lutimes;

  umask(mask: number): number {
    return this.#check('umask', hex(mask), 'umask', [mask]);
  }

  // --- namespaces ---

  unshare(flags: number): void {
    this.#check('unshare', hex(flags), 'unshare', [flags]);
  }

  setns(fd: number, nstype: number): void {
    this.#check('setns', `fd ${fd} (${hex(nstype)})`, 'setns', [fd, nstype]);
  }

  sethostname(name: string): void {
    this.#check('sethostname', JSON.stringify(name), 'sethostname', [name, BigInt(Buffer.byteLength(name))]);
  }

  setdomainname(name: string): void {
    this.#check('setdomainname', JSON.stringify(name), 'setdomainname', [name, BigInt(Buffer.byteLength(name))]);
  }

  // --- credentials and capabilities ---

  // Credentials change for the calling thread only: the raw system calls,
  // not glibc's wrappers (which broadcast to every thread for POSIX). The
  // thread that execs or spawns the container's process is the one that
  // matters; exec's other threads keep runts' own credentials for its work
  // on the host (see src/container/exec.ts).
  setgroups(gids: number[]): void {
    const list = Buffer.from(new Uint32Array(gids).buffer);
    this.#syscall('setgroups', `[${gids.join(',')}]`, [BigInt(gids.length), gids.length ? list : null]);
  }

  setresgid(rgid: number, egid: number, sgid: number): void {
    this.#syscall('setresgid', `${rgid} ${egid} ${sgid}`, [rgid, egid, sgid]);
  }

  setresuid(ruid: number, euid: number, suid: number): void {
    this.#syscall('setresuid', `${ruid} ${euid} ${suid}`, [ruid, euid, suid]);
  }

  capget(): CapabilitySets {
    const data = new Uint32Array(6);
    this.#check('capget', '', 'capget', [capHeader(), Buffer.from(data.buffer)]);
    // data = [effective, permitted, inheritable] low halves, then high halves.
    const set = (i: number): bigint => BigInt(data[i]!) | (BigInt(data[i + 3]!) << 32n);
    return { effective: set(0), permitted: set(1), inheritable: set(2) };
  }

  capset(sets: CapabilitySets): void {
    const { effective: e, permitted: p, inheritable: i } = sets;
    const low = (v: bigint): number => Number(v & 0xffff_ffffn);
    const high = (v: bigint): number => Number((v >> 32n) & 0xffff_ffffn);
    const data = new Uint32Array([low(e), low(p), low(i), high(e), high(p), high(i)]);
    const detail = `effective=${hex(e)} permitted=${hex(p)} inheritable=${hex(i)}`;
    this.#check('capset', detail, 'capset', [capHeader(), Buffer.from(data.buffer)]);
  }

  prctl(
    option: number,
    arg2: number | bigint = 0,
    arg3: number | bigint = 0,
    arg4: number | bigint = 0,
    arg5: number | bigint = 0,
  ): number {
    return this.#check('prctl', `option ${option} (${arg2})`, 'prctl', [
      option,
      BigInt(arg2),
      BigInt(arg3),
      BigInt(arg4),
      BigInt(arg5),
    ]);
  }

  setrlimit(resource: number, soft: bigint, hard: bigint): void {
    const rlimit = Buffer.from(new BigUint64Array([soft, hard]).buffer);
    this.#check('setrlimit', `resource ${resource} (${soft}, ${hard})`, 'setrlimit', [resource, rlimit]);
  }

  // --- scheduling and memory placement ---

  schedSetattr(attr: SchedAttr): void {
    // struct sched_attr { u32 size; u32 policy; u64 flags; s32 nice; u32 priority; u64 runtime, deadline, period }
    const buf = Buffer.alloc(SCHED_ATTR_SIZE_VER0);
    buf.writeUInt32LE(SCHED_ATTR_SIZE_VER0, 0);
    buf.writeUInt32LE(attr.policy, 4);
    buf.writeBigUInt64LE(BigInt(attr.flags), 8);
    buf.writeInt32LE(attr.nice, 16);
    buf.writeUInt32LE(attr.priority, 20);
    buf.writeBigUInt64LE(BigInt(attr.runtime), 24);
    buf.writeBigUInt64LE(BigInt(attr.deadline), 32);
    buf.writeBigUInt64LE(BigInt(attr.period), 40);
    const detail = `policy ${attr.policy} flags ${hex(attr.flags)} nice ${attr.nice} priority ${attr.priority}`;
    this.#syscall('sched_setattr', detail, [0n, buf, 0n]);
  }

  ioprioSet(ioprio: number): void {
    this.#syscall('ioprio_set', hex(ioprio), [BigInt(IOPRIO_WHO_PROCESS), 0n, BigInt(ioprio)]);
  }

  schedSetaffinity(cpus: readonly number[]): void {
    const mask = idMask(cpus);
    this.#syscall('sched_setaffinity', `[${cpus.join(',')}]`, [0n, BigInt(mask.length), mask]);
  }

  schedGetaffinity(): number[] {
    const mask = Buffer.alloc(CPU_MASK_BYTES);
    // The kernel's answer: how many bytes of the mask it wrote.
    const written = this.#syscall('sched_getaffinity', '', [0n, BigInt(mask.length), mask]);
    const cpus: number[] = [];
    for (let bit = 0; bit < written * 8; bit++) if (mask[bit >> 3]! & (1 << (bit & 7))) cpus.push(bit);
    return cpus;
  }

  setMempolicy(mode: number, nodes: readonly number[]): void {
    const detail = `mode ${hex(mode)} nodes [${nodes.join(',')}]`;
    if (!nodes.length) {
      this.#syscall('set_mempolicy', detail, [BigInt(mode), null, 0n]);
      return;
    }
    const mask = idMask(nodes);
    // maxnode counts one bit more than the kernel reads (its get_nodes() takes maxnode - 1).
    this.#syscall('set_mempolicy', detail, [BigInt(mode), mask, BigInt(mask.length * 8 + 1)]);
  }

  // --- files and descriptors ---

  openat2(dirfd: number, path: string, flags: number, resolve: number, mode = 0): number {
    // struct open_how { u64 flags; u64 mode; u64 resolve }
    const how = Buffer.alloc(OPEN_HOW_SIZE);
    how.writeBigUInt64LE(BigInt(flags), 0);
    how.writeBigUInt64LE(BigInt(mode), 8);
    how.writeBigUInt64LE(BigInt(resolve), 16);
    const detail = dirfd === AT_FDCWD ? path : `${path} (in fd ${dirfd})`;
    try {
      return this.#syscall('openat2', detail, [BigInt(dirfd), path, how, BigInt(OPEN_HOW_SIZE)]);
    } catch (err) {
      if (err instanceof SysError && err.errno === ENOSYS)
        throw new SysError('openat2', ENOSYS, detail, 'Function not implemented (runts needs Linux 5.6)');
      throw err;
    }
  }

  mountOf(fd: number): MountinfoEntry {
    const id = /^mnt_id:\s*(\d+)/m.exec(readFileSync(`/proc/self/fdinfo/${fd}`, 'utf8'))?.[1];
    const entry = parseMountinfo(readFileSync('/proc/self/mountinfo', 'utf8')).find((e) => String(e.id) === id);
    if (!entry) throw new SysError('mountinfo', ENOENT, `fd ${fd}`, 'its mount is not in /proc/self/mountinfo');
    return entry;
  }

  flock(fd: number, operation: number): void {
    this.#check('flock', `fd ${fd}`, 'flock', [fd, operation]);
  }

  fcntl(fd: number, cmd: number, arg: number): number {
    return this.#check('fcntl', `fd ${fd} cmd ${cmd}`, 'fcntl', [fd, cmd, arg]);
  }

  closeRange(first: number, last: number, flags: number): void {
    // `>>> 0` so that -1 means ~0U, "up to the last descriptor".
    this.#syscall('close_range', `${first}..${last >>> 0}`, [BigInt(first >>> 0), BigInt(last >>> 0), BigInt(flags)]);
  }

  dup2(oldfd: number, newfd: number): void {
    this.#check('dup2', `${oldfd} to ${newfd}`, 'dup2', [oldfd, newfd]);
  }

  fstatfs(fd: number): { type: number } {
    // struct statfs starts with f_type, a long (x86_64 and aarch64 alike).
    const buf = Buffer.alloc(STATFS_SIZE);
    this.#check('fstatfs', `fd ${fd}`, 'fstatfs', [fd, buf]);
    return { type: Number(buf.readBigInt64LE(0)) };
  }

  // --- processes ---

  execve(path: string, argv: string[], envp: string[]): never {
    const owned: bigint[] = [];
    try {
      const args = [path, ...this.#cVectors('execve', [argv, envp], owned)];
      const r = this.#invoke<number>('execve', path, 'execve', this.#ffi.DataType.I32, args);
      // execve returns only when it failed.
      throw new SysError('execve', r.errnoCode, path, errnoText(r.errnoMessage));
    } finally {
      for (const p of owned) this.#invoke('execve', path, 'free', this.#ffi.DataType.Void, [p]);
    }
  }

  spawnDetached(path: string, argv: string[], envp: string[], opts: { fds: [number, number][]; setsid: boolean }): number {
    const { DataType } = this.#ffi;
    const call = (fn: string, args: CArg[]) => {
      const rc = this.#invoke<number>('posix_spawn', path, fn, DataType.I32, args).value;
      // The posix_spawn family returns an error number instead of setting errno.
      if (rc !== 0) throw new SysError(fn, rc, path, strerror(rc));
    };
    const actions = Buffer.alloc(80); // posix_spawn_file_actions_t (glibc, 64-bit)
    const attr = Buffer.alloc(336); // posix_spawnattr_t
    const all = Buffer.alloc(128); // sigset_t
    const none = Buffer.alloc(128);
    const owned: bigint[] = [];
    call('posix_spawn_file_actions_init', [actions]);
    call('posix_spawnattr_init', [attr]);
    try {
      for (const [from, to] of opts.fds) call('posix_spawn_file_actions_adddup2', [actions, from, to]);
      call('sigfillset', [all]);
      call('sigemptyset', [none]);
      call('posix_spawnattr_setsigdefault', [attr, all]);
      call('posix_spawnattr_setsigmask', [attr, none]);
      call('posix_spawnattr_setflags', [
        attr,
        POSIX_SPAWN_SETSIGDEF | POSIX_SPAWN_SETSIGMASK | (opts.setsid ? POSIX_SPAWN_SETSID : 0),
      ]);
      const pid = Buffer.alloc(4);
      call('posix_spawn', [pid, path, actions, attr, ...this.#cVectors('posix_spawn', [argv, envp], owned)]);
      return pid.readInt32LE(0);
    } finally {
      for (const p of owned) this.#invoke('posix_spawn', path, 'free', DataType.Void, [p]);
      this.#invoke('posix_spawn', path, 'posix_spawn_file_actions_destroy', DataType.I32, [actions]);
      this.#invoke('posix_spawn', path, 'posix_spawnattr_destroy', DataType.I32, [attr]);
    }
  }

  /**
   * NULL-terminated char*[]s (StringArray is not: docs/architecture.md,
   * "Verified platform facts", 6), one per list of strings: the strings,
   * each NUL-terminated, copied into one malloc'ed block (freed by the
   * caller from `owned`), and for each list its pointers into it and a NULL
   * packed into a Buffer. One malloc and one memcpy, not a strdup and a free
   * per string: those were most of a spawn's calls through ffi-rs (about
   * 10 us each). 8-byte pointers: x64, arm64.
   */
  #cVectors(call: string, lists: string[][], owned: bigint[]): Buffer[] {
    const { DataType } = this.#ffi;
    const strings = lists.flat();
    // C strings end at NUL: a string holding one would silently be cut there.
    if (strings.some((s) => s.includes('\0'))) {
      throw new SysError(call, EINVAL, '', 'Invalid argument (string contains a NUL byte)');
    }
    const block = Buffer.from(strings.map((s) => `${s}\0`).join(''));
    const base = this.#invoke<bigint>(call, '', 'malloc', DataType.BigInt, [BigInt(Math.max(block.length, 1))]).value;
    if (base === 0n) throw new SysError(call, ENOMEM, '', 'Cannot allocate memory');
    owned.push(base);
    this.#invoke(call, '', 'memcpy', DataType.BigInt, [base, block, BigInt(block.length)]);
    let offset = 0;
    return lists.map((list) => {
      const pointers = list.map((s) => {
        const p = base + BigInt(offset);
        offset += Buffer.byteLength(s) + 1;
        return p;
      });
      return Buffer.from(new BigUint64Array([...pointers, 0n]).buffer);
    });
  }

  pidfdOpen(pid: number): number {
    return this.#syscall('pidfd_open', `pid ${pid}`, [BigInt(pid), 0n]);
  }

  pidfdSendSignal(pidfd: number, signal: number): void {
    this.#syscall('pidfd_send_signal', `pidfd ${pidfd} signal ${signal}`, [BigInt(pidfd), BigInt(signal), null, 0n]);
  }

  waitPidfd(pidfd: number, nohang: boolean): { code: number | null; signal: number | null } | undefined {
    // siginfo_t: si_code at 8; si_pid at 16 (0: nothing ended yet), si_status at 24.
    const info = Buffer.alloc(128);
    this.#check('waitid', `pidfd ${pidfd}`, 'waitid', [P_PIDFD, pidfd, info, WEXITED | (nohang ? WNOHANG : 0)]);
    if (info.readInt32LE(16) === 0) return undefined;
    const status = info.readInt32LE(24);
    return info.readInt32LE(8) === CLD_EXITED ? { code: status, signal: null } : { code: null, signal: status };
  }

  // --- keyrings (no glibc wrapper: that is libkeyutils) ---

  joinSessionKeyring(name: string): number {
    return this.#syscall('keyctl', name, [BigInt(KEYCTL_JOIN_SESSION_KEYRING), name], 'keyctl(JOIN_SESSION_KEYRING)');
  }

  describeKey(serial: number): string {
    for (let size = 256; ; size *= 4) {
      const buffer = Buffer.alloc(size);
      // The length it needs, NUL included; the buffer is filled only when it is enough.
      const needed = this.#syscall(
        'keyctl',
        String(serial),
        [BigInt(KEYCTL_DESCRIBE), BigInt(serial), buffer, BigInt(size)],
        'keyctl(DESCRIBE)',
      );
      if (needed <= size) return buffer.toString('utf8', 0, Math.max(0, needed - 1));
    }
  }

  setKeyPermissions(serial: number, permissions: number): void {
    this.#syscall(
      'keyctl',
      `${serial} ${hex(permissions)}`,
      [BigInt(KEYCTL_SETPERM), BigInt(serial), BigInt(permissions)],
      'keyctl(SETPERM)',
    );
  }

  getpid(): number {
    return this.#check('getpid', '', 'getpid', []);
  }

  // --- the calling convention ---

  // --- seccomp ---

  #openSeccomp(): void {
    if (this.#seccompOpen) return;
    try {
      this.#ffi.open({ library: LIBSECCOMP, path: 'libseccomp.so.2' });
    } catch (err) {
      throw new SysError('dlopen', 2, 'libseccomp.so.2', `${(err as Error).message} (install libseccomp2)`);
    }
    this.#seccompOpen = true;
  }

  #seccomp(call: string, detail: string, ret: number, args: readonly CArg[]): number {
    // libseccomp returns -errno: no errno to read back (a third of a call's cost in ffi-rs).
    return this.#invoke<number>(call, detail, call, ret, args, LIBSECCOMP, false).value;
  }

  exportSeccomp(filter: SeccompFilter): SeccompExport {
    this.#openSeccomp();
    const { DataType } = this.#ffi;
    const ctx = this.#invoke<bigint>(
      'seccomp_init',
      '',
      'seccomp_init',
      DataType.BigInt,
      [filter.defaultAction],
      LIBSECCOMP,
    ).value;
    if (ctx === 0n) throw new SysError('seccomp_init', EINVAL, hex(filter.defaultAction), 'invalid default action');
    try {
      for (const name of filter.architectures) {
        const token = this.#seccomp('seccomp_arch_resolve_name', name, DataType.I32, [name]);
        if (token === 0) throw new SysError('seccomp_arch_resolve_name', EINVAL, name, 'unknown architecture');
        checkSeccomp('seccomp_arch_add', name, this.#seccomp('seccomp_arch_add', name, DataType.I32, [ctx, token]), [EEXIST]);
      }
      for (const [attr, value] of filter.attributes) {
        checkSeccomp(
          'seccomp_attr_set',
          String(attr),
          this.#seccomp('seccomp_attr_set', String(attr), DataType.I32, [ctx, attr, value]),
        );
      }
      const skipped: string[] = [];
      const inProgram = new Set<string>();
      for (const rule of filter.rules) {
        const nr = this.#seccomp('seccomp_syscall_resolve_name', rule.syscall, DataType.I32, [rule.syscall]);
        // -1 (__NR_SCMP_ERROR): no architecture has it. Other negative
        // numbers are libseccomp's pseudo-syscalls: names missing on the
        // native architecture but real on another of the filter's (x86's
        // _llseek, mmap2, socketcall under Docker's profile), which the rule
        // reaches there, as runc's libseccomp-golang adds them.
        if (nr === -1) {
          skipped.push(rule.syscall);
          continue;
        }
        inProgram.add(rule.syscall);
        // struct scmp_arg_cmp { unsigned arg; enum op; u64 datum_a; u64 datum_b }: 24 bytes.
        const conds = Buffer.alloc(24 * rule.conditions.length);
        rule.conditions.forEach((c, i) => {
          conds.writeUInt32LE(c.arg, 24 * i);
          conds.writeUInt32LE(c.op, 24 * i + 4);
          conds.writeBigUInt64LE(BigInt.asUintN(64, BigInt(c.a)), 24 * i + 8);
          conds.writeBigUInt64LE(BigInt.asUintN(64, BigInt(c.b)), 24 * i + 16);
        });
        const args: CArg[] = [ctx, rule.action, nr, rule.conditions.length, rule.conditions.length ? conds : null];
        // A rule given twice (podman's default profile has one) is one rule: EEXIST is fine.
        const rc = this.#invoke<number>(
          'seccomp_rule_add',
          rule.syscall,
          'seccomp_rule_add_array',
          DataType.I32,
          args,
          LIBSECCOMP,
        ).value;
        checkSeccomp('seccomp_rule_add', rule.syscall, rc, [EEXIST]);
      }
      const program = this.#exportBpf(ctx);
      return { program, skipped, lastSyscalls: this.#lastSyscalls(filter, program, inProgram, new Set(skipped)) };
    } finally {
      this.#releaseSeccomp(ctx);
    }
  }

  /** seccomp_export_bpf into a memfd, read back: libseccomp 2.5 has no in-memory export. */
  #exportBpf(ctx: bigint): Buffer {
    const fd = this.memfdCreate('runts-seccomp', MFD_CLOEXEC);
    try {
      const rc = this.#seccomp('seccomp_export_bpf', '', this.#ffi.DataType.I32, [ctx, fd]);
      checkSeccomp('seccomp_export_bpf', '', rc);
      const program = Buffer.alloc(fstatSync(fd).size);
      let done = 0;
      while (done < program.length) done += readSync(fd, program, done, program.length - done, done);
      return program;
    } finally {
      closeSync(fd);
    }
  }

  /**
   * Per architecture of the filter, the largest number among
   * filter.enosysNames (runc's findLastSyscalls), as resolving each name for
   * each architecture would give it. The names that got a rule (inProgram)
   * have their number, for every architecture that knows them, compared in
   * the program: its largest there (syscallMaxima) stands for all of them
   * once libseccomp names it back as one of the config's. Only the rest
   * (rules dropped for having the default action, names this libseccomp
   * cannot add natively) are resolved one by one; those unknown natively
   * (nativeUnknown) are already known negative for the native architecture.
   */
  #lastSyscalls(
    filter: SeccompFilter,
    program: Buffer,
    inProgram: ReadonlySet<string>,
    nativeUnknown: ReadonlySet<string>,
  ): SeccompArchLast[] {
    const names = filter.enosysNames;
    if (!names) return [];
    const { DataType } = this.#ffi;
    const resolve = (token: number, name: string): number =>
      // Negative: unknown here, or a multiplexed pseudo-syscall (socketcall's on x86).
      this.#seccomp('seccomp_syscall_resolve_name_arch', name, DataType.I32, [token | 0, name]);
    const native = this.#seccomp('seccomp_arch_native', '', DataType.I32, []) >>> 0;
    const tokens = new Set([native]);
    for (const name of filter.architectures)
      tokens.add(this.#seccomp('seccomp_arch_resolve_name', name, DataType.I32, [name]) >>> 0);
    const maxima = syscallMaxima(program);
    const listed = new Set(names);
    const lasts: SeccompArchLast[] = [];
    for (const token of tokens) {
      let last = -1;
      let rest = names;
      const inBpf = maxima?.get(token);
      // A number the program compares that no listed name has (socketcall's,
      // when only its multiplexed calls are listed): resolve them all.
      const named = (nr: number): boolean => {
        const name = this.#syscallName(token, nr);
        return name !== undefined && listed.has(name) && resolve(token, name) === nr;
      };
      if (maxima && (inBpf === undefined || named(inBpf))) {
        last = inBpf ?? -1;
        rest = names.filter((n) => !inProgram.has(n) && !(token === native && nativeUnknown.has(n)));
      }
      for (const name of rest) last = Math.max(last, resolve(token, name));
      if (last > 0) lasts.push({ token, nr: last });
    }
    return lasts;
  }

  /** libseccomp's name for a syscall number of an architecture (seccomp_syscall_resolve_num_arch, malloc'ed). */
  #syscallName(token: number, nr: number): string | undefined {
    const { DataType } = this.#ffi;
    const call = 'seccomp_syscall_resolve_num_arch';
    const p = this.#invoke<bigint>(call, String(nr), call, DataType.BigInt, [token | 0, nr], LIBSECCOMP, false).value;
    if (p === 0n) return undefined;
    try {
      const length = Number(this.#invoke<bigint>(call, '', 'strlen', DataType.BigInt, [p], LIBC, false).value);
      const name = Buffer.alloc(length);
      this.#invoke(call, '', 'memcpy', DataType.BigInt, [name, p, BigInt(length)], LIBC, false);
      return name.toString('latin1');
    } finally {
      this.#invoke(call, '', 'free', DataType.Void, [p], LIBC, false);
    }
  }

  loadSeccomp(program: Buffer, flags: number): number {
    const detail = `${program.length / 8} instructions, flags ${hex(flags)}`;
    return this.#withCMemory('seccomp', ({ copy }) => {
      // struct sock_fprog { unsigned short len; struct sock_filter *filter }: 16 bytes.
      const fprog = Buffer.alloc(16);
      fprog.writeUInt16LE(program.length / 8, 0);
      fprog.writeBigUInt64LE(copy(program), 8);
      const fd = this.#syscall('seccomp', detail, [BigInt(SECCOMP_SET_MODE_FILTER), BigInt(flags), fprog]);
      return flags & SECCOMP_FILTER_FLAG_NEW_LISTENER ? fd : -1;
    });
  }

  seccompFlagsSupported(flags: number): boolean {
    // libseccomp's own probe: flags are checked before the (NULL) program
    // is read, so EFAULT means the kernel took them; EINVAL, that it did not.
    const r = this.#invoke<number>('seccomp', hex(flags), 'syscall', this.#ffi.DataType.I64, [
      BigInt(this.#nr.seccomp),
      BigInt(SECCOMP_SET_MODE_FILTER),
      BigInt(flags),
      null,
    ]);
    return r.value === -1 && r.errnoCode === EFAULT;
  }

  #releaseSeccomp(ctx: bigint): void {
    this.#invoke('seccomp_release', '', 'seccomp_release', this.#ffi.DataType.Void, [ctx], LIBSECCOMP);
  }

  // --- unix sockets ---

  connectUnix(path: string, datagram = false): number {
    return this.#unixSocket('connect', path, datagram ? SOCK_DGRAM_CLOEXEC : SOCK_STREAM_CLOEXEC);
  }

  bindUnixDatagram(path: string): number {
    return this.#unixSocket('bind', path, SOCK_DGRAM_CLOEXEC | SOCK_NONBLOCK);
  }

  /** An AF_UNIX socket of that type, connected or bound to path. */
  #unixSocket(call: 'connect' | 'bind', path: string, type: number): number {
    const fd = this.#check('socket', path, 'socket', [AF_UNIX, type, 0]);
    try {
      const addr = sockaddrUn(call, path);
      this.#check(call, path, call, [fd, addr, addr.length]);
    } catch (err) {
      this.#check('close', path, 'close', [fd]);
      throw err;
    }
    return fd;
  }

  pipe(): [number, number] {
    const fds = Buffer.alloc(8);
    this.#check('pipe2', '', 'pipe2', [fds, O_CLOEXEC | O_NONBLOCK]);
    return [fds.readInt32LE(0), fds.readInt32LE(4)];
  }

  sendFds(socket: number, payload: Buffer, fds: number[]): void {
    // msghdr -> iovec -> payload and msghdr -> cmsghdr hold real addresses:
    // put those pieces in malloc'ed memory (a Buffer's address is not ours to take).
    const { DataType } = this.#ffi;
    this.#withCMemory('sendmsg', ({ copy: cCopy }) => {
      const data = payload.length ? payload : Buffer.from([0]);
      const iov = Buffer.alloc(16);
      iov.writeBigUInt64LE(cCopy(data), 0);
      iov.writeBigUInt64LE(BigInt(data.length), 8);
      // struct cmsghdr { size_t len; int level; int type; int fds[] }, padded to 8.
      const cmsgLen = 16 + 4 * fds.length;
      const control = Buffer.alloc((cmsgLen + 7) & ~7);
      control.writeBigUInt64LE(BigInt(cmsgLen), 0);
      control.writeInt32LE(SOL_SOCKET, 8);
      control.writeInt32LE(SCM_RIGHTS, 12);
      fds.forEach((fd, i) => control.writeInt32LE(fd, 16 + 4 * i));
      // struct msghdr { name; namelen+pad; iov; iovlen; control; controllen; flags+pad }: 56 bytes.
      const msg = Buffer.alloc(56);
      msg.writeBigUInt64LE(cCopy(iov), 16);
      msg.writeBigUInt64LE(1n, 24);
      msg.writeBigUInt64LE(cCopy(control), 32);
      msg.writeBigUInt64LE(BigInt(control.length), 40);
      const r = this.#invoke<number>('sendmsg', String(socket), 'sendmsg', DataType.I64, [socket, msg, 0]);
      if (r.value < 0) throw new SysError('sendmsg', r.errnoCode, String(socket), errnoText(r.errnoMessage));
    });
  }

  // --- netlink ---

  netlinkSocket(protocol: number): number {
    return this.#check('socket', `AF_NETLINK ${protocol}`, 'socket', [AF_NETLINK, SOCK_RAW_CLOEXEC, protocol]);
  }

  netlinkSend(fd: number, message: Buffer): void {
    const r = this.#invoke<number>('send', String(fd), 'send', this.#ffi.DataType.I64, [fd, message, BigInt(message.length), 0]);
    if (r.value < 0) throw new SysError('send', r.errnoCode, String(fd), errnoText(r.errnoMessage));
    if (r.value !== message.length) throw new SysError('send', EINVAL, String(fd), 'netlink message sent in part');
  }

  netlinkRecv(fd: number, size: number): Buffer {
    const buffer = Buffer.alloc(size);
    const r = this.#invoke<number>('recv', String(fd), 'recv', this.#ffi.DataType.I64, [fd, buffer, BigInt(size), 0]);
    if (r.value < 0) throw new SysError('recv', r.errnoCode, String(fd), errnoText(r.errnoMessage));
    return buffer.subarray(0, r.value);
  }

  // --- cgroups ---

  eventfd(initval: number, flags: number): number {
    return this.#check('eventfd', hex(flags), 'eventfd', [initval, flags]);
  }

  bpfProgLoad(progType: number, insns: Buffer, license: string): number {
    const detail = `BPF_PROG_LOAD type ${progType} (${insns.length / 8} instructions)`;
    const load = (withLog: boolean): { fd: number; errno: number; text: string } =>
      this.#withCMemory('bpf', ({ copy, read }) => {
        // union bpf_attr for BPF_PROG_LOAD: u32 prog_type, u32 insn_cnt,
        // u64 insns, u64 license, u32 log_level, u32 log_size, u64 log_buf.
        const attr = Buffer.alloc(BPF_ATTR_SIZE);
        attr.writeUInt32LE(progType, 0);
        attr.writeUInt32LE(insns.length / 8, 4);
        attr.writeBigUInt64LE(copy(insns), 8);
        attr.writeBigUInt64LE(copy(Buffer.from(`${license}\0`)), 16);
        const log = withLog ? copy(Buffer.alloc(BPF_LOG_SIZE)) : 0n;
        if (withLog) {
          attr.writeUInt32LE(1, 24);
          attr.writeUInt32LE(BPF_LOG_SIZE, 28);
          attr.writeBigUInt64LE(log, 32);
        }
        const r = this.#invoke<number>('bpf', detail, 'syscall', this.#ffi.DataType.I64, [
          BigInt(this.#nr.bpf),
          BigInt(BPF_PROG_LOAD),
          attr,
          BigInt(BPF_ATTR_SIZE),
        ]);
        const text = r.value === -1 ? errnoText(r.errnoMessage) : '';
        const verifier =
          withLog && r.value === -1
            ? read(log, BPF_LOG_SIZE)
                .toString('utf8')
                .replace(/\0[^]*$/, '')
                .trim()
            : '';
        return { fd: r.value, errno: r.errnoCode, text: verifier ? `${text}: ${verifier}` : text };
      });
    const first = load(false);
    if (first.fd !== -1) return first.fd;
    // Load again with the verifier's log, only to say why it refused.
    const explained = load(true);
    if (explained.fd !== -1) return explained.fd;
    throw new SysError('bpf', explained.errno, detail, explained.text);
  }

  bpfProgAttach(targetFd: number, progFd: number, attachType: number, flags: number): void {
    // union bpf_attr for BPF_PROG_ATTACH: u32 target_fd, attach_bpf_fd, attach_type, attach_flags.
    const attr = Buffer.alloc(BPF_ATTR_SIZE);
    attr.writeUInt32LE(targetFd, 0);
    attr.writeUInt32LE(progFd, 4);
    attr.writeUInt32LE(attachType, 8);
    attr.writeUInt32LE(flags, 12);
    this.#syscall('bpf', `BPF_PROG_ATTACH fd ${progFd} to fd ${targetFd}`, [
      BigInt(BPF_PROG_ATTACH),
      attr,
      BigInt(BPF_ATTR_SIZE),
    ]);
  }

  /** Runs fn with malloc'ed memory for struct members that are addresses; all of it is freed after. */
  #withCMemory<T>(call: string, fn: (memory: CMemory) => T): T {
    const { DataType } = this.#ffi;
    const owned: bigint[] = [];
    const memory: CMemory = {
      copy: (bytes) => {
        const p = this.#invoke<bigint>(call, '', 'malloc', DataType.BigInt, [BigInt(Math.max(bytes.length, 1))]).value;
        if (p === 0n) throw new SysError(call, ENOMEM, '', 'Cannot allocate memory');
        owned.push(p);
        this.#invoke(call, '', 'memcpy', DataType.BigInt, [p, bytes, BigInt(bytes.length)]);
        return p;
      },
      read: (address, length) => {
        const out = Buffer.alloc(length);
        this.#invoke(call, '', 'memcpy', DataType.BigInt, [out, address, BigInt(length)]);
        return out;
      },
    };
    try {
      return fn(memory);
    } finally {
      for (const p of owned) this.#invoke(call, '', 'free', DataType.Void, [p]);
    }
  }

  recvFd(socket: number): { fd: number; payload: Buffer } {
    const { DataType } = this.#ffi;
    const owned: bigint[] = [];
    const cAlloc = (size: number): bigint => {
      const p = this.#invoke<bigint>('recvmsg', '', 'calloc', DataType.BigInt, [1n, BigInt(size)]).value;
      if (p === 0n) throw new SysError('recvmsg', ENOMEM, '', 'Cannot allocate memory');
      owned.push(p);
      return p;
    };
    const read = (p: bigint, size: number): Buffer => {
      const out = Buffer.alloc(size);
      this.#invoke('recvmsg', '', 'memcpy', DataType.BigInt, [out, p, BigInt(size)]);
      return out;
    };
    try {
      const dataSize = 4096;
      const data = cAlloc(dataSize);
      const iov = Buffer.alloc(16);
      iov.writeBigUInt64LE(data, 0);
      iov.writeBigUInt64LE(BigInt(dataSize), 8);
      const controlSize = 24; // CMSG_SPACE(sizeof(int))
      const control = cAlloc(controlSize);
      const iovC = cAlloc(16);
      this.#invoke('recvmsg', '', 'memcpy', DataType.BigInt, [iovC, iov, 16n]);
      const msg = Buffer.alloc(56);
      msg.writeBigUInt64LE(iovC, 16);
      msg.writeBigUInt64LE(1n, 24);
      msg.writeBigUInt64LE(control, 32);
      msg.writeBigUInt64LE(BigInt(controlSize), 40);
      const r = this.#invoke<number>('recvmsg', String(socket), 'recvmsg', DataType.I64, [socket, msg, MSG_CMSG_CLOEXEC]);
      if (r.value < 0) throw new SysError('recvmsg', r.errnoCode, String(socket), errnoText(r.errnoMessage));
      const cmsg = read(control, controlSize);
      const controllen = Number(msg.readBigUInt64LE(40));
      if (controllen < 20 || cmsg.readInt32LE(8) !== SOL_SOCKET || cmsg.readInt32LE(12) !== SCM_RIGHTS) {
        throw new SysError('recvmsg', EINVAL, String(socket), 'no file descriptor in the message');
      }
      return { fd: cmsg.readInt32LE(16), payload: read(data, r.value) };
    } finally {
      for (const p of owned) this.#invoke('recvmsg', '', 'free', DataType.Void, [p]);
    }
  }

  socketpair(): [number, number] {
    const fds = Buffer.alloc(8);
    this.#check('socketpair', '', 'socketpair', [AF_UNIX, SOCK_STREAM_CLOEXEC, 0, fds]);
    return [fds.readInt32LE(0), fds.readInt32LE(4)];
  }

  ioctl(fd: number, request: number, arg: number | Buffer): number {
    return this.#check('ioctl', `${fd} ${hex(request)}`, 'ioctl', [
      fd,
      BigInt(request),
      typeof arg === 'number' ? BigInt(arg) : arg,
    ]);
  }

  setsid(): number {
    return this.#check('setsid', '', 'setsid', []);
  }

  personality(persona: number): void {
    this.#check('personality', hex(persona), 'personality', [BigInt(persona)]);
  }

  memfdCreate(name: string, flags: number): number {
    return this.#check('memfd_create', name, 'memfd_create', [name, flags]);
  }

  exitNow(status: number): never {
    this.#check('_exit', String(status), '_exit', [status]);
    throw new SysError('_exit', EINVAL, String(status), 'returned');
  }

  /** Calls an int-returning libc function; -1 becomes SysError(call, errno). */
  #check(call: string, detail: string, funcName: string, args: readonly CArg[]): number {
    const r = this.#invoke<number>(call, detail, funcName, this.#ffi.DataType.I32, args);
    if (r.value === -1) throw new SysError(call, r.errnoCode, detail, errnoText(r.errnoMessage));
    return r.value;
  }

  /** syscall(SYS_name, args...), which returns a long; errors as #check. */
  #syscall(name: SyscallName, detail: string, args: readonly CArg[], call: string = name): number {
    const r = this.#invoke<number>(call, detail, 'syscall', this.#ffi.DataType.I64, [BigInt(this.#nr[name]), ...args]);
    if (r.value === -1) throw new SysError(call, r.errnoCode, detail, errnoText(r.errnoMessage));
    return r.value;
  }

  #invoke<T>(
    call: string,
    detail: string,
    funcName: string,
    retType: number,
    args: readonly CArg[],
    library = LIBC,
    errno = true,
  ): ErrnoResult<T> {
    const { DataType } = this.#ffi;
    const paramsType: unknown[] = [];
    const paramsValue: unknown[] = [];
    for (const a of args) {
      // C strings end at NUL: a string holding one would silently be cut there.
      if (typeof a === 'string' && a.includes('\0')) {
        throw new SysError(call, EINVAL, detail, 'Invalid argument (string contains a NUL byte)');
      }
      const [type, value] =
        a === null
          ? [DataType.BigInt, 0n]
          : typeof a === 'string'
            ? [DataType.String, a]
            : typeof a === 'number'
              ? [DataType.I32, a | 0]
              : typeof a === 'bigint'
                ? [DataType.BigInt, a]
                : [this.#ffi.bufferParam(a.length), a];
      paramsType.push(type);
      paramsValue.push(value);
    }
    try {
      const params = { library, funcName, retType, paramsType, paramsValue, errno, freeResultMemory: false };
      const result = this.#ffi.load(params as Parameters<FfiBinding['load']>[0]);
      // Without errno, ffi-rs returns the bare value.
      return errno ? (result as unknown as ErrnoResult<T>) : { value: result as T, errnoCode: 0, errnoMessage: '' };
    } catch (err) {
      // ffi-rs reports a type mismatch as an Error with an empty message and
      // only a code (e.g. "BigintExpected"): name the function at least.
      const code = (err as { code?: string }).code;
      throw new Error(`ffi-rs: ${funcName}: ${(err as Error).message || code || 'call failed'}`, { cause: err });
    }
  }
}

/** A bit mask of CPUs or nodes in unsigned longs (64-bit words, little-endian on x86_64 and aarch64). */
function idMask(ids: readonly number[]): Buffer {
  const mask = Buffer.alloc(Math.max(1, Math.ceil((Math.max(...ids) + 1) / 64)) * 8);
  for (const id of ids) mask[id >> 3]! |= 1 << (id & 7);
  return mask;
}

/** struct __user_cap_header_struct { u32 version; i32 pid = 0 (this thread) }. */
function capHeader(): Buffer {
  return Buffer.from(new Uint32Array([CAPABILITY_VERSION_3, 0]).buffer);
}
