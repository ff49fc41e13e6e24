// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#include "runner/libsearch.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <gelf.h>
#include <libelf.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/auxv.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

extern char **environ;

/* What this machine's glibc was built with: its $LIB, system directories and cache flags. */
#if defined(__x86_64__)
#define MULTIARCH "x86_64-linux-gnu"
#define CACHE_FLAGS 0x0303	/* FLAG_ELF_LIBC6 | FLAG_X8664_LIB64 */
#elif defined(__aarch64__)
#define MULTIARCH "aarch64-linux-gnu"
#define CACHE_FLAGS 0x0a03	/* FLAG_ELF_LIBC6 | FLAG_AARCH64_LIB64 */
#else
#error "libsearch: unknown architecture"
#endif
#define SYSTEM_DIRS "/lib/" MULTIARCH ":/usr/lib/" MULTIARCH ":/lib:/usr/lib"

/* glibc's /etc/ld.so.cache, new format: a header, then entries naming strings by offset. */
#define CACHE_MAGIC "glibc-ld.so.cache1.1"
#define CACHE_HEADER 48
#define CACHE_ENTRY 24

struct object {
	char *path;		/* as the dynamic linker names it, made absolute */
	char **names;		/* the names it was asked for by, and its soname */
	size_t nnames;
	dev_t dev;
	ino_t ino;
	int loader;		/* the object whose DT_NEEDED or preload loaded it; -1: none */
	char *origin;		/* its $ORIGIN */
	char **needed;
	size_t nneeded;
	char *rpath;		/* DT_RPATH, DT_RUNPATH; NULL when absent */
	char *runpath;
	int nodeflib;		/* DF_1_NODEFLIB: no cache, no system directories */
	int queued;		/* in the load order */
};

struct search {
	struct object *v;
	size_t n;
	char *cwd;
	const char *llp;	/* LD_LIBRARY_PATH; NULL when unset or ignored */
	int class, machine;	/* the program's: a library of another is passed over */
	unsigned char *cache;	/* /etc/ld.so.cache, mapped; NULL when unreadable */
	size_t cache_len;
};

static int push(char ***v, size_t *n, const char *s)
{
	char **p = realloc(*v, (*n + 1) * sizeof(*p));

	if (!p)
		return -ENOMEM;
	*v = p;
	p[*n] = strdup(s);
	if (!p[*n])
		return -ENOMEM;
	(*n)++;
	return 0;
}

static void free_strings(char **v, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(v[i]);
	free(v);
}

static void object_free(struct object *o)
{
	free(o->path);
	free(o->origin);
	free(o->rpath);
	free(o->runpath);
	free_strings(o->names, o->nnames);
	free_strings(o->needed, o->nneeded);
	memset(o, 0, sizeof(*o));
}

/* path, relative to the directory the program runs in; malloc'ed. */
static char *absolute(const struct search *s, const char *path)
{
	char *abs;

	if (path[0] == '/')
		return strdup(path);
	if (asprintf(&abs, "%s/%s", s->cwd, path) < 0)
		return NULL;
	return abs;
}

static char *dir_of(const char *path)
{
	const char *slash = strrchr(path, '/');

	return strndup(path, slash ? (size_t)(slash - path) : 0);
}

