// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * memleak-run against real programs: verdicts, exit statuses, suppressions, budgets,
 * children, reports.
 */
#include <check.h>
#include <json-c/json.h>
#include <libxml/parser.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sched.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "tests/testutil.h"

static char tmpdir[256];

static void make_tmpdir(void)
{
	snprintf(tmpdir, sizeof(tmpdir), "%s/tests/tmp-run-XXXXXX", test_output_dir());
	ck_assert_ptr_nonnull(mkdtemp(tmpdir));
	chmod(tmpdir, 0777);
}

static void remove_tmpdir(void)
{
	struct run_result r;

	run_sh(&r, "rm -rf '%s'", tmpdir);
	run_result_free(&r);
}

static const char *fixture(const char *name)
{
	return test_path(name);
}

static int cmp_strings(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Runs memleak-run with OPTIONS -- COMMAND through the shell. */
static void gate(struct run_result *r, const char *options, const char *command)
{
	ck_assert_int_eq(run_sh(r, "%s %s -- %s", test_path("memleak-run"), options, command), 0);
}

static void write_file(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");

	ck_assert_ptr_nonnull(f);
	fputs(text, f);
	fclose(f);
}

START_TEST(test_leaky_program_fails_with_23)
{
	struct run_result r;
	char junit[512], cmd[1024];
	struct run_result x;

	make_tmpdir();
	snprintf(junit, sizeof(junit), "%s/leaks.xml", tmpdir);
	snprintf(cmd, sizeof(cmd), "--junit %s", junit);
	gate(&r, cmd, fixture("tests/fixtures/leaky"));
	ck_assert_msg(r.status == 23, "exit %d\n%s", r.status, r.err);
	/* The summary names both leak sites with their stacks; stdout is the program's. */
	ck_assert_msg(strstr(r.err, "make_node") && strstr(r.err, "build_list") &&
		      strstr(r.err, "read_config"), "%s", r.err);
	ck_assert_str_eq(r.out, "");
	/* The JUnit report is valid and names every site with its stack. */
	ck_assert_int_eq(run_sh(&x, "xmllint --noout --schema tests/data/junit.xsd %s", junit), 0);
	ck_assert_msg(x.status == 0, "%s", x.err);
	run_result_free(&x);
	ck_assert_int_eq(run_sh(&x, "cat %s", junit), 0);
	ck_assert_msg(count_substr(x.out, "<failure") >= 2, "%s", x.out);
	ck_assert_msg(strstr(x.out, "make_node") && strstr(x.out, "read_config") &&
		      strstr(x.out, "leaky.c"), "%s", x.out);
	run_result_free(&x);
	run_result_free(&r);
	remove_tmpdir();
}
END_TEST

/*
 * The names of the failing sites of a run's only process, sorted and joined with '\n',
 * from its JSON report.
 */
static char *failing_site_names(const char *options, const char *command)
{
	struct json_object *root, *procs, *sites, *v;
	char json[512], opts[700], *names[64], *joined;
	size_t n = 0, len = 1;
	struct run_result r;

	make_tmpdir();
	snprintf(json, sizeof(json), "%s/run.json", tmpdir);
	snprintf(opts, sizeof(opts), "--json %s %s", json, options);
	gate(&r, opts, command);
	ck_assert_msg(r.status == 23, "%s: exit %d\n%s", command, r.status, r.err);
	root = json_object_from_file(json);
	ck_assert_msg(root != NULL, "no JSON report\n%s", r.err);
	ck_assert(json_object_object_get_ex(root, "processes", &procs));
	ck_assert_int_eq(json_object_array_length(procs), 1);
	ck_assert(json_object_object_get_ex(json_object_array_get_idx(procs, 0), "sites", &sites));
	for (size_t i = 0; i < json_object_array_length(sites) && n < 64; i++) {
		struct json_object *site = json_object_array_get_idx(sites, i);

		if (!json_object_object_get_ex(site, "fails", &v) || !json_object_get_boolean(v))
			continue;
		ck_assert(json_object_object_get_ex(site, "name", &v));
		names[n] = strdup(json_object_get_string(v));
		len += strlen(names[n++]) + 1;
	}
	qsort(names, n, sizeof(names[0]), cmp_strings);
	joined = calloc(1, len);
	for (size_t i = 0; i < n; i++) {
		strcat(joined, names[i]);
		strcat(joined, "\n");
		free(names[i]);
	}
	json_object_put(root);
	run_result_free(&r);
	remove_tmpdir();
	return joined;
}

/*
 * A program built without frame pointers, as most are, leaks at the same sites, under
 * the same names (the JUnit test names), as the same program built with them; and a leak
 * the C library makes for the program (strdup, a stream left open, asprintf) is named by
 * the program's function that asked for it, and fails the run.
 */
START_TEST(test_sites_named_without_frame_pointers)
{
	static const char *const via_libc[] = { "__strdup < copy_name < main (via_libc.c)",
						"__fopen_internal < open_log < main (via_libc.c)",
						"format_message < main (via_libc.c)" };
	const char *flags = _i ? "--no-preload" : "";
	char *with = failing_site_names(flags, fixture("tests/fixtures/leaky"));
	char *without = failing_site_names(flags, fixture("tests/fixtures/nofp_leaky"));

	ck_assert_msg(strstr(with, "make_node < build_list < main (leaky.c)"), "%s", with);
	ck_assert_str_eq(without, with);
	free(with);
	free(without);
	for (int build = 0; build < 2; build++) {
		const char *fx = fixture(build ? "tests/fixtures/nofp_via_libc" : "tests/fixtures/via_libc");
		char all_kinds[64], *names;

		/* Every block, whatever its kind: the stream the C library still lists too. */
		snprintf(all_kinds, sizeof(all_kinds), "%s --errors-for-leak-kinds=all", flags);
		names = failing_site_names(all_kinds, fx);
		for (size_t i = 0; i < sizeof(via_libc) / sizeof(via_libc[0]); i++)
			ck_assert_msg(strstr(names, via_libc[i]), "%s %s: no site %s:\n%s", flags,
				      build ? "without frame pointers" : "", via_libc[i], names);
		ck_assert_msg(strstr(names, "open_log < main (via_libc.c), still reachable"), "%s", names);
		free(names);
		/* By default only what is lost fails. */
		names = failing_site_names(flags, fx);
		ck_assert_msg(strstr(names, via_libc[0]) && !strstr(names, "open_log"), "%s", names);
		free(names);
	}
}
END_TEST

/*
 * A program run from a stacked filesystem, as containers run theirs (overlayfs, where
 * stat() gives the overlay's device while the kernel maps the layer's file), or from a
 * bind mount, leaks at the same sites under the same names as from the build directory.
 * The mounts live in a mount namespace of the test's own: nothing outlives it.
 */
START_TEST(test_sites_named_from_stacked_filesystems)
{
	static const char *const programs[] = { "leaky", "nofp_leaky" };
	static const char *const how[] = { "an overlay", "an overlay, --no-preload", "a bind mount" };
	const char *flags = _i == 1 ? "--no-preload" : "";
	char dir[] = "/tmp/memleak-stacked-XXXXXX", mnt[64], empty[64], command[128];
	struct run_result r;

	ck_assert_int_eq(unshare(CLONE_NEWNS), 0);
	ck_assert_int_eq(mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL), 0);
	ck_assert_ptr_nonnull(mkdtemp(dir));
	snprintf(mnt, sizeof(mnt), "%s/mnt", dir);
	snprintf(empty, sizeof(empty), "%s/empty", dir);
	ck_assert_int_eq(mkdir(mnt, 0755), 0);
	ck_assert_int_eq(mkdir(empty, 0755), 0);
	if (_i < 2) {
		char opts[4400];

		/* Two lower layers and no upper: a read-only overlay of the fixtures. */
		snprintf(opts, sizeof(opts), "lowerdir=%s:%s", test_path("tests/fixtures"), empty);
		ck_assert_msg(mount("overlay", mnt, "overlay", MS_RDONLY, opts) == 0, "overlay: %s",
			      strerror(errno));
	} else {
		ck_assert_msg(mount(test_path("tests/fixtures"), mnt, NULL, MS_BIND, NULL) == 0,
			      "bind mount: %s", strerror(errno));
	}
	for (size_t p = 0; p < sizeof(programs) / sizeof(programs[0]); p++) {
		char fixture_rel[64], *there, *here;

		snprintf(fixture_rel, sizeof(fixture_rel), "tests/fixtures/%s", programs[p]);
		snprintf(command, sizeof(command), "%s/%s", mnt, programs[p]);
		here = failing_site_names(flags, fixture(fixture_rel));
		there = failing_site_names(flags, command);
		ck_assert_msg(strstr(here, "make_node < build_list < main (leaky.c)"), "%s", here);
		ck_assert_msg(!strcmp(there, here), "%s from %s:\n%s\nfrom the build directory:\n%s",
			      programs[p], how[_i], there, here);
		free(here);
		free(there);
	}
	/* Detached: memleak-run's teardown may still hold the fixtures open. */
	ck_assert_int_eq(umount2(mnt, MNT_DETACH), 0);
	run_sh(&r, "rm -rf '%s'", dir);
	run_result_free(&r);
}
END_TEST

