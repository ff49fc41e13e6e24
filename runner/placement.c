// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#include "runner/placement.h"

#include <string.h>

static const uint8_t endbr64[] = { 0xf3, 0x0f, 0x1e, 0xfa };
static const uint8_t test_rdi_rdi[] = { 0x48, 0x85, 0xff };

static bool has(const uint8_t *code, size_t len, size_t at, const uint8_t *bytes, size_t n)
{
	return at <= len && n <= len - at && !memcmp(code + at, bytes, n);
}

static int32_t rel32(const uint8_t *p)
{
	return (int32_t)((uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 |
			 (uint32_t)p[3] << 24);
}

bool placement_emulated(const uint8_t *code, size_t len)
{
	if (len >= 1 && code[0] >= 0x50 && code[0] <= 0x57)
		return true;	/* push %rax..%rdi */
	if (len >= 2 && code[0] == 0x41 && code[1] >= 0x50 && code[1] <= 0x57)
		return true;	/* push %r8..%r15 */
	if (len >= 2 && code[0] == 0xeb)
		return true;	/* jmp rel8 */
	if (len >= 5 && (code[0] == 0xe9 || code[0] == 0xe8))
		return true;	/* jmp rel32, call rel32 */
	return len >= 1 && code[0] == 0x90;	/* nop */
}

/* A `ret` (or `repz ret`) at `at`: the branch to it returns without doing anything. */
static bool returns_at(const uint8_t *code, size_t len, int64_t at)
{
	if (at < 0 || (uint64_t)at >= len)
		return false;
	return code[at] == 0xc3 || (code[at] == 0xf3 && (uint64_t)at + 1 < len && code[at + 1] == 0xc3);
}

/*
 * Past `test %rdi,%rdi; je RET` at `at`: the offset of the next instruction, or `at` when
 * the code there is anything else.
 */
static size_t past_null_check(const uint8_t *code, size_t len, size_t at)
{
	size_t je = at + sizeof(test_rdi_rdi);
	int64_t target;
	size_t next;

	if (!has(code, len, at, test_rdi_rdi, sizeof(test_rdi_rdi)))
		return at;
	if (je + 2 <= len && code[je] == 0x74) {
		next = je + 2;
		target = (int64_t)next + (int8_t)code[je + 1];
	} else if (je + 6 <= len && code[je] == 0x0f && code[je + 1] == 0x84) {
		next = je + 6;
		target = (int64_t)next + rel32(code + je + 2);
	} else {
		return at;
	}
	return returns_at(code, len, target) ? next : at;
}

size_t placement_skip(const uint8_t *code, size_t len, bool null_is_noop)
{
	size_t at = 0;

	if (has(code, len, 0, endbr64, sizeof(endbr64)))
		at = sizeof(endbr64);
	if (null_is_noop)
		at = past_null_check(code, len, at);
	if (at == 0 || !placement_emulated(code + at, len - at))
		return 0;
	return at;
}
