/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * The objects a dynamically linked program loads, found as its dynamic linker finds them,
 * without running anything: DT_NEEDED resolved breadth-first from the program and the
 * preloads, each name searched in the DT_RPATH chain, LD_LIBRARY_PATH, DT_RUNPATH,
 * /etc/ld.so.cache and the system directories, with $ORIGIN, $LIB and $PLATFORM expanded.
 */
#ifndef LIBSEARCH_H
#define LIBSEARCH_H

#include <stddef.h>

struct libsearch_env {
	char *const *envp;	/* LD_LIBRARY_PATH and LD_PRELOAD from here; NULL: ours */
	const char *cwd;	/* relative paths are relative to it; NULL: ours */
	int secure;		/* a set-ID program: LD_LIBRARY_PATH and LD_PRELOAD ignored */
};

/*
 * The objects `program` (whose PT_INTERP is `interp`) loads, in load order, the program
 * itself left out: *paths receives *n malloc'ed absolute paths (the array and each path
 * to free). Returns 0, or -errno (-ENOENT: a needed library is nowhere).
 */
int libsearch_load_order(const char *program, const char *interp, const struct libsearch_env *env,
			 char ***paths, size_t *n);

#endif /* LIBSEARCH_H */