START_TEST(test_clean_program_passes)
{
	struct run_result r;
	char cmd[512];

	snprintf(cmd, sizeof(cmd), "%s none", fixture("tests/fixtures/allocs"));
	gate(&r, "", cmd);
	ck_assert_msg(r.status == 0, "exit %d\n%s", r.status, r.err);
	run_result_free(&r);
}
END_TEST

/* The program's own failure passes through unchanged, leaks or not. */
START_TEST(test_exit_status_passes_through)
{
	static const struct {
		const char *args;
		int status;
	} cases[] = {
		{ "exit 3", 3 }, { "exit 77", 77 }, { "exit 1", 1 }, { "signal 15", 128 + 15 },
		{ "signal 6", 128 + 6 },
	};
	struct run_result r;
	char cmd[512];

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		snprintf(cmd, sizeof(cmd), "%s %s", fixture("tests/fixtures/exit_with"), cases[i].args);
		gate(&r, "", cmd);
		ck_assert_msg(r.status == cases[i].status, "%s: exit %d\n%s", cases[i].args, r.status,
			      r.err);
		run_result_free(&r);
	}
}
END_TEST

START_TEST(test_error_exitcode_option)
{
	struct run_result r;

	gate(&r, "--error-exitcode 42", fixture("tests/fixtures/leaky"));
	ck_assert_msg(r.status == 42, "exit %d\n%s", r.status, r.err);
	run_result_free(&r);
}
END_TEST

/*
 * The program runs as it was named: a script reached through a link sees the link in $0
 * (test suites name their tests by it), a program reached through one has the link's name
 * (/proc/PID/comm) and its argv[0], and a name found in PATH is the path execvp forms.
 */
START_TEST(test_runs_as_named)
{
	struct run_result r;
	char path[512], expect[1024];
	char *run = realpath(test_path("memleak-run"), NULL), *dir;

	ck_assert_ptr_nonnull(run);
	make_tmpdir();
	dir = realpath(tmpdir, NULL);
	ck_assert_ptr_nonnull(dir);
	snprintf(path, sizeof(path), "%s/driver.sh", tmpdir);
	write_file(path, "#!/bin/sh\necho \"$0\"\n");
	ck_assert_int_eq(chmod(path, 0755), 0);
	snprintf(path, sizeof(path), "%s/bin", tmpdir);
	ck_assert_int_eq(mkdir(path, 0755), 0);
	snprintf(path, sizeof(path), "%s/bin/one.test", tmpdir);
	ck_assert_int_eq(symlink("../driver.sh", path), 0);
	snprintf(path, sizeof(path), "%s/bin/mysh", tmpdir);
	ck_assert_int_eq(symlink("/bin/sh", path), 0);

	ck_assert_int_eq(run_sh(&r,
				"cd '%s' && %s -- ./bin/one.test && "
				"%s -- ./bin/mysh -c 'echo \"$0\"; cat /proc/$$/comm' && "
				"PATH='%s/bin':\"$PATH\" %s -- one.test",
				dir, run, run, dir, run), 0);
	snprintf(expect, sizeof(expect), "./bin/one.test\n./bin/mysh\nmysh\n%s/bin/one.test\n", dir);
	ck_assert_msg(r.status == 0, "exit %d\n%s", r.status, r.err);
	ck_assert_str_eq(r.out, expect);
	run_result_free(&r);
	free(run);
	free(dir);
	remove_tmpdir();
}
END_TEST

/*
 * The gate executes nothing the program chooses. The program's PT_INTERP is a recorder that
 * logs each run (uid, AT_EXECFN, argv[1]) and hands over to the real dynamic linker. Run
 * under the gate, directly and by a shell that forks and execs it twice, it must run only
 * as the kernel runs it, for the program's own execs: three lines, each naming the
 * program, none as `INTERP --list PROGRAM`.
 */
