// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#include "runner/symbolize.h"

#include <elfutils/libdwfl.h>
#include <errno.h>
#include <fcntl.h>
#include <gelf.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* From the C++ runtime (libstdc++), which the programs link. */
char *__cxa_demangle(const char *mangled, char *buf, size_t *len, int *status);

/* One opened file: its own Dwfl session, so files never overlap in address. */
struct module {
	char *path;		/* as first asked for */
	dev_t dev;
	ino_t ino;
	Dwfl *dwfl;
	Dwfl_Module *mod;	/* NULL when the file is not a usable ELF file */
	size_t nloads;
	GElf_Phdr *loads;	/* PT_LOAD headers, to map file offsets to addresses */
};

struct ksym {
	uint64_t addr;
	const char *name;
	const char *module;
};

struct symbolizer {
	struct module *mods;
	size_t nmods, cap;
	/* Strings handed out in frames live until the symbolizer is freed. */
	char **strings;
	size_t nstrings, strcap;
	struct ksym *ksyms;
	size_t nksyms;
	char *kallsyms;		/* the file's text; ksym names point into it */
	int ksyms_loaded;
	char *debuginfo_path;
	Dwfl_Callbacks callbacks;
};

static const char *keep(struct symbolizer *s, char *str)
{
	if (!str)
		return NULL;
	if (s->nstrings == s->strcap) {
		size_t cap = s->strcap ? s->strcap * 2 : 256;
		char **p = realloc(s->strings, cap * sizeof(*p));

		if (!p) {
			free(str);
			return NULL;
		}
		s->strings = p;
		s->strcap = cap;
	}
	s->strings[s->nstrings++] = str;
	return str;
}

char *symbolize_demangle(const char *name)
{
	int status = -1;
	char *d = NULL;

	if (!name)
		return NULL;
	if (name[0] == '_' && name[1] == 'Z')
		d = __cxa_demangle(name, NULL, NULL, &status);
	if (d && status == 0)
		return d;
	free(d);
	return strdup(name);
}

struct symbolizer *symbolizer__new(void)
{
	struct symbolizer *s = calloc(1, sizeof(*s));

	if (!s)
		return NULL;
	/* Separate debug files: next to the file, in .debug/, and under /usr/lib/debug. */
	s->debuginfo_path = strdup(":.debug:/usr/lib/debug");
	s->callbacks.find_elf = dwfl_build_id_find_elf;
	s->callbacks.find_debuginfo = dwfl_standard_find_debuginfo;
	s->callbacks.section_address = dwfl_offline_section_address;
	s->callbacks.debuginfo_path = &s->debuginfo_path;
	return s;
}

void symbolizer__free(struct symbolizer *s)
{
	if (!s)
		return;
	for (size_t i = 0; i < s->nmods; i++) {
		if (s->mods[i].dwfl)
			dwfl_end(s->mods[i].dwfl);
		free(s->mods[i].path);
		free(s->mods[i].loads);
	}
	free(s->mods);
	for (size_t i = 0; i < s->nstrings; i++)
		free(s->strings[i]);
	free(s->strings);
	free(s->ksyms);
	free(s->kallsyms);
	free(s->debuginfo_path);
	free(s);
}

static void load_headers(struct module *m)
{
	GElf_Addr bias;
	Elf *elf = dwfl_module_getelf(m->mod, &bias);
	size_t n;

	if (!elf || elf_getphdrnum(elf, &n))
		return;
	m->loads = calloc(n ? n : 1, sizeof(*m->loads));
	if (!m->loads)
		return;
	for (size_t i = 0; i < n; i++) {
		GElf_Phdr ph;

		if (gelf_getphdr(elf, (int)i, &ph) && ph.p_type == PT_LOAD)
			m->loads[m->nloads++] = ph;
	}
}

static struct module *find_module(struct symbolizer *s, const char *path, int open_it)
{
	struct module *m;
	struct stat st;
	int fd;

	for (size_t i = 0; i < s->nmods; i++)
		if (!strcmp(s->mods[i].path, path))
			return &s->mods[i];
	if (!open_it)
		return NULL;
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0 || fstat(fd, &st)) {
		if (fd >= 0)
			close(fd);
		return NULL;
	}
	/* The same file by another path (a /proc/PID/root prefix, a symlink): one module. */
	for (size_t i = 0; i < s->nmods; i++) {
		if (s->mods[i].dev == st.st_dev && s->mods[i].ino == st.st_ino) {
			close(fd);
			return &s->mods[i];
		}
	}
	if (s->nmods == s->cap) {
		size_t cap = s->cap ? s->cap * 2 : 16;

		m = realloc(s->mods, cap * sizeof(*m));
		if (!m) {
			close(fd);
			return NULL;
		}
		s->mods = m;
		s->cap = cap;
	}
	m = &s->mods[s->nmods];
	memset(m, 0, sizeof(*m));
	m->path = strdup(path);
	if (!m->path) {
		close(fd);
		return NULL;
	}
	m->dev = st.st_dev;
	m->ino = st.st_ino;
	s->nmods++;
	m->dwfl = dwfl_begin(&s->callbacks);
	if (!m->dwfl) {
		close(fd);
		return m;
	}
	dwfl_report_begin(m->dwfl);
	/* Placed at its own link-time addresses: offsets map through its PT_LOAD headers. */
	m->mod = dwfl_report_elf(m->dwfl, path, path, fd, 0, true);
	dwfl_report_end(m->dwfl, NULL, NULL);
	if (!m->mod)
		close(fd);
	else
		load_headers(m);
	return m;
}

