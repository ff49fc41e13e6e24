/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * Suppression rules: the LeakSanitizer, valgrind and native forms read and matched,
 * malformed files refused with the line at fault, the built-in rules tried on stacks
 * shaped like glibc 2.36's, and the budget counters.
 *
 * Sites are built by hand: frames innermost first, frames[0] the allocator's caller.
 */
#include <check.h>
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

#include "assertions/suppressions.h"
#include "tests/testutil.h"

#define LIBC "/usr/lib/x86_64-linux-gnu/libc.so.6"
#define LDSO "/lib64/ld-linux-x86-64.so.2"
#define LIBSTDCXX "/usr/lib/x86_64-linux-gnu/libstdc++.so.6.0.30"
#define APP "/home/u/proj/app"
#define PLUGIN "/home/u/proj/libplugin.so"

/* A frame with a function and module only, and one that also knows its source line. */
#define F(fn, mod) { .addr = 0x401136, .offset = 0x16, .function = (fn), .module = (mod) }
#define FL(fn, mod, src, ln)                                                               \
	{ .addr = 0x401136, .offset = 0x16, .function = (fn), .module = (mod),             \
	  .file = (src), .line = (ln) }
/* The frames of a site initializer: ".frames = ..., .nframes = ...". */
#define STACK(...)                                                                         \
	.frames = (struct frame[]){ __VA_ARGS__ },                                         \
	.nframes = sizeof((struct frame[]){ __VA_ARGS__ }) / sizeof(struct frame)

/* --- helpers ----------------------------------------------------------------------------- */

static struct suppressions *load_ok(const char *text)
{
	struct suppressions *s = suppressions__new();
	char err[512];
	int ret;

	ck_assert_ptr_nonnull(s);
	ret = suppressions__load_string(s, "test.supp", text, err, sizeof(err));
	ck_assert_msg(ret == 0, "loading failed (%d): %s\n--- text:\n%s", ret, err, text);
	return s;
}

/* The name of the rule that matches the site, or NULL. */
static const char *match_name(const struct suppressions *s, const struct leak_site *site)
{
	const struct suppression_rule *r = suppressions__match(s, site);

	return r ? r->name : NULL;
}

/* Whether a rule text (one rule) matches the site. */
static int text_matches(const char *text, const struct leak_site *site)
{
	struct suppressions *s = load_ok(text);
	int ok;

	ck_assert_uint_eq(suppressions__count(s), 1);
	ok = suppressions__match(s, site) != NULL;
	suppressions__free(s);
	return ok;
}

/* A valgrind block with the given frame lines, separated by " / ", matches the site. */
static int vg_matches(const char *lines, const struct leak_site *site)
{
	char text[1024];
	const char *p = lines;
	size_t n;

	n = snprintf(text, sizeof(text), "{\n   block\n   Memcheck:Leak\n");
	for (;;) {
		const char *sep = strstr(p, " / ");
		int len = sep ? (int)(sep - p) : (int)strlen(p);

		n += snprintf(text + n, sizeof(text) - n, "   %.*s\n", len, p);
		ck_assert_uint_lt(n, sizeof(text) - 3);
		if (!sep)
			break;
		p = sep + 3;
	}
	snprintf(text + n, sizeof(text) - n, "}\n");
	return text_matches(text, site);
}

#define assert_vg(lines, site, expect)                                                      \
	ck_assert_msg(vg_matches(lines, site) == (expect), "valgrind block '%s' should %s",  \
		      lines, (expect) ? "match" : "not match")

#define assert_text(text, site, expect)                                                     \
	ck_assert_msg(text_matches(text, site) == (expect), "rule '%s' should %s", text,      \
		      (expect) ? "match" : "not match")

/*
 * Loading must fail with -EINVAL, a message that starts with "bad.supp:LINE: " and
 * contains `what`, and leave the set without rules.
 */
static void expect_error(const char *text, int line, const char *what)
{
	struct suppressions *s = suppressions__new();
	char err[512], prefix[64];
	int ret;

	ck_assert_ptr_nonnull(s);
	err[0] = '\0';
	ret = suppressions__load_string(s, "bad.supp", text, err, sizeof(err));
	ck_assert_msg(ret == -EINVAL, "expected -EINVAL, got %d (%s) for:\n%s", ret, err, text);
	snprintf(prefix, sizeof(prefix), "bad.supp:%d: ", line);
	ck_assert_msg(!strncmp(err, prefix, strlen(prefix)),
		      "message '%s' should start with '%s'", err, prefix);
	ck_assert_msg(strstr(err, what) != NULL, "message '%s' should say '%s'", err, what);
	ck_assert_uint_eq(suppressions__count(s), 0);
	suppressions__free(s);
}

/* The usual stack of a program's own leak, reaching below main. */
#define LEAKY_STACK                                                                        \
	STACK(FL("make_node", APP, "/home/u/proj/leaky.c", 17),                              \
	      FL("build_list", APP, "/home/u/proj/leaky.c", 32),                             \
	      FL("main", APP, "/home/u/proj/leaky.c", 47), F("__libc_start_call_main", LIBC),  \
	      F("__libc_start_main_impl", LIBC), F("_start", APP))

/* --- LeakSanitizer form -------------------------------------------------------------------- */

START_TEST(test_lsan_parsed)
{
	struct suppressions *s = load_ok("# LeakSanitizer suppressions\n"
					 "\n"
					 "leak:nothing_like_this\n"
					 "   leak:node   \n");
	const struct suppression_rule *r;

	ck_assert_uint_eq(suppressions__count(s), 2);
	r = suppressions__rule(s, 1);
	ck_assert_str_eq(r->name, "leak:node");
	ck_assert_str_eq(r->file, "test.supp");
	ck_assert_int_eq(r->line, 4);
	ck_assert_int_eq(r->origin, SUPP_LSAN);
	ck_assert_int_eq(r->has_budget, 0);
	ck_assert_ptr_null(suppressions__rule(s, 2));
	suppressions__free(s);
}
END_TEST

START_TEST(test_lsan_substring_in_any_frame)
{
	struct leak_site site = { .bytes = 64, .allocs = 2, LEAKY_STACK };
	struct suppressions *s = load_ok("leak:nothing_like_this\nleak:node\n");

	ck_assert_pstr_eq(match_name(s, &site), "leak:node");
	suppressions__free(s);

	/* Not only frame 0: any frame of the stack. */
	assert_text("leak:build", &site, 1);
	assert_text("leak:ain", &site, 1);
	assert_text("leak:start_call", &site, 1);
	assert_text("leak:build_lists", &site, 0);
	assert_text("leak:node_make", &site, 0);
	/* Case matters. */
	assert_text("leak:Make_Node", &site, 0);
}
END_TEST

START_TEST(test_lsan_wildcard)
{
	struct leak_site site = { .bytes = 10, .allocs = 1,
				  STACK(F("read_config_file", APP), F("main", APP)) };

	assert_text("leak:read_*_file", &site, 1);
	assert_text("leak:read*file", &site, 1);
	assert_text("leak:*config*", &site, 1);
	assert_text("leak:read_*_dir", &site, 0);
	assert_text("leak:config*read", &site, 0);
	/* `?` is not a wildcard in LeakSanitizer patterns. */
	assert_text("leak:read?config", &site, 0);
}
END_TEST

START_TEST(test_lsan_anchors)
{
	struct leak_site plain = { .bytes = 10, .allocs = 1,
				   STACK(F("read_config", APP), F("main", APP)) };
	struct leak_site longer = { .bytes = 10, .allocs = 1,
				    STACK(F("do_read_config_file", APP), F("main", APP)) };
	struct leak_site clone = { .bytes = 10, .allocs = 1,
				   STACK(F("read_config.constprop.0", APP), F("main", APP)) };
	struct leak_site twice = { .bytes = 10, .allocs = 1,
				   STACK(F("foobarbar", APP), F("main", APP)) };

	assert_text("leak:^read_config$", &plain, 1);
	assert_text("leak:^read_config$", &longer, 0);
	assert_text("leak:^read", &plain, 1);
	assert_text("leak:^read", &longer, 0);
	assert_text("leak:config$", &plain, 1);
	assert_text("leak:config$", &longer, 0);
	assert_text("leak:^do_*file$", &longer, 1);
	assert_text("leak:^config", &plain, 0);
	/* `$` also matches where the name ends without its clone suffix. */
	assert_text("leak:^read_config$", &clone, 1);
	assert_text("leak:^read_conf$", &clone, 0);
	/* The matcher backtracks: `foo*bar$` matches "foobarbar". */
	assert_text("leak:foo*bar$", &twice, 1);
	assert_text("leak:^foo*baz$", &twice, 0);
}
END_TEST

