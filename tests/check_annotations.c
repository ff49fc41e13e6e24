/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * GitHub workflow-command annotations: escaping, order, GitHub's per-step limits, paths
 * relative to the workspace, one command per line.
 */
#include <check.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "reporters/annotations.h"
#include "tests/report_fixture.h"
#include "tests/testutil.h"

static char *annotations(const struct judgement *j, const struct annotation_opts *o)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *out = open_memstream(&buf, &len);

	ck_assert_ptr_nonnull(out);
	annotations__print(out, j, o);
	ck_assert_int_eq(fclose(out), 0);
	ck_assert_ptr_nonnull(buf);
	return buf;
}

static char *escaped(const char *s, int property)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *out = open_memstream(&buf, &len);

	ck_assert_ptr_nonnull(out);
	annotations_put_escaped(out, s, property);
	ck_assert_int_eq(fclose(out), 0);
	return buf;
}

/* Line n (from 0), without its line feed, in a static buffer; "" past the end. */
static const char *line_at(const char *text, int n)
{
	static char line[8192];
	const char *end;

	for (; n > 0 && text; n--)
		text = (text = strchr(text, '\n')) ? text + 1 : NULL;
	if (!text || !*text)
		return "";
	end = strchr(text, '\n');
	ck_assert_ptr_nonnull(end);
	snprintf(line, sizeof(line), "%.*s", (int)(end - text), text);
	return line;
}

#define ck_assert_has(text, needle) \
	ck_assert_msg(strstr((text), (needle)), "missing \"%s\" in:\n%s", (needle), (text))
#define ck_assert_starts(text, prefix) \
	ck_assert_msg(!strncmp((text), (prefix), strlen(prefix)), "\"%s\" does not start with " \
		      "\"%s\"", (text), (prefix))

START_TEST(test_escaping)
{
	char *s;

	s = escaped("100% a\rb\nc: d, e", 0);
	ck_assert_str_eq(s, "100%25 a%0Db%0Ac: d, e");
	free(s);
	s = escaped("100% a\rb\nc: d, e", 1);
	ck_assert_str_eq(s, "100%25 a%0Db%0Ac%3A d%2C e");
	free(s);
	/* Other control characters and invalid UTF-8 cannot reach the runner. */
	s = escaped("a\x01" "b\x1b[0m\xff\xc3\xa9", 1);
	ck_assert_str_eq(s, "a?b?[0m?\xc3\xa9");
	free(s);
	s = escaped(NULL, 0);
	ck_assert_str_eq(s, "");
	free(s);
}
END_TEST