int symbolizer__open_file(struct symbolizer *s, const char *path)
{
	return find_module(s, path, 1) ? 0 : -ENOENT;
}

static int offset_to_addr(const struct module *m, uint64_t off, uint64_t *addr)
{
	for (size_t i = 0; i < m->nloads; i++) {
		const GElf_Phdr *ph = &m->loads[i];

		if (off >= ph->p_offset && off < ph->p_offset + ph->p_filesz) {
			*addr = off - ph->p_offset + ph->p_vaddr;
			return 0;
		}
	}
	return -ENOENT;
}

int symbolizer__resolve_file(struct symbolizer *s, const char *path, uint64_t file_offset,
			     int is_return, struct frame *f)
{
	struct module *m = find_module(s, path, 1);
	uint64_t addr, lookup;
	const char *name, *src;
	GElf_Off symoff = 0;
	GElf_Sym sym;
	Dwfl_Line *line;
	int lineno = 0;

	if (!m || !m->mod || offset_to_addr(m, file_offset, &addr))
		return -ENOENT;
	/* A return address follows its call: the call's last byte is what was running. */
	lookup = is_return && addr > 0 ? addr - 1 : addr;
	name = dwfl_module_addrinfo(m->mod, lookup, &symoff, &sym, NULL, NULL, NULL);
	if (name) {
		f->function = keep(s, symbolize_demangle(name));
		f->offset = symoff + (addr - lookup);
	}
	line = dwfl_module_getsrc(m->mod, lookup);
	if (line) {
		src = dwfl_lineinfo(line, NULL, &lineno, NULL, NULL, NULL);
		if (src && src[0] != '/') {
			const char *dir = dwfl_line_comp_dir(line);
			char *full = NULL;

			if (dir && asprintf(&full, "%s/%s", dir, src) > 0)
				f->file = keep(s, full);
			else
				f->file = keep(s, strdup(src));
		} else if (src) {
			f->file = keep(s, strdup(src));
		}
		f->line = lineno;
	}
	return name || line ? 0 : -ENOENT;
}

static int by_addr(const void *a, const void *b)
{
	const struct ksym *x = a, *y = b;

	return x->addr < y->addr ? -1 : x->addr > y->addr;
}

/* /proc/kallsyms, once: function symbols sorted by address. */
static void load_kallsyms(struct symbolizer *s)
{
	size_t len = 0, cap = 0, n = 0;
	char *text = NULL, *line, *save = NULL;
	FILE *f;

	s->ksyms_loaded = 1;
	f = fopen("/proc/kallsyms", "re");
	if (!f)
		return;
	for (;;) {
		if (len + 65536 + 1 > cap) {
			char *p = realloc(text, cap = cap ? cap * 2 : 1 << 22);

			if (!p) {
				free(text);
				fclose(f);
				return;
			}
			text = p;
		}
		n = fread(text + len, 1, cap - len - 1, f);
		if (n == 0)
			break;
		len += n;
	}
	fclose(f);
	text[len] = '\0';
	s->kallsyms = text;
	for (line = strtok_r(text, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		char *type, *name, *mod;
		uint64_t addr = strtoull(line, &type, 16);

		if (!addr || !type || !type[0] || !type[1])
			continue;
		type++;
		if (*type != 't' && *type != 'T' && *type != 'w' && *type != 'W')
			continue;
		name = type + 2;
		mod = strchr(name, '\t');
		if (mod) {
			*mod++ = '\0';
			mod[strcspn(mod, "\n")] = '\0';
		}
		if (s->nksyms % 4096 == 0) {
			struct ksym *k = realloc(s->ksyms, (s->nksyms + 4096) * sizeof(*k));

			if (!k)
				break;
			s->ksyms = k;
		}
		s->ksyms[s->nksyms++] = (struct ksym){ .addr = addr, .name = name, .module = mod };
	}
	qsort(s->ksyms, s->nksyms, sizeof(*s->ksyms), by_addr);
}

int symbolizer__resolve_kernel(struct symbolizer *s, uint64_t addr, struct frame *f)
{
	size_t lo = 0, hi;
	const struct ksym *k;

	if (!s->ksyms_loaded)
		load_kallsyms(s);
	f->module = "[kernel]";
	hi = s->nksyms;
	if (!hi || addr < s->ksyms[0].addr)
		return -ENOENT;
	/* The last symbol at or below addr. */
	while (hi - lo > 1) {
		size_t mid = lo + (hi - lo) / 2;

		if (s->ksyms[mid].addr <= addr)
			lo = mid;
		else
			hi = mid;
	}
	k = &s->ksyms[lo];
	f->function = k->name;
	f->offset = addr - k->addr;
	if (k->module && *k->module) {
		char *m = NULL;

		/* kallsyms writes "[name]". */
		if (asprintf(&m, "%s", k->module) > 0)
			f->module = keep(s, m);
	}
	return 0;
}
