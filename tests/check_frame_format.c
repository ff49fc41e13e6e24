/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* Frames and stacks as text, and the cleaning of text taken from traced programs. */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "reporters/frame_format.h"
#include "tests/testutil.h"

static char *frame_text(const struct frame *f, unsigned int flags)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *out = open_memstream(&buf, &len);

	ck_assert_ptr_nonnull(out);
	frame_format_frame(out, f, flags);
	ck_assert_int_eq(fclose(out), 0);
	return buf;
}

#define ck_frame(flags, expect, ...)                                           \
	do {                                                                   \
		struct frame f_ = { __VA_ARGS__ };                             \
		char *s_ = frame_text(&f_, (flags));                           \
		ck_assert_str_eq(s_, (expect));                                \
		free(s_);                                                      \
	} while (0)

#define ck_clean(flags, in, expect)                                            \
	do {                                                                   \
		char *s_ = frame_format_clean((in), (flags));                  \
		ck_assert_ptr_nonnull(s_);                                     \
		ck_assert_str_eq(s_, (expect));                                \
		free(s_);                                                      \
	} while (0)

START_TEST(test_frames)
{
	ck_frame(0, "make_node+0x1d (leaky.c:19) [leaky]", .addr = 0x40111d,
		 .function = "make_node", .offset = 0x1d, .file = "/src/leaky.c", .line = 19,
		 .module = "/build/leaky");
	ck_frame(FRAME_FORMAT_FULL_FILES, "make_node+0x1d (/src/leaky.c:19) [leaky]",
		 .addr = 0x40111d, .function = "make_node", .offset = 0x1d, .file = "/src/leaky.c",
		 .line = 19, .module = "/build/leaky");
	/* What is unknown is left out; without a function, the address. */
	ck_frame(0, "0x7f0000061000 [libc.so.6]", .addr = 0x7f0000061000,
		 .module = "/lib/libc.so.6");
	ck_frame(0, "0x1234", .addr = 0x1234, .function = "", .module = "");
	ck_frame(0, "f+0x0 (f.c)", .function = "f", .file = "f.c");
	ck_frame(0, "f+0x2", .function = "f", .offset = 2, .line = 12);
	/* Named modules keep their brackets. */
	ck_frame(0, "kmalloc_trace+0x26 [kernel]", .function = "kmalloc_trace", .offset = 0x26,
		 .module = "[kernel]");
	/* Hostile names are cleaned, whatever the flags ask for text. */
	ck_frame(FRAME_FORMAT_KEEP_CONTROLS | FRAME_FORMAT_KEEP_NEWLINES, "a?b+0x1 (x?y.c:3) [m?]",
		 .function = "a\nb", .offset = 1, .file = "x\x1by.c", .line = 3, .module = "m\x01");
}
END_TEST

START_TEST(test_stacks)
{
	struct frame frames[3] = {
		{ .function = "a", .offset = 1, .file = "a.c", .line = 1, .module = "p" },
		{ .function = "b", .offset = 2 },
		{ .addr = 0x30 },
	};
	struct leak_site site = { .nframes = 3, .frames = frames };
	char *s;

	s = frame_format_stack_string(&site, "  ", 0, 0);
	ck_assert_str_eq(s, "  #0 a+0x1 (a.c:1) [p]\n  #1 b+0x2\n  #2 0x30\n");
	free(s);
	s = frame_format_stack_string(&site, NULL, 2, 0);
	ck_assert_str_eq(s, "#0 a+0x1 (a.c:1) [p]\n#1 b+0x2\n... 1 more frame\n");
	free(s);
	s = frame_format_stack_string(&site, "", 1, 0);
	ck_assert_str_eq(s, "#0 a+0x1 (a.c:1) [p]\n... 2 more frames\n");
	free(s);
	s = frame_format_stack_string(&site, "", 3, 0);
	ck_assert_str_eq(s, "#0 a+0x1 (a.c:1) [p]\n#1 b+0x2\n#2 0x30\n");
	free(s);
	site.nframes = 0;
	s = frame_format_stack_string(&site, "> ", 5, 0);
	ck_assert_str_eq(s, "> (no stack was captured)\n");
	free(s);
}
END_TEST

START_TEST(test_clean)
{
	/* Valid UTF-8 of every length passes. */
	ck_clean(0, "plain \xc3\xa9 \xe2\x82\xac \xf0\x9f\x90\x9b", "plain \xc3\xa9 \xe2\x82\xac "
		 "\xf0\x9f\x90\x9b");
	/* Each byte of what is not UTF-8 becomes '?'. */
	ck_clean(0, "a\xff" "b", "a?b");
	ck_clean(0, "lone \x80 continuation", "lone ? continuation");
	ck_clean(0, "overlong \xc0\xaf", "overlong ??");
	ck_clean(0, "surrogate \xed\xa0\x80", "surrogate ???");
	ck_clean(0, "past unicode \xf4\x90\x80\x80", "past unicode ????");
	ck_clean(0, "cut \xe2\x82", "cut ??");
	ck_clean(0, "cut short \xe2\x82z", "cut short ??z");
	/* Control characters: C0, DEL, C1; XML's non-characters. */
	ck_clean(0, "\x01\x1b[1m\x7f", "??[1m?");
	ck_clean(0, "c1 \xc2\x85 nbsp \xc2\xa0", "c1 ? nbsp \xc2\xa0");
	ck_clean(0, "nonchar \xef\xbf\xbe\xef\xbf\xbf", "nonchar ??");
	ck_clean(0, "tab\tnl\ncr\r", "tab?nl?cr?");
	ck_clean(FRAME_FORMAT_KEEP_NEWLINES, "tab\tnl\ncr\r\x01", "tab\tnl\ncr\r?");
	/* For JSON: only invalid UTF-8 goes. */
	ck_clean(FRAME_FORMAT_KEEP_CONTROLS, "\x01\x1b\xc2\x85\xef\xbf\xbe\xff",
		 "\x01\x1b\xc2\x85\xef\xbf\xbe?");
	ck_clean(0, NULL, "");
	ck_clean(0, "", "");
}
END_TEST

START_TEST(test_basename)
{
	ck_assert_str_eq(frame_format_basename("/usr/lib/libc.so.6"), "libc.so.6");
	ck_assert_str_eq(frame_format_basename("leaky.c"), "leaky.c");
	ck_assert_str_eq(frame_format_basename("dir/"), "dir/");
	ck_assert_ptr_null(frame_format_basename(NULL));
}
END_TEST

static Suite *suite(void)
{
	Suite *s = suite_create("frame_format");
	TCase *tc = tcase_create("text");

	tcase_add_test(tc, test_frames);
	tcase_add_test(tc, test_stacks);
	tcase_add_test(tc, test_clean);
	tcase_add_test(tc, test_basename);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return test_run_suite(suite());
}
