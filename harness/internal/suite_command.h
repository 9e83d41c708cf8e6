/* Internal to the suite parser: the suite key `command_codecs:` (suite_command.c), parsed into
 * suite.command_codecs. */
#ifndef SAICBENCH_SUITE_COMMAND_H
#define SAICBENCH_SUITE_COMMAND_H

#include <yaml.h>

#include "harness.h"

/* Parses the value of `command_codecs:` (a non-empty list of mappings) into s. Every mistake is
 * "file:line:col: command_codecs...: problem". */
int suite_command_parse(sb_yaml_ctx *c, const yaml_node_t *v, suite *s);

/* Makes the !path arguments relative to the suite file's folder (suite_load_file). Returns -1
 * when out of memory. */
int suite_command_resolve(suite *s, const char *suite_path);

/* Frees s->command_codecs. */
void suite_command_free(suite *s);

#endif
