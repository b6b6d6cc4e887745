/**
 * Numeric constants of the Linux system calls in Sys (values from the
 * kernel's uapi headers; identical on x86_64 and aarch64 unless noted).
 */
import { constants as fsConstants } from 'node:fs';

// --- errno values (asm-generic/errno-base.h, errno.h) ---
export const EPERM = 1;
export const ENOENT = 2;
export const ESRCH = 3;
export const EAGAIN = 11;
export const ENOMEM = 12;
export const EACCES = 13;
export const EEXIST = 17;
export const ENOTDIR = 20;
export const ENODEV = 19;
export const EINVAL = 22;
export const EFAULT = 14;
export const ENOSYS = 38;
export const ELOOP = 40;

// --- mount(2) flags (linux/mount.h) ---
export const MS_RDONLY = 0x1;
export const MS_NOSUID = 0x2;
export const MS_NODEV = 0x4;
export const MS_NOEXEC = 0x8;
export const MS_SYNCHRONOUS = 0x10;
export const MS_REMOUNT = 0x20;
export const MS_MANDLOCK = 0x40;
export const MS_DIRSYNC = 0x80;
export const MS_NOSYMFOLLOW = 0x100;
export const MS_NOATIME = 0x400;
export const MS_NODIRATIME = 0x800;
export const MS_BIND = 0x1000;
export const MS_MOVE = 0x2000;
export const MS_REC = 0x4000;
export const MS_SILENT = 0x8000;
export const MS_POSIXACL = 0x10000;
export const MS_UNBINDABLE = 0x20000;
export const MS_PRIVATE = 0x40000;
export const MS_SLAVE = 0x80000;
export const MS_SHARED = 0x100000;
export const MS_RELATIME = 0x200000;
export const MS_I_VERSION = 0x800000;
export const MS_STRICTATIME = 0x1000000;
export const MS_LAZYTIME = 0x2000000;

// --- mount_setattr(2) (linux/mount.h; Linux 5.12) ---
export const MOUNT_ATTR_RDONLY = 0x1;
export const MOUNT_ATTR_NOSUID = 0x2;
export const MOUNT_ATTR_NODEV = 0x4;
export const MOUNT_ATTR_NOEXEC = 0x8;
/** The atime mode is one field: clearing it takes all of this mask. */
export const MOUNT_ATTR__ATIME = 0x70;
export const MOUNT_ATTR_RELATIME = 0x0;
export const MOUNT_ATTR_NOATIME = 0x10;
export const MOUNT_ATTR_STRICTATIME = 0x20;
export const MOUNT_ATTR_NODIRATIME = 0x80;
export const MOUNT_ATTR_NOSYMFOLLOW = 0x200000;
/** The mount's files seen with their owners mapped through a user namespace (Linux 5.12). */
export const MOUNT_ATTR_IDMAP = 0x100000;
export const AT_RECURSIVE = 0x8000;
export const AT_SYMLINK_NOFOLLOW = 0x100;
export const AT_EMPTY_PATH = 0x1000;
/** The "directory" argument of the *at calls that means the cwd. */
export const AT_FDCWD = -100;

// --- open_tree(2) and move_mount(2) (linux/mount.h; Linux 5.2) ---
export const OPEN_TREE_CLONE = 0x1;
/** O_CLOEXEC's value. */
export const OPEN_TREE_CLOEXEC = 0o2000000;
export const MOVE_MOUNT_F_EMPTY_PATH = 0x4;
export const MOVE_MOUNT_T_EMPTY_PATH = 0x40;

// --- openat2(2) resolve flags (linux/openat2.h; Linux 5.6) ---
/** No /proc/self/fd/N or /proc/PID/root style links on the way. */
export const RESOLVE_NO_MAGICLINKS = 0x02;
/** Resolve as if dirfd were "/": absolute symlinks and ".." stay below it. */
export const RESOLVE_IN_ROOT = 0x10;

// --- keyctl(2) (linux/keyctl.h) ---
export const KEYCTL_JOIN_SESSION_KEYRING = 1;
export const KEYCTL_SETPERM = 5;
export const KEYCTL_DESCRIBE = 6;
/** Key permission: search, for processes whose fsuid is the key's owner. */
export const KEY_USR_SEARCH = 0x80000;

