/*
 * runts-launch: the runts executable (bin/runts is a link to the build's
 * dist/runts). It starts node on the CLI (bin/runts.cjs) for every command
 * but the plain cases of two, which it does itself: `start` of a created
 * container, and `kill` of a created or running one (its init). For a
 * plain `create` or `run` it spawns the container's init first, then
 * starts node, which adopts it (launch-init.c).
 *
 * Why start: it is a node start-up (~25 ms here) for a few system calls.
 * `runts create` + `runts start` paid three node processes (create's CLI,
 * the init, start's CLI); containerd, Docker and podman run both commands
 * for every container. Releasing the init is: read its record, check that
 * its init is still the process create started, open exec.fifo for
 * reading, take the init's byte, read to the end (the init's end closes at
 * its execve; anything before that is why it failed), remove the fifo.
 *
 * A plain kill is: check the init is still that process, take a pidfd on
 * it, check again through the pidfd (the same pid in this pid namespace),
 * send the signal through it (src/container/processes.ts signalProcess).
 *
 * Only that. Anything else goes to node, which does it all and says what
 * is wrong in its own words: other flags or words, a record that is not
 * exactly as the store writes it (the leading fields and an empty
 * hooks.poststart are read as text: see expect_record), poststart hooks,
 * $NOTIFY_SOCKET (start relays READY), --debug, a status other than
 * created (no fifo, the init gone or replaced); for kill, --all, a signal
 * name not in the table below, an init that is gone. Declining costs
 * nothing before the fifo is opened or the signal sent; after that, this
 * program finishes and reports a failure itself, as runts' log.ts does
 * (runc's format).
 *
 * For node: NODE_OPTIONS and NODE_EXTRA_CA_CERTS are dropped from the
 * environment (the first would let the caller's environment add flags or
 * preload code into a process that runs as root; the second makes node
 * parse the whole CA bundle before any JavaScript runs, for a program
 * that opens no TLS connection), and node is found on PATH, as
 * `#!/usr/bin/env node` finds it.
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "launch-init.h"

/* The global flags of runc's CLI that a plain start or kill may carry (src/cli/options.ts). */
struct flags {
  const char *root;
  const char *log;
  int json;
};

/* While start waits for the init's byte, the init is looked at every WATCH_MS, and given GRACE_MS once seen dead (start.ts releaseInit). */
#define WATCH_MS 50
#define GRACE_MS 250

static struct flags flags = {"/run/runts", NULL, 0};

/* ---- node, for everything else ------------------------------------------ */

/* The build's top directory: this executable is TOP/dist/runts. */
static const char *top_dir(void) {
  static char top[PATH_MAX];
  if (top[0]) return top;
  ssize_t n = readlink("/proc/self/exe", top, sizeof top - 1);
  if (n <= 0) {
    perror("runts: /proc/self/exe");
    exit(127);
  }
  top[n] = '\0';
  for (int up = 0; up < 2; up++) {
    char *slash = strrchr(top, '/');
    if (!slash) {
      fputs("runts: this executable is not in a runts build's dist/\n", stderr);
      exit(127);
    }
    *slash = '\0';
  }
  return top;
}

static void exec_node(int argc, char **argv) {
  char script[PATH_MAX + 32];
  snprintf(script, sizeof script, "%s/bin/runts.cjs", top_dir());
  char **args = calloc((size_t)argc + 2, sizeof *args);
  if (!args) exit(127);
  args[0] = "node";
  args[1] = script;
  for (int i = 1; i < argc; i++) args[i + 1] = argv[i];
  unsetenv("NODE_OPTIONS");
  unsetenv("NODE_EXTRA_CA_CERTS");
  execvp("node", args);
  fprintf(stderr, "runts: cannot run node: %s\n", strerror(errno));
  exit(127);
}

/* ---- the command line ---------------------------------------------------- */

/* "--NAME" (value in the next word) or "--NAME=VALUE"; 0 if WORD is not that flag. */
static int flag_value(char **argv, int argc, int *i, const char *name, const char **value) {
  const char *word = argv[*i];
  size_t len = strlen(name);
  if (strncmp(word, "--", 2) || strncmp(word + 2, name, len)) return 0;
  const char *rest = word + 2 + len;
  if (*rest == '=') {
    *value = rest + 1;
    return 1;
  }
  if (*rest) return 0;
  if (*i + 1 >= argc) return -1;
  *value = argv[++*i];
  return 1;
}