START_TEST(test_errors_most_bytes_first)
{
	struct fixture f;
	struct annotation_opts o = { .workspace = FX_WORKSPACE };
	char *s;

	fixture_init(&f, 4242);
	s = annotations(&f.j, &o);
	/* Lost data first: it undermines everything else. */
	ck_assert_str_eq(line_at(s, 0), "::error title=memleak-run%3A events lost::5 events lost "
					"in sh: the leak report is incomplete.%0A3 blocks not "
					"recorded: the outstanding-block table was full (raise "
					"--max-blocks)%0A2 events the ring buffer could not take");
	ck_assert_str_eq(line_at(s, 1), "::error file=src/leaky.c,line=41,title=memleak-run%3A "
					"memory leak%2C definitely lost::4096 bytes in 1 allocation definitely lost, not "
					"freed by "
					"leaky: " FX_NAME_CONFIG "%0A#0 read_config+0x13 "
					"(leaky.c:41) [leaky]%0A#1 main+0x16 (leaky.c:52) "
					"[leaky]%0A#2 __libc_start_call_main+0x7a [libc.so.6]");
	ck_assert_starts(line_at(s, 2), "::error file=src/leaky.c,line=19,title=memleak-run%3A "
					"memory leak%2C definitely lost::320 bytes in 5 allocations");
	ck_assert_starts(line_at(s, 3), "::error file=src/leaky.c,line=60,title=memleak-run%3A "
					"leak over its suppression's budget%2C definitely lost::200 "
					"bytes in 2 allocations definitely lost, not freed by leaky: " FX_NAME_CACHE "%0ARule "
					"cache (supp.txt:7) matched 200 bytes in 2 allocations, "
					"its budget is at most 100 bytes in 1 allocation%0A#0 "
					"cache_put");
	ck_assert_starts(line_at(s, 4), "::error file=src/we<ird>&.c,line=5,title=");
	ck_assert_has(line_at(s, 4), "::16 bytes in 1 allocation definitely lost, not freed by leaky: "
				     FX_NAME_WEIRD_CLEAN "%0A");
	/* Without a location, the annotation belongs to the run. */
	ck_assert_str_eq(line_at(s, 5), "::error title=memleak-run%3A memory leak%2C definitely lost::8 "
					"bytes in 1 allocation definitely lost, not freed by sh: unknown "
					"stack%0A(no stack was "
					"captured)");
	/* Accepted sites are not annotated. */
	ck_assert_int_eq(count_substr(s, "::error "), 6);
	ck_assert_int_eq(count_substr(s, "libc-init"), 0);
	ck_assert_int_eq(count_substr(s, "pool_grow"), 0);
	/* Rules: warnings and notices at their own lines. */
	ck_assert_str_eq(line_at(s, 6), "::warning file=supp.txt,line=20,title=memleak-run%3A "
					"suppression matched nothing::Rule old-leak (" FX_WORKSPACE
					"/supp.txt:20) matched no leak in this run: the leak it "
					"accepted may be fixed");
	ck_assert_starts(line_at(s, 7), "::notice file=supp.txt,line=12,title=memleak-run%3A "
					"budget larger than needed::Rule pool");
	ck_assert_str_eq(line_at(s, 8), "");
	free(s);
}
END_TEST

START_TEST(test_workspace_paths)
{
	struct fixture f;
	struct annotation_opts o = { 0 };
	char *s;

	fixture_init(&f, 4242);
	/* No workspace: paths as recorded. */
	s = annotations(&f.j, &o);
	ck_assert_starts(line_at(s, 1), "::error file=" FX_LEAKY_C ",line=41,");
	free(s);
	/* A trailing slash makes no difference. */
	o.workspace = FX_WORKSPACE "/";
	s = annotations(&f.j, &o);
	ck_assert_starts(line_at(s, 1), "::error file=src/leaky.c,line=41,");
	free(s);
	/* A directory that only starts like the workspace is not under it. */
	o.workspace = FX_WORKSPACE "/sr";
	s = annotations(&f.j, &o);
	ck_assert_starts(line_at(s, 1), "::error file=" FX_LEAKY_C ",line=41,");
	free(s);
	/* Paths with the properties' separators are escaped. */
	f.frames[FX_SITE_CONFIG][0].file = FX_WORKSPACE "/src/a,b:c.c";
	o.workspace = FX_WORKSPACE;
	s = annotations(&f.j, &o);
	ck_assert_starts(line_at(s, 1), "::error file=src/a%2Cb%3Ac.c,line=41,");
	free(s);
}
END_TEST

