/* File-system helpers for the report writers: directory creation and atomic-ish file writes.
 * Internal to sb_reports. Thread-safety: reentrant (no shared state). */
#ifndef SAICBENCH_REPORT_FS_H
#define SAICBENCH_REPORT_FS_H

#include <stddef.h>

#include "report_text.h"

/* Creates dir and its missing parents (mode 0777 & ~umask). An existing directory is fine; an
 * existing non-directory is an error naming the path. */
int report_mkdirs(const char *dir, char *err, size_t err_len);

/* Writes len bytes to dir/name through dir/name.tmp: write, fsync, then rename over the final
 * name, so a crash leaves either the old file or the complete new one under that name (never a
 * half-written one). On failure the .tmp file is removed and err names the file. */
int report_write_file(const char *dir, const char *name, const char *data, size_t len, char *err,
                      size_t err_len);

/* The end of every writer that builds its file in memory: writes b's text with
 * report_write_file, or fails with "out of memory building 'dir/name'" when b failed (an
 * incomplete file is never written). Frees b either way. */
int report_write_buf(sb_buf *b, const char *dir, const char *name, char *err, size_t err_len);

#endif
