/*
 * The container's init for `runts create` and `runts run`, spawned by the
 * launcher before node starts. The init is a node of its own, and its
 * start-up (~25 ms) is the longest step of create: spawned by the CLI, it
 * could start only once the CLI's own node had started (~28 ms after the
 * command began). Spawned here, the two start-ups overlap.
 *
 * This file spawns exactly what src/container/init-start.ts startInit
 * would, for the plain case only: no user namespace (its maps need the
 * validated config), no terminal kept by runts, no id-mapped mount, the
 * namespaces of a known type. What the spawn depends on is read from
 * config.json here (read_shape): process.terminal, linux.namespaces, and
 * whether a mount asks for an id mapping. The launcher then tells node what
 * it spawned (LAUNCHED_INIT_ENV: the init's pid, node's end of the channel,
 * and the spawn written out as describeSpawn writes it). The CLI computes
 * its own spawn from its own reading of the config and flags: if the two
 * texts are equal, it adopts the init; if not, it kills it and spawns its
 * own. So a wrong guess here costs time, never behaviour; whatever this
 * file is unsure of (an escape in a string it needs, a flag it does not
 * know) it leaves to node, and spawns nothing.
 */
#define _GNU_SOURCE
#include "launch-init.h"

#include "cgroup-primer.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

/* ---- what the spawn depends on in config.json ------------------------------ */

#define MAX_NAMESPACES 8
#define MAX_DEPTH 256

struct namespace {
  char type[16];
  char path[PATH_MAX];
  int has_path;
};

/* begin's reading of the raw config (init-start.ts begin, rawNamespaces, rawIdmappedMounts). */
struct shape {
  int unsure;
  int terminal;
  int idmap;
  int count;
  struct namespace ns[MAX_NAMESPACES];
};

struct reader {
  const char *at, *end;
  int depth;
  struct shape *shape;
};

static void blanks(struct reader *r) {
  while (r->at < r->end && (*r->at == ' ' || *r->at == '\t' || *r->at == '\n' || *r->at == '\r')) r->at++;
}

/* The next character after blanks; -1 at the end. */
static int next(struct reader *r) {
  blanks(r);
  return r->at < r->end ? (unsigned char)*r->at : -1;
}

static int eat(struct reader *r, char c) {
  if (next(r) != c) return 0;
  r->at++;
  return 1;
}

/*
 * A string: copied to OUT (SIZE bytes) when given, or "" when longer (too
 * long to be one the caller looks for). *PLAIN is cleared when it holds an
 * escape: the caller is then unsure of it. 0 when it is no JSON string.
 */
static int string(struct reader *r, char *out, size_t size, int *plain) {
  if (!eat(r, '"')) return 0;
  size_t n = 0;
  int long_text = 0;
  *plain = 1;
  while (r->at < r->end) {
    unsigned char c = (unsigned char)*r->at++;
    if (c == '"') {
      if (out) out[long_text ? 0 : n] = '\0';
      return 1;
    }
    if (c < 0x20) return 0;
    if (c == '\\') {
      if (r->at >= r->end) return 0;
      char e = *r->at++;
      if (e == 'u') {
        for (int i = 0; i < 4; i++, r->at++)
          if (r->at >= r->end || !*r->at || !strchr("0123456789abcdefABCDEF", *r->at)) return 0;
      } else if (!e || !strchr("\"\\/bfnrt", e)) {
        return 0;
      }
      *plain = 0;
      continue;
    }
    if (out && n + 1 < size) out[n++] = (char)c;
    else if (out) long_text = 1;
  }
  return 0;
}

static int digits(struct reader *r) {
  const char *from = r->at;
  while (r->at < r->end && *r->at >= '0' && *r->at <= '9') r->at++;
  return r->at > from;
}

static int number(struct reader *r) {
  if (r->at < r->end && *r->at == '-') r->at++;
  if (r->at < r->end && *r->at == '0') r->at++;
  else if (!digits(r)) return 0;
  if (r->at < r->end && *r->at == '.' && (r->at++, !digits(r))) return 0;
  if (r->at < r->end && (*r->at == 'e' || *r->at == 'E')) {
    r->at++;
    if (r->at < r->end && (*r->at == '+' || *r->at == '-')) r->at++;
    if (!digits(r)) return 0;
  }
  return 1;
}