START_TEST(test_interpreter_never_run_by_gate)
{
	char *run = realpath(test_path("memleak-run"), NULL), *dir, log[512], *text;
	struct run_result r;
	FILE *f;
	long n;

	ck_assert_ptr_nonnull(run);
	make_tmpdir();
	dir = realpath(tmpdir, NULL);
	ck_assert_ptr_nonnull(dir);
	snprintf(log, sizeof(log), "%s/log", dir);
	ck_assert_int_eq(run_sh(&r,
				"cc -DLOG='\"%s\"' -nostdlib -static -fno-stack-protector -ffreestanding "
				"-O1 tests/data/interp_recorder.c -o %s/recorder && cd %s && "
				"echo 'int main(int c, char **v) { return c - 1; }' > t.c && "
				"cc -Wl,--dynamic-linker=%s/recorder t.c -o t && "
				"%s -- ./t && %s -- /bin/sh -c './t && exec ./t'",
				log, dir, dir, dir, run, run), 0);
	ck_assert_msg(r.status == 0, "exit %d\n%s", r.status, r.err);
	run_result_free(&r);
	f = fopen(log, "re");
	ck_assert_ptr_nonnull(f);
	text = calloc(1, 4096);
	ck_assert_ptr_nonnull(text);
	n = (long)fread(text, 1, 4095, f);
	fclose(f);
	ck_assert_int_gt(n, 0);
	ck_assert_msg(count_substr(text, "\n") == 3 && count_substr(text, " execfn=./t argv1=-\n") == 3,
		      "the interpreter ran other than for the program:\n%s", text);
	free(text);
	free(dir);
	free(run);
	remove_tmpdir();
}
END_TEST

START_TEST(test_cannot_execute)
{
	struct run_result r;

	gate(&r, "", "/nonexistent/test-program");
	ck_assert_int_eq(r.status, 127);
	ck_assert_msg(strstr(r.err, "/nonexistent/test-program"), "%s", r.err);
	run_result_free(&r);
}
END_TEST

START_TEST(test_lsan_suppressions)
{
	struct run_result r;
	char supp[512], opts[600];

	make_tmpdir();
	snprintf(supp, sizeof(supp), "%s/lsan.supp", tmpdir);
	write_file(supp, "# LeakSanitizer suppressions\nleak:make_node\nleak:read_config\n");
	snprintf(opts, sizeof(opts), "--suppressions %s", supp);
	gate(&r, opts, fixture("tests/fixtures/leaky"));
	ck_assert_msg(r.status == 0, "exit %d\n%s", r.status, r.err);
	run_result_free(&r);
	/* Half the file: the other site still fails. */
	write_file(supp, "leak:make_node\n");
	gate(&r, opts, fixture("tests/fixtures/leaky"));
	ck_assert_msg(r.status == 23, "exit %d\n%s", r.status, r.err);
	ck_assert_msg(strstr(r.err, "read_config"), "%s", r.err);
	run_result_free(&r);
	remove_tmpdir();
}
END_TEST

/*
 * Functions the compiler inlined are frames, as valgrind and LeakSanitizer show them: the
 * site is named by them, and suppressions written for either tool that name them match.
 */
START_TEST(test_inlined_functions_are_frames)
{
	static const char *const files[] = {
		"leak:make_buffer\n",
		"{\n   inlined buffer\n   Memcheck:Leak\n   fun:malloc\n   fun:make_buffer\n"
		"   fun:fill\n   fun:main\n}\n",
	};
	char *names = failing_site_names("", fixture("tests/fixtures/inlined"));
	struct run_result r;
	char supp[512], opts[600];

	ck_assert_str_eq(names, "make_buffer < fill < main (inlined.c)\n");
	free(names);
	for (size_t i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
		make_tmpdir();
		snprintf(supp, sizeof(supp), "%s/inlined.supp", tmpdir);
		write_file(supp, files[i]);
		snprintf(opts, sizeof(opts), "--suppressions %s", supp);
		gate(&r, opts, fixture("tests/fixtures/inlined"));
		ck_assert_msg(r.status == 0, "%s: exit %d\n%s", files[i], r.status, r.err);
		ck_assert_msg(!strstr(r.err, "matched nothing"), "%s", r.err);
		run_result_free(&r);
		remove_tmpdir();
	}
}
END_TEST

START_TEST(test_valgrind_suppressions)
{
	struct run_result r;
	char supp[512], opts[600];

	make_tmpdir();
	snprintf(supp, sizeof(supp), "%s/vg.supp", tmpdir);
	write_file(supp,
		   "{\n   list nodes\n   Memcheck:Leak\n   match-leak-kinds: definite,indirect\n"
		   "   fun:malloc\n   fun:make_node\n   ...\n   fun:main\n}\n"
		   "{\n   config\n   Memcheck:Leak\n   fun:calloc\n   fun:read_config\n}\n");
	snprintf(opts, sizeof(opts), "--suppressions %s", supp);
	gate(&r, opts, fixture("tests/fixtures/leaky"));
	ck_assert_msg(r.status == 0, "exit %d\n%s", r.status, r.err);
	run_result_free(&r);
	/* The list's head is definitely lost, the nodes behind it indirectly: a rule for one kind leaves the other. */
	write_file(supp,
		   "{\n   list head\n   Memcheck:Leak\n   match-leak-kinds: definite\n"
		   "   fun:malloc\n   fun:make_node\n   ...\n   fun:main\n}\n"
		   "{\n   config\n   Memcheck:Leak\n   fun:calloc\n   fun:read_config\n}\n");
	gate(&r, opts, fixture("tests/fixtures/leaky"));
	ck_assert_msg(r.status == 23 &&
		      strstr(r.err, "leak: 256 bytes in 4 allocations: make_node < build_list < "
				    "main (leaky.c), indirectly lost") &&
		      !strstr(r.err, "leak: 64 bytes"), "exit %d\n%s", r.status, r.err);
	run_result_free(&r);
	remove_tmpdir();
}
END_TEST

START_TEST(test_malformed_suppressions_before_running)
{
	struct run_result r;
	char supp[512], opts[600], marker[512], cmd[1200];

	make_tmpdir();
	snprintf(supp, sizeof(supp), "%s/bad.supp", tmpdir);
	snprintf(marker, sizeof(marker), "%s/ran", tmpdir);
	write_file(supp, "{\n   unterminated\n   Memcheck:Leak\n   fun:malloc\n");
	snprintf(opts, sizeof(opts), "--suppressions %s", supp);
	snprintf(cmd, sizeof(cmd), "touch %s", marker);
	gate(&r, opts, cmd);
	ck_assert_msg(r.status == 2, "exit %d\n%s", r.status, r.err);
	ck_assert_msg(strstr(r.err, "bad.supp:"), "no file:line in: %s", r.err);
	ck_assert_msg(access(marker, F_OK) != 0, "the program ran");
	run_result_free(&r);
	remove_tmpdir();
}
END_TEST

