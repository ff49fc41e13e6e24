/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * The verdict on a run: site verdicts, rule and run budgets, lost data, unused and loose
 * rules, and the stable names sites are reported under.
 *
 * Records are built by hand: frames innermost first, frames[0] the allocator's caller.
 */
#include <check.h>
#include <errno.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "assertions/judge.h"
#include "assertions/suppressions.h"
#include "tests/testutil.h"

#define LIBC "/usr/lib/x86_64-linux-gnu/libc.so.6"
#define LDSO "/lib64/ld-linux-x86-64.so.2"
#define LIBSTDCXX "/usr/lib/x86_64-linux-gnu/libstdc++.so.6.0.30"
#define APP "/home/u/proj/app"
#define SRC "/home/u/proj/leaky.c"

#define F(fn, mod) { .addr = 0x401136, .offset = 0x16, .function = (fn), .module = (mod) }
#define FL(fn, mod, src, ln)                                                               \
	{ .addr = 0x401136, .offset = 0x16, .function = (fn), .module = (mod),             \
	  .file = (src), .line = (ln) }
/* A frame at another address and offset, as after a rebuild. */
#define FA(fn, mod, src, ln, a, o)                                                         \
	{ .addr = (a), .offset = (o), .function = (fn), .module = (mod), .file = (src),    \
	  .line = (ln) }
#define STACK(...)                                                                         \
	.frames = (struct frame[]){ __VA_ARGS__ },                                         \
	.nframes = sizeof((struct frame[]){ __VA_ARGS__ }) / sizeof(struct frame)
#define PROC(p, s)                                                                         \
	{ .pid = (p), .ppid = 1, .comm = "app", .exe = APP, .exited = 1, .sites = (s),     \
	  .nsites = sizeof(s) / sizeof((s)[0]) }

/* --- helpers ----------------------------------------------------------------------------- */

static struct suppressions *load_ok(const char *text)
{
	struct suppressions *s = suppressions__new();
	char err[512];
	int ret;

	ck_assert_ptr_nonnull(s);
	ret = suppressions__load_string(s, "test.supp", text, err, sizeof(err));
	ck_assert_msg(ret == 0, "loading failed (%d): %s", ret, err);
	return s;
}

/* The judgement of a site, found by the record it judges. */
static const struct site_judgement *judged(const struct judgement *j,
					   const struct leak_site *site)
{
	for (size_t p = 0; p < j->nprocs; p++) {
		for (size_t k = 0; k < j->procs[p].nsites; k++) {
			if (j->procs[p].sites[k].site == site)
				return &j->procs[p].sites[k];
		}
	}
	ck_abort_msg("site not judged");
	return NULL;
}

static char *name_of(const struct leak_site *site)
{
	char *name = site_name(site);

	ck_assert_ptr_nonnull(name);
	return name;
}

static int listed(const struct suppression_rule *const *rules, size_t n, const char *name)
{
	for (size_t i = 0; i < n; i++) {
		if (!strcmp(rules[i]->name, name))
			return 1;
	}
	return 0;
}

/* --- verdicts ------------------------------------------------------------------------------ */

