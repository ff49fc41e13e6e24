/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * --gen-suppressions: the rules written for a run's leaks are read back and the same
 * records judged again. They must pass exactly, and fail on any growth or new leak.
 *
 * Records are built by hand: frames innermost first, frames[0] the allocator's caller.
 */
#include <check.h>
#include <dirent.h>
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "assertions/judge.h"
#include "assertions/suppressions.h"
#include "assertions/gen_suppressions.h"
#include "tests/testutil.h"

#define LIBC "/usr/lib/x86_64-linux-gnu/libc.so.6"
#define APP "/home/u/proj/app"
#define SRC "/home/u/proj/leaky.c"

#define F(fn, mod) { .addr = 0x401136, .offset = 0x16, .function = (fn), .module = (mod) }
#define FL(fn, mod, src, ln)                                                               \
	{ .addr = 0x401136, .offset = 0x16, .function = (fn), .module = (mod),             \
	  .file = (src), .line = (ln) }
#define STACK(...)                                                                         \
	.frames = (struct frame[]){ __VA_ARGS__ },                                         \
	.nframes = sizeof((struct frame[]){ __VA_ARGS__ }) / sizeof(struct frame)
#define PROC(p, s)                                                                         \
	{ .pid = (p), .ppid = 1, .comm = "app", .exe = APP, .exited = 1, .sites = (s),     \
	  .nsites = sizeof(s) / sizeof((s)[0]) }

/* The project's own rules, used in both runs as `-s project.supp` would be. */
static const char project_rules[] = "leak accepted cache\n"
				    "\tfun:cache_init\n"
				    "leak bounded pool\n"
				    "\tfun:pool_grow\n"
				    "\tbudget: 10 bytes\n";

/* --- helpers ----------------------------------------------------------------------------- */

/* What gen_suppressions__print writes for the judgement; *nrules gets its return value. */
static char *gen_text(const struct judgement *j, int *nrules)
{
	char *text = NULL;
	size_t len = 0;
	FILE *out = open_memstream(&text, &len);

	ck_assert_ptr_nonnull(out);
	*nrules = gen_suppressions__print(out, j);
	ck_assert_int_eq(fclose(out), 0);
	ck_assert_ptr_nonnull(text);
	return text;
}

/* The project's rules followed by the generated ones, as the next run reads them. */
static struct suppressions *rules_with(const char *generated)
{
	struct suppressions *s = suppressions__new();
	char err[512];
	int ret;

	ck_assert_ptr_nonnull(s);
	ck_assert_int_eq(suppressions__load_string(s, "project.supp", project_rules, err,
						   sizeof(err)),
			 0);
	ret = suppressions__load_string(s, "baseline.supp", generated, err, sizeof(err));
	ck_assert_msg(ret == 0, "generated rules do not load (%d): %s\n--- generated:\n%s", ret,
		      err, generated);
	return s;
}

/* Judges procs, writes the baseline, and judges them again with it. */
static struct judgement *round_trip(const struct proc_record *procs, size_t nprocs,
				    struct suppressions **with, char **text, int *nrules)
{
	struct suppressions *first = rules_with("");
	struct judgement *j = judge__run(procs, nprocs, first, NULL);

	ck_assert_ptr_nonnull(j);
	*text = gen_text(j, nrules);
	ck_assert_int_ge(*nrules, 0);
	judgement__free(j);
	suppressions__free(first);

	*with = rules_with(*text);
	j = judge__run(procs, nprocs, *with, NULL);
	ck_assert_ptr_nonnull(j);
	return j;
}

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

/* Every site accepted by a generated rule named after it, and the run passes. */
static void assert_all_within(const struct judgement *j, const char *text)
{
	for (size_t p = 0; p < j->nprocs; p++) {
		for (size_t k = 0; k < j->procs[p].nsites; k++) {
			const struct site_judgement *sj = &j->procs[p].sites[k];

			ck_assert_msg(sj->verdict == SITE_WITHIN_BUDGET,
				      "site '%s' of process %zu: verdict %d, not within budget\n"
				      "--- generated:\n%s",
				      sj->name, p, sj->verdict, text);
			ck_assert_str_eq(sj->rule->file, "baseline.supp");
		}
	}
	ck_assert_uint_eq(j->leaked_bytes, 0);
	ck_assert_uint_eq(j->leaked_allocs, 0);
	ck_assert_msg(!judgement__failed(j), "the run fails with its own baseline:\n%s", text);
}

