/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * What a symbolized frame is called, in forms that stay the same across runs, rebuilds
 * and machines: function names without compiler clone suffixes, library names without
 * version numbers, the stack without the C runtime's frames below main.
 */
#ifndef FRAME_NAMES_H
#define FRAME_NAMES_H

#include <stddef.h>

#include "runner/records.h"

/* The last component of a path; NULL for NULL. */
const char *frame_names_basename(const char *path);

/*
 * Length of a function name without what the toolchain adds and changes between builds:
 * clone suffixes (".constprop.0", ".isra.0", ".part.0", ".cold", ".localalias", C++'s
 * " [clone .cold]") and symbol versions ("@GLIBC_2.2.5"). 0 for NULL.
 */
size_t frame_names_stem_len(const char *function);

/* Length of a library's file name without its version: "libfoo.so.1.2" -> "libfoo.so". */
size_t frame_names_module_stem_len(const char *basename);

/*
 * 1 when a module belongs to the system (the C and C++ runtimes, the dynamic loader,
 * system library directories, the kernel) rather than to the program. NULL counts as
 * system: nothing is known about it.
 */
int frame_names_is_system_module(const char *module);

/* 1 for main, 1 for the C runtime's frames below it (__libc_start_main, _start, ...). */
int frame_names_is_main(const char *function);
int frame_names_is_below_main(const char *function);

/*
 * Frames that describe the leak: all of them up to and including main; the C runtime's
 * start-up frames below main, which vary with how far the stack could be walked, are left
 * out.
 */
size_t frame_names_depth(const struct leak_site *site);

/* 1 when the function is one of the allocator's entry points (malloc, operator new, ...). */
int frame_names_is_allocator(const char *function);
/* The allocator entry points, NULL-terminated, mangled and demangled. */
extern const char *const frame_names_allocators[];

#endif /* FRAME_NAMES_H */
