/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * Preloading libmemleak-preload.so (runner/preload) into the program under test: finding
 * the library, deciding whether the program will really load it, and putting it in the
 * environment the program and its children inherit.
 */
#ifndef PRELOADING_H
#define PRELOADING_H

#include "runner/launch.h"

#define PRELOADING_LIBRARY "libmemleak-preload.so"

/*
 * The library installed with this program: next to the executable (the build tree), or in
 * ../lib/memleak/ from it. A malloc'ed path, or NULL with errno set.
 */
char *preloading_find_library(void);

/*
 * Why `program`, run as `lo` says, would not load `library`: a set-user-ID or
 * set-group-ID program (the dynamic linker ignores LD_PRELOAD for it), or a library the
 * program's user cannot read. NULL when it will load it.
 */
const char *preloading_obstacle(const char *library, const char *program,
				const struct launch_opts *lo);

/*
 * Appends `library` to LD_PRELOAD in this process's environment: libraries the user
 * preloads come first, so an allocator among them still interposes on ours.
 */
int preloading_setenv(const char *library);

#endif /* PRELOADING_H */
