// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#include "runner/allocator.h"
#include "runner/libsearch.h"
#include "runner/placement.h"

#include <errno.h>
#include <fcntl.h>
#include <gelf.h>
#include <libelf.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static const char *const fn_names[FN__COUNT] = {
	[FN_NEW] = "operator new",
	[FN_DELETE] = "operator delete",
	[FN_MALLOC] = "malloc",
	[FN_CALLOC] = "calloc",
	[FN_REALLOC] = "realloc",
	[FN_REALLOCARRAY] = "reallocarray",
	[FN_POSIX_MEMALIGN] = "posix_memalign",
	[FN_ALIGNED_ALLOC] = "aligned_alloc",
	[FN_MEMALIGN] = "memalign",
	[FN_VALLOC] = "valloc",
	[FN_PVALLOC] = "pvalloc",
	[FN_FREE] = "free",
	[FN_MMAP] = "mmap",
	[FN_MUNMAP] = "munmap",
	[FN_MREMAP] = "mremap",
	[FN_DLOPEN] = "dlopen",
	[FN_DLCLOSE] = "dlclose",
	[FN_EXIT] = "_exit",
	[FN_ABORT] = "abort",
	[FN_EXIT_CALL] = "exit",
};

const char *allocator_fn_name(enum memleak_fn fn)
{
	return fn < FN__COUNT ? fn_names[fn] : "?";
}

/*
 * The symbols probed, each with the function it behaves as. C++'s operators are probed
 * themselves rather than only the malloc they call: the C++ runtime has no frame
 * pointers, so a stack taken inside it would skip the caller of new. Last, the probe
 * sites of the preload library: where they are, they report the functions it defines.
 */
static const struct {
	const char *name;
	enum memleak_fn fn;
	enum probe_kind kind;
} symbols[] = {
	{ .name = "malloc", .fn = FN_MALLOC },
	{ .name = "calloc", .fn = FN_CALLOC },
	{ .name = "realloc", .fn = FN_REALLOC },
	{ .name = "reallocarray", .fn = FN_REALLOCARRAY },
	{ .name = "posix_memalign", .fn = FN_POSIX_MEMALIGN },
	{ .name = "aligned_alloc", .fn = FN_ALIGNED_ALLOC },
	{ .name = "memalign", .fn = FN_MEMALIGN },
	{ .name = "valloc", .fn = FN_VALLOC },
	{ .name = "pvalloc", .fn = FN_PVALLOC },
	{ .name = "free", .fn = FN_FREE },
	{ .name = "mmap", .fn = FN_MMAP },
	{ .name = "munmap", .fn = FN_MUNMAP },
	{ .name = "mremap", .fn = FN_MREMAP },
	{ .name = "dlopen", .fn = FN_DLOPEN },
	{ .name = "dlclose", .fn = FN_DLCLOSE },
	{ .name = "_exit", .fn = FN_EXIT },
	{ .name = "abort", .fn = FN_ABORT },
	{ .name = "exit", .fn = FN_EXIT_CALL },
	{ .name = "_Znwm", .fn = FN_NEW },				/* new(size_t) */
	{ .name = "_Znam", .fn = FN_NEW },				/* new[](size_t) */
	{ .name = "_ZnwmRKSt9nothrow_t", .fn = FN_NEW },
	{ .name = "_ZnamRKSt9nothrow_t", .fn = FN_NEW },
	{ .name = "_ZnwmSt11align_val_t", .fn = FN_NEW },
	{ .name = "_ZnamSt11align_val_t", .fn = FN_NEW },
	{ .name = "_ZnwmSt11align_val_tRKSt9nothrow_t", .fn = FN_NEW },
	{ .name = "_ZnamSt11align_val_tRKSt9nothrow_t", .fn = FN_NEW },
	{ .name = "_ZdlPv", .fn = FN_DELETE },			/* delete(void *) */
	{ .name = "_ZdaPv", .fn = FN_DELETE },
	{ .name = "_ZdlPvm", .fn = FN_DELETE },
	{ .name = "_ZdaPvm", .fn = FN_DELETE },
	{ .name = "_ZdlPvRKSt9nothrow_t", .fn = FN_DELETE },
	{ .name = "_ZdaPvRKSt9nothrow_t", .fn = FN_DELETE },
	{ .name = "_ZdlPvSt11align_val_t", .fn = FN_DELETE },
	{ .name = "_ZdaPvSt11align_val_t", .fn = FN_DELETE },
	{ .name = "_ZdlPvmSt11align_val_t", .fn = FN_DELETE },
	{ .name = "_ZdaPvmSt11align_val_t", .fn = FN_DELETE },
	{ .name = "memleak_site_alloc", .fn = FN__COUNT, .kind = PROBE_SITE_ALLOC },
	{ .name = "memleak_site_free", .fn = FN__COUNT, .kind = PROBE_SITE_FREE },
	{ .name = "memleak_site_realloc", .fn = FN__COUNT, .kind = PROBE_SITE_REALLOC },
};