static int literal(struct reader *r, const char *word) {
  size_t len = strlen(word);
  if ((size_t)(r->end - r->at) < len || strncmp(r->at, word, len)) return 0;
  r->at += len;
  return 1;
}

static int value(struct reader *r);

/* An object, each member's value read by MEMBER (which may be value()); 0 when malformed. */
static int object(struct reader *r, int (*member)(struct reader *, const char *key, void *), void *context) {
  if (!eat(r, '{')) return 0;
  if (++r->depth > MAX_DEPTH) return 0;
  if (eat(r, '}')) return r->depth--, 1;
  do {
    char key[32];
    int plain;
    if (!string(r, key, sizeof key, &plain) || !eat(r, ':')) return 0;
    /* A key written with an escape may be one of ours: node reads it. */
    if (!plain) r->shape->unsure = 1;
    if (!(member ? member(r, plain ? key : "", context) : value(r))) return 0;
  } while (eat(r, ','));
  r->depth--;
  return eat(r, '}');
}

/* An array, each element read by ELEMENT; 0 when malformed. */
static int array(struct reader *r, int (*element)(struct reader *, void *), void *context) {
  if (!eat(r, '[')) return 0;
  if (++r->depth > MAX_DEPTH) return 0;
  if (eat(r, ']')) return r->depth--, 1;
  do {
    if (!(element ? element(r, context) : value(r))) return 0;
  } while (eat(r, ','));
  r->depth--;
  return eat(r, ']');
}

static int any_member(struct reader *r, const char *key, void *context) {
  (void)key, (void)context;
  return value(r);
}

static int any_element(struct reader *r, void *context) {
  (void)context;
  return value(r);
}

/* Any JSON value, read past. */
static int value(struct reader *r) {
  int plain;
  switch (next(r)) {
    case '{': return object(r, any_member, NULL);
    case '[': return array(r, any_element, NULL);
    case '"': return string(r, NULL, 0, &plain);
    case 't': return literal(r, "true");
    case 'f': return literal(r, "false");
    case 'n': return literal(r, "null");
    default: return number(r);
  }
}

/* process: terminal, true or not (a key met twice: the last, as JSON.parse). */
static int process_member(struct reader *r, const char *key, void *context) {
  (void)context;
  if (strcmp(key, "terminal")) return value(r);
  next(r);
  r->shape->terminal = r->end - r->at >= 4 && !strncmp(r->at, "true", 4);
  return value(r);
}

/* One entry of linux.namespaces, as read so far. */
struct entry {
  struct namespace ns;
  int type; /* 1: a string; 2: anything else */
  int path; /* as type; 0: none */
};

static int namespace_member(struct reader *r, const char *key, void *context) {
  struct entry *e = context;
  int is_type = !strcmp(key, "type");
  if (!is_type && strcmp(key, "path")) return value(r);
  int *state = is_type ? &e->type : &e->path;
  if (next(r) != '"') {
    *state = 2;
    return value(r);
  }
  int plain;
  if (!(is_type ? string(r, e->ns.type, sizeof e->ns.type, &plain) : string(r, e->ns.path, sizeof e->ns.path, &plain))) return 0;
  if (!plain) r->shape->unsure = 1;
  *state = 1;
  return 1;
}

/* rawNamespaces: the well-formed entries (type a string, path none or a string), the first of each type. */
static int namespace_element(struct reader *r, void *context) {
  (void)context;
  if (next(r) != '{') return value(r);
  struct entry e = {0};
  if (!object(r, namespace_member, &e)) return 0;
  struct shape *s = r->shape;
  if (e.type != 1 || e.path == 2) return 1;
  for (int i = 0; i < s->count; i++)
    if (!strcmp(s->ns[i].type, e.ns.type)) return 1;
  if (s->count == MAX_NAMESPACES) {
    s->unsure = 1;
    return 1;
  }
  e.ns.has_path = e.path == 1;
  s->ns[s->count++] = e.ns;
  return 1;
}