START_TEST(test_verdicts)
{
	struct suppressions *s = load_ok("leak accepted\n\tfun:cache_init\n"
					 "leak bounded\n\tfun:pool_grow\n\tbudget: 1000 bytes\n"
					 "leak tight\n\tfun:tight_alloc\n\tbudget: 10 bytes\n");
	struct leak_site sites[] = {
		{ .bytes = 300, .allocs = 3, STACK(FL("make_node", APP, SRC, 17),
						   FL("main", APP, SRC, 40)) },
		{ .bytes = 200, .allocs = 1, STACK(FL("cache_init", APP, SRC, 50),
						   FL("main", APP, SRC, 41)) },
		{ .bytes = 500, .allocs = 5, STACK(FL("pool_grow", APP, SRC, 60),
						   FL("main", APP, SRC, 42)) },
		{ .bytes = 11, .allocs = 1, STACK(FL("tight_alloc", APP, SRC, 70),
						  FL("main", APP, SRC, 43)) },
	};
	struct proc_record proc = PROC(100, sites);
	struct judge_opts opts = { .max_leaked_bytes = 1000, .max_leaked_allocs = 10 };
	struct judgement *j = judge__run(&proc, 1, s, &opts);
	const struct site_judgement *sj;
	const struct proc_judgement *pj;

	ck_assert_ptr_nonnull(j);
	ck_assert_uint_eq(j->nprocs, 1);
	pj = &j->procs[0];
	ck_assert_ptr_eq(pj->proc, &proc);
	ck_assert_uint_eq(pj->nsites, 4);

	sj = judged(j, &sites[0]);
	ck_assert_int_eq(sj->verdict, SITE_LEAK);
	ck_assert_ptr_null(sj->rule);
	sj = judged(j, &sites[1]);
	ck_assert_int_eq(sj->verdict, SITE_SUPPRESSED);
	ck_assert_ptr_nonnull(sj->rule);
	ck_assert_str_eq(sj->rule->name, "accepted");
	sj = judged(j, &sites[2]);
	ck_assert_int_eq(sj->verdict, SITE_WITHIN_BUDGET);
	ck_assert_str_eq(sj->rule->name, "bounded");
	sj = judged(j, &sites[3]);
	ck_assert_int_eq(sj->verdict, SITE_OVER_BUDGET);
	ck_assert_str_eq(sj->rule->name, "tight");

	/* Leaks against the run's budget; suppressed and within budget apart; over neither. */
	ck_assert_uint_eq(pj->leaked_bytes, 300);
	ck_assert_uint_eq(pj->leaked_allocs, 3);
	ck_assert_uint_eq(pj->suppressed_bytes, 700);
	ck_assert_uint_eq(pj->suppressed_allocs, 6);
	ck_assert_uint_eq(j->leaked_bytes, 300);
	ck_assert_uint_eq(j->leaked_allocs, 3);
	/* The leak fits the run's budget, but a rule's budget was exceeded. */
	ck_assert_int_eq(j->over_budget, 1);
	ck_assert_int_eq(j->lost_data, 0);
	ck_assert_int_eq(judgement__failed(j), 1);
	judgement__free(j);
	suppressions__free(s);
}
END_TEST

START_TEST(test_sites_most_bytes_first)
{
	struct leak_site sites[] = {
		{ .bytes = 10, .allocs = 1, STACK(F("small", APP)) },
		{ .bytes = 500, .allocs = 1, STACK(F("large", APP)) },
		{ .bytes = 100, .allocs = 1, STACK(F("mid_few", APP)) },
		{ .bytes = 100, .allocs = 9, STACK(F("mid_many", APP)) },
	};
	struct proc_record proc = PROC(1, sites);
	struct judgement *j = judge__run(&proc, 1, NULL, NULL);

	ck_assert_ptr_nonnull(j);
	ck_assert_ptr_eq(j->procs[0].sites[0].site, &sites[1]);
	ck_assert_ptr_eq(j->procs[0].sites[1].site, &sites[3]);
	ck_assert_ptr_eq(j->procs[0].sites[2].site, &sites[2]);
	ck_assert_ptr_eq(j->procs[0].sites[3].site, &sites[0]);
	/* Without rules every site is a leak. */
	for (size_t k = 0; k < 4; k++)
		ck_assert_int_eq(j->procs[0].sites[k].verdict, SITE_LEAK);
	ck_assert_uint_eq(j->leaked_bytes, 710);
	ck_assert_uint_eq(j->leaked_allocs, 12);
	ck_assert_int_eq(judgement__failed(j), 1);
	judgement__free(j);
}
END_TEST

START_TEST(test_rule_budget_largest_first_and_across_processes)
{
	struct suppressions *s = load_ok("leak cache\n\tfun:cache_put\n\tbudget: 100 bytes\n");
	struct leak_site first[] = {
		{ .bytes = 30, .allocs = 1, STACK(F("cache_put", APP), F("small_path", APP)) },
		{ .bytes = 80, .allocs = 1, STACK(F("cache_put", APP), F("big_path", APP)) },
	};
	struct leak_site second[] = {
		{ .bytes = 1, .allocs = 1, STACK(F("cache_put", APP), F("main", APP)) },
	};
	struct proc_record procs[] = { PROC(1, first), PROC(2, second) };
	struct judgement *j = judge__run(procs, 2, s, NULL);

	ck_assert_ptr_nonnull(j);
	/* The largest site is charged first and fits; the one that takes it over fails. */
	ck_assert_int_eq(judged(j, &first[1])->verdict, SITE_WITHIN_BUDGET);
	ck_assert_int_eq(judged(j, &first[0])->verdict, SITE_OVER_BUDGET);
	/* The budget is the whole run's: a later process is over it too. */
	ck_assert_int_eq(judged(j, &second[0])->verdict, SITE_OVER_BUDGET);
	ck_assert_uint_eq(j->procs[0].suppressed_bytes, 80);
	ck_assert_uint_eq(j->procs[1].suppressed_bytes, 0);
	ck_assert_uint_eq(j->leaked_bytes, 0);
	ck_assert_int_eq(judgement__failed(j), 1);
	judgement__free(j);
	suppressions__free(s);
}
END_TEST

