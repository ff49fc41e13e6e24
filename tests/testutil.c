// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#include "tests/testutil.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

struct buf {
	char *data;
	size_t len;
};

static int buf_read(struct buf *b, int fd)
{
	char chunk[8192];
	ssize_t n = read(fd, chunk, sizeof(chunk));
	char *p;

	if (n <= 0)
		return (int)n;
	p = realloc(b->data, b->len + n + 1);
	if (!p)
		return -1;
	memcpy(p + b->len, chunk, n);
	b->data = p;
	b->len += n;
	b->data[b->len] = '\0';
	return (int)n;
}

int run_argv(struct run_result *r, char *const argv[])
{
	int out[2], err[2], status;
	struct buf bo = { 0 }, be = { 0 };
	struct pollfd pfd[2];
	int open_fds = 2;
	pid_t pid;

	memset(r, 0, sizeof(*r));
	if (pipe2(out, O_CLOEXEC) || pipe2(err, O_CLOEXEC))
		return -errno;
	pid = fork();
	if (pid < 0)
		return -errno;
	if (pid == 0) {
		dup2(out[1], 1);
		dup2(err[1], 2);
		execvp(argv[0], argv);
		fprintf(stderr, "exec %s: %s\n", argv[0], strerror(errno));
		_exit(127);
	}
	close(out[1]);
	close(err[1]);
	pfd[0] = (struct pollfd){ .fd = out[0], .events = POLLIN };
	pfd[1] = (struct pollfd){ .fd = err[0], .events = POLLIN };
	while (open_fds > 0) {
		if (poll(pfd, 2, -1) < 0) {
			if (errno == EINTR)
				continue;
			break;
		}
		for (int i = 0; i < 2; i++) {
			if (pfd[i].fd < 0 || !(pfd[i].revents & (POLLIN | POLLHUP | POLLERR)))
				continue;
			if (buf_read(i == 0 ? &bo : &be, pfd[i].fd) <= 0) {
				close(pfd[i].fd);
				pfd[i].fd = -1;
				open_fds--;
			}
		}
	}
	while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
		;
	r->status = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
	r->out = bo.data ? bo.data : strdup("");
	r->err = be.data ? be.data : strdup("");
	return 0;
}

int run_sh(struct run_result *r, const char *fmt, ...)
{
	char *cmd = NULL;
	va_list ap;
	int err;

	va_start(ap, fmt);
	err = vasprintf(&cmd, fmt, ap);
	va_end(ap);
	if (err < 0)
		return -ENOMEM;
	char *argv[] = { "/bin/sh", "-c", cmd, NULL };
	err = run_argv(r, argv);
	free(cmd);
	return err;
}

void run_result_free(struct run_result *r)
{
	free(r->out);
	free(r->err);
	r->out = r->err = NULL;
}

const char *test_output_dir(void)
{
	const char *d = getenv("MEMLEAK_OUTPUT");

	return d && *d ? d : ".output";
}

const char *test_path(const char *rel)
{
	static char slots[8][4096];
	static int next;
	char *p = slots[next++ % 8];

	snprintf(p, sizeof(slots[0]), "%s/%s", test_output_dir(), rel);
	return p;
}

int test_same_file(const char *a, const char *b)
{
	struct stat sa, sb;

	if (stat(a, &sa) || stat(b, &sb))
		return 0;
	return sa.st_dev == sb.st_dev && sa.st_ino == sb.st_ino;
}

int test_runs(pid_t pid, const char *path)
{
	char link[64], exe[PATH_MAX];
	ssize_t n;

	snprintf(link, sizeof(link), "/proc/%d/exe", (int)pid);
	n = readlink(link, exe, sizeof(exe) - 1);
	if (n <= 0)
		return 0;
	exe[n] = '\0';
	return !strcmp(exe, path);
}

int count_substr(const char *hay, const char *needle)
{
	size_t n = strlen(needle);
	int count = 0;

	if (!hay || !n)
		return 0;
	for (const char *p = strstr(hay, needle); p; p = strstr(p + n, needle))
		count++;
	return count;
}

int test_run_suite(Suite *s)
{
	SRunner *sr = srunner_create(s);
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}

static char *read_all(FILE *fp)
{
	char *buf;
	long len;

	ck_assert_int_eq(fseek(fp, 0, SEEK_END), 0);
	len = ftell(fp);
	ck_assert_int_ge(len, 0);
	rewind(fp);
	buf = calloc(1, (size_t)len + 1);
	ck_assert_ptr_nonnull(buf);
	ck_assert_uint_eq(fread(buf, 1, (size_t)len, fp), (size_t)len);
	fclose(fp);
	return buf;
}

int test_capture(int (*fn)(void *ctx), void *ctx, char **out, char **err)
{
	FILE *fout = tmpfile(), *ferr = tmpfile();
	int saved_out, saved_err, ret;

	ck_assert_ptr_nonnull(fout);
	ck_assert_ptr_nonnull(ferr);
	fflush(stdout);
	fflush(stderr);
	saved_out = dup(1);
	saved_err = dup(2);
	ck_assert_int_ge(saved_out, 0);
	ck_assert_int_ge(saved_err, 0);
	ck_assert_int_ge(dup2(fileno(fout), 1), 0);
	ck_assert_int_ge(dup2(fileno(ferr), 2), 0);

	ret = fn(ctx);

	fflush(stdout);
	fflush(stderr);
	dup2(saved_out, 1);
	dup2(saved_err, 2);
	close(saved_out);
	close(saved_err);
	*out = read_all(fout);
	*err = read_all(ferr);
	return ret;
}

void test_mkdtemp(char *template)
{
	if (!mkdtemp(template)) {
		perror("mkdtemp");
		exit(EXIT_FAILURE);
	}
}

void test_rmtree(const char *dir)
{
	char cmd[PATH_MAX + 32];

	snprintf(cmd, sizeof(cmd), "/bin/rm -rf '%s'", dir);
	if (system(cmd))
		fprintf(stderr, "could not remove %s\n", dir);
}