static int linux_member(struct reader *r, const char *key, void *context) {
  (void)context;
  if (strcmp(key, "namespaces")) return value(r);
  r->shape->count = 0;
  return next(r) == '[' ? array(r, namespace_element, NULL) : value(r);
}

/* One entry of mounts: whether it has id mappings, and whether its (last) options name idmap or ridmap. */
struct mount {
  int mapped;
  int idmap_option;
};

static int option_element(struct reader *r, void *context) {
  struct mount *m = context;
  if (next(r) != '"') return value(r);
  char word[8];
  int plain;
  if (!string(r, word, sizeof word, &plain)) return 0;
  if (!plain) r->shape->unsure = 1;
  if (!strcmp(word, "idmap") || !strcmp(word, "ridmap")) m->idmap_option = 1;
  return 1;
}

static int mount_member(struct reader *r, const char *key, void *context) {
  struct mount *m = context;
  if (!strcmp(key, "uidMappings") || !strcmp(key, "gidMappings")) m->mapped = 1;
  if (strcmp(key, "options")) return value(r);
  m->idmap_option = 0;
  return next(r) == '[' ? array(r, option_element, m) : value(r);
}

static int mount_element(struct reader *r, void *context) {
  (void)context;
  if (next(r) != '{') return value(r);
  struct mount m = {0, 0};
  if (!object(r, mount_member, &m)) return 0;
  if (m.mapped || m.idmap_option) r->shape->idmap = 1;
  return 1;
}

/* The top level: process, linux and mounts, each reset when met again (the last one counts, as with JSON.parse). */
static int top_member(struct reader *r, const char *key, void *context) {
  (void)context;
  struct shape *s = r->shape;
  if (!strcmp(key, "process")) {
    s->terminal = 0;
    return next(r) == '{' ? object(r, process_member, NULL) : value(r);
  }
  if (!strcmp(key, "linux")) {
    s->count = 0;
    return next(r) == '{' ? object(r, linux_member, NULL) : value(r);
  }
  if (!strcmp(key, "mounts")) {
    s->idmap = 0;
    return next(r) == '[' ? array(r, mount_element, NULL) : value(r);
  }
  return value(r);
}

/* TEXT, a whole config.json: its shape; 0 when it is no JSON object. */
static int read_shape(const char *text, size_t len, struct shape *s) {
  struct reader r = {text, text + len, 0, s};
  memset(s, 0, sizeof *s);
  if (next(&r) != '{' || !object(&r, top_member, NULL)) return 0;
  return next(&r) == -1;
}

/* ---- the command's words -------------------------------------------------- */

struct command {
  const char *bundle;
  long preserve_fds;
  int console_socket;
  int detach;
};

/* WORD (a flag) is NAME: "-NAME" or "--NAME", with or without "=VALUE" (*value then points at it). */
static int is_flag(const char *word, const char *name, const char **value) {
  const char *at = word + 1 + (word[1] == '-');
  size_t len = strlen(name);
  if (strncmp(at, name, len) || (at[len] && at[len] != '=')) return 0;
  *value = at[len] == '=' ? at + len + 1 : NULL;
  return 1;
}

/*
 * create's and run's flags, as the CLI's fast path reads them (src/cli/
 * options.ts): 0 for anything else (another flag, a second id, "--", a
 * value that is not plain), which node parses.
 */
