/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * Unwind rows from an x86-64 ELF object's call frame information, for the tracer's
 * in-kernel stack walk: at each place of the object's code, the register and offset that
 * give the canonical frame address (CFA), and where the caller's frame pointer is. Code
 * built without frame pointers (most distributions' libraries, and programs built with
 * plain -O2) unwinds through them. Read from .eh_frame, found through .eh_frame_hdr
 * (PT_GNU_EH_FRAME), with libdw interpreting the instructions.
 */
#ifndef CFI_H
#define CFI_H

#include <stddef.h>
#include <stdint.h>

#include "bpf/memleak.h"

/* An object's rows, sorted by file offset; each applies up to the next one. */
struct cfi_table {
	struct unwind_row *rows;
	size_t n;
};

/*
 * Builds the rows of the object at `path`. 0, or -errno: -ENOENT when it has no call
 * frame information this reads, -ENOEXEC when it is not an x86-64 ELF object.
 */
int cfi__build(const char *path, struct cfi_table *out);
void cfi__free(struct cfi_table *t);

/*
 * The row that applies at file offset `offset`, as the BPF walker finds it: the last row
 * beginning at or before it. NULL before the first.
 */
const struct unwind_row *cfi__lookup(const struct cfi_table *t, uint64_t offset);

#endif /* CFI_H */
