/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * Addresses to names: a file and an offset in it to function, source file and line (ELF
 * symbols, DWARF lines from the file or its separate debug file, C++ demangled); kernel
 * addresses through /proc/kallsyms. Files are opened once and cached; everything is lazy.
 */
#ifndef SYMBOLIZE_H
#define SYMBOLIZE_H

#include <stdint.h>

#include "runner/records.h"

struct symbolizer;

struct symbolizer *symbolizer__new(void);
void symbolizer__free(struct symbolizer *s);

/*
 * Opens a file now and keeps it, so it resolves later even if it is deleted or was
 * reached through a process that has exited. Returns 0 or -errno.
 */
int symbolizer__open_file(struct symbolizer *s, const char *path);

/*
 * Fills f->function, f->offset, f->file, f->line for a byte at file_offset in the file
 * at path. With is_return, the address is a return address: the call before it is
 * looked up, so a call ending a function resolves to that function. Strings belong to
 * the symbolizer. Returns 0, or -ENOENT when nothing is known there.
 */
int symbolizer__resolve_file(struct symbolizer *s, const char *path, uint64_t file_offset,
			     int is_return, struct frame *f);

/* Kernel addresses: f->function, f->offset, f->module ("[kernel]" or "[module]"). */
int symbolizer__resolve_kernel(struct symbolizer *s, uint64_t addr, struct frame *f);

/* "name" demangled when it is a C++ symbol, else a copy; caller frees. */
char *symbolize_demangle(const char *name);

#endif /* SYMBOLIZE_H */