#define NSYMBOLS (sizeof(symbols) / sizeof(symbols[0]))
#define NSITES 3
#define FIRST_SITE (NSYMBOLS - NSITES)

const char *allocator_site_name(const struct probe_site *site)
{
	if (site->kind == PROBE_FUNCTION)
		return allocator_fn_name(site->fn);
	for (size_t i = FIRST_SITE; i < NSYMBOLS; i++)
		if (symbols[i].kind == site->kind)
			return symbols[i].name;
	return "?";
}

/* Whether an object has every probe site of the preload library. */
static int has_sites(const uint64_t offs[NSYMBOLS])
{
	for (size_t i = FIRST_SITE; i < NSYMBOLS; i++)
		if (!offs[i])
			return 0;
	return 1;
}

static int symbol_index(const char *name)
{
	for (size_t i = 0; i < NSYMBOLS; i++)
		if (!strcmp(name, symbols[i].name))
			return (int)i;
	return -1;
}

/* Virtual address to file offset, through the PT_LOAD segment that holds it. */
static int vaddr_to_offset(Elf *elf, uint64_t vaddr, uint64_t *offset)
{
	size_t n;

	if (elf_getphdrnum(elf, &n))
		return -EINVAL;
	for (size_t i = 0; i < n; i++) {
		GElf_Phdr ph;

		if (!gelf_getphdr(elf, (int)i, &ph) || ph.p_type != PT_LOAD)
			continue;
		if (vaddr >= ph.p_vaddr && vaddr < ph.p_vaddr + ph.p_filesz) {
			*offset = vaddr - ph.p_vaddr + ph.p_offset;
			return 0;
		}
	}
	return -ENOENT;
}

static int scan_elf(const char *path, uint64_t offsets[NSYMBOLS])
{
	Elf_Scn *scn = NULL;
	Elf *elf = NULL;
	int fd, found = 0;

	memset(offsets, 0, sizeof(uint64_t) * NSYMBOLS);
	elf_version(EV_CURRENT);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	elf = elf_begin(fd, ELF_C_READ_MMAP, NULL);
	if (!elf || elf_kind(elf) != ELF_K_ELF) {
		found = -ENOEXEC;
		goto cleanup;
	}
	while ((scn = elf_nextscn(elf, scn))) {
		GElf_Shdr sh;
		Elf_Data *data;

		if (!gelf_getshdr(scn, &sh) || (sh.sh_type != SHT_SYMTAB && sh.sh_type != SHT_DYNSYM))
			continue;
		data = elf_getdata(scn, NULL);
		if (!data || !sh.sh_entsize)
			continue;
		for (size_t i = 0; i < sh.sh_size / sh.sh_entsize; i++) {
			GElf_Sym sym;
			const char *name;
			uint64_t off;
			int fn;

			if (!gelf_getsym(data, (int)i, &sym) || sym.st_shndx == SHN_UNDEF ||
			    !sym.st_value || GELF_ST_TYPE(sym.st_info) != STT_FUNC)
				continue;
			if (GELF_ST_BIND(sym.st_info) != STB_GLOBAL && GELF_ST_BIND(sym.st_info) != STB_WEAK)
				continue;
			name = elf_strptr(elf, sh.sh_link, sym.st_name);
			if (!name || (fn = symbol_index(name)) < 0 || offsets[fn])
				continue;
			if (vaddr_to_offset(elf, sym.st_value, &off) || !off)
				continue;
			offsets[fn] = off;
			found++;
		}
	}
cleanup:
	if (elf)
		elf_end(elf);
	close(fd);
	return found;
}