START_TEST(test_rule_budget_per_process)
{
	struct suppressions *s = load_ok("leak init\n\tfun:init_once\n"
					 "\tbudget: 64 bytes, 1 alloc per process\n");
	struct leak_site once[] = { { .bytes = 64, .allocs = 1, STACK(F("init_once", APP)) } };
	struct leak_site twice[] = { { .bytes = 64, .allocs = 2, STACK(F("init_once", APP)) } };
	struct proc_record ok[] = { PROC(1, once), PROC(2, once), PROC(3, once) };
	struct proc_record bad[] = { PROC(1, once), PROC(2, twice) };
	struct judgement *j = judge__run(ok, 3, s, NULL);

	ck_assert_ptr_nonnull(j);
	for (size_t p = 0; p < 3; p++)
		ck_assert_int_eq(j->procs[p].sites[0].verdict, SITE_WITHIN_BUDGET);
	ck_assert_int_eq(judgement__failed(j), 0);
	ck_assert_uint_eq(j->nloose, 0);
	judgement__free(j);

	suppressions__reset_counters(s);
	j = judge__run(bad, 2, s, NULL);
	ck_assert_ptr_nonnull(j);
	ck_assert_int_eq(j->procs[0].sites[0].verdict, SITE_WITHIN_BUDGET);
	ck_assert_int_eq(j->procs[1].sites[0].verdict, SITE_OVER_BUDGET);
	ck_assert_int_eq(judgement__failed(j), 1);
	judgement__free(j);
	suppressions__free(s);
}
END_TEST

/* --- the run's budget and lost data ---------------------------------------------------------- */

static int run_fails(uint64_t bytes, uint64_t allocs, const struct judge_opts *opts)
{
	struct leak_site sites[] = {
		{ .bytes = bytes, .allocs = allocs, STACK(F("make_node", APP), F("main", APP)) },
	};
	struct proc_record proc = PROC(1, sites);
	struct judgement *j = judge__run(&proc, 1, NULL, opts);
	int failed;

	ck_assert_ptr_nonnull(j);
	ck_assert_uint_eq(j->leaked_bytes, bytes);
	ck_assert_uint_eq(j->leaked_allocs, allocs);
	failed = judgement__failed(j);
	ck_assert_int_eq(failed, j->over_budget);
	judgement__free(j);
	return failed;
}

START_TEST(test_run_budget)
{
	struct judge_opts opts = { .max_leaked_bytes = 100, .max_leaked_allocs = 2 };
	struct judge_opts bytes_only = { .max_leaked_bytes = 100,
					 .max_leaked_allocs = UINT64_MAX };

	ck_assert_int_eq(run_fails(100, 2, &opts), 0);
	ck_assert_int_eq(run_fails(99, 1, &opts), 0);
	ck_assert_int_eq(run_fails(101, 2, &opts), 1);
	ck_assert_int_eq(run_fails(100, 3, &opts), 1);
	ck_assert_int_eq(run_fails(100, 1000, &bytes_only), 0);
	ck_assert_int_eq(run_fails(101, 1, &bytes_only), 1);
	/* The default budget is zero. */
	ck_assert_int_eq(run_fails(1, 1, NULL), 1);
	ck_assert_int_eq(run_fails(1, 1, &(struct judge_opts){ 0 }), 1);
}
END_TEST

START_TEST(test_run_budget_spans_processes)
{
	struct leak_site a[] = { { .bytes = 60, .allocs = 1, STACK(F("a", APP)) } };
	struct leak_site b[] = { { .bytes = 60, .allocs = 1, STACK(F("b", APP)) } };
	struct proc_record procs[] = { PROC(1, a), PROC(2, b) };
	struct judge_opts opts = { .max_leaked_bytes = 100, .max_leaked_allocs = 10 };
	struct judgement *j = judge__run(procs, 2, NULL, &opts);

	ck_assert_ptr_nonnull(j);
	ck_assert_uint_eq(j->procs[0].leaked_bytes, 60);
	ck_assert_uint_eq(j->procs[1].leaked_bytes, 60);
	ck_assert_uint_eq(j->leaked_bytes, 120);
	ck_assert_int_eq(judgement__failed(j), 1);
	judgement__free(j);

	/* One process alone fits. */
	j = judge__run(procs, 1, NULL, &opts);
	ck_assert_ptr_nonnull(j);
	ck_assert_int_eq(judgement__failed(j), 0);
	judgement__free(j);
}
END_TEST