/* The usual records: one stack in two processes, a library frame, an unknown frame. */
#define LEAKY_FRAMES                                                                       \
	STACK(FL("make_node.constprop.0", APP, SRC, 17), FL("build_list", APP, SRC, 32),     \
	      FL("main", APP, SRC, 47), F("__libc_start_call_main", LIBC),                   \
	      F("__libc_start_main_impl", LIBC), F("_start", APP))

/* --- tests ------------------------------------------------------------------------------- */

START_TEST(test_only_leaks_written)
{
	struct suppressions *s = rules_with("");
	struct leak_site sites[] = {
		{ .bytes = 320, .allocs = 5, LEAKY_FRAMES },
		{ .bytes = 200, .allocs = 1, STACK(F("cache_init", APP), F("main", APP)) },
		{ .bytes = 20, .allocs = 1, STACK(F("pool_grow", APP), F("main", APP)) },
	};
	struct proc_record proc = PROC(1, sites);
	struct judgement *j = judge__run(&proc, 1, s, NULL);
	char *text;
	int n;

	ck_assert_ptr_nonnull(j);
	ck_assert_int_eq(judged(j, &sites[1])->verdict, SITE_SUPPRESSED);
	ck_assert_int_eq(judged(j, &sites[2])->verdict, SITE_OVER_BUDGET);
	text = gen_text(j, &n);
	ck_assert_int_eq(n, 1);
	ck_assert_msg(strstr(text, "fun:make_node") != NULL, "%s", text);
	ck_assert_msg(strstr(text, "fun:build_list") != NULL, "%s", text);
	/* The clone suffix is left out: a rebuild with other optimizations still matches. */
	ck_assert_msg(strstr(text, "constprop") == NULL, "%s", text);
	ck_assert_msg(strstr(text, "budget:") != NULL, "%s", text);
	/* Suppressed sites need no rule; growth over a budget is for a person to accept. */
	ck_assert_msg(strstr(text, "cache_init") == NULL, "%s", text);
	ck_assert_msg(strstr(text, "pool_grow") == NULL, "%s", text);
	/* Addresses and line numbers have no place in a rule. */
	ck_assert_msg(strstr(text, "0x") == NULL, "%s", text);
	ck_assert_msg(strstr(text, ":17") == NULL, "%s", text);
	free(text);
	judgement__free(j);
	suppressions__free(s);
}
END_TEST

