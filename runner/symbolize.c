// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * Addresses to names, with libelf (symbols, program headers, notes) and libdw (line
 * tables).
 *
 * Each module is opened once and kept mapped by libelf until the symbolizer is freed.
 * Holding the mapping keeps the file's inode alive, so while a module is cached its
 * (device, inode) cannot be reused by another file: the cache key stays true even after
 * the file is deleted or replaced on disk.
 */
#include "runner/symbolize.h"

#include <dwarf.h>
#include <elfutils/libdw.h>
#include <errno.h>
#include <fcntl.h>
#include <gelf.h>
#include <inttypes.h>
#include <libelf.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>
#include <zlib.h>

/* From the C++ runtime (libstdc++), which the programs link. */
char *__cxa_demangle(const char *mangled, char *buf, size_t *len, int *status);

/* Room for a path inside a process's root: "/proc/PID/root" followed by PATH_MAX bytes. */
#define LONG_PATH (PATH_MAX + 64)

/* How many preceding entries to try when the nearest symbol or unit ends too early. */
#define NESTED_LOOKBACK 4

/* A function symbol: [start, start + size); size 0 when the symbol table did not say. */
struct sym {
	uint64_t start;
	uint64_t size;
	const char *name;	/* as in the symbol table, without a version suffix */
	const char *shown;	/* demangled, filled on first use */
	uint8_t binding;	/* sort keys, to pick one name among aliases */
	uint8_t underscores;
};

/* A small open-addressing table from a pair of integers to a pointer (never NULL). */
struct kv {
	uint64_t a, b;
	void *val;
};

struct kv_table {
	struct kv *slots;
	size_t cap;		/* a power of two, or 0 */
	size_t n;
};

/* One address range of a compile unit, to find the unit (and line table) of an address. */
struct cu_range {
	uint64_t start, end;
	Dwarf_Die cudie;
};

struct module {
	const char *name;	/* the first path it was seen by */
	dev_t dev;		/* of the file as opened */
	ino_t ino;
	Elf *elf;		/* NULL when the file is not ELF: it then names frames only */
	Elf *debug_elf;		/* separate debug file, or NULL */
	Elf *alt_elf;		/* supplementary (dwz) file of the DWARF, or NULL */
	GElf_Phdr *loads;	/* PT_LOAD headers: file offsets to ELF addresses */
	size_t nloads;
	/* Read on first use. */
	int syms_loaded;
	struct sym *syms;	/* sorted by start, one entry per address */
	size_t nsyms;
	int dwarf_loaded;
	Dwarf *dwarf;
	Dwarf *alt_dwarf;
	struct cu_range *cus;	/* sorted by start */
	size_t ncus;
	struct kv_table inlines;	/* ELF address -> struct inline_chain, as looked up */
};

/*
 * The functions inlined at one address, innermost first, each with the place it was
 * called from in the next one out (the last: in the function the address is in).
 */
struct inline_call {
	const char *function;
	const char *call_file;
	int call_line;
};

struct inline_chain {
	size_t n;
	struct inline_call calls[];
};

/* What the inline table holds for an address where nothing is inlined. */
static struct inline_chain no_inline_chain;

/* Interned strings: every string handed out in a frame, each stored once. */
struct str_set {
	char **slots;
	size_t cap;
	size_t n;
};

struct ksym {
	uint64_t addr;
	const char *name;	/* NULL: not a function, it only ends the one before */
	const char *module;	/* "[modname]", or NULL for the kernel itself */
	char type;
};

struct symbolizer {
	struct module **mods;
	size_t nmods, capmods;
	struct kv_table by_inode;	/* (dev, ino) -> module */
	struct kv_table by_path;	/* interned path -> module, for symbolizer__open_file */
	struct str_set strings;
	int ksyms_loaded;
	struct ksym *ksyms;
	size_t nksyms;
	char *kallsyms;			/* the file's text; kernel names point into it */
};

/* One executable range of an address space. */
struct mapping {
	uint64_t start, end;
	uint64_t pgoff;		/* file offset at start */
	struct module *mod;	/* NULL: the file could not be opened */
	const char *name;	/* interned in the symbolizer */
};

struct addr_space {
	struct symbolizer *s;
	pid_t pid;
	struct mapping *maps;	/* sorted by start, never overlapping */
	size_t n, cap;
};

/* --- tables ------------------------------------------------------------------------------ */

static uint64_t mix64(uint64_t x)
{
	x ^= x >> 31;
	x *= 0xbf58476d1ce4e5b9ULL;
	x ^= x >> 29;
	x *= 0x94d049bb133111ebULL;
	x ^= x >> 32;
	return x;
}

static uint64_t hash_pair(uint64_t a, uint64_t b)
{
	return mix64(a * 0x9e3779b97f4a7c15ULL ^ mix64(b));
}

static uint64_t hash_bytes(const char *p, size_t len)
{
	uint64_t h = 0xcbf29ce484222325ULL;

	for (size_t i = 0; i < len; i++) {
		h ^= (unsigned char)p[i];
		h *= 0x100000001b3ULL;
	}
	return mix64(h);
}

static void *kv_get(const struct kv_table *t, uint64_t a, uint64_t b)
{
	size_t mask = t->cap - 1, i;

	if (!t->cap)
		return NULL;
	for (i = hash_pair(a, b) & mask; t->slots[i].val; i = (i + 1) & mask)
		if (t->slots[i].a == a && t->slots[i].b == b)
			return t->slots[i].val;
	return NULL;
}

static void kv_insert(struct kv *slots, size_t cap, uint64_t a, uint64_t b, void *val)
{
	size_t mask = cap - 1, i;

	for (i = hash_pair(a, b) & mask; slots[i].val; i = (i + 1) & mask)
		if (slots[i].a == a && slots[i].b == b)
			break;
	slots[i] = (struct kv){ .a = a, .b = b, .val = val };
}

/* Sets (a, b) to val, replacing what was there. Returns 0 or -ENOMEM. */
static int kv_put(struct kv_table *t, uint64_t a, uint64_t b, void *val)
{
	if ((t->n + 1) * 2 > t->cap) {
		size_t cap = t->cap ? t->cap * 2 : 64;
		struct kv *slots = calloc(cap, sizeof(*slots));

		if (!slots)
			return -ENOMEM;
		for (size_t i = 0; i < t->cap; i++)
			if (t->slots[i].val)
				kv_insert(slots, cap, t->slots[i].a, t->slots[i].b,
					  t->slots[i].val);
		free(t->slots);
		t->slots = slots;
		t->cap = cap;
	}
	if (!kv_get(t, a, b))
		t->n++;
	kv_insert(t->slots, t->cap, a, b, val);
	return 0;
}

static int str_set_grow(struct str_set *set)
{
	size_t cap = set->cap ? set->cap * 2 : 256;
	char **slots = calloc(cap, sizeof(*slots));

	if (!slots)
		return -ENOMEM;
	for (size_t i = 0; i < set->cap; i++) {
		char *str = set->slots[i];
		size_t mask = cap - 1, j;

		if (!str)
			continue;
		for (j = hash_bytes(str, strlen(str)) & mask; slots[j]; j = (j + 1) & mask)
			;
		slots[j] = str;
	}
	free(set->slots);
	set->slots = slots;
	set->cap = cap;
	return 0;
}

