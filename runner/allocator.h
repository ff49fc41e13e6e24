/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * Finding the allocator a program really uses: the objects it links, searched in the
 * dynamic linker's order, and in each the file offsets of the allocation functions.
 */
#ifndef ALLOCATOR_H
#define ALLOCATOR_H

#include <stdint.h>
#include <sys/types.h>

#include "bpf/memleak.h"

/* What a probe sits on. */
enum probe_kind {
	PROBE_FUNCTION,		/* an allocator function: entry probe, and return probe if it returns a block */
	PROBE_SITE_ALLOC,	/* the preload library's probe sites (runner/preload) */
	PROBE_SITE_FREE,
	PROBE_SITE_REALLOC,
};

/* One place to put a probe: a function of the allocator, or a site, by file and offset. */
struct probe_site {
	enum probe_kind kind;
	enum memleak_fn fn;	/* PROBE_FUNCTION: the function */
	char *path;		/* path the kernel can open (through /proc/PID/root for -p) */
	uint64_t entry;		/* file offset of the function's first instruction */
	uint64_t offset;	/* file offset of the probe: the entry, or past it (placement.h) */
};

struct allocator {
	size_t nsites;
	struct probe_site *sites;
	char *objects;		/* objects searched, for messages: "a, b, c" */
	size_t nobjects;
	char **object_paths;	/* the same, one by one */
};

/* Which functions to look for. */
struct allocator_opts {
	int want_mmap;		/* mmap, munmap, mremap */
	int want_dl;		/* dlopen, dlclose (library paths for symbolization) */
	int want_exit;		/* _exit, abort: where a process is held to read its memory */
	int at_entry;		/* every probe on its function's first instruction */
	/*
	 * Probe the preload library's sites rather than its functions. Only for a tracer that
	 * attaches every process a traced one forks before it runs: a process inherits a site
	 * the kernel has patched into a call, but not what the call jumps to.
	 */
	int use_sites;
};

/*
 * The allocator of a program about to be executed: its own symbols first, then its
 * libraries in the dynamic linker's load order (runner/libsearch.h: found as it finds them,
 * honouring the environment, without running anything). A statically linked program is
 * its own allocator.
 */
struct allocator *allocator__for_program(const char *path, const struct allocator_opts *opts);
/* How a process starts its program, when it is not as this process would. */
struct allocator_env {
	char *const *envp;	/* its environment (LD_PRELOAD, LD_LIBRARY_PATH), NULL: ours */
	const char *cwd;	/* its working directory, for relative paths in them; NULL: ours */
};

/* allocator__for_program, for a program another process executes with `env`. */
struct allocator *allocator__for_exec(const char *path, const struct allocator_env *env,
				      const struct allocator_opts *opts);
/* The allocator of a running process, from /proc/PID/maps, opened through its root. */
struct allocator *allocator__for_pid(pid_t pid, const struct allocator_opts *opts);
/* One object named explicitly (-O): every function it defines. */
struct allocator *allocator__for_object(const char *path, const struct allocator_opts *opts);
void allocator__free(struct allocator *a);

/* Name of an allocator function ("malloc"). */
const char *allocator_fn_name(enum memleak_fn fn);
/* What a probe site is, for messages: "malloc", "site memleak_site_alloc". */
const char *allocator_site_name(const struct probe_site *site);

#endif /* ALLOCATOR_H */