/* runc's id rule (src/state/id.ts): word characters, '+', '-', '.'; not "." or "..". (One that starts with '-' reads as a flag: node's.) */
static int valid_id(const char *id) {
  if (!*id || *id == '-' || !strcmp(id, ".") || !strcmp(id, "..") || strlen(id) > 1024) return 0;
  for (const char *c = id; *c; c++)
    if (!(*c >= 'a' && *c <= 'z') && !(*c >= 'A' && *c <= 'Z') && !(*c >= '0' && *c <= '9') && !strchr("_+-.", *c)) return 0;
  return 1;
}

/* The index of the command word after the global flags a plain command may carry; -1 for anything else. */
static int command_at(int argc, char **argv) {
  int i = 1;
  for (; i < argc && argv[i][0] == '-'; i++) {
    const char *value;
    int got;
    if ((got = flag_value(argv, argc, &i, "root", &value))) {
      if (got < 0 || !*value) return -1;
      flags.root = value;
    } else if ((got = flag_value(argv, argc, &i, "log", &value))) {
      if (got < 0) return -1;
      flags.log = *value ? value : NULL;
    } else if ((got = flag_value(argv, argc, &i, "log-format", &value))) {
      if (got < 0) return -1;
      if (!strcmp(value, "json")) flags.json = 1;
      else if (strcmp(value, "text")) return -1;
    } else if (strcmp(argv[i], "--systemd-cgroup")) {
      return -1;
    }
  }
  return i < argc ? i : -1;
}

/* The signals by name (runc's and src/linux/signals.ts's, less the real-time ones: node has those). */
static const struct {
  const char *name;
  int number;
} SIGNALS[] = {
    {"HUP", SIGHUP},     {"INT", SIGINT},     {"QUIT", SIGQUIT},     {"ILL", SIGILL},   {"TRAP", SIGTRAP},
    {"ABRT", SIGABRT},   {"IOT", SIGIOT},     {"BUS", SIGBUS},       {"FPE", SIGFPE},   {"KILL", SIGKILL},
    {"USR1", SIGUSR1},   {"SEGV", SIGSEGV},   {"USR2", SIGUSR2},     {"PIPE", SIGPIPE}, {"ALRM", SIGALRM},
    {"TERM", SIGTERM},   {"STKFLT", SIGSTKFLT}, {"CHLD", SIGCHLD},   {"CONT", SIGCONT}, {"STOP", SIGSTOP},
    {"TSTP", SIGTSTP},   {"TTIN", SIGTTIN},   {"TTOU", SIGTTOU},     {"URG", SIGURG},   {"XCPU", SIGXCPU},
    {"XFSZ", SIGXFSZ},   {"VTALRM", SIGVTALRM}, {"PROF", SIGPROF},   {"WINCH", SIGWINCH}, {"IO", SIGIO},
    {"POLL", SIGPOLL},   {"PWR", SIGPWR},     {"SYS", SIGSYS},
};

/* A signal as parseSignal reads it (a number 1-64, a name with or without SIG, any case); 0 for node to judge. */
static int signal_number(const char *text) {
  if (strspn(text, "0123456789") == strlen(text)) {
    long n = strlen(text) <= 2 ? strtol(text, NULL, 10) : 0;
    return n >= 1 && n <= 64 ? (int)n : 0;
  }
  char name[16];
  size_t len = strlen(text);
  if (len >= sizeof name) return 0;
  for (size_t i = 0; i <= len; i++) name[i] = (char)(text[i] >= 'a' && text[i] <= 'z' ? text[i] - 32 : text[i]);
  const char *bare = strncmp(name, "SIG", 3) ? name : name + 3;
  for (size_t i = 0; i < sizeof SIGNALS / sizeof *SIGNALS; i++)
    if (!strcmp(bare, SIGNALS[i].name)) return SIGNALS[i].number;
  return 0;
}

/* ---- failing as runts does (src/log.ts) ------------------------------------ */

