/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * The text summary: failing sites with their stacks, limits on stacks and sites, rules,
 * lost data, and the verdict as the last line.
 */
#include <check.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "reporters/summary.h"
#include "tests/report_fixture.h"
#include "tests/testutil.h"

/* The summary as a string; the caller frees. */
static char *summary(const struct judgement *j, const struct summary_opts *o)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *out = open_memstream(&buf, &len);

	ck_assert_ptr_nonnull(out);
	summary__print(out, j, o);
	ck_assert_int_eq(fclose(out), 0);
	ck_assert_ptr_nonnull(buf);
	return buf;
}

/* The last line, without its line feed, in a static buffer. */
static const char *last_line(const char *text)
{
	static char line[4096];
	size_t len = strlen(text);
	const char *start;

	ck_assert_msg(len && text[len - 1] == '\n', "summary does not end a line: %s", text);
	for (start = text + len - 1; start > text && start[-1] != '\n'; start--)
		;
	snprintf(line, sizeof(line), "%.*s", (int)(text + len - 1 - start), start);
	return line;
}

#define ck_assert_has(text, needle) \
	ck_assert_msg(strstr((text), (needle)), "missing \"%s\" in:\n%s", (needle), (text))
#define ck_assert_lacks(text, needle) \
	ck_assert_msg(!strstr((text), (needle)), "unexpected \"%s\" in:\n%s", (needle), (text))

START_TEST(test_failing_sites_with_stacks)
{
	struct fixture f;
	char *s;

	fixture_init(&f, 4242);
	s = summary(&f.j, NULL);
	ck_assert_has(s, "memleak-run: leaky[4242] exited with status 0: 4 failing sites, "
			 "4632 bytes in 9 allocations\n");
	ck_assert_has(s, "  leak: 4096 bytes in 1 allocation, definitely lost: " FX_NAME_CONFIG "\n"
			 "      #0 read_config+0x13 (leaky.c:41) [leaky]\n"
			 "      #1 main+0x16 (leaky.c:52) [leaky]\n"
			 "      #2 __libc_start_call_main+0x7a [libc.so.6]\n");
	ck_assert_has(s, "  leak: 320 bytes in 5 allocations, definitely lost: " FX_NAME_LIST "\n"
			 "      #0 make_node+0x1d (leaky.c:19) [leaky]\n");
	ck_assert_has(s, "  over budget: 200 bytes in 2 allocations, definitely lost: " FX_NAME_CACHE "\n"
			 "    rule cache (supp.txt:7) matched 200 bytes in 2 allocations, its "
			 "budget is at most 100 bytes in 1 allocation\n"
			 "      #0 cache_put+0x10 (leaky.c:60) [leaky]\n");
	/* Accepted sites: a total, no stacks. */
	ck_assert_has(s, "  suppressed: 136 bytes in 2 allocations from 2 sites\n");
	ck_assert_lacks(s, "_IO_file_doallocate");
	ck_assert_lacks(s, "pool_grow");
	/* The child: its own failing site and the events it lost. */
	ck_assert_has(s, "memleak-run: sh[4243] exited with status 1: 1 failing site, 8 bytes in 1 "
			 "allocation\n  leak: 8 bytes in 1 allocation, definitely lost: unknown stack\n"
			 "      (no stack was captured)\n");
	ck_assert_has(s, "  LOST DATA: 5 events lost, the leaks of this process may be "
			 "under-reported:\n"
			 "      3 blocks not recorded: the outstanding-block table was full (raise "
			 "--max-blocks)\n"
			 "      2 events the ring buffer could not take\n");
	/* Corrected missed frees are not lost data. */
	ck_assert_lacks(s, "handed out again");
	ck_assert_has(s, "memleak-run: suppression matched nothing: old-leak (" FX_WORKSPACE
			 "/supp.txt:20)\n");
	ck_assert_has(s, "memleak-run: budget larger than needed: pool (" FX_WORKSPACE
			 "/supp.txt:12) allows at most 128 bytes in any number of allocations, "
			 "this run used 64 bytes in 1 allocation\n");
	ck_assert_str_eq(last_line(s), "memleak-run: FAIL: 4 leak sites, 4440 bytes in 8 "
				       "allocations (budget 0 bytes, 0 allocations); 1 site over "
				       "the budget of its suppression; events lost in 1 process: "
				       "the result is incomplete");
	free(s);
}
END_TEST