START_TEST(test_round_trip_within_budget)
{
	struct leak_site first[] = {
		{ .bytes = 320, .allocs = 5, LEAKY_FRAMES },
		{ .bytes = 100, .allocs = 1,
		  STACK(F(NULL, "/home/u/proj/lib/libcache.so.1"),
			FL("load_cache", APP, "/home/u/proj/cache.c", 9), F("main", APP)) },
		{ .bytes = 64, .allocs = 2,
		  STACK({ .addr = 0x7f00dead0000 }, F("worker", APP), F("start_thread", LIBC),
			F("clone3", LIBC)) },
		{ .bytes = 200, .allocs = 1, STACK(F("cache_init", APP), F("main", APP)) },
		{ .bytes = 10, .allocs = 1, STACK(F("pool_grow", APP), F("main", APP)) },
	};
	struct leak_site second[] = {
		{ .bytes = 160, .allocs = 3, LEAKY_FRAMES },
	};
	struct proc_record procs[] = { PROC(1, first), PROC(2, second) };
	struct suppressions *s;
	struct judgement *j;
	char *text;
	int n;

	j = round_trip(procs, 2, &s, &text, &n);
	/* One rule per leak site; the stack seen in both processes is one rule. */
	ck_assert_int_eq(n, 3);
	ck_assert_uint_eq(suppressions__count(s), 2 + 3);
	for (size_t i = 2; i < suppressions__count(s); i++) {
		const struct suppression_rule *r = suppressions__rule(s, i);

		ck_assert_msg(r->has_budget && r->max_bytes != UINT64_MAX &&
			      r->max_allocs != UINT64_MAX,
			      "rule '%s' has no full budget", r->name);
	}
	/* The project's rules still take their sites. */
	ck_assert_int_eq(judged(j, &first[3])->verdict, SITE_SUPPRESSED);
	ck_assert_int_eq(judged(j, &first[4])->verdict, SITE_WITHIN_BUDGET);
	ck_assert_str_eq(judged(j, &first[4])->rule->name, "bounded pool");
	for (size_t k = 0; k < 3; k++) {
		const struct site_judgement *sj = judged(j, &first[k]);

		ck_assert_msg(sj->verdict == SITE_WITHIN_BUDGET, "'%s': %d\n%s", sj->name,
			      sj->verdict, text);
		ck_assert_str_eq(sj->rule->file, "baseline.supp");
		/* Each rule is named after its site. */
		ck_assert_str_eq(sj->rule->name, sj->name);
	}
	ck_assert_int_eq(judged(j, &second[0])->verdict, SITE_WITHIN_BUDGET);
	ck_assert_ptr_eq(judged(j, &second[0])->rule, judged(j, &first[0])->rule);
	/* Budgets are exactly what leaked: the sum over both processes. */
	ck_assert_uint_eq(judged(j, &first[0])->rule->max_bytes, 480);
	ck_assert_uint_eq(judged(j, &first[0])->rule->max_allocs, 8);
	ck_assert_uint_eq(judged(j, &first[1])->rule->max_bytes, 100);
	ck_assert_uint_eq(judged(j, &first[2])->rule->max_allocs, 2);
	ck_assert_uint_eq(j->leaked_bytes, 0);
	ck_assert_int_eq(judgement__failed(j), 0);
	/* Nothing unused, nothing loose: the baseline is tight. */
	ck_assert_uint_eq(j->nloose, 0);
	ck_assert_uint_eq(j->nunused, 0);
	judgement__free(j);
	suppressions__free(s);
	free(text);
}
END_TEST

START_TEST(test_round_trip_growth_fails)
{
	struct leak_site sites[] = {
		{ .bytes = 320, .allocs = 5, LEAKY_FRAMES },
		{ .bytes = 48, .allocs = 1,
		  STACK(FL("read_config", APP, "/home/u/proj/config.c", 12), F("main", APP)) },
	};
	struct leak_site other[] = {
		{ .bytes = 320, .allocs = 5, LEAKY_FRAMES },
	};
	struct proc_record procs[] = { PROC(1, sites), PROC(2, other) };
	struct suppressions *s;
	struct judgement *j;
	char *text;
	int n;

	j = round_trip(procs, 2, &s, &text, &n);
	ck_assert_int_eq(n, 2);
	assert_all_within(j, text);
	judgement__free(j);

	/* One more allocation of the same size at a site. */
	other[0].allocs++;
	other[0].bytes += 64;
	suppressions__reset_counters(s);
	j = judge__run(procs, 2, s, NULL);
	ck_assert_ptr_nonnull(j);
	ck_assert_int_eq(judged(j, &sites[0])->verdict, SITE_WITHIN_BUDGET);
	ck_assert_int_eq(judged(j, &sites[1])->verdict, SITE_WITHIN_BUDGET);
	ck_assert_int_eq(judged(j, &other[0])->verdict, SITE_OVER_BUDGET);
	ck_assert_int_eq(judgement__failed(j), 1);
	judgement__free(j);

	/* One more allocation alone, or one more byte alone, is growth too. */
	other[0].bytes -= 64;
	suppressions__reset_counters(s);
	j = judge__run(procs, 2, s, NULL);
	ck_assert_ptr_nonnull(j);
	ck_assert_int_eq(judged(j, &other[0])->verdict, SITE_OVER_BUDGET);
	ck_assert_int_eq(judgement__failed(j), 1);
	judgement__free(j);
	other[0].allocs--;
	sites[1].bytes++;
	suppressions__reset_counters(s);
	j = judge__run(procs, 2, s, NULL);
	ck_assert_ptr_nonnull(j);
	ck_assert_int_eq(judged(j, &sites[1])->verdict, SITE_OVER_BUDGET);
	ck_assert_int_eq(judgement__failed(j), 1);
	judgement__free(j);

	/* Shrinking passes, and leaves the budget loose. */
	sites[1].bytes -= 2;
	suppressions__reset_counters(s);
	j = judge__run(procs, 2, s, NULL);
	ck_assert_ptr_nonnull(j);
	ck_assert_int_eq(judged(j, &sites[1])->verdict, SITE_WITHIN_BUDGET);
	ck_assert_int_eq(judgement__failed(j), 0);
	ck_assert_uint_eq(j->nloose, 1);
	judgement__free(j);
	suppressions__free(s);
	free(text);
}
END_TEST

