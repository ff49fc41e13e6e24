/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * Reading what the tracer recorded: outstanding blocks grouped by stack into leak sites,
 * with every frame resolved through a caller-supplied resolver.
 */
#ifndef COLLECT_H
#define COLLECT_H

#include <stdint.h>

#include "runner/reachability.h"
#include "runner/records.h"
#include "runner/tracer.h"

/* A frame as the kernel captured it. */
struct raw_frame {
	uint64_t ip;
	uint64_t base;		/* user frames: address of the file's offset 0, or 0 */
	uint64_t ino;		/* user frames: file identity, 0 when anonymous */
	uint32_t dev;		/* kernel encoding: major << 20 | minor */
	int kernel;
};

/*
 * Turns a raw frame into symbolized ones: the frame, preceded by the functions inlined
 * at its address (struct frame's inlined). Writes at most max (at least one) frames to
 * out, whose addr is set, and returns how many. Strings must outlive the collection.
 */
struct frame_resolver {
	size_t (*resolve)(void *ctx, uint32_t tgid, const struct raw_frame *rf, struct frame *out,
			  size_t max);
	void *ctx;
};

/* Frames of inlined functions a raw frame may stand for, at the most. */
#define COLLECT_MAX_INLINED 16

/*
 * The kind of each block of a process, from its memory (runner/reachability), sorted by
 * address; with, for each definitely lost block, the indirectly lost ones it holds.
 */
struct block_kinds {
	struct reach_block *blocks;
	size_t n;
	uint64_t *indirect_bytes;
	uint64_t *indirect_allocs;
};

/*
 * The kinds of the outstanding blocks of process pid (from not_before_ns on): listed from
 * the tracer, then classified from its memory while it is held: by h, or by a hold of its
 * own when h is NULL (none when nothing is outstanding). The stack of thread tid is read
 * from sp (runner/reachability). *listed_ns, when given: when the listing ended. NULL
 * with errno set on failure.
 */
struct block_kinds *collect__kinds(struct tracer *t, pid_t pid, uint64_t not_before_ns,
				   struct reach_hold *h, pid_t tid, uint64_t sp,
				   struct reach_stats *stats, uint64_t *listed_ns);
/* Takes ownership of blocks, classified and sorted. NULL when memory ran out. */
struct block_kinds *block_kinds__new(struct reach_block *blocks, size_t n);
void block_kinds__free(struct block_kinds *k);

struct collect_filter {
	int all;		/* every process (and the kernel), not just tgid */
	uint32_t tgid;		/* 0: kernel allocations */
	uint64_t min_age_ns;	/* skip blocks younger than this (-o) */
	uint64_t not_before_ns;	/* skip blocks allocated before this (an earlier image) */
	int want_blocks;	/* list each block (-a) */
	int take;		/* delete the process's blocks from the tracer as they are read */
	/*
	 * The blocks' kinds: sites are per stack and kind. NULL: every block is taken as
	 * definitely lost. A block it does not know (allocated after the scan) is too.
	 */
	const struct block_kinds *kinds;
	/* With kinds: only blocks of these kinds (1 << LEAK_*), none it does not know; 0: all. */
	unsigned int only_kinds;
};

struct collection {
	size_t nsites;
	struct leak_site *sites;	/* most bytes first */
	uint64_t total_bytes;
	uint64_t total_allocs;
	uint64_t unclassified;	/* blocks the kinds did not know, taken as definitely lost */
};

/*
 * The outstanding blocks of one process (from not_before_ns on), addresses and sizes, to
 * classify. 0 or -errno.
 */
int collect__block_list(struct tracer *t, uint32_t tgid, uint64_t not_before_ns,
			struct reach_block **out, size_t *nout);

/* Groups the outstanding blocks by stack. Returns NULL with errno set on failure. */
struct collection *collect__blocks(struct tracer *t, const struct collect_filter *f,
				   const struct frame_resolver *r);
/*
 * Per-stack totals kept in the kernel (--combined-only). They do not know processes:
 * frames resolve in process tgid (0 for the kernel).
 */
struct collection *collect__combined(struct tracer *t, uint32_t tgid,
				     const struct frame_resolver *r);
void collection__free(struct collection *c);

/* Monotonic clock in ns, the clock the tracer stamps blocks with. */
uint64_t collect_now_ns(void);

#endif /* COLLECT_H */