START_TEST(test_lsan_module_and_file)
{
	struct leak_site site = {
		.bytes = 100, .allocs = 1,
		STACK(F(NULL, "/opt/vendor/lib/libfoo.so.1"),
		      FL("load_settings", APP, "/home/u/proj/src/config.c", 40),
		      FL("main", APP, "/home/u/proj/src/main.c", 9)),
	};

	/* The module path. */
	assert_text("leak:libfoo.so", &site, 1);
	assert_text("leak:/opt/vendor/", &site, 1);
	assert_text("leak:libbar.so", &site, 0);
	/* The source file path. */
	assert_text("leak:config.c", &site, 1);
	assert_text("leak:src/config.c$", &site, 1);
	assert_text("leak:^/home/u/proj/src/main.c$", &site, 1);
	assert_text("leak:^config.c", &site, 0);
	assert_text("leak:parser.c", &site, 0);
	/* The line number is not part of what LeakSanitizer patterns see. */
	assert_text("leak:config.c:40", &site, 0);
}
END_TEST

/* --- valgrind form ------------------------------------------------------------------------- */

START_TEST(test_vg_parsed)
{
	struct suppressions *s = load_ok("# from valgrind --gen-suppressions=all\n"
					 "{\n"
					 "   list nodes\n"
					 "   Memcheck:Leak\n"
					 "   match-leak-kinds: definite,possible\n"
					 "   fun:malloc\n"
					 "   fun:make_node\n"
					 "   fun:build_list\n"
					 "   fun:main\n"
					 "}\n");
	struct leak_site site = { .bytes = 64, .allocs = 2, LEAKY_STACK };
	const struct suppression_rule *r;

	ck_assert_uint_eq(suppressions__count(s), 1);
	r = suppressions__rule(s, 0);
	ck_assert_str_eq(r->name, "list nodes");
	ck_assert_str_eq(r->file, "test.supp");
	ck_assert_int_eq(r->line, 2);
	ck_assert_int_eq(r->origin, SUPP_VALGRIND);
	ck_assert_int_eq(r->has_budget, 0);
	ck_assert_ptr_eq(suppressions__match(s, &site), r);
	suppressions__free(s);
}
END_TEST

START_TEST(test_vg_frames_in_order)
{
	struct leak_site site = { .bytes = 64, .allocs = 2, LEAKY_STACK };

	assert_vg("fun:malloc / fun:make_node / fun:build_list / fun:main", &site, 1);
	assert_vg("fun:malloc / fun:make_node", &site, 1);
	assert_vg("fun:malloc / fun:build_list / fun:main", &site, 0);
	assert_vg("fun:malloc / fun:make_node / fun:main", &site, 0);
	assert_vg("fun:malloc / fun:build_list / fun:make_node", &site, 0);
	assert_vg("fun:malloc / fun:make_node / fun:build_list / fun:other", &site, 0);
}
END_TEST

START_TEST(test_vg_allocator_line)
{
	static const char *const accepted[] = {
		"fun:malloc", "fun:calloc", "fun:realloc", "fun:posix_memalign", "fun:_Znwm",
		"fun:_Znam", "fun:_ZnwmRKSt9nothrow_t", "fun:operator new(unsigned long)",
		"fun:operator new*", "fun:*alloc", "fun:*alloc*", "fun:*",
		"obj:/usr/libexec/valgrind/vgpreload_memcheck-amd64-linux.so",
		"obj:*vgpreload_memcheck*", "obj:*", "src:vg_replace_malloc.c:381",
		"src:vg_replace_malloc.c", "...", NULL,
	};
	static const char *const refused[] = {
		"fun:free", "fun:make_node", "fun:mall?c_wrapper", "obj:" APP, "obj:*/libc.so.6",
		"src:leaky.c", NULL,
	};
	struct leak_site site = { .bytes = 64, .allocs = 2, LEAKY_STACK };
	char lines[256];

	for (size_t i = 0; accepted[i]; i++) {
		snprintf(lines, sizeof(lines), "%s / fun:make_node / fun:build_list", accepted[i]);
		assert_vg(lines, &site, 1);
	}
	/* A block whose first line cannot be the allocator matches nothing, as in valgrind. */
	for (size_t i = 0; refused[i]; i++) {
		snprintf(lines, sizeof(lines), "%s / fun:make_node / fun:build_list", refused[i]);
		assert_vg(lines, &site, 0);
	}
	assert_vg("fun:make_node / fun:build_list / fun:main", &site, 0);
}
END_TEST

START_TEST(test_vg_ellipsis)
{
	struct leak_site site = { .bytes = 64, .allocs = 2, LEAKY_STACK };

	assert_vg("fun:malloc / ... / fun:main", &site, 1);
	assert_vg("fun:malloc / ... / fun:build_list / fun:main", &site, 1);
	/* `...` may stand for no frame at all. */
	assert_vg("fun:malloc / ... / fun:make_node / fun:build_list", &site, 1);
	assert_vg("fun:malloc / fun:make_node / ... / fun:_start", &site, 1);
	assert_vg("fun:malloc / ... / ... / fun:main", &site, 1);
	assert_vg("fun:malloc / ... / fun:main / fun:build_list", &site, 0);
	assert_vg("fun:malloc / ... / fun:not_in_stack", &site, 0);
	assert_vg("fun:malloc / ... / fun:make_node / fun:main", &site, 0);
}
END_TEST

START_TEST(test_vg_wildcards)
{
	struct leak_site site = { .bytes = 64, .allocs = 2, LEAKY_STACK };

	assert_vg("fun:malloc / fun:mak?_node / fun:build_*", &site, 1);
	assert_vg("fun:malloc / fun:*_node / fun:* / fun:ma?n", &site, 1);
	assert_vg("fun:malloc / fun:make_n*e / fun:*list", &site, 1);
	assert_vg("fun:malloc / fun:*", &site, 1);
	/* `?` is exactly one character; the whole name must match. */
	assert_vg("fun:malloc / fun:make_no?", &site, 0);
	assert_vg("fun:malloc / fun:make_node?", &site, 0);
	assert_vg("fun:malloc / fun:make", &site, 0);
	assert_vg("fun:malloc / fun:*_list", &site, 0);
	/* `\` makes the next character literal. */
	assert_vg("fun:malloc / fun:make\\_node", &site, 1);
	assert_vg("fun:malloc / fun:make\\*", &site, 0);
}
END_TEST

START_TEST(test_vg_obj)
{
	struct leak_site site = {
		.bytes = 100, .allocs = 1,
		STACK(F(NULL, PLUGIN), F("load_plugins", APP), F("main", APP),
		      F("__libc_start_call_main", LIBC)),
	};

	assert_vg("fun:malloc / obj:" PLUGIN, &site, 1);
	/* By its file name alone, or a glob on the path. */
	assert_vg("fun:malloc / obj:libplugin.so", &site, 1);
	assert_vg("fun:malloc / obj:*/libplugin.so / obj:*/app", &site, 1);
	assert_vg("fun:malloc / obj:libplug?n.so / fun:load_plugins / obj:" APP, &site, 1);
	assert_vg("fun:malloc / obj:/usr/lib/libplugin.so", &site, 0);
	assert_vg("fun:malloc / obj:libplugin", &site, 0);
	assert_vg("fun:malloc / obj:" APP, &site, 0);
	assert_vg("fun:malloc / ... / obj:*/libc.so.*", &site, 1);
	/* A frame without a function is "???". */
	assert_vg("fun:malloc / fun:??? / fun:load_plugins", &site, 1);
}
END_TEST

START_TEST(test_vg_src)
{
	struct leak_site site = {
		.bytes = 100, .allocs = 1,
		STACK(FL("make_node", APP, "/home/u/proj/src/leaky.c", 17),
		      FL("main", APP, "/home/u/proj/src/main.c", 47)),
	};

	assert_vg("fun:malloc / src:leaky.c:17", &site, 1);
	assert_vg("fun:malloc / src:leaky.c", &site, 1);
	assert_vg("fun:malloc / src:/home/u/proj/src/leaky.c:17", &site, 1);
	assert_vg("fun:malloc / src:leaky.c:1?", &site, 1);
	assert_vg("fun:malloc / src:*.c / src:main.c:47", &site, 1);
	assert_vg("fun:malloc / src:leaky.c:18", &site, 0);
	assert_vg("fun:malloc / src:leaky.c:1", &site, 0);
	assert_vg("fun:malloc / src:main.c", &site, 0);
	assert_vg("fun:malloc / src:leaky.c:17 / src:main.c:48", &site, 0);
	/* Native rules read src: lines the same way, from frame 0. */
	assert_text("leak n\n\tsrc:leaky.c:17\n\tsrc:main.c\n", &site, 1);
	assert_text("leak n\n\tsrc:main.c\n", &site, 0);
}
END_TEST

START_TEST(test_vg_stack_end)
{
	/* A stack whose walk stopped at main. */
	struct leak_site short_stack = { .bytes = 8, .allocs = 1,
					 STACK(F("make_node", APP), F("main", APP)) };
	struct leak_site site = { .bytes = 64, .allocs = 2, LEAKY_STACK };

	/* More lines than frames: no match, except trailing `...` and `(below main)`. */
	assert_vg("fun:malloc / fun:make_node / fun:main / fun:__libc_start_call_main",
		  &short_stack, 0);
	assert_vg("fun:malloc / fun:make_node / fun:main / obj:*", &short_stack, 0);
	assert_vg("fun:malloc / fun:make_node / fun:main / ...", &short_stack, 1);
	assert_vg("fun:malloc / fun:make_node / fun:main / fun:(below main)", &short_stack, 1);
	/* `(below main)` names the C runtime's start-up frames. */
	assert_vg("fun:malloc / fun:make_node / fun:build_list / fun:main / fun:(below main)",
		  &site, 1);
	assert_vg("fun:malloc / fun:make_node / fun:(below main)", &site, 0);
}
END_TEST

