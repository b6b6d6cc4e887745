/*
 * runts-helper: the steps that must happen in a single-threaded process
 * between runts (node) and the program it starts, which node cannot do.
 *
 *   runts-helper [STEP...] -- PATH ARGV0 [ARG...]
 *
 * Steps, in the order given (KIND: a /proc/PID/ns name: mnt, user, pid,
 * uts, ipc, net, cgroup, time):
 *   unshare=KIND[,KIND...]
 *                    unshare(2) those namespaces. mnt: the init's node is
 *                    then born in the container's mount namespace, every
 *                    thread of it, so no thread keeps the host's root or
 *                    mounts (a thread's /proc/self/task/N/root was a way
 *                    out). user,pid: a user namespace, and a pid namespace
 *                    for children owned by it (with hold=).
 *   setns=KIND:PATH  setns into the namespace at PATH, likewise; user and
 *   setns=KIND:N     time need a single-threaded caller. N: an inherited
 *                    fd, closed once joined.
 *   sync-fd=N        fd N (a socket to runts) carries the steps below;
 *                    marked close-on-exec. From here a failed step says
 *                    why there, not on stderr.
 *   await-maps       write "maps\n" to the sync fd, then wait for one byte:
 *                    runts writes /proc/PID/{uid,gid}_map of the user
 *                    namespace just made meanwhile.
 *   root             setresgid(0), setgroups(none), setresuid(0): root of
 *                    the user namespace joined or made (ids 0 mapped).
 *   fork             clone(CLONE_PARENT): the child, PID 1 of the pid
 *                    namespace made just before (owned by the user
 *                    namespace: proc can then be mounted inside), goes on
 *                    with the steps and is runts' own child; this process
 *                    writes "pid N\n" (the child's pid as runts sees it) to
 *                    the sync fd and exits 0.
 *   cgroup-fd=N      write "0" to fd N (the container's cgroup.procs,
 *                    opened by runts) and close it: join as one process.
 *   cpus=N[,N...]    sched_setaffinity(2) to those CPUs (exec's
 *   cpus=all         execCPUAffinity.final), or to every CPU, which the
 *                    kernel narrows to the cgroup's cpuset: after the
 *                    cgroup join, whose cpuset would reset it.
 *   tty              setsid(); ioctl(0, TIOCSCTTY, 0).
 *   report-fd=N      mark fd N close-on-exec; if the last execve fails,
 *                    write why to it (start reads it from exec.fifo).
 * then (without hold=) execve(PATH, [ARGV0, ARG...], envp).
 *
 *   runts-helper userns-hold
 *
 * A user namespace for runts to give an id-mapped mount its mapping: the
 * helper unshares one, writes a byte to fd 1, and waits until fd 0 reaches
 * end of file (runts has written the maps and opened /proc/PID/ns/user),
 * then exits 0. Apart from the steps above: it runs nothing after.
 *
 * It is also the last hop into the container: runts execs it from a sealed
 * memfd, so that while the program's execve runs, /proc/self/exe is this
 * sealed copy and never node or a host file the container could reopen
 * and write (CVE-2019-5736). A program whose "#!" line names
 * /proc/self/exe therefore runs this helper as its interpreter, with argv[0]
 * the interpreter's path: argv[0] must be "runts-helper", else it refuses.
 *
 * No libc: raw system calls only, so that nothing runs between the
 * container's seccomp filter and the program but the calls listed above
 * (a strict allow-list profile would kill a libc start-up's extra calls).
 * Failure exits 126 (a step) or 127 (the execve), with a line on stderr.
 */
#include <asm/unistd.h>
#include <linux/fcntl.h>
#include <linux/sched.h>

#ifndef CLONE_NEWTIME
#define CLONE_NEWTIME 0x00000080
#endif
#define TIOCSCTTY 0x540E
#define SIGCHLD 17
#define F_SETFD 2
#define FD_CLOEXEC 1

#if defined(__x86_64__)
__asm__(".text\n.global _start\n_start:\n xor %rbp,%rbp\n mov %rsp,%rdi\n and $-16,%rsp\n call start_c\n hlt\n");
static long sys6(long n, long a, long b, long c, long d, long e, long f) {
  long ret;
  register long r10 __asm__("r10") = d;
  register long r8 __asm__("r8") = e;
  register long r9 __asm__("r9") = f;
  __asm__ volatile("syscall" : "=a"(ret) : "a"(n), "D"(a), "S"(b), "d"(c), "r"(r10), "r"(r8), "r"(r9) : "rcx", "r11", "memory");
  return ret;
}
#elif defined(__aarch64__)
__asm__(".text\n.global _start\n_start:\n mov x29, #0\n mov x0, sp\n and sp, x0, #-16\n bl start_c\n");
static long sys6(long n, long a, long b, long c, long d, long e, long f) {
  register long x8 __asm__("x8") = n;
  register long x0 __asm__("x0") = a;
  register long x1 __asm__("x1") = b;
  register long x2 __asm__("x2") = c;
  register long x3 __asm__("x3") = d;
  register long x4 __asm__("x4") = e;
  register long x5 __asm__("x5") = f;
  __asm__ volatile("svc 0" : "+r"(x0) : "r"(x8), "r"(x1), "r"(x2), "r"(x3), "r"(x4), "r"(x5) : "memory");
  return x0;
}
#else
#error "runts-helper: no system call glue for this architecture (x86_64 and aarch64 only)"
#endif

