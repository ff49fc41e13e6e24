/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * The BPF side seen from user space: load the programs a run needs, attach them to a
 * process's allocator or to the kernel's allocation tracepoints, deliver events, read
 * the lost-event counters. The only module besides collect that knows the skeleton.
 */
#ifndef TRACER_H
#define TRACER_H

#include <stdint.h>
#include <sys/types.h>

#include "bpf/memleak.h"
#include "runner/allocator.h"
#include "runner/records.h"

typedef int (*tracer_event_fn)(void *ctx, const struct memleak_event *e);

struct tracer_opts {
	int kernel;			/* trace kernel allocations instead of a process */
	int percpu;			/* kernel mode: percpu allocations only */
	int follow_children;		/* processes forked by traced ones are traced too */
	int hold_execs;			/* traced processes are held after exec (EV_HELD) */
	int hold_exits;			/* traced processes stop in _exit and abort (EV_ENDING) */
	int trace_events;		/* -t */
	int combined_only;
	int wa_missing_free;
	uint64_t min_size;
	uint64_t max_size;
	uint32_t sample_rate;
	uint32_t max_blocks;		/* outstanding blocks map size */
	uint32_t max_stacks;		/* distinct stacks map size */
	tracer_event_fn on_event;
	void *event_ctx;
	int probe_only;			/* probes attached, programs record nothing */
	int verbose;
};

struct tracer;

/* Opens and loads the BPF object with only the programs these options need. */
struct tracer *tracer__new(const struct tracer_opts *opts);
void tracer__free(struct tracer *t);

/*
 * Puts the probes on every function of `alloc`, for process `pid`, and traces its
 * lifecycle. The process may be held before exec: probes are inode-based and reach the
 * program's image when it is mapped. With follow_children, processes it creates are held
 * at their start (EV_HELD) until tracer__attach_child has put its probes in them; with
 * hold_execs, a process that executes a new program is held until tracer__attach_image
 * has given it the probes that program needs.
 */
int tracer__attach_process(struct tracer *t, pid_t pid, const struct allocator *alloc);
/*
 * Makes `alloc` the probes of a traced process: those it lacks are put in, those of its
 * former program removed. Processes running the same files share the probes' events.
 */
int tracer__attach_image(struct tracer *t, pid_t pid, const struct allocator *alloc);
/* A process created by a traced one gets the probes its parent has (a copy of its image). */
int tracer__attach_child(struct tracer *t, pid_t pid, pid_t parent);
/*
 * Gives the stack walker the unwind rows of the object at `path` (runner/cfi.c), once
 * per file, before a process runs code from it; `hidden`: its frames are walked through
 * but not recorded (the preload library). An object without rows is walked by frame
 * pointer. 0, or -errno: -ENOSPC when the table is full (said once on stderr).
 */
int tracer__add_unwind(struct tracer *t, const char *path, int hidden);
/* Removes a process's probes once it has exited. */
void tracer__detach_process(struct tracer *t, pid_t pid);
/* Attaches the kernel allocation tracepoints. */
int tracer__attach_kernel(struct tracer *t);
/* Marks a process as traced: its fork/exec/exit events are delivered. */
int tracer__add_process(struct tracer *t, pid_t pid);
int tracer__remove_process(struct tracer *t, pid_t pid);

/* Delivers pending events; waits up to timeout_ms. Returns events handled or -errno. */
int tracer__poll(struct tracer *t, int timeout_ms);
/* The ring buffer's file descriptor, for an outer poll loop (epoll-able). */
int tracer__event_fd(struct tracer *t);

/* Counters of lost or corrected events, summed over CPUs and programs. */
int tracer__lost(struct tracer *t, struct lost_counts *out);

/* Map descriptors for collect. */
int tracer__blocks_fd(const struct tracer *t);
/* Kernel memory the blocks and stacks maps hold now, in bytes (their fdinfo's memlock). */
uint64_t tracer__map_memory(const struct tracer *t);
int tracer__stacks_fd(const struct tracer *t);
int tracer__combined_fd(const struct tracer *t);

#endif /* TRACER_H */
