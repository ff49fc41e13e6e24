// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#include "runner/as_user.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "reporters/report.h"

/* The child's result from its exit status: 0, or an errno value. */
static int child_result(pid_t pid)
{
	int status;

	while (waitpid(pid, &status, 0) < 0)
		if (errno != EINTR)
			return -errno;
	if (!WIFEXITED(status))
		return -EINTR;
	return -WEXITSTATUS(status);
}

static void child_exit(int err)
{
	/* errno values fit an exit status; anything else is a plain failure. */
	_exit(err < 0 && err > -256 ? -err : (err ? EIO : 0));
}

int as_user_call(const struct launch_opts *lo, int (*fn)(void *), void *arg)
{
	pid_t pid;

	if (!lo || !lo->drop_privileges)
		return fn(arg);
	pid = fork();
	if (pid < 0)
		return -errno;
	if (pid == 0) {
		int err = launch_become_user(lo);

		child_exit(err ? err : fn(arg));
	}
	return child_result(pid);
}

/* Copies fd to out; 0 or -errno. */
static int copy_fd(int fd, int out)
{
	char buf[65536];

	for (;;) {
		ssize_t n = read(fd, buf, sizeof(buf)), w;
		char *p = buf;

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -errno;
		if (n == 0)
			return 0;
		while (n > 0) {
			w = write(out, p, (size_t)n);
			if (w < 0 && errno == EINTR)
				continue;
			if (w < 0)
				return -errno;
			p += w;
			n -= w;
		}
	}
}

/* Reads all of fd into a NUL-terminated buffer. */
static int slurp(int fd, char **text, size_t *len)
{
	size_t cap = 0, n = 0;
	char *buf = NULL;

	for (;;) {
		ssize_t got;

		if (cap - n < 65536 + 1) {
			char *grown = realloc(buf, cap + 65536 + 1);

			if (!grown) {
				free(buf);
				return -ENOMEM;
			}
			buf = grown;
			cap += 65536 + 1;
		}
		got = read(fd, buf + n, cap - n - 1);
		if (got < 0 && errno == EINTR)
			continue;
		if (got < 0) {
			int err = -errno;

			free(buf);
			return err;
		}
		if (got == 0)
			break;
		n += (size_t)got;
	}
	buf[n] = '\0';
	*text = buf;
	*len = n;
	return 0;
}

int as_user_read_file(const struct launch_opts *lo, const char *path, char **text,
		      size_t *len)
{
	int fds[2], fd, err, cerr;
	pid_t pid;

	*text = NULL;
	*len = 0;
	if (!lo || !lo->drop_privileges) {
		fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
		if (fd < 0)
			return -errno;
		err = slurp(fd, text, len);
		close(fd);
		return err;
	}
	if (pipe2(fds, O_CLOEXEC))
		return -errno;
	pid = fork();
	if (pid < 0) {
		err = -errno;
		close(fds[0]);
		close(fds[1]);
		return err;
	}
	if (pid == 0) {
		close(fds[0]);
		signal(SIGPIPE, SIG_DFL);
		err = launch_become_user(lo);
		if (err)
			child_exit(err);
		fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
		if (fd < 0)
			child_exit(-errno);
		child_exit(copy_fd(fd, fds[1]));
	}
	close(fds[1]);
	err = slurp(fds[0], text, len);
	close(fds[0]);
	cerr = child_result(pid);
	if (cerr || err) {
		free(*text);
		*text = NULL;
		*len = 0;
	}
	return cerr ? cerr : err;
}

struct write_args {
	const char *path;
	const void *data;
	size_t len;
};

static int write_file(void *arg)
{
	const struct write_args *a = arg;

	return report_write_file(a->path, a->data, a->len);
}

int as_user_write_file(const struct launch_opts *lo, const char *path, const void *data,
		       size_t len)
{
	struct write_args a = { .path = path, .data = data, .len = len };

	return as_user_call(lo, write_file, &a);
}
