/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * Probe placement: which instruction sequences a probe may skip, and that anything
 * unexpected keeps it at the entry. The byte sequences are the real prologues of the
 * allocator functions in Debian 12's libc and libstdc++, and variations on them.
 */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "runner/placement.h"
#include "tests/testutil.h"

/* glibc 2.36 free: test %rdi,%rdi; je <ret>; push %rbp; ... <ret>: ret. */
static void glibc_free(uint8_t *code, size_t len)
{
	static const uint8_t head[] = { 0x48, 0x85, 0xff, 0x0f, 0x84, 0xbf, 0x00, 0x00, 0x00,
					0x55, 0x48, 0x8d, 0x77, 0xf0, 0x53 };

	memset(code, 0xcc, len);
	memcpy(code, head, sizeof(head));
	code[0xc8] = 0xc3;
}

START_TEST(test_free_skips_null_check)
{
	uint8_t code[PLACEMENT_WINDOW];

	glibc_free(code, sizeof(code));
	ck_assert_uint_eq(placement_skip(code, sizeof(code), true), 9);
}
END_TEST

START_TEST(test_null_check_only_where_null_does_nothing)
{
	uint8_t code[PLACEMENT_WINDOW];

	/* malloc(0), realloc(NULL, n): a null first argument is not a no-op there. */
	glibc_free(code, sizeof(code));
	ck_assert_uint_eq(placement_skip(code, sizeof(code), false), 0);
}
END_TEST

START_TEST(test_branch_must_return)
{
	uint8_t code[PLACEMENT_WINDOW];

	/* The null path does something before returning: a probe past it could miss a call. */
	glibc_free(code, sizeof(code));
	code[0xc8] = 0x48;
	ck_assert_uint_eq(placement_skip(code, sizeof(code), true), 0);
	/* repz ret returns too. */
	code[0xc8] = 0xf3;
	code[0xc9] = 0xc3;
	ck_assert_uint_eq(placement_skip(code, sizeof(code), true), 9);
	/* A target outside what was read proves nothing. */
	ck_assert_uint_eq(placement_skip(code, 0xc8, true), 0);
}
END_TEST

START_TEST(test_short_branch)
{
	/* test %rdi,%rdi; je +3 (rel8); push %rbx; ...; ret */
	const uint8_t code[] = { 0x48, 0x85, 0xff, 0x74, 0x03, 0x53, 0x90, 0x90, 0xc3 };

	ck_assert_uint_eq(placement_skip(code, sizeof(code), true), 5);
}
END_TEST

START_TEST(test_backward_branch_target)
{
	/* je back onto the test itself: not a return. */
	const uint8_t code[] = { 0x48, 0x85, 0xff, 0x74, 0xfb, 0x53, 0xc3 };

	ck_assert_uint_eq(placement_skip(code, sizeof(code), true), 0);
}
END_TEST

START_TEST(test_lands_only_on_emulated)
{
	uint8_t code[PLACEMENT_WINDOW];

	/* Past the check comes lea, which is single-stepped too: nothing gained, stay. */
	glibc_free(code, sizeof(code));
	code[9] = 0x48;
	code[10] = 0x8d;
	code[11] = 0x77;
	code[12] = 0xf0;
	ck_assert_uint_eq(placement_skip(code, sizeof(code), true), 0);
}
END_TEST

START_TEST(test_endbr64)
{
	/* libstdc++ operator delete: endbr64; jmp free@plt. */
	const uint8_t del[] = { 0xf3, 0x0f, 0x1e, 0xfa, 0xe9, 0x87, 0x2f, 0xff, 0xff };
	/* libstdc++ operator new: endbr64; test %rdi,%rdi; mov $1,%eax: not emulated. */
	const uint8_t opnew[] = { 0xf3, 0x0f, 0x1e, 0xfa, 0x48, 0x85, 0xff, 0xb8, 0x01, 0x00, 0x00, 0x00 };
	/* endbr64; push %r12 */
	const uint8_t push[] = { 0xf3, 0x0f, 0x1e, 0xfa, 0x41, 0x54 };

	ck_assert_uint_eq(placement_skip(del, sizeof(del), true), 4);
	ck_assert_uint_eq(placement_skip(del, sizeof(del), false), 4);
	ck_assert_uint_eq(placement_skip(opnew, sizeof(opnew), false), 0);
	ck_assert_uint_eq(placement_skip(push, sizeof(push), false), 4);
}
END_TEST