/* The dynamic section: needed libraries, search paths, soname, flags. */
static int read_dynamic(Elf *elf, struct object *o)
{
	Elf_Scn *scn = NULL;
	int err = 0;

	while ((scn = elf_nextscn(elf, scn))) {
		GElf_Shdr sh;
		Elf_Data *data;

		if (!gelf_getshdr(scn, &sh) || sh.sh_type != SHT_DYNAMIC || !sh.sh_entsize)
			continue;
		data = elf_getdata(scn, NULL);
		for (size_t i = 0; data && !err && i < sh.sh_size / sh.sh_entsize; i++) {
			const char *str;
			GElf_Dyn d;

			if (!gelf_getdyn(data, (int)i, &d) || d.d_tag == DT_NULL)
				break;
			if (d.d_tag == DT_FLAGS_1)
				o->nodeflib = !!(d.d_un.d_val & DF_1_NODEFLIB);
			if (d.d_tag != DT_NEEDED && d.d_tag != DT_RPATH && d.d_tag != DT_RUNPATH &&
			    d.d_tag != DT_SONAME)
				continue;
			str = elf_strptr(elf, sh.sh_link, d.d_un.d_val);
			if (!str)
				continue;
			if (d.d_tag == DT_NEEDED)
				err = push(&o->needed, &o->nneeded, str);
			else if (d.d_tag == DT_SONAME)
				err = push(&o->names, &o->nnames, str);
			else if (d.d_tag == DT_RPATH && !o->rpath && !(o->rpath = strdup(str)))
				err = -ENOMEM;
			else if (d.d_tag == DT_RUNPATH && !o->runpath && !(o->runpath = strdup(str)))
				err = -ENOMEM;
		}
		break;
	}
	return err;
}

/*
 * Reads path as the dynamic linker would consider loading it: a regular ELF file of the
 * program's class and machine (the first one read sets them), a shared object unless
 * `executable` (the program, its interpreter). Never opens anything else, so a device or
 * a FIFO named by the environment is not touched.
 */
static int probe_file(struct search *s, const char *path, struct object *o, int executable)
{
	struct stat st, fst;
	GElf_Ehdr eh;
	Elf *elf;
	int fd, err = -ENOEXEC;

	memset(o, 0, sizeof(*o));
	if (stat(path, &st))
		return -errno;
	if (!S_ISREG(st.st_mode))
		return -ENOEXEC;
	fd = open(path, O_RDONLY | O_NONBLOCK | O_NOCTTY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	if (fstat(fd, &fst) || fst.st_dev != st.st_dev || fst.st_ino != st.st_ino) {
		close(fd);
		return -ENOEXEC;
	}
	elf_version(EV_CURRENT);
	elf = elf_begin(fd, ELF_C_READ_MMAP, NULL);
	if (elf && elf_kind(elf) == ELF_K_ELF && gelf_getehdr(elf, &eh) &&
	    (eh.e_type == ET_DYN || (executable && eh.e_type == ET_EXEC)) &&
	    (!s->class || (gelf_getclass(elf) == s->class && eh.e_machine == s->machine))) {
		s->class = gelf_getclass(elf);
		s->machine = eh.e_machine;
		o->dev = st.st_dev;
		o->ino = st.st_ino;
		err = read_dynamic(elf, o);
	}
	if (elf)
		elf_end(elf);
	close(fd);
	if (err)
		object_free(o);
	return err;
}

static int probe(struct search *s, const char *path, struct object *o)
{
	return probe_file(s, path, o, 0);
}

/* Length of "$NAME" or "${NAME}" at p; 0 when p does not start with it. */
static size_t dst_len(const char *p, const char *name)
{
	size_t n = strlen(name);

	if (p[1] == '{')
		return !strncmp(p + 2, name, n) && p[2 + n] == '}' ? n + 3 : 0;
	if (strncmp(p + 1, name, n) || isalnum((unsigned char)p[1 + n]) || p[1 + n] == '_')
		return 0;
	return n + 1;
}

/* str with the dynamic string tokens expanded for the object that names it; malloc'ed. */
static char *expand(const char *str, const char *origin)
{
	const char *platform = (const char *)getauxval(AT_PLATFORM);
	char *out = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&out, &len);

	if (!f)
		return NULL;
	for (const char *p = str; *p;) {
		const char *val = NULL;
		size_t skip = 0;

		if (*p == '$') {
			if ((skip = dst_len(p, "ORIGIN")))
				val = origin;
			else if ((skip = dst_len(p, "LIB")))
				val = "lib/" MULTIARCH;
			else if ((skip = dst_len(p, "PLATFORM")))
				val = platform ? platform : "";
		}
		if (skip) {
			fputs(val, f);
			p += skip;
		} else {
			fputc(*p++, f);
		}
	}
	if (fclose(f)) {
		free(out);
		return NULL;
	}
	return out;
}

