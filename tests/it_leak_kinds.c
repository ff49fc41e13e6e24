// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * Leak kinds read from a process's memory at its end, against what each case of the
 * kinds fixture holds (tests/fixtures/kinds.c) and against valgrind's leak check on the
 * same program: every case, built at -O2, at -O0 and without frame pointers, probed at
 * the preload library's sites and in the C library.
 */
#include <check.h>
#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "runner/records.h"
#include "tests/testutil.h"

/* A block size the case allocates, how many, and the kind it must be. */
struct expect {
	int size;
	int count;
	enum leak_kind kind;
};

struct kinds_case {
	const char *name;
	int status;		/* the gate's exit status */
	struct expect blocks[3];
};

static const struct kinds_case cases[] = {
	{ "global", 0, { { 1001, 1, LEAK_REACHABLE } } },
	{ "tls", 0, { { 1002, 1, LEAK_REACHABLE } } },
	{ "thread", 0, { { 1003, 1, LEAK_REACHABLE } } },
	{ "interior", 0, { { 1004, 1, LEAK_POSSIBLE } } },
	{ "list", 23, { { 1005, 1, LEAK_DEFINITE }, { 1006, 3, LEAK_INDIRECT } } },
	{ "cycle", 23, { { 1007, 1, LEAK_DEFINITE }, { 1008, 1, LEAK_INDIRECT } } },
	{ "dlopen", 0, { { 1009, 1, LEAK_REACHABLE } } },
	{ "mmap", 0, { { 1010, 1, LEAK_REACHABLE } } },
	/* The program's own failure comes first: _exit(3), then SIGABRT. */
	{ "thread_exit", 3, { { 1011, 1, LEAK_DEFINITE }, { 1001, 1, LEAK_REACHABLE } } },
	{ "abort", 128 + 6, { { 1012, 1, LEAK_DEFINITE }, { 1001, 1, LEAK_REACHABLE } } },
};
#define NCASES (sizeof(cases) / sizeof(cases[0]))

/* Builds and gate options: each case runs in each. */
static const struct {
	const char *program;
	const char *options;
} variants[] = {
	{ "tests/fixtures/kinds", "" },
	{ "tests/fixtures/kinds-O0", "" },
	{ "tests/fixtures/nofp_kinds", "" },
	{ "tests/fixtures/kinds", "--no-preload" },
	{ "tests/fixtures/nofp_kinds", "--no-preload" },
};
#define NVARIANTS (sizeof(variants) / sizeof(variants[0]))

/* The kind of the case's blocks of `size` in the JSON report, or -1; *count how many. */
static int reported_kind(json_object *root, int size, int *count)
{
	json_object *procs = json_object_object_get(root, "processes");
	int kind = -1;

	*count = 0;
	for (size_t i = 0; i < json_object_array_length(procs); i++) {
		json_object *p = json_object_array_get_idx(procs, i);
		json_object *sites = json_object_object_get(p, "sites");

		ck_assert_msg(json_object_get_boolean(json_object_object_get(p, "memory_read")),
			      "memory not read: %s",
			      json_object_get_string(json_object_object_get(p, "memory_not_read")));
		for (size_t k = 0; k < json_object_array_length(sites); k++) {
			json_object *s = json_object_array_get_idx(sites, k);
			int64_t bytes = json_object_get_int64(json_object_object_get(s, "bytes"));
			int64_t allocs = json_object_get_int64(json_object_object_get(s, "allocations"));
			const char *name = json_object_get_string(json_object_object_get(s, "kind"));
			int this_kind = -1;

			if (!allocs || bytes / allocs != size)
				continue;
			for (int c = 0; c < LEAK__COUNT; c++)
				if (!strcmp(name, leak_kind_name(c)))
					this_kind = c;
			ck_assert_msg(kind == -1 || kind == this_kind, "blocks of %d bytes in two kinds",
				      size);
			kind = this_kind;
			*count += (int)allocs;
		}
	}
	return kind;
}

START_TEST(test_each_kind_classified)
{
	const struct kinds_case *c = &cases[_i % NCASES];
	const char *program = test_path(variants[_i / NCASES].program);
	char json[512];
	struct run_result r;
	json_object *root;

	snprintf(json, sizeof(json), "%s/tests/kinds-%d.json", test_output_dir(), _i);
	ck_assert_int_eq(run_sh(&r, "%s %s --json %s -- %s %s", test_path("memleak-run"),
				variants[_i / NCASES].options, json, program, c->name), 0);
	ck_assert_msg(r.status == c->status, "%s %s %s: exit %d, expected %d\n%s", program,
		      variants[_i / NCASES].options, c->name, r.status, c->status, r.err);
	root = json_object_from_file(json);
	ck_assert_msg(root != NULL, "no JSON report\n%s", r.err);
	for (size_t b = 0; b < 3 && c->blocks[b].size; b++) {
		const struct expect *e = &c->blocks[b];
		int count, kind = reported_kind(root, e->size, &count);

		ck_assert_msg(kind == (int)e->kind && count == e->count,
			      "%s %s %s: %d x %d bytes %s, expected %d %s\n%s", program,
			      variants[_i / NCASES].options, c->name, count, e->size,
			      kind >= 0 ? leak_kind_words(kind) : "not reported", e->count,
			      leak_kind_words(e->kind), r.err);
	}
	/* A definitely lost block that holds others says how much. */
	if (!strcmp(c->name, "list"))
		ck_assert_msg(strstr(r.err, "(and 3018 bytes in 3 allocations indirectly lost "
				     "through it)"), "%s", r.err);
	json_object_put(root);
	unlink(json);
	run_result_free(&r);
}
END_TEST