START_TEST(test_clone_suffixes)
{
	struct leak_site site = {
		.bytes = 64, .allocs = 2,
		STACK(FL("make_node.constprop.0", APP, "/home/u/proj/leaky.c", 17),
		      FL("build_list.isra.0", APP, "/home/u/proj/leaky.c", 32),
		      FL("main", APP, "/home/u/proj/leaky.c", 47)),
	};
	struct leak_site cold = { .bytes = 8, .allocs = 1,
				  STACK(F("parse(char const*) [clone .cold]", APP),
					F("g.part.1", APP), F("main", APP)) };
	struct leak_site other = { .bytes = 8, .allocs = 1,
				   STACK(F("make_node_slow", APP), F("main", APP)) };
	struct leak_site numbered = { .bytes = 8, .allocs = 1,
				      STACK(F("make_node.5", APP), F("main", APP)) };

	assert_vg("fun:malloc / fun:make_node / fun:build_list / fun:main", &site, 1);
	assert_vg("fun:malloc / fun:make_node.constprop.0", &site, 1);
	assert_vg("fun:malloc / fun:make_node.isra.0", &site, 0);
	assert_text("rule nodes\n\tfun:make_node\n\tfun:build_list\n", &site, 1);
	assert_text("leak:^build_list$", &site, 1);
	assert_vg("fun:malloc / fun:parse(char const*) / fun:g / fun:main", &cold, 1);
	/* A suffix is only optional, the name itself must still match whole. */
	assert_vg("fun:malloc / fun:make_node", &other, 0);
	assert_text("rule n\n\tfun:make_node\n", &other, 0);
	/* ".5" is no clone suffix. */
	assert_text("rule n\n\tfun:make_node\n", &numbered, 0);
}
END_TEST

START_TEST(test_vg_libc_aliases_and_versions)
{
	struct leak_site strdup_site = {
		.bytes = 6, .allocs = 1,
		STACK(F("__strdup", LIBC), F("parse_args", APP), F("main", APP)),
	};
	struct leak_site tsd = { .bytes = 512, .allocs = 1,
				 STACK(F("pthread_setspecific@@GLIBC_2.34", LIBC),
				       F("worker", APP)) };

	assert_vg("fun:malloc / fun:strdup / fun:parse_args", &strdup_site, 1);
	assert_vg("fun:malloc / fun:__strdup / fun:parse_args", &strdup_site, 1);
	assert_vg("fun:malloc / fun:strndup / fun:parse_args", &strdup_site, 0);
	assert_text("leak n\n\tfun:strdup\n\tfun:parse_args\n", &strdup_site, 1);
	assert_vg("fun:malloc / fun:pthread_setspecific / fun:worker", &tsd, 1);
}
END_TEST

START_TEST(test_vg_cxx)
{
	struct leak_site widget = {
		.bytes = 32, .allocs = 1,
		STACK(F("ns::make_widget()", APP), F("main", APP)),
	};
	struct leak_site main_only = { .bytes = 32, .allocs = 1, STACK(F("main", APP)) };

	/* A mangled name is demangled when read. */
	assert_vg("fun:_Znwm / fun:_ZN2ns11make_widgetEv / fun:main", &widget, 1);
	assert_vg("fun:_Znwm / fun:_ZN2ns12other_widgetEv", &widget, 0);
	/* "malloc" then "operator new" as valgrind shows them stand for one allocator frame. */
	assert_vg("fun:malloc / fun:_Znwm / fun:_ZN2ns11make_widgetEv / fun:main", &widget, 1);
	/* A line that matches any name is a frame of its own. */
	assert_vg("fun:malloc / fun:* / fun:main", &widget, 1);
	assert_vg("fun:malloc / fun:* / fun:main", &main_only, 0);
}
END_TEST

START_TEST(test_vg_other_kinds_skipped)
{
	struct suppressions *s = load_ok("{\n"
					 "   cond\n"
					 "   Memcheck:Cond\n"
					 "   fun:make_node\n"
					 "}\n"
					 "{\n"
					 "   param\n"
					 "   Memcheck:Param\n"
					 "   write(buf)\n"
					 "   fun:write\n"
					 "}\n"
					 "{\n"
					 "   race\n"
					 "   Helgrind:Race\n"
					 "   fun:worker\n"
					 "}\n"
					 "{\n"
					 "   both tools\n"
					 "   Memcheck,Addrcheck:Leak\n"
					 "   fun:malloc\n"
					 "   fun:make_node\n"
					 "}\n");
	struct leak_site site = { .bytes = 64, .allocs = 2, LEAKY_STACK };
	const struct suppression_rule *r;

	/* Valid valgrind, but not about leaks: no rules from them. */
	ck_assert_uint_eq(suppressions__count(s), 1);
	r = suppressions__rule(s, 0);
	ck_assert_str_eq(r->name, "both tools");
	ck_assert_int_eq(r->line, 17);
	ck_assert_ptr_eq(suppressions__match(s, &site), r);
	suppressions__free(s);
}
END_TEST

/* --- native form --------------------------------------------------------------------------- */

START_TEST(test_native_parsed)
{
	struct suppressions *s = load_ok("# memleak-run suppressions\n"
					 "rule list nodes\n"
					 "\tfun:make_node\n"
					 "\tfun:build_list\n"
					 "\n"
					 "leak parse cache   # the name is the rest of the line\n"
					 "\tfun:read_config    # a comment\n"
					 "\tsrc:config.c\n"
					 "\t...\n"
					 "\tbudget: 4096 bytes, 3 allocs\n");
	struct leak_site nodes = { .bytes = 64, .allocs = 2, LEAKY_STACK };
	struct leak_site config = {
		.bytes = 100, .allocs = 2,
		STACK(FL("read_config", APP, "/home/u/proj/src/config.c", 10),
		      FL("load_settings", APP, "/home/u/proj/src/config.c", 40),
		      FL("main", APP, "/home/u/proj/src/main.c", 9)),
	};
	const struct suppression_rule *r;

	ck_assert_uint_eq(suppressions__count(s), 2);
	r = suppressions__rule(s, 0);
	ck_assert_str_eq(r->name, "list nodes");
	ck_assert_int_eq(r->line, 2);
	ck_assert_int_eq(r->origin, SUPP_NATIVE);
	ck_assert_int_eq(r->has_budget, 0);
	ck_assert_ptr_eq(suppressions__match(s, &nodes), r);

	r = suppressions__rule(s, 1);
	ck_assert_str_eq(r->name, "parse cache");
	ck_assert_int_eq(r->line, 6);
	ck_assert_int_eq(r->origin, SUPP_NATIVE);
	ck_assert_int_eq(r->has_budget, 1);
	ck_assert_uint_eq(r->max_bytes, 4096);
	ck_assert_uint_eq(r->max_allocs, 3);
	ck_assert_int_eq(r->budget_per_process, 0);
	ck_assert_ptr_eq(suppressions__match(s, &config), r);
	suppressions__free(s);
}
END_TEST

/* Native rules' "\xHH" escapes: literal bytes in patterns and names; valgrind's lines keep theirs. */
START_TEST(test_native_escapes)
{
	struct leak_site star = { .bytes = 8, .allocs = 1,
				  STACK(F("a*b", APP), F("main", APP)) };
	struct leak_site axb = { .bytes = 8, .allocs = 1, STACK(F("axxb", APP), F("main", APP)) };
	struct leak_site nl = { .bytes = 8, .allocs = 1,
				STACK(F(" x\n#y ", APP), F("main", APP)) };
	struct suppressions *s;
	char err[256];

	ck_assert(text_matches("leak n\n\tfun:a\\x2ab\n", &star));
	ck_assert(!text_matches("leak n\n\tfun:a\\x2ab\n", &axb));
	ck_assert(text_matches("leak n\n\tfun:a*b\n", &axb));
	ck_assert(text_matches("leak n\n\tfun:\\x20x\\x0a\\x23y\\x20  # comment\n", &nl));
	ck_assert(!text_matches("leak n\n\tfun:x\n", &nl));
	/* "\\x41" is a backslash then "x41" in a glob; a digit short is no escape. */
	ck_assert(text_matches("leak n\n\tfun:a\\\\x2ab\n\t...\n",
			       &(struct leak_site){ .bytes = 1, .allocs = 1,
						    STACK(F("a\\x2ab", APP)) }));
	ck_assert(text_matches("leak n\n\tfun:a\\x2\n",
			       &(struct leak_site){ .bytes = 1, .allocs = 1,
						    STACK(F("ax2", APP)) }));

	s = load_ok("leak \\x20two\\x0alines\\x5c #\\x23 \n\t...\n");
	ck_assert_str_eq(suppressions__rule(s, 0)->name, " two\nlines\\");
	suppressions__free(s);
	/* valgrind blocks are read as valgrind writes them: "\x2a" is "x2a". */
	ck_assert(!vg_matches("fun:malloc / fun:a\\x2ab", &star));

	s = suppressions__new();
	ck_assert_int_eq(suppressions__load_string(s, "t.supp", "leak n\n\tfun:a\\x00b\n", err,
						   sizeof(err)), -EINVAL);
	ck_assert_str_eq(err, "t.supp:2: '\\x00': a name cannot hold a NUL byte");
	suppressions__free(s);
}
END_TEST