/*
 * The symbolizer's copy of the len bytes at str (which hold no NUL), made on first use.
 * NULL when memory runs out: the caller then reports that part as unknown.
 */
static const char *intern_len(struct symbolizer *s, const char *str, size_t len)
{
	struct str_set *set = &s->strings;
	size_t mask, i;
	char *copy;

	if ((set->n + 1) * 2 > set->cap && str_set_grow(set))
		return NULL;
	mask = set->cap - 1;
	for (i = hash_bytes(str, len) & mask; set->slots[i]; i = (i + 1) & mask)
		if (!strncmp(set->slots[i], str, len) && set->slots[i][len] == '\0')
			return set->slots[i];
	copy = malloc(len + 1);
	if (!copy)
		return NULL;
	memcpy(copy, str, len);
	copy[len] = '\0';
	set->slots[i] = copy;
	set->n++;
	return copy;
}

static const char *intern(struct symbolizer *s, const char *str)
{
	return str ? intern_len(s, str, strlen(str)) : NULL;
}

/* --- the symbolizer ------------------------------------------------------------------------ */

char *symbolize_demangle(const char *name)
{
	char *demangled = NULL;
	int status = -1;

	if (!name)
		return NULL;
	if (name[0] == '_' && name[1] == 'Z')
		demangled = __cxa_demangle(name, NULL, NULL, &status);
	if (demangled && status == 0)
		return demangled;
	free(demangled);
	return strdup(name);
}

struct symbolizer *symbolizer__new(void)
{
	struct symbolizer *s;

	/* libelf must be told which ELF version its caller speaks before any other call. */
	if (elf_version(EV_CURRENT) == EV_NONE) {
		errno = ENOSYS;
		return NULL;
	}
	s = calloc(1, sizeof(*s));
	if (!s)
		return NULL;
	return s;
}

static void module_free(struct module *m)
{
	/* The DWARF handles read from the ELF handles: they go first. */
	if (m->dwarf)
		dwarf_end(m->dwarf);
	if (m->alt_dwarf)
		dwarf_end(m->alt_dwarf);
	if (m->alt_elf)
		elf_end(m->alt_elf);
	if (m->debug_elf)
		elf_end(m->debug_elf);
	if (m->elf)
		elf_end(m->elf);
	for (size_t i = 0; i < m->inlines.cap; i++)
		if (m->inlines.slots[i].val != &no_inline_chain)
			free(m->inlines.slots[i].val);
	free(m->inlines.slots);
	free(m->loads);
	free(m->syms);
	free(m->cus);
	free(m);
}

void symbolizer__free(struct symbolizer *s)
{
	if (!s)
		return;
	for (size_t i = 0; i < s->nmods; i++)
		module_free(s->mods[i]);
	free(s->mods);
	free(s->by_inode.slots);
	free(s->by_path.slots);
	for (size_t i = 0; i < s->strings.cap; i++)
		free(s->strings.slots[i]);
	free(s->strings.slots);
	free(s->ksyms);
	free(s->kallsyms);
	free(s);
}

/* --- reading ELF files --------------------------------------------------------------------- */

/*
 * An ELF handle on the whole file, which no longer needs fd: the caller may close it.
 * NULL when the file is not ELF.
 */
static Elf *elf_from_fd(int fd)
{
	Elf *elf = elf_begin(fd, ELF_C_READ_MMAP, NULL);

	if (!elf)
		return NULL;
	if (elf_kind(elf) != ELF_K_ELF || elf_cntl(elf, ELF_C_FDREAD)) {
		elf_end(elf);
		return NULL;
	}
	return elf;
}

static Elf_Scn *find_section(Elf *elf, const char *name, GElf_Shdr *shdr)
{
	Elf_Scn *scn = NULL;
	size_t shstrndx;

	if (elf_getshdrstrndx(elf, &shstrndx))
		return NULL;
	while ((scn = elf_nextscn(elf, scn))) {
		const char *n;

		if (!gelf_getshdr(scn, shdr))
			continue;
		n = elf_strptr(elf, shstrndx, shdr->sh_name);
		if (n && !strcmp(n, name))
			return scn;
	}
	return NULL;
}

static Elf_Scn *find_section_type(Elf *elf, GElf_Word type, GElf_Shdr *shdr)
{
	Elf_Scn *scn = NULL;

	while ((scn = elf_nextscn(elf, scn)))
		if (gelf_getshdr(scn, shdr) && shdr->sh_type == type)
			return scn;
	return NULL;
}

/* A section that holds data in this file (not SHT_NOBITS, as in stripped debug files). */
static int has_section_data(Elf *elf, const char *name)
{
	GElf_Shdr shdr;

	return find_section(elf, name, &shdr) && shdr.sh_type != SHT_NOBITS && shdr.sh_size;
}

static size_t note_build_id(Elf_Data *data, const uint8_t **id)
{
	size_t off = 0, name_off, desc_off;
	GElf_Nhdr nh;

	while ((off = gelf_getnote(data, off, &nh, &name_off, &desc_off)) > 0) {
		if (nh.n_type == NT_GNU_BUILD_ID && nh.n_namesz == 4 &&
		    !memcmp((const char *)data->d_buf + name_off, "GNU", 4) && nh.n_descsz) {
			*id = (const uint8_t *)data->d_buf + desc_off;
			return nh.n_descsz;
		}
	}
	return 0;
}

/*
 * The GNU build-id, from the note sections, else (files without section headers) from
 * the PT_NOTE segments. Returns its length, 0 when there is none.
 */
static size_t elf_build_id(Elf *elf, const uint8_t **id)
{
	Elf_Scn *scn = NULL;
	size_t len, nph;

	while ((scn = elf_nextscn(elf, scn))) {
		GElf_Shdr shdr;
		Elf_Data *data;

		if (!gelf_getshdr(scn, &shdr) || shdr.sh_type != SHT_NOTE)
			continue;
		data = elf_getdata(scn, NULL);
		if (data && (len = note_build_id(data, id)))
			return len;
	}
	if (elf_getphdrnum(elf, &nph))
		return 0;
	for (size_t i = 0; i < nph; i++) {
		GElf_Phdr ph;
		Elf_Data *data;

		if (!gelf_getphdr(elf, (int)i, &ph) || ph.p_type != PT_NOTE)
			continue;
		data = elf_getdata_rawchunk(elf, ph.p_offset, ph.p_filesz,
					    ph.p_align == 8 ? ELF_T_NHDR8 : ELF_T_NHDR);
		if (data && (len = note_build_id(data, id)))
			return len;
	}
	return 0;
}

static uint32_t read_u32(const unsigned char *p, int big_endian)
{
	if (big_endian)
		return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
	return (uint32_t)p[3] << 24 | (uint32_t)p[2] << 16 | (uint32_t)p[1] << 8 | p[0];
}

/*
 * The .gnu_debuglink section: the debug file's name and the CRC-32 of its contents.
 * Returns the name (in the section's data), or NULL.
 */
