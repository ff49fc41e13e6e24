/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * memleak's periodic report, in the format of memleak(8) so existing scripts keep working:
 *
 *   [HH:MM:SS] Top N stacks with outstanding allocations:
 *   \tB bytes in A allocations from stack
 *   \t\tfunction+0xoff [module] (file:line)
 */
#ifndef MEMLEAK_TEXT_H
#define MEMLEAK_TEXT_H

#include <stdint.h>
#include <stdio.h>
#include <time.h>

#include "runner/records.h"

struct memleak_text_opts {
	int top;		/* stacks shown, the largest (printed last) */
	int show_blocks;	/* -a: each outstanding block with address and size */
	uint32_t sample_rate;	/* > 1: say the report is of sampled allocations */
	int show_kinds;		/* each stack's leak kind: the process's memory was read */
	const char *note;	/* a line after the heading, or NULL */
};

/* sites: most bytes first, as collect returns them. */
void memleak_text__report(FILE *out, const struct leak_site *sites, size_t nsites,
			  const struct memleak_text_opts *o, time_t when);
/* One frame: "function+0xoff [module] (file:line)". */
void memleak_text__frame(FILE *out, const struct frame *f);
/* A line naming each non-zero lost-event counter; nothing when none. */
void memleak_text__lost(FILE *out, const struct lost_counts *l, time_t when);

#endif /* MEMLEAK_TEXT_H */