START_TEST(test_round_trip_new_site_fails)
{
	struct leak_site sites[] = {
		{ .bytes = 320, .allocs = 5, LEAKY_FRAMES },
	};
	struct leak_site more[] = {
		{ .bytes = 320, .allocs = 5, LEAKY_FRAMES },
		{ .bytes = 16, .allocs = 1,
		  STACK(FL("make_tree", APP, SRC, 80), FL("main", APP, SRC, 50)) },
		/* The same first frames from another caller is another site. */
		{ .bytes = 16, .allocs = 1,
		  STACK(FL("make_node", APP, SRC, 17), FL("build_tree", APP, SRC, 90),
			FL("main", APP, SRC, 51)) },
	};
	struct proc_record proc = PROC(1, sites), grown = PROC(1, more);
	struct suppressions *s;
	struct judgement *j;
	char *text;
	int n;

	j = round_trip(&proc, 1, &s, &text, &n);
	assert_all_within(j, text);
	judgement__free(j);

	suppressions__reset_counters(s);
	j = judge__run(&grown, 1, s, NULL);
	ck_assert_ptr_nonnull(j);
	ck_assert_int_eq(judged(j, &more[0])->verdict, SITE_WITHIN_BUDGET);
	ck_assert_int_eq(judged(j, &more[1])->verdict, SITE_LEAK);
	ck_assert_int_eq(judged(j, &more[2])->verdict, SITE_LEAK);
	ck_assert_uint_eq(j->leaked_bytes, 32);
	ck_assert_int_eq(judgement__failed(j), 1);
	judgement__free(j);
	suppressions__free(s);
	free(text);
}
END_TEST

START_TEST(test_rebuild_without_clone_suffix_matches)
{
	struct leak_site before[] = {
		{ .bytes = 64, .allocs = 2,
		  STACK(FL("make_node.constprop.0", APP, SRC, 17),
			FL("build_list.isra.0", APP, SRC, 32), FL("main", APP, SRC, 47)) },
	};
	/* Rebuilt at -O0: no clones, other addresses and lines. */
	struct leak_site after[] = {
		{ .bytes = 64, .allocs = 2,
		  STACK({ .addr = 0x555555555189, .function = "make_node", .module = APP,
			  .file = SRC, .line = 19 },
			{ .addr = 0x5555555551f0, .function = "build_list", .module = APP,
			  .file = SRC, .line = 35 },
			{ .addr = 0x555555555250, .function = "main", .module = APP, .file = SRC,
			  .line = 50 }) },
	};
	struct proc_record p1 = PROC(1, before), p2 = PROC(7, after);
	struct suppressions *s;
	struct judgement *j;
	char *text;
	int n;

	j = round_trip(&p1, 1, &s, &text, &n);
	judgement__free(j);
	suppressions__reset_counters(s);
	j = judge__run(&p2, 1, s, NULL);
	ck_assert_ptr_nonnull(j);
	assert_all_within(j, text);
	judgement__free(j);
	suppressions__free(s);
	free(text);
}
END_TEST

