// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#include "runner/launch.h"

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>
#include <wordexp.h>

struct launch {
	pid_t pid;
	int go_fd;	/* write end: one byte lets the child exec */
	int err_fd;	/* read end: the child's errno if exec fails, EOF if it succeeded */
	char *path;	/* executed as found, for $0, /proc/PID/comm and AT_EXECFN */
	char *real;	/* the file it names, for allocator and symbols */
	int released;
};

static int executable(const char *path)
{
	struct stat st;

	if (stat(path, &st))
		return -errno;
	if (S_ISDIR(st.st_mode))
		return -EACCES;
	if (access(path, X_OK))
		return -errno;
	return 0;
}

/* Errors after which execvp tries the next directory of PATH. */
static int search_goes_on(int err)
{
	return err == -ENOENT || err == -ENOTDIR || err == -ESTALE || err == -ENODEV ||
	       err == -ETIMEDOUT || err == -EACCES;
}

/*
 * As the C library's execvp: a name with a slash is the path; otherwise each entry of
 * PATH ("/bin:/usr/bin" without it; an empty entry is the working directory) in turn,
 * past files missing or not executable. Found only not executable: EACCES.
 */
char *launch_find_program(const char *name)
{
	const char *env = getenv("PATH");
	char *path, *dirs, *dir, *save = NULL;
	int err = -ENOENT, eacces = 0;

	if (!name || !*name) {
		errno = ENOENT;
		return NULL;
	}
	if (strchr(name, '/')) {
		err = executable(name);
		if (err) {
			errno = -err;
			return NULL;
		}
		return strdup(name);
	}
	dirs = strdup(env ? env : "/bin:/usr/bin");
	if (!dirs)
		return NULL;
	/* Split by hand: an empty entry is the current directory, as for execvp. */
	for (dir = dirs; dir; dir = save) {
		int e;

		save = strchr(dir, ':');
		if (save)
			*save++ = '\0';
		/* "dir/name" as execvp forms it: "./name" is not what it executes for "". */
		if (asprintf(&path, *dir ? "%s/%s" : "%s%s", dir, name) < 0) {
			err = -ENOMEM;
			break;
		}
		e = executable(path);
		if (!e) {
			free(dirs);
			return path;
		}
		free(path);
		eacces |= e == -EACCES;
		if (!search_goes_on(e)) {
			err = e;
			break;
		}
	}
	free(dirs);
	errno = eacces && search_goes_on(err) ? EACCES : -err;
	return NULL;
}

/*
 * Executes path as execv, and what the kernel cannot execute (no ELF, no "#!") with the
 * shell, as execvp does: /bin/sh reads it, and its $0 is the path.
 */
static void exec_as_execvp(const char *path, char *const argv[])
{
	size_t argc = 0;
	char **sh_argv;

	execv(path, argv);
	if (errno != ENOEXEC)
		return;
	while (argv[argc])
		argc++;
	sh_argv = calloc(argc + 2, sizeof(*sh_argv));
	if (!sh_argv) {
		errno = ENOEXEC;
		return;
	}
	sh_argv[0] = "/bin/sh";
	sh_argv[1] = (char *)path;
	for (size_t i = 1; i < argc; i++)
		sh_argv[i + 1] = argv[i];
	execv("/bin/sh", sh_argv);
	free(sh_argv);
	errno = ENOEXEC;
}

int launch_become_user(const struct launch_opts *opts)
{
	if (!opts || !opts->drop_privileges)
		return 0;
	if (setgroups(opts->groups ? (size_t)opts->ngroups : 0, opts->groups) ||
	    setgid(opts->gid) || setuid(opts->uid))
		return -errno;
	/* Leaving root clears the capabilities; a user id of 0 would keep them all. */
	if (opts->uid && setuid(0) == 0)
		return -EPERM;
	return 0;
}

int launch_user_environment(const struct launch_opts *opts)
{
	const struct {
		const char *name, *value;
	} vars[] = {
		{ "HOME", opts->home }, { "USER", opts->name },
		{ "LOGNAME", opts->name }, { "SHELL", opts->shell },
	};

	for (size_t i = 0; i < sizeof(vars) / sizeof(vars[0]); i++)
		if (vars[i].value && setenv(vars[i].name, vars[i].value, 1))
			return -errno;
	return 0;
}

