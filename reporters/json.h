/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * The complete result as JSON, for tools, merging and baselines: the command, every
 * process with its sites, stacks and verdicts, lost-event counters, totals, the
 * suppressions used and unused, budgets larger than needed, and the verdict. Written
 * whole or not at all. The layout is described in docs/REPORTS.md.
 */
#ifndef JSON_H
#define JSON_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "assertions/judge.h"

/* Bumped when a field changes meaning or goes away; new fields do not bump it. */
#define JSON_REPORT_VERSION 2

struct json_opts {
	const char *tool;		/* names the report; NULL: "memleak-run" */
	const char *const *argv;	/* the command judged, NULL-terminated, or NULL */
	int exit_status;		/* the command's wait status */
	int timed_out;			/* the run was ended by its timeout */
	uint64_t max_leaked_bytes;	/* the run's budget, as given to the judge */
	uint64_t max_leaked_allocs;
	double duration_s;		/* wall time of the run */
	time_t timestamp;		/* when the run started; 0: now */
};

/*
 * Writes the report to path, replacing it whole, or leaves path untouched. o may be NULL
 * for defaults. Returns 0 or -errno.
 */
int json__write(const struct judgement *j, const struct json_opts *o, const char *path);

/* The document in memory (NUL-terminated, caller frees), or NULL with errno set. */
char *json__render(const struct judgement *j, const struct json_opts *o, size_t *len);

#endif /* JSON_H */