START_TEST(test_native_first_line_is_caller)
{
	struct leak_site site = { .bytes = 64, .allocs = 2, LEAKY_STACK };

	/* No allocator line: the first line is frame 0. */
	assert_text("leak n\n\tfun:make_node\n", &site, 1);
	assert_text("leak n\n\tfun:build_list\n", &site, 0);
	assert_text("leak n\n\tfun:malloc\n\tfun:make_node\n", &site, 0);
	assert_text("leak n\n\t...\n\tfun:build_list\n\tfun:main\n", &site, 1);
	assert_text("leak n\n\tobj:" APP "\n\tobj:app\n\tfun:main\n", &site, 1);
	assert_text("leak n\n\tfun:make_node\n\tfun:main\n", &site, 0);
	/* A rule of just `...` takes every site. */
	assert_text("leak everything\n\t...\n", &site, 1);
}
END_TEST

START_TEST(test_native_budgets)
{
	struct suppressions *s = load_ok("leak a\n\tfun:a\n\tbudget: 4096 bytes, 3 allocs\n"
					 "leak b\n\tfun:b\n\tbudget: 4096 bytes\n"
					 "leak c\n\tbudget: 12 allocations\n\tfun:c\n"
					 "leak d\n\tfun:d\n\tbudget: 1 alloc per process\n"
					 "leak e\n\tfun:e\n\tbudget: 3 allocs, 100 B\n"
					 "leak f\n\tfun:f\n"
					 "leak g\n\tfun:g\n\tbudget: 0 bytes\n");
	const struct suppression_rule *r;

	ck_assert_uint_eq(suppressions__count(s), 7);
	r = suppressions__rule(s, 0);
	ck_assert(r->has_budget && r->max_bytes == 4096 && r->max_allocs == 3 &&
		  !r->budget_per_process);
	r = suppressions__rule(s, 1);
	ck_assert(r->has_budget && r->max_bytes == 4096 && r->max_allocs == UINT64_MAX);
	r = suppressions__rule(s, 2);
	ck_assert(r->has_budget && r->max_bytes == UINT64_MAX && r->max_allocs == 12);
	r = suppressions__rule(s, 3);
	ck_assert(r->has_budget && r->max_allocs == 1 && r->budget_per_process);
	r = suppressions__rule(s, 4);
	ck_assert(r->has_budget && r->max_bytes == 100 && r->max_allocs == 3);
	r = suppressions__rule(s, 5);
	ck_assert(!r->has_budget && r->max_bytes == UINT64_MAX && r->max_allocs == UINT64_MAX);
	r = suppressions__rule(s, 6);
	ck_assert(r->has_budget && r->max_bytes == 0);
	suppressions__free(s);
}
END_TEST

START_TEST(test_mixed_forms_first_match_wins)
{
	struct suppressions *s = load_ok("leak:build_list\n"
					 "{\n"
					 "   vg\n"
					 "   Memcheck:Leak\n"
					 "   fun:malloc\n"
					 "   fun:make_node\n"
					 "}\n"
					 "leak native\n"
					 "\tfun:other_fn\n"
					 "leak:never\n");
	struct leak_site lsan = { .bytes = 64, .allocs = 2, LEAKY_STACK };
	struct leak_site vg = { .bytes = 8, .allocs = 1,
				STACK(F("make_node", APP), F("parse", APP)) };
	struct leak_site native = { .bytes = 8, .allocs = 1,
				    STACK(F("other_fn", APP), F("make_node", APP)) };
	struct leak_site none = { .bytes = 8, .allocs = 1, STACK(F("x", APP), F("main", APP)) };
	const struct suppression_rule *r;

	ck_assert_uint_eq(suppressions__count(s), 4);
	r = suppressions__match(s, &lsan);
	ck_assert_ptr_nonnull(r);
	ck_assert_int_eq(r->origin, SUPP_LSAN);
	ck_assert_int_eq(r->line, 1);
	r = suppressions__match(s, &vg);
	ck_assert_ptr_nonnull(r);
	ck_assert_int_eq(r->origin, SUPP_VALGRIND);
	ck_assert_int_eq(r->line, 2);
	r = suppressions__match(s, &native);
	ck_assert_ptr_nonnull(r);
	ck_assert_int_eq(r->origin, SUPP_NATIVE);
	ck_assert_int_eq(r->line, 8);
	ck_assert_str_eq(r->name, "native");
	ck_assert_ptr_null(suppressions__match(s, &none));
	suppressions__free(s);
}
END_TEST

/* --- malformed files ----------------------------------------------------------------------- */

START_TEST(test_error_unterminated_block)
{
	expect_error("leak:foo\n"
		     "\n"
		     "{\n"
		     "   unterminated\n"
		     "   Memcheck:Leak\n"
		     "   fun:malloc\n",
		     3, "block 'unterminated' is not closed with '}'");
	expect_error("# nothing else\n{\n", 2, "is not closed with '}'");
	expect_error("{\n"
		     "   first\n"
		     "   Memcheck:Leak\n"
		     "   fun:malloc\n"
		     "\n"
		     "{\n"
		     "   second\n"
		     "   Memcheck:Leak\n"
		     "   fun:malloc\n"
		     "}\n",
		     6, "'{' inside the block opened at line 1");
}
END_TEST

START_TEST(test_error_wrong_kind)
{
	expect_error("{\n   typo\n   Memcheck:Leek\n   fun:malloc\n}\n", 3,
		     "unknown Memcheck suppression kind 'Leek' in block 'typo'");
	expect_error("{\n   no kind\n   fun:malloc\n}\n", 3,
		     "block 'no kind' lacks its 'Memcheck:Leak' line");
	expect_error("{\n   n\n   Memcheck:Leak\n   match-leak-kinds: sometimes\n"
		     "   fun:malloc\n}\n",
		     4, "unknown leak kind 'sometimes'");
	expect_error("{\n   n\n   Memcheck:Leak\n   fun:malloc\n   match-leak-kinds: all\n}\n",
		     5, "'match-leak-kinds:' must come right after");
}
END_TEST

START_TEST(test_error_bad_budget)
{
	expect_error("leak cache\n\tfun:read_config\n\tbudget: lots\n", 3,
		     "bad budget 'budget: lots'");
	expect_error("leak cache\n\tfun:read_config\n\tbudget: 10\n", 3, "bad budget");
	expect_error("leak cache\n\tfun:read_config\n\tbudget: 10 kilobytes\n", 3, "bad budget");
	expect_error("leak cache\n\tfun:read_config\n\tbudget: 1 bytes, 2 bytes\n", 3,
		     "bad budget");
	expect_error("leak cache\n\tfun:read_config\n\tbudget: -1 bytes\n", 3, "bad budget");
	expect_error("leak cache\n\tfun:read_config\n\n\tbudget: 18446744073709551616 bytes\n",
		     4, "budget amount '18446744073709551616' is too large");
	expect_error("leak cache\n\tfun:read_config\n\tbudget:\n", 3, "empty budget");
	expect_error("leak cache\n\tfun:x\n\tbudget: 1 bytes\n\tbudget: 2 allocs\n", 4,
		     "rule 'cache' has a second budget line");
	expect_error("{\n   n\n   Memcheck:Leak\n   fun:malloc\n   budget: 10 bytes\n}\n", 5,
		     "budgets belong in native rules");
	expect_error("leak:foo\nbudget: 10 bytes\n", 2, "'budget:' outside a rule");
}
END_TEST

START_TEST(test_error_unknown_line)
{
	expect_error("leak cache\n\tfun:read_config\n\tfrobnicate\n", 3,
		     "unknown line 'frobnicate' in rule 'cache'");
	expect_error("{\n   n\n   Memcheck:Leak\n   fun:malloc\n\n   func:make_node\n}\n", 6,
		     "unknown frame line 'func:make_node' in block 'n'");
	expect_error("leak:ok\nthis is not a rule\n", 2, "unrecognized line 'this is not a rule'");
	expect_error("\n\nfun:malloc\n", 3, "'fun:malloc' outside a rule");
	expect_error("leak:ok\n}\n", 2, "'}' without an opening '{'");
	expect_error("leak a\n\tfun:a\n}\n", 3, "'}' without an opening '{'");
}
END_TEST