START_TEST(test_glob_characters_escaped)
{
	struct leak_site sites[] = {
		{ .bytes = 64, .allocs = 1,
		  STACK(F("operator*(Vec const&, Vec const&)", APP),
			F("make_label[abi:cxx11](int)", APP), F("main", APP)) },
		{ .bytes = 32, .allocs = 1,
		  STACK(F("lookup<char*>(char const*)", APP), F("main", APP)) },
	};
	/* Names the rules would take if `*`, `[` and `]` were read as wildcards. */
	struct leak_site lookalike[] = {
		{ .bytes = 1, .allocs = 1,
		  STACK(F("operator+(Vec const&, Vec const&)", APP),
			F("make_label[abi:cxx11](int)", APP), F("main", APP)) },
		{ .bytes = 1, .allocs = 1,
		  STACK(F("lookup<char>(char const*)", APP), F("main", APP)) },
	};
	struct proc_record proc = PROC(1, sites), other = PROC(2, lookalike);
	struct suppressions *s;
	struct judgement *j;
	char *text;
	int n;

	j = round_trip(&proc, 1, &s, &text, &n);
	ck_assert_int_eq(n, 2);
	assert_all_within(j, text);
	judgement__free(j);

	suppressions__reset_counters(s);
	j = judge__run(&other, 1, s, NULL);
	ck_assert_ptr_nonnull(j);
	ck_assert_msg(judged(j, &lookalike[0])->verdict == SITE_LEAK, "'*' not escaped:\n%s",
		      text);
	ck_assert_msg(judged(j, &lookalike[1])->verdict == SITE_LEAK, "'*' not escaped:\n%s",
		      text);
	judgement__free(j);
	suppressions__free(s);
	free(text);
}
END_TEST

/*
 * Names hold anything: line feeds, quotes, '#', blanks at their ends, control bytes. The
 * baseline escapes them, loads back, names its rules as the sites are named, and matches
 * the same sites and not their look-alikes.
 */
START_TEST(test_names_with_any_bytes_round_trip)
{
	static const char *const funs[] = {
		"odd\nname", "say \"hi\" 'x'", "a # b", "#hash", " lead", "trail ", "\ttab\t",
		"bell\x07\x1b[31m\x7f", "back\\slash\\x41", "x\\x00y", "fun:lookalike", "leak x",
	};
	enum { N = sizeof(funs) / sizeof(funs[0]) };
	static const char *const srcs[] = { "new\nline.c", " a#b .c", "q\"\x01.c", "\\x0a.c" };
	static const char *const lookalike[] = {
		"odd", "say ", "a", "", "lead", "trail", "tab", "bell", "back", "x", "fun", "leak",
	};
	struct frame frames[N][2], other[N][2];
	struct leak_site sites[N], others[N];
	struct proc_record proc = { .pid = 1, .ppid = 1, .comm = "app", .exe = APP, .exited = 1,
				    .sites = sites, .nsites = N };
	struct proc_record proc2 = proc;
	struct suppressions *s;
	struct judgement *j;
	char *text;
	int n;

	for (size_t i = 0; i < N; i++) {
		frames[i][0] = (struct frame)FL(funs[i], APP, srcs[i % 4], 10);
		frames[i][1] = (struct frame)FL("main", APP, srcs[i % 4], 20);
		other[i][0] = (struct frame)FL(lookalike[i], APP, srcs[i % 4], 10);
		other[i][1] = frames[i][1];
		sites[i] = (struct leak_site){ .bytes = 8 + i, .allocs = 1, .frames = frames[i],
					       .nframes = 2 };
		others[i] = sites[i];
		others[i].frames = other[i];
	}
	j = round_trip(&proc, 1, &s, &text, &n);
	ck_assert_int_eq(n, N);
	assert_all_within(j, text);
	for (size_t i = 0; i < N; i++) {
		const struct site_judgement *sj = judged(j, &sites[i]);

		ck_assert_str_eq(sj->rule->name, sj->name);
	}
	/* Each rule is one line per frame: nothing raw that ends a line or starts a comment. */
	for (const unsigned char *p = (const unsigned char *)text; *p; p++)
		ck_assert_msg(*p >= 0x20 ? *p != 0x7f : *p == '\n' || *p == '\t',
			      "raw byte 0x%02x in:\n%s", *p, text);
	ck_assert_msg(strstr(text, "\tfun:odd\\x0aname\n"), "%s", text);
	ck_assert_msg(strstr(text, "\tfun:\\x20lead\n"), "%s", text);
	ck_assert_msg(strstr(text, "\tfun:back\\\\slash\\\\x41\n"), "%s", text);
	judgement__free(j);

	proc2.sites = others;
	suppressions__reset_counters(s);
	j = judge__run(&proc2, 1, s, NULL);
	ck_assert_ptr_nonnull(j);
	for (size_t i = 0; i < N; i++)
		ck_assert_msg(judged(j, &others[i])->verdict == SITE_LEAK,
			      "'%s' matched a rule for '%s':\n%s", lookalike[i], funs[i], text);
	judgement__free(j);
	suppressions__free(s);
	free(text);
}
END_TEST