// --- umount2(2) flags ---
export const MNT_DETACH = 0x2;
export const UMOUNT_NOFOLLOW = 0x8;

// --- clone/unshare/setns flags (linux/sched.h) ---
/** unshare(CLONE_FS) lets a thread of a multithreaded process setns(CLONE_NEWNS). */
export const CLONE_FS = 0x200;
export const CLONE_NEWTIME = 0x80;
export const CLONE_NEWNS = 0x20000;
export const CLONE_NEWUTS = 0x4000000;
export const CLONE_NEWIPC = 0x8000000;
export const CLONE_NEWPID = 0x20000000;
export const CLONE_NEWNET = 0x40000000;

// --- prctl(2) options (linux/prctl.h) ---
export const PR_GET_DUMPABLE = 3;
export const PR_SET_DUMPABLE = 4;
export const PR_SET_KEEPCAPS = 8;
export const PR_CAPBSET_READ = 23;
export const PR_CAPBSET_DROP = 24;
export const PR_SET_NO_NEW_PRIVS = 38;
export const PR_GET_NO_NEW_PRIVS = 39;
export const PR_CAP_AMBIENT = 47;
/** Second arguments of PR_CAP_AMBIENT. */
export const PR_CAP_AMBIENT_RAISE = 2;
export const PR_CAP_AMBIENT_CLEAR_ALL = 4;

// --- flock(2) operations ---
export const LOCK_SH = 1;
export const LOCK_EX = 2;
export const LOCK_NB = 4;
export const LOCK_UN = 8;

// --- fcntl(2) ---
export const F_GETFD = 1;
export const F_SETFD = 2;
export const F_GETFL = 3;
export const F_DUPFD_CLOEXEC = 1030;
export const FD_CLOEXEC = 1;

// --- close_range(2) flags ---
export const CLOSE_RANGE_CLOEXEC = 0x4;

// --- file types (the S_IFMT bits of st_mode; mknod(2) takes the first three) ---
export const S_IFMT = 0o170000;
export const S_IFIFO = 0o010000;
export const S_IFCHR = 0o020000;
export const S_IFBLK = 0o060000;
export const S_IFDIR = 0o040000;
export const S_IFREG = 0o100000;
export const S_IFLNK = 0o120000;
export const S_IFSOCK = 0o140000;

// --- open(2) flags, for fs.openSync ---
// O_DIRECTORY and O_NOFOLLOW differ between x86_64 and aarch64, so these come
// from Node, which was built for this architecture.
export const O_RDONLY = fsConstants.O_RDONLY;
export const O_WRONLY = fsConstants.O_WRONLY;
export const O_RDWR = fsConstants.O_RDWR;
export const O_CREAT = fsConstants.O_CREAT;
export const O_EXCL = fsConstants.O_EXCL;
export const O_NOCTTY = fsConstants.O_NOCTTY;
export const O_TRUNC = fsConstants.O_TRUNC;
export const O_NONBLOCK = fsConstants.O_NONBLOCK;
export const O_DIRECTORY = fsConstants.O_DIRECTORY;
export const O_NOFOLLOW = fsConstants.O_NOFOLLOW;
// Node does not export these two; they are the same on x86_64 and aarch64.
export const O_CLOEXEC = 0o2000000;
export const O_PATH = 0o10000000;

// --- statfs(2) f_type (linux/magic.h) ---
export const PROC_SUPER_MAGIC = 0x9fa0;

// --- setrlimit(2) ---
/** RLIM_INFINITY: (rlim_t)-1, an unsigned 64-bit value, hence a bigint. */
export const RLIM_INFINITY = 0xffff_ffff_ffff_ffffn;

// libseccomp (seccomp.h): actions, comparison operators, filter attributes.
export const SCMP_ACT_KILL_PROCESS = 0x80000000;
export const SCMP_ACT_KILL_THREAD = 0x00000000;
export const SCMP_ACT_TRAP = 0x00030000;
export const SCMP_ACT_ERRNO = 0x00050000; // | errno
export const SCMP_ACT_TRACE = 0x7ff00000; // | msg
export const SCMP_ACT_LOG = 0x7ffc0000;
export const SCMP_ACT_NOTIFY = 0x7fc00000;
export const SCMP_ACT_ALLOW = 0x7fff0000;

