/* Internal to codecs/: the parts of the command-line codecs (codec_registry.h) that the files of
 * sb_codecs share: placeholder expansion (codec_command.c), running a program
 * (codec_command_exec.c) and the codec object the registry owns (codec_command_codec.c). */
#ifndef SAICBENCH_CODEC_COMMAND_INTERNAL_H
#define SAICBENCH_CODEC_COMMAND_INTERNAL_H

#include <stddef.h>

#include "codec_registry.h"
#include "saicbench_codec.h"

/* ---- placeholders (codec_command.c) ---- */

enum {
  CODEC_COMMAND_PH_INPUT = 0,
  CODEC_COMMAND_PH_OUTPUT,
  CODEC_COMMAND_PH_KNOB,
  CODEC_COMMAND_PH_WIDTH,
  CODEC_COMMAND_PH_HEIGHT,
  CODEC_COMMAND_N_PLACEHOLDERS
};

/* The template with placeholder i replaced by values[i] (values of placeholders the role cannot
 * use may be NULL): a NULL-terminated, malloc()ed argv for codec_command_free_argv, or NULL
 * when out of memory. The template must have passed codec_command_check_def. */
char **codec_command_expand(codec_command_role role, const codec_command_argv *t,
                            const char *const values[CODEC_COMMAND_N_PLACEHOLDERS]);
void codec_command_free_argv(char **argv);

/* ---- running a program (codec_command_exec.c) ---- */

#define CODEC_COMMAND_STDERR_TAIL 2048 /* bytes of stderr kept for messages: the last ones */
#define CODEC_COMMAND_STDOUT_HEAD 4096 /* bytes of stdout kept when asked for: the first ones */

typedef enum codec_command_outcome {
  CODEC_COMMAND_EXITED = 0, /* code: the exit status */
  CODEC_COMMAND_SIGNALED,   /* code: the signal that ended it */
  CODEC_COMMAND_TIMED_OUT,  /* killed (SIGKILL to its process group) at the deadline */
  CODEC_COMMAND_NOT_STARTED /* code: errno of the failed pipe or spawn */
} codec_command_outcome;

typedef struct codec_command_result {
  codec_command_outcome outcome;
  int code;
  char err_tail[CODEC_COMMAND_STDERR_TAIL + 1]; /* NUL-terminated */
  size_t err_len, err_total;                    /* bytes kept, bytes written in all */
  char out_head[CODEC_COMMAND_STDOUT_HEAD + 1]; /* NUL-terminated; with want_stdout only */
  size_t out_len;
} codec_command_result;

/* Runs argv (argv[0] an absolute program path, run as is: no PATH search, no shell) in folder
 * cwd, in a process group of its own, with stdin from /dev/null, stdout to /dev/null (or kept,
 * with want_stdout) and stderr kept; waits for it at most timeout_s seconds, then kills the
 * group. When the program has ended, what is left of its group is killed too, so no stray
 * process outlives the call. Fills *res; thread-safe (no shared state). */
void codec_command_run(char *const argv[], const char *cwd, int timeout_s, int want_stdout,
                       codec_command_result *res);
/* Whether the program ran and exited with status 0. */
int codec_command_succeeded(const codec_command_result *res);
/* One line for a failed run into out (len bytes): "PROGRAM exited with status 3; stderr:
 * ...the end of its stderr" (as much of the end of stderr as fits; control characters become
 * spaces), "... killed by signal 11 (SIGSEGV)", "... timed out after N s", "cannot run ...". */
void codec_command_describe(const codec_command_result *res, const char *program, int timeout_s,
                            char *out, size_t len);

/* A fresh, private (0700) folder under $TMPDIR (else /tmp) named after the codec; dir holds
 * `len` bytes. Returns 0, or -1 with a message. */
int codec_command_tempdir(const char *codec, char *dir, size_t len, char *err, size_t err_len);
/* Removes a folder and everything in it, symbolic links not followed; errors are ignored. */
void codec_command_rmtree(const char *dir);

/* ---- the codec (codec_command_codec.c) ---- */

typedef struct codec_command codec_command;

/* Makes the codec of a definition, which must have passed codec_command_check_def: resolves the
 * programs (PATH lookup, !path files made absolute and hashed), runs the version command and
 * builds the vtable. Returns 0, or -1 with "command codec NAME: ..." in err. */
int codec_command_new(const codec_command_def *def, codec_command **out, char *err, size_t err_len);
/* NULL is a no-op. Every instance created from the codec must be destroyed first. */
void codec_command_free(codec_command *c);
const codec_vtable *codec_command_vtable(const codec_command *c);
/* The definition as registered: programs resolved to absolute paths. */
const codec_command_def *codec_command_definition(const codec_command *c);

#endif /* SAICBENCH_CODEC_COMMAND_INTERNAL_H */