/* The glibc-hwcaps subdirectories searched before each directory, best first. */
static const char *const hwcaps[] = {
#if defined(__x86_64__)
	"glibc-hwcaps/x86-64-v4/", "glibc-hwcaps/x86-64-v3/", "glibc-hwcaps/x86-64-v2/",
#endif
	"",
};

static int hwcaps_supported(size_t i)
{
#if defined(__x86_64__)
	__builtin_cpu_init();
	switch (i) {
	case 0: return __builtin_cpu_supports("x86-64-v4");
	case 1: return __builtin_cpu_supports("x86-64-v3");
	case 2: return __builtin_cpu_supports("x86-64-v2");
	}
#endif
	return 1;
}

/*
 * name in a list of directories (separated by any of seps, $-tokens expanded for origin;
 * an empty entry is the working directory): the path of the first loadable file, into o.
 */
static char *in_dirs(struct search *s, const char *list, const char *seps, const char *origin,
		     const char *name, struct object *o)
{
	char *copy = expand(list, origin), *rest = copy, *dir, *found = NULL;

	while (copy && !found && (dir = strsep(&rest, seps))) {
		size_t len = strlen(dir);

		while (len > 1 && dir[len - 1] == '/')
			dir[--len] = '\0';
		for (size_t h = 0; !found && h < sizeof(hwcaps) / sizeof(hwcaps[0]); h++) {
			char *path, *abs;

			if (!hwcaps_supported(h))
				continue;
			if (asprintf(&path, "%s%s%s%s", dir, len && dir[len - 1] != '/' ? "/" : "",
				     hwcaps[h], name) < 0)
				break;
			abs = absolute(s, path);
			free(path);
			if (abs && !probe(s, abs, o))
				found = abs;
			else
				free(abs);
		}
	}
	free(copy);
	return found;
}

/* name in /etc/ld.so.cache: the path of the first entry for this machine; malloc'ed. */
static char *in_cache(const struct search *s, const char *name)
{
	const unsigned char *c = s->cache;
	uint32_t nlibs;

	if (!c || s->cache_len < CACHE_HEADER)
		return NULL;
	memcpy(&nlibs, c + 20, sizeof(nlibs));
	if (nlibs > (s->cache_len - CACHE_HEADER) / CACHE_ENTRY)
		return NULL;
	for (uint32_t i = 0; i < nlibs; i++) {
		const unsigned char *e = c + CACHE_HEADER + (size_t)i * CACHE_ENTRY;
		uint32_t key, value;
		uint64_t hwcap;
		int32_t flags;

		memcpy(&flags, e, 4);
		memcpy(&key, e + 4, 4);
		memcpy(&value, e + 8, 4);
		memcpy(&hwcap, e + 16, 8);
		/* Entries for a glibc-hwcaps subdirectory are not chosen (none here). */
		if (flags != CACHE_FLAGS || hwcap || key >= s->cache_len || value >= s->cache_len ||
		    !memchr(c + key, '\0', s->cache_len - key) ||
		    !memchr(c + value, '\0', s->cache_len - value))
			continue;
		if (!strcmp((const char *)c + key, name))
			return strdup((const char *)c + value);
	}
	return NULL;
}

/*
 * A name without a slash, as the dynamic linker searches it for the object `loader`: the
 * DT_RPATH of the loader and of the objects that loaded it (unless the loader has a
 * DT_RUNPATH), the program's DT_RPATH, LD_LIBRARY_PATH, the loader's DT_RUNPATH, the
 * cache, the system directories.
 */
