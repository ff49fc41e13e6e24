/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * The gate's tracing session: runs the program under test held before exec, follows the
 * processes it creates, and turns each process's outstanding blocks into a record when
 * it exits, while its stacks can be resolved.
 */
#ifndef GATE_H
#define GATE_H

#include <signal.h>
#include <stdint.h>
#include <sys/types.h>

#include "runner/launch.h"
#include "runner/records.h"

struct gate_opts {
	int follow;			/* trace the processes the program creates */
	uint32_t max_blocks;
	uint32_t max_stacks;
	unsigned int timeout;		/* seconds, 0: none */
	int probes_at_entry;		/* every probe on its function's first instruction */
	int probe_only;			/* probes attached, nothing recorded (diagnostics) */
	const char *preload;		/* libmemleak-preload.so to preload, NULL: probe the C library */
	int verbose;
};

struct gate;

/*
 * Loads the tracer. NULL with errno set when tracing is impossible here (the tracer has
 * said why on stderr).
 */
struct gate *gate__new(const struct gate_opts *opts);
void gate__free(struct gate *g);

/*
 * Starts argv held before exec, attaches, lets it run. Returns 0, -ENOENT/-EACCES/...
 * when the program cannot be executed, or another -errno when it cannot be traced.
 */
int gate__start(struct gate *g, char *const argv[], const struct launch_opts *lo);

/*
 * Runs until the program and every traced process have exited, the timeout expires, or
 * a signal arrives (*stop set by the caller's handler; it is forwarded to the program).
 */
int gate__wait(struct gate *g, volatile sig_atomic_t *stop);

/* The program's wait status, and whether the timeout ended it. */
int gate__status(const struct gate *g);
int gate__timed_out(const struct gate *g);

/*
 * Records of every traced process, in the order they exited. The tracer's lost-event
 * counters (global, not per process) are on the program's own record.
 */
const struct proc_record *gate__records(const struct gate *g, size_t *n);

#endif /* GATE_H */
