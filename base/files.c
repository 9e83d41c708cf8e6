/* files.c - directories and whole-file writes that never leave a half-written file (base.h). */
#include "base.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* Creates path (one component of dir); messages name the requested dir too. */
static int mkdir_one(const char *path, const char *dir, char *err, size_t err_len) {
  if (mkdir(path, 0777) == 0)
    return 0;
  int e = errno;
  struct stat st;
  int same = strcmp(path, dir) == 0;
  if (e == EEXIST && stat(path, &st) == 0) {
    if (S_ISDIR(st.st_mode))
      return 0;
    return sb_errf(err, err_len,
                   "cannot create directory '%s': %s%s%sexists and is not a directory", dir,
                   same ? "" : "'", same ? "" : path, same ? "" : "' ");
  }
  return sb_errf(err, err_len, "cannot create directory '%s'%s%s%s: %s", dir, same ? "" : " (at '",
                 same ? "" : path, same ? "" : "')", strerror(e));
}

int sb_mkdirs(const char *dir, char *err, size_t err_len) {
  if (!dir || !*dir)
    return sb_errf(err, err_len, "output directory is empty");
  size_t n = strlen(dir);
  char *path = malloc(n + 1);
  if (!path)
    return sb_errf(err, err_len, "out of memory creating directory '%s'", dir);
  memcpy(path, dir, n + 1);
  /* Parents first; components that exist are fine. */
  for (size_t i = 1; i < n; i++) {
    if (path[i] != '/' || path[i - 1] == '/')
      continue;
    path[i] = '\0';
    int rc = mkdir_one(path, dir, err, err_len);
    path[i] = '/';
    if (rc) {
      free(path);
      return rc;
    }
  }
  int rc = mkdir_one(path, dir, err, err_len);
  free(path);
  return rc;
}

int sb_write_file(const char *dir, const char *name, const char *data, size_t len, char *err,
                  size_t err_len) {
  size_t need = strlen(dir) + strlen(name) + 8;
  char *final = malloc(need), *tmp = malloc(need);
  if (!final || !tmp) {
    free(final);
    free(tmp);
    return sb_errf(err, err_len, "out of memory writing '%s/%s'", dir, name);
  }
  snprintf(final, need, "%s/%s", dir, name);
  snprintf(tmp, need, "%s/%s.tmp", dir, name);

  int rc = -1;
  int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0666);
  if (fd < 0) {
    sb_errf(err, err_len, "cannot create '%s': %s", tmp, strerror(errno));
    goto done;
  }
  for (size_t off = 0; off < len;) {
    ssize_t w = write(fd, data + off, len - off);
    if (w < 0 && errno == EINTR)
      continue;
    if (w <= 0) {
      sb_errf(err, err_len, "cannot write '%s': %s", tmp, w < 0 ? strerror(errno) : "no progress");
      goto fail;
    }
    off += (size_t)w;
  }
  /* fsync before rename: otherwise a power loss can leave the renamed file empty. */
  if (fsync(fd) != 0 && errno != EINVAL) {
    sb_errf(err, err_len, "cannot sync '%s': %s", tmp, strerror(errno));
    goto fail;
  }
  if (close(fd) != 0) {
    fd = -1;
    sb_errf(err, err_len, "cannot close '%s': %s", tmp, strerror(errno));
    goto fail;
  }
  fd = -1;
  if (rename(tmp, final) != 0) {
    sb_errf(err, err_len, "cannot rename '%s' to '%s': %s", tmp, final, strerror(errno));
    goto fail;
  }
  rc = 0;
  goto done;
fail:
  if (fd >= 0)
    close(fd);
  unlink(tmp);
done:
  free(final);
  free(tmp);
  return rc;
}

int sb_buf_write_file(sb_buf *b, const char *dir, const char *name, char *err, size_t err_len) {
  int rc = sb_buf_failed(b) ? sb_errf(err, err_len, "out of memory building '%s/%s'", dir, name)
                            : sb_write_file(dir, name, b->data, b->len, err, err_len);
  sb_buf_free(b);
  return rc;
}