static char *search_name(struct search *s, const char *name, int loader, struct object *o)
{
	const struct object *main = &s->v[0], *l = &s->v[loader];
	char *found = NULL;
	int did_main = 0;

	/* The program's DT_RPATH counts only without its DT_RUNPATH. */
#define RPATH_OF(i) ((i) == 0 && s->v[0].runpath ? NULL : s->v[i].rpath)
	if (!l->runpath) {
		for (int i = loader; i >= 0 && !found; i = s->v[i].loader) {
			if (!RPATH_OF(i))
				continue;
			found = in_dirs(s, RPATH_OF(i), ":", s->v[i].origin, name, o);
			did_main |= i == 0;
		}
		if (!found && !did_main && RPATH_OF(0))
			found = in_dirs(s, RPATH_OF(0), ":", main->origin, name, o);
	}
#undef RPATH_OF
	if (!found && s->llp)
		found = in_dirs(s, s->llp, ":;", main->origin, name, o);
	if (!found && l->runpath)
		found = in_dirs(s, l->runpath, ":", l->origin, name, o);
	if (!found && !l->nodeflib) {
		found = in_cache(s, name);
		if (found && probe(s, found, o)) {
			free(found);
			found = NULL;
		}
	}
	if (!found && !l->nodeflib)
		found = in_dirs(s, SYSTEM_DIRS, ":", NULL, name, o);
	return found;
}

static int append(struct search *s, struct object *o)
{
	struct object *v = realloc(s->v, (s->n + 1) * sizeof(*v));

	if (!v)
		return -ENOMEM;
	s->v = v;
	s->v[s->n++] = *o;
	return 0;
}

/* The object `loader` asks for by name: one loaded already, or found and appended. */
static int map_object(struct search *s, const char *name, int loader, int *index)
{
	struct object o;
	char *found = NULL;
	int err;

	for (size_t i = 0; i < s->n; i++) {
		for (size_t k = 0; k < s->v[i].nnames; k++) {
			if (!strcmp(s->v[i].names[k], name)) {
				*index = (int)i;
				return 0;
			}
		}
	}
	if (strchr(name, '/')) {
		char *path = expand(name, s->v[loader].origin);

		found = path ? absolute(s, path) : NULL;
		free(path);
		if (found && probe(s, found, &o)) {
			free(found);
			found = NULL;
		}
	} else {
		found = search_name(s, name, loader, &o);
	}
	if (!found)
		return -ENOENT;
	/* The same file by another name is the same object. */
	for (size_t i = 0; i < s->n; i++) {
		if (s->v[i].dev == o.dev && s->v[i].ino == o.ino) {
			object_free(&o);
			free(found);
			*index = (int)i;
			return push(&s->v[i].names, &s->v[i].nnames, name);
		}
	}
	o.path = found;
	o.loader = loader;
	o.origin = dir_of(found);
	err = o.origin ? push(&o.names, &o.nnames, name) : -ENOMEM;
	if (!err)
		err = append(s, &o);
	if (err) {
		object_free(&o);
		return err;
	}
	*index = (int)s->n - 1;
	return 0;
}

static const char *getvar(char *const *envp, const char *name)
{
	size_t n = strlen(name);

	for (; envp && *envp; envp++)
		if (!strncmp(*envp, name, n) && (*envp)[n] == '=')
			return *envp + n + 1;
	return NULL;
}

/* Appends object i to the load order, once. */
static int enqueue(struct search *s, int **queue, size_t *nq, int i)
{
	int *q;

	if (s->v[i].queued)
		return 0;
	q = realloc(*queue, (*nq + 1) * sizeof(*q));
	if (!q)
		return -ENOMEM;
	*queue = q;
	q[(*nq)++] = i;
	s->v[i].queued = 1;
	return 0;
}

/* LD_PRELOAD's entries, then /etc/ld.so.preload's: each loaded for the program if found. */
static int preload(struct search *s, const char *list, int **queue, size_t *nq)
{
	char *copy = strdup(list), *rest = copy, *name;
	int err = copy ? 0 : -ENOMEM;

	while (!err && (name = strsep(&rest, " \t\n:"))) {
		int i;

		/* One that cannot be found is left out, as the dynamic linker does. */
		if (*name && !map_object(s, name, 0, &i))
			err = enqueue(s, queue, nq, i);
	}
	free(copy);
	return err;
}