static const char *elf_debuglink(Elf *elf, uint32_t *crc)
{
	const unsigned char *ident = (const unsigned char *)elf_getident(elf, NULL);
	GElf_Shdr shdr;
	Elf_Scn *scn = find_section(elf, ".gnu_debuglink", &shdr);
	Elf_Data *data = scn && shdr.sh_type != SHT_NOBITS ? elf_getdata(scn, NULL) : NULL;
	const char *name;
	size_t len, crc_at;

	if (!data || !data->d_buf || !ident)
		return NULL;
	name = data->d_buf;
	len = strnlen(name, data->d_size);
	crc_at = (len + 4) & ~(size_t)3;
	if (!len || len == data->d_size || crc_at + 4 > data->d_size)
		return NULL;
	*crc = read_u32((const unsigned char *)data->d_buf + crc_at, ident[EI_DATA] == ELFDATA2MSB);
	return name;
}

/*
 * The .gnu_debugaltlink section: the supplementary file's name and build-id.
 * Returns the name (in the section's data), or NULL.
 */
static const char *elf_altlink(Elf *elf, const uint8_t **id, size_t *idlen)
{
	GElf_Shdr shdr;
	Elf_Scn *scn = find_section(elf, ".gnu_debugaltlink", &shdr);
	Elf_Data *data = scn && shdr.sh_type != SHT_NOBITS ? elf_getdata(scn, NULL) : NULL;
	const char *name;
	size_t len;

	if (!data || !data->d_buf)
		return NULL;
	name = data->d_buf;
	len = strnlen(name, data->d_size);
	if (!len || len + 1 >= data->d_size)
		return NULL;
	*id = (const uint8_t *)data->d_buf + len + 1;
	*idlen = data->d_size - len - 1;
	return name;
}

static uint32_t file_crc32(Elf *elf)
{
	size_t size = 0;
	const char *raw = elf_rawfile(elf, &size);
	uLong crc = crc32(0L, Z_NULL, 0);

	if (!raw)
		return 0;
	/* crc32() takes a 32-bit length: feed large files in pieces. */
	while (size) {
		uInt n = size > (1U << 30) ? (1U << 30) : (uInt)size;

		crc = crc32(crc, (const Bytef *)raw, n);
		raw += n;
		size -= n;
	}
	return (uint32_t)crc;
}

/* What a candidate debug or supplementary file must match. */
struct debug_want {
	const uint8_t *id;	/* build-id, or NULL */
	size_t idlen;
	int check_crc;		/* no build-id to compare: the debuglink's CRC must match */
	uint32_t crc;
	dev_t self_dev;		/* the module itself, never its own debug file */
	ino_t self_ino;
};

static Elf *open_matching(const char *path, const struct debug_want *want)
{
	const uint8_t *id = NULL;
	struct stat st;
	Elf *elf;
	int fd;

	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return NULL;
	if (fstat(fd, &st) || !S_ISREG(st.st_mode) ||
	    (st.st_dev == want->self_dev && st.st_ino == want->self_ino)) {
		close(fd);
		return NULL;
	}
	elf = elf_from_fd(fd);
	close(fd);
	if (!elf)
		return NULL;
	if (want->idlen) {
		if (elf_build_id(elf, &id) != want->idlen || memcmp(id, want->id, want->idlen))
			goto mismatch;
	} else if (want->check_crc && file_crc32(elf) != want->crc) {
		goto mismatch;
	}
	return elf;
mismatch:
	elf_end(elf);
	return NULL;
}

static void build_id_path(char *buf, size_t len, const char *root, const uint8_t *id,
			  size_t idlen)
{
	int at = snprintf(buf, len, "%s/usr/lib/debug/.build-id/%02x/", root, id[0]);

	for (size_t i = 1; i < idlen && at > 0 && (size_t)at + 3 < len; i++)
		at += snprintf(buf + at, len - at, "%02x", id[i]);
	if (at > 0 && (size_t)at < len)
		snprintf(buf + at, len - at, ".debug");
}

/* The directory part of an absolute path, without the final slash ("" for "/x"). */
static size_t dir_len(const char *path)
{
	const char *slash = strrchr(path, '/');

	return slash ? (size_t)(slash - path) : 0;
}

/*
 * Finds the separate debug file of a module: by build-id under /usr/lib/debug/.build-id,
 * then by .gnu_debuglink next to the file, in its .debug directory and under
 * /usr/lib/debug. Each place is looked for in the process's root first, then in ours.
 * path is the module's path as the process sees it (NULL if unknown). The file found
 * is written to found.
 */
static Elf *find_debug_file(struct module *m, const char *root, const char *path, char *found,
			    size_t found_len)
{
	const char *roots[2] = { root, "" };
	int nroots = root[0] ? 2 : 1;
	struct debug_want want = { .self_dev = m->dev, .self_ino = m->ino };
	const char *link;
	uint32_t crc = 0;
	Elf *elf;

	want.idlen = elf_build_id(m->elf, &want.id);
	if (want.idlen) {
		for (int r = 0; r < nroots; r++) {
			build_id_path(found, found_len, roots[r], want.id, want.idlen);
			elf = open_matching(found, &want);
			if (elf)
				return elf;
		}
	}
	link = elf_debuglink(m->elf, &crc);
	if (!link || !path || path[0] != '/')
		return NULL;
	/* Without a build-id to compare, the debuglink's CRC vouches for the file. */
	want.check_crc = !want.idlen;
	want.crc = crc;
	for (int r = 0; r < nroots; r++) {
		static const char *const fmts[3] = {
			"%s%.*s/%s",			/* next to the file */
			"%s%.*s/.debug/%s",		/* in its .debug directory */
			"%s/usr/lib/debug%.*s/%s",	/* under the global debug directory */
		};
		int dl = (int)dir_len(path);

		for (int i = 0; i < 3; i++) {
			snprintf(found, found_len, fmts[i], roots[r], dl, path, link);
			elf = open_matching(found, &want);
			if (elf)
				return elf;
		}
	}
	return NULL;
}

/*
 * Finds the supplementary file that a DWARF file compressed with dwz refers to: by the
 * name in .gnu_debugaltlink (relative to the DWARF file's directory when relative), then
 * by its build-id.
 */
static Elf *find_alt_file(const struct module *m, Elf *dwarf_elf, const char *dwarf_path,
			  const char *root)
{
	const char *roots[2] = { root, "" };
	int nroots = root[0] ? 2 : 1;
	struct debug_want want = { .self_dev = m->dev, .self_ino = m->ino };
	char path[LONG_PATH];
	const char *name = elf_altlink(dwarf_elf, &want.id, &want.idlen);
	Elf *elf;

	if (!name)
		return NULL;
	if (name[0] == '/') {
		for (int r = 0; r < nroots; r++) {
			snprintf(path, sizeof(path), "%s%s", roots[r], name);
			elf = open_matching(path, &want);
			if (elf)
				return elf;
		}
	} else if (dwarf_path) {
		snprintf(path, sizeof(path), "%.*s/%s", (int)dir_len(dwarf_path), dwarf_path, name);
		elf = open_matching(path, &want);
		if (elf)
			return elf;
	}
	for (int r = 0; r < nroots; r++) {
		build_id_path(path, sizeof(path), roots[r], want.id, want.idlen);
		elf = open_matching(path, &want);
		if (elf)
			return elf;
	}
	return NULL;
}