#define sys3(n, a, b, c) sys6(n, (long)(a), (long)(b), (long)(c), 0, 0, 0)

static unsigned long len(const char *s) {
  unsigned long n = 0;
  while (s[n]) n++;
  return n;
}

static int starts(const char *s, const char *prefix, const char **rest) {
  while (*prefix)
    if (*s++ != *prefix++) return 0;
  if (rest) *rest = s;
  return 1;
}

static int same(const char *a, const char *b) {
  const char *rest;
  return starts(a, b, &rest) && *rest == 0;
}

/* A small decimal number, or -1. */
static long number(const char *s) {
  long n = 0;
  if (!*s) return -1;
  for (; *s; s++) {
    if (*s < '0' || *s > '9' || n > 100000) return -1;
    n = n * 10 + (*s - '0');
  }
  return n;
}

static const struct {
  const char *name;
  long flag;
} KINDS[] = {
    {"mnt", CLONE_NEWNS}, {"user", CLONE_NEWUSER}, {"pid", CLONE_NEWPID},       {"uts", CLONE_NEWUTS},
    {"ipc", CLONE_NEWIPC}, {"net", CLONE_NEWNET},   {"cgroup", CLONE_NEWCGROUP}, {"time", CLONE_NEWTIME},
};

/* The clone flag of the namespace kind s starts with, *rest after its name; 0 if none. */
static long kind(const char *s, const char **rest) {
  unsigned long k;
  for (k = 0; k < sizeof KINDS / sizeof KINDS[0]; k++)
    if (starts(s, KINDS[k].name, rest) && (**rest == 0 || **rest == ',' || **rest == ':')) return KINDS[k].flag;
  return 0;
}

static const char *errno_text(long err) {
  switch (err) {
    case 1: return "operation not permitted";
    case 2: return "no such file or directory";
    case 7: return "argument list too long";
    case 8: return "exec format error";
    case 12: return "cannot allocate memory";
    case 13: return "permission denied";
    case 20: return "not a directory";
    case 22: return "invalid argument";
    case 26: return "text file busy";
    case 28: return "no space left on device (a namespace limit)";
    case 40: return "too many levels of symbolic links";
    case 87: return "too many users (setns needs a single-threaded caller)";
    default: return "error";
  }
}

static void put(int fd, const char *s) { sys3(__NR_write, fd, s, len(s)); }

static void put_number(int fd, unsigned long n) {
  char num[24];
  int i = sizeof num - 1;
  num[i] = 0;
  do num[--i] = (char)('0' + n % 10); while ((n /= 10) && i > 0);
  put(fd, num + i);
}

static void say(int fd, const char *what, const char *arg, long err) {
  put(fd, what);
  if (arg) {
    put(fd, " ");
    put(fd, arg);
  }
  put(fd, ": ");
  put(fd, errno_text(err < 0 ? -err : err));
  put(fd, " (errno ");
  put_number(fd, (unsigned long)(err < 0 ? -err : err));
  put(fd, ")");
}

/* Where a failed step says why: stderr, or the sync fd once there is one. */
static long report_to = 2;

static void die(int code, const char *what, const char *arg, long err) {
  put(report_to, "runts-helper: ");
  say(report_to, what, arg, err);
  put(report_to, "\n");
  sys3(__NR_exit, code, 0, 0);
  for (;;) {}
}

/* cpus=: a mask of up to CPUS_MAX CPUs, every bit for "all". */
#define CPUS_MAX 8192
static unsigned long cpu_mask[CPUS_MAX / (8 * sizeof(unsigned long))];

static void set_cpus(const char *a, const char *v) {
  long i, r, cpu;
  if (same(v, "all")) {
    for (i = 0; i < (long)(sizeof cpu_mask / sizeof cpu_mask[0]); i++) cpu_mask[i] = ~0UL;
  } else {
    for (;;) {
      const char *digits = v;
      for (cpu = 0; *v >= '0' && *v <= '9' && cpu < CPUS_MAX; v++) cpu = cpu * 10 + (*v - '0');
      if (v == digits || cpu >= CPUS_MAX || (*v && *v != ',')) die(126, "bad CPU list", a, 22);
      cpu_mask[cpu / (8 * sizeof(unsigned long))] |= 1UL << (cpu % (8 * sizeof(unsigned long)));
      if (!*v++) break;
    }
  }
  if ((r = sys3(__NR_sched_setaffinity, 0, sizeof cpu_mask, (long)cpu_mask)) < 0) die(126, "sched_setaffinity", a, r);
}

