// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#include "runner/preloading.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

char *preloading_find_library(void)
{
	static const char *const relative[] = { "/", "/../lib/memleak/" };
	char exe[PATH_MAX], path[PATH_MAX + 64];
	ssize_t n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
	char *slash;

	if (n <= 0)
		return NULL;
	exe[n] = '\0';
	slash = strrchr(exe, '/');
	if (!slash) {
		errno = ENOENT;
		return NULL;
	}
	*slash = '\0';
	for (size_t i = 0; i < sizeof(relative) / sizeof(relative[0]); i++) {
		char *real;

		snprintf(path, sizeof(path), "%s%s%s", exe, relative[i], PRELOADING_LIBRARY);
		real = realpath(path, NULL);
		if (real)
			return real;
	}
	errno = ENOENT;
	return NULL;
}

/* Whether the user the program runs as can read the library: asked as that user. */
static int readable_as(const char *library, const struct launch_opts *lo)
{
	int status;
	pid_t pid;

	if (!lo || !lo->drop_privileges)
		return access(library, R_OK) == 0;
	pid = fork();
	if (pid < 0)
		return 0;
	if (pid == 0) {
		if (launch_become_user(lo))
			_exit(1);
		_exit(access(library, R_OK) ? 1 : 0);
	}
	while (waitpid(pid, &status, 0) < 0)
		if (errno != EINTR)
			return 0;
	return WIFEXITED(status) && WEXITSTATUS(status) == 0;
}

const char *preloading_obstacle(const char *library, const char *program,
				const struct launch_opts *lo)
{
	struct stat st;

	/* White space separates LD_PRELOAD's entries. */
	if (strpbrk(library, " \t\n:"))
		return "its path has a separator of LD_PRELOAD in it";
	if (!stat(program, &st) && S_ISREG(st.st_mode) && (st.st_mode & (S_ISUID | S_ISGID)))
		return "the program is set-user-ID or set-group-ID";
	if (!readable_as(library, lo))
		return "the program's user cannot read it";
	return NULL;
}

int preloading_setenv(const char *library)
{
	const char *old = getenv("LD_PRELOAD");
	char *value;
	int err = 0;

	if (!old || !*old)
		return setenv("LD_PRELOAD", library, 1) ? -errno : 0;
	if (asprintf(&value, "%s:%s", old, library) < 0)
		return -ENOMEM;
	if (setenv("LD_PRELOAD", value, 1))
		err = -errno;
	free(value);
	return err;
}
