/* Running the programs of command-line codecs (codec_command_internal.h): spawning without a
 * shell, the deadline, the captured output, and the private temporary folders.
 *
 * Why posix_spawn and not fork: the harness is a large multi-threaded process; posix_spawn
 * (glibc: clone with CLONE_VM|CLONE_VFORK) neither copies its page tables nor runs anything but
 * the exec in the child, and reports a failed exec as its return value. The pipes are created
 * O_CLOEXEC, so a program spawned by another worker thread at the same moment cannot inherit
 * (and hold open) this call's pipe ends.
 *
 * Why a process group of its own: on a timeout the program and everything it started (an
 * encoder script and its helpers) are killed together with one kill(-pgid, SIGKILL). The group
 * is killed while the program is still an unreaped zombie (waitid WNOWAIT), so its id cannot
 * have been reused by another process yet. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE /* pipe2, posix_spawn_file_actions_addchdir_np (glibc 2.29) */
#endif
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "base.h"
#include "codec_builtin.h"
#include "codec_command_internal.h"

extern char **environ;

static void tail_add(codec_command_result *r, const char *d, size_t n) {
  const size_t cap = CODEC_COMMAND_STDERR_TAIL;
  r->err_total += n;
  if (n >= cap) {
    memcpy(r->err_tail, d + n - cap, cap);
    r->err_len = cap;
  } else {
    if (r->err_len + n > cap) {
      size_t drop = r->err_len + n - cap;
      memmove(r->err_tail, r->err_tail + drop, r->err_len - drop);
      r->err_len -= drop;
    }
    memcpy(r->err_tail + r->err_len, d, n);
    r->err_len += n;
  }
  r->err_tail[r->err_len] = '\0';
}

static void head_add(codec_command_result *r, const char *d, size_t n) {
  size_t room = CODEC_COMMAND_STDOUT_HEAD - r->out_len;
  if (n > room)
    n = room;
  memcpy(r->out_head + r->out_len, d, n);
  r->out_len += n;
  r->out_head[r->out_len] = '\0';
}

/* Reads what is available on fds[i] (non-blocking); closes a pipe at end of file. */
static void drain(int fds[2], codec_command_result *r) {
  char buf[4096];
  for (int i = 0; i < 2; i++)
    while (fds[i] >= 0) {
      ssize_t got = read(fds[i], buf, sizeof buf);
      if (got > 0) {
        (i ? head_add : tail_add)(r, buf, (size_t)got);
        continue;
      }
      if (got < 0 && errno == EINTR)
        continue;
      if (got == 0 || (errno != EAGAIN && errno != EWOULDBLOCK)) {
        close(fds[i]);
        fds[i] = -1;
      }
      break;
    }
}

static double now_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

/* Waits until the program has ended (left unreaped) or the deadline passes, collecting its
 * output meanwhile. Returns 1 when it ended, 0 on timeout. */
static int wait_for(pid_t pid, int fds[2], double deadline, codec_command_result *r) {
  int nap_ms = 1;
  for (;;) {
    siginfo_t si;
    memset(&si, 0, sizeof si);
    int w = waitid(P_PID, (id_t)pid, &si, WEXITED | WNOHANG | WNOWAIT);
    if ((w == 0 && si.si_pid == pid) ||
        (w < 0 && errno == ECHILD)) /* reaped elsewhere (SIGCHLD ignored): it has ended */
      return 1;
    double left = deadline - now_ms();
    if (left <= 0)
      return 0;
    int slice = left < 100 ? (int)left + 1 : 100;
    struct pollfd p[2];
    nfds_t n = 0;
    for (int i = 0; i < 2; i++)
      if (fds[i] >= 0)
        p[n++] = (struct pollfd){.fd = fds[i], .events = POLLIN};
    if (n) {
      /* Wakes on output and on the pipes' end (the usual sign that the program exited). */
      if (poll(p, n, slice) > 0)
        drain(fds, r);
    } else {
      /* Both pipes closed but the program still runs: check again soon. */
      struct timespec ts = {0, (long)(nap_ms < slice ? nap_ms : slice) * 1000000L};
      nanosleep(&ts, NULL);
      nap_ms = nap_ms < 20 ? nap_ms * 2 : 20;
    }
  }
}

