/**
 * THE system-call boundary of runts. Every libc call goes through an object
 * of this interface: `sys()` (src/sys/index.ts: an FfiSys, ffi-rs,
 * src/sys/ffi.ts) in production, and `RecordingSys` (src/sys/recording.ts)
 * in unit tests, which records calls.
 *
 * Conventions: a failing call throws SysError (errno, the call's name and
 * its main argument); flags are plain numbers from src/sys/constants.ts.
 */
import { S_IFMT } from './constants';
import type { MountinfoEntry } from './mountinfo';

export interface CapabilitySets {
  /** Bit masks, bit N = capability number N (0..63). */
  effective: bigint;
  permitted: bigint;
  inheritable: bigint;
}

/**
 * One comparison of a seccomp rule (struct scmp_arg_cmp). Values are plain
 * numbers: the filter travels to the init as JSON (config values above
 * 2^53 were already rounded by JSON.parse, as in any JSON reader of node).
 */
export interface SeccompCondition {
  arg: number;
  op: number;
  a: number;
  b: number;
}

export interface SeccompRule {
  syscall: string;
  action: number;
  /** All must hold (AND); an empty list matches every call. */
  conditions: SeccompCondition[];
}

/** A filter ready for libseccomp: actions, arches, attributes as its numbers and names. */
export interface SeccompFilter {
  defaultAction: number;
  /** libseccomp architecture names ("x86_64", "x86", …) besides the native one. */
  architectures: string[];
  /** seccomp_attr_set pairs, applied in order. */
  attributes: [number, number][];
  rules: SeccompRule[];
  /** SECCOMP_FILTER_FLAG_* bits for seccomp(2), NEW_LISTENER included when a rule notifies. */
  flags: number;
  /**
   * Every syscall the config names, when syscalls newer than all of them are
   * to fail with ENOSYS (runc's patchbpf); absent when the default action
   * already lets them through or answers ENOSYS.
   */
  enosysNames?: string[];
}

/** The largest syscall number of enosysNames for one architecture of the filter. */
export interface SeccompArchLast {
  /** libseccomp's token for the architecture: its AUDIT_ARCH_* value, but for x32. */
  token: number;
  nr: number;
}

/** libseccomp's filter as classic BPF, and what the ENOSYS stub needs. */
export interface SeccompExport {
  /** struct sock_filter[], host byte order, as seccomp_export_bpf wrote it. */
  program: Buffer;
  /** Syscall names libseccomp did not know. */
  skipped: string[];
  /** One per architecture of the filter (the native one included); empty without enosysNames. */
  lastSyscalls: SeccompArchLast[];
}

/** A filter ready to load: the ENOSYS stub then libseccomp's program. */
export interface PreparedSeccomp {
  readonly filter: SeccompFilter;
  readonly skipped: string[];
  readonly program: Buffer;
}

/** What stat(2) says of a file: the fields runts reads. */
export interface FileStat {
  /** File type (S_IFMT bits) and permission bits. */
  mode: number;
  rdev: number;
  dev: number;
  ino: number;
  uid: number;
  gid: number;
  atimeMs: number;
  mtimeMs: number;
}

/** A file's type, to compare with S_IFDIR, S_IFLNK, … (constants.ts). */
export const fileType = (st: { mode: number }): number => st.mode & S_IFMT;

/** Whether something is at path (symlinks followed), as node's existsSync says: no for any failure. */
export function exists(sys: Pick<Sys, 'stat'>, path: string): boolean {
  try {
    return sys.stat(path) !== undefined;
  } catch {
    return false;
  }
}

/** struct sched_attr's fields (sched_setattr(2)); times in nanoseconds. */
export interface SchedAttr {
  policy: number;
  flags: number;
  nice: number;
  priority: number;
  runtime: number;
  deadline: number;
  period: number;
}

/** MOUNT_ATTR_* bits to set and to clear. */
export interface MountAttributes {
  set: number;
  clear: number;
}

export interface Sys {
  // --- mounts and the root ---
  mount(source: string | null, target: string, fstype: string | null, flags: number, data: string | null): void;
  /**
   * mount_setattr(2) with AT_RECURSIVE: sets and clears MOUNT_ATTR_* on the
   * mount at target (a path, or a descriptor of the mount) and every mount
   * below it (Linux 5.12).
   */
  mountSetattr(target: string | number, attributes: MountAttributes): void;
  umount2(target: string, flags: number): void;
  /**
   * open_tree(2) with OPEN_TREE_CLONE (Linux 5.2): a detached copy of the
   * mount at path (and of every mount below it when recursive), as a
   * close-on-exec fd. It is attached nowhere until moveMount, and is gone
   * when the last fd to it closes.
   */
  openTreeClone(path: string, recursive: boolean): number;
  /**
   * mount_setattr(2) MOUNT_ATTR_IDMAP on a detached mount (Linux 5.12): its
   * files' owners seen through the mapping of the user namespace at
   * usernsFd; recursive: on every mount of the tree, else the top one only.
   */
  idmapMount(fd: number, usernsFd: number, recursive: boolean): void;
  /** move_mount(2) (Linux 5.2): the detached mount at fd attached onto the file or directory that onto holds. */
  moveMount(fd: number, onto: number): void;
  pivotRoot(newRoot: string, putOld: string): void;
  chroot(path: string): void;
  /** chdir(2) on the calling (main) thread. */
  chdir(path: string): void;
  /**
   * getcwd(2), the system call (node's process.cwd() is cached and misses
   * FFI chdirs): a directory outside the caller's root reads "(unreachable)/…".
   */
  getcwd(): string;
  /** fchdir(2): to a directory held open (e.g. the old root, after pivot_root). */
  fchdir(fd: number): void;
  mknod(path: string, mode: number, major: number, minor: number): void;
  symlink(target: string, path: string): void;
  chmod(path: string, mode: number): void;
  chown(path: string, uid: number, gid: number): void;
  umask(mask: number): number;