START_TEST(test_clean_run_passes)
{
	struct proc_record procs[] = {
		{ .pid = 1, .comm = "app", .exited = 1 },
		{ .pid = 2, .comm = "app", .exited = 1 },
	};
	struct judgement *j = judge__run(procs, 2, NULL, NULL);

	ck_assert_ptr_nonnull(j);
	ck_assert_uint_eq(j->nprocs, 2);
	ck_assert_uint_eq(j->procs[1].nsites, 0);
	ck_assert_int_eq(j->over_budget, 0);
	ck_assert_int_eq(j->lost_data, 0);
	ck_assert_int_eq(judgement__failed(j), 0);
	judgement__free(j);

	j = judge__run(NULL, 0, NULL, NULL);
	ck_assert_ptr_nonnull(j);
	ck_assert_int_eq(judgement__failed(j), 0);
	judgement__free(j);
	/* No judgement cannot pass. */
	ck_assert_int_eq(judgement__failed(NULL), 1);
	judgement__free(NULL);
}
END_TEST

START_TEST(test_lost_data_fails)
{
	static const size_t counted[] = {
		offsetof(struct lost_counts, map_full),
		offsetof(struct lost_counts, stack_errors),
		offsetof(struct lost_counts, nest_overflow),
		offsetof(struct lost_counts, unmatched_returns),
		offsetof(struct lost_counts, ringbuf_drops),
		offsetof(struct lost_counts, recursion_misses),
	};
	for (size_t i = 0; i < sizeof(counted) / sizeof(counted[0]); i++) {
		struct proc_record procs[] = {
			{ .pid = 1, .comm = "app", .exited = 1 },
			{ .pid = 2, .comm = "app", .exited = 1 },
		};
		struct judgement *j;

		/* In the second process, so that one clean process does not hide it. */
		*(uint64_t *)((char *)&procs[1].lost + counted[i]) = 1;
		j = judge__run(procs, 2, NULL, NULL);
		ck_assert_ptr_nonnull(j);
		ck_assert_msg(j->lost_data == 1, "lost counter at offset %zu ignored", counted[i]);
		ck_assert_int_eq(j->over_budget, 0);
		ck_assert_int_eq(judgement__failed(j), 1);
		judgement__free(j);
	}
}
END_TEST

START_TEST(test_corrected_missed_frees_do_not_fail)
{
	/* An address handed out again while tracked is corrected by the tracer, not lost. */
	struct proc_record proc = { .pid = 1, .comm = "app", .exited = 1,
				    .lost = { .missed_frees = 3 } };
	struct judgement *j = judge__run(&proc, 1, NULL, NULL);

	ck_assert_ptr_nonnull(j);
	ck_assert_int_eq(j->lost_data, 0);
	ck_assert_int_eq(judgement__failed(j), 0);
	judgement__free(j);
}
END_TEST

/* --- unused and loose rules ------------------------------------------------------------------ */

START_TEST(test_unused_and_loose_rules)
{
	struct suppressions *s = load_ok("leak exact\n\tfun:a\n\tbudget: 100 bytes, 2 allocs\n"
					 "leak loose\n\tfun:b\n\tbudget: 1000 bytes\n"
					 "leak loose allocs\n\tfun:c\n\tbudget: 5 allocs\n"
					 "leak plain\n\tfun:d\n"
					 "leak unused\n\tfun:zzz\n"
					 "leak unused budget\n\tfun:yyy\n\tbudget: 5 bytes\n"
					 "leak:never_seen_anywhere\n");
	struct leak_site sites[] = {
		{ .bytes = 100, .allocs = 2, STACK(F("a", APP)) },
		{ .bytes = 10, .allocs = 1, STACK(F("b", APP)) },
		{ .bytes = 10, .allocs = 1, STACK(F("c", APP)) },
		{ .bytes = 10, .allocs = 1, STACK(F("d", APP)) },
		{ .bytes = 1024, .allocs = 1, STACK(F("_IO_file_doallocate", LIBC)) },
	};
	struct proc_record proc = PROC(1, sites);
	struct judgement *j;

	ck_assert_int_eq(suppressions__add_defaults(s), 0);
	j = judge__run(&proc, 1, s, NULL);
	ck_assert_ptr_nonnull(j);
	ck_assert_int_eq(judged(j, &sites[4])->verdict, SITE_SUPPRESSED);
	ck_assert_int_eq(judged(j, &sites[4])->rule->origin, SUPP_BUILTIN);

	ck_assert_uint_eq(j->nunused, 3);
	ck_assert(listed(j->unused, j->nunused, "unused"));
	ck_assert(listed(j->unused, j->nunused, "unused budget"));
	ck_assert(listed(j->unused, j->nunused, "leak:never_seen_anywhere"));
	/* Built-in rules are not listed, used or not. */
	for (size_t i = 0; i < j->nunused; i++)
		ck_assert_int_ne(j->unused[i]->origin, SUPP_BUILTIN);

	ck_assert_uint_eq(j->nloose, 2);
	ck_assert(listed(j->loose, j->nloose, "loose"));
	ck_assert(listed(j->loose, j->nloose, "loose allocs"));
	ck_assert(!listed(j->loose, j->nloose, "exact"));
	/* Neither list fails the run. */
	ck_assert_int_eq(judgement__failed(j), 0);
	judgement__free(j);
	suppressions__free(s);
}
END_TEST