START_TEST(test_run_budgets)
{
	struct run_result r;

	/* leaky leaks 5 x 64 + 4096 = 4416 bytes in 6 allocations. */
	gate(&r, "--max-leaked-bytes 4416 --max-leaked-allocs 6", fixture("tests/fixtures/leaky"));
	ck_assert_msg(r.status == 0, "exit %d\n%s", r.status, r.err);
	run_result_free(&r);
	gate(&r, "--max-leaked-bytes 4415 --max-leaked-allocs 6", fixture("tests/fixtures/leaky"));
	ck_assert_msg(r.status == 23, "exit %d\n%s", r.status, r.err);
	run_result_free(&r);
	gate(&r, "--max-leaked-bytes 4416 --max-leaked-allocs 5", fixture("tests/fixtures/leaky"));
	ck_assert_msg(r.status == 23, "exit %d\n%s", r.status, r.err);
	run_result_free(&r);
}
END_TEST

START_TEST(test_gen_suppressions_baseline)
{
	struct run_result r;
	char supp[512], opts[600], cmd[512];

	make_tmpdir();
	snprintf(supp, sizeof(supp), "%s/baseline.supp", tmpdir);
	snprintf(opts, sizeof(opts), "--gen-suppressions %s", supp);
	gate(&r, opts, fixture("tests/fixtures/leaky"));
	ck_assert_msg(r.status == 23, "exit %d\n%s", r.status, r.err);
	run_result_free(&r);
	/* Today's leaks are accepted by the baseline... */
	snprintf(opts, sizeof(opts), "--suppressions %s", supp);
	gate(&r, opts, fixture("tests/fixtures/leaky"));
	ck_assert_msg(r.status == 0, "exit %d\n%s", r.status, r.err);
	run_result_free(&r);
	/* ...growth is not: the kinds fixture's lost list is a new site. */
	snprintf(cmd, sizeof(cmd), "%s list", fixture("tests/fixtures/kinds"));
	gate(&r, opts, cmd);
	ck_assert_msg(r.status == 23, "exit %d\n%s", r.status, r.err);
	run_result_free(&r);
	remove_tmpdir();
}
END_TEST

START_TEST(test_children_judged_separately)
{
	struct run_result r;
	char json[512], opts[600], cmd[512];
	struct run_result x;

	make_tmpdir();
	snprintf(json, sizeof(json), "%s/run.json", tmpdir);
	snprintf(opts, sizeof(opts), "--json %s", json);
	snprintf(cmd, sizeof(cmd), "%s", fixture("tests/fixtures/forks"));
	gate(&r, opts, cmd);
	ck_assert_msg(r.status == 23, "exit %d\n%s", r.status, r.err);
	ck_assert_int_eq(run_sh(&x, "cat %s", json), 0);
	/* Two processes; the child's own leak is there, the inherited block is not its. */
	ck_assert_msg(strstr(x.out, "in_child") && strstr(x.out, "before_fork") &&
		      strstr(x.out, "after_fork"), "%s", x.out);
	ck_assert_msg(count_substr(x.out, "before_fork") == count_substr(x.out, "after_fork"),
		      "the inherited block was charged twice:\n%s", x.out);
	run_result_free(&x);
	run_result_free(&r);
	remove_tmpdir();
}
END_TEST

/*
 * `memleak-run -- make check`: make and the shell leave their own memory allocated at
 * exit, which is not the project's; the programs they run are judged as theirs. With
 * --no-default-suppressions make's own blocks count too.
 */
START_TEST(test_make_check_under_the_gate)
{
	char makefile[512], text[2048], cmd[1200], *allocs, *allocs_o0, *leaky;
	struct run_result r;

	/* make runs in another directory: the programs by absolute paths. */
	allocs = realpath(fixture("tests/fixtures/allocs"), NULL);
	allocs_o0 = realpath(fixture("tests/fixtures/allocs-O0"), NULL);
	leaky = realpath(fixture("tests/fixtures/leaky"), NULL);
	ck_assert(allocs && allocs_o0 && leaky);
	make_tmpdir();
	snprintf(makefile, sizeof(makefile), "%s/Makefile", tmpdir);
	snprintf(text, sizeof(text), "check:\n\t%s none\n\t%s none && echo checked\n", allocs,
		 allocs_o0);
	write_file(makefile, text);
	snprintf(cmd, sizeof(cmd), "make -s -C %s check", tmpdir);
	gate(&r, "", cmd);
	ck_assert_msg(r.status == 0, "clean tests: exit %d\n%s", r.status, r.err);
	ck_assert_str_eq(r.out, "checked\n");
	ck_assert_msg(strstr(r.err, "OK: no leaks"), "%s", r.err);
	run_result_free(&r);
	/* make and the shells lose nothing: what they leave, they still point to. */
	gate(&r, "--no-default-suppressions", cmd);
	ck_assert_msg(r.status == 0, "make's own: exit %d\n%s", r.status, r.err);
	run_result_free(&r);
	gate(&r, "--no-default-suppressions --errors-for-leak-kinds=all", cmd);
	ck_assert_msg(r.status == 23 && strstr(r.err, "make[") && strstr(r.err, "still reachable"),
		      "make's own: exit %d\n%s", r.status, r.err);
	run_result_free(&r);
	gate(&r, "--errors-for-leak-kinds=all", cmd);
	ck_assert_msg(r.status == 0 && strstr(r.err, "suppressed in"), "exit %d\n%s", r.status,
		      r.err);
	run_result_free(&r);
	/* A test that leaks fails the run, by its own sites only. */
	snprintf(text, sizeof(text), "check:\n\t%s\n", leaky);
	write_file(makefile, text);
	gate(&r, "", cmd);
	ck_assert_msg(r.status == 23, "leaky test: exit %d\n%s", r.status, r.err);
	ck_assert_msg(strstr(r.err, "FAIL: 3 leak sites, 4416 bytes in 6 allocations"), "%s", r.err);
	run_result_free(&r);
	remove_tmpdir();
	free(allocs);
	free(allocs_o0);
	free(leaky);
}
END_TEST

/*
 * Children are followed however they are started: vfork, posix_spawn (clone with
 * CLONE_VM|CLONE_VFORK), a bare clone; each is judged as a process of its own, with its
 * own leaks, and the parent, which leaks nothing, passes.
 */