static int spawn(pid_t *pid, char *const argv[], const char *cwd, int err_w, int out_w) {
  posix_spawn_file_actions_t fa;
  posix_spawnattr_t at;
  int rc = posix_spawn_file_actions_init(&fa);
  if (rc)
    return rc;
  if ((rc = posix_spawnattr_init(&at))) {
    posix_spawn_file_actions_destroy(&fa);
    return rc;
  }
  sigset_t none, dfl;
  sigemptyset(&none);
  sigemptyset(&dfl);
  /* Signals the harness may ignore or handle; an ignored one would stay ignored after exec. */
  const int reset[] = {SIGPIPE, SIGINT, SIGTERM, SIGQUIT, SIGHUP, SIGCHLD, SIGUSR1, SIGUSR2};
  for (size_t i = 0; i < sizeof reset / sizeof reset[0]; i++)
    sigaddset(&dfl, reset[i]);
  if (!(rc = posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0)) &&
      !(rc = out_w >= 0 ? posix_spawn_file_actions_adddup2(&fa, out_w, 1)
                        : posix_spawn_file_actions_addopen(&fa, 1, "/dev/null", O_WRONLY, 0)) &&
      !(rc = posix_spawn_file_actions_adddup2(&fa, err_w, 2)) &&
      !(rc = posix_spawn_file_actions_addchdir_np(&fa, cwd)) &&
      !(rc = posix_spawnattr_setflags(&at, POSIX_SPAWN_SETPGROUP | POSIX_SPAWN_SETSIGMASK |
                                               POSIX_SPAWN_SETSIGDEF)) &&
      !(rc = posix_spawnattr_setpgroup(&at, 0)) && !(rc = posix_spawnattr_setsigmask(&at, &none)))
    rc = posix_spawnattr_setsigdefault(&at, &dfl);
  if (!rc)
    rc = posix_spawn(pid, argv[0], &fa, &at, argv, environ);
  posix_spawnattr_destroy(&at);
  posix_spawn_file_actions_destroy(&fa);
  return rc;
}

void codec_command_run(char *const argv[], const char *cwd, int timeout_s, int want_stdout,
                       codec_command_result *res) {
  memset(res, 0, sizeof *res);
  int errp[2] = {-1, -1}, outp[2] = {-1, -1};
  if (pipe2(errp, O_CLOEXEC) || (want_stdout && pipe2(outp, O_CLOEXEC))) {
    res->outcome = CODEC_COMMAND_NOT_STARTED;
    res->code = errno;
    for (int i = 0; i < 2; i++) {
      if (errp[i] >= 0)
        close(errp[i]);
      if (outp[i] >= 0)
        close(outp[i]);
    }
    return;
  }
  const double deadline = now_ms() + timeout_s * 1000.0;
  pid_t pid = 0;
  int rc = spawn(&pid, argv, cwd, errp[1], outp[1]);
  close(errp[1]);
  if (outp[1] >= 0)
    close(outp[1]);
  int fds[2] = {errp[0], outp[0]};
  for (int i = 0; i < 2; i++)
    if (fds[i] >= 0)
      fcntl(fds[i], F_SETFL, fcntl(fds[i], F_GETFL) | O_NONBLOCK);
  if (rc) {
    res->outcome = CODEC_COMMAND_NOT_STARTED;
    res->code = rc;
    for (int i = 0; i < 2; i++)
      if (fds[i] >= 0)
        close(fds[i]);
    return;
  }
  const int ended = wait_for(pid, fds, deadline, res);
  kill(-pid, SIGKILL); /* on timeout everything; else what the program left running */
  drain(fds, res);     /* what is left in the pipes (their writers are gone or killed) */
  for (int i = 0; i < 2; i++)
    if (fds[i] >= 0)
      close(fds[i]);
  int status = 0;
  pid_t got;
  while ((got = waitpid(pid, &status, 0)) < 0 && errno == EINTR)
    ;
  if (!ended) {
    res->outcome = CODEC_COMMAND_TIMED_OUT;
  } else if (got == pid && WIFSIGNALED(status)) {
    res->outcome = CODEC_COMMAND_SIGNALED;
    res->code = WTERMSIG(status);
  } else {
    res->outcome = CODEC_COMMAND_EXITED;
    /* Reaped elsewhere (SIGCHLD ignored): the status is unknown, so the call cannot count as a
     * success. */
    res->code = got == pid && WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  }
}

int codec_command_succeeded(const codec_command_result *res) {
  return res->outcome == CODEC_COMMAND_EXITED && res->code == 0;
}