/* --- site names ------------------------------------------------------------------------------ */

START_TEST(test_site_name_format)
{
	struct leak_site leaky = {
		.bytes = 64, .allocs = 2,
		STACK(FL("make_node.constprop.0", APP, SRC, 17),
		      FL("build_list.isra.0", APP, SRC, 32), FL("main", APP, SRC, 47),
		      F("__libc_start_call_main", LIBC), F("__libc_start_main_impl", LIBC),
		      F("_start", APP)),
	};
	struct leak_site deep = {
		.bytes = 8, .allocs = 1,
		STACK(FL("f1", APP, "/p/deep.c", 1), F("f2", APP), F("f3", APP), F("f4", APP),
		      F("f5", APP), F("main", APP)),
	};
	struct leak_site nameless = {
		.bytes = 8, .allocs = 1,
		STACK(F(NULL, "/home/u/proj/lib/libcache.so.1.2"),
		      FL("load", APP, "/home/u/proj/src/load.c", 5), { .addr = 0x1234 },
		      F("main", APP)),
	};
	struct leak_site cxx = {
		.bytes = 8, .allocs = 1,
		STACK(F("void std::vector<int, std::allocator<int> >::_M_realloc_insert<int "
			"const&>(__gnu_cxx::__normal_iterator<int*, std::vector<int, "
			"std::allocator<int> > >, int const&)", APP),
		      F("std::vector<int, std::allocator<int> >::push_back(int const&)", APP),
		      FL("fill(std::vector<int, std::allocator<int> >&)", APP,
			 "/home/u/proj/cxx.cc", 12),
		      FL("main", APP, "/home/u/proj/cxx.cc", 30)),
	};
	struct leak_site system_only = {
		.bytes = 8, .allocs = 1,
		STACK(F("_IO_file_doallocate", LIBC), F("_IO_doallocbuf", LIBC)),
	};
	struct leak_site empty = { .bytes = 8, .allocs = 1 };
	char *name;

	name = name_of(&leaky);
	ck_assert_str_eq(name, "make_node < build_list < main (leaky.c)");
	free(name);
	name = name_of(&deep);
	ck_assert_str_eq(name, "f1 < f2 < f3 < f4 (deep.c)");
	free(name);
	name = name_of(&nameless);
	ck_assert_str_eq(name, "[libcache.so] < load < [unknown] < main (load.c)");
	free(name);
	name = name_of(&cxx);
	ck_assert_str_eq(name, "fill(std::vector<int, std::allocator<int> >&) < main (cxx.cc)");
	free(name);
	name = name_of(&system_only);
	ck_assert_str_eq(name, "_IO_file_doallocate < _IO_doallocbuf");
	free(name);
	name = name_of(&empty);
	ck_assert_str_eq(name, "[no stack]");
	free(name);
	ck_assert_ptr_null(site_name(NULL));
	ck_assert_int_eq(errno, EINVAL);
}
END_TEST

START_TEST(test_site_name_long_function_cut)
{
	char fn[200];
	struct leak_site site = { .bytes = 8, .allocs = 1, STACK(F(fn, APP), F("main", APP)) };
	char *name;

	memset(fn, 'x', 150);
	fn[150] = '\0';
	name = name_of(&site);
	ck_assert_uint_eq(strlen(name), 80 + strlen(" < main"));
	ck_assert(!strncmp(name + 77, "... < main", 10));
	free(name);
}
END_TEST