  // --- plain files (node's *Sync calls, which run on the calling, main, thread) ---
  /** open(2); returns the fd. */
  open(path: string, flags: number, mode?: number): number;
  close(fd: number): void;
  /** One write(2) of data at the fd's offset; the bytes written. */
  write(fd: number, data: string): number;
  /** The whole file, as UTF-8 text. */
  readFile(path: string): string;
  mkdir(path: string, mode: number): void;
  unlink(path: string): void;
  readdir(path: string): string[];
  readlink(path: string): string;
  realpath(path: string): string;
  /** stat(2) (symlinks followed); undefined when there is nothing there (ENOENT, ENOTDIR). */
  stat(path: string): FileStat | undefined;
  /** lstat(2) (a last symlink not followed); undefined when there is nothing there. */
  lstat(path: string): FileStat | undefined;
  fstat(fd: number): FileStat;
  /** A regular file's contents copied to a new file. */
  copyFile(from: string, to: string): void;
  lchown(path: string, uid: number, gid: number): void;
  /** Access and modification times of path itself (a symlink is not followed). */
  lutimes(path: string, atimeMs: number, mtimeMs: number): void;

  // --- namespaces ---
  unshare(flags: number): void;
  setns(fd: number, nstype: number): void;
  sethostname(name: string): void;
  setdomainname(name: string): void;

  // --- credentials and capabilities ---
  setgroups(gids: number[]): void;
  setresgid(rgid: number, egid: number, sgid: number): void;
  setresuid(ruid: number, euid: number, suid: number): void;
  capget(): CapabilitySets;
  capset(sets: CapabilitySets): void;
  /** prctl(2); returns its value (e.g. PR_CAPBSET_READ). */
  prctl(option: number, arg2?: number | bigint, arg3?: number | bigint, arg4?: number | bigint, arg5?: number | bigint): number;
  setrlimit(resource: number, soft: bigint, hard: bigint): void;

  // --- scheduling and memory placement (the calling thread's; kept across fork and execve) ---
  /** sched_setattr(2) on the calling thread. */
  schedSetattr(attr: SchedAttr): void;
  /** ioprio_set(IOPRIO_WHO_PROCESS, 0, ioprio): the calling thread's I/O priority. */
  ioprioSet(ioprio: number): void;
  /** sched_setaffinity(2) on the calling thread: it runs on these CPUs only. */
  schedSetaffinity(cpus: readonly number[]): void;
  /** sched_getaffinity(2) of the calling thread: the CPUs it may run on. */
  schedGetaffinity(): number[];
  /** set_mempolicy(2): mode (with its MPOL_F_* flags) over these NUMA nodes (none: a NULL mask). */
  setMempolicy(mode: number, nodes: readonly number[]): void;

  // --- files and descriptors ---
  /**
   * openat2(2) (Linux 5.6): path opened relative to the directory dirfd
   * (AT_FDCWD: the cwd) and resolved as the RESOLVE_* bits of `resolve`
   * say (RESOLVE_IN_ROOT: as if dirfd were "/"). Returns the new fd.
   */
  openat2(dirfd: number, path: string, flags: number, resolve: number, mode?: number): number;
  /**
   * The mount a descriptor is on: its id, its parent's, and its mount point
   * (/proc/self/fdinfo and /proc/self/mountinfo; here so that the double,
   * which mounts nothing, can answer for the mounts it recorded).
   */
  mountOf(fd: number): MountinfoEntry;
  flock(fd: number, operation: number): void;
  /** fcntl(fd, F_GETFD/F_SETFD/…, arg) */
  fcntl(fd: number, cmd: number, arg: number): number;
  closeRange(first: number, last: number, flags: number): void;
  dup2(oldfd: number, newfd: number): void;
  /** fstatfs(2): the filesystem an fd is on; type is its magic number (f_type: PROC_SUPER_MAGIC, …). */
  fstatfs(fd: number): { type: number };

  // --- processes ---
  /** execve(2) on the main thread: does not return on success. */
  execve(path: string, argv: string[], envp: string[]): never;
  /** pidfd_open(2) + pidfd_send_signal(2): signals exactly that process. */
  pidfdOpen(pid: number): number;
  pidfdSendSignal(pidfd: number, signal: number): void;
  /**
   * waitid(P_PIDFD, WEXITED): how that child ended (exit code, or the
   * signal's number), reaping it; undefined while it still runs (nohang).
   */
  waitPidfd(pidfd: number, nohang: boolean): { code: number | null; signal: number | null } | undefined;