export const SCMP_CMP_NE = 1;
export const SCMP_CMP_LT = 2;
export const SCMP_CMP_LE = 3;
export const SCMP_CMP_EQ = 4;
export const SCMP_CMP_GE = 5;
export const SCMP_CMP_GT = 6;
export const SCMP_CMP_MASKED_EQ = 7;

export const SCMP_FLTATR_CTL_NNP = 3;
export const SCMP_FLTATR_CTL_OPTIMIZE = 8;

// seccomp(2) (uapi/linux/seccomp.h): runts loads the filter itself, with these flags.
export const SECCOMP_SET_MODE_FILTER = 1;
export const SECCOMP_FILTER_FLAG_TSYNC = 1 << 0;
export const SECCOMP_FILTER_FLAG_LOG = 1 << 1;
export const SECCOMP_FILTER_FLAG_SPEC_ALLOW = 1 << 2;
export const SECCOMP_FILTER_FLAG_NEW_LISTENER = 1 << 3;
export const SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV = 1 << 5;
/** Offsets in struct seccomp_data: the syscall number, the AUDIT_ARCH word. */
export const SECCOMP_DATA_NR = 0;
export const SECCOMP_DATA_ARCH = 4;
export const AUDIT_ARCH_X86_64 = 0xc000003e;
/** libseccomp's token for x32: not an AUDIT_ARCH (x32 tasks report x86_64's). */
export const SCMP_ARCH_X32 = 0x4000003e;
/** An x32 syscall number has this bit set; an x86_64 one has not. */
export const X32_SYSCALL_BIT = 0x40000000;

// --- eventfd(2) flags ---
export const EFD_CLOEXEC = 0o2000000;

// --- bpf(2) (uapi/linux/bpf.h): cgroup v2 device programs ---
export const BPF_PROG_TYPE_CGROUP_DEVICE = 15;
export const BPF_CGROUP_DEVICE = 6;
/** Other programs may stay attached beside this one (each must allow an access). */
export const BPF_F_ALLOW_MULTI = 2;

// Terminals (asm-generic/ioctls.h).
export const TIOCGPTN = 0x80045430;
export const TIOCSPTLCK = 0x40045431;
export const TIOCSCTTY = 0x540e;
export const TIOCSWINSZ = 0x5414;

// memfd_create(2) and file seals (fcntl(2)).
export const MFD_CLOEXEC = 0x1;
export const MFD_ALLOW_SEALING = 0x2;
/** Linux 6.3: exec-able even where vm.memfd_noexec = 1 makes memfds noexec by default. */
export const MFD_EXEC = 0x10;
export const F_ADD_SEALS = 1033;
export const F_SEAL_SEAL = 0x1;
export const F_SEAL_SHRINK = 0x2;
export const F_SEAL_GROW = 0x4;
export const F_SEAL_WRITE = 0x8;

// waitid(2)
export const P_PIDFD = 3;
export const WNOHANG = 1;
export const WEXITED = 4;
export const CLD_EXITED = 1;

// Scheduling policies (linux/sched.h), for sched_setattr(2).
export const SCHED_OTHER = 0;
export const SCHED_FIFO = 1;
export const SCHED_RR = 2;
export const SCHED_BATCH = 3;
export const SCHED_IDLE = 5;
export const SCHED_DEADLINE = 6;
/** sizeof(struct sched_attr), SCHED_ATTR_SIZE_VER0: without the utilization clamps. */
export const SCHED_ATTR_SIZE_VER0 = 48;

// ioprio_set(2) (linux/ioprio.h).
export const IOPRIO_WHO_PROCESS = 1;
export const IOPRIO_CLASS_SHIFT = 13;

// set_mempolicy(2) modes and mode flags (linux/mempolicy.h).
export const MPOL_DEFAULT = 0;
export const MPOL_PREFERRED = 1;
export const MPOL_BIND = 2;
export const MPOL_INTERLEAVE = 3;
export const MPOL_LOCAL = 4;
export const MPOL_PREFERRED_MANY = 5;
export const MPOL_WEIGHTED_INTERLEAVE = 6;
export const MPOL_F_STATIC_NODES = 1 << 15;
export const MPOL_F_RELATIVE_NODES = 1 << 14;
export const MPOL_F_NUMA_BALANCING = 1 << 13;
