/* Command-line codecs: a codec whose encoder and decoder are programs, defined by argv templates
 * (suite key `command_codecs:`, docs/usage.md), so that reference encoders that exist only as
 * programs (BPG, VTM, HM, cjxl, ...) can be benchmarked like the built-ins.
 *
 * A definition (codec_command_def) is plain data. codec_registry_add_command (codec_registry.h)
 * checks it, resolves its program, runs its version command once and registers a codec_vtable
 * made for it; from then on the codec is used like any other. Every encode() and decode()
 * writes its input into a fresh private temporary folder, runs the program there with the
 * template's placeholders replaced (posix_spawn of the program itself: no shell, so no argument
 * is ever interpreted), waits at most timeout_s seconds (then kills the program's whole process
 * group), reads the program's output file and removes the folder.
 *
 * Placeholders, replaced inside an argument (several per argument are fine):
 *   encode:  {input} the image file (image_format), {output} the stream file to write,
 *            {knob} the knob value, {width} and {height} of the image
 *   decode:  {input} the stream file, {output} the image file to write (image_format)
 *   version: none
 * `{{` stands for a literal `{`; any other `{` starts a placeholder, and an unknown one is an
 * error. encode needs {input}, {output} and {knob}; decode {input} and {output}.
 *
 * Thread-safety: the functions here are reentrant. */
#ifndef SAICBENCH_CODEC_COMMAND_H
#define SAICBENCH_CODEC_COMMAND_H

#include <stddef.h>

#include "saicbench_codec.h"

#ifdef __cplusplus
extern "C" {
#endif

/* The image file format the encoder reads and the decoder writes. */
typedef enum codec_command_format {
  CODEC_COMMAND_PPM = 0, /* binary PPM (P6, maxval 255); the decoder may also write P5 or 16-bit */
  CODEC_COMMAND_PNG = 1  /* 8-bit RGB PNG; the decoder's PNG may be grey or 16-bit, not alpha */
} codec_command_format;

/* Which program of a definition a template belongs to (the placeholders it may use). */
typedef enum codec_command_role {
  CODEC_COMMAND_ENCODE = 0,
  CODEC_COMMAND_DECODE = 1,
  CODEC_COMMAND_VERSION = 2
} codec_command_role;

/* One argv template: args[0] is the program (a name looked up on PATH, or a path), the rest its
 * arguments. is_path[i] (the array may be NULL) marks args[i] as a file of the definition's own
 * (suite tag !path): it must exist, and its SHA-256 becomes part of the codec's version string,
 * so that editing a script changes the run's identity. */
typedef struct codec_command_argv {
  char **args;
  unsigned char *is_path;
  size_t n;
} codec_command_argv;

typedef struct codec_command_def {
  char *name;        /* codec name: 1-64 of a-z 0-9 - _, not a registered codec's */
  char *description; /* NULL: "command-line codec (PROGRAM)" */
  codec_command_argv encode, decode;
  codec_command_argv version; /* n == 0: none; else its first line of output is the version */
  char *knob_name;            /* 1-64 of a-z 0-9 - _ */
  char *knob_description;     /* NULL: a default naming the placeholder */
  codec_knob_kind knob_kind;
  double knob_min, knob_max; /* finite, min < max; an integer knob's range holds an integer */
  int rate_increases;        /* +1 or -1 (codec_knob.rate_increases) */
  codec_command_format format;
  char *stream_extension; /* suffix of the stream file, 1-16 of a-z 0-9; NULL: "bin" */
  int timeout_s;          /* per program call, 1..CODEC_COMMAND_MAX_TIMEOUT_S */
} codec_command_def;

#define CODEC_COMMAND_DEFAULT_TIMEOUT_S 600
#define CODEC_COMMAND_MAX_TIMEOUT_S 86400
#define CODEC_COMMAND_MAX_ARGS 256
#define CODEC_COMMAND_MAX_ARG_LEN 4096
/* Command codecs registered at once in one process, all registries together (each needs one of
 * a fixed set of entry points: codec_vtable.create and .library_version take no context). */
#define CODEC_COMMAND_MAX_CODECS 64

/* Checks one template argument for its role: placeholders known and allowed there, braces well
 * formed, length. Returns 0, or -1 with a message naming the problem (not the codec). */
int codec_command_check_arg(codec_command_role role, const char *arg, char *err, size_t err_len);

/* Checks a whole definition: the rules above, every argument (codec_command_check_arg), the
 * required placeholders, the knob. Returns 0, or -1 with "command codec NAME: problem". */
int codec_command_check_def(const codec_command_def *def, char *err, size_t err_len);

/* "ppm" / "png"; codec_command_format_parse returns -1 for anything else. */
const char *codec_command_format_name(codec_command_format f);
int codec_command_format_parse(const char *s, codec_command_format *out);

/* Deep copy (dst is overwritten); -1 when out of memory, dst then holds nothing to free. */
int codec_command_def_copy(codec_command_def *dst, const codec_command_def *src);
/* Frees the members (not def itself) and zeroes def. NULL is a no-op. */
void codec_command_def_free(codec_command_def *def);

#ifdef __cplusplus
}
#endif
#endif /* SAICBENCH_CODEC_COMMAND_H */
