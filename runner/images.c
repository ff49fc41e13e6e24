// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#include "runner/images.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

struct image {
	char *key;
	struct allocator *alloc;
};

struct images {
	struct allocator_opts opts;
	struct image *v;
	size_t n;
};

/* What the dynamic linker reads from a process: its program, environment and directory. */
struct process_start {
	char exe[PATH_MAX];
	char cwd[PATH_MAX];
	struct stat st;
	char **envp;		/* NULL-terminated */
	size_t nenv;
};

struct images *images__new(const struct allocator_opts *opts)
{
	struct images *c = calloc(1, sizeof(*c));

	if (c)
		c->opts = *opts;
	return c;
}

void images__free(struct images *c)
{
	if (!c)
		return;
	for (size_t i = 0; i < c->n; i++) {
		free(c->v[i].key);
		allocator__free(c->v[i].alloc);
	}
	free(c->v);
	free(c);
}

static void free_start(struct process_start *ps)
{
	for (size_t i = 0; i < ps->nenv; i++)
		free(ps->envp[i]);
	free(ps->envp);
}

static int read_link(pid_t pid, const char *what, char *buf, size_t len)
{
	char link[64];
	ssize_t n;

	snprintf(link, sizeof(link), "/proc/%d/%s", pid, what);
	n = readlink(link, buf, len - 1);
	if (n < 0)
		return -errno;
	buf[n] = '\0';
	return 0;
}

/*
 * The dynamic linker of a set-user-ID or set-group-ID program ignores LD_LIBRARY_PATH and
 * preloads given by path: leaving out every LD_ variable comes closest.
 */
static int loader_reads(const struct process_start *ps, const char *var)
{
	if (strncmp(var, "LD_", 3))
		return 1;
	return !(ps->st.st_mode & (S_ISUID | S_ISGID));
}

static int read_environment(pid_t pid, struct process_start *ps)
{
	char path[64], *var = NULL;
	size_t cap = 0;
	ssize_t len;
	int err = 0;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/environ", pid);
	f = fopen(path, "re");
	if (!f)
		return -errno;
	ps->envp = calloc(1, sizeof(*ps->envp));
	if (!ps->envp)
		err = -ENOMEM;
	while (!err && (len = getdelim(&var, &cap, '\0', f)) > 0) {
		char **envp;

		if (!loader_reads(ps, var))
			continue;
		envp = realloc(ps->envp, (ps->nenv + 2) * sizeof(*envp));
		if (!envp) {
			err = -ENOMEM;
			break;
		}
		ps->envp = envp;
		ps->envp[ps->nenv] = strdup(var);
		if (!ps->envp[ps->nenv]) {
			err = -ENOMEM;
			break;
		}
		ps->envp[++ps->nenv] = NULL;
	}
	free(var);
	fclose(f);
	return err;
}

static int read_start(pid_t pid, struct process_start *ps)
{
	const char *deleted = " (deleted)";
	size_t n;
	int err;

	memset(ps, 0, sizeof(*ps));
	err = read_link(pid, "exe", ps->exe, sizeof(ps->exe));
	if (!err)
		err = read_link(pid, "cwd", ps->cwd, sizeof(ps->cwd));
	if (err)
		return err == -ENOENT ? -ESRCH : err;
	/* A program replaced since it was executed is still there, through the process. */
	n = strlen(ps->exe);
	if (n > strlen(deleted) && !strcmp(ps->exe + n - strlen(deleted), deleted))
		snprintf(ps->exe, sizeof(ps->exe), "/proc/%d/exe", pid);
	if (stat(ps->exe, &ps->st))
		return -errno;
	return read_environment(pid, ps);
}

/*
 * The program file, as an inode and a change time, and everything the dynamic linker's
 * search depends on: its LD_ variables and, for their relative paths, the directory.
 */
static char *start_key(const struct process_start *ps)
{
	char *key = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&key, &len);

	if (!f)
		return NULL;
	fprintf(f, "%s\n%llu:%llu:%lld.%09ld\n%s\n", ps->exe, (unsigned long long)ps->st.st_dev,
		(unsigned long long)ps->st.st_ino, (long long)ps->st.st_mtim.tv_sec,
		ps->st.st_mtim.tv_nsec, ps->cwd);
	for (size_t i = 0; i < ps->nenv; i++)
		if (!strncmp(ps->envp[i], "LD_", 3))
			fprintf(f, "%s\n", ps->envp[i]);
	if (fclose(f)) {
		free(key);
		return NULL;
	}
	return key;
}

const struct allocator *images__allocator(struct images *c, pid_t pid, int *fresh)
{
	struct process_start ps;
	struct allocator_env env;
	struct allocator *alloc = NULL;
	struct image *v;
	char *key = NULL;
	int err;

	*fresh = 0;
	err = read_start(pid, &ps);
	if (!err) {
		key = start_key(&ps);
		if (!key)
			err = -ENOMEM;
	}
	for (size_t i = 0; !err && i < c->n; i++) {
		if (!strcmp(c->v[i].key, key)) {
			alloc = c->v[i].alloc;
			goto cleanup;
		}
	}
	if (err)
		goto cleanup;
	env = (struct allocator_env){ .envp = ps.envp, .cwd = ps.cwd };
	alloc = allocator__for_exec(ps.exe, &env, &c->opts);
	if (!alloc) {
		err = -errno;
		goto cleanup;
	}
	v = realloc(c->v, (c->n + 1) * sizeof(*v));
	if (!v) {
		allocator__free(alloc);
		alloc = NULL;
		err = -ENOMEM;
		goto cleanup;
	}
	c->v = v;
	c->v[c->n++] = (struct image){ .key = key, .alloc = alloc };
	key = NULL;
	*fresh = 1;
cleanup:
	free(key);
	free_start(&ps);
	if (!alloc)
		errno = -err;
	return alloc;
}
