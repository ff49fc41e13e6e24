/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * Writing a report file whole or not at all: into a temporary file beside it, flushed to
 * disk, then renamed over the destination. A failure leaves no partial file.
 */
#ifndef ATOMIC_FILE_H
#define ATOMIC_FILE_H

#include <stdio.h>

/* write_fn returns 0 or -errno. Returns 0 or -errno. */
int atomic_file_write(const char *path, int (*write_fn)(FILE *out, const void *ctx),
		      const void *ctx);

#endif /* ATOMIC_FILE_H */