/* MSG as JSON.stringify writes a string. */
static void put_json_string(FILE *out, const char *msg) {
  fputc('"', out);
  for (const unsigned char *c = (const unsigned char *)msg; *c; c++) {
    switch (*c) {
      case '"': fputs("\\\"", out); break;
      case '\\': fputs("\\\\", out); break;
      case '\b': fputs("\\b", out); break;
      case '\f': fputs("\\f", out); break;
      case '\n': fputs("\\n", out); break;
      case '\r': fputs("\\r", out); break;
      case '\t': fputs("\\t", out); break;
      default:
        if (*c < 0x20) fprintf(out, "\\u%04x", *c);
        else fputc(*c, out);
    }
  }
  fputc('"', out);
}

/* runc's fatal(): the error line to --log (or stderr), and plainly on stderr too when --log is given. Exit 1. */
static void fatal(const char *msg) {
  char when[32];
  time_t now = time(NULL);
  struct tm tm;
  strftime(when, sizeof when, "%Y-%m-%dT%H:%M:%SZ", gmtime_r(&now, &tm));
  FILE *out = NULL;
  if (flags.log) {
    int fd = open(flags.log, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0644);
    if (fd >= 0) out = fdopen(fd, "a");
  }
  FILE *line = out ? out : stderr;
  if (flags.json) {
    fputs("{\"level\":\"error\",\"msg\":", line);
    put_json_string(line, msg);
    fprintf(line, ",\"time\":\"%s\"}\n", when);
  } else {
    fprintf(line, "time=\"%s\" level=error msg=", when);
    put_json_string(line, msg);
    fputc('\n', line);
  }
  if (out) fclose(out);
  /* (An unwritable --log puts the line on stderr, and the message after it, as log.ts does.) */
  if (flags.log) fprintf(stderr, "%s\n", msg);
  exit(1);
}

/* ---- the container --------------------------------------------------------- */

/* File PATH (under DIR, or AT_FDCWD), whole in one read of less than SIZE bytes, as a string; 0 if not. */
static int read_small(int dir, const char *path, int nofollow, char *text, size_t size) {
  int fd = openat(dir, path, O_RDONLY | O_CLOEXEC | (nofollow ? O_NOFOLLOW : 0));
  if (fd < 0) return 0;
  ssize_t n = read(fd, text, size - 1);
  close(fd);
  if (n <= 0 || (size_t)n == size - 1) return 0;
  text[n] = '\0';
  return 1;
}

/* Whether PID is alive (not a zombie) and started at START (src/state/process-identity.ts). */
static int same_process(long pid, const char *start) {
  char path[64], text[1024];
  snprintf(path, sizeof path, "/proc/%ld/stat", pid);
  if (!read_small(AT_FDCWD, path, 0, text, sizeof text)) return 0;
  /* The command name (field 2) may hold spaces and parentheses: fields count from after the last ')'. */
  char *p = strrchr(text, ')');
  if (!p || p[1] != ' ') return 0;
  p += 2;
  char state = *p;
  if (state == 'Z' || state == 'X') return 0;
  for (int field = 3; field < 22; field++) {
    p = strchr(p, ' ');
    if (!p) return 0;
    p++;
  }
  size_t len = strcspn(p, " ");
  return len == strlen(start) && !strncmp(p, start, len);
}

/* Consumes LITERAL at *at; 0 if the text differs. */
static int expect(const char **at, const char *literal) {
  size_t len = strlen(literal);
  if (strncmp(*at, literal, len)) return 0;
  *at += len;
  return 1;
}

/* Digits at *at, copied to OUT (at most SIZE-1 of them); 0 if none. */
static int digits(const char **at, char *out, size_t size) {
  size_t n = strspn(*at, "0123456789");
  if (!n || n >= size) return 0;
  memcpy(out, *at, n);
  out[n] = '\0';
  *at += n;
  return 1;
}

/* A container whose record the launcher could read, and whose init is still the process create started. */
struct container {
  int dir;
  long pid;
  char start_time[24];
  int poststart_hooks;
  /* Neither poststart nor poststop hooks. */
  int no_hooks;
};

/*
 * The record as the store writes it (JSON.stringify of record.ts's
 * ContainerRecord, keys in create's order): ociVersion, then
 * "id":ID,"status":"created","pid":N,"pidStartTime":"T" (the stored
 * status stays "created" once started: the live one is derived), and
 * hooks, whose poststart is empty or not. Strings in a JSON text hold no
 * bare '"', so the hooks key can only be the record's own. Any other
 * text: 0 (node reads it).
 */