/*
 * A process that ends without passing through _exit or abort (SIGKILL) cannot be read:
 * every block counts as definitely lost, and each report says why.
 */
START_TEST(test_unread_memory_counts_as_lost)
{
	char json[512];
	struct run_result r;
	json_object *root, *p;

	snprintf(json, sizeof(json), "%s/tests/kinds-kill.json", test_output_dir());
	ck_assert_int_eq(run_sh(&r, "%s --json %s -- %s kill", test_path("memleak-run"), json,
				test_path("tests/fixtures/kinds")), 0);
	ck_assert_msg(r.status == 128 + 9, "exit %d\n%s", r.status, r.err);
	ck_assert_msg(strstr(r.err, "memory not read: it was killed by a signal before its memory "
				    "could be read; every block counts as definitely lost") &&
		      strstr(r.err, "1001 bytes in 1 allocation, definitely lost"), "%s", r.err);
	root = json_object_from_file(json);
	ck_assert_ptr_nonnull(root);
	p = json_object_array_get_idx(json_object_object_get(root, "processes"), 0);
	ck_assert(!json_object_get_boolean(json_object_object_get(p, "memory_read")));
	ck_assert_ptr_nonnull(strstr(json_object_get_string(json_object_object_get(p, "memory_not_read")),
				     "killed by a signal"));
	json_object_put(root);
	unlink(json);
	run_result_free(&r);
}
END_TEST

/*
 * valgrind's word for the blocks of `size` in its leak report ("definitely lost"), from
 * its loss records: "1,005 bytes in 1 blocks are definitely lost", or with indirect
 * blocks "4,029 (1,005 direct, 3,024 indirect) bytes in 1 blocks are definitely lost".
 */
static const char *valgrind_kind(const char *report, int size, int *count)
{
	static char kind[32];
	const char *line = report;

	*count = 0;
	for (; line && *line; line = strchr(line, '\n'), line = line ? line + 1 : NULL) {
		char buf[512], digits[512];
		const char *p, *are;
		size_t n = strcspn(line, "\n"), d = 0;
		unsigned long long bytes, blocks;

		if (n >= sizeof(buf))
			continue;
		memcpy(buf, line, n);
		buf[n] = '\0';
		are = strstr(buf, " blocks are ");
		p = strstr(buf, "== ");
		if (!are || !p || !strstr(buf, "in loss record"))
			continue;
		for (p += 3; *p; p++)
			if (*p != ',')
				digits[d++] = *p;
		digits[d] = '\0';
		/* Without commas: "N (D direct I indirect) bytes in B blocks", or "N bytes in B blocks". */
		if (sscanf(digits, "%*u (%llu direct %*u indirect) bytes in %llu blocks", &bytes,
			   &blocks) != 2 &&
		    sscanf(digits, "%llu bytes in %llu blocks", &bytes, &blocks) != 2)
			continue;
		if (!blocks || bytes / blocks != (unsigned long long)size)
			continue;
		snprintf(kind, sizeof(kind), "%.*s", (int)(strstr(are, " in loss record") - are - 12),
			 are + 12);
		*count += (int)blocks;
	}
	return *count ? kind : NULL;
}

START_TEST(test_same_kinds_as_valgrind)
{
	const struct kinds_case *c = &cases[_i];
	const char *program = test_path("tests/fixtures/kinds");
	char json[512];
	struct run_result r, v;
	json_object *root;

	if (access("/usr/bin/valgrind", X_OK)) {
		ck_assert_msg(!getenv("CI"), "valgrind is not installed (ci/install-deps.sh installs it)");
		return;
	}
	snprintf(json, sizeof(json), "%s/tests/kinds-vg-%d.json", test_output_dir(), _i);
	ck_assert_int_eq(run_sh(&r, "%s --json %s -- %s %s", test_path("memleak-run"), json,
				program, c->name), 0);
	ck_assert_int_eq(run_sh(&v, "valgrind --leak-check=full --show-leak-kinds=all %s %s",
				program, c->name), 0);
	root = json_object_from_file(json);
	ck_assert_msg(root != NULL, "no JSON report\n%s", r.err);
	for (size_t b = 0; b < 3 && c->blocks[b].size; b++) {
		int count, vcount, kind = reported_kind(root, c->blocks[b].size, &count);
		const char *vkind = valgrind_kind(v.err, c->blocks[b].size, &vcount);

		ck_assert_msg(vkind && kind >= 0 && !strcmp(vkind, leak_kind_words(kind)) &&
			      count == vcount,
			      "%s: %d bytes: gate %d %s, valgrind %d %s\n%s", c->name,
			      c->blocks[b].size, count, kind >= 0 ? leak_kind_words(kind) : "-",
			      vcount, vkind ? vkind : "-", v.err);
	}
	json_object_put(root);
	unlink(json);
	run_result_free(&r);
	run_result_free(&v);
}
END_TEST

static Suite *suite(void)
{
	Suite *s = suite_create("it_leak_kinds");
	TCase *tc = tcase_create("kinds");

	tcase_set_timeout(tc, 120);
	tcase_add_loop_test(tc, test_each_kind_classified, 0, NCASES * NVARIANTS);
	tcase_add_loop_test(tc, test_same_kinds_as_valgrind, 0, NCASES);
	tcase_add_test(tc, test_unread_memory_counts_as_lost);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return test_run_suite(suite());
}