START_TEST(test_limits)
{
	struct fixture f;
	struct summary_opts o = { .max_frames = 2, .max_sites = 1, .max_rules = 1 };
	const struct suppression_rule *unused[3];
	char *s;

	fixture_init(&f, 4242);
	unused[0] = unused[1] = unused[2] = &f.rules[FX_RULE_OLD];
	f.j.unused = unused;
	f.j.nunused = 3;
	s = summary(&f.j, &o);
	ck_assert_has(s, "      #1 main+0x16 (leaky.c:52) [leaky]\n      ... 1 more frame\n");
	ck_assert_has(s, "  ... 3 more failing sites: see the JUnit or JSON report\n");
	ck_assert_lacks(s, FX_NAME_LIST);
	ck_assert_int_eq(count_substr(s, "suppression matched nothing: "), 1);
	ck_assert_has(s, "memleak-run: ... and 2 more rules that matched nothing: see the JSON "
			 "report\n");
	free(s);

	/* By default at most 10 rules of each list; a negative limit lists them all. */
	{
		const struct suppression_rule *many[25];

		for (size_t i = 0; i < 25; i++)
			many[i] = &f.rules[FX_RULE_OLD];
		f.j.unused = many;
		f.j.nunused = 25;
		s = summary(&f.j, NULL);
		ck_assert_int_eq(count_substr(s, "suppression matched nothing: "), 10);
		ck_assert_has(s, "memleak-run: ... and 15 more rules that matched nothing: see the "
				 "JSON report\n");
		free(s);
		s = summary(&f.j, &(struct summary_opts){ .max_rules = -1 });
		ck_assert_int_eq(count_substr(s, "suppression matched nothing: "), 25);
		ck_assert_lacks(s, "more rules");
		free(s);
		f.j.unused = unused;
		f.j.nunused = 3;
	}

	o.max_frames = 0;
	o.max_sites = 0;
	s = summary(&f.j, &o);
	ck_assert_has(s, "      #3 __libc_start_call_main+0x7a [libc.so.6]\n");
	ck_assert_lacks(s, "more frame");
	ck_assert_lacks(s, "more failing site");
	free(s);
}
END_TEST

START_TEST(test_verdict_lines)
{
	struct fixture f;
	struct summary_opts o = { .tool = "gate" };
	char *s;

	/* Only leaks: the classic line. */
	fixture_init(&f, 4242);
	f.j.nprocs = 1;
	f.j.lost_data = 0;
	f.pj[0].nsites = 3;
	f.sites[0].bytes = 200;
	f.sites[1].bytes = 24;
	f.sites[1].allocs = 3;
	f.sj[2] = f.sj[FX_SITE_WEIRD];
	f.j.leaked_bytes = 240;
	f.j.leaked_allocs = 5;
	s = summary(&f.j, &o);
	ck_assert_str_eq(last_line(s), "gate: FAIL: 3 leak sites, 240 bytes in 5 allocations "
				       "(budget 0 bytes, 0 allocations)");
	free(s);

	/* A clean run. */
	fixture_clean(&f);
	s = summary(&f.j, NULL);
	ck_assert_str_eq(s, "memleak-run: OK: no leaks\n");
	free(s);

	/* Leaks the run's budget allows: named, and the verdict says within what. */
	fixture_init(&f, 4242);
	f.j.over_budget = f.j.lost_data = 0;
	f.procs[1].lost = (struct lost_counts){ 0 };
	f.sj[FX_SITE_CACHE].verdict = SITE_WITHIN_BUDGET;
	f.j.nunused = f.j.nloose = 0;
	o = (struct summary_opts){ .max_leaked_bytes = 10000, .max_leaked_allocs = 100 };
	s = summary(&f.j, &o);
	ck_assert_has(s, "  within the run's budget: 320 bytes in 5 allocations: " FX_NAME_LIST
			 "\n");
	ck_assert_lacks(s, "#0 make_node");
	ck_assert_str_eq(last_line(s), "memleak-run: OK: 4440 bytes in 8 allocations not freed, "
				       "within the run's budget (10000 bytes, 100 allocations) (3 "
				       "suppressed sites)");
	free(s);

	/* Only a rule over its budget. */
	fixture_init(&f, 4242);
	f.j.lost_data = 0;
	f.procs[1].lost = (struct lost_counts){ 0 };
	o = (struct summary_opts){ .max_leaked_bytes = 10000, .max_leaked_allocs = 100 };
	s = summary(&f.j, &o);
	ck_assert_str_eq(last_line(s), "memleak-run: FAIL: 1 site over the budget of its "
				       "suppression");
	ck_assert_has(s, "1 failing site, 200 bytes in 2 allocations\n");
	free(s);
}
END_TEST