static void userns_hold(void) {
  char byte = 'u';
  long r;
  if ((r = sys3(__NR_unshare, CLONE_NEWUSER, 0, 0)) < 0) die(126, "unshare(CLONE_NEWUSER)", 0, r);
  if ((r = sys3(__NR_write, 1, &byte, 1)) != 1) die(126, "userns-hold: write to fd 1", 0, r < 0 ? r : -5);
  while ((r = sys3(__NR_read, 0, &byte, 1)) > 0 || r == -4 /* EINTR */) {}
  sys3(__NR_exit, 0, 0, 0);
}

__attribute__((used)) void start_c(long *sp) {
  long argc = sp[0];
  char **argv = (char **)(sp + 1);
  char **envp = argv + argc + 1;
  long report = -1;
  long i, r;
  const char *v;

  if (argc < 1 || !same(argv[0], "runts-helper")) {
    put(2, "runts-helper: refusing to run as an interpreter or under another name\n");
    sys3(__NR_exit, 127, 0, 0);
  }
  if (argc == 2 && same(argv[1], "userns-hold")) userns_hold();
  for (i = 1; i < argc && !same(argv[i], "--"); i++) {
    const char *a = argv[i];
    if (starts(a, "unshare=", &v)) {
      long flags = 0, flag;
      for (;; v++) {
        if (!(flag = kind(v, &v))) die(126, "unknown namespace kind", a, 22);
        flags |= flag;
        if (*v != ',') break;
      }
      if (*v) die(126, "unknown namespace kind", a, 22);
      if ((r = sys3(__NR_unshare, flags, 0, 0)) < 0) die(126, "unshare", a, r);
    } else if (starts(a, "setns=", &v)) {
      long flag = kind(v, &v), fd;
      if (!flag || *v++ != ':') die(126, "unknown namespace kind", a, 22);
      fd = *v == '/' ? sys6(__NR_openat, AT_FDCWD, (long)v, O_RDONLY | O_CLOEXEC, 0, 0, 0) : number(v);
      if (fd < 0) die(126, "open namespace", v, fd);
      if ((r = sys3(__NR_setns, fd, flag, 0)) < 0) die(126, "setns", a, r);
      sys3(__NR_close, fd, 0, 0);
    } else if (same(a, "root")) {
      if ((r = sys3(__NR_setresgid, 0, 0, 0)) < 0) die(126, "setresgid(0) in the user namespace", 0, r);
      if ((r = sys3(__NR_setgroups, 0, 0, 0)) < 0) die(126, "setgroups() in the user namespace", 0, r);
      if ((r = sys3(__NR_setresuid, 0, 0, 0)) < 0) die(126, "setresuid(0) in the user namespace", 0, r);
    } else if (starts(a, "sync-fd=", &v) && number(v) >= 0) {
      report_to = number(v);
      sys3(__NR_fcntl, report_to, F_SETFD, FD_CLOEXEC);
    } else if (same(a, "await-maps") && report_to != 2) {
      char byte;
      put(report_to, "maps\n");
      while ((r = sys3(__NR_read, report_to, &byte, 1)) == -4) {}
      if (r != 1) die(126, "waiting for the id maps", 0, r < 0 ? r : -5);
    } else if (same(a, "fork") && report_to != 2) {
      long pid = sys6(__NR_clone, CLONE_PARENT | SIGCHLD, 0, 0, 0, 0, 0);
      if (pid < 0) die(126, "clone(CLONE_PARENT)", 0, pid);
      if (pid > 0) {
        put(report_to, "pid ");
        put_number(report_to, pid);
        put(report_to, "\n");
        sys3(__NR_exit, 0, 0, 0);
      }
    } else if (starts(a, "cgroup-fd=", &v) && number(v) >= 0) {
      if ((r = sys3(__NR_write, number(v), "0", 1)) != 1) die(126, "joining the container's cgroup", 0, r < 0 ? r : -5);
      sys3(__NR_close, number(v), 0, 0);
    } else if (starts(a, "cpus=", &v)) {
      set_cpus(a, v);
    } else if (same(a, "tty")) {
      if ((r = sys3(__NR_setsid, 0, 0, 0)) < 0) die(126, "setsid", 0, r);
      if ((r = sys3(__NR_ioctl, 0, TIOCSCTTY, 0)) < 0) die(126, "ioctl(TIOCSCTTY)", 0, r);
    } else if (starts(a, "report-fd=", &v) && number(v) >= 0) {
      report = number(v);
      sys3(__NR_fcntl, report, F_SETFD, FD_CLOEXEC);
    } else {
      die(126, "unknown step", a, 22);
    }
  }
  if (i + 2 >= argc) die(126, "no program given", 0, 22);
  r = sys3(__NR_execve, argv[i + 1], argv + i + 2, envp);
  if (report >= 0) {
    say((int)report, "exec", argv[i + 1], r);
    sys3(__NR_exit, 127, 0, 0);
  }
  die(127, "exec", argv[i + 1], r);
}
