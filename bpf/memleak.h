/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * Types shared by the BPF programs and user space: map keys and values, event records,
 * limits and enums. Self-contained: fixed-width types only.
 */
#ifndef MEMLEAK_H
#define MEMLEAK_H

#ifndef __VMLINUX_H__
#include <linux/types.h>
#endif

/*
 * Frames kept per stack (the kernel's own limit is 127), in arrays of a power of 2 so
 * that a masked index is in bounds without the verifier tracking its every value.
 */
#define MEMLEAK_MAX_STACK_DEPTH 127
#define MEMLEAK_STACK_SLOTS 128
/* Allocator calls in progress per thread (an allocator calling another traced one). */
#define MEMLEAK_MAX_NEST 8
/* Bytes of a module path carried in an event. */
#define MEMLEAK_PATH_MAX 256

/* The user-space functions a probe can sit on. */
enum memleak_fn {
	FN_MALLOC,
	FN_CALLOC,
	FN_REALLOC,
	FN_REALLOCARRAY,
	FN_POSIX_MEMALIGN,
	FN_ALIGNED_ALLOC,
	FN_MEMALIGN,
	FN_VALLOC,
	FN_PVALLOC,
	FN_FREE,
	FN_MMAP,
	FN_MUNMAP,
	FN_MREMAP,
	FN_DLOPEN,
	FN_DLCLOSE,
	FN_NEW,		/* C++ operator new and new[], every variant: size is the first argument */
	FN_DELETE,	/* C++ operator delete and delete[], every variant */
	FN_EXIT,	/* _exit: the process ends; held there while its memory is read */
	FN_ABORT,	/* abort: the same, before its signal */
	FN_EXIT_CALL,	/* exit: where the program's part of the exiting thread's stack ends */
	FN__COUNT,
};

/* An outstanding block: (process, address). Kernel blocks use tgid 0. */
struct block_key {
	__u32 tgid;
	__u32 pad;
	__u64 addr;
};

struct block_info {
	__u64 size;
	__u64 ts_ns;		/* bpf_ktime_get_ns() at allocation */
	__u64 stack_hash;	/* key into the stacks map, 0 when no stack was kept */
	__u32 tid;
	__u32 fn;		/* enum memleak_fn, or MEMLEAK_KFN_* in kernel mode */
};

/*
 * Where a user frame's file is mapped, captured when its stack is first seen, so frames
 * resolve to (file, offset) after the process exited or unloaded the library: the file
 * is identified by device and inode, and base is the address of its file offset 0.
 */
struct frame_mapping {
	__u64 base;
	__u64 ino;
	__u32 dev;	/* kernel encoding: major << 20 | minor */
	__u32 pad;
};

/* A deduplicated stack, keyed by a 64-bit hash of its frames. */
struct stack_trace {
	__u32 nr;
	__u32 incomplete;	/* a mapping could not be read (lock busy): retried when seen again */
	__u64 ips[MEMLEAK_STACK_SLOTS];
	struct frame_mapping maps[MEMLEAK_STACK_SLOTS];	/* user stacks only */
};

/*
 * How to find a frame's caller from a return address in one range of an object's code,
 * from its call frame information (.eh_frame): the canonical frame address (CFA) is a
 * register plus an offset, the return address is just below it, and the caller's frame
 * pointer is unchanged or saved at a fixed place from it. Rows of an object are sorted by
 * `offset` (the file offset where the row begins) and each applies up to the next one.
 */
enum unwind_cfa {
	UNWIND_STOP,		/* no rule this unwinder follows: the walk ends or falls back */
	UNWIND_CFA_RSP,
	UNWIND_CFA_RBP,
	UNWIND_END,		/* the outermost frame: the return address is undefined */
};

#define UNWIND_RBP_SAVED 1	/* the caller's rbp is at CFA + rbp_off */

struct unwind_row {
	__u32 offset;
	__s32 cfa_off;
	__s16 rbp_off;
	__u8 cfa;	/* enum unwind_cfa */
	__u8 flags;
	__u32 pad;	/* the size of the map's elements */
};

/* Rows the tracer holds for all objects (16 bytes each in the map), and objects. */
#define MEMLEAK_UNWIND_ROWS (1 << 20)
#define MEMLEAK_UNWIND_OBJECTS 4096

/* A device number in the kernel's encoding, as BPF reads it (super_block s_dev). */
static inline __u32 memleak_kernel_dev(unsigned int major, unsigned int minor)
{
	return (__u32)major << 20 | (minor & 0xfffff);
}

/* An object's file, as the kernel identifies it. */
struct unwind_key {
	__u64 ino;
	__u32 dev;	/* kernel encoding: major << 20 | minor */
	__u32 pad;
};

/* Frames in this object are walked through but not recorded (the preload library). */
#define UNWIND_OBJ_HIDDEN 1

/* An object's rows in unwind_rows: [first, first + count). */
struct unwind_object {
	__u32 first;
	__u32 count;
	__u32 flags;	/* UNWIND_OBJ_* */
};

/* Per-stack totals kept in the kernel for --combined-only. */
struct combined_info {
	__u64 bytes;
	__u64 allocs;
};

/* Why events were lost or corrected; summed over CPUs by user space. */
enum memleak_counter {
	CNT_MAP_FULL,		/* blocks map full: allocation not recorded */
	CNT_STACK_ERRORS,	/* stack not captured or stacks map full */
	CNT_NEST_OVERFLOW,	/* nested allocator calls deeper than MEMLEAK_MAX_NEST */
	CNT_UNMATCHED_RETURNS,	/* return without its entry (entry state lost) */
	CNT_MISSED_FREES,	/* address returned while still tracked */
	CNT_RINGBUF_DROPS,	/* ring buffer full */
	CNT_COMBINED_FULL,	/* combined map full */
	CNT_SCRATCH_FULL,	/* per-thread state map full */
	CNT_VMA_MISSES,		/* frames whose mapping could not be read */
	CNT_NESTED,		/* calls made inside another allocator call: not recorded */
	CNT__COUNT,
};

enum memleak_event_type {
	EV_ALLOC = 1,	/* -t: an allocation recorded */
	EV_FREE,	/* -t: a tracked block freed */
	EV_EXEC,	/* a traced process replaced its image */
	EV_EXIT,	/* a traced process exited (its thread-group leader) */
	EV_FORK,	/* a traced process created a child process */
	EV_MODULE_LOAD,	/* dlopen returned: path and load bias of the library */
	EV_MODULE_UNLOAD,	/* dlclose called: path and load bias of the library */
	EV_HELD,	/* a new traced process is about to stop before its first instruction */
	EV_ENDING,	/* a traced process is about to stop in _exit or abort, its memory whole */
};

/* Kernel allocation kinds, stored in block_info.fn in kernel mode. */
enum memleak_kfn {
	KFN_KMALLOC = 100,
	KFN_KMEM_CACHE,
	KFN_PAGE,
	KFN_PERCPU,
};

struct memleak_event {
	__u32 type;
	__u32 tgid;
	__u32 tid;
	__u32 fn;
	__u64 ts_ns;
	__u64 addr;		/* block address, module load bias, EV_ENDING: stack pointer */
	__u64 size;
	__u64 stack_hash;
	__u32 ppid;		/* EV_FORK: parent tgid */
	__s32 exit_code;	/* EV_EXIT: task->exit_code (wait status) */
	char path[MEMLEAK_PATH_MAX];	/* EV_MODULE_*: library path; EV_EXEC: program */
};

#endif /* MEMLEAK_H */
