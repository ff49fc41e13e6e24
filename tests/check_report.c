/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * What the reports share: whole-or-nothing files, which sites fail, process names,
 * command lines, amounts and budgets, lost-event counters.
 */
#include <check.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "reporters/report.h"
#include "tests/report_fixture.h"
#include "tests/testutil.h"

static char *printed(void (*fn)(FILE *, uint64_t, uint64_t), uint64_t a, uint64_t b)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *out = open_memstream(&buf, &len);

	ck_assert_ptr_nonnull(out);
	fn(out, a, b);
	ck_assert_int_eq(fclose(out), 0);
	return buf;
}

#define ck_printed(fn, a, b, expect)                                           \
	do {                                                                   \
		char *s_ = printed((fn), (a), (b));                            \
		ck_assert_str_eq(s_, (expect));                                \
		free(s_);                                                      \
	} while (0)

START_TEST(test_amounts_and_budgets)
{
	ck_printed(report_print_amount, 1, 1, "1 byte in 1 allocation");
	ck_printed(report_print_amount, 0, 0, "0 bytes in 0 allocations");
	ck_printed(report_print_amount, 240, 5, "240 bytes in 5 allocations");
	ck_printed(report_print_budget, 100, 1, "at most 100 bytes in 1 allocation");
	ck_printed(report_print_budget, UINT64_MAX, 3, "at most any number of bytes in 3 "
						       "allocations");
	ck_printed(report_print_budget, 7, UINT64_MAX, "at most 7 bytes in any number of "
						       "allocations");
}
END_TEST

START_TEST(test_failing_sites)
{
	struct fixture f;

	fixture_init(&f, 1);
	/* Over a budget and over the run's budget of 0: every leak fails. */
	ck_assert_int_eq(report_leaks_fail(&f.j, 0, 0), 1);
	ck_assert_int_eq(report_site_fails(&f.sj[FX_SITE_LIST], 1), 1);
	ck_assert_int_eq(report_site_fails(&f.sj[FX_SITE_CACHE], 0), 1);
	ck_assert_int_eq(report_site_fails(&f.sj[FX_SITE_LIBC], 1), 0);
	ck_assert_int_eq(report_site_fails(&f.sj[FX_SITE_POOL], 1), 0);
	/* Leaks within the run's budget do not fail even when a rule's budget does. */
	ck_assert_int_eq(report_leaks_fail(&f.j, 4440, 8), 0);
	ck_assert_int_eq(report_leaks_fail(&f.j, 4440, 7), 1);
	ck_assert_int_eq(report_site_fails(&f.sj[FX_SITE_LIST], 0), 0);
	/* The judge's word decides: not over budget, nothing fails for leaks. */
	f.j.over_budget = 0;
	ck_assert_int_eq(report_leaks_fail(&f.j, 0, 0), 0);
	ck_assert_int_eq(report_run_failed(&f.j), 1);
	f.j.lost_data = 0;
	ck_assert_int_eq(report_run_failed(&f.j), 0);
	ck_assert_str_eq(report_verdict_name(SITE_LEAK), "leak");
	ck_assert_str_eq(report_verdict_name(SITE_SUPPRESSED), "suppressed");
	ck_assert_str_eq(report_verdict_name(SITE_WITHIN_BUDGET), "within-budget");
	ck_assert_str_eq(report_verdict_name(SITE_OVER_BUDGET), "over-budget");
}
END_TEST

START_TEST(test_process_names)
{
	struct proc_record p[5] = {
		/* The kernel cut the command name: the executable's name is whole. */
		{ .pid = 10, .ppid = 1, .comm = "a_very_long_pro",
		  .exe = "/usr/bin/a_very_long_program" },
		/* A script: its own name, not its interpreter's. */
		{ .pid = 11, .ppid = 10, .comm = "check.sh", .exe = "/usr/bin/dash" },
		{ .pid = 12, .ppid = 10, .exe = "/usr/bin/env" },
		{ .pid = 13, .ppid = 99 },
		{ .pid = 9, .ppid = 10, .comm = "check.sh", .exe = "/usr/bin/dash" },
	};
	struct proc_judgement pj[5];
	struct judgement j = { .nprocs = 5, .procs = pj };
	char **names;

	for (int i = 0; i < 5; i++)
		pj[i] = (struct proc_judgement){ .proc = &p[i] };
	names = report_proc_names(&j);
	ck_assert_ptr_nonnull(names);
	ck_assert_str_eq(names[0], "a_very_long_program");
	/* Same names are numbered in the order the processes started (pid 9 first). */
	ck_assert_str_eq(names[1], "check.sh #2");
	ck_assert_str_eq(names[4], "check.sh");
	ck_assert_str_eq(names[2], "env");
	ck_assert_str_eq(names[3], "process");
	report_free_names(names, j.nprocs);
	report_free_names(NULL, 3);
	/* Roots: processes whose parent was not traced. */
	ck_assert_int_eq(report_proc_is_root(&j, 0), 1);
	ck_assert_int_eq(report_proc_is_root(&j, 1), 0);
	ck_assert_int_eq(report_proc_is_root(&j, 3), 1);
	j.nprocs = 0;
	names = report_proc_names(&j);
	ck_assert_ptr_nonnull(names);
	report_free_names(names, 0);
}
END_TEST