static int expect_record(const char *text, const char *id, struct container *c) {
  const char *at = text;
  char number[24];
  if (!expect(&at, "{\"ociVersion\":\"")) return 0;
  at = strchr(at, '"');
  if (!at || !expect(&at, "\",\"id\":\"") || !expect(&at, id) || !expect(&at, "\",\"status\":\"created\",\"pid\":")) return 0;
  if (!digits(&at, number, sizeof number) || !expect(&at, ",\"pidStartTime\":\"") || !digits(&at, c->start_time, sizeof c->start_time))
    return 0;
  c->pid = strtol(number, NULL, 10);
  if (!strstr(at, ",\"hooks\":{\"poststart\":")) return 0;
  c->poststart_hooks = !strstr(at, ",\"hooks\":{\"poststart\":[],\"poststop\":");
  c->no_hooks = strstr(at, ",\"hooks\":{\"poststart\":[],\"poststop\":[]}") != NULL;
  return c->pid > 0;
}

/* Container ID under --root, its record as expected (its init alive or not); 0 for node to judge. */
static int load_record(const char *id, struct container *c) {
  char dir[PATH_MAX];
  if ((size_t)snprintf(dir, sizeof dir, "%s/%s", flags.root, id) >= sizeof dir) return 0;
  c->dir = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (c->dir < 0) return 0;
  /* The record of a plain container is 1.5-5 KB; a larger one is node's. */
  static char text[65536];
  if (!read_small(c->dir, "state.json", 1, text, sizeof text)) return 0;
  return expect_record(text, id, c);
}

/* Container ID under --root, with its init alive; 0 for node to judge. */
static int load_container(const char *id, struct container *c) {
  return load_record(id, c) && same_process(c->pid, c->start_time);
}

static long now_ms(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return t.tv_sec * 1000 + t.tv_nsec / 1000000;
}

/*
 * `start ID` of a created container with nothing but the release to do.
 * Returns (to let node do it) only before the fifo is opened; from there,
 * exits: 0 when the program runs, 1 with runts' message otherwise.
 */
static void start(const char *id) {
  struct container c;
  struct stat fifo_stat;
  if (getenv("NOTIFY_SOCKET") || !load_container(id, &c) || c.poststart_hooks) return;
  if (fstatat(c.dir, "exec.fifo", &fifo_stat, AT_SYMLINK_NOFOLLOW) || !S_ISFIFO(fifo_stat.st_mode)) return;

  /*
   * Opening the fifo for reading meets the init's blocked open for writing
   * (without O_NONBLOCK this open would wait for the init forever if it
   * died before opening its end); its one byte says it is past the fifo.
   */
  int fd = openat(c.dir, "exec.fifo", O_RDONLY | O_NONBLOCK | O_CLOEXEC);
  if (fd < 0) return;
  long dead_since = -1;
  for (;;) {
    struct pollfd ready = {fd, POLLIN, 0};
    int got = poll(&ready, 1, WATCH_MS);
    if (got > 0) break;
    if (got < 0 && errno != EINTR) fatal(strerror(errno));
    if (same_process(c.pid, c.start_time)) continue;
    /* One that did open its end (and then ran a program already done) is no failure: a grace period first. */
    if (dead_since < 0) dead_since = now_ms();
    else if (now_ms() - dead_since >= GRACE_MS) fatal("container init died before start");
  }
  char byte;
  if (read(fd, &byte, 1) != 1) {
    /* Another start got the byte: the container runs. */
    if (same_process(c.pid, c.start_time)) fatal("cannot start an already running container");
    fatal("container init died before start");
  }
  /* Nothing more before the end (the init's end closes at its execve): the program runs. Anything else is why not. */
  fcntl(fd, F_SETFL, 0);
  char why[4096];
  size_t have = 0;
  for (ssize_t got; (got = read(fd, why + have, sizeof why - 1 - have)) != 0;) {
    if (got < 0) {
      if (errno == EINTR) continue;
      break;
    }
    have += (size_t)got;
    if (have == sizeof why - 1) break;
  }
  why[have] = '\0';
  if (have) fatal(why);
  /* After start: gone already is fine (a delete --force that raced start took the whole directory). */
  unlinkat(c.dir, "exec.fifo", 0);
  exit(0);
}