START_TEST(test_site_name_stable)
{
	/* The same leak after a rebuild elsewhere: other addresses, offsets, lines, paths. */
	struct leak_site before = {
		.bytes = 64, .allocs = 2,
		STACK(FA("make_node.constprop.0", APP, SRC, 17, 0x401136, 0x16),
		      FA("build_list", APP, SRC, 32, 0x4011a0, 0x20),
		      FA("main", APP, SRC, 47, 0x401040, 0x30),
		      FA("__libc_start_call_main", LIBC, NULL, 0, 0x7f0000029d90, 0x80)),
	};
	struct leak_site after = {
		.bytes = 128, .allocs = 4,
		STACK(FA("make_node", "/build/ci-42/app", "/build/ci-42/leaky.c", 19,
			 0x555555555189, 0x1d),
		      FA("build_list.part.0", "/build/ci-42/app", "/build/ci-42/leaky.c", 36,
			 0x555555555200, 0x2f),
		      FA("main", "/build/ci-42/app", "/build/ci-42/leaky.c", 51, 0x555555555080,
			 0x41)),
	};
	struct leak_site other_function = {
		.bytes = 64, .allocs = 2,
		STACK(FL("make_tree", APP, SRC, 17), FL("build_list", APP, SRC, 32),
		      FL("main", APP, SRC, 47)),
	};
	struct leak_site other_caller = {
		.bytes = 64, .allocs = 2,
		STACK(FL("make_node", APP, SRC, 17), FL("build_tree", APP, SRC, 32),
		      FL("main", APP, SRC, 47)),
	};
	char *a = name_of(&before), *b = name_of(&after);
	char *c = name_of(&other_function), *d = name_of(&other_caller);

	ck_assert_str_eq(a, b);
	ck_assert_str_ne(a, c);
	ck_assert_str_ne(a, d);
	ck_assert_str_ne(c, d);
	/* No address, offset or line in any form. */
	ck_assert_ptr_null(strstr(a, "17"));
	ck_assert_ptr_null(strstr(a, "0x"));
	ck_assert_ptr_null(strstr(a, "401"));
	free(a);
	free(b);
	free(c);
	free(d);
}
END_TEST

START_TEST(test_site_names_in_judgement_stable)
{
	struct leak_site run1[] = {
		{ .bytes = 64, .allocs = 2, STACK(FA("make_node", APP, SRC, 17, 0x401136, 0x16),
						  FA("main", APP, SRC, 47, 0x401040, 0x30)) },
		{ .bytes = 32, .allocs = 1, STACK(FA("read_config", APP, SRC, 90, 0x401500, 0x9),
						  FA("main", APP, SRC, 48, 0x401050, 0x40)) },
	};
	struct leak_site run2[] = {
		{ .bytes = 32, .allocs = 1, STACK(FA("read_config", APP, SRC, 91, 0x55000500, 0xa),
						  FA("main", APP, SRC, 49, 0x55000050, 0x41)) },
		{ .bytes = 64, .allocs = 2, STACK(FA("make_node", APP, SRC, 18, 0x55000136, 0x17),
						  FA("main", APP, SRC, 50, 0x55000040, 0x31)) },
	};
	struct proc_record p1 = PROC(10, run1), p2 = PROC(20, run2);
	struct judgement *j1 = judge__run(&p1, 1, NULL, NULL);
	struct judgement *j2 = judge__run(&p2, 1, NULL, NULL);

	ck_assert_ptr_nonnull(j1);
	ck_assert_ptr_nonnull(j2);
	ck_assert_str_eq(judged(j1, &run1[0])->name, judged(j2, &run2[1])->name);
	ck_assert_str_eq(judged(j1, &run1[1])->name, judged(j2, &run2[0])->name);
	ck_assert_str_ne(judged(j1, &run1[0])->name, judged(j1, &run1[1])->name);
	ck_assert_str_eq(judged(j1, &run1[0])->name, "make_node < main (leaky.c)");
	judgement__free(j1);
	judgement__free(j2);
}
END_TEST

START_TEST(test_duplicate_names_numbered)
{
	/* Two and three calls of malloc in one function: the same functions all the way. */
	struct leak_site sites[] = {
		{ .bytes = 32, .allocs = 1, STACK(FL("make_pair", APP, SRC, 18),
						  FL("main", APP, SRC, 40)) },
		{ .bytes = 64, .allocs = 1, STACK(FL("make_pair", APP, SRC, 17),
						  FL("main", APP, SRC, 40)) },
		{ .bytes = 16, .allocs = 1, STACK(FL("make_pair", APP, SRC, 19),
						  FL("main", APP, SRC, 40)) },
		{ .bytes = 8, .allocs = 1, STACK(FL("other", APP, SRC, 30),
						 FL("main", APP, SRC, 41)) },
	};
	struct leak_site one[] = { sites[0] }, two[] = { sites[1] };
	struct proc_record proc = PROC(1, sites);
	struct proc_record procs[] = { PROC(2, one), PROC(3, two) };
	struct judgement *j = judge__run(&proc, 1, NULL, NULL);

	ck_assert_ptr_nonnull(j);
	/* Numbered largest first. */
	ck_assert_str_eq(judged(j, &sites[1])->name, "make_pair < main (leaky.c)");
	ck_assert_str_eq(judged(j, &sites[0])->name, "make_pair < main (leaky.c) #2");
	ck_assert_str_eq(judged(j, &sites[2])->name, "make_pair < main (leaky.c) #3");
	ck_assert_str_eq(judged(j, &sites[3])->name, "other < main (leaky.c)");
	judgement__free(j);

	/* The same leak in several processes keeps one name. */
	j = judge__run(procs, 2, NULL, NULL);
	ck_assert_ptr_nonnull(j);
	ck_assert_str_eq(j->procs[0].sites[0].name, "make_pair < main (leaky.c)");
	ck_assert_str_eq(j->procs[1].sites[0].name, "make_pair < main (leaky.c)");
	judgement__free(j);
}
END_TEST