static char *read_text(const char *path)
{
	char *text = NULL;
	size_t cap = 0;
	FILE *f = fopen(path, "re");

	if (!f)
		return NULL;
	if (getdelim(&text, &cap, '\0', f) < 0) {
		free(text);
		text = NULL;
	}
	fclose(f);
	return text;
}

/*
 * An object loaded before any search: the program, whose $ORIGIN is where the file really
 * is (the kernel executes the file itself), and the dynamic linker, known by its PT_INTERP
 * name and its soname.
 */
static int add_loaded(struct search *s, const char *name, int is_interp)
{
	char *path = absolute(s, name), *real;
	struct object o;
	int err;

	if (!path)
		return -ENOMEM;
	err = probe_file(s, path, &o, 1);
	if (err) {
		free(path);
		return err;
	}
	real = is_interp ? NULL : realpath(path, NULL);
	o.path = path;
	o.loader = -1;
	o.origin = dir_of(real ? real : path);
	free(real);
	err = o.origin ? 0 : -ENOMEM;
	if (!err && is_interp)
		err = push(&o.names, &o.nnames, name);
	if (!err)
		err = append(s, &o);
	if (err)
		object_free(&o);
	return err;
}

int libsearch_load_order(const char *program, const char *interp, const struct libsearch_env *env,
			 char ***paths, size_t *n)
{
	char *const *envp = env && env->envp ? env->envp : environ;
	int secure = env && env->secure;
	const char *var;
	struct search s = { 0 };
	int *queue = NULL, err = 0;
	size_t nq = 0;
	char *text;
	int fd;

	*paths = NULL;
	*n = 0;
	s.cwd = env && env->cwd ? strdup(env->cwd) : getcwd(NULL, 0);
	if (!s.cwd)
		return -errno;
	s.llp = secure ? NULL : getvar(envp, "LD_LIBRARY_PATH");
	fd = open("/etc/ld.so.cache", O_RDONLY | O_CLOEXEC);
	if (fd >= 0) {
		struct stat st;

		if (!fstat(fd, &st) && st.st_size >= CACHE_HEADER) {
			s.cache = mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_PRIVATE, fd, 0);
			s.cache_len = (size_t)st.st_size;
			if (s.cache == MAP_FAILED || memcmp(s.cache, CACHE_MAGIC, strlen(CACHE_MAGIC))) {
				if (s.cache != MAP_FAILED)
					munmap(s.cache, s.cache_len);
				s.cache = NULL;
			}
		}
		close(fd);
	}
	err = add_loaded(&s, program, 0);
	if (!err)
		err = add_loaded(&s, interp, 1);
	if (!err)
		err = enqueue(&s, &queue, &nq, 0);
	var = secure ? NULL : getvar(envp, "LD_PRELOAD");
	if (!err && var)
		err = preload(&s, var, &queue, &nq);
	text = err ? NULL : read_text("/etc/ld.so.preload");
	if (text)
		err = preload(&s, text, &queue, &nq);
	free(text);
	/* Breadth first: each object's needed libraries, in order, after those before it. */
	for (size_t q = 0; !err && q < nq; q++) {
		for (size_t k = 0; !err && k < s.v[queue[q]].nneeded; k++) {
			int i;

			err = map_object(&s, s.v[queue[q]].needed[k], queue[q], &i);
			if (!err)
				err = enqueue(&s, &queue, &nq, i);
		}
	}
	for (size_t q = 1; !err && q < nq; q++)
		err = push(paths, n, s.v[queue[q]].path);
	if (err) {
		free_strings(*paths, *n);
		*paths = NULL;
		*n = 0;
	}
	free(queue);
	for (size_t i = 0; i < s.n; i++)
		object_free(&s.v[i]);
	free(s.v);
	if (s.cache)
		munmap(s.cache, s.cache_len);
	free(s.cwd);
	return err;
}