/* Objects to search, in order. */
struct objlist {
	size_t n;
	char **paths;
};

static int objlist_add(struct objlist *l, const char *path)
{
	char **p;

	for (size_t i = 0; i < l->n; i++)
		if (!strcmp(l->paths[i], path))
			return 0;
	p = realloc(l->paths, (l->n + 1) * sizeof(*p));
	if (!p)
		return -ENOMEM;
	l->paths = p;
	l->paths[l->n] = strdup(path);
	if (!l->paths[l->n])
		return -ENOMEM;
	l->n++;
	return 0;
}

static void objlist_free(struct objlist *l)
{
	for (size_t i = 0; i < l->n; i++)
		free(l->paths[i]);
	free(l->paths);
}

static int wanted(int fn, const struct allocator_opts *opts)
{
	if (fn == FN_MMAP || fn == FN_MUNMAP || fn == FN_MREMAP)
		return opts && opts->want_mmap;
	if (fn == FN_DLOPEN || fn == FN_DLCLOSE)
		return opts && opts->want_dl;
	if (fn == FN_EXIT || fn == FN_ABORT || fn == FN_EXIT_CALL)
		return opts && opts->want_exit;
	return 1;
}

/* How far past a function's entry its probe can sit (placement.h); 0 when unreadable. */
static uint64_t probe_skip(const char *path, uint64_t entry, enum memleak_fn fn)
{
	uint8_t code[PLACEMENT_WINDOW];
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	ssize_t n;

#ifndef __x86_64__
	/* The decoder knows x86-64 only. */
	close(fd);
	fd = -1;
#endif
	if (fd < 0)
		return 0;
	n = pread(fd, code, sizeof(code), (off_t)entry);
	close(fd);
	if (n <= 0)
		return 0;
	return placement_skip(code, (size_t)n, fn == FN_FREE || fn == FN_DELETE);
}

/*
 * Each function comes from the first object that defines it, as symbol interposition
 * decides. Two names at one address (memalign and aligned_alloc) get one probe.
 */
static struct allocator *resolve(const struct objlist *objs, const struct allocator_opts *opts)
{
	struct allocator *a = calloc(1, sizeof(*a));
	uint64_t(*offs)[NSYMBOLS] = calloc(objs->n ? objs->n : 1, sizeof(*offs));
	char *uses_sites = calloc(objs->n ? objs->n : 1, 1);
	size_t len = 0;
	int err = 0;

	if (!a || !offs || !uses_sites) {
		err = -ENOMEM;
		goto cleanup;
	}
	for (size_t i = 0; i < objs->n; i++) {
		if (scan_elf(objs->paths[i], offs[i]) < 0)
			memset(offs[i], 0, sizeof(offs[i]));
		len += strlen(objs->paths[i]) + 2;
	}
	a->objects = calloc(1, len + 1);
	a->sites = calloc(NSYMBOLS + NSITES * objs->n, sizeof(*a->sites));
	if (!a->objects || !a->sites) {
		err = -ENOMEM;
		goto cleanup;
	}
	a->object_paths = calloc(objs->n + 1, sizeof(*a->object_paths));
	if (!a->object_paths) {
		err = -ENOMEM;
		goto cleanup;
	}
	for (size_t i = 0; i < objs->n; i++) {
		if (i)
			strcat(a->objects, ", ");
		strcat(a->objects, objs->paths[i]);
		a->object_paths[i] = strdup(objs->paths[i]);
		if (!a->object_paths[i]) {
			err = -ENOMEM;
			goto cleanup;
		}
		a->nobjects++;
	}
	for (size_t sym = 0; sym < FIRST_SITE; sym++) {
		int fn = symbols[sym].fn, dup = 0;
		size_t obj;

		if (!wanted(fn, opts))
			continue;
		for (obj = 0; obj < objs->n && !offs[obj][sym]; obj++)
			;
		if (obj == objs->n)
			continue;
		/* The function reports itself at the object's sites: probed there, below. */
		if (opts && opts->use_sites && has_sites(offs[obj])) {
			uses_sites[obj] = 1;
			continue;
		}
		for (size_t s = 0; s < a->nsites; s++)
			if (a->sites[s].entry == offs[obj][sym] && !strcmp(a->sites[s].path, objs->paths[obj]))
				dup = 1;
		if (dup)
			continue;
		a->sites[a->nsites].kind = PROBE_FUNCTION;
		a->sites[a->nsites].fn = fn;
		a->sites[a->nsites].entry = offs[obj][sym];
		a->sites[a->nsites].offset = offs[obj][sym];
		if (!(opts && opts->at_entry))
			a->sites[a->nsites].offset += probe_skip(objs->paths[obj], offs[obj][sym], fn);
		a->sites[a->nsites].path = strdup(objs->paths[obj]);
		if (!a->sites[a->nsites].path) {
			err = -ENOMEM;
			goto cleanup;
		}
		a->nsites++;
	}
	for (size_t obj = 0; obj < objs->n && !err; obj++) {
		for (size_t sym = FIRST_SITE; sym < NSYMBOLS && uses_sites[obj]; sym++) {
			struct probe_site *site = &a->sites[a->nsites];

			site->kind = symbols[sym].kind;
			site->fn = FN__COUNT;
			site->entry = site->offset = offs[obj][sym];
			site->path = strdup(objs->paths[obj]);
			if (!site->path) {
				err = -ENOMEM;
				break;
			}
			a->nsites++;
		}
	}
cleanup:
	free(uses_sites);
	free(offs);
	if (err) {
		allocator__free(a);
		errno = -err;
		return NULL;
	}
	return a;
}