START_TEST(test_endbr64_then_null_check)
{
	uint8_t code[PLACEMENT_WINDOW];

	memset(code, 0xcc, sizeof(code));
	memcpy(code, (const uint8_t[]){ 0xf3, 0x0f, 0x1e, 0xfa, 0x48, 0x85, 0xff, 0x74, 0x10, 0x55 },
	       10);
	code[9 + 0x10] = 0xc3;
	ck_assert_uint_eq(placement_skip(code, sizeof(code), true), 9);
}
END_TEST

START_TEST(test_entry_stays)
{
	/* glibc malloc starts with push %r12: already emulated, nothing to skip. */
	const uint8_t malloc_head[] = { 0x41, 0x54, 0x55, 0x53 };
	/* posix_memalign starts with cmpb: stays, single-stepped. */
	const uint8_t memalign_head[] = { 0x80, 0x3d, 0x01, 0x02, 0x14, 0x00, 0x00 };

	ck_assert_uint_eq(placement_skip(malloc_head, sizeof(malloc_head), false), 0);
	ck_assert_uint_eq(placement_skip(memalign_head, sizeof(memalign_head), false), 0);
	ck_assert_uint_eq(placement_skip(malloc_head, 0, true), 0);
}
END_TEST

START_TEST(test_truncated_code)
{
	uint8_t code[PLACEMENT_WINDOW];

	glibc_free(code, sizeof(code));
	/* Cut inside the je, and right before the push. */
	for (size_t len = 0; len < 10; len++)
		ck_assert_msg(placement_skip(code, len, true) == 0, "skipped with %zu bytes", len);
	/* endbr64 cut short. */
	ck_assert_uint_eq(placement_skip((const uint8_t[]){ 0xf3, 0x0f, 0x1e }, 3, false), 0);
}
END_TEST

START_TEST(test_emulated_set)
{
	ck_assert(placement_emulated((const uint8_t[]){ 0x55 }, 1));
	ck_assert(placement_emulated((const uint8_t[]){ 0x41, 0x57 }, 2));
	ck_assert(placement_emulated((const uint8_t[]){ 0xe8, 0, 0, 0, 0 }, 5));
	ck_assert(placement_emulated((const uint8_t[]){ 0xe9, 0, 0, 0, 0 }, 5));
	ck_assert(placement_emulated((const uint8_t[]){ 0xeb, 0 }, 2));
	ck_assert(placement_emulated((const uint8_t[]){ 0x90 }, 1));
	ck_assert(!placement_emulated((const uint8_t[]){ 0x48, 0x85, 0xff }, 3));
	ck_assert(!placement_emulated((const uint8_t[]){ 0x41, 0x58 }, 2));	/* pop %r8 */
	ck_assert(!placement_emulated((const uint8_t[]){ 0x41 }, 1));
	ck_assert(!placement_emulated((const uint8_t[]){ 0xe8, 0, 0 }, 3));
	ck_assert(!placement_emulated((const uint8_t[]){ 0xf3, 0x0f, 0x1e, 0xfa }, 4));
}
END_TEST

static Suite *suite(void)
{
	Suite *s = suite_create("placement");
	TCase *tc = tcase_create("decode");

	tcase_add_test(tc, test_free_skips_null_check);
	tcase_add_test(tc, test_null_check_only_where_null_does_nothing);
	tcase_add_test(tc, test_branch_must_return);
	tcase_add_test(tc, test_short_branch);
	tcase_add_test(tc, test_backward_branch_target);
	tcase_add_test(tc, test_lands_only_on_emulated);
	tcase_add_test(tc, test_endbr64);
	tcase_add_test(tc, test_endbr64_then_null_check);
	tcase_add_test(tc, test_entry_stays);
	tcase_add_test(tc, test_truncated_code);
	tcase_add_test(tc, test_emulated_set);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return test_run_suite(suite());
}
