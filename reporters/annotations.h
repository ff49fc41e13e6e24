/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * GitHub Actions workflow commands, shown as annotations on the run and the pull request:
 *
 *   ::error file=src/leaky.c,line=19,title=TITLE::MESSAGE
 *
 * Lost data and each failing leak site (the most bytes first) as errors at the site's own
 * frame; suppressions that matched nothing as warnings at their rule; budgets larger than
 * needed as notices. GitHub shows at most 10 annotations of each kind per step: when there
 * are more, the last one shown says how many were left out.
 */
#ifndef ANNOTATIONS_H
#define ANNOTATIONS_H

#include <stdint.h>
#include <stdio.h>

#include "assertions/judge.h"

/* Annotations of one kind GitHub shows per step. */
#define ANNOTATIONS_MAX 10

struct annotation_opts {
	const char *workspace;		/* GITHUB_WORKSPACE: paths under it become relative */
	const char *tool;		/* starts titles; NULL: "memleak-run" */
	int max_per_kind;		/* annotations per kind; 0 or less: ANNOTATIONS_MAX */
	int max_frames;			/* frames in a site's message; 0 or less: 8 */
	uint64_t max_leaked_bytes;	/* the run's budget, as given to the judge */
	uint64_t max_leaked_allocs;
};

/* o may be NULL for defaults. */
void annotations__print(FILE *out, const struct judgement *j, const struct annotation_opts *o);

/*
 * Workflow-command escaping: in data, '%', CR and LF become %25, %0D and %0A; in a
 * property value also ':' and ',' (%3A, %2C). Other control characters and invalid UTF-8
 * are replaced by '?'.
 */
void annotations_put_escaped(FILE *out, const char *s, int property);

#endif /* ANNOTATIONS_H */