static const char *signal_name(int sig) {
  switch (sig) {
  case SIGHUP: return "SIGHUP";
  case SIGINT: return "SIGINT";
  case SIGQUIT: return "SIGQUIT";
  case SIGILL: return "SIGILL";
  case SIGTRAP: return "SIGTRAP";
  case SIGABRT: return "SIGABRT";
  case SIGBUS: return "SIGBUS";
  case SIGFPE: return "SIGFPE";
  case SIGKILL: return "SIGKILL";
  case SIGSEGV: return "SIGSEGV";
  case SIGPIPE: return "SIGPIPE";
  case SIGALRM: return "SIGALRM";
  case SIGTERM: return "SIGTERM";
  case SIGXCPU: return "SIGXCPU";
  case SIGXFSZ: return "SIGXFSZ";
  default: return "signal";
  }
}

void codec_command_describe(const codec_command_result *r, const char *program, int timeout_s,
                            char *out, size_t len) {
  char eb[128];
  int n;
  switch (r->outcome) {
  case CODEC_COMMAND_NOT_STARTED:
    n = snprintf(out, len, "cannot run %s: %s", program, sb_errno_text(r->code, eb, sizeof eb));
    break;
  case CODEC_COMMAND_TIMED_OUT:
    n = snprintf(out, len, "%s timed out after %d s (killed)", program, timeout_s);
    break;
  case CODEC_COMMAND_SIGNALED:
    n = snprintf(out, len, "%s was killed by signal %d (%s)", program, r->code,
                 signal_name(r->code));
    break;
  default:
    if (r->code < 0)
      n = snprintf(out, len, "%s ended with an unknown status", program);
    else
      n = snprintf(out, len, "%s exited with status %d", program, r->code);
  }
  if (n < 0 || (size_t)n + 16 >= len || !r->err_len)
    return;
  /* The end of stderr, as one line: it usually holds the reason. */
  char line[CODEC_COMMAND_STDERR_TAIL + 1];
  size_t k = 0;
  for (size_t i = 0; i < r->err_len; i++) {
    unsigned char ch = (unsigned char)r->err_tail[i];
    if (ch < 0x20 || ch == 0x7f)
      ch = ' ';
    if (ch == ' ' && (!k || line[k - 1] == ' '))
      continue;
    line[k++] = (char)ch;
  }
  while (k && line[k - 1] == ' ')
    k--;
  line[k] = '\0';
  if (!k)
    return;
  const size_t room = len - (size_t)n - 1 - strlen("; stderr: ...");
  const int cut = k > room || r->err_total > r->err_len;
  const char *start = k > room ? line + (k - room) : line;
  snprintf(out + n, len - (size_t)n, "; stderr: %s%s", cut ? "..." : "", start);
}

int codec_command_tempdir(const char *codec, char *dir, size_t len, char *err, size_t err_len) {
  const char *base = getenv("TMPDIR");
  if (!base || base[0] != '/')
    base = "/tmp";
  int n = snprintf(dir, len, "%s/saicbench-%s-XXXXXX", base, codec);
  if (n < 0 || (size_t)n >= len)
    return codec_errorf(err, err_len, "temporary folder name too long (TMPDIR %s)", base);
  if (!mkdtemp(dir)) {
    char eb[128];
    int e = errno;
    snprintf(dir, len, "%s/saicbench-%s-XXXXXX", base, codec);
    return codec_errorf(err, err_len, "cannot create a temporary folder %s: %s", dir,
                        sb_errno_text(e, eb, sizeof eb));
  }
  return 0;
}

/* Removes what folder dfd holds (dfd is consumed). Returns how many entries it removed. */
static size_t rm_contents(int dfd, int depth) {
  DIR *d = fdopendir(dfd);
  if (!d) {
    close(dfd);
    return 0;
  }
  size_t removed = 0;
  struct dirent *e;
  while ((e = readdir(d))) {
    if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
      continue;
    if (unlinkat(dirfd(d), e->d_name, 0) == 0) {
      removed++;
      continue;
    }
    if (errno != EISDIR && errno != EPERM)
      continue;
    if (depth < 32) {
      int sub = openat(dirfd(d), e->d_name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
      if (sub >= 0)
        rm_contents(sub, depth + 1);
    }
    removed += unlinkat(dirfd(d), e->d_name, AT_REMOVEDIR) == 0;
  }
  closedir(d);
  return removed;
}

void codec_command_rmtree(const char *dir) {
  /* readdir may skip entries removed while it runs: repeat while a pass removes something. */
  for (int pass = 0; pass < 4; pass++) {
    int fd = open(dir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    if (fd < 0 || !rm_contents(fd, 0))
      break;
  }
  rmdir(dir);
}
