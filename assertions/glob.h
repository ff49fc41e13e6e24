/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * Wildcard matching for suppression patterns.
 *
 * Two dialects: valgrind's (`*` any run, `?` one character, `\` makes the next character
 * literal; the whole string must match) and LeakSanitizer's (`*` any run, a leading `^`
 * anchors the start, a trailing `$` the end; otherwise the pattern may match anywhere in
 * the string).
 */
#ifndef GLOB_H
#define GLOB_H

#include <stddef.h>

/* 1 when the valgrind-style glob matches all of s. A NULL s never matches. */
int glob_match(const char *glob, const char *s);

/* The same for the first glen characters of glob and slen characters of s. */
int glob_match_n(const char *glob, size_t glen, const char *s, size_t slen);

/* 1 when the LeakSanitizer-style pattern matches s. NULL or empty s never matches. */
int glob_match_lsan(const char *pattern, const char *s);

/* 1 when the glob has a wildcard (`*` or `?` not escaped). */
int glob_has_wildcards(const char *glob);

/* A glob that matches exactly the first len characters of s. Caller frees; NULL on ENOMEM. */
char *glob_escape(const char *s, size_t len);

#endif /* GLOB_H */