void allocator__free(struct allocator *a)
{
	if (!a)
		return;
	for (size_t i = 0; i < a->nsites; i++)
		free(a->sites[i].path);
	for (size_t i = 0; i < a->nobjects; i++)
		free(a->object_paths[i]);
	free(a->object_paths);
	free(a->sites);
	free(a->objects);
	free(a);
}

/* The program interpreter (PT_INTERP) of an ELF file; empty when statically linked. */
static int elf_interp(const char *path, char *interp, size_t len)
{
	Elf *elf = NULL;
	size_t n;
	int fd, err = 0;

	interp[0] = '\0';
	elf_version(EV_CURRENT);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	elf = elf_begin(fd, ELF_C_READ_MMAP, NULL);
	if (!elf || elf_kind(elf) != ELF_K_ELF || elf_getphdrnum(elf, &n)) {
		err = -ENOEXEC;
		goto cleanup;
	}
	for (size_t i = 0; i < n; i++) {
		GElf_Phdr ph;

		if (!gelf_getphdr(elf, (int)i, &ph) || ph.p_type != PT_INTERP)
			continue;
		if (ph.p_filesz == 0 || ph.p_filesz >= len ||
		    pread(fd, interp, ph.p_filesz, (off_t)ph.p_offset) != (ssize_t)ph.p_filesz) {
			err = -ENOEXEC;
			goto cleanup;
		}
		interp[ph.p_filesz] = '\0';
	}
cleanup:
	if (elf)
		elf_end(elf);
	close(fd);
	return err;
}

/*
 * The libraries a dynamically linked program will load, in the dynamic linker's order,
 * found as it finds them (runner/libsearch.c) with the environment and directory the
 * program runs in. Nothing is executed: the interpreter is named by the program.
 */
static int list_libraries(const char *interp, const char *path, const struct allocator_env *env,
			  struct objlist *objs)
{
	struct libsearch_env le = { .envp = env ? env->envp : NULL, .cwd = env ? env->cwd : NULL };
	struct stat st;
	char **paths;
	size_t n;
	int err;

	/* The dynamic linker ignores LD_LIBRARY_PATH and LD_PRELOAD for a set-ID program. */
	le.secure = !stat(path, &st) && (st.st_mode & (S_ISUID | S_ISGID));
	err = libsearch_load_order(path, interp, &le, &paths, &n);
	for (size_t i = 0; i < n; i++) {
		if (!err)
			err = objlist_add(objs, paths[i]);
		free(paths[i]);
	}
	free(paths);
	return err;
}

static struct allocator *for_program(const char *path, const struct allocator_env *env,
				     const struct allocator_opts *opts, int depth);

struct allocator *allocator__for_program(const char *path, const struct allocator_opts *opts)
{
	return for_program(path, NULL, opts, 0);
}

struct allocator *allocator__for_exec(const char *path, const struct allocator_env *env,
				      const struct allocator_opts *opts)
{
	return for_program(path, env, opts, 0);
}

