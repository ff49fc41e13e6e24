/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* memleak's command line: memleak(8)'s options, their defaults and their checks. */
#ifndef OPTIONS_H
#define OPTIONS_H

#include <stdint.h>
#include <sys/types.h>

struct memleak_opts {
	pid_t pid;			/* -p */
	char *command;			/* -c: a whole command line */
	int trace;			/* -t */
	int show_allocs;		/* -a */
	uint64_t older_ms;		/* -o */
	int combined_only;		/* --combined-only */
	int wa_missing_free;		/* --wa-missing-free */
	uint32_t sample_rate;		/* -s */
	int top;			/* -T */
	uint64_t min_size;		/* -z */
	uint64_t max_size;		/* -Z, 0: no limit */
	char *obj;			/* -O */
	int percpu;			/* --percpu */
	int mmap;			/* --mmap */
	uint32_t max_blocks;		/* --max-blocks */
	uint32_t max_stacks;		/* --max-stacks */
	int probes_at_entry;		/* --probes-at-entry */
	int unreachable;		/* --unreachable */
	int verbose;			/* -v, repeatable */
	unsigned int interval;		/* seconds between reports */
	long count;			/* reports, -1: until interrupted */
};

void memleak_opts__defaults(struct memleak_opts *o);
/*
 * Parses argv into o. Returns 0, 1 when help was printed, or -EINVAL after printing
 * what is wrong with which option.
 */
int memleak_opts__parse(struct memleak_opts *o, int argc, char **argv);

/* After getopt_long returned '?': says which option was wrong and how, on stderr. */
void options_report_bad(const char *tool, const char *with_value, int argc, char **argv);

/* Parses a non-negative integer with an optional k/M/G suffix; -EINVAL when malformed. */
int options_parse_u64(const char *s, uint64_t *out, int allow_suffix);

#endif /* OPTIONS_H */
