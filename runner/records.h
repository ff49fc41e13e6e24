/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * Neutral records passed from the tracer to the judging and reporting code.
 *
 * Nothing here knows about BPF or libbpf: assertions/ and reporters/ see only these
 * types, so they can be unit-tested without privileges.
 */
#ifndef RECORDS_H
#define RECORDS_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

/* One symbolized frame. Strings are owned by whoever built the record. */
struct frame {
	uint64_t addr;		/* absolute address in the traced process (or kernel) */
	uint64_t offset;	/* address minus the start of the function, if known */
	const char *module;	/* path of the mapped object, "[kernel]", or NULL */
	const char *function;	/* demangled function name, or NULL when unknown */
	const char *file;	/* source file from debug info, or NULL */
	int line;		/* source line, 0 when unknown */
	int inlined;		/* a function inlined into the next frame, at its address */
};

/* One outstanding block, for listings such as memleak -a. */
struct block {
	uint64_t addr;
	uint64_t size;
	uint64_t age_ns;
};

/* Allocations still outstanding from one stack. */
struct leak_site {
	uint64_t bytes;
	uint64_t allocs;
	size_t nframes;
	struct frame *frames;	/* innermost first: frames[0] called the allocator */
	size_t nblocks;		/* blocks listed, may be 0 even when allocs > 0 */
	struct block *blocks;
};

/* Events the tracer could not record, by cause. Any non-zero field means lost data. */
struct lost_counts {
	uint64_t map_full;		/* outstanding-block table full */
	uint64_t stack_errors;		/* stack could not be captured or stored */
	uint64_t nest_overflow;		/* nested allocator calls deeper than tracked */
	uint64_t unmatched_returns;	/* allocator returns without a recorded entry */
	uint64_t missed_frees;		/* address returned again while still tracked */
	uint64_t ringbuf_drops;		/* events the ring buffer could not take */
	uint64_t recursion_misses;	/* BPF programs the kernel skipped (recursion) */
};

/* Everything known about one traced process at the time it is judged. */
struct proc_record {
	pid_t pid;
	pid_t ppid;
	const char *comm;	/* command name */
	const char *exe;	/* path of the executable image */
	int exited;		/* 1 when the process has exited */
	int exit_code;		/* exit status when exited normally */
	int term_signal;	/* signal that ended it, 0 when it exited */
	size_t nsites;
	struct leak_site *sites;
	struct lost_counts lost;
};

/* Total of lost events: non-zero means the record is incomplete. */
static inline uint64_t lost_counts_total(const struct lost_counts *l)
{
	return l->map_full + l->stack_errors + l->nest_overflow + l->unmatched_returns +
	       l->ringbuf_drops + l->recursion_misses;
}

#endif /* RECORDS_H */