START_TEST(test_command_line)
{
	const char *const argv[] = { "./t", "b c", "it's", "", "$HOME", "x=1,y:2", "a\nb", NULL };
	char *s = report_command_line(argv);

	ck_assert_str_eq(s, "./t 'b c' 'it'\\''s' '' '$HOME' x=1,y:2 'a\nb'");
	free(s);
	s = report_command_line(NULL);
	ck_assert_str_eq(s, "");
	free(s);
}
END_TEST

START_TEST(test_counters)
{
	struct lost_counts l = { .map_full = 1, .stack_errors = 2, .nest_overflow = 4,
				 .unmatched_returns = 8, .missed_frees = 16, .ringbuf_drops = 32,
				 .recursion_misses = 64 };
	uint64_t lost = 0, all = 0;

	/* Every field of struct lost_counts once; the lost ones are what records.h counts. */
	ck_assert_uint_eq(report_ncounters * sizeof(uint64_t), sizeof(struct lost_counts));
	for (size_t i = 0; i < report_ncounters; i++) {
		uint64_t v = report_counter_value(&l, &report_counters[i]);

		all |= v;
		if (report_counters[i].lost)
			lost += v;
	}
	ck_assert_uint_eq(all, 127);
	ck_assert_uint_eq(lost, lost_counts_total(&l));
	ck_assert_str_eq(report_signal_name(SIGSEGV), "SIGSEGV");
	ck_assert_ptr_null(report_signal_name(0));
}
END_TEST

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

START_TEST(test_write_file)
{
	char dir[4096], path[8192], buf[64] = { 0 }, cwd[4096];
	struct stat st;
	int fd;

	snprintf(dir, sizeof(dir), "%s/check_report.XXXXXX",
		 getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp");
	ck_assert_ptr_nonnull(mkdtemp(dir));
	/* A relative path, in the current directory. */
	ck_assert_ptr_nonnull(getcwd(cwd, sizeof(cwd)));
	ck_assert_int_eq(chdir(dir), 0);
	ck_assert_int_eq(report_write_file("r.txt", "hello\n", 6), 0);
	ck_assert_int_eq(chdir(cwd), 0);
	snprintf(path, sizeof(path), "%s/r.txt", dir);
	fd = open(path, O_RDONLY);
	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(read(fd, buf, sizeof(buf)), 6);
	close(fd);
	ck_assert_str_eq(buf, "hello\n");
	/* Empty data is a valid, empty file. */
	ck_assert_int_eq(report_write_file(path, "", 0), 0);
	ck_assert_int_eq(stat(path, &st), 0);
	ck_assert_int_eq(st.st_size, 0);
	ck_assert_int_eq(count_entries(dir), 1);
	/* Not a regular file: refused, left what it is. */
	ck_assert_int_eq(report_write_file("/dev/null", "x", 1), -ENXIO);
	ck_assert_int_eq(stat("/dev/null", &st), 0);
	ck_assert(S_ISCHR(st.st_mode));
	snprintf(path, sizeof(path), "%s/fifo", dir);
	ck_assert_int_eq(mkfifo(path, 0600), 0);
	ck_assert_int_eq(report_write_file(path, "x", 1), -ENXIO);
	ck_assert_int_eq(lstat(path, &st), 0);
	ck_assert(S_ISFIFO(st.st_mode));
	ck_assert_int_eq(unlink(path), 0);
	ck_assert_int_eq(report_write_file(dir, "x", 1), -EISDIR);
	/* The caller's own link to a device: refused; to a file: the link is replaced. */
	snprintf(path, sizeof(path), "%s/link", dir);
	ck_assert_int_eq(symlink("/dev/null", path), 0);
	ck_assert_int_eq(report_write_file(path, "x", 1), -ENXIO);
	ck_assert_int_eq(unlink(path), 0);
	ck_assert_int_eq(symlink("r.txt", path), 0);
	ck_assert_int_eq(report_write_file(path, "link\n", 5), 0);
	ck_assert_int_eq(lstat(path, &st), 0);
	ck_assert(S_ISREG(st.st_mode));
	ck_assert_int_eq(st.st_size, 5);
	snprintf(path, sizeof(path), "%s/r.txt", dir);
	ck_assert_int_eq(stat(path, &st), 0);
	ck_assert_int_eq(st.st_size, 0);
	snprintf(path, sizeof(path), "%s/link", dir);
	ck_assert_int_eq(unlink(path), 0);
	ck_assert_str_eq(report_write_strerror(-ENXIO), "a device, FIFO or socket, not a regular file");
	ck_assert_int_eq(report_write_refused(-EACCES), 1);
	ck_assert_int_eq(report_write_refused(-ENOSPC), 0);
	/* Failures. */
	ck_assert_int_eq(report_write_file("", "x", 1), -ENOENT);
	snprintf(path, sizeof(path), "%s/r.txt/below", dir);
	ck_assert_int_eq(report_write_file(path, "x", 1), -ENOTDIR);
	ck_assert_int_eq(count_entries(dir), 1);
	snprintf(path, sizeof(path), "%s/r.txt", dir);
	unlink(path);
	rmdir(dir);
}
END_TEST

static Suite *suite(void)
{
	Suite *s = suite_create("report");
	TCase *tc = tcase_create("shared");

	tcase_add_test(tc, test_amounts_and_budgets);
	tcase_add_test(tc, test_failing_sites);
	tcase_add_test(tc, test_process_names);
	tcase_add_test(tc, test_command_line);
	tcase_add_test(tc, test_counters);
	tcase_add_test(tc, test_write_file);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return test_run_suite(suite());
}
