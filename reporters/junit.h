/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * JUnit XML of the Jenkins/Ant family, as GitLab, Jenkins and the GitHub test reporters
 * read it: one testsuite per traced process, one testcase per leak site named by the
 * site's stable name, plus the process's exit status and its lost events. Written whole
 * or not at all. See docs/REPORTS.md.
 */
#ifndef JUNIT_H
#define JUNIT_H

#include <stdint.h>
#include <time.h>

#include "assertions/judge.h"

struct junit_opts {
	const char *tool;		/* names the report; NULL: "memleak-run" */
	const char *const *argv;	/* the command judged, NULL-terminated, or NULL */
	int exit_status;		/* the command's wait status, when no process was judged */
	int timed_out;			/* the run was ended by its timeout */
	uint64_t max_leaked_bytes;	/* the run's budget, as given to the judge */
	uint64_t max_leaked_allocs;
	double duration_s;		/* wall time of the run */
	time_t timestamp;		/* when the run started; 0: now */
	const char *hostname;		/* NULL: this machine's name */
	unsigned int show_kinds;	/* kinds listed though they do not fail (1 << LEAK_*) */
};

/*
 * Writes the report to path, replacing it whole, or leaves path untouched. o may be NULL
 * for defaults. Returns 0 or -errno.
 */
int junit__write(const struct judgement *j, const struct junit_opts *o, const char *path);

/* The document in memory (NUL-terminated, caller frees), or NULL with errno set. */
char *junit__render(const struct judgement *j, const struct junit_opts *o, size_t *len);

#endif /* JUNIT_H */