START_TEST(test_shared_prefix_disambiguated)
{
	struct leak_site sites[] = {
		{ .bytes = 64, .allocs = 1, STACK(FL("a", APP, SRC, 1), F("b", APP), F("c", APP),
						  F("d", APP), F("via_e", APP), F("main", APP)) },
		{ .bytes = 32, .allocs = 1, STACK(FL("a", APP, SRC, 1), F("b", APP), F("c", APP),
						  F("d", APP), F("via_f", APP), F("main", APP)) },
	};
	struct proc_record proc = PROC(1, sites);
	struct proc_record alone = { .pid = 1, .comm = "app", .exited = 1, .sites = sites,
				     .nsites = 1 };
	struct judgement *j = judge__run(&proc, 1, NULL, NULL);
	struct judgement *again = judge__run(&proc, 1, NULL, NULL);
	const char *e, *f;

	ck_assert_ptr_nonnull(j);
	ck_assert_ptr_nonnull(again);
	e = judged(j, &sites[0])->name;
	f = judged(j, &sites[1])->name;
	ck_assert_str_ne(e, f);
	ck_assert_msg(!strncmp(e, "a < b < c < d (leaky.c) [", 25), "'%s'", e);
	ck_assert_msg(!strncmp(f, "a < b < c < d (leaky.c) [", 25), "'%s'", f);
	ck_assert_uint_eq(strlen(e), 25 + 9);
	ck_assert_ptr_null(strchr(e, '#'));
	/* Deterministic: the same names on the next run. */
	ck_assert_str_eq(e, judged(again, &sites[0])->name);
	ck_assert_str_eq(f, judged(again, &sites[1])->name);
	judgement__free(j);
	judgement__free(again);

	/* Alone, a site needs no hash. */
	j = judge__run(&alone, 1, NULL, NULL);
	ck_assert_ptr_nonnull(j);
	ck_assert_str_eq(j->procs[0].sites[0].name, "a < b < c < d (leaky.c)");
	judgement__free(j);
}
END_TEST

START_TEST(test_own_frame)
{
	struct leak_site with_line = {
		.bytes = 8, .allocs = 1,
		STACK(F("__strdup", LIBC), F("helper", APP),
		      FL("parse_args", APP, "/home/u/proj/args.c", 21), FL("main", APP, SRC, 5)),
	};
	struct leak_site without_line = {
		.bytes = 8, .allocs = 1,
		STACK(F("__strdup", LIBC), F("helper", "/home/u/proj/libhelp.so"), F("g", APP)),
	};
	struct leak_site system_only = {
		.bytes = 8, .allocs = 1,
		STACK(F("allocate_dtv", LDSO), F("_dl_allocate_tls", LDSO),
		      F("pthread_create@@GLIBC_2.34", LIBC), F(NULL, "[kernel]"),
		      F("operator new(unsigned long)", LIBSTDCXX), F(NULL, NULL)),
	};
	struct leak_site sites[] = { with_line };
	struct proc_record proc = PROC(1, sites);
	struct judgement *j;

	ck_assert_ptr_eq(site_own_frame(&with_line), &with_line.frames[2]);
	ck_assert_ptr_eq(site_own_frame(&without_line), &without_line.frames[1]);
	ck_assert_ptr_null(site_own_frame(&system_only));
	ck_assert_ptr_null(site_own_frame(NULL));

	j = judge__run(&proc, 1, NULL, NULL);
	ck_assert_ptr_nonnull(j);
	ck_assert_ptr_eq(j->procs[0].sites[0].own_frame, &sites[0].frames[2]);
	ck_assert_str_eq(j->procs[0].sites[0].name,
			 "__strdup < helper < parse_args < main (args.c)");
	judgement__free(j);
}
END_TEST