START_TEST(test_error_unsupported_lsan_type)
{
	expect_error("leak:foo\n# ThreadSanitizer\nrace:bar\n", 3,
		     "unsupported suppression type 'race:'");
	expect_error("called_from_lib:libfoo.so\n", 1,
		     "unsupported suppression type 'called_from_lib:'");
	expect_error("leak:a\ninterceptor_via_fun:b\n", 2,
		     "unsupported suppression type 'interceptor_via_fun:'");
}
END_TEST

START_TEST(test_error_missing_parts)
{
	expect_error("{\n   n\n   Memcheck:Leak\n   fun:\n}\n", 4,
		     "'fun:' needs a pattern after the colon");
	expect_error("{\n   n\n   Memcheck:Leak\n}\n", 4, "block 'n' has no frame lines");
	expect_error("{\n}\n", 2, "has no name");
	expect_error("leak empty\n\nleak other\n\tfun:x\n", 1, "rule 'empty' has no frame lines");
	expect_error("leak:a\nleak at end\n\tbudget: 1 bytes\n", 2,
		     "rule 'at end' has no frame lines");
	expect_error("leak:\n", 1, "'leak:' needs a pattern");
	expect_error("leak:a\nleak\n\tfun:x\n", 2, "rule name missing");
}
END_TEST

START_TEST(test_error_without_buffer)
{
	struct suppressions *s = suppressions__new();
	char small[8];

	ck_assert_int_eq(suppressions__load_string(s, "bad.supp", "race:x\n", NULL, 0), -EINVAL);
	/* A short buffer gets a truncated, terminated message. */
	ck_assert_int_eq(suppressions__load_string(s, "bad.supp", "race:x\n", small,
						   sizeof(small)),
			 -EINVAL);
	ck_assert_uint_lt(strlen(small), sizeof(small));
	ck_assert_int_eq(suppressions__load_string(s, "x", NULL, small, sizeof(small)), -EINVAL);
	ck_assert_uint_eq(suppressions__count(s), 0);
	suppressions__free(s);
}
END_TEST

START_TEST(test_failed_file_adds_no_rules)
{
	struct suppressions *s = load_ok("leak:keep\n");
	struct leak_site a = { .bytes = 8, .allocs = 1, STACK(F("alpha", APP), F("main", APP)) };
	char err[256];

	ck_assert_uint_eq(suppressions__count(s), 1);
	/* Two good rules, then an error: none of the file's rules join. */
	ck_assert_int_eq(suppressions__load_string(s, "bad.supp",
						   "leak:alpha\n"
						   "leak alpha native\n"
						   "\tfun:alpha\n"
						   "{\n"
						   "   open\n"
						   "   Memcheck:Leak\n"
						   "   fun:malloc\n",
						   err, sizeof(err)),
			 -EINVAL);
	ck_assert_str_eq(err, "bad.supp:4: block 'open' is not closed with '}'");
	ck_assert_uint_eq(suppressions__count(s), 1);
	ck_assert_ptr_null(suppressions__match(s, &a));
	/* The set still takes good files afterwards, in order. */
	ck_assert_int_eq(suppressions__load_string(s, "good.supp", "leak:alpha\n", err,
						   sizeof(err)),
			 0);
	ck_assert_uint_eq(suppressions__count(s), 2);
	ck_assert_str_eq(suppressions__rule(s, 0)->name, "leak:keep");
	ck_assert_str_eq(suppressions__rule(s, 1)->name, "leak:alpha");
	ck_assert_str_eq(suppressions__rule(s, 1)->file, "good.supp");
	ck_assert_ptr_eq(suppressions__match(s, &a), suppressions__rule(s, 1));
	suppressions__free(s);
}
END_TEST

START_TEST(test_load_file)
{
	char path[] = "/tmp/check_suppressions.XXXXXX";
	struct suppressions *s = suppressions__new();
	struct leak_site site = { .bytes = 64, .allocs = 2, LEAKY_STACK };
	const char *text = "{\n   n\n   Memcheck:Leak\n   fun:malloc\n   fun:make_node\n}\n";
	char err[512], prefix[256];
	int fd = mkstemp(path);
	FILE *f;

	ck_assert_int_ge(fd, 0);
	f = fdopen(fd, "w");
	ck_assert_ptr_nonnull(f);
	fputs(text, f);
	fclose(f);

	ck_assert_int_eq(suppressions__load_file(s, path, err, sizeof(err)), 0);
	ck_assert_uint_eq(suppressions__count(s), 1);
	ck_assert_str_eq(suppressions__rule(s, 0)->file, path);
	ck_assert_ptr_nonnull(suppressions__match(s, &site));

	/* A malformed file names itself and the line. */
	f = fopen(path, "w");
	ck_assert_ptr_nonnull(f);
	fputs("leak:ok\nrace:x\n", f);
	fclose(f);
	ck_assert_int_eq(suppressions__load_file(s, path, err, sizeof(err)), -EINVAL);
	snprintf(prefix, sizeof(prefix), "%s:2: ", path);
	ck_assert_msg(!strncmp(err, prefix, strlen(prefix)), "'%s' lacks '%s'", err, prefix);
	ck_assert_uint_eq(suppressions__count(s), 1);

	unlink(path);
	ck_assert_int_eq(suppressions__load_file(s, path, err, sizeof(err)), -ENOENT);
	ck_assert_msg(strstr(err, path) != NULL, "'%s' does not name the file", err);
	ck_assert_uint_eq(suppressions__count(s), 1);
	suppressions__free(s);
}
END_TEST

/* A NUL byte stops the file with its line; a directory is not a file of rules. */
START_TEST(test_load_file_nul_and_directory)
{
	char path[] = "/tmp/check_suppressions.XXXXXX", dir[] = "/tmp/check_supp_dir.XXXXXX";
	static const char text[] = "leak:one\n# two\nleak:th\0ree\nleak:four\n";
	struct suppressions *s = suppressions__new();
	char err[512], want[512];
	int fd = mkstemp(path);

	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(write(fd, text, sizeof(text) - 1), (ssize_t)(sizeof(text) - 1));
	close(fd);
	ck_assert_int_eq(suppressions__load_file(s, path, err, sizeof(err)), -EINVAL);
	snprintf(want, sizeof(want), "%s:3: NUL byte in the file: a suppressions file is text",
		 path);
	ck_assert_str_eq(err, want);
	ck_assert_uint_eq(suppressions__count(s), 0);
	unlink(path);

	ck_assert_ptr_nonnull(mkdtemp(dir));
	ck_assert_int_eq(suppressions__load_file(s, dir, err, sizeof(err)), -EISDIR);
	snprintf(want, sizeof(want), "%s: is a directory, not a suppressions file", dir);
	ck_assert_str_eq(err, want);
	rmdir(dir);
	suppressions__free(s);
}
END_TEST

/* Control bytes quoted from a file reach the terminal as \xHH. */
START_TEST(test_error_control_bytes_escaped)
{
	struct suppressions *s = suppressions__new();
	char err[512];

	ck_assert_int_eq(suppressions__load_string(s, "t\x1b.supp", "leak:a\n\x1b[2Jbogus\x07\r\n",
						   err, sizeof(err)), -EINVAL);
	ck_assert_str_eq(err, "t\\x1b.supp:2: unrecognized line '\\x1b[2Jbogus\\x07' (expected "
			      "'leak:PATTERN', a valgrind '{' block or a native rule 'leak NAME')");
	ck_assert_int_eq(suppressions__load_string(s, "t.supp", "leak n\x7f\n\tfun:\x01x\n"
						   "\tbogus\x1b\n", err, sizeof(err)), -EINVAL);
	ck_assert_str_eq(err, "t.supp:3: unknown line 'bogus\\x1b' in rule 'n\\x7f' (expected "
			      "fun:, obj:, src:, ..., kinds: or budget:)");
	suppressions__free(s);
}
END_TEST

/* --- built-in rules ------------------------------------------------------------------------ */

struct shape {
	const char *rule;	/* the built-in rule expected to match, NULL for none */
	struct leak_site site;
};

static void check_shapes(const struct shape *shapes, size_t n)
{
	struct suppressions *s = suppressions__new();

	ck_assert_int_eq(suppressions__add_defaults(s), 0);
	for (size_t i = 0; i < n; i++) {
		const char *got = match_name(s, &shapes[i].site);
		const char *f0 = shapes[i].site.frames[0].function;

		ck_assert_msg(shapes[i].rule ? got && !strcmp(got, shapes[i].rule) : !got,
			      "stack %zu (frame 0 '%s'): expected %s, got %s", i,
			      f0 ? f0 : "???", shapes[i].rule ? shapes[i].rule : "no rule",
			      got ? got : "no rule");
	}
	suppressions__free(s);
}

/*
 * What a system program (a shell, make) leaves at its exit is the system's: accepted when
 * no frame is in the project's code, and only in a process that runs a system program.
 */
