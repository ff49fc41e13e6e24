/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * The gate's short text summary for CI logs: per process, the failing leak sites with
 * their stacks, what was suppressed, lost data; then rules that matched nothing, budgets
 * larger than needed, and the verdict as the last line (a program that crashed or failed:
 * "program failed: killed by signal 11 (SIGSEGV); no leaks"):
 *
 *   memleak-run: FAIL: 3 leak sites, 240 bytes in 5 allocations (budget 0 bytes, 0 allocations)
 *   memleak-run: OK: no leaks
 */
#ifndef SUMMARY_H
#define SUMMARY_H

#include <stdint.h>
#include <stdio.h>

#include "assertions/judge.h"

struct summary_opts {
	const char *tool;		/* starts the summary's lines; NULL: "memleak-run" */
	int max_frames;			/* frames shown per stack; 0 or less: all */
	int max_sites;			/* sites of each list per process; 0: 20, less: all */
	int max_rules;			/* rules listed per kind; 0: 10, less: all */
	uint64_t max_leaked_bytes;	/* the run's budget, as given to the judge */
	uint64_t max_leaked_allocs;
	unsigned int show_kinds;	/* kinds listed though they do not fail (1 << LEAK_*) */
};

/* o may be NULL for defaults. */
void summary__print(FILE *out, const struct judgement *j, const struct summary_opts *o);

#endif /* SUMMARY_H */
