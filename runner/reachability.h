/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * Which outstanding blocks a process still points to: its memory read at the end of its
 * life, a conservative scan of every pointer-aligned word of the roots (writable
 * mappings that hold no heap block, each thread's stack from its stack pointer, each
 * thread's registers), then a flood through the blocks reached. Each block gets
 * valgrind's kind: still reachable, possibly lost (only interior pointers), indirectly
 * lost (only lost blocks point to it) or definitely lost.
 */
#ifndef REACHABILITY_H
#define REACHABILITY_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include <sys/uio.h>

#include "runner/records.h"

/* A block to classify. */
struct reach_block {
	uint64_t addr;
	uint64_t size;
	enum leak_kind kind;	/* the result */
	/* LEAK_INDIRECT: the definitely lost block holding it (an index), else its own index. */
	uint32_t leader;
};

/* Reads the process's memory: n ranges, each into its buffer, zero-filled where unreadable. */
struct reach_memory {
	void (*readv)(void *ctx, const struct iovec *local, const struct iovec *remote, size_t n);
	void *ctx;
};

/* A root: a range of the process's memory, or words held here (registers). */
struct reach_roots {
	size_t nregions;
	struct iovec *regions;		/* remote ranges */
	size_t nwords;
	uint64_t *words;
};

struct reach_stats {
	uint64_t root_bytes;		/* roots read */
	uint64_t block_bytes;		/* blocks' contents read */
	uint64_t threads;		/* threads whose stacks and registers were roots */
	uint64_t threads_without_registers;
};

/*
 * Classifies blocks (sorted by address on return: leader indexes refer to that order)
 * as valgrind's leak check does. Returns 0 or -ENOMEM.
 */
int reach_classify(struct reach_block *blocks, size_t n, const struct reach_roots *roots,
		   const struct reach_memory *mem, struct reach_stats *stats);

/*
 * A process held still: each of its threads stopped with ptrace (a running process is
 * interrupted, a stopped one stays stopped) and its registers read, until the hold is
 * freed. NULL with errno set when the process cannot be held at all; a thread that
 * cannot (traced by another) gives its stack pointer through /proc and no registers.
 */
struct reach_hold;

struct reach_hold *reach_hold__new(pid_t pid);
/*
 * reach_classify for the held process. The stack of thread `tid` (0: none) is read from
 * `sp` rather than from its stack pointer: where its caller's frame starts, when what is
 * below belongs to exit(). 0, or -errno: the process could not be read at all.
 */
int reach_hold__classify(struct reach_hold *h, pid_t tid, uint64_t sp, struct reach_block *blocks,
			 size_t n, struct reach_stats *stats);
/* Lets the threads go on (or stay in the group stop they were in). */
void reach_hold__free(struct reach_hold *h);

/*
 * Waits until every thread of `pid` is stopped (a group stop), at most timeout_ms.
 * 0, -ESRCH when it is gone, -ETIMEDOUT.
 */
int reach_wait_stopped(pid_t pid, int timeout_ms);

#endif /* REACHABILITY_H */
