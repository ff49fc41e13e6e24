/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * Where a probe sits inside an allocator function (x86-64).
 *
 * At a probe the kernel emulates a few instructions (push of a register, jmp, call) and
 * single-steps every other one out of line, which costs about three times as much. A probe
 * moved past instructions that change nothing it reads, on every path that matters, counts
 * exactly what a probe at the entry counts, for less. Two moves are made, and only onto an
 * instruction the kernel emulates:
 *  - past endbr64, a marker that does nothing in user space; the stack pointer and the
 *    return address are untouched, so a return probe placed there still works;
 *  - for functions where a null first argument does nothing (free, operator delete): past
 *    `test %rdi,%rdi` and a `je` whose target is a `ret`. Only calls with a null pointer
 *    take that branch, and a null pointer frees nothing.
 * Anything else, or code that cannot be read, keeps the probe at the entry.
 */
#ifndef PLACEMENT_H
#define PLACEMENT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Bytes of a function's code worth reading to place its probe (the `je` target included). */
#define PLACEMENT_WINDOW 512

/*
 * How many bytes past a function's first instruction its probe can sit. `code` holds the
 * function's first `len` bytes; `null_is_noop` says its first argument being null makes
 * it do nothing. 0 means the entry.
 */
size_t placement_skip(const uint8_t *code, size_t len, bool null_is_noop);

/* Whether the kernel emulates the instruction at `code` rather than single-stepping it. */
bool placement_emulated(const uint8_t *code, size_t len);

#endif /* PLACEMENT_H */