START_TEST(test_every_way_to_start_a_child)
{
	static const char *const modes[] = { "vfork", "posix_spawn", "clone" };
	struct run_result r;
	char cmd[1024];

	for (size_t i = 0; i < sizeof(modes) / sizeof(modes[0]); i++) {
		snprintf(cmd, sizeof(cmd), "%s %s %s malloc", fixture("tests/fixtures/spawns"),
			 modes[i], fixture("tests/fixtures/allocs"));
		gate(&r, "", cmd);
		ck_assert_msg(r.status == 23, "%s: exit %d\n%s", modes[i], r.status, r.err);
		ck_assert_msg(strstr(r.err, "exited with status 0: 2 failing sites, 3003 bytes in 3 "
					    "allocations") && strstr(r.err, "leak_malloc < main"),
			      "%s: the child's leaks are not its own\n%s", modes[i], r.err);
		ck_assert_msg(!strstr(r.err, "spawns["), "%s: the parent charged\n%s", modes[i], r.err);
		run_result_free(&r);
	}
	/* A cloned process that runs the parent's code, and leaks in it. */
	snprintf(cmd, sizeof(cmd), "%s clone-leak", fixture("tests/fixtures/spawns"));
	gate(&r, "", cmd);
	ck_assert_msg(r.status == 23, "clone-leak: exit %d\n%s", r.status, r.err);
	ck_assert_msg(strstr(r.err, "1 failing site, 7777 bytes in 1 allocation") &&
		      strstr(r.err, "cloned_child"), "%s", r.err);
	run_result_free(&r);
}
END_TEST

/*
 * No two sites of a process have the same frames. A stack cut where a walk went astray
 * (by frame pointer through code that has neither frame pointers nor unwind rows) ends
 * in garbage that differs from call to call; the stacks that are the same once cut are
 * one site, not one site per garbage value. Checked on all of dash's allocations.
 */
START_TEST(test_cut_stacks_are_one_site)
{
	struct run_result r;
	char json[512], opts[600];
	struct json_object *root, *procs;

	make_tmpdir();
	snprintf(json, sizeof(json), "%s/run.json", tmpdir);
	snprintf(opts, sizeof(opts), "--json %s", json);
	gate(&r, opts, "sh -c 'exit 0'");
	root = json_object_from_file(json);
	ck_assert_msg(root != NULL, "no JSON report; exit %d\n%s", r.status, r.err);
	ck_assert(json_object_object_get_ex(root, "processes", &procs));
	for (size_t p = 0; p < json_object_array_length(procs); p++) {
		struct json_object *sites, *proc = json_object_array_get_idx(procs, p);
		size_t n;

		ck_assert(json_object_object_get_ex(proc, "sites", &sites));
		n = json_object_array_length(sites);
		for (size_t i = 0; i < n; i++) {
			struct json_object *fi, *si = json_object_array_get_idx(sites, i);

			ck_assert(json_object_object_get_ex(si, "frames", &fi));
			for (size_t j = i + 1; j < n; j++) {
				struct json_object *fj, *sj = json_object_array_get_idx(sites, j);

				ck_assert(json_object_object_get_ex(sj, "frames", &fj));
				ck_assert_msg(json_object_array_length(fi) == 0 ||
						      strcmp(json_object_to_json_string(fi),
							     json_object_to_json_string(fj)),
					      "two sites with one stack %s\n%s", json_object_to_json_string(fi),
					      r.err);
			}
		}
	}
	json_object_put(root);
	run_result_free(&r);
	remove_tmpdir();
}
END_TEST

/*
 * Every call is seen, however the program's allocator is reached: at the preload
 * library's sites, at the C library's functions, in a static program's own; and after an
 * exec that changes which of them the process needs. The counted fixture's 5000 rounds
 * leak exactly 500 blocks each of 3331 (malloc), 3332 (calloc) and 3334 bytes (realloc),
 * and every other block it allocates is freed: a missed free would leave one more, a
 * missed allocation one less. `how` runs it, in one process: %1$s is the fixtures'
 * directory, %2$s the fixture.
 */
static const struct {
	const char *fixture, *flags, *probe, *how;
} gate_counted_cases[] = {
	{ "counted", "", "site probe on memleak_site_alloc", "%1$s/%2$s 5000" },
	{ "counted-O0", "", "site probe on memleak_site_alloc", "%1$s/%2$s 5000" },
	{ "counted", "--no-preload", "entry probe on malloc", "%1$s/%2$s 5000" },
	{ "static_counted", "", "entry probe on malloc", "%1$s/%2$s 5000" },
	/* A shell with the sites, then a static program with its own allocator. */
	{ "static_counted", "", "entry probe on malloc", "sh -c 'exec %1$s/%2$s 5000'" },
	/* The sites, then the C library's functions: the environment lost the library. */
	{ "counted", "", "entry probe on malloc", "env -u LD_PRELOAD %1$s/%2$s 5000" },
	/* A static program's own allocator, then the sites. */
	{ "counted", "", "site probe on memleak_site_alloc", "%1$s/static_exec %1$s/%2$s 5000" },
};

START_TEST(test_every_call_counted)
{
	const char *fx = gate_counted_cases[_i].fixture;
	struct json_object *root, *procs, *proc, *sites;
	char json[512], opts[700], dir[512], cmd[1600];
	uint64_t own_bytes = 0, own_allocs = 0;
	struct run_result r;

	make_tmpdir();
	snprintf(json, sizeof(json), "%s/run.json", tmpdir);
	snprintf(opts, sizeof(opts), "-v --json %s %s", json, gate_counted_cases[_i].flags);
	snprintf(dir, sizeof(dir), "%s/tests/fixtures", test_output_dir());
	snprintf(cmd, sizeof(cmd), gate_counted_cases[_i].how, dir, fx);
	gate(&r, opts, cmd);
	ck_assert_msg(r.status == 23, "%s: exit %d\n%s", fx, r.status, r.err);
	ck_assert_msg(strstr(r.err, gate_counted_cases[_i].probe), "%s: not probed as expected\n%s", fx,
		      r.err);
	root = json_object_from_file(json);
	ck_assert_msg(root != NULL, "no JSON report\n%s", r.err);
	ck_assert(json_object_object_get_ex(root, "processes", &procs));
	ck_assert_int_eq(json_object_array_length(procs), 1);
	proc = json_object_array_get_idx(procs, 0);
	ck_assert(json_object_object_get_ex(proc, "sites", &sites));
	for (size_t i = 0; i < json_object_array_length(sites); i++) {
		struct json_object *site = json_object_array_get_idx(sites, i), *v;

		uint64_t bytes, allocs, size;

		/*
		 * The program's own sites, by their blocks' sizes, whatever their kind: this
		 * counts calls, and a stale copy of a pointer may keep a block reachable.
		 */
		ck_assert(json_object_object_get_ex(site, "bytes", &v));
		bytes = (uint64_t)json_object_get_int64(v);
		ck_assert(json_object_object_get_ex(site, "allocations", &v));
		allocs = (uint64_t)json_object_get_int64(v);
		size = allocs ? bytes / allocs : 0;
		if (size != 3331 && size != 3332 && size != 3334)
			continue;
		own_bytes += bytes;
		own_allocs += allocs;
	}
	ck_assert_msg(own_allocs == 1500 && own_bytes == 500 * (3331 + 3332 + 3334),
		      "%s %s: %llu bytes in %llu blocks\n%s", fx, gate_counted_cases[_i].flags,
		      (unsigned long long)own_bytes, (unsigned long long)own_allocs, r.err);
	json_object_put(root);
	run_result_free(&r);
	remove_tmpdir();
}
END_TEST

