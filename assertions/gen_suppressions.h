/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * --gen-suppressions: native rules accepting today's unsuppressed leak sites, each with a
 * budget of what it leaks now, so that the next run passes and any growth fails.
 */
#ifndef GEN_SUPPRESSIONS_H
#define GEN_SUPPRESSIONS_H

#include <stdio.h>

#include "assertions/judge.h"

/* Writes the rules to out. Returns the number of rules, or -errno. */
int gen_suppressions__print(FILE *out, const struct judgement *j);
/* The rules as text (malloc'ed, *len its length), or NULL with errno set. */
char *gen_suppressions__render(const struct judgement *j, size_t *len);
/* Writes them to path, whole or not at all (report_write_file()). Returns 0 or -errno. */
int gen_suppressions__write(const struct judgement *j, const char *path);

#endif /* GEN_SUPPRESSIONS_H */
