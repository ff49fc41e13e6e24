/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* What the file reports know about the run besides the judgement. */
#ifndef REPORT_OPTS_H
#define REPORT_OPTS_H

#include <stdint.h>

struct report_opts {
	const char *const *argv;	/* the command judged */
	int exit_status;		/* its wait status */
	int timed_out;			/* ended by --timeout */
	uint64_t max_leaked_bytes;	/* the run's budget */
	uint64_t max_leaked_allocs;
	double duration_s;		/* wall time of the run */
};

#endif /* REPORT_OPTS_H */
