/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * The allocator of a program another process has just executed: resolved with that
 * process's environment and working directory, not ours, and once per program and loader
 * settings.
 */
#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "runner/images.h"
#include "tests/testutil.h"

#define PRELOAD_LIB "libmemleak-preload.so"
#define SLEEPER "tests/fixtures/sleeper"

struct sleeper {
	pid_t pid;
	int in;		/* sleeper waits for its stdin to close */
};

/* The sleeper fixture, run in `dir` with exactly `envp`, once it runs. */
/* Whether the process's environment can be read yet: not empty. */
static int environ_set(pid_t pid)
{
	char path[64], c;
	int fd, n;

	snprintf(path, sizeof(path), "/proc/%d/environ", (int)pid);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return 0;
	n = (int)read(fd, &c, 1);
	close(fd);
	return n == 1;
}

static struct sleeper start_sleeper(const char *dir, char *const envp[])
{
	char *real = realpath(test_path(SLEEPER), NULL);
	struct sleeper s;
	int in[2];

	ck_assert_ptr_nonnull(real);
	ck_assert_int_eq(pipe2(in, O_CLOEXEC), 0);
	s.pid = fork();
	ck_assert_int_ge(s.pid, 0);
	if (s.pid == 0) {
		char *const argv[] = { "sleeper", NULL };

		dup2(in[0], 0);
		if (chdir(dir))
			_exit(126);
		execve(real, argv, envp);
		_exit(127);
	}
	close(in[0]);
	s.in = in[1];
	for (int i = 0; i < 500 && !test_runs(s.pid, real); i++)
		usleep(10000);
	ck_assert_msg(test_runs(s.pid, real), "%s did not start", real);
	/* The new program's file is there before its environment: that comes after, from execve. */
	for (int i = 0; i < 500 && !environ_set(s.pid); i++)
		usleep(10000);
	free(real);
	return s;
}

static void stop_sleeper(struct sleeper *s)
{
	int status;

	close(s->in);
	ck_assert_int_eq(waitpid(s->pid, &status, 0), s->pid);
}

/* The number of probe sites of `kind` in `a`, all in `path` when path is given. */
static size_t count_kind(const struct allocator *a, enum probe_kind kind, const char *path)
{
	size_t n = 0;

	for (size_t i = 0; i < a->nsites; i++) {
		if (a->sites[i].kind != kind)
			continue;
		if (path)
			ck_assert_msg(test_same_file(a->sites[i].path, path), "%s: not in %s",
				      allocator_site_name(&a->sites[i]), path);
		n++;
	}
	return n;
}

/*
 * A process preloading the library by a path relative to its own directory has the
 * library's sites, which only its directory and environment can show: ours have neither.
 * A second process starting the same way shares the first one's allocator; one whose
 * environment has no LD_PRELOAD gets the C library's functions.
 */
START_TEST(test_resolved_as_the_process_starts)
{
	char *const preloading[] = { "LD_PRELOAD=./" PRELOAD_LIB, NULL };
	char *const plain[] = { "HOME=/", NULL };
	struct allocator_opts opts = { .want_dl = 1, .use_sites = 1 };
	const struct allocator *a, *b, *c;
	struct images *images = images__new(&opts);
	struct sleeper s1, s2, s3;
	int fresh = -1;

	ck_assert_ptr_nonnull(images);
	/* Ours is the directory above the library's: "./" there names nothing. */
	unsetenv("LD_PRELOAD");
	ck_assert_int_ne(access("./" PRELOAD_LIB, F_OK), 0);

	s1 = start_sleeper(test_output_dir(), preloading);
	a = images__allocator(images, s1.pid, &fresh);
	ck_assert_msg(a != NULL, "images__allocator: %s", strerror(errno));
	ck_assert_int_eq(fresh, 1);
	ck_assert_uint_eq(count_kind(a, PROBE_SITE_ALLOC, test_path(PRELOAD_LIB)), 1);
	ck_assert_uint_eq(count_kind(a, PROBE_SITE_FREE, test_path(PRELOAD_LIB)), 1);

	s2 = start_sleeper(test_output_dir(), preloading);
	b = images__allocator(images, s2.pid, &fresh);
	ck_assert_ptr_eq(b, a);
	ck_assert_int_eq(fresh, 0);

	s3 = start_sleeper(test_output_dir(), plain);
	c = images__allocator(images, s3.pid, &fresh);
	ck_assert_msg(c != NULL, "images__allocator: %s", strerror(errno));
	ck_assert_ptr_ne(c, a);
	ck_assert_int_eq(fresh, 1);
	ck_assert_uint_eq(count_kind(c, PROBE_SITE_ALLOC, NULL), 0);
	ck_assert_uint_gt(count_kind(c, PROBE_FUNCTION, NULL), 0);

	stop_sleeper(&s1);
	stop_sleeper(&s2);
	stop_sleeper(&s3);
	images__free(images);
}
END_TEST

/* A process that is gone has no program to resolve: ESRCH, as the gate expects. */
START_TEST(test_gone_process)
{
	char *const plain[] = { "HOME=/", NULL };
	struct allocator_opts opts = { .want_dl = 1 };
	struct images *images = images__new(&opts);
	struct sleeper s;
	int fresh = -1;

	ck_assert_ptr_nonnull(images);
	s = start_sleeper("/", plain);
	stop_sleeper(&s);
	errno = 0;
	ck_assert_ptr_null(images__allocator(images, s.pid, &fresh));
	ck_assert_int_eq(errno, ESRCH);
	ck_assert_int_eq(fresh, 0);
	images__free(images);
	images__free(NULL);
}
END_TEST

static Suite *images_suite(void)
{
	Suite *s = suite_create("images");
	TCase *tc = tcase_create("images");

	tcase_set_timeout(tc, 30);
	tcase_add_test(tc, test_resolved_as_the_process_starts);
	tcase_add_test(tc, test_gone_process);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return test_run_suite(images_suite());
}