START_TEST(test_limits)
{
	enum { N = 25 };
	struct fixture f;
	struct leak_site sites[N];
	struct site_judgement sj[N];
	struct frame frame = fx_frame(0x401000, "grow", 0x4, FX_LEAKY_C, 7, "leaky");
	struct annotation_opts o = { .workspace = FX_WORKSPACE };
	char *s, expect[256];

	fixture_init(&f, 4242);
	/* 25 failing sites, bytes growing with the index: the largest are shown. */
	for (int i = 0; i < N; i++) {
		sites[i] = (struct leak_site){ .bytes = 100 + (uint64_t)i, .allocs = 1,
					       .nframes = 1, .frames = &frame };
		sj[i] = (struct site_judgement){ .site = &sites[i], .verdict = SITE_LEAK,
						 .name = (char *)"grow (leaky.c)",
						 .own_frame = &frame };
	}
	f.pj[0].sites = sj;
	f.pj[0].nsites = N;
	f.j.nprocs = 1;
	f.j.lost_data = 0;
	f.j.nunused = f.j.nloose = 0;
	s = annotations(&f.j, &o);
	/* Nine sites and one line saying how many more: all ten are shown by GitHub. */
	ck_assert_int_eq(count_substr(s, "::error "), ANNOTATIONS_MAX);
	ck_assert_int_eq(count_substr(s, "\n"), ANNOTATIONS_MAX);
	for (int i = 0; i < ANNOTATIONS_MAX - 1; i++) {
		snprintf(expect, sizeof(expect), "::%d bytes in 1 allocation", 100 + N - 1 - i);
		ck_assert_has(line_at(s, i), expect);
	}
	ck_assert_str_eq(line_at(s, ANNOTATIONS_MAX - 1),
			 "::error title=memleak-run%3A 16 more failing leak sites::16 more failing "
			 "leak sites not annotated: see the job log and the JUnit or JSON report");
	free(s);

	/* Exactly the limit: every site, no extra line. */
	f.pj[0].nsites = ANNOTATIONS_MAX;
	s = annotations(&f.j, &o);
	ck_assert_int_eq(count_substr(s, "::error "), ANNOTATIONS_MAX);
	ck_assert_int_eq(count_substr(s, "more failing"), 0);
	free(s);

	/* A lower limit and stacks cut short. */
	o.max_per_kind = 3;
	o.max_frames = 1;
	f.pj[0].nsites = N;
	f.frames[0][0] = frame;
	s = annotations(&f.j, &o);
	ck_assert_int_eq(count_substr(s, "::error "), 3);
	ck_assert_has(line_at(s, 2), "23 more failing leak sites");
	free(s);
}
END_TEST

START_TEST(test_nothing_when_passing)
{
	struct fixture f;
	struct annotation_opts o = { .max_leaked_bytes = 1 << 20, .max_leaked_allocs = 100 };
	char *s;

	fixture_clean(&f);
	s = annotations(&f.j, NULL);
	ck_assert_str_eq(s, "");
	free(s);

	/* Leaks within the run's budget are not errors; the rule over its budget is. */
	fixture_init(&f, 4242);
	f.j.lost_data = 0;
	f.procs[1].lost = (struct lost_counts){ 0 };
	f.j.nunused = f.j.nloose = 0;
	s = annotations(&f.j, &o);
	ck_assert_int_eq(count_substr(s, "::error "), 1);
	ck_assert_has(s, "leak over its suppression's budget");
	free(s);
}
END_TEST

START_TEST(test_builtin_rule_has_no_file)
{
	struct fixture f;
	char *s;

	fixture_clean(&f);
	f.rules[FX_RULE_OLD].origin = SUPP_BUILTIN;
	f.rules[FX_RULE_OLD].file = "<builtin>";
	f.j.nunused = 1;
	s = annotations(&f.j, NULL);
	ck_assert_str_eq(s, "::warning title=memleak-run%3A suppression matched nothing::Rule "
			    "old-leak (<builtin>:20) matched no leak in this run: the leak it "
			    "accepted may be fixed\n");
	free(s);
}
END_TEST

static Suite *suite(void)
{
	Suite *s = suite_create("annotations");
	TCase *tc = tcase_create("github");

	tcase_add_test(tc, test_escaping);
	tcase_add_test(tc, test_errors_most_bytes_first);
	tcase_add_test(tc, test_workspace_paths);
	tcase_add_test(tc, test_limits);
	tcase_add_test(tc, test_nothing_when_passing);
	tcase_add_test(tc, test_builtin_rule_has_no_file);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return test_run_suite(suite());
}