static int read_loads(struct module *m)
{
	size_t nph;

	if (elf_getphdrnum(m->elf, &nph))
		return -ENOEXEC;
	m->loads = calloc(nph ? nph : 1, sizeof(*m->loads));
	if (!m->loads)
		return -ENOMEM;
	for (size_t i = 0; i < nph; i++) {
		GElf_Phdr ph;

		if (gelf_getphdr(m->elf, (int)i, &ph) && ph.p_type == PT_LOAD)
			m->loads[m->nloads++] = ph;
	}
	return 0;
}

/*
 * Caches a module for the file open at fd (which the caller still closes), under the
 * (dev, ino) of st. name is how frames will call it; root and path tell where the
 * process sees it, to find its debug files. Returns NULL with errno set when memory runs
 * out; a file that is not ELF still gives a module, with no symbols.
 */
static struct module *module_from_fd(struct symbolizer *s, int fd, const struct stat *st,
				     const char *name, const char *root, const char *path)
{
	char debug_path[LONG_PATH];
	struct module *m;
	Elf *dwarf_elf;

	if (s->nmods == s->capmods) {
		size_t cap = s->capmods ? s->capmods * 2 : 32;
		struct module **mods = realloc(s->mods, cap * sizeof(*mods));

		if (!mods)
			return NULL;
		s->mods = mods;
		s->capmods = cap;
	}
	m = calloc(1, sizeof(*m));
	if (!m)
		return NULL;
	if (kv_put(&s->by_inode, st->st_dev, st->st_ino, m)) {
		free(m);
		errno = ENOMEM;
		return NULL;
	}
	s->mods[s->nmods++] = m;
	m->name = name;
	m->dev = st->st_dev;
	m->ino = st->st_ino;
	m->elf = elf_from_fd(fd);
	if (!m->elf)
		return m;
	if (read_loads(m)) {
		elf_end(m->elf);
		m->elf = NULL;
		return m;
	}
	/*
	 * Debug files are found now, while the process's root is still there to look in;
	 * they are read when a frame first needs them. A file with its own symbols and
	 * DWARF needs none.
	 */
	debug_path[0] = '\0';
	if (!find_section_type(m->elf, SHT_SYMTAB, &(GElf_Shdr){ 0 }) ||
	    !has_section_data(m->elf, ".debug_info"))
		m->debug_elf = find_debug_file(m, root, path, debug_path, sizeof(debug_path));
	dwarf_elf = m->debug_elf ? m->debug_elf : m->elf;
	m->alt_elf = find_alt_file(m, dwarf_elf, m->debug_elf ? debug_path : path, root);
	return m;
}

/* --- symbols ------------------------------------------------------------------------------- */

static int binding_rank(unsigned char bind)
{
	switch (bind) {
	case STB_GLOBAL:
		return 0;
	case STB_WEAK:
		return 1;
	case STB_LOCAL:
		return 2;
	default:
		return 3;
	}
}

/*
 * Symbols by address; among aliases of one address the best name first: sized before
 * unsized, global before weak before local, fewer leading underscores ("malloc" before
 * "__libc_malloc"), then shorter and alphabetical, so the choice is the same every run.
 */
static int sym_cmp(const void *pa, const void *pb)
{
	const struct sym *a = pa, *b = pb;
	size_t la, lb;
	int c;

	if (a->start != b->start)
		return a->start < b->start ? -1 : 1;
	if (!a->size != !b->size)
		return !a->size ? 1 : -1;
	if (a->binding != b->binding)
		return a->binding - b->binding;
	if (a->underscores != b->underscores)
		return a->underscores - b->underscores;
	la = strlen(a->name);
	lb = strlen(b->name);
	if (la != lb)
		return la < lb ? -1 : 1;
	c = strcmp(a->name, b->name);
	return c;
}

/* Functions from one symbol table section. */
static int collect_syms(struct symbolizer *s, struct module *m, Elf *elf, Elf_Scn *scn,
			const GElf_Shdr *shdr)
{
	Elf_Data *data = elf_getdata(scn, NULL);
	size_t n, cap;

	if (!data || !shdr->sh_entsize)
		return 0;
	n = shdr->sh_size / shdr->sh_entsize;
	cap = m->nsyms + n;
	if (n) {
		struct sym *syms = realloc(m->syms, cap * sizeof(*syms));

		if (!syms)
			return -ENOMEM;
		m->syms = syms;
	}
	/* Entry 0 is the null symbol. */
	for (size_t i = 1; i < n; i++) {
		int type;
		GElf_Sym sym;
		const char *name, *at;
		struct sym *out;

		if (!gelf_getsym(data, (int)i, &sym))
			continue;
		type = GELF_ST_TYPE(sym.st_info);
		if ((type != STT_FUNC && type != STT_GNU_IFUNC) || sym.st_shndx == SHN_UNDEF ||
		    !sym.st_value)
			continue;
		name = elf_strptr(elf, shdr->sh_link, sym.st_name);
		if (!name || !*name)
			continue;
		/* "realpath@GLIBC_2.2.5": the version is not part of the function's name. */
		at = strchr(name, '@');
		if (at) {
			name = intern_len(s, name, (size_t)(at - name));
			if (!name)
				return -ENOMEM;
		}
		out = &m->syms[m->nsyms++];
		out->start = sym.st_value;
		out->size = sym.st_size;
		out->name = name;
		out->shown = NULL;
		out->binding = (uint8_t)binding_rank(GELF_ST_BIND(sym.st_info));
		out->underscores = (uint8_t)strspn(name, "_");
	}
	return 0;
}

/*
 * Loads the module's function symbols once: the debug file's .symtab, else the file's
 * own .symtab, else its .dynsym. Sorted, with one entry (the best-named, the largest
 * size) per address.
 */
static void module_load_syms(struct symbolizer *s, struct module *m)
{
	struct {
		Elf *elf;
		GElf_Word type;
	} order[] = {
		{ m->debug_elf, SHT_SYMTAB },
		{ m->elf, SHT_SYMTAB },
		{ m->elf, SHT_DYNSYM },
	};
	size_t out = 0;

	m->syms_loaded = 1;
	for (size_t i = 0; i < sizeof(order) / sizeof(order[0]); i++) {
		GElf_Shdr shdr;
		Elf_Scn *scn;

		if (!order[i].elf)
			continue;
		scn = find_section_type(order[i].elf, order[i].type, &shdr);
		if (!scn || !shdr.sh_size)
			continue;
		if (collect_syms(s, m, order[i].elf, scn, &shdr)) {
			m->nsyms = 0;
			return;
		}
		if (m->nsyms)
			break;
	}
	if (!m->nsyms)
		return;
	qsort(m->syms, m->nsyms, sizeof(*m->syms), sym_cmp);
	for (size_t i = 0; i < m->nsyms; i++) {
		if (out && m->syms[out - 1].start == m->syms[i].start) {
			if (m->syms[i].size > m->syms[out - 1].size)
				m->syms[out - 1].size = m->syms[i].size;
			continue;
		}
		m->syms[out++] = m->syms[i];
	}
	m->nsyms = out;
}

/* The function holding vaddr, or NULL. */
static struct sym *module_find_sym(struct symbolizer *s, struct module *m, uint64_t vaddr)
{
	size_t lo = 0, hi;

