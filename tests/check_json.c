/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * The JSON report, read back with json-c: processes, sites, frames, verdicts, rules,
 * totals, the verdict and its reasons, clean strings, whole-or-nothing writes.
 */
#include <check.h>
#include <errno.h>
#include <json-c/json.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "reporters/json.h"
#include "tests/report_fixture.h"
#include "tests/testutil.h"

static char tmpdir[4096];
static char path[8192];

static void setup(void)
{
	snprintf(tmpdir, sizeof(tmpdir), "%s/check_json.XXXXXX",
		 getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp");
	ck_assert_ptr_nonnull(mkdtemp(tmpdir));
	snprintf(path, sizeof(path), "%s/run.json", tmpdir);
}

static void teardown(void)
{
	unlink(path);
	rmdir(tmpdir);
}

static const char *const argv_leaky[] = { "./build/leaky", "--fast", NULL };

static struct json_opts opts(void)
{
	return (struct json_opts){ .argv = argv_leaky, .duration_s = 2.25,
				   .timestamp = 1700000000 };
}

/* Writes the report, parses it back; the caller puts the result. */
static json_object *write_and_parse(const struct judgement *j, const struct json_opts *o)
{
	json_object *root;

	ck_assert_int_eq(json__write(j, o, path), 0);
	root = json_object_from_file(path);
	ck_assert_msg(root != NULL, "%s is not JSON: %s", path, json_util_get_last_err());
	ck_assert(json_object_is_type(root, json_type_object));
	return root;
}

/* The value at a path of keys and array indexes, "processes.0.sites.1.name". */
static json_object *at(json_object *root, const char *keys)
{
	char *copy = strdup(keys), *save = NULL;
	json_object *v = root;

	ck_assert_ptr_nonnull(copy);
	for (char *k = strtok_r(copy, ".", &save); k; k = strtok_r(NULL, ".", &save)) {
		if (json_object_is_type(v, json_type_array)) {
			size_t i = strtoul(k, NULL, 10);

			ck_assert_msg(i < json_object_array_length(v), "%s: no index %s", keys, k);
			v = json_object_array_get_idx(v, i);
		} else {
			ck_assert_msg(json_object_object_get_ex(v, k, &v), "%s: no key %s", keys,
				      k);
		}
	}
	free(copy);
	return v;
}

static const char *str_at(json_object *root, const char *keys)
{
	json_object *v = at(root, keys);

	ck_assert_msg(json_object_is_type(v, json_type_string), "%s is not a string", keys);
	return json_object_get_string(v);
}

static uint64_t u64_at(json_object *root, const char *keys)
{
	json_object *v = at(root, keys);

	ck_assert_msg(json_object_is_type(v, json_type_int), "%s is not an integer", keys);
	return json_object_get_uint64(v);
}

static int bool_at(json_object *root, const char *keys)
{
	json_object *v = at(root, keys);

	ck_assert_msg(json_object_is_type(v, json_type_boolean), "%s is not a boolean", keys);
	return json_object_get_boolean(v);
}

static int null_at(json_object *root, const char *keys)
{
	return at(root, keys) == NULL;
}

static size_t len_at(json_object *root, const char *keys)
{
	json_object *v = at(root, keys);

	ck_assert_msg(json_object_is_type(v, json_type_array), "%s is not an array", keys);
	return json_object_array_length(v);
}

static int reasons_have(json_object *root, const char *reason)
{
	json_object *reasons = at(root, "reasons");

	for (size_t i = 0; i < len_at(root, "reasons"); i++)
		if (!strcmp(json_object_get_string(json_object_array_get_idx(reasons, i)), reason))
			return 1;
	return 0;
}

START_TEST(test_run_fields)
{
	struct fixture f;
	struct json_opts o = opts();
	json_object *r;

	fixture_init(&f, 4242);
	r = write_and_parse(&f.j, &o);
	ck_assert_str_eq(str_at(r, "format"), "memleak-run-report");
	ck_assert_int_eq(u64_at(r, "version"), JSON_REPORT_VERSION);
	ck_assert_str_eq(str_at(r, "tool"), "memleak-run");
	ck_assert_str_eq(str_at(r, "timestamp"), "2023-11-14T22:13:20Z");
	ck_assert_double_eq_tol(json_object_get_double(at(r, "duration_s")), 2.25, 1e-9);
	ck_assert_int_eq(len_at(r, "program.command"), 2);
	ck_assert_str_eq(str_at(r, "program.command.1"), "--fast");
	ck_assert_int_eq(u64_at(r, "program.exit_code"), 0);
	ck_assert(null_at(r, "program.signal"));
	ck_assert_int_eq(bool_at(r, "program.timed_out"), 0);
	ck_assert_int_eq(u64_at(r, "budget.bytes"), 0);
	ck_assert_int_eq(bool_at(r, "over_budget"), 1);
	ck_assert_int_eq(bool_at(r, "lost_data"), 1);
	/* Totals over both processes. */
	ck_assert_int_eq(u64_at(r, "totals.processes"), 2);
	ck_assert_int_eq(u64_at(r, "totals.sites"), FX_NSITES_LEAKY + 1);
	ck_assert_int_eq(u64_at(r, "totals.failing_sites"), 5);
	ck_assert_int_eq(u64_at(r, "totals.leaked_bytes"), 4096 + 320 + 16 + 8);
	ck_assert_int_eq(u64_at(r, "totals.leaked_allocations"), 8);
	ck_assert_int_eq(u64_at(r, "totals.suppressed_bytes"), 200 + 72 + 64);
	ck_assert_int_eq(u64_at(r, "totals.lost_events"), 5);
	/* The verdict and why. */
	ck_assert_str_eq(str_at(r, "verdict"), "fail");
	ck_assert_int_eq(bool_at(r, "leak_gate_passed"), 0);
	ck_assert(reasons_have(r, "leaks"));
	ck_assert(reasons_have(r, "rule-over-budget"));
	ck_assert(reasons_have(r, "lost-data"));
	ck_assert(!reasons_have(r, "program-failed"));
	json_object_put(r);
}
END_TEST

START_TEST(test_processes)
{
	struct fixture f;
	struct json_opts o = opts();
	json_object *r;

	fixture_init(&f, 4242);
	f.procs[1].exit_code = 0;
	f.procs[1].term_signal = SIGABRT;
	r = write_and_parse(&f.j, &o);
	ck_assert_int_eq(len_at(r, "processes"), 2);
	ck_assert_str_eq(str_at(r, "processes.0.name"), "leaky");
	ck_assert_int_eq(u64_at(r, "processes.0.pid"), 4242);
	ck_assert_int_eq(u64_at(r, "processes.0.ppid"), 1);
	ck_assert_str_eq(str_at(r, "processes.0.comm"), "leaky");
	ck_assert_str_eq(str_at(r, "processes.0.exe"), FX_WORKSPACE "/build/leaky");
	ck_assert_int_eq(bool_at(r, "processes.0.root"), 1);
	ck_assert_int_eq(bool_at(r, "processes.0.exited"), 1);
	ck_assert_int_eq(u64_at(r, "processes.0.exit_code"), 0);
	ck_assert_int_eq(u64_at(r, "processes.0.leaked_bytes"), 4096 + 320 + 16);
	ck_assert_int_eq(u64_at(r, "processes.0.failing_sites"), 4);
	ck_assert_int_eq(u64_at(r, "processes.0.lost_events"), 0);
	ck_assert_int_eq(len_at(r, "processes.0.sites"), FX_NSITES_LEAKY);
	ck_assert_str_eq(str_at(r, "processes.1.name"), "sh");
	ck_assert_int_eq(bool_at(r, "processes.1.root"), 0);
	ck_assert(null_at(r, "processes.1.exit_code"));
	ck_assert_int_eq(u64_at(r, "processes.1.signal"), SIGABRT);
	ck_assert_str_eq(str_at(r, "processes.1.signal_name"), "SIGABRT");
	/* Every counter, lost or corrected, by name. */
	ck_assert_int_eq(u64_at(r, "processes.1.lost.map_full"), 3);
	ck_assert_int_eq(u64_at(r, "processes.1.lost.ringbuf_drops"), 2);
	ck_assert_int_eq(u64_at(r, "processes.1.lost.stack_errors"), 0);
	ck_assert_int_eq(u64_at(r, "processes.1.lost.missed_frees"), 4);
	ck_assert_int_eq(u64_at(r, "processes.1.lost_events"), 5);
	json_object_put(r);
}
END_TEST

START_TEST(test_sites_and_frames)
{
	struct fixture f;
	struct json_opts o = opts();
	json_object *r;
	const char *s = "processes.0.sites";
	char key[256];

	fixture_init(&f, 4242);
	r = write_and_parse(&f.j, &o);
#define K(fmt, ...) (snprintf(key, sizeof(key), "%s." fmt, s, __VA_ARGS__), key)
	ck_assert_str_eq(str_at(r, K("%d.name", FX_SITE_LIST)), FX_NAME_LIST);
	ck_assert_str_eq(str_at(r, K("%d.verdict", FX_SITE_LIST)), "leak");
	ck_assert_int_eq(bool_at(r, K("%d.fails", FX_SITE_LIST)), 1);
	ck_assert_int_eq(u64_at(r, K("%d.bytes", FX_SITE_LIST)), 320);
	ck_assert_int_eq(u64_at(r, K("%d.allocations", FX_SITE_LIST)), 5);
	ck_assert(null_at(r, K("%d.rule", FX_SITE_LIST)));
	ck_assert_int_eq(u64_at(r, K("%d.own_frame", FX_SITE_LIST)), 0);
	ck_assert_str_eq(str_at(r, K("%d.location.file", FX_SITE_LIST)), FX_LEAKY_C);
	ck_assert_int_eq(u64_at(r, K("%d.location.line", FX_SITE_LIST)), 19);
	ck_assert_int_eq(len_at(r, K("%d.frames", FX_SITE_LIST)), 4);
	ck_assert_str_eq(str_at(r, K("%d.frames.1.function", FX_SITE_LIST)), "build_list");
	ck_assert_int_eq(u64_at(r, K("%d.frames.1.offset", FX_SITE_LIST)), 0x25);
	ck_assert_str_eq(str_at(r, K("%d.frames.1.address", FX_SITE_LIST)), "0x401155");
	ck_assert_str_eq(str_at(r, K("%d.frames.1.file", FX_SITE_LIST)), FX_LEAKY_C);
	ck_assert_int_eq(u64_at(r, K("%d.frames.1.line", FX_SITE_LIST)), 34);
	ck_assert_str_eq(str_at(r, K("%d.frames.1.module", FX_SITE_LIST)),
			 FX_WORKSPACE "/build/leaky");
	/* Unknown parts are null, not empty or zero. */
	ck_assert(null_at(r, K("%d.frames.3.file", FX_SITE_LIST)));
	ck_assert(null_at(r, K("%d.frames.3.line", FX_SITE_LIST)));
	ck_assert(null_at(r, K("%d.frames.1.function", FX_SITE_LIBC)));
	ck_assert(null_at(r, K("%d.frames.1.offset", FX_SITE_LIBC)));
	ck_assert(null_at(r, K("%d.own_frame", FX_SITE_LIBC)));
	ck_assert(null_at(r, K("%d.location", FX_SITE_LIBC)));
	/* Rules and verdicts. */
	ck_assert_str_eq(str_at(r, K("%d.verdict", FX_SITE_LIBC)), "suppressed");
	ck_assert_int_eq(bool_at(r, K("%d.fails", FX_SITE_LIBC)), 0);
	ck_assert_str_eq(str_at(r, K("%d.rule.name", FX_SITE_LIBC)), "libc-init");
	ck_assert_str_eq(str_at(r, K("%d.rule.file", FX_SITE_LIBC)), "supp.txt");
	ck_assert_int_eq(u64_at(r, K("%d.rule.line", FX_SITE_LIBC)), 3);
	ck_assert_str_eq(str_at(r, K("%d.verdict", FX_SITE_POOL)), "within-budget");
	ck_assert_str_eq(str_at(r, K("%d.verdict", FX_SITE_CACHE)), "over-budget");
	ck_assert_int_eq(bool_at(r, K("%d.fails", FX_SITE_CACHE)), 1);
	/* Outstanding blocks, when listed. */
	ck_assert_int_eq(len_at(r, K("%d.blocks", FX_SITE_CONFIG)), 1);
	ck_assert_str_eq(str_at(r, K("%d.blocks.0.address", FX_SITE_CONFIG)), "0x55550000a000");
	ck_assert_int_eq(u64_at(r, K("%d.blocks.0.size", FX_SITE_CONFIG)), 4096);
	/* A site without a stack: an empty list. */
	ck_assert_int_eq(len_at(r, "processes.1.sites.0.frames"), 0);
	/* Kinds: the records' blocks, never read from memory here, are definitely lost. */
	ck_assert_str_eq(str_at(r, K("%d.kind", FX_SITE_LIST)), "definite");
	ck_assert_int_eq(u64_at(r, K("%d.indirect_bytes", FX_SITE_LIST)), 0);
	ck_assert_int_eq(u64_at(r, "processes.0.kinds.reachable.bytes"), 0);
	ck_assert_int_eq(bool_at(r, "processes.0.memory_read"), 0);
	ck_assert(null_at(r, "processes.0.hold_ns"));
	ck_assert_int_eq(u64_at(r, "version"), 2);
#undef K
	json_object_put(r);
}
END_TEST

START_TEST(test_suppressions)
{
	struct fixture f;
	struct json_opts o = opts();
	json_object *r;

	fixture_init(&f, 4242);
	r = write_and_parse(&f.j, &o);
	/* Each rule that matched once, in the order sites met them, with its totals. */
	ck_assert_int_eq(len_at(r, "suppressions.used"), 3);
	ck_assert_str_eq(str_at(r, "suppressions.used.0.name"), "cache");
	ck_assert_str_eq(str_at(r, "suppressions.used.0.form"), "native");
	ck_assert_int_eq(u64_at(r, "suppressions.used.0.budget.bytes"), 100);
	ck_assert_int_eq(u64_at(r, "suppressions.used.0.budget.allocations"), 1);
	ck_assert_int_eq(u64_at(r, "suppressions.used.0.matched.bytes"), 200);
	ck_assert_int_eq(u64_at(r, "suppressions.used.0.matched.allocations"), 2);
	ck_assert_int_eq(u64_at(r, "suppressions.used.0.matched.sites"), 1);
	ck_assert_str_eq(str_at(r, "suppressions.used.1.name"), "libc-init");
	ck_assert(null_at(r, "suppressions.used.1.budget"));
	ck_assert_str_eq(str_at(r, "suppressions.used.2.name"), "pool");
	ck_assert(null_at(r, "suppressions.used.2.budget.allocations"));
	/* Unused rules and loose budgets. */
	ck_assert_int_eq(len_at(r, "suppressions.unused"), 1);
	ck_assert_str_eq(str_at(r, "suppressions.unused.0.name"), "old-leak");
	ck_assert_str_eq(str_at(r, "suppressions.unused.0.form"), "lsan");
	ck_assert_int_eq(u64_at(r, "suppressions.unused.0.line"), 20);
	ck_assert_int_eq(u64_at(r, "suppressions.unused.0.matched.sites"), 0);
	ck_assert_int_eq(len_at(r, "suppressions.loose_budgets"), 1);
	ck_assert_str_eq(str_at(r, "suppressions.loose_budgets.0.name"), "pool");
	ck_assert_int_eq(u64_at(r, "suppressions.loose_budgets.0.matched.bytes"), 64);
	json_object_put(r);

	/* The summary lists 10 unused rules; the JSON report every one. */
	{
		const struct suppression_rule *many[25];

		for (size_t i = 0; i < 25; i++)
			many[i] = &f.rules[FX_RULE_OLD];
		f.j.unused = many;
		f.j.nunused = 25;
		r = write_and_parse(&f.j, &o);
		ck_assert_int_eq(len_at(r, "suppressions.unused"), 25);
		ck_assert_str_eq(str_at(r, "suppressions.unused.24.name"), "old-leak");
		json_object_put(r);
	}
}
END_TEST

START_TEST(test_verdicts)
{
	struct fixture f;
	struct json_opts o = opts();
	json_object *r;

	/* Clean run. */
	fixture_clean(&f);
	r = write_and_parse(&f.j, &o);
	ck_assert_str_eq(str_at(r, "verdict"), "pass");
	ck_assert_int_eq(bool_at(r, "leak_gate_passed"), 1);
	ck_assert_int_eq(len_at(r, "reasons"), 0);
	ck_assert_int_eq(len_at(r, "processes.0.sites"), 0);
	json_object_put(r);

	/* No leaks, but the program failed: the run fails for that reason alone. */
	o.exit_status = 3 << 8;
	r = write_and_parse(&f.j, &o);
	ck_assert_str_eq(str_at(r, "verdict"), "fail");
	ck_assert_int_eq(bool_at(r, "leak_gate_passed"), 1);
	ck_assert_int_eq(u64_at(r, "program.exit_code"), 3);
	ck_assert(reasons_have(r, "program-failed"));
	json_object_put(r);

	/* Killed by its timeout. */
	o.exit_status = SIGKILL;
	o.timed_out = 1;
	r = write_and_parse(&f.j, &o);
	ck_assert(null_at(r, "program.exit_code"));
	ck_assert_int_eq(u64_at(r, "program.signal"), SIGKILL);
	ck_assert_int_eq(bool_at(r, "program.timed_out"), 1);
	ck_assert(reasons_have(r, "timeout"));
	json_object_put(r);

	/* Leaks within the run's budget: they do not fail. */
	fixture_init(&f, 4242);
	f.j.over_budget = 0;
	f.j.lost_data = 0;
	f.sj[FX_SITE_CACHE].verdict = SITE_WITHIN_BUDGET;
	f.procs[1].lost = (struct lost_counts){ 0 };
	o = opts();
	o.max_leaked_bytes = 1 << 20;
	o.max_leaked_allocs = 100;
	r = write_and_parse(&f.j, &o);
	ck_assert_str_eq(str_at(r, "verdict"), "pass");
	ck_assert_int_eq(u64_at(r, "totals.failing_sites"), 0);
	ck_assert_int_eq(bool_at(r, "processes.0.sites.0.fails"), 0);
	ck_assert_str_eq(str_at(r, "processes.0.sites.0.verdict"), "leak");
	json_object_put(r);
}
END_TEST

START_TEST(test_clean_strings)
{
	struct fixture f;
	struct json_opts o = opts();
	const char *const argv[] = { "sh", "-c", "printf 'a\\tb\\n'\n", "\xff", NULL };
	json_object *r;

	fixture_init(&f, 4242);
	o.argv = argv;
	r = write_and_parse(&f.j, &o);
	/* Invalid UTF-8 is replaced; control characters are kept, escaped by JSON. */
	ck_assert_str_eq(str_at(r, "processes.0.sites.5.name"),
			 "op<>&\"' \x01\x1b[31m?? \xc3\xa9t\xc3\xa9");
	ck_assert_str_eq(str_at(r, "processes.0.sites.5.frames.0.function"),
			 "op<>&\"' \x01\x1b[31m?? \xc3\xa9t\xc3\xa9");
	ck_assert_str_eq(str_at(r, "program.command.2"), "printf 'a\\tb\\n'\n");
	ck_assert_str_eq(str_at(r, "program.command.3"), "?");
	json_object_put(r);
}
END_TEST

START_TEST(test_whole_or_nothing)
{
	struct fixture f;
	struct json_opts o = opts();
	char bad[8300];
	size_t len = 0;
	char *text;
	FILE *fp;

	fixture_init(&f, 4242);
	snprintf(bad, sizeof(bad), "%s/no/such/dir/run.json", tmpdir);
	ck_assert_int_eq(json__write(&f.j, &o, bad), -ENOENT);
	/* An old report is replaced whole. */
	fp = fopen(path, "w");
	ck_assert_ptr_nonnull(fp);
	fputs("{\"stale\": true, \"padding\": \"..................................................."
	      "..................................................................\"}", fp);
	fclose(fp);
	ck_assert_int_eq(json__write(&f.j, &o, path), 0);
	text = json__render(&f.j, &o, &len);
	ck_assert_ptr_nonnull(text);
	ck_assert_uint_eq(strlen(text), len);
	ck_assert_int_eq(text[len - 1], '\n');
	fp = fopen(path, "r");
	ck_assert_ptr_nonnull(fp);
	{
		char *disk = NULL;
		size_t cap = 0;

		ck_assert_int_eq(getdelim(&disk, &cap, '\0', fp) > 0, 1);
		ck_assert_str_eq(disk, text);
		ck_assert_ptr_null(strstr(disk, "stale"));
		free(disk);
	}
	fclose(fp);
	free(text);
}
END_TEST

START_TEST(test_defaults)
{
	struct fixture f;
	json_object *r;
	char *text;

	fixture_clean(&f);
	text = json__render(&f.j, NULL, NULL);
	ck_assert_ptr_nonnull(text);
	r = json_tokener_parse(text);
	ck_assert_ptr_nonnull(r);
	ck_assert(null_at(r, "program.command"));
	ck_assert_str_eq(str_at(r, "verdict"), "pass");
	json_object_put(r);
	free(text);
}
END_TEST

static Suite *suite(void)
{
	Suite *s = suite_create("json");
	TCase *tc = tcase_create("report");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_run_fields);
	tcase_add_test(tc, test_processes);
	tcase_add_test(tc, test_sites_and_frames);
	tcase_add_test(tc, test_suppressions);
	tcase_add_test(tc, test_verdicts);
	tcase_add_test(tc, test_clean_strings);
	tcase_add_test(tc, test_whole_or_nothing);
	tcase_add_test(tc, test_defaults);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return test_run_suite(suite());
}