static struct allocator *for_program(const char *path, const struct allocator_env *env,
				     const struct allocator_opts *opts, int depth)
{
	struct objlist objs = { 0 };
	struct allocator *a = NULL;
	char interp[4096], head[256] = "";
	int fd, err;
	ssize_t n;

	/* A script runs its interpreter: that is whose allocator matters. */
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return NULL;
	n = read(fd, head, sizeof(head) - 1);
	close(fd);
	if (n > 2 && head[0] == '#' && head[1] == '!') {
		char *p = head + 2, *end;

		head[n] = '\0';
		p += strspn(p, " \t");
		end = p + strcspn(p, " \t\n");
		*end = '\0';
		/* The kernel follows a few interpreters of interpreters, not a loop. */
		if (!*p || depth >= 4) {
			errno = !*p ? ENOEXEC : ELOOP;
			return NULL;
		}
		return for_program(p, env, opts, depth + 1);
	}
	/* Launched as execvp launches: what the kernel cannot execute, /bin/sh reads. */
	if (!env && !depth && (n < 4 || memcmp(head, ELFMAG, SELFMAG)))
		return for_program("/bin/sh", env, opts, depth + 1);
	err = elf_interp(path, interp, sizeof(interp));
	if (!err)
		err = objlist_add(&objs, path);
	if (!err && interp[0])
		err = list_libraries(interp, path, env, &objs);
	if (err) {
		objlist_free(&objs);
		errno = -err;
		return NULL;
	}
	a = resolve(&objs, opts);
	objlist_free(&objs);
	return a;
}

static int is_libc(const char *path)
{
	const char *base = strrchr(path, '/');

	base = base ? base + 1 : path;
	return !strncmp(base, "libc.so", 7) || !strncmp(base, "libc-", 5);
}

struct allocator *allocator__for_pid(pid_t pid, const struct allocator_opts *opts)
{
	struct objlist mapped = { 0 }, objs = { 0 };
	char file[64], exe[4096], line[4096 + 256], root[64];
	struct allocator *a = NULL;
	ssize_t n;
	FILE *f;
	int err = 0;

	snprintf(root, sizeof(root), "/proc/%d/root", pid);
	snprintf(file, sizeof(file), "/proc/%d/exe", pid);
	n = readlink(file, exe, sizeof(exe) - 1);
	if (n < 0)
		return NULL;
	exe[n] = '\0';
	snprintf(file, sizeof(file), "/proc/%d/maps", pid);
	f = fopen(file, "re");
	if (!f)
		return NULL;
	while (fgets(line, sizeof(line), f)) {
		char *path = strchr(line, '/');

		if (!path || !strstr(line, " r-xp ") || strstr(line, " (deleted)"))
			continue;
		path[strcspn(path, "\n")] = '\0';
		if (!err)
			err = objlist_add(&mapped, path);
	}
	fclose(f);

	/*
	 * The executable first, then the libraries, the C library last: an allocator linked
	 * or preloaded into the process interposes on the C library's.
	 */
	snprintf(line, sizeof(line), "%s%s", root, exe);
	if (!err)
		err = objlist_add(&objs, line);
	for (int pass = 0; pass < 2 && !err; pass++) {
		for (size_t i = 0; i < mapped.n && !err; i++) {
			if (is_libc(mapped.paths[i]) != pass || !strcmp(mapped.paths[i], exe))
				continue;
			snprintf(line, sizeof(line), "%s%s", root, mapped.paths[i]);
			err = objlist_add(&objs, line);
		}
	}
	if (!err)
		a = resolve(&objs, opts);
	else
		errno = -err;
	objlist_free(&mapped);
	objlist_free(&objs);
	return a;
}

struct allocator *allocator__for_object(const char *path, const struct allocator_opts *opts)
{
	uint64_t offsets[NSYMBOLS];
	struct objlist objs = { 0 };
	struct allocator *a = NULL;
	int err = scan_elf(path, offsets);

	/* An object that cannot be read is an error, not an object without allocator. */
	if (err < 0) {
		errno = -err;
		return NULL;
	}
	err = objlist_add(&objs, path);

	if (!err)
		a = resolve(&objs, opts);
	else
		errno = -err;
	objlist_free(&objs);
	return a;
}