/* The pid a pidfd refers to in this pid namespace (its fdinfo's "Pid:"); -1 if it exited. */
static long pidfd_pid(int pidfd) {
  char path[64], text[1024];
  snprintf(path, sizeof path, "/proc/self/fdinfo/%d", pidfd);
  if (!read_small(AT_FDCWD, path, 0, text, sizeof text)) return -1;
  const char *at = strstr(text, "\nPid:\t");
  return at ? strtol(at + 6, NULL, 10) : -1;
}

/*
 * `kill ID [SIGNAL]` of a container whose init runs: through a pidfd,
 * checked to be the init under the record's pid in this pid namespace
 * (processes.ts signalProcess). Returns (for node) before the signal;
 * exits once it is sent.
 */
static void kill_init(const char *id, int signal) {
  struct container c;
  if (!load_container(id, &c)) return;
  int pidfd = (int)syscall(SYS_pidfd_open, (pid_t)c.pid, 0);
  if (pidfd < 0) return;
  /* Another process under that pid (reused, or another pid namespace's): node says which. */
  if (pidfd_pid(pidfd) != c.pid || !same_process(c.pid, c.start_time)) {
    close(pidfd);
    return;
  }
  if (syscall(SYS_pidfd_send_signal, pidfd, signal, NULL, 0) == 0) exit(0);
  if (errno != ESRCH) fatal(strerror(errno));
  /* The init exited since the status was read. */
  char msg[1100];
  snprintf(msg, sizeof msg, "container %s is not running (stopped)", id);
  fatal(msg);
}

/* The most cgroup directories a plain teardown names (v1: one a hierarchy). */
#define MAX_CGROUP_DIRS 16

/* A JSON string's text at *at up to its closing quote, into OUT: 0 if it has an escape or is too long. */
static int plain_string(const char **at, char *out, size_t size) {
  size_t len = strcspn(*at, "\"\\");
  if ((*at)[len] != '"' || len >= size) return 0;
  memcpy(out, *at, len);
  out[len] = '\0';
  *at += len + 1;
  return 1;
}

/*
 * teardown.json as create writes it when a cgroupfs cgroup is all there is
 * to undo (record.ts teardownOf, JSON.stringify): the init's pid and start
 * time (those of the record), then {"version":1,"paths":{"KEY":"DIR",...}}
 * or {"version":2,"path":"DIR"}, and nothing else (a systemd unit, shared
 * mounts, network devices, Intel RDT: node's). DIRS gets each directory
 * once, absolute and without "..".
 */
static int expect_teardown(const char *text, const struct container *c, char dirs[][PATH_MAX], int *count) {
  const char *at = text;
  char number[24], key[64], dir[PATH_MAX];
  if (!expect(&at, "{\"pid\":") || !digits(&at, number, sizeof number) || strtol(number, NULL, 10) != c->pid) return 0;
  if (!expect(&at, ",\"pidStartTime\":\"") || !expect(&at, c->start_time) || !expect(&at, "\",\"cgroup\":{\"version\":")) return 0;
  *count = 0;
  int v1 = expect(&at, "1,\"paths\":{");
  if (!v1 && !expect(&at, "2,\"path\":")) return 0;
  do {
    if (v1 && (!expect(&at, "\"") || !plain_string(&at, key, sizeof key) || !expect(&at, ":"))) return 0;
    if (!expect(&at, "\"") || !plain_string(&at, dir, sizeof dir)) return 0;
    if (dir[0] != '/' || strstr(dir, "/..") || *count == MAX_CGROUP_DIRS) return 0;
    int seen = 0;
    for (int i = 0; i < *count; i++) seen |= !strcmp(dirs[i], dir);
    if (!seen) strcpy(dirs[(*count)++], dir);
  } while (v1 && expect(&at, ","));
  return expect(&at, v1 ? "}}}" : "}}") && !*at;
}

/* Whether cgroup directory DIR is gone or lists no process (its cgroup.procs is empty). */
static int no_process_in(const char *dir) {
  char procs[PATH_MAX + 16], byte;
  snprintf(procs, sizeof procs, "%s/cgroup.procs", dir);
  int fd = open(procs, O_RDONLY | O_CLOEXEC);
  if (fd < 0) return errno == ENOENT;
  ssize_t got = read(fd, &byte, 1);
  close(fd);
  return got == 0;
}

