/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* The gate's short text summary: what failed, with stacks, and the verdict last. */
#ifndef SUMMARY_H
#define SUMMARY_H

#include <stdint.h>
#include <stdio.h>

#include "assertions/judge.h"

struct summary_opts {
	int max_frames;			/* frames shown per stack */
	uint64_t max_leaked_bytes;	/* the run's budget, for the verdict line */
	uint64_t max_leaked_allocs;
};

void summary__print(FILE *out, const struct judgement *j, const struct summary_opts *o);

/* "function+0xoff [module] (file:line)" into a new string; caller frees. */
char *summary_frame_text(const struct frame *f);

#endif /* SUMMARY_H */
