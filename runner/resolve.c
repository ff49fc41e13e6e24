// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#include "runner/resolve.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

struct known_file {
	uint64_t ino;
	uint32_t dev;
	char *path;	/* a path that opens the file, for the symbolizer */
	char *name;	/* the path the process knew it by, for reports */
};

/* An executable file mapping seen in a process: a fallback for frames without one. */
struct seen_mapping {
	uint32_t tgid;
	uint64_t start, end, base;
	uint64_t ino;
	uint32_t dev;
};

struct resolver {
	struct seen_mapping *maps;
	size_t nmaps, mapcap;
	struct symbolizer *sym;
	struct known_file *files;
	size_t nfiles, cap;
};

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
	free(r->maps);
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

static mapping_key_fn key_source;
static void *key_source_ctx;

void resolve_set_mapping_key(mapping_key_fn fn, void *ctx)
{
	key_source = fn;
	key_source_ctx = ctx;
}

/*
 * The device and inode of this process's mapping at `addr`: from the key source, else
 * as /proc/self/maps gives them (on overlayfs the layer's file on 6.1, the overlay's on 6.18).
 */
static int mapping_key(uintptr_t addr, uint32_t *dev, uint64_t *ino)
{
	FILE *f = fopen("/proc/self/maps", "re");
	char line[4352];
	int err = -ENOENT;

	if (key_source && !key_source(key_source_ctx, addr, dev, ino)) {
		if (f)
			fclose(f);
		return 0;
	}
	if (!f)
		return -errno;
	while (fgets(line, sizeof(line), f)) {
		unsigned long long start, i;
		unsigned int maj, min;

		if (sscanf(line, "%llx-%*x %*s %*x %x:%x %llu", &start, &maj, &min, &i) == 4 &&
		    start == addr) {
			*dev = memleak_kernel_dev(maj, min);
			*ino = i;
			err = 0;
			break;
		}
	}
	fclose(f);
	return err;
}

int resolve_file_key(const char *path, uint32_t *dev, uint64_t *ino)
{
	long page = sysconf(_SC_PAGESIZE);
	int fd = open(path, O_RDONLY | O_CLOEXEC), err;
	struct stat st;
	void *map;

	if (fd < 0)
		return -errno;
	if (fstat(fd, &st)) {
		err = -errno;
		close(fd);
		return err;
	}
	*dev = memleak_kernel_dev(major(st.st_dev), minor(st.st_dev));
	*ino = st.st_ino;
	/* A file that cannot be mapped is in no frame: its own numbers will do. */
	map = mmap(NULL, page > 0 ? (size_t)page : 4096, PROT_READ, MAP_PRIVATE, fd, 0);
	close(fd);
	if (map == MAP_FAILED)
		return 0;
	mapping_key((uintptr_t)map, dev, ino);
	munmap(map, page > 0 ? (size_t)page : 4096);
	return 0;
}

int resolver__add_file(struct resolver *r, const char *path)
{
	uint64_t ino;
	uint32_t dev;
	int err = resolve_file_key(path, &dev, &ino);

	return err ? err : remember(r, dev, ino, path, path);
}

int resolve_process_path(pid_t pid, const char *path, char *buf, size_t len)
{
	int n;

	if (!path[0])
		return -ENOENT;
	/* As the process sees it: its root for absolute paths, its directory for others. */
	n = snprintf(buf, len, "/proc/%d/%s%s%s", pid, path[0] == '/' ? "root" : "cwd",
		     path[0] == '/' ? "" : "/", path);
	return n < 0 || (size_t)n >= len ? -ENAMETOOLONG : 0;
}

int resolver__add_process_file(struct resolver *r, pid_t pid, const char *path)
{
	char full[4400], *real;
	uint64_t ino;
	uint32_t dev;
	int err;

	err = resolve_process_path(pid, path, full, sizeof(full));
	if (err)
		return err;
	/*
	 * Opened before it is remembered: a process that exits between the two would leave a
	 * path that opens nothing.
	 */
	if (resolve_file_key(full, &dev, &ino) || symbolizer__open_file(r->sym, full))
		return resolver__add_file(r, path);
	/* Reports name it as the process knew it, made absolute. */
	real = path[0] == '/' ? NULL : realpath(full, NULL);
	err = remember(r, dev, ino, full, real ? real : path);
	free(real);
	return err;
}

