/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* Helpers shared by the tests: running programs and reading their output. */
#ifndef TESTUTIL_H
#define TESTUTIL_H

#include <check.h>
#include <stddef.h>
#include <sys/types.h>

struct run_result {
	int status;	/* exit code, or 128+signal */
	char *out;	/* everything written to stdout, NUL-terminated */
	char *err;	/* everything written to stderr, NUL-terminated */
};

/* Runs argv[0] (PATH lookup) with argv, capturing output. Returns 0 or -errno. */
int run_argv(struct run_result *r, char *const argv[]);
/* Runs a shell command line with /bin/sh -c. */
int run_sh(struct run_result *r, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void run_result_free(struct run_result *r);

/* The build output directory ($MEMLEAK_OUTPUT, default ".output"). */
const char *test_output_dir(void);
/* Path of a built file under the output directory, in a static buffer per call slot. */
const char *test_path(const char *rel);

/* Makes a fresh directory from a template ending in XXXXXX, in place; exits if it cannot. */
void test_mkdtemp(char *template);
/* Removes a directory and everything in it, saying so on stderr when it cannot. */
void test_rmtree(const char *dir);

/* Whether two paths name the same file. */
int test_same_file(const char *a, const char *b);
/* Whether process `pid` runs the executable `path` (as /proc/PID/exe names it). */
int test_runs(pid_t pid, const char *path);

/* Number of non-overlapping occurrences of needle in hay. */
int count_substr(const char *hay, const char *needle);

/*
 * Calls fn(ctx) with stdout and stderr caught in files; *out and *err receive what it
 * printed (malloc'd, NUL-terminated). Returns what fn returned.
 */
int test_capture(int (*fn)(void *ctx), void *ctx, char **out, char **err);

/*
 * Option-parser tests. The test file defines `struct parsed` (ret, out, err), `parse(p,
 * argv)` capturing what the parser printed, `parsed_free(p)`, and ARGV(...) building argv.
 */
/* The call succeeds and prints nothing. */
#define ck_parse_ok(p, ...)                                                                    \
	do {                                                                                   \
		parse((p), ARGV(__VA_ARGS__));                                                 \
		ck_assert_msg((p)->ret == 0, "parse returned %d, stderr: %s", (p)->ret,        \
			      (p)->err);                                                       \
		ck_assert_str_eq((p)->out, "");                                                \
		ck_assert_str_eq((p)->err, "");                                                \
	} while (0)

/* The call is refused with -EINVAL and says so on stderr, naming what is wrong. */
#define ck_parse_bad(what, ...)                                                                \
	do {                                                                                   \
		struct parsed p_;                                                              \
		parse(&p_, ARGV(__VA_ARGS__));                                                 \
		ck_assert_int_eq(p_.ret, -EINVAL);                                             \
		ck_assert_str_eq(p_.out, "");                                                  \
		ck_assert_msg(strstr(p_.err, (what)) != NULL,                                  \
			      "stderr does not mention '%s': %s", (what), p_.err);              \
		parsed_free(&p_);                                                              \
	} while (0)

/* Runs every test of a suite; the exit status of a test program (0: all passed). */
int test_run_suite(Suite *s);

#endif /* TESTUTIL_H */