/*
 * `delete [--force] ID` of a stopped container with nothing to undo but
 * its cgroupfs cgroup and its state (src/container/delete.ts): no hooks,
 * no process left in the cgroup. Returns (for node) until the state
 * directory is entombed; from there, exits: 0 when it is gone, 1 with
 * runts' message otherwise.
 */
static void delete_container(const char *id) {
  struct container c;
  static char text[65536];
  static char dirs[MAX_CGROUP_DIRS][PATH_MAX];
  int count;
  if (!load_record(id, &c) || !c.no_hooks || same_process(c.pid, c.start_time)) return;
  if (!read_small(c.dir, "teardown.json", 1, text, sizeof text) || !expect_teardown(text, &c, dirs, &count)) return;
  for (int i = 0; i < count; i++)
    if (!no_process_in(dirs[i])) return;
  /* Only files in the state directory (a directory there, such as $NOTIFY_SOCKET's, is node's to remove). */
  DIR *listing = fdopendir(dup(c.dir));
  if (!listing) return;
  for (struct dirent *e; (e = readdir(listing));) {
    if (e->d_type == DT_DIR ? strcmp(e->d_name, ".") && strcmp(e->d_name, "..") : e->d_type == DT_UNKNOWN) {
      closedir(listing);
      return;
    }
  }
  /* A directory that will not go (a child cgroup, a task still exiting): node waits, or says why. What went is no matter to it. */
  for (int i = 0; i < count; i++)
    if (rmdir(dirs[i]) && errno != ENOENT) return;
  /* One rename: of concurrent deletes, exactly one goes on (store.ts entomb, the same name). */
  char tomb[PATH_MAX], name[300];
  snprintf(name, sizeof name, "~deleting.%d.%s", (int)getpid(), id);
  name[255] = '\0';
  if ((size_t)snprintf(tomb, sizeof tomb, "%s/%s", flags.root, name) >= sizeof tomb) return;
  char dir[PATH_MAX];
  snprintf(dir, sizeof dir, "%s/%s", flags.root, id);
  if (rename(dir, tomb)) return;
  /* Its files (store.ts removeTomb), then the directory. */
  rewinddir(listing);
  for (struct dirent *e; (e = readdir(listing));) {
    if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, "..")) continue;
    if (unlinkat(c.dir, e->d_name, 0)) {
      char msg[2 * PATH_MAX];
      snprintf(msg, sizeof msg, "removing %s/%s: %s", tomb, e->d_name, strerror(errno));
      fatal(msg);
    }
  }
  if (rmdir(tomb)) {
    char msg[PATH_MAX + 64];
    snprintf(msg, sizeof msg, "removing %s: %s", tomb, strerror(errno));
    fatal(msg);
  }
  exit(0);
}

int main(int argc, char **argv) {
  /* Only this program tells node it spawned an init. */
  unsetenv(LAUNCHED_INIT_ENV);
  int at = command_at(argc, argv);
  if (at > 0) {
    const char *command = argv[at], *id = at + 1 < argc ? argv[at + 1] : "";
    int run = !strcmp(command, "run");
    if (run || !strcmp(command, "create")) {
      launch_init(top_dir(), argc - at - 1, argv + at + 1, run);
      exec_node(argc, argv);
    }
    int words = argc - at - 1;
    /* (Flags of the command itself, such as kill --all, are node's, but delete's --force.) */
    if (!strcmp(command, "start") && words == 1 && valid_id(id)) start(id);
    if (!strcmp(command, "delete") || !strcmp(command, "rm")) {
      /* (--force changes nothing for a stopped container.) */
      int force = words == 2 && (!strcmp(id, "--force") || !strcmp(id, "-f"));
      if (force) id = argv[at + 2];
      if ((words == 1 || force) && valid_id(id)) delete_container(id);
    }
    if (!strcmp(command, "kill") && (words == 1 || words == 2) && valid_id(id)) {
      int signal = words == 1 ? SIGTERM : signal_number(argv[at + 2]);
      if (signal) kill_init(id, signal);
    }
  }
  exec_node(argc, argv);
}
