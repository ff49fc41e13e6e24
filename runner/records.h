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

/*
 * What the process's memory at its exit says of a block, in valgrind's words. Ordered so
 * that the kinds that fail the gate by default come first.
 */
enum leak_kind {
	LEAK_DEFINITE,		/* "definitely lost": nothing points to it */
	LEAK_INDIRECT,		/* "indirectly lost": only lost blocks point to it */
	LEAK_POSSIBLE,		/* "possibly lost": only pointers into its middle reach it */
	LEAK_REACHABLE,		/* "still reachable": a chain of pointers from a root reaches it */
	LEAK__COUNT,
};

/* A set of kinds, one bit each (1 << LEAK_*). */
#define LEAK_KINDS_ALL ((1u << LEAK_DEFINITE) | (1u << LEAK_INDIRECT) | \
			(1u << LEAK_POSSIBLE) | (1u << LEAK_REACHABLE))
#define LEAK_KINDS_LOST ((1u << LEAK_DEFINITE) | (1u << LEAK_INDIRECT))

/* "definite", "indirect", "possible", "reachable": valgrind's option values. */
const char *leak_kind_name(enum leak_kind k);
/* "definitely lost", "indirectly lost", "possibly lost", "still reachable". */
const char *leak_kind_words(enum leak_kind k);
/*
 * Parses a valgrind kind list ("definite,indirect", "all", "none") into a set. Returns 0,
 * or -EINVAL with *bad pointing at the word not understood.
 */
int leak_kinds_parse(const char *list, unsigned int *set, const char **bad);

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
	enum leak_kind kind;	/* every block of a site is of one kind */
	/* Definitely lost sites: the indirectly lost blocks their blocks held. */
	uint64_t indirect_bytes;
	uint64_t indirect_allocs;
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
	/*
	 * Whether its memory was read at its exit: then each site's kind is what its memory
	 * said. Otherwise every block is taken as definitely lost, and scan_error says why.
	 */
	int scanned;
	const char *scan_error;	/* NULL when scanned */
	uint64_t scan_ns;	/* how long the process was held for the scan */
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