START_TEST(test_exec_drops_old_image)
{
	struct run_result r;
	char cmd[1024];

	/* The child leaks 2223 before exec; after exec `allocs malloc` leaks 3 x 1001. */
	snprintf(cmd, sizeof(cmd), "%s exec %s", fixture("tests/fixtures/forks"),
		 fixture("tests/fixtures/allocs"));
	gate(&r, "", cmd);
	ck_assert_msg(r.status == 23, "exit %d\n%s", r.status, r.err);
	ck_assert_msg(strstr(r.err, "leak_malloc"), "exec'd program not judged:\n%s", r.err);
	ck_assert_msg(!strstr(r.err, "in_child"), "old image charged:\n%s", r.err);
	run_result_free(&r);
}
END_TEST

/*
 * A process that executes a program needing other probes is traced in it: a static
 * program has its own allocator, and a program whose environment lost the preload
 * library uses the C library's. Its leaks are named, and nothing says it is not traced.
 */
START_TEST(test_exec_to_other_allocator_traced)
{
	static const char *const how[] = { "sh -c 'exec %s'", "env -u LD_PRELOAD %s",
					   "sh -c 'env -u LD_PRELOAD %s; true'" };
	static const char *const fixtures[] = { "tests/fixtures/static_leaky", "tests/fixtures/leaky",
						"tests/fixtures/leaky" };
	struct run_result r;
	char cmd[1024];

	for (size_t i = 0; i < sizeof(how) / sizeof(how[0]); i++) {
		snprintf(cmd, sizeof(cmd), how[i], fixture(fixtures[i]));
		gate(&r, "", cmd);
		ck_assert_msg(r.status == 23, "%s: exit %d\n%s", cmd, r.status, r.err);
		ck_assert_msg(strstr(r.err, "read_config < main (leaky.c)") &&
				      strstr(r.err, "make_node < build_list < main (leaky.c)"),
			      "%s: leaks not named\n%s", cmd, r.err);
		ck_assert_msg(!strstr(r.err, "not traced"), "%s\n%s", cmd, r.err);
		run_result_free(&r);
	}
}
END_TEST

START_TEST(test_no_follow)
{
	struct run_result r;

	gate(&r, "--no-follow", fixture("tests/fixtures/forks"));
	ck_assert_msg(r.status == 23, "exit %d\n%s", r.status, r.err);
	ck_assert_msg(!strstr(r.err, "in_child"), "%s", r.err);
	run_result_free(&r);
}
END_TEST

START_TEST(test_default_suppressions)
{
	static const char *const modes[] = { "stdio", "thread", "locale" };
	struct run_result r;
	char cmd[1024];

	for (size_t i = 0; i < sizeof(modes) / sizeof(modes[0]); i++) {
		snprintf(cmd, sizeof(cmd), "%s %s", fixture("tests/fixtures/runtime"), modes[i]);
		gate(&r, "", cmd);
		ck_assert_msg(r.status == 0, "%s: exit %d\n%s", modes[i], r.status, r.err);
		run_result_free(&r);
	}
	snprintf(cmd, sizeof(cmd), "%s dlopen %s", fixture("tests/fixtures/runtime"),
		 fixture("tests/fixtures/libplugin.so"));
	gate(&r, "", cmd);
	ck_assert_msg(r.status == 0, "dlopen: exit %d\n%s", r.status, r.err);
	run_result_free(&r);
	/*
	 * The runtime's allocations are real, but the C library still points to them: they
	 * are not lost, and pass without the defaults too. Asked to fail on every kind, the
	 * gate reports them when the defaults do not accept them.
	 */
	snprintf(cmd, sizeof(cmd), "%s stdio thread locale", fixture("tests/fixtures/runtime"));
	gate(&r, "--no-default-suppressions", cmd);
	ck_assert_msg(r.status == 0, "exit %d\n%s", r.status, r.err);
	run_result_free(&r);
	gate(&r, "--no-default-suppressions --errors-for-leak-kinds=all", cmd);
	ck_assert_msg(r.status == 23 && strstr(r.err, "_IO_file_doallocate") &&
		      strstr(r.err, "still reachable"), "exit %d\n%s", r.status, r.err);
	run_result_free(&r);
	gate(&r, "--errors-for-leak-kinds=all", cmd);
	ck_assert_msg(r.status == 0, "exit %d\n%s", r.status, r.err);
	run_result_free(&r);
	/* And they never hide the program's own leak. */
	snprintf(cmd, sizeof(cmd), "%s stdio thread locale leak", fixture("tests/fixtures/runtime"));
	gate(&r, "", cmd);
	ck_assert_msg(r.status == 23 && strstr(r.err, "own_leak"), "exit %d\n%s", r.status, r.err);
	run_result_free(&r);
}
END_TEST

START_TEST(test_stdio_and_environment_untouched)
{
	struct run_result r;

	char *gate_path = realpath(test_path("memleak-run"), NULL);
	char *prog = realpath(fixture("tests/fixtures/exit_with"), NULL);

	ck_assert_ptr_nonnull(gate_path);
	ck_assert_ptr_nonnull(prog);
	/* From another directory, with input on stdin and its own arguments. */
	ck_assert_int_eq(run_sh(&r, "cd /tmp && printf 'abc\\ndef\\n' | %s -- %s echo 1 2",
				gate_path, prog), 0);
	free(gate_path);
	free(prog);
	/* exit_with leaks 7272 bytes: the gate fails it, but stdout is the program's alone. */
	ck_assert_msg(r.status == 23, "exit %d\n%s", r.status, r.err);
	ck_assert_str_eq(r.out, "abc\ndef\n");
	ck_assert_msg(strstr(r.err, "exit_with: 3 arguments"), "%s", r.err);
	run_result_free(&r);
}
END_TEST

START_TEST(test_timeout)
{
	struct run_result r;

	gate(&r, "--timeout 1", "sleep 30");
	ck_assert_msg(r.status == 124, "exit %d\n%s", r.status, r.err);
	ck_assert_msg(strstr(r.err, "timeout"), "%s", r.err);
	run_result_free(&r);
}
END_TEST

/* Whether a process is gone (or a zombie no one has reaped yet), waiting up to 3 s. */
static int process_gone(pid_t pid)
{
	for (int i = 0; i < 60; i++) {
		char path[64], state = 0;
		FILE *f;

		snprintf(path, sizeof(path), "/proc/%d/stat", pid);
		f = fopen(path, "r");
		if (!f)
			return 1;
		if (fscanf(f, "%*d (%*[^)]) %c", &state) != 1)
			state = 0;
		fclose(f);
		if (state == 'Z')
			return 1;
		usleep(50000);
	}
	return 0;
}

