/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * The verdict: outstanding allocations of every traced process judged against the
 * suppressions and the run's byte/count budgets.
 */
#ifndef JUDGE_H
#define JUDGE_H

#include <stddef.h>
#include <stdint.h>

#include "assertions/suppressions.h"
#include "runner/records.h"

enum site_verdict {
	SITE_LEAK,		/* unsuppressed: counts against the run's budget */
	SITE_SUPPRESSED,	/* matched a rule without a budget */
	SITE_WITHIN_BUDGET,	/* matched a rule with a budget, within it so far */
	SITE_OVER_BUDGET,	/* matched a rule with a budget and took it over: fails */
	SITE_NOT_AN_ERROR,	/* a kind of block that does not fail (--errors-for-leak-kinds) */
};

struct site_judgement {
	const struct leak_site *site;
	enum site_verdict verdict;
	const struct suppression_rule *rule;	/* the rule that matched, or NULL */
	char *name;				/* stable name from symbolized frames */
	const struct frame *own_frame;		/* first frame in the project's code, or NULL */
};

struct proc_judgement {
	const struct proc_record *proc;
	size_t nsites;
	struct site_judgement *sites;	/* most bytes first */
	uint64_t leaked_bytes;		/* unsuppressed */
	uint64_t leaked_allocs;
	uint64_t suppressed_bytes;	/* suppressed or within a rule's budget */
	uint64_t suppressed_allocs;
	uint64_t kind_bytes[LEAK__COUNT];	/* every site, by kind: valgrind's leak summary */
	uint64_t kind_allocs[LEAK__COUNT];
};

struct judge_opts {
	uint64_t max_leaked_bytes;	/* whole run, unsuppressed */
	uint64_t max_leaked_allocs;
	/* Kinds that fail (1 << LEAK_*); 0 means the default, definitely and indirectly lost. */
	unsigned int error_kinds;
};

struct judgement {
	size_t nprocs;
	struct proc_judgement *procs;
	uint64_t leaked_bytes;		/* whole run, unsuppressed */
	uint64_t leaked_allocs;
	int over_budget;		/* run budget exceeded or a rule's budget exceeded */
	int lost_data;			/* some process lost events: cannot pass quietly */
	size_t nunused;
	const struct suppression_rule **unused;		/* rules that matched nothing */
	size_t nloose;
	const struct suppression_rule **loose;		/* budgets above what was observed */
};

/*
 * Judges processes in order. Rule counters in `supp` accumulate across the run. Returns
 * NULL with errno set on allocation failure.
 */
struct judgement *judge__run(const struct proc_record *procs, size_t nprocs,
			     struct suppressions *supp, const struct judge_opts *opts);
void judgement__free(struct judgement *j);

/* 1 when the run fails the gate: over a budget, or data was lost. */
int judgement__failed(const struct judgement *j);

/*
 * A stable name for a site, from its symbolized frames (function, file basename), never
 * addresses: the same leak gets the same name on every run and rebuild. A site of blocks
 * that are not definitely lost says its kind: "main (app.c), still reachable". Caller
 * frees.
 */
char *site_name(const struct leak_site *site);
/* The first frame that belongs to the project rather than the system, or NULL. */
const struct frame *site_own_frame(const struct leak_site *site);

#endif /* JUDGE_H */