struct launch *launch__start(char *const argv[], const struct launch_opts *opts)
{
	struct launch *l = calloc(1, sizeof(*l));
	int go[2] = { -1, -1 }, errp[2] = { -1, -1 };
	int err = 0;

	if (!l)
		return NULL;
	l->pid = -1;
	l->go_fd = l->err_fd = -1;
	l->path = launch_find_program(argv[0]);
	if (l->path)
		l->real = realpath(l->path, NULL);
	if (!l->real) {
		err = -errno;
		goto cleanup;
	}
	if (pipe2(go, O_CLOEXEC) || pipe2(errp, O_CLOEXEC)) {
		err = -errno;
		goto cleanup;
	}
	l->pid = fork();
	if (l->pid < 0) {
		err = -errno;
		goto cleanup;
	}
	if (l->pid == 0) {
		char byte;
		int e;

		close(go[1]);
		close(errp[0]);
		if (opts && opts->new_process_group)
			setpgid(0, 0);
		/* Held here until the tracer is attached. */
		if (read(go[0], &byte, 1) != 1)
			_exit(127);
		if (opts && opts->drop_privileges &&
		    ((e = -launch_become_user(opts)) || (e = -launch_user_environment(opts)))) {
			(void)!write(errp[1], &e, sizeof(e));
			_exit(127);
		}
		exec_as_execvp(l->path, argv);
		e = errno;
		(void)!write(errp[1], &e, sizeof(e));
		_exit(127);
	}
	close(go[0]);
	close(errp[1]);
	l->go_fd = go[1];
	l->err_fd = errp[0];
	return l;
cleanup:
	for (int i = 0; i < 2; i++) {
		if (go[i] >= 0)
			close(go[i]);
		if (errp[i] >= 0)
			close(errp[i]);
	}
	free(l->path);
	free(l->real);
	free(l);
	errno = -err;
	return NULL;
}

pid_t launch__pid(const struct launch *l)
{
	return l->pid;
}

const char *launch__path(const struct launch *l)
{
	return l->real;
}

const char *launch__program(const struct launch *l)
{
	return l->path;
}

int launch__release(struct launch *l)
{
	int child_errno = 0;
	ssize_t n;

	struct sigaction ign = { .sa_handler = SIG_IGN }, old;
	int werr = 0;

	/* A child that died while held must not kill us with SIGPIPE. */
	sigaction(SIGPIPE, &ign, &old);
	if (write(l->go_fd, "g", 1) != 1)
		werr = -errno;
	sigaction(SIGPIPE, &old, NULL);
	if (werr)
		return werr;
	close(l->go_fd);
	l->go_fd = -1;
	l->released = 1;
	/* EOF: the close-on-exec pipe closed because exec succeeded. */
	do {
		n = read(l->err_fd, &child_errno, sizeof(child_errno));
	} while (n < 0 && errno == EINTR);
	close(l->err_fd);
	l->err_fd = -1;
	if (n == (ssize_t)sizeof(child_errno)) {
		while (waitpid(l->pid, NULL, 0) < 0 && errno == EINTR)
			;
		return -child_errno;
	}
	return 0;
}

void launch__free(struct launch *l)
{
	if (!l)
		return;
	if (!l->released && l->pid > 0) {
		kill(l->pid, SIGKILL);
		while (waitpid(l->pid, NULL, 0) < 0 && errno == EINTR)
			;
	}
	if (l->go_fd >= 0)
		close(l->go_fd);
	if (l->err_fd >= 0)
		close(l->err_fd);
	free(l->path);
	free(l->real);
	free(l);
}

char **launch_split_command(const char *cmdline)
{
	char **argv = NULL;
	wordexp_t we;

	/* No command substitution, no undefined variables: a command line, not a script. */
	if (wordexp(cmdline, &we, WRDE_NOCMD | WRDE_UNDEF) != 0) {
		errno = EINVAL;
		return NULL;
	}
	if (we.we_wordc == 0) {
		wordfree(&we);
		errno = EINVAL;
		return NULL;
	}
	argv = calloc(we.we_wordc + 1, sizeof(*argv));
	for (size_t i = 0; argv && i < we.we_wordc; i++)
		argv[i] = strdup(we.we_wordv[i]);
	wordfree(&we);
	return argv;
}

void launch_free_argv(char **argv)
{
	if (!argv)
		return;
	for (char **p = argv; *p; p++)
		free(*p);
	free(argv);
}