	if (!m->syms_loaded)
		module_load_syms(s, m);
	hi = m->nsyms;
	if (!hi || vaddr < m->syms[0].start)
		return NULL;
	/* The last symbol starting at or below vaddr. */
	while (hi - lo > 1) {
		size_t mid = lo + (hi - lo) / 2;

		if (m->syms[mid].start <= vaddr)
			lo = mid;
		else
			hi = mid;
	}
	/* A symbol without a size runs to the next one. */
	if (!m->syms[lo].size)
		return &m->syms[lo];
	/* Past its end, vaddr may still lie in an enclosing symbol that starts earlier. */
	for (size_t k = 0; k < NESTED_LOOKBACK && k <= lo; k++) {
		struct sym *sym = &m->syms[lo - k];

		if (vaddr - sym->start < sym->size)
			return sym;
	}
	return NULL;
}

static const char *sym_shown(struct symbolizer *s, struct sym *sym)
{
	if (!sym->shown) {
		char *demangled = symbolize_demangle(sym->name);

		if (demangled && strcmp(demangled, sym->name))
			sym->shown = intern(s, demangled);
		free(demangled);
		if (!sym->shown)
			sym->shown = sym->name;
	}
	return sym->shown;
}

/* --- lines --------------------------------------------------------------------------------- */

static int cu_range_cmp(const void *pa, const void *pb)
{
	const struct cu_range *a = pa, *b = pb;

	if (a->start != b->start)
		return a->start < b->start ? -1 : 1;
	return a->end < b->end ? -1 : a->end > b->end;
}

static int add_cu_range(struct module *m, size_t *cap, uint64_t start, uint64_t end,
			const Dwarf_Die *cudie)
{
	if (m->ncus == *cap) {
		size_t ncap = *cap ? *cap * 2 : 256;
		struct cu_range *cus = realloc(m->cus, ncap * sizeof(*cus));

		if (!cus)
			return -ENOMEM;
		m->cus = cus;
		*cap = ncap;
	}
	m->cus[m->ncus++] = (struct cu_range){ .start = start, .end = end, .cudie = *cudie };
	return 0;
}

/*
 * Opens the module's DWARF once and indexes its compile units by address range. The
 * units' own ranges are used rather than .debug_aranges, which not every compiler
 * writes; each unit's line table is read only when an address first needs it.
 */
static void module_load_dwarf(struct module *m)
{
	Dwarf_CU *cu = NULL, *next;
	Dwarf_Die cudie, subdie;
	Dwarf_Half version;
	uint8_t unit_type;
	size_t cap = 0;

	m->dwarf_loaded = 1;
	if (m->debug_elf)
		m->dwarf = dwarf_begin_elf(m->debug_elf, DWARF_C_READ, NULL);
	if (!m->dwarf && m->elf)
		m->dwarf = dwarf_begin_elf(m->elf, DWARF_C_READ, NULL);
	if (!m->dwarf)
		return;
	if (m->alt_elf) {
		m->alt_dwarf = dwarf_begin_elf(m->alt_elf, DWARF_C_READ, NULL);
		if (m->alt_dwarf)
			dwarf_setalt(m->dwarf, m->alt_dwarf);
	}
	while (dwarf_get_units(m->dwarf, cu, &next, &version, &unit_type, &cudie, &subdie) == 0) {
		Dwarf_Addr base, start, end;
		ptrdiff_t off = 0;

		cu = next;
		if (unit_type != DW_UT_compile && unit_type != DW_UT_skeleton)
			continue;
		while ((off = dwarf_ranges(&cudie, off, &base, &start, &end)) > 0) {
			if (start < end && add_cu_range(m, &cap, start, end, &cudie)) {
				m->ncus = 0;
				return;
			}
		}
	}
	qsort(m->cus, m->ncus, sizeof(*m->cus), cu_range_cmp);
}

static struct cu_range *module_find_cu(struct module *m, uint64_t vaddr)
{
	size_t lo = 0, hi = m->ncus;

	if (!hi || vaddr < m->cus[0].start)
		return NULL;
	while (hi - lo > 1) {
		size_t mid = lo + (hi - lo) / 2;

		if (m->cus[mid].start <= vaddr)
			lo = mid;
		else
			hi = mid;
	}
	for (size_t k = 0; k < NESTED_LOOKBACK && k <= lo; k++) {
		struct cu_range *r = &m->cus[lo - k];

		if (vaddr < r->end)
			return r;
	}
	return NULL;
}

/* A unit's source path, made whole with its compilation directory when relative. */
static const char *unit_path(struct symbolizer *s, Dwarf_Die *cudie, const char *src)
{
	Dwarf_Attribute attr;
	const char *dir, *whole;
	char *full = NULL;

	if (!src || src[0] == '/')
		return src ? intern(s, src) : NULL;
	dir = dwarf_formstring(dwarf_attr(cudie, DW_AT_comp_dir, &attr));
	if (!dir || asprintf(&full, "%s/%s", dir, src) < 0)
		return intern(s, src);
	whole = intern(s, full);
	free(full);
	return whole;
}

/* f->file and f->line for vaddr, when the module has DWARF lines for it. */
static void module_find_line(struct symbolizer *s, struct module *m, uint64_t vaddr,
			     struct frame *f)
{
	struct cu_range *r;
	Dwarf_Line *line;
	int lineno = 0;

	if (!m->dwarf_loaded)
		module_load_dwarf(m);
	r = module_find_cu(m, vaddr);
	if (!r)
		return;
	line = dwarf_getsrc_die(&r->cudie, vaddr);
	if (!line)
		return;
	if (dwarf_lineno(line, &lineno))
		lineno = 0;
	f->file = unit_path(s, &r->cudie, dwarf_linesrc(line, NULL, NULL));
	f->line = lineno;
}

/* An inlined function's name: its linkage name demangled (C++ with its class), or its name. */
static const char *inlined_name(struct symbolizer *s, Dwarf_Die *die)
{
	Dwarf_Attribute attr;
	const char *linkage, *name;
	char *demangled;

	linkage = dwarf_formstring(dwarf_attr_integrate(die, DW_AT_linkage_name, &attr));
	if (!linkage)
		linkage = dwarf_formstring(dwarf_attr_integrate(die, DW_AT_MIPS_linkage_name, &attr));
	if (!linkage)
		return (name = dwarf_diename(die)) ? intern(s, name) : NULL;
	demangled = symbolize_demangle(linkage);
	name = intern(s, demangled ? demangled : linkage);
	free(demangled);
	return name;
}