START_TEST(test_program_failure_and_quiet_processes)
{
	struct fixture f;
	char *s;

	/* The program crashed without leaking: its line says how it ended. */
	fixture_clean(&f);
	f.procs[0].term_signal = SIGSEGV;
	s = summary(&f.j, NULL);
	ck_assert_has(s, "memleak-run: leaky[100] killed by signal 11 (SIGSEGV)\n");
	ck_assert_str_eq(last_line(s), "memleak-run: program failed: killed by signal 11 "
				       "(SIGSEGV); no leaks");
	free(s);

	/* Failed with a status, and leaked too: both on the last line. */
	fixture_init(&f, 4242);
	f.procs[0].exit_code = 3;
	s = summary(&f.j, NULL);
	ck_assert_str_eq(last_line(s), "memleak-run: program failed: exited with status 3; FAIL: "
				       "4 leak sites, 4440 bytes in 8 allocations (budget 0 bytes, "
				       "0 allocations); 1 site over the budget of its suppression; "
				       "events lost in 1 process: the result is incomplete");
	free(s);

	/* Leaks within the run's budget: still not OK. */
	fixture_init(&f, 4242);
	f.j.over_budget = f.j.lost_data = 0;
	f.procs[0].term_signal = SIGABRT;
	s = summary(&f.j, &(struct summary_opts){ .max_leaked_bytes = 10000,
						  .max_leaked_allocs = 100 });
	ck_assert_str_eq(last_line(s), "memleak-run: program failed: killed by signal 6 (SIGABRT); "
				       "4440 bytes in 8 allocations not freed, within the run's "
				       "budget (10000 bytes, 100 allocations) (2 suppressed sites)");
	ck_assert_lacks(s, "OK");
	free(s);

	/* A child that failed is the program's business: the verdict is the gate's. */
	fixture_clean(&f);
	f.procs[0].exit_code = 0;
	s = summary(&f.j, NULL);
	ck_assert_str_eq(last_line(s), "memleak-run: OK: no leaks");
	free(s);

	/* A process with nothing but suppressed sites gets no block, only a total. */
	fixture_init(&f, 4242);
	f.j.nprocs = 1;
	f.j.lost_data = 0;
	f.j.over_budget = 0;
	f.sj[FX_SITE_CACHE].verdict = SITE_WITHIN_BUDGET;
	f.pj[0].sites = &f.sj[FX_SITE_CACHE];
	f.pj[0].nsites = 3;
	f.pj[0].leaked_bytes = f.pj[0].leaked_allocs = 0;
	f.j.leaked_bytes = f.j.leaked_allocs = 0;
	f.j.nunused = f.j.nloose = 0;
	s = summary(&f.j, NULL);
	ck_assert_str_eq(s, "memleak-run: suppressed in 1 process: 336 bytes in 4 allocations from "
			    "3 sites\nmemleak-run: OK: no leaks (3 suppressed sites)\n");
	free(s);
}
END_TEST

START_TEST(test_no_control_characters)
{
	struct fixture f;
	char *s;

	fixture_init(&f, 4242);
	s = summary(&f.j, NULL);
	ck_assert_has(s, "  leak: 16 bytes in 1 allocation, definitely lost: " FX_NAME_WEIRD_CLEAN "\n"
			 "      #0 " FX_NAME_WEIRD_CLEAN "+0x4 (we<ird>&.c:5) [leaky]\n");
	for (const unsigned char *p = (const unsigned char *)s; *p; p++)
		ck_assert_msg(*p >= 0x20 || *p == '\n', "control character 0x%02x", *p);
	free(s);
}
END_TEST

static ssize_t count_write(void *cookie, const char *buf, size_t size)
{
	(void)buf;
	++*(int *)cookie;
	return (ssize_t)size;
}

/* Written to an unbuffered stream (stderr) in one piece, not one write per fragment. */
START_TEST(test_one_write)
{
	cookie_io_functions_t io = { .write = count_write };
	struct fixture f;
	int writes = 0;
	FILE *out = fopencookie(&writes, "w", io);

	ck_assert_ptr_nonnull(out);
	setvbuf(out, NULL, _IONBF, 0);
	fixture_init(&f, 4242);
	summary__print(out, &f.j, NULL);
	fclose(out);
	ck_assert_int_eq(writes, 1);
}
END_TEST

static Suite *suite(void)
{
	Suite *s = suite_create("summary");
	TCase *tc = tcase_create("text");

	tcase_add_test(tc, test_failing_sites_with_stacks);
	tcase_add_test(tc, test_limits);
	tcase_add_test(tc, test_verdict_lines);
	tcase_add_test(tc, test_program_failure_and_quiet_processes);
	tcase_add_test(tc, test_no_control_characters);
	tcase_add_test(tc, test_one_write);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return test_run_suite(suite());
}