/* Reads a pid a script wrote, waiting up to 5 s for it. */
static pid_t read_pid(const char *file)
{
	for (int i = 0; i < 100; i++) {
		char buf[32] = "";
		FILE *f = fopen(file, "r");

		if (f && fgets(buf, sizeof(buf), f) && atoi(buf) > 0) {
			fclose(f);
			return atoi(buf);
		}
		if (f)
			fclose(f);
		usleep(50000);
	}
	return 0;
}

/* --timeout ends the whole tree: a grandchild in the background goes too. */
START_TEST(test_timeout_ends_the_tree)
{
	struct run_result r;
	char pidfile[512], cmd[1024];
	pid_t grandchild;

	make_tmpdir();
	snprintf(pidfile, sizeof(pidfile), "%s/pid", tmpdir);
	snprintf(cmd, sizeof(cmd), "sh -c 'sleep 60 & echo $! > %s; wait'", pidfile);
	gate(&r, "--timeout 1", cmd);
	ck_assert_msg(r.status == 124, "exit %d\n%s", r.status, r.err);
	grandchild = read_pid(pidfile);
	ck_assert_int_gt(grandchild, 0);
	ck_assert_msg(process_gone(grandchild), "pid %d outlived the timeout", grandchild);
	run_result_free(&r);
	remove_tmpdir();
}
END_TEST

/*
 * SIGTERM and SIGINT to the gate reach the program, whose handling decides the outcome:
 * its exit status passes through, and the reports are written whole.
 */
START_TEST(test_signals_forwarded)
{
	static const int signals[] = { SIGTERM, SIGINT };

	for (size_t i = 0; i < sizeof(signals) / sizeof(signals[0]); i++) {
		char pidfile[512], junit[512], script[1200], out[64] = "";
		int status, fds[2];
		pid_t gate_pid;
		ssize_t n;
		xmlDocPtr doc;

		make_tmpdir();
		snprintf(pidfile, sizeof(pidfile), "%s/pid", tmpdir);
		snprintf(junit, sizeof(junit), "%s/leaks.xml", tmpdir);
		/* The program says which signal it got and exits 3; it leaks nothing of its own. */
		snprintf(script, sizeof(script),
			 "trap 'echo got TERM; exit 3' TERM; trap 'echo got INT; exit 3' INT; "
			 "echo $$ > %s; while :; do sleep 0.1; done", pidfile);
		ck_assert_int_eq(pipe(fds), 0);
		gate_pid = fork();
		if (gate_pid == 0) {
			dup2(fds[1], 1);
			close(fds[0]);
			execl(test_path("memleak-run"), "memleak-run", "--junit", junit, "--", "sh", "-c",
			      script, (char *)NULL);
			_exit(127);
		}
		close(fds[1]);
		ck_assert_int_gt(read_pid(pidfile), 0);
		ck_assert_int_eq(kill(gate_pid, signals[i]), 0);
		n = read(fds[0], out, sizeof(out) - 1);
		close(fds[0]);
		ck_assert_int_eq(waitpid(gate_pid, &status, 0), gate_pid);
		ck_assert_msg(n > 0 && strstr(out, signals[i] == SIGTERM ? "got TERM" : "got INT"),
			      "the program's output: '%s'", out);
		ck_assert_msg(WIFEXITED(status) && WEXITSTATUS(status) == 3, "gate status %#x", status);
		doc = xmlReadFile(junit, NULL, XML_PARSE_NONET);
		ck_assert_msg(doc != NULL, "no whole JUnit report after signal %d", signals[i]);
		xmlFreeDoc(doc);
		remove_tmpdir();
	}
}
END_TEST

/*
 * Only the traced tree pays: a probe is a byte the kernel writes into the process's copy
 * of the code (an int3, or the call it makes of a probe site's nop). The traced process
 * has it; a process outside the tree, mapping the same file, does not.
 */
static int byte_at_symbol(pid_t pid, const char *lib, const char *symbol)
{
	char maps[64], line[4608], mem[64], real[4096];
	unsigned long start, off, sym_off = 0;
	unsigned char byte = 0;
	struct run_result r;
	FILE *f;
	int fd;

	ck_assert_ptr_nonnull(realpath(lib, real));
	ck_assert_int_eq(run_sh(&r, "nm -D %s | awk '$3 ~ /^%s(@@|$)/ {print $1}'", real, symbol), 0);
	sym_off = strtoul(r.out, NULL, 16);
	run_result_free(&r);
	ck_assert_uint_ne(sym_off, 0);
	snprintf(maps, sizeof(maps), "/proc/%d/maps", pid);
	f = fopen(maps, "r");
	ck_assert_ptr_nonnull(f);
	while (fgets(line, sizeof(line), f)) {
		char perms[8];
		const char *path = strchr(line, '/');

		if (!path || strncmp(path, real, strlen(real)) || path[strlen(real)] != '\n' ||
		    sscanf(line, "%lx-%*x %7s %lx", &start, perms, &off) != 3)
			continue;
		if (perms[2] == 'x' && sym_off >= off) {
			/* the text segment maps file offset `off` at `start` */
			snprintf(mem, sizeof(mem), "/proc/%d/mem", pid);
			fd = open(mem, O_RDONLY);
			ck_assert_int_ge(fd, 0);
			ck_assert_int_eq(pread(fd, &byte, 1, (off_t)(start + sym_off - off)), 1);
			close(fd);
			break;
		}
	}
	fclose(f);
	return byte;
}

/*
 * A gate over `sh -c SCRIPT`, whose process writes its pid to the file named by the `%s`
 * of `script` and becomes `sleep 3`, and a sleeper outside the gate, both with `lib`
 * mapped; returns the first byte of `symbol` in each.
 */
static void probe_bytes(const char *gate_option, const char *script_format, const char *lib,
			const char *symbol, int *traced_byte, int *outsider_byte)
{
	int in[2];
	pid_t outsider, gate_pid, traced;
	char pidfile[512];

	make_tmpdir();
	snprintf(pidfile, sizeof(pidfile), "%s/pid", tmpdir);
	ck_assert_int_eq(pipe(in), 0);
	outsider = fork();
	if (outsider == 0) {
		dup2(in[0], 0);
		close(in[1]);
		setenv("LD_PRELOAD", test_path("libmemleak-preload.so"), 1);
		execl(fixture("tests/fixtures/sleeper"), "sleeper", (char *)NULL);
		_exit(127);
	}
	gate_pid = fork();
	if (gate_pid == 0) {
		char script[700];

		snprintf(script, sizeof(script), script_format, pidfile);
		execl(test_path("memleak-run"), "memleak-run", gate_option, "--", "sh", "-c", script,
		      (char *)NULL);
		_exit(127);
	}
	traced = read_pid(pidfile);
	ck_assert_int_gt(traced, 0);
	usleep(200000);
	*traced_byte = byte_at_symbol(traced, lib, symbol);
	*outsider_byte = byte_at_symbol(outsider, lib, symbol);
	close(in[1]);
	kill(outsider, SIGTERM);
	waitpid(outsider, NULL, 0);
	waitpid(gate_pid, NULL, 0);
	remove_tmpdir();
}