/* The inlined calls at vaddr from its unit's DIEs (DW_TAG_inlined_subroutine scopes). */
static struct inline_chain *find_inline_chain(struct symbolizer *s, struct module *m,
					      uint64_t vaddr)
{
	struct cu_range *r = module_find_cu(m, vaddr);
	struct inline_chain *c = NULL;
	Dwarf_Die *scopes = NULL;
	Dwarf_Files *files = NULL;
	size_t nfiles = 0, k = 0;
	int n;

	if (!r)
		return NULL;
	/*
	 * The innermost scope at vaddr, then the DIEs that contain it: the concrete inlined
	 * instances nest in each other there (the scopes of the address itself would
	 * continue with where the innermost function was defined, not where it was called).
	 */
	n = dwarf_getscopes(&r->cudie, vaddr, &scopes);
	if (n > 0) {
		Dwarf_Die innermost = scopes[0];

		free(scopes);
		scopes = NULL;
		n = dwarf_getscopes_die(&innermost, &scopes);
	}
	for (int i = 0; i < n; i++)
		k += dwarf_tag(&scopes[i]) == DW_TAG_inlined_subroutine;
	if (k)
		c = calloc(1, sizeof(*c) + k * sizeof(c->calls[0]));
	if (c && dwarf_getsrcfiles(&r->cudie, &files, &nfiles))
		files = NULL;
	for (int i = 0; c && i < n; i++) {
		struct inline_call *call = &c->calls[c->n];
		Dwarf_Attribute attr;
		Dwarf_Word v;

		if (dwarf_tag(&scopes[i]) != DW_TAG_inlined_subroutine)
			continue;
		call->function = inlined_name(s, &scopes[i]);
		if (files && !dwarf_formudata(dwarf_attr(&scopes[i], DW_AT_call_file, &attr), &v) &&
		    v < nfiles)
			call->call_file = unit_path(s, &r->cudie, dwarf_filesrc(files, v, NULL, NULL));
		if (!dwarf_formudata(dwarf_attr(&scopes[i], DW_AT_call_line, &attr), &v))
			call->call_line = (int)v;
		c->n++;
	}
	free(scopes);
	return c;
}

/* The inlined calls at vaddr, looked up once per address; NULL when there are none. */
static const struct inline_chain *module_inline_chain(struct symbolizer *s, struct module *m,
						      uint64_t vaddr)
{
	struct inline_chain *c = kv_get(&m->inlines, vaddr, 0);

	if (!c) {
		if (!m->dwarf_loaded)
			module_load_dwarf(m);
		c = find_inline_chain(s, m, vaddr);
		if (!c)
			c = &no_inline_chain;
		if (kv_put(&m->inlines, vaddr, 0, c) && c != &no_inline_chain) {
			free(c);
			c = &no_inline_chain;
		}
	}
	return c->n ? c : NULL;
}

/* --- resolving ----------------------------------------------------------------------------- */

static int offset_to_vaddr(const struct module *m, uint64_t off, uint64_t *vaddr)
{
	for (size_t i = 0; i < m->nloads; i++) {
		const GElf_Phdr *ph = &m->loads[i];

		if (off >= ph->p_offset && off - ph->p_offset < ph->p_filesz) {
			*vaddr = off - ph->p_offset + ph->p_vaddr;
			return 0;
		}
	}
	return -ENOENT;
}

/*
 * Function, offset, file and line for the byte at file_off of m. delta is how far the
 * reported address lies past the byte looked up (1 for a return address), so that
 * f->offset counts from the reported address.
 */
static int resolve_in_module(struct symbolizer *s, struct module *m, uint64_t file_off,
			     uint64_t delta, struct frame *f, uint64_t *vaddr)
{
	struct sym *sym;

	if (!m->elf || offset_to_vaddr(m, file_off, vaddr))
		return -ENOENT;
	sym = module_find_sym(s, m, *vaddr);
	if (sym) {
		f->function = sym_shown(s, sym);
		f->offset = *vaddr + delta - sym->start;
	}
	module_find_line(s, m, *vaddr, f);
	return 0;
}

int symbolizer__resolve_file_offset(struct symbolizer *s, dev_t dev, ino_t ino,
				    uint64_t file_offset, int is_return_addr, struct frame *f)
{
	struct module *m = kv_get(&s->by_inode, dev, ino);
	uint64_t delta = is_return_addr && file_offset ? 1 : 0;

	f->function = NULL;
	f->offset = 0;
	f->file = NULL;
	f->line = 0;
	f->module = m ? m->name : NULL;
	if (!m)
		return -ENOENT;
	resolve_in_module(s, m, file_offset - delta, delta, f, &(uint64_t){ 0 });
	return 0;
}

int symbolizer__open_file(struct symbolizer *s, const char *path)
{
	const char *name = intern(s, path);
	struct module *m;
	struct stat st;
	int fd, err = 0;

	if (!name)
		return -ENOMEM;
	if (kv_get(&s->by_path, (uintptr_t)name, 0))
		return 0;
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	if (fstat(fd, &st)) {
		err = -errno;
		goto cleanup;
	}
	m = kv_get(&s->by_inode, st.st_dev, st.st_ino);
	if (!m)
		m = module_from_fd(s, fd, &st, name, "", path);
	if (!m) {
		err = -ENOMEM;
		goto cleanup;
	}
	err = kv_put(&s->by_path, (uintptr_t)name, 0, m);
cleanup:
	close(fd);
	return err;
}

int symbolizer__resolve_file(struct symbolizer *s, const char *path, uint64_t file_offset,
			     int is_return_addr, struct frame *out, size_t max)
{
	const char *name = intern(s, path);
	uint64_t delta = is_return_addr && file_offset ? 1 : 0, vaddr;
	const struct inline_chain *chain;
	struct frame f = { 0 };
	struct module *m;
	size_t k;
	int err;

	if (!name)
		return -ENOMEM;
	if (!max)
		return -EINVAL;
	m = kv_get(&s->by_path, (uintptr_t)name, 0);
	if (!m) {
		err = symbolizer__open_file(s, path);
		if (err)
			return err == -ENOMEM ? err : -ENOENT;
		m = kv_get(&s->by_path, (uintptr_t)name, 0);
	}
	f.addr = out[0].addr;
	f.module = name;
	chain = resolve_in_module(s, m, file_offset - delta, delta, &f, &vaddr) ? NULL :
		module_inline_chain(s, m, vaddr);
	if (!chain || max < 2) {
		out[0] = f;
		return 1;
	}
	/*
	 * The innermost inlined function is where the line table puts the address; each one
	 * further out, and the function itself, at the call of the one inside it.
	 */
	k = chain->n < max - 1 ? chain->n : max - 1;
	for (size_t j = 0; j < k; j++) {
		out[j] = (struct frame){
			.addr = f.addr,
			.module = name,
			.function = chain->calls[j].function,
			.file = j ? chain->calls[j - 1].call_file : f.file,
			.line = j ? chain->calls[j - 1].call_line : f.line,
			.inlined = 1,
		};
	}
	out[k] = f;
	out[k].file = chain->calls[chain->n - 1].call_file;
	out[k].line = chain->calls[chain->n - 1].call_line;
	return (int)k + 1;
}

/* --- address spaces ------------------------------------------------------------------------ */

struct addr_space *addr_space__new(struct symbolizer *s, pid_t pid)
{
	struct addr_space *as;

	if (!s || pid < 0) {
		errno = EINVAL;
		return NULL;
	}
	as = calloc(1, sizeof(*as));
	if (!as)
		return NULL;
	as->s = s;
	as->pid = pid;
	return as;
}

void addr_space__free(struct addr_space *as)
{
	if (!as)
		return;
	free(as->maps);
	free(as);
}

void addr_space__reset(struct addr_space *as)
{
	as->n = 0;
}

static int same_mapping(const struct mapping *a, const struct mapping *b)
{
	return a->start == b->start && a->end == b->end && a->pgoff == b->pgoff &&
	       a->mod == b->mod && a->name == b->name;
}

/*
 * Adds a mapping over whatever was there: mappings it overlaps are cut back to the parts
 * it does not cover, or dropped.
 */