static int read_command(int count, char **words, int run, struct command *c) {
  static const char *const VALUED[] = {"bundle", "b", "pid-file", "console-socket", "pidfd-socket", "preserve-fds"};
  static const char *const BOOLEAN[] = {"no-pivot", "no-new-keyring", "detach", "d", "keep"};
  int ids = 0;
  *c = (struct command){".", 0, 0, 0};
  for (int i = 0; i < count; i++) {
    const char *word = words[i], *value = NULL;
    if (word[0] != '-' || !word[1]) {
      ids++;
      continue;
    }
    int known = 0;
    for (size_t k = 0; !known && k < sizeof VALUED / sizeof *VALUED; k++) {
      if (!is_flag(word, VALUED[k], &value)) continue;
      if (!value && (i + 1 >= count || words[i + 1][0] == '-')) return 0;
      if (!value) value = words[++i];
      known = 1;
      if (k <= 1) c->bundle = value;
      else if (k == 3) c->console_socket = 1;
      else if (k == 5) {
        char *end;
        c->preserve_fds = strtol(value, &end, 10);
        if (!*value || *end || c->preserve_fds < 0 || c->preserve_fds > 1024) return 0;
      }
    }
    for (size_t k = 0; !known && k < sizeof BOOLEAN / sizeof *BOOLEAN; k++) {
      if (!is_flag(word, BOOLEAN[k], &value)) continue;
      /* (detach, d and keep are run's; "=true" and the like are node's.) */
      if (value || (k >= 2 && !run)) return 0;
      known = 1;
      if (k == 2 || k == 3) c->detach = 1;
    }
    if (!known) return 0;
  }
  return ids == 1;
}

/* ---- the spawn -------------------------------------------------------------- */

/* A line of the profile (src/profile.ts), when RUNTS_PROFILE names a file. */
static void mark(const char *what) {
  const char *file = getenv("RUNTS_PROFILE");
  if (!file || !*file) return;
  int fd = open(file, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0600);
  if (fd < 0) return;
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  dprintf(fd, "%lld%09ld %d launcher %s\n", (long long)t.tv_sec, t.tv_nsec, (int)getpid(), what);
  close(fd);
}

/* node as execvp finds it, as node's process.execPath names it (resolved); 0 if none. */
static int find_node(char *out) {
  const char *path = getenv("PATH");
  if (!path) path = "/bin:/usr/bin";
  for (const char *dir = path;; dir++) {
    size_t len = strcspn(dir, ":");
    char candidate[PATH_MAX];
    struct stat st;
    if ((size_t)snprintf(candidate, sizeof candidate, "%.*s%snode", (int)len, dir, len ? "/" : "") < sizeof candidate &&
        !stat(candidate, &st) && S_ISREG(st.st_mode) && !access(candidate, X_OK))
      return realpath(candidate, out) != NULL;
    dir += len;
    if (!*dir) return 0;
  }
}

/* The whole file, NUL-terminated, up to 4 MiB; NULL if not. */
static char *read_file(const char *path, size_t *len) {
  int fd = open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0) return NULL;
  size_t size = 65536, have = 0;
  char *text = malloc(size);
  for (ssize_t got; text; have += (size_t)got) {
    if (have + 1 == size) text = size < (4u << 20) ? realloc(text, size *= 2) : (free(text), NULL);
    if (!text) break;
    got = read(fd, text + have, size - 1 - have);
    if (got < 0 && errno == EINTR) got = 0;
    else if (got <= 0) {
      if (got < 0) text = (free(text), NULL);
      break;
    }
  }
  close(fd);
  if (text) text[have] = '\0';
  *len = have;
  return text;
}

/* Strings the description holds one per line: none may hold a control character. */
static int plain_text(const char *text) {
  for (const unsigned char *c = (const unsigned char *)text; *c; c++)
    if (*c < 0x20 || *c == 0x7f) return 0;
  return 1;
}

/* sd_listen_fds(3), as init-start.ts socketActivationFds: fds 3.. passed to this process. */
static long listen_fds(void) {
  const char *fds = getenv("LISTEN_FDS"), *pid = getenv("LISTEN_PID");
  if (!fds || !pid) return 0;
  char *end;
  long n = strtol(fds, &end, 10);
  if (!*fds || *end || n <= 0 || n > 1024) return 0;
  long owner = strtol(pid, &end, 10);
  return *pid && !*end && owner == (long)getpid() ? n : 0;
}

/* The child: its channel at fd CHANNEL, signals as posix_spawn's SETSIGDEF and SETSIGMASK leave them (init-start.ts). */
static void exec_init(int theirs, int channel, const char *file, char **argv, char **env) {
  sigset_t none;
  sigemptyset(&none);
  for (int sig = 1; sig < NSIG; sig++) signal(sig, SIG_DFL);
  sigprocmask(SIG_SETMASK, &none, NULL);
  if (dup2(theirs, channel) == channel) execve(file, argv, env);
  _exit(127);
}