START_TEST(test_no_leaks_no_rules)
{
	struct leak_site sites[] = {
		{ .bytes = 200, .allocs = 1, STACK(F("cache_init", APP), F("main", APP)) },
	};
	struct proc_record procs[] = { PROC(1, sites), { .pid = 2, .comm = "app", .exited = 1 } };
	struct suppressions *s;
	struct judgement *j;
	char *text;
	int n;

	j = round_trip(procs, 2, &s, &text, &n);
	ck_assert_int_eq(n, 0);
	ck_assert_uint_eq(suppressions__count(s), 2);
	ck_assert_int_eq(judgement__failed(j), 0);
	judgement__free(j);
	suppressions__free(s);
	free(text);
}
END_TEST

START_TEST(test_write_file)
{
	char dir[] = "/tmp/check_gen_suppressions.XXXXXX", path[256], err[512];
	struct leak_site sites[] = {
		{ .bytes = 320, .allocs = 5, LEAKY_FRAMES },
		{ .bytes = 48, .allocs = 1,
		  STACK(FL("read_config", APP, "/home/u/proj/config.c", 12), F("main", APP)) },
	};
	struct proc_record proc = PROC(1, sites);
	struct judgement *j = judge__run(&proc, 1, NULL, NULL);
	struct suppressions *s = suppressions__new();
	struct dirent *de;
	size_t entries = 0;
	DIR *d;

	ck_assert_ptr_nonnull(j);
	ck_assert_ptr_nonnull(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/baseline.supp", dir);
	ck_assert_int_eq(gen_suppressions__write(j, path), 0);
	judgement__free(j);

	ck_assert_int_eq(suppressions__load_file(s, path, err, sizeof(err)), 0);
	ck_assert_uint_eq(suppressions__count(s), 2);
	j = judge__run(&proc, 1, s, NULL);
	ck_assert_ptr_nonnull(j);
	ck_assert_int_eq(judgement__failed(j), 0);
	ck_assert_int_eq(judged(j, &sites[0])->verdict, SITE_WITHIN_BUDGET);
	ck_assert_str_eq(judged(j, &sites[0])->rule->file, path);

	/* Written whole and renamed: no temporary file is left beside it. */
	d = opendir(dir);
	ck_assert_ptr_nonnull(d);
	while ((de = readdir(d)))
		entries += strcmp(de->d_name, ".") && strcmp(de->d_name, "..");
	closedir(d);
	ck_assert_uint_eq(entries, 1);

	/* A directory that does not exist: an error, and no file. */
	snprintf(path, sizeof(path), "%s/missing/baseline.supp", dir);
	ck_assert_int_eq(gen_suppressions__write(j, path), -ENOENT);
	ck_assert_int_ne(access(path, F_OK), 0);
	judgement__free(j);
	suppressions__free(s);

	snprintf(path, sizeof(path), "%s/baseline.supp", dir);
	unlink(path);
	rmdir(dir);
}
END_TEST

/*
 * BUG: reporters/gen_suppressions.c writes a site without any stack as a rule with a
 * budget line and no frame line ("rule [no stack]" / "budget: ..."). suppressions.c refuses
 * such a rule ("baseline.supp:N: rule '[no stack]' has no frame lines"), so the baseline
 * written for a run with a stackless leak cannot be read back and the next memleak-run stops
 * with a suppressions-file error. Expected (docs/SUPPRESSIONS.md): the site is mentioned in
 * a comment, and the file loads.
 */
START_TEST(test_stackless_site_keeps_file_loadable)
{
	struct leak_site sites[] = {
		{ .bytes = 320, .allocs = 5, LEAKY_FRAMES },
		{ .bytes = 16, .allocs = 1 },
	};
	struct proc_record proc = PROC(1, sites);
	struct suppressions *s;
	struct judgement *j;
	char *text;
	int n;

	j = round_trip(&proc, 1, &s, &text, &n);
	ck_assert_int_eq(judged(j, &sites[0])->verdict, SITE_WITHIN_BUDGET);
	/* No rule can match a site without frames: it stays a leak. */
	ck_assert_int_eq(judged(j, &sites[1])->verdict, SITE_LEAK);
	judgement__free(j);
	suppressions__free(s);
	free(text);
}
END_TEST

/*
 * BUG: reporters/gen_suppressions.c writes rules in the order it meets the sites and pins
 * the first 4 frames whatever they are. A rule for a shorter stack then comes before a rule
 * for a longer stack that starts with the same frames, and on the next run it takes the
 * longer stack's allocations into its own budget: the run fails against its own baseline.
 * Here the second site's walk was cut short (frame-pointer-less code), so its frames are a
 * prefix of the first's. Expected: longer rules first (docs/SUPPRESSIONS.md), both sites
 * within budget; actual: the longer site is over the shorter rule's budget.
 */
START_TEST(test_prefix_stacks_within_budget)
{
	struct leak_site sites[] = {
		{ .bytes = 200, .allocs = 2,
		  STACK(FL("xstrdup", APP, "/home/u/proj/util.c", 8),
			FL("parse_opts", APP, "/home/u/proj/opts.c", 31)) },
		{ .bytes = 100, .allocs = 1,
		  STACK(FL("xstrdup", APP, "/home/u/proj/util.c", 8),
			FL("parse_opts", APP, "/home/u/proj/opts.c", 44),
			FL("main", APP, "/home/u/proj/main.c", 12)) },
	};
	struct proc_record proc = PROC(1, sites);
	struct suppressions *s;
	struct judgement *j;
	char *text;
	int n;

	j = round_trip(&proc, 1, &s, &text, &n);
	assert_all_within(j, text);
	judgement__free(j);
	suppressions__free(s);
	free(text);
}
END_TEST

/*
 * BUG: the same leak in two processes, walked past main in one of them and not in the
 * other (how far the walk gets below main varies, which is why site names leave those
 * frames out). reporters/gen_suppressions.c pins "__libc_start_call_main" into one rule
 * and writes the shorter rule first, so on the next run the second process's site is
 * charged to the first process's rule and is over budget. Expected: both within budget.
 */
START_TEST(test_frames_below_main_vary)
{
	struct leak_site one[] = {
		{ .bytes = 64, .allocs = 1,
		  STACK(FL("make_node", APP, SRC, 17), FL("main", APP, SRC, 47)) },
	};
	struct leak_site two[] = {
		{ .bytes = 64, .allocs = 1,
		  STACK(FL("make_node", APP, SRC, 17), FL("main", APP, SRC, 47),
			F("__libc_start_call_main", LIBC)) },
	};
	struct proc_record procs[] = { PROC(1, one), PROC(2, two) };
	struct suppressions *s;
	struct judgement *j;
	char *text;
	int n;

	j = round_trip(procs, 2, &s, &text, &n);
	ck_assert_str_eq(judged(j, &one[0])->name, judged(j, &two[0])->name);
	assert_all_within(j, text);
	judgement__free(j);
	suppressions__free(s);
	free(text);
}
END_TEST

static Suite *suite(void)
{
	Suite *s = suite_create("gen_suppressions");
	TCase *tc = tcase_create("round trip");
	TCase *bugs = tcase_create("known bugs");

	tcase_add_test(tc, test_only_leaks_written);
	tcase_add_test(tc, test_round_trip_within_budget);
	tcase_add_test(tc, test_round_trip_growth_fails);
	tcase_add_test(tc, test_round_trip_new_site_fails);
	tcase_add_test(tc, test_rebuild_without_clone_suffix_matches);
	tcase_add_test(tc, test_glob_characters_escaped);
	tcase_add_test(tc, test_names_with_any_bytes_round_trip);
	tcase_add_test(tc, test_no_leaks_no_rules);
	tcase_add_test(tc, test_write_file);
	suite_add_tcase(s, tc);

	tcase_add_test(bugs, test_stackless_site_keeps_file_loadable);
	tcase_add_test(bugs, test_prefix_stacks_within_budget);
	tcase_add_test(bugs, test_frames_below_main_vary);
	suite_add_tcase(s, bugs);
	return s;
}

int main(void)
{
	return test_run_suite(suite());
}
