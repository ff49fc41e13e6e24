/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * The JUnit report: valid against tests/data/junit.xsd, counts that agree with the
 * testcases, stable names, stacks and locations in failures, escaping, whole-or-nothing
 * writes. Judgements are built by hand (tests/report_fixture.h).
 */
#include <check.h>
#include <dirent.h>
#include <errno.h>
#include <libxml/parser.h>
#include <libxml/xmlschemas.h>
#include <libxml/xpath.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "reporters/junit.h"
#include "tests/report_fixture.h"
#include "tests/testutil.h"

static char tmpdir[4096];

static void make_tmpdir(void)
{
	snprintf(tmpdir, sizeof(tmpdir), "%s/check_junit.XXXXXX",
		 getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp");
	ck_assert_ptr_nonnull(mkdtemp(tmpdir));
}

static void remove_tmpdir(void)
{
	DIR *d = opendir(tmpdir);
	struct dirent *e;
	char path[8192];

	while (d && (e = readdir(d))) {
		if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
			continue;
		snprintf(path, sizeof(path), "%s/%s", tmpdir, e->d_name);
		if (unlink(path))
			rmdir(path);
	}
	if (d)
		closedir(d);
	rmdir(tmpdir);
}

/* Entries of the test directory: a failed write must leave no temporary file. */
static int count_entries(const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	int n = 0;

	ck_assert_ptr_nonnull(d);
	while ((e = readdir(d)))
		n += strcmp(e->d_name, ".") && strcmp(e->d_name, "..");
	closedir(d);
	return n;
}

/* The schema sits beside the tests: tests/data/junit.xsd from where this file was built. */
static const char *schema_path(void)
{
	static char path[4096];
	const char *slash = strrchr(__FILE__, '/');

	snprintf(path, sizeof(path), "%.*s/data/junit.xsd", slash ? (int)(slash - __FILE__) : 1,
		 slash ? __FILE__ : ".");
	return path;
}

/* Validates against the schema; returns the number of errors (0 when valid). */
static int validate(xmlDocPtr doc)
{
	xmlSchemaParserCtxtPtr pctx = xmlSchemaNewParserCtxt(schema_path());
	xmlSchemaPtr schema;
	xmlSchemaValidCtxtPtr vctx;
	int ret;

	ck_assert_msg(pctx != NULL, "cannot read %s", schema_path());
	schema = xmlSchemaParse(pctx);
	ck_assert_msg(schema != NULL, "%s is not a valid schema", schema_path());
	vctx = xmlSchemaNewValidCtxt(schema);
	ck_assert_ptr_nonnull(vctx);
	ret = xmlSchemaValidateDoc(vctx, doc);
	xmlSchemaFreeValidCtxt(vctx);
	xmlSchemaFree(schema);
	xmlSchemaFreeParserCtxt(pctx);
	return ret;
}

/* Writes the report for j to a file, reads it back, checks it against the schema. */
static xmlDocPtr write_and_read(const struct judgement *j, const struct junit_opts *o)
{
	char path[8192];
	xmlDocPtr doc;

	snprintf(path, sizeof(path), "%s/report.xml", tmpdir);
	ck_assert_int_eq(junit__write(j, o, path), 0);
	doc = xmlReadFile(path, NULL, XML_PARSE_NONET);
	ck_assert_msg(doc != NULL, "%s is not well-formed XML", path);
	ck_assert_msg(validate(doc) == 0, "%s does not validate against %s", path, schema_path());
	return doc;
}

static xmlXPathObjectPtr eval(xmlDocPtr doc, const char *expr)
{
	xmlXPathContextPtr ctx = xmlXPathNewContext(doc);
	xmlXPathObjectPtr r;

	ck_assert_ptr_nonnull(ctx);
	r = xmlXPathEvalExpression(BAD_CAST expr, ctx);
	xmlXPathFreeContext(ctx);
	ck_assert_msg(r != NULL, "bad XPath: %s", expr);
	return r;
}

static double xnum(xmlDocPtr doc, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static double xnum(xmlDocPtr doc, const char *fmt, ...)
{
	char expr[2048];
	va_list ap;
	xmlXPathObjectPtr r;
	double v;

	va_start(ap, fmt);
	vsnprintf(expr, sizeof(expr), fmt, ap);
	va_end(ap);
	r = eval(doc, expr);
	v = xmlXPathCastToNumber(r);
	xmlXPathFreeObject(r);
	return v;
}

/* The string value of an expression, in a static buffer per call slot. */
static const char *xstr(xmlDocPtr doc, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static const char *xstr(xmlDocPtr doc, const char *fmt, ...)
{
	static char slots[4][16384];
	static int next;
	char expr[2048], *out = slots[next++ % 4];
	va_list ap;
	xmlXPathObjectPtr r;
	xmlChar *s;

	va_start(ap, fmt);
	vsnprintf(expr, sizeof(expr), fmt, ap);
	va_end(ap);
	r = eval(doc, expr);
	s = xmlXPathCastToString(r);
	snprintf(out, sizeof(slots[0]), "%s", s ? (const char *)s : "");
	xmlFree(s);
	xmlXPathFreeObject(r);
	return out;
}

/* The testcase named NAME (names with quotes need case_at). */
#define CASE(name) "//testcase[@name='" name "']"

static const char *const argv_leaky[] = { "./build/leaky", "--fast", "it's", NULL };

static struct junit_opts opts(void)
{
	return (struct junit_opts){ .argv = argv_leaky, .duration_s = 1.5,
				    .timestamp = 1700000000, .hostname = "ci-runner" };
}

START_TEST(test_valid_and_structured)
{
	struct fixture f;
	struct junit_opts o = opts();
	xmlDocPtr doc;

	make_tmpdir();
	fixture_init(&f, 4242);
	doc = write_and_read(&f.j, &o);
	ck_assert_double_eq(xnum(doc, "count(/testsuites/testsuite)"), 2);
	ck_assert_str_eq(xstr(doc, "/testsuites/@name"), "memleak-run: leaky");
	ck_assert_str_eq(xstr(doc, "/testsuites/@time"), "1.500");
	/* The program, then the child it started, named by command rather than pid. */
	ck_assert_str_eq(xstr(doc, "/testsuites/testsuite[1]/@name"), "memleak-run: leaky");
	ck_assert_str_eq(xstr(doc, "/testsuites/testsuite[2]/@name"), "memleak-run: leaky: sh");
	ck_assert_str_eq(xstr(doc, "/testsuites/testsuite[1]/@timestamp"), "2023-11-14T22:13:20");
	ck_assert_str_eq(xstr(doc, "/testsuites/testsuite[1]/@hostname"), "ci-runner");
	/* One testcase per site, plus exit status and lost events. */
	ck_assert_double_eq(xnum(doc, "count(/testsuites/testsuite[1]/testcase)"),
			    FX_NSITES_LEAKY + 2);
	ck_assert_double_eq(xnum(doc, "count(/testsuites/testsuite[2]/testcase)"), 1 + 2);
	ck_assert_double_eq(xnum(doc, "count(//testcase[@classname='leaks.leaky'])"),
			    FX_NSITES_LEAKY + 2);
	ck_assert_double_eq(xnum(doc, "count(//testcase[@classname='leaks.leaky.sh'])"), 3);
	/* The pid is a property, never part of a name. */
	ck_assert_str_eq(xstr(doc, "/testsuites/testsuite[1]/properties/property[@name='pid']"
				   "/@value"), "4242");
	ck_assert_str_eq(xstr(doc, "/testsuites/testsuite[2]/properties/property[@name='ppid']"
				   "/@value"), "4242");
	ck_assert_str_eq(xstr(doc, "/testsuites/testsuite[1]/properties/property[@name="
				   "'executable']/@value"), FX_WORKSPACE "/build/leaky");
	ck_assert_str_eq(xstr(doc, "/testsuites/testsuite[1]/properties/property[@name="
				   "'command']/@value"), "./build/leaky --fast 'it'\\''s'");
	ck_assert_double_eq(xnum(doc, "count(//@name[contains(., '4242')])"), 0);
	ck_assert_double_eq(xnum(doc, "count(//testcase/@*[contains(., '4242')])"), 0);
	xmlFreeDoc(doc);
	remove_tmpdir();
}
END_TEST

START_TEST(test_counts_agree)
{
	struct fixture f;
	struct junit_opts o = opts();
	xmlDocPtr doc;
	int nsuites;

	make_tmpdir();
	fixture_init(&f, 4242);
	doc = write_and_read(&f.j, &o);
	nsuites = (int)xnum(doc, "count(/testsuites/testsuite)");
	for (int i = 1; i <= nsuites; i++) {
		const char *s = "/testsuites/testsuite";

		ck_assert_double_eq(xnum(doc, "%s[%d]/@tests", s, i),
				    xnum(doc, "count(%s[%d]/testcase)", s, i));
		ck_assert_double_eq(xnum(doc, "%s[%d]/@failures", s, i),
				    xnum(doc, "count(%s[%d]/testcase[failure])", s, i));
		ck_assert_double_eq(xnum(doc, "%s[%d]/@errors", s, i),
				    xnum(doc, "count(%s[%d]/testcase[error])", s, i));
		ck_assert_double_eq(xnum(doc, "%s[%d]/@skipped", s, i),
				    xnum(doc, "count(%s[%d]/testcase[skipped])", s, i));
	}
	ck_assert_double_eq(xnum(doc, "/testsuites/@tests"), xnum(doc, "count(//testcase)"));
	ck_assert_double_eq(xnum(doc, "/testsuites/@failures"),
			    xnum(doc, "count(//testcase[failure])"));
	ck_assert_double_eq(xnum(doc, "/testsuites/@skipped"),
			    xnum(doc, "count(//testcase[skipped])"));
	ck_assert_double_eq(xnum(doc, "/testsuites/@errors"), 0);
	/* leaky: 3 leaks and the site over budget fail; 2 accepted sites are skipped. */
	ck_assert_double_eq(xnum(doc, "/testsuites/testsuite[1]/@failures"), 4);
	ck_assert_double_eq(xnum(doc, "/testsuites/testsuite[1]/@skipped"), 2);
	/* sh: its leak and its lost events fail; its own exit status 1 does not. */
	ck_assert_double_eq(xnum(doc, "/testsuites/testsuite[2]/@failures"), 2);
	xmlFreeDoc(doc);
	remove_tmpdir();
}
END_TEST

START_TEST(test_failure_has_stack_and_location)
{
	struct fixture f;
	struct junit_opts o = opts();
	xmlDocPtr doc;
	const char *text;

	make_tmpdir();
	fixture_init(&f, 4242);
	doc = write_and_read(&f.j, &o);
	ck_assert_str_eq(xstr(doc, CASE(FX_NAME_CONFIG) "/failure/@message"),
			 "4096 bytes in 1 allocation definitely lost");
	ck_assert_str_eq(xstr(doc, CASE(FX_NAME_CONFIG) "/failure/@type"), "definitely-lost");
	ck_assert_str_eq(xstr(doc, CASE(FX_NAME_LIST) "/failure/@message"),
			 "320 bytes in 5 allocations definitely lost");
	ck_assert_str_eq(xstr(doc, CASE(FX_NAME_LIST) "/@file"), FX_LEAKY_C);
	ck_assert_str_eq(xstr(doc, CASE(FX_NAME_LIST) "/@line"), "19");
	ck_assert_str_eq(xstr(doc, CASE(FX_NAME_CONFIG) "/@line"), "41");
	text = xstr(doc, CASE(FX_NAME_LIST) "/failure");
	ck_assert_msg(strstr(text, "#0 make_node+0x1d (" FX_LEAKY_C ":19) [leaky]\n"), "%s", text);
	ck_assert_msg(strstr(text, "#1 build_list+0x25 (" FX_LEAKY_C ":34) [leaky]\n"), "%s", text);
	ck_assert_msg(strstr(text, "#2 main+0xe (" FX_LEAKY_C ":51) [leaky]\n"), "%s", text);
	ck_assert_msg(strstr(text, "#3 __libc_start_call_main+0x7a [libc.so.6]\n"), "%s", text);
	ck_assert_msg(strstr(text, "320 bytes in 5 allocations not freed"), "%s", text);
	/* A site without a stack says so, and has no location. */
	text = xstr(doc, CASE(FX_NAME_NOSTACK) "/failure");
	ck_assert_msg(strstr(text, "(no stack was captured)"), "%s", text);
	ck_assert_double_eq(xnum(doc, "count(" CASE(FX_NAME_NOSTACK) "/@file)"), 0);
	ck_assert_double_eq(xnum(doc, "count(" CASE(FX_NAME_NOSTACK) "/@line)"), 0);
	xmlFreeDoc(doc);
	remove_tmpdir();
}
END_TEST

START_TEST(test_rules_and_accepted_sites)
{
	struct fixture f;
	struct junit_opts o = opts();
	xmlDocPtr doc;
	const char *text;

	make_tmpdir();
	fixture_init(&f, 4242);
	doc = write_and_read(&f.j, &o);
	/* Over a rule's budget: a failure naming the rule and its budget. */
	ck_assert_str_eq(xstr(doc, CASE(FX_NAME_CACHE) "/failure/@type"), "over-budget");
	ck_assert_str_eq(xstr(doc, CASE(FX_NAME_CACHE) "/failure/@message"),
			 "200 bytes in 2 allocations definitely lost, over the budget of cache (supp.txt:7)");
	text = xstr(doc, CASE(FX_NAME_CACHE) "/failure");
	ck_assert_msg(strstr(text, "its budget is at most 100 bytes in 1 allocation"), "%s", text);
	ck_assert_msg(strstr(text, "#0 cache_put+0x10"), "%s", text);
	/* Suppressed: skipped with the rule, the stack in system-out, no location. */
	ck_assert_double_eq(xnum(doc, "count(" CASE(FX_NAME_LIBC) "/failure)"), 0);
	ck_assert_str_eq(xstr(doc, CASE(FX_NAME_LIBC) "/skipped/@message"),
			 "72 bytes in 1 allocation definitely lost, suppressed by libc-init (supp.txt:3)");
	text = xstr(doc, CASE(FX_NAME_LIBC) "/system-out");
	ck_assert_msg(strstr(text, "#0 _IO_file_doallocate+0x94 [libc.so.6]\n#1 0x7f0000061000 "
				   "[libc.so.6]"), "%s", text);
	ck_assert_double_eq(xnum(doc, "count(" CASE(FX_NAME_LIBC) "/@file)"), 0);
	/* Within a rule's budget: skipped, with the budget; no limit on allocations. */
	ck_assert_str_eq(xstr(doc, CASE(FX_NAME_POOL) "/skipped/@message"),
			 "64 bytes in 1 allocation definitely lost, within the budget of pool (" FX_WORKSPACE
			 "/supp.txt:12): at most 128 bytes in any number of allocations");
	ck_assert_str_eq(xstr(doc, CASE(FX_NAME_POOL) "/@line"), "70");
	xmlFreeDoc(doc);
	remove_tmpdir();
}
END_TEST

START_TEST(test_leaks_within_run_budget)
{
	struct fixture f;
	struct junit_opts o = opts();
	xmlDocPtr doc;
	const char *text;

	make_tmpdir();
	fixture_init(&f, 4242);
	/* The run allows 10000 bytes: only the rule over its budget fails the run. */
	o.max_leaked_bytes = 10000;
	o.max_leaked_allocs = 100;
	doc = write_and_read(&f.j, &o);
	ck_assert_double_eq(xnum(doc, "count(" CASE(FX_NAME_LIST) "/failure)"), 0);
	ck_assert_str_eq(xstr(doc, CASE(FX_NAME_LIST) "/skipped/@message"),
			 "320 bytes in 5 allocations definitely lost, within the run's leak budget (at most 10000 "
			 "bytes in 100 allocations)");
	text = xstr(doc, CASE(FX_NAME_LIST) "/system-out");
	ck_assert_msg(strstr(text, "#0 make_node"), "%s", text);
	ck_assert_double_eq(xnum(doc, "count(" CASE(FX_NAME_CACHE) "/failure)"), 1);
	xmlFreeDoc(doc);

	/* Nothing over any budget: the judge said so, the leaks pass. */
	f.j.over_budget = 0;
	o.max_leaked_bytes = o.max_leaked_allocs = 0;
	f.sj[FX_SITE_CACHE].verdict = SITE_WITHIN_BUDGET;
	doc = write_and_read(&f.j, &o);
	ck_assert_double_eq(xnum(doc, "count(//testcase[@classname='leaks.leaky']/failure)"), 0);
	ck_assert_str_eq(xstr(doc, CASE(FX_NAME_LIST) "/skipped/@message"),
			 "320 bytes in 5 allocations definitely lost, within the run's leak budget");
	xmlFreeDoc(doc);
	remove_tmpdir();
}
END_TEST

START_TEST(test_exit_status)
{
	struct fixture f;
	struct junit_opts o = opts();
	xmlDocPtr doc;
	const char *root = "/testsuites/testsuite[1]/testcase[@name='exit status']";
	const char *child = "/testsuites/testsuite[2]/testcase[@name='exit status']";

	make_tmpdir();
	fixture_init(&f, 4242);
	doc = write_and_read(&f.j, &o);
	/* The program exited 0: passes. Its child exited 1: informs, does not fail. */
	ck_assert_double_eq(xnum(doc, "count(%s)", root), 1);
	ck_assert_double_eq(xnum(doc, "count(%s/*)", root), 0);
	ck_assert_double_eq(xnum(doc, "count(%s/failure)", child), 0);
	ck_assert_str_eq(xstr(doc, "%s/system-out", child), "exited with status 1 (a process the "
			 "program started: its status is the program's to judge)");
	xmlFreeDoc(doc);

	f.procs[0].exit_code = 3;
	doc = write_and_read(&f.j, &o);
	ck_assert_str_eq(xstr(doc, "%s/failure/@message", root), "exited with status 3");
	ck_assert_str_eq(xstr(doc, "%s/failure/@type", root), "exit-status");
	xmlFreeDoc(doc);

	f.procs[0].exit_code = 0;
	f.procs[0].term_signal = SIGSEGV;
	doc = write_and_read(&f.j, &o);
	ck_assert_str_eq(xstr(doc, "%s/failure/@message", root), "killed by signal 11 (SIGSEGV)");
	xmlFreeDoc(doc);

	f.procs[0].term_signal = SIGKILL;
	o.timed_out = 1;
	doc = write_and_read(&f.j, &o);
	ck_assert_str_eq(xstr(doc, "%s/failure/@type", root), "timeout");
	ck_assert_str_eq(xstr(doc, "%s/failure/@message", root),
			 "killed by signal 9 (SIGKILL), ended by the run's timeout");
	xmlFreeDoc(doc);

	/* Automake: 77 skips, 99 is a hard error. */
	o.timed_out = 0;
	f.procs[0].term_signal = 0;
	f.procs[0].exit_code = 77;
	doc = write_and_read(&f.j, &o);
	ck_assert_double_eq(xnum(doc, "count(%s/skipped)", root), 1);
	xmlFreeDoc(doc);
	f.procs[0].exit_code = 99;
	doc = write_and_read(&f.j, &o);
	ck_assert_double_eq(xnum(doc, "count(%s/error)", root), 1);
	ck_assert_double_eq(xnum(doc, "/testsuites/testsuite[1]/@errors"), 1);
	ck_assert_double_eq(xnum(doc, "/testsuites/@errors"), 1);
	xmlFreeDoc(doc);
	remove_tmpdir();
}
END_TEST

START_TEST(test_no_process_judged)
{
	struct fixture f;
	struct junit_opts o = opts();
	xmlDocPtr doc;

	make_tmpdir();
	fixture_init(&f, 4242);
	f.j.nprocs = 0;
	f.j.over_budget = f.j.lost_data = 0;
	o.exit_status = 2 << 8;	/* exited with status 2 */
	doc = write_and_read(&f.j, &o);
	ck_assert_double_eq(xnum(doc, "count(//testsuite)"), 1);
	ck_assert_str_eq(xstr(doc, "//testsuite/@name"), "memleak-run: leaky");
	ck_assert_str_eq(xstr(doc, "//testcase[@name='exit status']/failure/@message"),
			 "exited with status 2");
	xmlFreeDoc(doc);
	remove_tmpdir();
}
END_TEST

START_TEST(test_lost_events)
{
	struct fixture f;
	struct junit_opts o = opts();
	xmlDocPtr doc;
	const char *lost = "testcase[@name='no events lost']";
	const char *text;

	make_tmpdir();
	fixture_init(&f, 4242);
	doc = write_and_read(&f.j, &o);
	ck_assert_double_eq(xnum(doc, "count(/testsuites/testsuite[1]/%s/failure)", lost), 0);
	ck_assert_str_eq(xstr(doc, "/testsuites/testsuite[2]/%s/failure/@type", lost), "lost-data");
	ck_assert_str_eq(xstr(doc, "/testsuites/testsuite[2]/%s/failure/@message", lost),
			 "5 events lost: the leaks of this process may be under-reported");
	text = xstr(doc, "/testsuites/testsuite[2]/%s/failure", lost);
	ck_assert_msg(strstr(text, "map_full: 3 "), "%s", text);
	ck_assert_msg(strstr(text, "ringbuf_drops: 2 "), "%s", text);
	ck_assert_msg(strstr(text, "missed_frees: 4 "), "%s", text);
	ck_assert_msg(!strstr(text, "stack_errors"), "%s", text);
	xmlFreeDoc(doc);
	remove_tmpdir();
}
END_TEST

START_TEST(test_escaping_and_clean_text)
{
	struct fixture f;
	struct junit_opts o = opts();
	char path[8192], *raw = NULL;
	size_t len = 0;
	xmlDocPtr doc;
	const char *weird = "//testcase[@classname='leaks.leaky'][6]";
	FILE *in;

	make_tmpdir();
	fixture_init(&f, 4242);
	doc = write_and_read(&f.j, &o);
	/* Markup survives as text; control characters and invalid UTF-8 became '?'. */
	ck_assert_str_eq(xstr(doc, "%s/@name", weird), FX_NAME_WEIRD_CLEAN);
	ck_assert_str_eq(xstr(doc, "%s/@file", weird), FX_WORKSPACE "/src/we<ird>&.c");
	ck_assert_msg(strstr(xstr(doc, "%s/failure", weird), "#0 " FX_NAME_WEIRD_CLEAN "+0x4 ("),
		      "%s", xstr(doc, "%s/failure", weird));
	xmlFreeDoc(doc);

	snprintf(path, sizeof(path), "%s/report.xml", tmpdir);
	in = fopen(path, "r");
	ck_assert_ptr_nonnull(in);
	ck_assert_int_eq(getdelim(&raw, &len, '\0', in) > 0, 1);
	fclose(in);
	for (const unsigned char *p = (const unsigned char *)raw; *p; p++)
		ck_assert_msg(*p >= 0x20 || *p == '\n' || *p == '\t',
			      "control character 0x%02x in the report", *p);
	ck_assert_ptr_nonnull(strstr(raw, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>"));
	ck_assert_ptr_nonnull(strstr(raw, "op&lt;&gt;&amp;"));
	free(raw);

	/* A site the judge could not name still makes a valid testcase. */
	f.sj[FX_SITE_LIST].name = NULL;
	f.sj[FX_SITE_CONFIG].name = (char *)"";
	doc = write_and_read(&f.j, &o);
	ck_assert_double_eq(xnum(doc, "count(//testcase[@name='(unnamed site)'])"), 2);
	xmlFreeDoc(doc);
	remove_tmpdir();
}
END_TEST

/* Every suite's name and every testcase's classname and name, in order. */
static char *names_of(xmlDocPtr doc)
{
	xmlXPathObjectPtr r = eval(doc, "//testsuite/@name | //testcase/@classname | "
					"//testcase/@name");
	char *buf = NULL;
	size_t len = 0;
	FILE *out = open_memstream(&buf, &len);

	ck_assert_ptr_nonnull(r->nodesetval);
	for (int i = 0; i < r->nodesetval->nodeNr; i++) {
		xmlChar *s = xmlNodeGetContent(r->nodesetval->nodeTab[i]);

		fprintf(out, "%s\n", (const char *)s);
		xmlFree(s);
	}
	fclose(out);
	xmlXPathFreeObject(r);
	return buf;
}

START_TEST(test_names_stable_across_runs)
{
	struct fixture a, b;
	struct junit_opts oa = opts(), ob = opts();
	const char *const argv_b[] = { "/elsewhere/build/leaky", "--fast", "it's", NULL };
	xmlDocPtr da, db;
	char *na, *nb;

	make_tmpdir();
	fixture_init(&a, 4242);
	fixture_init(&b, 31337);
	ob.argv = argv_b;
	ob.timestamp = 1800000000;
	ob.hostname = "other";
	b.procs[0].exe = "/elsewhere/build/leaky";
	da = write_and_read(&a.j, &oa);
	db = write_and_read(&b.j, &ob);
	na = names_of(da);
	nb = names_of(db);
	ck_assert_str_eq(na, nb);
	ck_assert_msg(strstr(na, "leaks.leaky.sh"), "%s", na);
	free(na);
	free(nb);
	xmlFreeDoc(da);
	xmlFreeDoc(db);
	remove_tmpdir();
}
END_TEST

START_TEST(test_same_name_processes_numbered_by_start)
{
	struct fixture f;
	struct junit_opts o = opts();
	struct proc_record sh[3];
	struct proc_judgement pj[4];
	xmlDocPtr doc;

	make_tmpdir();
	fixture_init(&f, 100);
	/* Three shells exiting in another order than they started. */
	pj[0] = f.pj[0];
	for (int i = 0; i < 3; i++) {
		sh[i] = f.procs[1];
		sh[i].lost = (struct lost_counts){ 0 };
		pj[i + 1] = f.pj[1];
		pj[i + 1].proc = &sh[i];
	}
	sh[0].pid = 130;
	sh[1].pid = 110;
	sh[2].pid = 120;
	f.j.procs = pj;
	f.j.nprocs = 4;
	doc = write_and_read(&f.j, &o);
	ck_assert_str_eq(xstr(doc, "/testsuites/testsuite[2]/@name"), "memleak-run: leaky: sh #3");
	ck_assert_str_eq(xstr(doc, "/testsuites/testsuite[3]/@name"), "memleak-run: leaky: sh");
	ck_assert_str_eq(xstr(doc, "/testsuites/testsuite[4]/@name"), "memleak-run: leaky: sh #2");
	ck_assert_str_eq(xstr(doc, "/testsuites/testsuite[2]/testcase[1]/@classname"),
			 "leaks.leaky.sh_3");
	xmlFreeDoc(doc);
	remove_tmpdir();
}
END_TEST

START_TEST(test_whole_or_nothing)
{
	struct fixture f;
	struct junit_opts o = opts();
	char path[8192], *text = NULL;
	size_t len = 0;
	struct stat st;
	mode_t old;
	FILE *fp;

	make_tmpdir();
	fixture_init(&f, 4242);

	/* A directory that does not exist: an error, nothing created. */
	snprintf(path, sizeof(path), "%s/missing/report.xml", tmpdir);
	ck_assert_int_eq(junit__write(&f.j, &o, path), -ENOENT);
	ck_assert_int_eq(count_entries(tmpdir), 0);

	/* The destination is a directory: an error, no temporary file left behind. */
	snprintf(path, sizeof(path), "%s/report.xml", tmpdir);
	ck_assert_int_eq(mkdir(path, 0755), 0);
	ck_assert_int_lt(junit__write(&f.j, &o, path), 0);
	ck_assert_int_eq(count_entries(tmpdir), 1);
	ck_assert_int_eq(rmdir(path), 0);

	/* An old report is replaced whole; the mode follows the umask. */
	fp = fopen(path, "w");
	ck_assert_ptr_nonnull(fp);
	fputs("old contents that are longer than nothing", fp);
	fclose(fp);
	old = umask(027);
	ck_assert_int_eq(junit__write(&f.j, &o, path), 0);
	umask(old);
	ck_assert_int_eq(stat(path, &st), 0);
	ck_assert_int_eq(st.st_mode & 0777, 0640);
	ck_assert_int_eq(count_entries(tmpdir), 1);
	fp = fopen(path, "r");
	ck_assert_ptr_nonnull(fp);
	ck_assert_int_eq(getdelim(&text, &len, '\0', fp) > 0, 1);
	fclose(fp);
	ck_assert_msg(!strncmp(text, "<?xml", 5), "%s", text);
	ck_assert_ptr_null(strstr(text, "old contents"));
	ck_assert_ptr_nonnull(strstr(text, "</testsuites>\n"));
	free(text);
	remove_tmpdir();
}
END_TEST

START_TEST(test_render_defaults)
{
	struct fixture f;
	size_t len = 0;
	char *xml;

	/* No options: the tool's name, no command, the present time. */
	fixture_clean(&f);
	xml = junit__render(&f.j, NULL, &len);
	ck_assert_ptr_nonnull(xml);
	ck_assert_uint_eq(strlen(xml), len);
	ck_assert_ptr_nonnull(strstr(xml, "<testsuites name=\"memleak-run\" tests=\"2\" "
					  "failures=\"0\""));
	ck_assert_ptr_nonnull(strstr(xml, "name=\"memleak-run: leaky\""));
	ck_assert_ptr_null(strstr(xml, "<failure"));
	free(xml);
}
END_TEST

static Suite *suite(void)
{
	Suite *s = suite_create("junit");
	TCase *tc = tcase_create("report");

	tcase_add_test(tc, test_valid_and_structured);
	tcase_add_test(tc, test_counts_agree);
	tcase_add_test(tc, test_failure_has_stack_and_location);
	tcase_add_test(tc, test_rules_and_accepted_sites);
	tcase_add_test(tc, test_leaks_within_run_budget);
	tcase_add_test(tc, test_exit_status);
	tcase_add_test(tc, test_no_process_judged);
	tcase_add_test(tc, test_lost_events);
	tcase_add_test(tc, test_escaping_and_clean_text);
	tcase_add_test(tc, test_names_stable_across_runs);
	tcase_add_test(tc, test_same_name_processes_numbered_by_start);
	tcase_add_test(tc, test_whole_or_nothing);
	tcase_add_test(tc, test_render_defaults);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return test_run_suite(suite());
}