static int add_mapping(struct addr_space *as, const struct mapping *nm)
{
	size_t lo = 0, hi = as->n, j, nleft = 0, nright = 0, newn;
	struct mapping left, right;

	if (nm->start >= nm->end)
		return 0;
	/* The first mapping that ends after the new one starts. */
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (as->maps[mid].end <= nm->start)
			lo = mid + 1;
		else
			hi = mid;
	}
	for (j = lo; j < as->n && as->maps[j].start < nm->end; j++)
		;
	/* Reading the same maps again changes nothing. */
	if (j - lo == 1 && same_mapping(&as->maps[lo], nm))
		return 0;
	if (j > lo && as->maps[lo].start < nm->start) {
		left = as->maps[lo];
		left.end = nm->start;
		nleft = 1;
	}
	if (j > lo && as->maps[j - 1].end > nm->end) {
		right = as->maps[j - 1];
		right.pgoff += nm->end - right.start;
		right.start = nm->end;
		nright = 1;
	}
	newn = as->n - (j - lo) + nleft + 1 + nright;
	if (newn > as->cap) {
		size_t cap = as->cap ? as->cap * 2 : 64;
		struct mapping *maps;

		while (cap < newn)
			cap *= 2;
		maps = realloc(as->maps, cap * sizeof(*maps));
		if (!maps)
			return -ENOMEM;
		as->maps = maps;
		as->cap = cap;
	}
	memmove(&as->maps[lo + nleft + 1 + nright], &as->maps[j], (as->n - j) * sizeof(*as->maps));
	if (nleft)
		as->maps[lo++] = left;
	as->maps[lo++] = *nm;
	if (nright)
		as->maps[lo] = right;
	as->n = newn;
	return 0;
}

static const struct mapping *find_mapping(const struct addr_space *as, uint64_t addr)
{
	size_t lo = 0, hi = as->n;

	if (!hi || addr < as->maps[0].start)
		return NULL;
	while (hi - lo > 1) {
		size_t mid = lo + (hi - lo) / 2;

		if (as->maps[mid].start <= addr)
			lo = mid;
		else
			hi = mid;
	}
	return addr < as->maps[lo].end ? &as->maps[lo] : NULL;
}

/*
 * The prefix that shows a path as the process sees it: "/proc/PID/root", or "" when the
 * process shares our root (and so nothing needs looking up twice).
 */
static void proc_root(pid_t pid, char *buf, size_t len)
{
	struct stat theirs, ours;

	buf[0] = '\0';
	if (pid <= 0)
		return;
	snprintf(buf, len, "/proc/%d/root", (int)pid);
	if (!stat(buf, &theirs) && !stat("/", &ours) && theirs.st_dev == ours.st_dev &&
	    theirs.st_ino == ours.st_ino)
		buf[0] = '\0';
}

/*
 * The module of one mapping from /proc/PID/maps, opened now when not cached: through
 * map_files (the very file mapped, even deleted), else by its path in the process's root
 * when that is still the same inode. NULL when it cannot be opened.
 */
static struct module *maps_module(struct addr_space *as, uint64_t start, uint64_t end,
				  dev_t dev, ino_t ino, const char *name, int deleted,
				  const char *root)
{
	struct symbolizer *s = as->s;
	char path[LONG_PATH];
	struct module *m = kv_get(&s->by_inode, dev, ino);
	struct stat st;
	int fd;

	if (m)
		return m;
	snprintf(path, sizeof(path), "/proc/%d/map_files/%" PRIx64 "-%" PRIx64, (int)as->pid,
		 start, end);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0 && !deleted) {
		snprintf(path, sizeof(path), "%s%s", root, name);
		fd = open(path, O_RDONLY | O_CLOEXEC);
		/*
		 * Only the same inode will do: a path can name a newer file. The device
		 * may differ (overlayfs shows its own, maps the layer's).
		 */
		if (fd >= 0 && (fstat(fd, &st) || st.st_ino != ino)) {
			close(fd);
			fd = -1;
		}
	}
	if (fd < 0)
		return NULL;
	if (fstat(fd, &st)) {
		close(fd);
		return NULL;
	}
	m = kv_get(&s->by_inode, st.st_dev, st.st_ino);
	if (!m)
		m = module_from_fd(s, fd, &st, name, root, name);
	close(fd);
	/* Known from now on by the identity the maps show too. */
	if (m && (st.st_dev != dev || st.st_ino != ino) && kv_put(&s->by_inode, dev, ino, m))
		m = NULL;
	return m;
}

int addr_space__load_maps(struct addr_space *as)
{
	char file[64], root[64];
	char *line = NULL;
	size_t cap = 0;
	FILE *fp;
	int err = 0;

	if (as->pid <= 0)
		return -EINVAL;
	snprintf(file, sizeof(file), "/proc/%d/maps", (int)as->pid);
	fp = fopen(file, "re");
	if (!fp)
		return -errno;
	proc_root(as->pid, root, sizeof(root));
	while (getline(&line, &cap, fp) > 0) {
		static const char deleted_suffix[] = " (deleted)";
		size_t dlen = sizeof(deleted_suffix) - 1, len;
		uint64_t start, end, pgoff, ino;
		unsigned int maj, min;
		struct mapping map;
		char perms[8], *name;
		int name_at = 0, deleted = 0;

		if (sscanf(line, "%" SCNx64 "-%" SCNx64 " %7s %" SCNx64 " %x:%x %" SCNu64 " %n",
			   &start, &end, perms, &pgoff, &maj, &min, &ino, &name_at) < 7 ||
		    !name_at || strlen(perms) < 3 || perms[2] != 'x')
			continue;
		name = line + name_at;
		name[strcspn(name, "\n")] = '\0';
		len = strlen(name);
		if (!ino) {
			/* Anonymous code has no file to read; the vDSO is at least named. */
			if (strcmp(name, "[vdso]"))
				continue;
		} else if (name[0] != '/') {
			continue;
		} else if (len > dlen && !strcmp(name + len - dlen, deleted_suffix)) {
			name[len - dlen] = '\0';
			deleted = 1;
		}
		map = (struct mapping){ .start = start, .end = end, .pgoff = pgoff };
		map.name = intern(as->s, name);
		if (!map.name) {
			err = -ENOMEM;
			break;
		}
		if (ino)
			map.mod = maps_module(as, start, end, makedev(maj, min), (ino_t)ino,
					      map.name, deleted, root);
		err = add_mapping(as, &map);
		if (err)
			break;
	}
	free(line);
	fclose(fp);
	return err;
}

/*
 * Opens the file a process knows as path: through its root (absolute) or working
 * directory (relative) while it lives, else as named; "" is its main executable. The
 * name frames should show is written to name.
 */
static int open_process_file(const struct addr_space *as, const char *path, const char *root,
			     char *name, size_t name_len)
{
	char full[LONG_PATH];
	int fd = -1;

	snprintf(name, name_len, "%s", path);
	if (!path[0]) {
		ssize_t n;

		if (as->pid <= 0)
			return -ENOENT;
		snprintf(full, sizeof(full), "/proc/%d/exe", (int)as->pid);
		n = readlink(full, name, name_len - 1);
		if (n > 0) {
			static const char deleted_suffix[] = " (deleted)";
			size_t dlen = sizeof(deleted_suffix) - 1;

			name[n] = '\0';
			if ((size_t)n > dlen && !strcmp(name + n - dlen, deleted_suffix))
				name[n - dlen] = '\0';
		}
		fd = open(full, O_RDONLY | O_CLOEXEC);
		return fd < 0 ? -errno : fd;
	}
	if (as->pid > 0) {
		if (path[0] == '/')
			snprintf(full, sizeof(full), "%s%s", root, path);
		else
			snprintf(full, sizeof(full), "/proc/%d/cwd/%s", (int)as->pid, path);
		fd = open(full, O_RDONLY | O_CLOEXEC);
	}
	if (fd < 0)
		fd = open(path, O_RDONLY | O_CLOEXEC);
	return fd < 0 ? -errno : fd;
}

