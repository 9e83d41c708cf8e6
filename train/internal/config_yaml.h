/* config_yaml.h - the YAML plumbing shared by the training configurations (prefix config_yaml_).
 *
 * train/classifier_config.c and train/codec_config.c both read a small YAML file made of
 * nested mappings whose leaves are looked up by dotted path ("schedule.kind") in a key table,
 * and report every problem as "path:line:col: message" (1-based). This module holds what they
 * share: reading the file, the message formatter, the walk over the mappings and the parsers of
 * plain scalars. Key tables, defaults and cross-key checks stay with each configuration. The YAML
 * itself is read by the product's one YAML layer (sb_yaml_load, base.h), the suites' too, so
 * both accept the same YAML within the same limits.
 *
 * Thread safety: no global state; every function works only on its arguments, so different
 * threads may use it at once (config_yaml_read_file calls strerror for its message). */
#ifndef SB_TASKS_CONFIG_YAML_H
#define SB_TASKS_CONFIG_YAML_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Largest configuration file config_yaml_read_file accepts (bytes, exclusive). */
#define CONFIG_YAML_MAX_FILE ((size_t)1 << 20)

/* A position in the text, 0-based as libyaml reports it (messages add 1). Own type so that this
 * header does not pull in <yaml.h>. */
typedef struct config_yaml_mark {
  size_t line, column;
} config_yaml_mark;

typedef enum config_yaml_event {
  CONFIG_YAML_SCALAR,  /* a scalar value of key */
  CONFIG_YAML_LIST,    /* a list (YAML sequence) starts as the value of key; value is NULL */
  CONFIG_YAML_ITEM,    /* an element of that list; value NULL if it is not a scalar */
  CONFIG_YAML_LIST_END /* that list ended; value is NULL */
} config_yaml_event;

/* One leaf of the document as handed to the callback. Strings live until the callback returns. */
typedef struct config_yaml_node {
  config_yaml_event event;
  const char *file;          /* the path given to config_yaml_walk, for messages */
  const char *key;           /* dotted path of the key, e.g. "optimizer.lr" */
  const char *value;         /* the scalar's text (see config_yaml_event for NULL) */
  config_yaml_mark mark;     /* where the value (list, element) starts; list end: just after it */
  config_yaml_mark key_mark; /* where the key starts */
} config_yaml_node;

/* Returns 0 to go on, nonzero (after writing err) to stop the walk with that value. After
 * CONFIG_YAML_LIST returns 0 its elements follow as CONFIG_YAML_ITEM, then CONFIG_YAML_LIST_END;
 * an ITEM with value NULL (a nested list, mapping or alias) must be rejected. */
typedef int (*config_yaml_fn)(void *ctx, const config_yaml_node *node, char *err, size_t err_len);

/* Writes "file:line:col: <fmt...>" into err (if err && err_len) and returns -1. */
int config_yaml_fail(char *err, size_t err_len, const char *file, config_yaml_mark m,
                     const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 5, 6)))
#endif
    ;

/* Reads a whole file (smaller than CONFIG_YAML_MAX_FILE) into a malloc()ed, NUL-terminated *text
 * of *len bytes. On failure returns -1, *text = NULL and err names the file. */
int config_yaml_read_file(const char *path, char **text, size_t *len, char *err, size_t err_len);

/* Parses a whole configuration text: the file's path (for messages), the text and its length. */
typedef int (*config_yaml_parse_fn)(const char *path, const char *text, size_t len, void *cfg,
                                    char *err, size_t err_len);

/* Reads path with config_yaml_read_file and parses it into cfg. On success *text (if text is not
 * NULL) receives the malloc()ed text; otherwise it is freed and *text = NULL. */
int config_yaml_load(const char *path, config_yaml_parse_fn parse, void *cfg, char **text,
                     char *err, size_t err_len);

/* Parses one YAML document that must be a mapping (nested mappings allowed, up to 4 deep) and
 * calls fn for each leaf in document order. sb_yaml_load's refusals (syntax errors, several
 * documents, deep nesting, too many anchors or aliases, a key given twice), lists or mappings as
 * keys and an empty text are errors here (an alias stands for its anchor's value); unknown keys
 * etc. are fn's to report.
 * Returns 0, or -1 / fn's nonzero value with err set. file is used only in messages. */
int config_yaml_walk(const char *file, const char *text, size_t len, config_yaml_fn fn, void *ctx,
                     char *err, size_t err_len);

/* Finds node->key in table: count entries of size bytes each, every entry a struct whose first
 * member is its key path (const char *). Returns the index and sets seen[index], or -1 after an
 * error "unknown key" / "duplicate key" (seen[index] already set) at node->key_mark. */
int config_yaml_lookup(const config_yaml_node *node, const void *table, size_t count, size_t size,
                       bool *seen, char *err, size_t err_len);

/* Scalar parsers for node->value; messages name node->key and point at node->mark. On error
 * *out is left alone. Ranges are inclusive. */
/* A decimal integer in [lo, hi]. */
int config_yaml_int(const config_yaml_node *node, double lo, double hi, int *out, char *err,
                    size_t err_len);
/* A non-negative integer (decimal, 0x hex or 0 octal) up to UINT64_MAX. */
int config_yaml_u64(const config_yaml_node *node, uint64_t *out, char *err, size_t err_len);
/* A finite number in [lo, hi] (the range is checked before rounding to float). */
int config_yaml_double(const config_yaml_node *node, double lo, double hi, double *out, char *err,
                       size_t err_len);
int config_yaml_float(const config_yaml_node *node, double lo, double hi, float *out, char *err,
                      size_t err_len);
/* true/yes/on or false/no/off, any case. */
int config_yaml_bool(const config_yaml_node *node, bool *out, char *err, size_t err_len);

#ifdef __cplusplus
}
#endif

#endif