START_TEST(test_rules_match_their_kinds)
{
	struct leak_site lost = { .bytes = 64, .allocs = 1,
				  STACK(F("make_node", APP), F("main", APP)) };
	struct leak_site in_locale = { .bytes = 208, .allocs = 1, .kind = LEAK_INDIRECT,
				       STACK(F("__gconv_find_transform", LIBC), F("iconv_open", LIBC),
					     F("main", APP)) };
	struct suppressions *s = suppressions__new();
	char err[256] = "";

	ck_assert_int_eq(suppressions__load_string(s, "k.supp",
						   "{\n   vg\n   Memcheck:Leak\n"
						   "   match-leak-kinds: possible,reachable\n"
						   "   fun:malloc\n   fun:make_node\n}\n"
						   "leak native\n\tfun:make_node\n\tkinds: definite\n",
						   err, sizeof(err)), 0);
	lost.kind = LEAK_REACHABLE;
	ck_assert_ptr_nonnull(suppressions__match(s, &lost));
	ck_assert_str_eq(suppressions__match(s, &lost)->name, "vg");
	lost.kind = LEAK_DEFINITE;
	ck_assert_str_eq(suppressions__match(s, &lost)->name, "native");
	lost.kind = LEAK_INDIRECT;
	ck_assert_ptr_null(suppressions__match(s, &lost));
	/* The C runtime's rules never take an indirectly lost block: a lost one holds it. */
	ck_assert_int_eq(suppressions__add_defaults(s), 0);
	suppressions__begin_process(s, APP);
	ck_assert_ptr_null(suppressions__match(s, &in_locale));
	in_locale.kind = LEAK_REACHABLE;
	ck_assert_ptr_nonnull(suppressions__match(s, &in_locale));
	suppressions__free(s);
}
END_TEST

START_TEST(test_builtin_system_program)
{
	struct leak_site in_make = { .bytes = 4064, .allocs = 1, .kind = LEAK_REACHABLE,
				     STACK(F("xmalloc", "/usr/bin/make"), F("main", "/usr/bin/make"),
					   F("__libc_start_call_main", LIBC)) };
	struct leak_site shell = { .bytes = 28, .allocs = 1, .kind = LEAK_POSSIBLE,
				   STACK(F(NULL, "/bin/dash"), F(NULL, "/bin/dash")) };
	/* A library of the project's, loaded into a system program. */
	struct leak_site plugin = { .bytes = 64, .allocs = 1,
				    STACK(F("plugin_init", PLUGIN), F("call_init", LDSO),
					  F("main", "/usr/bin/python3.11")) };
	struct suppressions *s = suppressions__new();
	struct suppression_rule *r;

	ck_assert_int_eq(suppressions__add_defaults(s), 0);
	suppressions__begin_process(s, "/usr/bin/make");
	r = suppressions__match(s, &in_make);
	ck_assert_ptr_nonnull(r);
	ck_assert_str_eq(r->name, "builtin:system-program");
	suppressions__begin_process(s, "/bin/dash");
	ck_assert_str_eq(suppressions__match(s, &shell)->name, "builtin:system-program");
	suppressions__begin_process(s, "/usr/bin/python3.11");
	ck_assert_ptr_null(suppressions__match(s, &plugin));
	/* What a system program lost is a leak all the same. */
	suppressions__begin_process(s, "/usr/bin/make");
	in_make.kind = LEAK_DEFINITE;
	ck_assert_ptr_null(suppressions__match(s, &in_make));
	in_make.kind = LEAK_REACHABLE;
	/* The same stacks in a program of the project's, or one not known, are its leaks. */
	suppressions__begin_process(s, APP);
	ck_assert_ptr_null(suppressions__match(s, &in_make));
	suppressions__begin_process(s, NULL);
	ck_assert_ptr_null(suppressions__match(s, &shell));
	suppressions__free(s);
}
END_TEST

START_TEST(test_builtin_rules_listed)
{
	struct suppressions *s = suppressions__new();
	size_t n, budgets = 0;

	ck_assert_int_eq(suppressions__add_defaults(s), 0);
	n = suppressions__count(s);
	ck_assert_uint_gt(n, 10);
	for (size_t i = 0; i < n; i++) {
		const struct suppression_rule *r = suppressions__rule(s, i);

		ck_assert_int_eq(r->origin, SUPP_BUILTIN);
		ck_assert_str_eq(r->file, "<builtin>");
		ck_assert_msg(!strncmp(r->name, "builtin:", 8), "rule '%s'", r->name);
		if (r->has_budget) {
			/* Only the C++ pool's unnamed frame: one block in each process. */
			ck_assert_str_eq(r->name, "builtin:c++-emergency-pool");
			ck_assert(r->budget_per_process);
			ck_assert_uint_eq(r->max_allocs, 1);
			budgets++;
		}
	}
	ck_assert_uint_eq(budgets, 1);
	suppressions__free(s);
}
END_TEST

START_TEST(test_builtin_glibc_shapes)
{
	const struct shape shapes[] = {
		{ "builtin:stdio-buffers", { .bytes = 1024, .allocs = 1,
		  STACK(F("_IO_file_doallocate", LIBC)) } },
		{ "builtin:stdio-buffers", { .bytes = 4096, .allocs = 1,
		  STACK(F("_IO_file_doallocate", LIBC), F("_IO_doallocbuf", LIBC),
			F("_IO_file_overflow@@GLIBC_2.2.5", LIBC),
			F("_IO_new_file_xsputn", LIBC), F("__vfprintf_internal", LIBC),
			F("printf", LIBC), FL("main", APP, "/home/u/proj/hello.c", 5)) } },
		{ "builtin:stdio-buffers", { .bytes = 4096, .allocs = 1,
		  STACK(F("_IO_wfile_doallocate", LIBC), F("_IO_wdoallocbuf", LIBC)) } },
		{ "builtin:dynamic-loader", { .bytes = 272, .allocs = 1,
		  STACK(F("allocate_dtv", LDSO)) } },
		{ "builtin:dynamic-loader", { .bytes = 272, .allocs = 1,
		  STACK(F("allocate_dtv", LDSO), F("_dl_allocate_tls", LDSO),
			F("pthread_create@@GLIBC_2.34", LIBC), F("spawn_workers", APP),
			F("main", APP)) } },
		{ "builtin:dynamic-loader", { .bytes = 1200, .allocs = 3,
		  STACK(F("_dl_new_object", LDSO), F("_dl_map_object_from_fd", LDSO)) } },
		/* A static program: the loader's code is in the executable. */
		{ "builtin:dynamic-loader", { .bytes = 100, .allocs = 1,
		  STACK(F("_dl_important_hwcaps", "/home/u/proj/static_app")) } },
		{ "builtin:dlerror", { .bytes = 32, .allocs = 1,
		  STACK(F("_dlerror_run", LIBC), F("dlopen@@GLIBC_2.34", LIBC)) } },
		{ "builtin:thread-specific-data", { .bytes = 512, .allocs = 1,
		  STACK(F("pthread_setspecific@@GLIBC_2.34", LIBC), F("worker", APP)) } },
		{ "builtin:locale", { .bytes = 360, .allocs = 2,
		  STACK(F("_nl_intern_locale_data", LIBC), F("_nl_load_locale", LIBC),
			F("_nl_find_locale", LIBC), F("setlocale", LIBC), F("main", APP)) } },
		{ "builtin:locale", { .bytes = 64, .allocs = 1,
		  STACK(F("new_composite_name", LIBC), F("setlocale", LIBC)) } },
		{ "builtin:locale", { .bytes = 64, .allocs = 1,
		  STACK(F("__gconv_load_cache", LIBC), F("__gconv_open", LIBC)) } },
		{ "builtin:time-zone", { .bytes = 2300, .allocs = 1,
		  STACK(F("__tzfile_read", LIBC), F("tzset_internal", LIBC),
			F("__tz_convert", LIBC), F("localtime", LIBC), F("main", APP)) } },
		{ "builtin:time-zone", { .bytes = 40, .allocs = 1,
		  STACK(F("tzset_internal", LIBC)) } },
		{ "builtin:runtime-string-copies", { .bytes = 6, .allocs = 1,
		  STACK(F("__strdup", LIBC), F("setlocale", LIBC), F("main", APP)) } },
		{ "builtin:runtime-string-copies", { .bytes = 4, .allocs = 1,
		  STACK(F("__strdup", LIBC), F("tzset_internal", LIBC)) } },
		{ "builtin:nss", { .bytes = 200, .allocs = 1,
		  STACK(F("__nss_module_allocate", LIBC), F("__nss_database_get", LIBC)) } },
		{ "builtin:nss", { .bytes = 1024, .allocs = 1,
		  STACK(F("getpwnam", LIBC), F("lookup_user", APP)) } },
		{ "builtin:resolver", { .bytes = 600, .allocs = 1,
		  STACK(F("__resolv_conf_allocate", LIBC), F("__resolv_conf_load", LIBC)) } },
		{ "builtin:resolver", { .bytes = 48, .allocs = 1,
		  STACK(F("__check_pf", LIBC), F("getaddrinfo", LIBC)) } },
		{ "builtin:libc-internal-arrays", { .bytes = 128, .allocs = 1,
		  STACK(F("__libc_dynarray_emplace_enlarge", LIBC)) } },
		{ "builtin:atexit", { .bytes = 1040, .allocs = 1,
		  STACK(F("__new_exitfn", LIBC), F("__internal_atexit", LIBC),
			F("register_handlers", APP)) } },
		{ "builtin:c++-emergency-pool", { .bytes = 72704, .allocs = 1,
		  STACK(F("(anonymous namespace)::pool::pool()", LIBSTDCXX),
			F("_GLOBAL__sub_I_eh_alloc.cc", LIBSTDCXX), F("call_init", LDSO)) } },
		{ "builtin:c++-emergency-pool", { .bytes = 72704, .allocs = 1,
		  STACK(F(NULL, LIBSTDCXX), F(NULL, LDSO)) } },
	};

	check_shapes(shapes, sizeof(shapes) / sizeof(shapes[0]));
}
END_TEST