START_TEST(test_only_traced_tree_pays)
{
	int traced, outsider;

	/* Probed in the C library: an int3 at malloc (past endbr64 if it has one). */
	probe_bytes("--no-preload", "echo $$ > %s; exec sleep 3", "/lib/x86_64-linux-gnu/libc.so.6",
		    "malloc", &traced, &outsider);
	ck_assert_int_eq(traced, 0xcc);
	ck_assert_int_ne(outsider, 0xcc);
	/* Probed at the preload library's site: its nop is an int3, or the call it becomes. */
	probe_bytes("-v", "echo $$ > %s; exec sleep 3", test_path("libmemleak-preload.so"),
		    "memleak_site_alloc", &traced, &outsider);
	ck_assert_int_eq(outsider, 0x0f);
	ck_assert_msg(traced == 0xcc || traced == 0xe8, "traced %#x", traced);
}
END_TEST

/*
 * A process's probes are those of the program it runs now: a shell whose environment lost
 * the preload library gets the C library's; once it executes a program with the library
 * again, the sites are in and the C library's probes are out of it (else every call
 * would trap twice, in the wrapper and in the C library's function it calls).
 */
START_TEST(test_exec_replaces_probes)
{
	const char *libc = "/lib/x86_64-linux-gnu/libc.so.6";
	char format[1024];
	int traced, outsider;

	snprintf(format, sizeof(format),
		 "exec env -u LD_PRELOAD sh -c 'echo $$ > %%s; LD_PRELOAD=%s exec sleep 3'",
		 test_path("libmemleak-preload.so"));
	probe_bytes("-v", format, test_path("libmemleak-preload.so"), "memleak_site_alloc", &traced,
		    &outsider);
	ck_assert_msg(traced == 0xcc || traced == 0xe8, "site not probed after exec: %#x", traced);
	probe_bytes("-v", format, libc, "malloc", &traced, &outsider);
	ck_assert_msg(traced != 0xcc, "the C library's probe stayed after exec");
	/* Without the exec back, the C library's probe is there: the check above can fail. */
	probe_bytes("-v", "exec env -u LD_PRELOAD sh -c 'echo $$ > %s; exec sleep 3'", libc, "malloc",
		    &traced, &outsider);
	ck_assert_int_eq(traced, 0xcc);
}
END_TEST

START_TEST(test_untraceable_exits_99_or_77)
{
	struct run_result r;

	/* Without privileges tracing is impossible: a hard error, or a skip when asked. */
	ck_assert_int_eq(run_sh(&r, "setpriv --reuid=65534 --regid=65534 --clear-groups "
				"--inh-caps=-all %s -- true", test_path("memleak-run")), 0);
	ck_assert_msg(r.status == 99, "exit %d\n%s", r.status, r.err);
	ck_assert_msg(strstr(r.err, "root") || strstr(r.err, "CAP_BPF"), "%s", r.err);
	run_result_free(&r);
	ck_assert_int_eq(run_sh(&r, "setpriv --reuid=65534 --regid=65534 --clear-groups "
				"--inh-caps=-all %s --skip-if-untraceable -- true",
				test_path("memleak-run")), 0);
	ck_assert_msg(r.status == 77, "exit %d\n%s", r.status, r.err);
	run_result_free(&r);
}
END_TEST

START_TEST(test_usage_errors)
{
	static const char *const bad[] = { "", "--max-leaked-bytes x -- true", "--frobnicate -- true",
					   "--error-exitcode 0 -- true" };
	struct run_result r;

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		ck_assert_int_eq(run_sh(&r, "%s %s", test_path("memleak-run"), bad[i]), 0);
		ck_assert_msg(r.status == 2, "'%s': exit %d", bad[i], r.status);
		ck_assert_msg(strstr(r.err, "memleak-run: "), "'%s': %s", bad[i], r.err);
		run_result_free(&r);
	}
}
END_TEST

static Suite *suite(void)
{
	Suite *s = suite_create("memleak-run");
	TCase *tc = tcase_create("gate");

	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, test_leaky_program_fails_with_23);
	tcase_add_test(tc, test_clean_program_passes);
	tcase_add_test(tc, test_exit_status_passes_through);
	tcase_add_test(tc, test_error_exitcode_option);
	tcase_add_test(tc, test_cannot_execute);
	tcase_add_test(tc, test_runs_as_named);
	tcase_add_test(tc, test_interpreter_never_run_by_gate);
	tcase_add_test(tc, test_lsan_suppressions);
	tcase_add_test(tc, test_valgrind_suppressions);
	tcase_add_test(tc, test_malformed_suppressions_before_running);
	tcase_add_test(tc, test_run_budgets);
	tcase_add_test(tc, test_gen_suppressions_baseline);
	tcase_add_test(tc, test_children_judged_separately);
	tcase_add_test(tc, test_cut_stacks_are_one_site);
	tcase_add_loop_test(tc, test_every_call_counted, 0,
			    sizeof(gate_counted_cases) / sizeof(gate_counted_cases[0]));
	tcase_add_test(tc, test_exec_drops_old_image);
	tcase_add_test(tc, test_exec_to_other_allocator_traced);
	tcase_add_test(tc, test_no_follow);
	tcase_add_test(tc, test_default_suppressions);
	tcase_add_test(tc, test_stdio_and_environment_untouched);
	tcase_add_test(tc, test_timeout);
	tcase_add_test(tc, test_timeout_ends_the_tree);
	tcase_add_test(tc, test_signals_forwarded);
	tcase_add_test(tc, test_only_traced_tree_pays);
	tcase_add_test(tc, test_exec_replaces_probes);
	tcase_add_test(tc, test_inlined_functions_are_frames);
	tcase_add_test(tc, test_every_way_to_start_a_child);
	tcase_add_test(tc, test_make_check_under_the_gate);
	tcase_add_loop_test(tc, test_sites_named_without_frame_pointers, 0, 2);
	tcase_add_loop_test(tc, test_sites_named_from_stacked_filesystems, 0, 3);
	tcase_add_test(tc, test_untraceable_exits_99_or_77);
	tcase_add_test(tc, test_usage_errors);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return test_run_suite(suite());
}
