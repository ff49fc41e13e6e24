/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* memleak-run's command line: the gate's options, their defaults and their checks. */
#ifndef RUN_OPTIONS_H
#define RUN_OPTIONS_H

#include <stdint.h>
#include <sys/types.h>

struct run_opts {
	char **suppressions;		/* --suppressions FILE, repeatable */
	size_t nsuppressions;
	int default_suppressions;	/* off with --no-default-suppressions */
	uint64_t max_leaked_bytes;	/* --max-leaked-bytes */
	uint64_t max_leaked_allocs;	/* --max-leaked-allocs */
	int error_exitcode;		/* --error-exitcode, default 23 */
	unsigned int error_kinds;	/* --errors-for-leak-kinds (1 << LEAK_*) */
	unsigned int show_kinds;	/* --show-leak-kinds: listed besides the failing ones */
	const char *junit;		/* --junit FILE */
	const char *json;		/* --json FILE */
	const char *gen_suppressions;	/* --gen-suppressions FILE */
	unsigned int timeout;		/* --timeout SECONDS, 0: none */
	const char *user;		/* --user NAME|UID */
	int skip_untraceable;		/* --skip-if-untraceable: exit 77, not 99 */
	int follow;			/* off with --no-follow */
	int stack_frames;		/* --summary-frames: frames per stack in the summary */
	uint32_t max_blocks;		/* --max-blocks */
	uint32_t max_stacks;		/* --max-stacks */
	int probes_at_entry;		/* --probes-at-entry */
	int probe_only;			/* --probe-only */
	int no_preload;			/* --no-preload */
	int verbose;			/* -v */
	char **argv;			/* the command after -- */
};

void run_opts__defaults(struct run_opts *o);
/* 0, 1 when help was printed, or -EINVAL after saying what is wrong. */
int run_opts__parse(struct run_opts *o, int argc, char **argv);
void run_opts__free(struct run_opts *o);

#endif /* RUN_OPTIONS_H */