/* Appends LINE and a newline to the description. */
static int add_line(char *text, size_t size, size_t *len, const char *line) {
  int n = snprintf(text + *len, size - *len, "%s%s", *len ? "\n" : "", line);
  if (n < 0 || (size_t)n >= size - *len) return 0;
  *len += (size_t)n;
  return 1;
}

void launch_init(const char *top, int count, char **words, int run) {
  struct command command;
  if (!read_command(count, words, run, &command)) return;

  char path[PATH_MAX], node[PATH_MAX], helper[PATH_MAX], bundle_js[PATH_MAX];
  if ((size_t)snprintf(path, sizeof path, "%s/config.json", command.bundle) >= sizeof path) return;
  size_t len;
  char *text = read_file(path, &len);
  if (!text) return;
  static struct shape shape;
  int ok = read_shape(text, len, &shape);
  free(text);
  /* (A terminal without a console socket is kept by run, or refused by create: node's, both.) */
  if (!ok || shape.unsure || shape.idmap || (shape.terminal && !command.console_socket)) return;

  /* namespaceSetup, less a user namespace: pid for the child; mount and a joined time for the helper. */
  const struct namespace *pid_ns = NULL;
  char steps[MAX_NAMESPACES + 1][PATH_MAX + 16];
  int nsteps = 0, new_mount = 0;
  static const char *const KNOWN[] = {"cgroup", "ipc", "mount", "network", "pid", "uts", "time"};
  for (int i = 0; i < shape.count; i++) {
    const struct namespace *ns = &shape.ns[i];
    int known = 0;
    for (size_t k = 0; k < sizeof KNOWN / sizeof *KNOWN; k++) known |= !strcmp(ns->type, KNOWN[k]);
    if (!known || (ns->has_path && (ns->path[0] != '/' || !plain_text(ns->path)))) return;
    int mount = !strcmp(ns->type, "mount");
    if (!strcmp(ns->type, "pid")) pid_ns = ns;
    else if (ns->has_path && (mount || !strcmp(ns->type, "time")))
      snprintf(steps[nsteps++], sizeof steps[0], "setns=%s:%s", mount ? "mnt" : "time", ns->path);
    else if (mount) new_mount = 1;
  }
  if (new_mount) strcpy(steps[nsteps++], "unshare=mnt");

  long preserve = listen_fds() + command.preserve_fds;
  int channel = 3 + (int)preserve, fds = channel + 1;
  if (!find_node(node) || !plain_text(node) || !plain_text(top)) return;
  if ((size_t)snprintf(helper, sizeof helper, "%s/dist/runts-helper", top) >= sizeof helper ||
      (size_t)snprintf(bundle_js, sizeof bundle_js, "%s/dist/init.cjs", top) >= sizeof bundle_js)
    return;
  if (nsteps && access(helper, X_OK)) return;

  /* startInit's file, argv and environment. */
  char *argv[MAX_NAMESPACES + 8], *env[5], channel_var[40], profile_var[PATH_MAX + 16];
  int argc = 0, envc = 0;
  if (nsteps) {
    argv[argc++] = "runts-helper";
    for (int i = 0; i < nsteps; i++) argv[argc++] = steps[i];
    argv[argc++] = "--";
    argv[argc++] = node;
  }
  argv[argc++] = node;
  argv[argc++] = "--v8-pool-size=1";
  argv[argc++] = bundle_js;
  argv[argc] = NULL;
  const char *file = nsteps ? helper : node;
  snprintf(channel_var, sizeof channel_var, "_RUNTS_INIT_CHANNEL=%d", channel);
  env[envc++] = channel_var;
  env[envc++] = "UV_THREADPOOL_SIZE=1";
  const char *profile = getenv("RUNTS_PROFILE");
  if (profile && *profile) {
    if ((size_t)snprintf(profile_var, sizeof profile_var, "RUNTS_PROFILE=%s", profile) >= sizeof profile_var) return;
    env[envc++] = profile_var;
  }
  const char *write_cache = getenv("RUNTS_WRITE_CODE_CACHE");
  if (write_cache && *write_cache) env[envc++] = "RUNTS_WRITE_CODE_CACHE=1";
  env[envc] = NULL;

  /* describeSpawn's text. */
  static char described[4 * PATH_MAX + (MAX_NAMESPACES + 16) * (PATH_MAX + 32)];
  size_t at = 0;
  char line[PATH_MAX + 16];
  int fits = 1;
  snprintf(line, sizeof line, "pid=%s", !pid_ns ? "none" : pid_ns->has_path ? pid_ns->path : "new");
  fits &= add_line(described, sizeof described, &at, line);
  snprintf(line, sizeof line, "fds=%d", fds);
  fits &= add_line(described, sizeof described, &at, line);
  fits &= add_line(described, sizeof described, &at, file);
  snprintf(line, sizeof line, "argv=%d", argc);
  fits &= add_line(described, sizeof described, &at, line);
  for (int i = 0; i < argc; i++) fits &= add_line(described, sizeof described, &at, argv[i]);
  for (int i = 0; i < envc; i++) fits &= add_line(described, sizeof described, &at, env[i]);
  if (!fits || !plain_text(profile && *profile ? profile : "")) return;

  /* The channel's ends above the init's fds, so that neither takes the place of a preserved one. */
  int pair[2];
  if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, pair)) return;
  int ours = fcntl(pair[0], F_DUPFD_CLOEXEC, fds), theirs = fcntl(pair[1], F_DUPFD_CLOEXEC, fds);
  close(pair[0]);
  close(pair[1]);
  if (ours < 0 || theirs < 0) {
    if (ours >= 0) close(ours);
    if (theirs >= 0) close(theirs);
    return;
  }

  /* Started before the init (and outside its pid namespace): create's cgroup comes soon. */
  pid_t primer_pid = 0;
  int primer = start_cgroup_primer(&primer_pid);
  if (primer >= 0) mark("cgroup primer started");

  /* PID 1 of the pid namespace: this thread's for children moved there for the fork, and back (enterChildPidNamespace). */
  int own_pid_ns = -1;
  if (pid_ns) {
    own_pid_ns = open("/proc/self/ns/pid", O_RDONLY | O_CLOEXEC);
    int target = pid_ns->has_path ? open(pid_ns->path, O_RDONLY | O_CLOEXEC) : -1;
    int moved = own_pid_ns >= 0 && (pid_ns->has_path ? target >= 0 && !setns(target, CLONE_NEWPID) : !unshare(CLONE_NEWPID));
    if (target >= 0) close(target);
    if (!moved) {
      if (own_pid_ns >= 0) close(own_pid_ns);
      close(ours);
      close(theirs);
      if (primer >= 0) end_cgroup_primer(primer, primer_pid);
      return;
    }
  }
  mark("spawn init");
  pid_t pid = fork();
  if (pid == 0) exec_init(theirs, channel, file, argv, env);
  if (own_pid_ns >= 0 && setns(own_pid_ns, CLONE_NEWPID)) {
    /* Hooks run later would be in the container's pid namespace: stop here. */
    fprintf(stderr, "runts: returning to the runtime's pid namespace: %s\n", strerror(errno));
    exit(1);
  }
  if (own_pid_ns >= 0) close(own_pid_ns);
  close(theirs);
  if (pid < 0 || fcntl(ours, F_SETFD, 0) || (primer >= 0 && fcntl(primer, F_SETFD, 0))) {
    close(ours); /* (The init ends at the channel's end.) */
    if (primer >= 0) end_cgroup_primer(primer, primer_pid);
    return;
  }
  mark("init spawned");
  /* For node: the init's pid, its end of the channel, the primer's pipe, and the spawn (init-start.ts takeLaunchedInit). */
  char *value, primer_line[48] = "";
  if (primer >= 0) snprintf(primer_line, sizeof primer_line, "primer=%d %d\n", primer, (int)primer_pid);
  if (asprintf(&value, "pid=%d\nchannel=%d\n%s%s", (int)pid, ours, primer_line, described) < 0) {
    close(ours);
    if (primer >= 0) end_cgroup_primer(primer, primer_pid);
    return;
  }
  setenv(LAUNCHED_INIT_ENV, value, 1);
}