START_TEST(test_builtin_defaults_in_judgement)
{
	struct suppressions *s = suppressions__new();
	struct leak_site sites[] = {
		{ .bytes = 1024, .allocs = 1, STACK(F("_IO_file_doallocate", LIBC)) },
		{ .bytes = 272, .allocs = 1, STACK(F("allocate_dtv", LDSO)) },
		{ .bytes = 48, .allocs = 3, STACK(FL("make_node", APP, SRC, 17),
						  FL("main", APP, SRC, 30)) },
	};
	struct proc_record proc = PROC(1, sites);
	struct judge_opts opts = { .max_leaked_bytes = 48, .max_leaked_allocs = 3 };
	struct judgement *j;

	ck_assert_int_eq(suppressions__add_defaults(s), 0);
	j = judge__run(&proc, 1, s, &opts);
	ck_assert_ptr_nonnull(j);
	ck_assert_int_eq(judged(j, &sites[0])->verdict, SITE_SUPPRESSED);
	ck_assert_str_eq(judged(j, &sites[0])->rule->name, "builtin:stdio-buffers");
	ck_assert_int_eq(judged(j, &sites[1])->verdict, SITE_SUPPRESSED);
	ck_assert_str_eq(judged(j, &sites[1])->rule->name, "builtin:dynamic-loader");
	ck_assert_int_eq(judged(j, &sites[2])->verdict, SITE_LEAK);
	ck_assert_uint_eq(j->leaked_bytes, 48);
	ck_assert_uint_eq(j->procs[0].suppressed_bytes, 1296);
	ck_assert_uint_eq(j->nunused, 0);
	ck_assert_int_eq(judgement__failed(j), 0);
	judgement__free(j);
	suppressions__free(s);
}
END_TEST

START_TEST(test_counters_accumulate_across_calls)
{
	/* Rule counters belong to the run: judging again without a reset adds up. */
	struct suppressions *s = load_ok("leak r\n\tfun:a\n\tbudget: 100 bytes\n");
	struct leak_site sites[] = { { .bytes = 60, .allocs = 1, STACK(F("a", APP)) } };
	struct proc_record proc = PROC(1, sites);
	struct judgement *j = judge__run(&proc, 1, s, NULL);

	ck_assert_ptr_nonnull(j);
	ck_assert_int_eq(j->procs[0].sites[0].verdict, SITE_WITHIN_BUDGET);
	judgement__free(j);
	j = judge__run(&proc, 1, s, NULL);
	ck_assert_ptr_nonnull(j);
	ck_assert_int_eq(j->procs[0].sites[0].verdict, SITE_OVER_BUDGET);
	judgement__free(j);
	suppressions__reset_counters(s);
	j = judge__run(&proc, 1, s, NULL);
	ck_assert_ptr_nonnull(j);
	ck_assert_int_eq(j->procs[0].sites[0].verdict, SITE_WITHIN_BUDGET);
	judgement__free(j);
	suppressions__free(s);
}
END_TEST

static Suite *suite(void)
{
	Suite *s = suite_create("judge");
	TCase *verdict = tcase_create("verdict");
	TCase *names = tcase_create("names");

	tcase_add_test(verdict, test_verdicts);
	tcase_add_test(verdict, test_sites_most_bytes_first);
	tcase_add_test(verdict, test_rule_budget_largest_first_and_across_processes);
	tcase_add_test(verdict, test_rule_budget_per_process);
	tcase_add_test(verdict, test_run_budget);
	tcase_add_test(verdict, test_run_budget_spans_processes);
	tcase_add_test(verdict, test_clean_run_passes);
	tcase_add_test(verdict, test_lost_data_fails);
	tcase_add_test(verdict, test_corrected_missed_frees_do_not_fail);
	tcase_add_test(verdict, test_unused_and_loose_rules);
	tcase_add_test(verdict, test_builtin_defaults_in_judgement);
	tcase_add_test(verdict, test_counters_accumulate_across_calls);
	suite_add_tcase(s, verdict);

	tcase_add_test(names, test_site_name_format);
	tcase_add_test(names, test_site_name_long_function_cut);
	tcase_add_test(names, test_site_name_stable);
	tcase_add_test(names, test_site_names_in_judgement_stable);
	tcase_add_test(names, test_duplicate_names_numbered);
	tcase_add_test(names, test_shared_prefix_disambiguated);
	tcase_add_test(names, test_own_frame);
	suite_add_tcase(s, names);
	return s;
}

int main(void)
{
	return test_run_suite(suite());
}