START_TEST(test_builtin_program_frames_not_matched)
{
	/* Frame 0 is the program's own code in every one, whatever runtime frames follow. */
	const struct shape shapes[] = {
		{ NULL, { .bytes = 64, .allocs = 2, LEAKY_STACK } },
		{ NULL, { .bytes = 64, .allocs = 2,
		  STACK(F("make_node", "/home/u/proj/static_app"),
			F("main", "/home/u/proj/static_app"),
			F("__libc_start_call_main", "/home/u/proj/static_app")) } },
		/* A callback the C library calls. */
		{ NULL, { .bytes = 32, .allocs = 1,
		  STACK(F("cmp_cached", APP), F("msort_with_tmp.part.0", LIBC),
			F("qsort_r", LIBC), F("main", APP)) } },
		{ NULL, { .bytes = 32, .allocs = 1,
		  STACK(F("save_state", APP), F("__run_exit_handlers", LIBC),
			F("exit", LIBC), F("__libc_start_call_main", LIBC)) } },
		{ NULL, { .bytes = 32, .allocs = 1,
		  STACK(F("worker", APP), F("start_thread", LIBC), F("clone3", LIBC)) } },
		/* A library constructor run by the loader while dlopen maps it. */
		{ NULL, { .bytes = 4096, .allocs = 1,
		  STACK(F("plugin_init", PLUGIN), F("call_init", LDSO), F("_dl_init", LDSO),
			F("_dl_catch_exception", LIBC), F("dl_open_worker", LIBC)) } },
		/* Runtime-like names outside the runtime's library. */
		{ NULL, { .bytes = 32, .allocs = 1,
		  STACK(F("read_alias_file", APP), F("main", APP)) } },
		{ NULL, { .bytes = 32, .allocs = 1,
		  STACK(F("setlocale", APP), F("main", APP)) } },
		{ NULL, { .bytes = 32, .allocs = 1,
		  STACK(F("getpwnam", PLUGIN), F("main", APP)) } },
		{ NULL, { .bytes = 32, .allocs = 1, STACK(F(NULL, APP), F("main", APP)) } },
		{ NULL, { .bytes = 72704, .allocs = 1,
		  STACK(F("ns::make_widget()", APP), F("main", APP)) } },
		/* A copy whose caller is not known is not assumed to be the runtime's. */
		{ NULL, { .bytes = 6, .allocs = 1, STACK(F("__strdup", LIBC)) } },
		/* The C library's strdup, but called by the program. */
		{ NULL, { .bytes = 6, .allocs = 1,
		  STACK(F("__strdup", LIBC), F("parse_args", APP), F("main", APP)) } },
		/* What the program asked for and can give back: an open stream. */
		{ NULL, { .bytes = 472, .allocs = 1,
		  STACK(F("__fopen_internal", LIBC), F("fopen@@GLIBC_2.2.5", LIBC),
			F("open_log", APP), F("main", APP)) } },
	};

	check_shapes(shapes, sizeof(shapes) / sizeof(shapes[0]));
}
END_TEST

START_TEST(test_builtin_cxx_pool_size)
{
	const struct shape shapes[] = {
		/* An unnamed frame in the C++ runtime: only one large block. */
		{ NULL, { .bytes = 100, .allocs = 1, STACK(F(NULL, LIBSTDCXX)) } },
		{ NULL, { .bytes = 72704, .allocs = 8, STACK(F(NULL, LIBSTDCXX)) } },
		{ "builtin:c++-emergency-pool", { .bytes = 16384, .allocs = 1,
		  STACK(F(NULL, LIBSTDCXX)) } },
		{ NULL, { .bytes = 72704, .allocs = 1, STACK(F(NULL, PLUGIN)) } },
	};

	check_shapes(shapes, sizeof(shapes) / sizeof(shapes[0]));
}
END_TEST

/* --- budgets ------------------------------------------------------------------------------- */

START_TEST(test_charge_run_budget)
{
	struct suppressions *s = load_ok("leak r\n\t...\n\tbudget: 100 bytes, 3 allocs\n");
	struct suppression_rule *r = suppressions__rule(s, 0);
	struct leak_site a = { .bytes = 60, .allocs = 2, STACK(F("a", APP)) };
	struct leak_site b = { .bytes = 40, .allocs = 1, STACK(F("b", APP)) };
	struct leak_site c = { .bytes = 1, .allocs = 1, STACK(F("c", APP)) };

	suppressions__begin_process(s, NULL);
	ck_assert_int_eq(suppressions__charge(s, r, &a), 0);
	/* Exactly the budget is within it. */
	ck_assert_int_eq(suppressions__charge(s, r, &b), 0);
	ck_assert_uint_eq(r->matched_bytes, 100);
	ck_assert_uint_eq(r->matched_allocs, 3);
	ck_assert_uint_eq(r->matched_sites, 2);
	/* Without "per process" the budget spans processes. */
	suppressions__begin_process(s, NULL);
	ck_assert_int_eq(suppressions__charge(s, r, &c), 1);
	ck_assert_uint_eq(r->matched_sites, 3);

	/* Allocations alone can take a rule over. */
	suppressions__reset_counters(s);
	ck_assert_uint_eq(r->matched_bytes, 0);
	ck_assert_uint_eq(r->matched_allocs, 0);
	ck_assert_uint_eq(r->matched_sites, 0);
	ck_assert_int_eq(suppressions__charge(s, r, &c), 0);
	ck_assert_int_eq(suppressions__charge(s, r, &c), 0);
	ck_assert_int_eq(suppressions__charge(s, r, &c), 0);
	ck_assert_int_eq(suppressions__charge(s, r, &c), 1);
	suppressions__free(s);
}
END_TEST

START_TEST(test_charge_per_process)
{
	struct suppressions *s = load_ok("leak r\n\t...\n\tbudget: 100 bytes per process\n");
	struct suppression_rule *r = suppressions__rule(s, 0);
	struct leak_site a = { .bytes = 60, .allocs = 1, STACK(F("a", APP)) };
	struct leak_site b = { .bytes = 50, .allocs = 1, STACK(F("b", APP)) };

	ck_assert(r->budget_per_process);
	suppressions__begin_process(s, NULL);
	ck_assert_int_eq(suppressions__charge(s, r, &a), 0);
	suppressions__begin_process(s, NULL);
	ck_assert_int_eq(suppressions__charge(s, r, &a), 0);
	ck_assert_int_eq(suppressions__charge(s, r, &b), 1);
	/* The run's totals keep counting. */
	ck_assert_uint_eq(r->matched_bytes, 170);
	ck_assert_uint_eq(r->matched_sites, 3);
	suppressions__free(s);
}
END_TEST

START_TEST(test_loose_budgets)
{
	struct suppressions *s = load_ok("leak run\n\tfun:a\n\tbudget: 100 bytes\n"
					 "leak proc\n\tfun:b\n\tbudget: 100 bytes per process\n"
					 "leak plain\n\tfun:c\n"
					 "leak allocs\n\tfun:d\n\tbudget: 100 bytes, 5 allocs\n");
	struct suppression_rule *run = suppressions__rule(s, 0);
	struct suppression_rule *proc = suppressions__rule(s, 1);
	struct suppression_rule *plain = suppressions__rule(s, 2);
	struct suppression_rule *allocs = suppressions__rule(s, 3);
	struct leak_site sixty = { .bytes = 60, .allocs = 1, STACK(F("a", APP)) };
	struct leak_site forty = { .bytes = 40, .allocs = 1, STACK(F("a", APP)) };
	struct leak_site hundred = { .bytes = 100, .allocs = 4, STACK(F("d", APP)) };

	/* Nothing matched: unused, not loose. */
	ck_assert_int_eq(suppressions__is_loose(s, run), 0);
	suppressions__begin_process(s, NULL);
	ck_assert_int_eq(suppressions__charge(s, run, &sixty), 0);
	ck_assert_int_eq(suppressions__is_loose(s, run), 1);
	ck_assert_int_eq(suppressions__charge(s, run, &forty), 0);
	ck_assert_int_eq(suppressions__is_loose(s, run), 0);

	/* Per process: the process that used most decides. */
	ck_assert_int_eq(suppressions__charge(s, proc, &sixty), 0);
	suppressions__begin_process(s, NULL);
	ck_assert_int_eq(suppressions__charge(s, proc, &forty), 0);
	ck_assert_int_eq(suppressions__is_loose(s, proc), 1);
	ck_assert_int_eq(suppressions__charge(s, proc, &forty), 0);
	ck_assert_int_eq(suppressions__is_loose(s, proc), 1);
	ck_assert_int_eq(suppressions__charge(s, proc, &forty), 1);
	ck_assert_int_eq(suppressions__is_loose(s, proc), 0);

	/* Without a budget nothing is loose; with two amounts either can be. */
	ck_assert_int_eq(suppressions__charge(s, plain, &sixty), 0);
	ck_assert_int_eq(suppressions__is_loose(s, plain), 0);
	ck_assert_int_eq(suppressions__charge(s, allocs, &hundred), 0);
	ck_assert_int_eq(suppressions__is_loose(s, allocs), 1);
	suppressions__free(s);
}
END_TEST

