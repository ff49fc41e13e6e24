/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * What a traced process's new program needs probed after an exec: the allocator it will
 * really use, resolved as its dynamic linker will resolve it (the process's environment
 * and working directory, not ours), remembered per program file and loader settings so
 * a test suite that runs one program a thousand times resolves it once.
 */
#ifndef IMAGES_H
#define IMAGES_H

#include <sys/types.h>

#include "runner/allocator.h"

struct images;

struct images *images__new(const struct allocator_opts *opts);
void images__free(struct images *c);

/*
 * The allocator of the program process `pid` has just executed, while it is held before
 * its first instruction. Borrowed: it lives as long as `c`. *fresh is set when it was
 * resolved now (its objects are new to the caller). NULL with errno set: ESRCH when the
 * process is gone.
 */
const struct allocator *images__allocator(struct images *c, pid_t pid, int *fresh);

#endif /* IMAGES_H */