int addr_space__add_module(struct addr_space *as, const char *path, uint64_t bias)
{
	struct symbolizer *s = as->s;
	char root[64], shown[PATH_MAX];
	struct module *m;
	struct stat st;
	const char *name;
	size_t nexec = 0;
	int fd, err = 0;

	if (!path)
		return -EINVAL;
	proc_root(as->pid, root, sizeof(root));
	fd = open_process_file(as, path, root, shown, sizeof(shown));
	if (fd < 0)
		return fd;
	if (fstat(fd, &st)) {
		err = -errno;
		goto cleanup;
	}
	name = intern(s, shown);
	if (!name) {
		err = -ENOMEM;
		goto cleanup;
	}
	m = kv_get(&s->by_inode, st.st_dev, st.st_ino);
	if (!m)
		m = module_from_fd(s, fd, &st, name, root, shown[0] == '/' ? shown : NULL);
	if (!m) {
		err = -ENOMEM;
		goto cleanup;
	}
	if (!m->elf) {
		err = -ENOEXEC;
		goto cleanup;
	}
	for (size_t i = 0; i < m->nloads; i++)
		nexec += !!(m->loads[i].p_flags & PF_X);
	/* Code segments only, as from the maps; a file that marks none gives all. */
	for (size_t i = 0; i < m->nloads && !err; i++) {
		const GElf_Phdr *ph = &m->loads[i];
		struct mapping map = {
			.start = bias + ph->p_vaddr,
			.end = bias + ph->p_vaddr + ph->p_memsz,
			.pgoff = ph->p_offset,
			.mod = m,
			.name = name,
		};

		if (nexec && !(ph->p_flags & PF_X))
			continue;
		err = add_mapping(as, &map);
	}
cleanup:
	close(fd);
	return err;
}

int symbolizer__resolve_user(struct symbolizer *s, struct addr_space *as, uint64_t addr,
			     int is_return_addr, struct frame *f)
{
	/* A return address follows its call: the call's last byte is what was running. */
	uint64_t lookup = is_return_addr && addr ? addr - 1 : addr;
	const struct mapping *map;

	memset(f, 0, sizeof(*f));
	f->addr = addr;
	map = find_mapping(as, lookup);
	if (!map)
		return -ENOENT;
	f->module = map->name;
	if (map->mod)
		resolve_in_module(s, map->mod, lookup - map->start + map->pgoff, addr - lookup, f,
				  &(uint64_t){ 0 });
	return 0;
}

/* --- the kernel ---------------------------------------------------------------------------- */

static int is_text_type(char type)
{
	return type == 't' || type == 'T' || type == 'w' || type == 'W';
}

/* Functions first among symbols of one address, then global ones, then fewer underscores. */
static int ksym_cmp(const void *pa, const void *pb)
{
	const struct ksym *a = pa, *b = pb;
	size_t ua, ub;

	if (a->addr != b->addr)
		return a->addr < b->addr ? -1 : 1;
	if (!a->name != !b->name)
		return !a->name ? 1 : -1;
	if (!a->name)
		return 0;
	if ((a->type == 'T') != (b->type == 'T'))
		return a->type == 'T' ? -1 : 1;
	ua = strspn(a->name, "_");
	ub = strspn(b->name, "_");
	if (ua != ub)
		return ua < ub ? -1 : 1;
	return strcmp(a->name, b->name);
}

static char *read_whole(const char *path, size_t *len)
{
	size_t cap = 1 << 20, n = 0;
	char *buf = malloc(cap);
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	if (fd < 0 || !buf)
		goto fail;
	for (;;) {
		ssize_t r;

		if (cap - n < 65536 + 1) {
			char *p = realloc(buf, cap * 2);

			if (!p)
				goto fail;
			buf = p;
			cap *= 2;
		}
		r = read(fd, buf + n, cap - n - 1);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
			goto fail;
		if (r == 0)
			break;
		n += (size_t)r;
	}
	close(fd);
	buf[n] = '\0';
	*len = n;
	return buf;
fail:
	if (fd >= 0)
		close(fd);
	free(buf);
	return NULL;
}

/*
 * Reads /proc/kallsyms once. Symbols that are not functions are kept as ends of the
 * function before them, since kallsyms gives no sizes.
 */
static void load_kallsyms(struct symbolizer *s)
{
	size_t len = 0, cap = 0, out = 0;
	char *text, *p, *end;

	s->ksyms_loaded = 1;
	text = read_whole("/proc/kallsyms", &len);
	if (!text)
		return;
	s->kallsyms = text;
	end = text + len;
	for (p = text; p < end; p++) {
		char *eol = memchr(p, '\n', (size_t)(end - p)), *q, *name, *tab;
		struct ksym k = { 0 };

		if (!eol)
			eol = end;
		*eol = '\0';
		k.addr = strtoull(p, &q, 16);
		if (q == p || q[0] != ' ' || !q[1] || q[2] != ' ' || !k.addr)
			goto next;
		k.type = q[1];
		name = q + 3;
		tab = strchr(name, '\t');
		if (tab) {
			*tab = '\0';
			k.module = intern(s, tab + 1);
		}
		k.name = is_text_type(k.type) ? name : NULL;
		if (s->nksyms == cap) {
			size_t ncap = cap ? cap * 2 : 65536;
			struct ksym *ks = realloc(s->ksyms, ncap * sizeof(*ks));

			if (!ks) {
				s->nksyms = 0;
				return;
			}
			s->ksyms = ks;
			cap = ncap;
		}
		s->ksyms[s->nksyms++] = k;
next:
		p = eol;
	}
	qsort(s->ksyms, s->nksyms, sizeof(*s->ksyms), ksym_cmp);
	for (size_t i = 0; i < s->nksyms; i++)
		if (!out || s->ksyms[out - 1].addr != s->ksyms[i].addr)
			s->ksyms[out++] = s->ksyms[i];
	s->nksyms = out;
}

int symbolizer__resolve_kernel(struct symbolizer *s, uint64_t addr, struct frame *f)
{
	size_t lo = 0, hi;
	const struct ksym *k;

	if (!s->ksyms_loaded)
		load_kallsyms(s);
	memset(f, 0, sizeof(*f));
	f->addr = addr;
	f->module = "[kernel]";
	hi = s->nksyms;
	if (!hi || addr < s->ksyms[0].addr)
		return -ENOENT;
	while (hi - lo > 1) {
		size_t mid = lo + (hi - lo) / 2;

		if (s->ksyms[mid].addr <= addr)
			lo = mid;
		else
			hi = mid;
	}
	k = &s->ksyms[lo];
	if (!k->name)
		return -ENOENT;
	f->function = k->name;
	f->offset = addr - k->addr;
	if (k->module)
		f->module = k->module;
	return 0;
}