static void remember_mapping(struct resolver *r, uint32_t tgid, uint64_t start, uint64_t end,
			     uint64_t base, uint64_t ino, uint32_t dev)
{
	for (size_t i = 0; i < r->nmaps; i++)
		if (r->maps[i].tgid == tgid && r->maps[i].start == start && r->maps[i].ino == ino)
			return;
	if (r->nmaps == r->mapcap) {
		size_t cap = r->mapcap ? r->mapcap * 2 : 64;
		struct seen_mapping *m = realloc(r->maps, cap * sizeof(*m));

		if (!m)
			return;
		r->maps = m;
		r->mapcap = cap;
	}
	r->maps[r->nmaps++] = (struct seen_mapping){ tgid, start, end, base, ino, dev };
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
		unsigned long long start, end, pgoff, ino;
		unsigned int maj, min;
		uint64_t kino;
		uint32_t kdev;
		char perms[8];
		int name_at = 0;

		if (sscanf(line, "%llx-%llx %7s %llx %x:%x %llu %n", &start, &end, perms, &pgoff, &maj,
			   &min, &ino, &name_at) < 7 || !ino || line[name_at] != '/')
			continue;
		if (perms[2] == 'x')
			remember_mapping(r, (uint32_t)pid, start, end, start - pgoff, ino, memleak_kernel_dev(maj, min));
		line[strcspn(line, "\n")] = '\0';
		if (strstr(line + name_at, " (deleted)"))
			continue;
		snprintf(path, sizeof(path), "/proc/%d/root%s", pid, line + name_at);
		if (find_file(r, memleak_kernel_dev(maj, min), ino))
			continue;
		err = remember(r, memleak_kernel_dev(maj, min), ino, path, line + name_at);
		/* Frames carry the held file's key, which the maps may not show (overlayfs). */
		if (!err && !resolve_file_key(path, &kdev, &kino))
			err = remember(r, kdev, kino, path, line + name_at);
	}
	fclose(f);
	return err;
}

size_t resolver__frame(void *ctx, uint32_t tgid, const struct raw_frame *rf, struct frame *out,
		       size_t max)
{
	struct resolver *r = ctx;
	struct known_file *f;
	int n;

	out->addr = rf->ip;
	if (rf->kernel) {
		symbolizer__resolve_kernel(r->sym, rf->ip, out);
		return 1;
	}
	if (!rf->ino && !rf->base) {
		/*
		 * The tracer could not read this frame's mapping (its lock was busy): use the
		 * latest mapping seen at that address in the process, if any.
		 */
		for (size_t i = r->nmaps; i-- > 0;) {
			const struct seen_mapping *m = &r->maps[i];

			if (m->tgid == tgid && rf->ip >= m->start && rf->ip < m->end) {
				struct raw_frame known = *rf;

				known.base = m->base;
				known.ino = m->ino;
				known.dev = m->dev;
				return resolver__frame(ctx, tgid, &known, out, max);
			}
		}
	}
	if (!rf->ino) {
		out->module = rf->base ? "[anon]" : NULL;
		return 1;
	}
	f = find_file(r, rf->dev, rf->ino);
	if (!f)
		return 1;
	n = symbolizer__resolve_file(r->sym, f->path, rf->ip - rf->base, 1, out, max);
	if (n < 1)
		n = 1;
	for (int i = 0; i < n; i++) {
		out[i].addr = rf->ip;
		out[i].module = f->name;
	}
	return (size_t)n;
}

struct frame_resolver resolver__as_frame_resolver(struct resolver *r)
{
	return (struct frame_resolver){ .resolve = resolver__frame, .ctx = r };
}