START_TEST(test_match_leaves_counters)
{
	struct suppressions *s = load_ok("leak r\n\t...\n\tbudget: 1 bytes\n");
	struct leak_site a = { .bytes = 60, .allocs = 1, STACK(F("a", APP)) };
	const struct suppression_rule *r;

	for (int i = 0; i < 3; i++)
		r = suppressions__match(s, &a);
	ck_assert_ptr_nonnull(r);
	ck_assert_uint_eq(r->matched_bytes, 0);
	ck_assert_uint_eq(r->matched_sites, 0);
	suppressions__free(s);
}
END_TEST

/* --- helpers of the module ----------------------------------------------------------------- */

START_TEST(test_system_modules_and_stable_names)
{
	ck_assert_int_eq(suppressions_is_system_module(LIBC), 1);
	ck_assert_int_eq(suppressions_is_system_module(LDSO), 1);
	ck_assert_int_eq(suppressions_is_system_module(LIBSTDCXX), 1);
	ck_assert_int_eq(suppressions_is_system_module("/opt/gcc/lib64/libstdc++.so.6"), 1);
	ck_assert_int_eq(suppressions_is_system_module("[kernel]"), 1);
	ck_assert_int_eq(suppressions_is_system_module(NULL), 1);
	ck_assert_int_eq(suppressions_is_system_module(APP), 0);
	ck_assert_int_eq(suppressions_is_system_module(PLUGIN), 0);
	ck_assert_int_eq(suppressions_is_system_module("/home/u/proj/libcache.so.1"), 0);

	ck_assert_uint_eq(suppressions_stable_len("make_node.constprop.0"), 9);
	ck_assert_uint_eq(suppressions_stable_len("f.isra.0"), 1);
	ck_assert_uint_eq(suppressions_stable_len("g.part.1"), 1);
	ck_assert_uint_eq(suppressions_stable_len("h.cold"), 1);
	ck_assert_uint_eq(suppressions_stable_len("pthread_setspecific@@GLIBC_2.34"), 19);
	ck_assert_uint_eq(suppressions_stable_len("parse(char const*) [clone .cold]"),
			  strlen("parse(char const*)"));
	ck_assert_uint_eq(suppressions_stable_len("plain"), 5);
	ck_assert_uint_eq(suppressions_stable_len("make_node.5"), 11);
}
END_TEST

START_TEST(test_free_null_and_empty_set)
{
	struct suppressions *s = suppressions__new();
	struct leak_site a = { .bytes = 60, .allocs = 1, STACK(F("a", APP)) };

	suppressions__free(NULL);
	ck_assert_uint_eq(suppressions__count(NULL), 0);
	ck_assert_ptr_null(suppressions__match(NULL, &a));
	ck_assert_ptr_null(suppressions__match(s, &a));
	ck_assert_ptr_null(suppressions__rule(s, 0));
	ck_assert_int_eq(suppressions__add_defaults(NULL), -EINVAL);
	suppressions__free(s);
}
END_TEST

/*
 * A rule of many lines is matched without recursion on its length: with a 256 KiB stack,
 * 200,000 "..." lines match (or not) as one does.
 */
static char *many_ellipses(const char *head, size_t n, const char *tail)
{
	size_t hl = strlen(head), tl = strlen(tail);
	char *text = malloc(hl + 4 * n + tl + 1), *p = text;

	ck_assert_ptr_nonnull(text);
	memcpy(p, head, hl);
	p += hl;
	for (size_t i = 0; i < n; i++, p += 4)
		memcpy(p, "...\n", 4);
	memcpy(p, tail, tl + 1);
	return text;
}

START_TEST(test_long_rules_iterative)
{
	struct rlimit small = { .rlim_cur = 256 << 10, .rlim_max = RLIM_INFINITY };
	struct leak_site site = { .bytes = 64, .allocs = 2, LEAKY_STACK };
	const char *tails[] = { "\tfun:main\n", "\tfun:nowhere\n", "\tfun:build_list\n\t...\n" };
	const int expect[] = { 1, 0, 1 };

	ck_assert_int_eq(setrlimit(RLIMIT_STACK, &small), 0);
	for (size_t t = 0; t < 3; t++) {
		char *text = many_ellipses("leak many\n", 200000, tails[t]);
		char *vg = many_ellipses("{\n  many\n  Memcheck:Leak\n", 200000, "");
		char *vgtext = malloc(strlen(vg) + strlen(tails[t]) + 3);

		sprintf(vgtext, "%s%s}\n", vg, tails[t]);
		ck_assert_msg(text_matches(text, &site) == expect[t], "native tail %zu", t);
		ck_assert_msg(text_matches(vgtext, &site) == expect[t], "valgrind tail %zu", t);
		free(text);
		free(vg);
		free(vgtext);
	}
}
END_TEST

static Suite *suite(void)
{
	Suite *s = suite_create("suppressions");
	TCase *lsan = tcase_create("lsan");
	TCase *vg = tcase_create("valgrind");
	TCase *native = tcase_create("native");
	TCase *errors = tcase_create("errors");
	TCase *builtin = tcase_create("builtin");
	TCase *budget = tcase_create("budget");

	tcase_add_test(lsan, test_lsan_parsed);
	tcase_add_test(lsan, test_lsan_substring_in_any_frame);
	tcase_add_test(lsan, test_lsan_wildcard);
	tcase_add_test(lsan, test_lsan_anchors);
	tcase_add_test(lsan, test_lsan_module_and_file);
	suite_add_tcase(s, lsan);

	tcase_add_test(vg, test_vg_parsed);
	tcase_add_test(vg, test_vg_frames_in_order);
	tcase_add_test(vg, test_vg_allocator_line);
	tcase_add_test(vg, test_vg_ellipsis);
	tcase_add_test(vg, test_vg_wildcards);
	tcase_add_test(vg, test_vg_obj);
	tcase_add_test(vg, test_vg_src);
	tcase_add_test(vg, test_vg_stack_end);
	tcase_add_test(vg, test_clone_suffixes);
	tcase_add_test(vg, test_vg_libc_aliases_and_versions);
	tcase_add_test(vg, test_vg_cxx);
	tcase_add_test(vg, test_vg_other_kinds_skipped);
	tcase_add_test(vg, test_long_rules_iterative);
	suite_add_tcase(s, vg);

	tcase_add_test(native, test_native_parsed);
	tcase_add_test(native, test_native_escapes);
	tcase_add_test(native, test_native_first_line_is_caller);
	tcase_add_test(native, test_native_budgets);
	tcase_add_test(native, test_mixed_forms_first_match_wins);
	suite_add_tcase(s, native);

	tcase_add_test(errors, test_error_unterminated_block);
	tcase_add_test(errors, test_error_wrong_kind);
	tcase_add_test(errors, test_error_bad_budget);
	tcase_add_test(errors, test_error_unknown_line);
	tcase_add_test(errors, test_error_unsupported_lsan_type);
	tcase_add_test(errors, test_error_missing_parts);
	tcase_add_test(errors, test_error_without_buffer);
	tcase_add_test(errors, test_failed_file_adds_no_rules);
	tcase_add_test(errors, test_load_file);
	tcase_add_test(errors, test_load_file_nul_and_directory);
	tcase_add_test(errors, test_error_control_bytes_escaped);
	suite_add_tcase(s, errors);

	tcase_add_test(builtin, test_builtin_rules_listed);
	tcase_add_test(builtin, test_builtin_glibc_shapes);
	tcase_add_test(builtin, test_builtin_system_program);
	tcase_add_test(builtin, test_rules_match_their_kinds);
	tcase_add_test(builtin, test_builtin_program_frames_not_matched);
	tcase_add_test(builtin, test_builtin_cxx_pool_size);
	suite_add_tcase(s, builtin);

	tcase_add_test(budget, test_charge_run_budget);
	tcase_add_test(budget, test_charge_per_process);
	tcase_add_test(budget, test_loose_budgets);
	tcase_add_test(budget, test_match_leaves_counters);
	tcase_add_test(budget, test_system_modules_and_stable_names);
	tcase_add_test(budget, test_free_null_and_empty_set);
	suite_add_tcase(s, budget);
	return s;
}

int main(void)
{
	return test_run_suite(suite());
}
