/*
 * The cgroup primer: a child of the launcher that keeps moves into cgroups
 * fast until create has moved the init into the container's cgroup.
 *
 * Every move of a process into a cgroup (a write to cgroup.procs, v1 or
 * v2) takes one kernel-wide lock for writing, cgroup_threadgroup_rwsem.
 * Its first writer after a quiet spell waits out an RCU grace period
 * (5-15 ms on our machines) while holding cgroup_mutex, so that the
 * mkdirs of the container's cgroup wait too; a writer that comes within
 * a grace period of the last one does not wait at all (the kernel's
 * rcu_sync stays in its writers' state). src/linux/cgroups/prime.ts takes
 * the first wait early, from node; this process takes it earlier still,
 * at the launcher's start, and then moves itself into the cgroup it is
 * already in (no change, "0" being the writer) every PERIOD_MS, so that
 * the lock stays in its writers' state until create's own moves are done.
 * It ends when create closes the pipe (node: init-start.ts LaunchedInit
 * primer, which then reaps it), when the launcher's process ends, or
 * after LIFETIME_MS.
 *
 * The lock is kernel-wide, so one primer at a time is enough: a primer
 * writes only while it holds an abstract unix socket name (PRIMER_NAME,
 * per network namespace, freed when its holder ends), and a launcher that
 * finds the name held starts none. A primer that lost the race for the
 * name tries again at each tick.
 *
 * Best effort: a host where its cgroup.procs cannot be found or written,
 * or where another process holds the name, only loses the speed.
 */
#define _GNU_SOURCE
#include "cgroup-primer.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#define PERIOD_MS 2
#define LIFETIME_MS 2000
#define PRIMER_NAME "runts-cgroup-primer"

/* This process's cgroup.procs in the first hierarchy where it is found at the usual mount point (/proc/self/cgroup). */
static int open_own_procs(void) {
  char text[8192];
  int fd = open("/proc/self/cgroup", O_RDONLY | O_CLOEXEC);
  if (fd < 0) return -1;
  ssize_t n = read(fd, text, sizeof text - 1);
  close(fd);
  if (n <= 0) return -1;
  text[n] = '\0';
  for (char *line = strtok(text, "\n"); line; line = strtok(NULL, "\n")) {
    /* "ID:CONTROLLERS:PATH": v2's (and a hybrid host's unified one) has no controllers. */
    char *controllers = strchr(line, ':'), *path = controllers ? strchr(controllers + 1, ':') : NULL;
    if (!path) continue;
    *path++ = '\0';
    controllers++;
    if (!strncmp(controllers, "name=", 5)) controllers += 5;
    char procs[PATH_MAX];
    if ((size_t)snprintf(procs, sizeof procs, "/sys/fs/cgroup%s%s%s/cgroup.procs", *controllers ? "/" : "", controllers,
                         strcmp(path, "/") ? path : "") >= sizeof procs)
      continue;
    fd = open(procs, O_WRONLY | O_CLOEXEC);
    if (fd >= 0) return fd;
  }
  return -1;
}

/* Binds FD to PRIMER_NAME: 1 if this process now holds the name, 0 if another process does. */
static int take_name(int fd) {
  struct sockaddr_un address = {.sun_family = AF_UNIX};
  memcpy(address.sun_path + 1, PRIMER_NAME, sizeof PRIMER_NAME - 1); /* sun_path[0] = 0: abstract */
  return !bind(fd, (struct sockaddr *)&address, (socklen_t)(offsetof(struct sockaddr_un, sun_path) + sizeof PRIMER_NAME));
}

static long now_ms(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return t.tv_sec * 1000 + t.tv_nsec / 1000000;
}

/* Whether another primer holds PRIMER_NAME now (a create side by side with this one). */
static int primer_running(void) {
  int probe = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  if (probe < 0) return 0;
  int running = !take_name(probe);
  close(probe);
  return running;
}

int start_cgroup_primer(pid_t *primer) {
  /* Creates side by side keep the lock in its writers' state by their own moves, and one primer is enough. */
  if (primer_running()) return -1;
  int procs = open_own_procs();
  if (procs < 0) return -1;
  int ends[2];
  if (pipe2(ends, O_CLOEXEC)) {
    close(procs);
    return -1;
  }
  pid_t pid = fork();
  if (pid == 0) {
    prctl(PR_SET_PDEATHSIG, SIGKILL);
    /* Nothing of the caller's: no stdio held open past the command's end. */
    unsigned low = (unsigned)(procs < ends[0] ? procs : ends[0]), high = (unsigned)(procs < ends[0] ? ends[0] : procs);
    if (low > 0) syscall(SYS_close_range, 0U, low - 1, 0U);
    if (high > low + 1) syscall(SYS_close_range, low + 1, high - 1, 0U);
    syscall(SYS_close_range, high + 1, ~0U, 0U);
    long until = now_ms() + LIFETIME_MS;
    struct pollfd closed = {ends[0], POLLIN, 0};
    /* (Without a socket at all, every primer writes, as if alone.) */
    int name = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0), writer = name < 0;
    do {
      writer = writer || take_name(name);
      if (writer && write(procs, "0", 1) != 1) _exit(0);
    } while (poll(&closed, 1, PERIOD_MS) == 0 && now_ms() < until);
    _exit(0);
  }
  close(procs);
  close(ends[0]);
  if (pid < 0) {
    close(ends[1]);
    return -1;
  }
  *primer = pid;
  return ends[1];
}

void end_cgroup_primer(int end, pid_t pid) {
  close(end);
  while (waitpid(pid, NULL, 0) < 0 && errno == EINTR) continue;
}
