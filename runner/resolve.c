// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#include "runner/resolve.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

struct known_file {
	uint64_t ino;
	uint32_t dev;
	char *path;	/* a path that opens the file, for the symbolizer */
	char *name;	/* the path the process knew it by, for reports */
};

struct resolver {
	struct symbolizer *sym;
	struct known_file *files;
	size_t nfiles, cap;
};

static uint32_t kernel_dev(unsigned int maj, unsigned int min)
{
	return (uint32_t)maj << 20 | (min & 0xfffff);
}

struct resolver *resolver__new(void)
{
	struct resolver *r = calloc(1, sizeof(*r));

	if (!r)
		return NULL;
	r->sym = symbolizer__new();
	if (!r->sym) {
		free(r);
		return NULL;
	}
	return r;
}

void resolver__free(struct resolver *r)
{
	if (!r)
		return;
	for (size_t i = 0; i < r->nfiles; i++) {
		free(r->files[i].path);
		free(r->files[i].name);
	}
	free(r->files);
	symbolizer__free(r->sym);
	free(r);
}

static struct known_file *find_file(struct resolver *r, uint32_t dev, uint64_t ino)
{
	for (size_t i = r->nfiles; i-- > 0;)
		if (r->files[i].ino == ino && r->files[i].dev == dev)
			return &r->files[i];
	return NULL;
}

static int remember(struct resolver *r, uint32_t dev, uint64_t ino, const char *path,
		    const char *name)
{
	struct known_file *f = find_file(r, dev, ino);

	if (f)
		return 0;
	if (r->nfiles == r->cap) {
		size_t cap = r->cap ? r->cap * 2 : 32;
		struct known_file *files = realloc(r->files, cap * sizeof(*files));

		if (!files)
			return -ENOMEM;
		r->files = files;
		r->cap = cap;
	}
	f = &r->files[r->nfiles];
	f->dev = dev;
	f->ino = ino;
	f->path = strdup(path);
	f->name = strdup(name);
	if (!f->path || !f->name) {
		free(f->path);
		free(f->name);
		return -ENOMEM;
	}
	r->nfiles++;
	/* Open it now: it may be gone (deleted, or its process's root) when frames resolve. */
	symbolizer__open_file(r->sym, f->path);
	return 0;
}

int resolver__add_file(struct resolver *r, const char *path)
{
	struct stat st;

	if (stat(path, &st))
		return -errno;
	return remember(r, kernel_dev(major(st.st_dev), minor(st.st_dev)), st.st_ino, path, path);
}

int resolver__add_process_file(struct resolver *r, pid_t pid, const char *path)
{
	char full[4400], *real;
	struct stat st;
	int err;

	if (!path[0])
		return -ENOENT;
	/* As the process sees it: its root for absolute paths, its directory for others. */
	snprintf(full, sizeof(full), "/proc/%d/%s%s%s", pid, path[0] == '/' ? "root" : "cwd",
		 path[0] == '/' ? "" : "/", path);
	if (stat(full, &st))
		return resolver__add_file(r, path);
	/* Reports name it as the process knew it, made absolute. */
	real = path[0] == '/' ? NULL : realpath(full, NULL);
	err = remember(r, kernel_dev(major(st.st_dev), minor(st.st_dev)), st.st_ino, full,
		       real ? real : path);
	free(real);
	return err;
}

int resolver__add_maps(struct resolver *r, pid_t pid)
{
	char file[64], line[4352], path[4400];
	FILE *f;
	int err = 0;

	snprintf(file, sizeof(file), "/proc/%d/maps", pid);
	f = fopen(file, "re");
	if (!f)
		return -errno;
	while (fgets(line, sizeof(line), f) && !err) {
		unsigned int maj, min;
		unsigned long long ino;
		int name_at = 0;

		if (sscanf(line, "%*x-%*x %*s %*x %x:%x %llu %n", &maj, &min, &ino, &name_at) < 3 ||
		    !ino || line[name_at] != '/')
			continue;
		line[strcspn(line, "\n")] = '\0';
		if (strstr(line + name_at, " (deleted)"))
			continue;
		snprintf(path, sizeof(path), "/proc/%d/root%s", pid, line + name_at);
		err = remember(r, kernel_dev(maj, min), ino, path, line + name_at);
	}
	fclose(f);
	return err;
}

int resolver__frame(void *ctx, uint32_t tgid, const struct raw_frame *rf, struct frame *out)
{
	struct resolver *r = ctx;
	struct known_file *f;

	out->addr = rf->ip;
	if (rf->kernel)
		return symbolizer__resolve_kernel(r->sym, rf->ip, out);
	if (!rf->ino) {
		out->module = rf->base ? "[anon]" : NULL;
		return -ENOENT;
	}
	f = find_file(r, rf->dev, rf->ino);
	if (!f)
		return -ENOENT;
	symbolizer__resolve_file(r->sym, f->path, rf->ip - rf->base, 1, out);
	out->addr = rf->ip;
	out->module = f->name;
	return 0;
}

struct frame_resolver resolver__as_frame_resolver(struct resolver *r)
{
	return (struct frame_resolver){ .resolve = resolver__frame, .ctx = r };
}