  // --- keyrings (keyctl(2); the calling thread's credentials) ---
  /** KEYCTL_JOIN_SESSION_KEYRING: joins the keyring of that name, made if need be; its serial. */
  joinSessionKeyring(name: string): number;
  /** KEYCTL_DESCRIBE: "type;uid;gid;perm;description" (perm in hex). */
  describeKey(serial: number): string;
  /** KEYCTL_SETPERM. */
  setKeyPermissions(serial: number, permissions: number): void;
  getpid(): number;

  // --- seccomp (libseccomp builds, runts loads) ---
  /**
   * Builds the filter with libseccomp and exports it as BPF, without
   * loading it: the init does this before pivot_root (libseccomp is a host
   * library) and while create runs the createRuntime hooks, so that little
   * is left for loadSeccomp. Syscall names this libseccomp does not know
   * are skipped, as runc does.
   */
  exportSeccomp(filter: SeccompFilter): SeccompExport;
  /**
   * seccomp(SECCOMP_SET_MODE_FILTER, flags, program) on the calling thread.
   * The listener fd when flags hold NEW_LISTENER, else -1.
   */
  loadSeccomp(program: Buffer, flags: number): number;
  /** Whether this kernel takes these SECCOMP_FILTER_FLAG_* bits (nothing is loaded). */
  seccompFlagsSupported(flags: number): boolean;

  // --- unix sockets ---
  /**
   * A connected AF_UNIX socket (close-on-exec): a stream, or a datagram
   * socket (whose write(2)s are datagrams). A path beginning with "@" names
   * an abstract socket, as sd_notify(3) reads $NOTIFY_SOCKET.
   */
  connectUnix(path: string, datagram?: boolean): number;
  /** An AF_UNIX datagram socket bound to path (close-on-exec, non-blocking: reads fail EAGAIN when none is queued). */
  bindUnixDatagram(path: string): number;
  /** pipe2(O_CLOEXEC | O_NONBLOCK): [read end, write end]. */
  pipe(): [number, number];
  /** sendmsg(2) of payload with fds as SCM_RIGHTS. */
  sendFds(socket: number, payload: Buffer, fds: number[]): void;
  /** recvmsg(2) of one message carrying one fd (SCM_RIGHTS); blocks. */
  recvFd(socket: number): { fd: number; payload: Buffer };
  /** socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC). */
  socketpair(): [number, number];

  // --- netlink (rtnetlink: linux/net-devices.ts) ---
  /**
   * socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, protocol): it talks to the
   * network namespace of the calling thread, for its whole life.
   */
  netlinkSocket(protocol: number): number;
  /** send(2) of one whole message to the kernel (a netlink socket's default peer). */
  netlinkSend(fd: number, message: Buffer): void;
  /** recv(2) of one datagram (its first `size` bytes); blocks. */
  netlinkRecv(fd: number, size: number): Buffer;

  // --- terminals ---
  /** ioctl(2) with an int or a pointer to arg's bytes (written back for _IOR requests). */
  ioctl(fd: number, request: number, arg: number | Buffer): number;
  /** personality(2): the execution domain, kept across execve. */
  personality(persona: number): void;
  /** setsid(2): a new session (and process group) led by this process. */
  setsid(): number;
  /**
   * posix_spawn(3) from the calling (main) thread, which libuv then knows
   * nothing of: it never reaps the child, so when runts exits first the
   * child and its exit status go to the subreaper (containerd's shim,
   * conmon), as with runc. `fds` are dup2'ed (an fd onto itself just loses
   * close-on-exec); signal handlers and mask are reset; `setsid` makes a
   * new session. Returns the pid (in this process's pid namespace).
   */
  spawnDetached(path: string, argv: string[], envp: string[], opts: { fds: [number, number][]; setsid: boolean }): number;
  /** memfd_create(2): an anonymous file. */
  memfdCreate(name: string, flags: number): number;
  /** _exit(2): the process ends now, nothing of node's own exit run. */
  exitNow(status: number): never;

  // --- cgroups ---
  /** eventfd(2): a counter fd that cgroup v1 notifications (cgroup.event_control) signal. */
  eventfd(initval: number, flags: number): number;
  /**
   * bpf(BPF_PROG_LOAD): loads a program (struct bpf_insn[], 8 bytes each)
   * and returns its fd; a verifier rejection carries the verifier's log.
   */
  bpfProgLoad(progType: number, insns: Buffer, license: string): number;
  /** bpf(BPF_PROG_ATTACH): attaches a loaded program to a target (a cgroup directory's fd). */
  bpfProgAttach(targetFd: number, progFd: number, attachType: number, flags: number): void;
}

export class SysError extends Error {
  override name = 'SysError';
  constructor(
    readonly call: string,
    readonly errno: number,
    readonly detail: string,
    errnoText: string,
  ) {
    super(`${call}${detail ? ` ${detail}` : ''}: ${errnoText}`);
  }
}
