/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * Finding the allocator: dynamic programs (their libraries in the loader's order), static
 * programs, scripts, single objects and running processes, with every probe offset
 * checked against what nm reports.
 */
#include <check.h>
#include <dlfcn.h>
#include <elf.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "runner/allocator.h"
#include "runner/placement.h"
#include "tests/testutil.h"

#define LIBC "/lib/x86_64-linux-gnu/libc.so.6"
#define FIXTURE_STATIC "tests/fixtures/static_leaky"
#define FIXTURE_INTERPOSE "tests/fixtures/sym_interpose"
#define FIXTURE_LIB "tests/fixtures/libplugin.so"
#define PRELOAD_LIB "libmemleak-preload.so"

/* --- helpers --------------------------------------------------------------------------------- */

static const char *fixture(const char *rel)
{
	const char *path = test_path(rel);

	if (access(path, R_OK))
		ck_abort_msg("missing %s: build the fixtures first (make fixtures)", path);
	return path;
}

/*
 * The value nm gives a defined function symbol of path (-D: from the dynamic symbol table).
 * Returns 0, or -ENOENT when nm does not list it.
 */
static int nm_value(const char *path, int dynamic, const char *name, uint64_t *value)
{
	char cmd[PATH_MAX + 64], line[1024];
	int found = -ENOENT;
	FILE *fp;

	snprintf(cmd, sizeof(cmd), "nm %s --defined-only '%s' 2>/dev/null", dynamic ? "-D" : "",
		 path);
	fp = popen(cmd, "r");
	ck_assert_msg(fp != NULL, "popen %s: %s", cmd, strerror(errno));
	while (fgets(line, sizeof(line), fp)) {
		char type, sym[512], *at;
		uint64_t v;

		if (sscanf(line, "%" SCNx64 " %c %511s", &v, &type, sym) != 3)
			continue;
		/* "malloc@@GLIBC_2.2.5": the name without its version. */
		at = strchr(sym, '@');
		if (at)
			*at = '\0';
		if (found && !strcmp(sym, name) && strchr("TtWwi", type)) {
			*value = v;
			found = 0;
		}
	}
	ck_assert_msg(pclose(fp) == 0, "'%s' failed: is nm (binutils) installed?", cmd);
	return found;
}

/* File offset of a virtual address, through the program headers of an ELF64 file. */
static uint64_t file_offset(const char *path, uint64_t vaddr)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	uint64_t off = UINT64_MAX;
	Elf64_Ehdr eh;

	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(pread(fd, &eh, sizeof(eh), 0), sizeof(eh));
	ck_assert(!memcmp(eh.e_ident, ELFMAG, SELFMAG) && eh.e_ident[EI_CLASS] == ELFCLASS64);
	for (int i = 0; i < eh.e_phnum; i++) {
		Elf64_Phdr ph;

		ck_assert_int_eq(pread(fd, &ph, sizeof(ph), (off_t)(eh.e_phoff + i * sizeof(ph))),
				 sizeof(ph));
		if (ph.p_type == PT_LOAD && vaddr >= ph.p_vaddr && vaddr < ph.p_vaddr + ph.p_filesz)
			off = vaddr - ph.p_vaddr + ph.p_offset;
	}
	close(fd);
	ck_assert_msg(off != UINT64_MAX, "0x%" PRIx64 " is in no segment of %s", vaddr, path);
	return off;
}

/* The one site of fn, NULL when none; fails when there are several. */
static const struct probe_site *site_of(const struct allocator *a, enum memleak_fn fn)
{
	const struct probe_site *found = NULL;

	for (size_t i = 0; i < a->nsites; i++) {
		if (a->sites[i].fn != fn)
			continue;
		ck_assert_msg(!found, "two sites for %s", allocator_fn_name(fn));
		found = &a->sites[i];
	}
	return found;
}

static size_t count_sites(const struct allocator *a, enum memleak_fn fn)
{
	size_t n = 0;

	for (size_t i = 0; i < a->nsites; i++)
		n += a->sites[i].fn == fn;
	return n;
}

/* Every site is in a file that exists, and no two share a place. */
static void ck_sites_sane(const struct allocator *a)
{
	for (size_t i = 0; i < a->nsites; i++) {
		ck_assert(a->sites[i].kind != PROBE_FUNCTION || a->sites[i].fn < FN__COUNT);
		ck_assert_ptr_nonnull(a->sites[i].path);
		ck_assert_msg(!access(a->sites[i].path, R_OK), "site in %s, which cannot be read",
			      a->sites[i].path);
		ck_assert_uint_gt(a->sites[i].offset, 0);
		for (size_t j = i + 1; j < a->nsites; j++)
			ck_assert_msg(a->sites[i].entry != a->sites[j].entry ||
					      strcmp(a->sites[i].path, a->sites[j].path),
				      "%s and %s share one probe", allocator_fn_name(a->sites[i].fn),
				      allocator_fn_name(a->sites[j].fn));
	}
}

/* objects is object_paths joined with ", ". */
static void ck_objects_string(const struct allocator *a)
{
	char buf[16384] = "";

	for (size_t i = 0; i < a->nobjects; i++) {
		ck_assert_ptr_nonnull(a->object_paths[i]);
		if (i)
			strcat(buf, ", ");
		strcat(buf, a->object_paths[i]);
	}
	ck_assert_ptr_nonnull(a->objects);
	ck_assert_str_eq(a->objects, buf);
	ck_assert_ptr_null(a->object_paths[a->nobjects]);
}

/* fn's site is in the same file as lib, at the offset nm gives name there. */
static void ck_site_at_symbol(const struct allocator *a, enum memleak_fn fn, const char *lib,
			      int dynamic, const char *name)
{
	const struct probe_site *s = site_of(a, fn);
	uint64_t value;

	ck_assert_msg(s != NULL, "no site for %s", allocator_fn_name(fn));
	ck_assert_msg(test_same_file(s->path, lib), "%s found in %s, not in %s",
		      allocator_fn_name(fn), s->path, lib);
	ck_assert_msg(nm_value(lib, dynamic, name, &value) == 0, "nm finds no %s in %s", name,
		      lib);
	ck_assert_msg(s->entry == file_offset(lib, value),
		      "%s at 0x%" PRIx64 ", nm says 0x%" PRIx64 " (file offset 0x%" PRIx64 ")",
		      name, s->entry, value, file_offset(lib, value));
	/* The probe is at the entry or a few instructions past it, never elsewhere. */
	ck_assert_msg(s->offset >= s->entry && s->offset < s->entry + 64,
		      "%s probed at 0x%" PRIx64 ", its entry is 0x%" PRIx64, name, s->offset, s->entry);
}

static struct allocator *for_program(const char *path, const struct allocator_opts *opts)
{
	struct allocator *a = allocator__for_program(path, opts);

	ck_assert_msg(a != NULL, "allocator__for_program(%s): %s", path, strerror(errno));
	ck_sites_sane(a);
	ck_objects_string(a);
	return a;
}

static char tmp_dir[64];

static void make_tmp_dir(void)
{
	snprintf(tmp_dir, sizeof(tmp_dir), "/tmp/check_allocator.XXXXXX");
	test_mkdtemp(tmp_dir);
}

static void remove_tmp_dir(void)
{
	test_rmtree(tmp_dir);
}

static const char *write_script(const char *name, const char *text)
{
	static char slots[4][256];
	static int next;
	char *path = slots[next++ % 4];
	FILE *fp;

	snprintf(path, sizeof(slots[0]), "%s/%s", tmp_dir, name);
	fp = fopen(path, "we");
	ck_assert_ptr_nonnull(fp);
	ck_assert_int_ge(fputs(text, fp), 0);
	ck_assert_int_eq(fclose(fp), 0);
	ck_assert_int_eq(chmod(path, 0755), 0);
	return path;
}

/* --- tests ----------------------------------------------------------------------------------- */

START_TEST(test_fn_names)
{
	ck_assert_str_eq(allocator_fn_name(FN_MALLOC), "malloc");
	ck_assert_str_eq(allocator_fn_name(FN_FREE), "free");
	ck_assert_str_eq(allocator_fn_name(FN_ALIGNED_ALLOC), "aligned_alloc");
	ck_assert_str_eq(allocator_fn_name(FN_MEMALIGN), "memalign");
	ck_assert_str_eq(allocator_fn_name(FN_NEW), "operator new");
	ck_assert_str_eq(allocator_fn_name(FN_DELETE), "operator delete");
	ck_assert_str_eq(allocator_fn_name(FN_DLCLOSE), "dlclose");
	for (int fn = 0; fn < FN__COUNT; fn++) {
		const char *name = allocator_fn_name(fn);

		ck_assert_msg(name && *name && strcmp(name, "?"), "no name for %d", fn);
	}
	ck_assert_str_eq(allocator_fn_name(FN__COUNT), "?");
	ck_assert_str_eq(allocator_fn_name(FN__COUNT + 100), "?");
	allocator__free(NULL);
}
END_TEST

/* /bin/true: the program first, then libc as ld.so finds it, every offset as nm says. */
START_TEST(test_dynamic_program)
{
	static const struct {
		enum memleak_fn fn;
		const char *name;
	} libc_fns[] = {
		{ FN_MALLOC, "malloc" },	 { FN_CALLOC, "calloc" },
		{ FN_REALLOC, "realloc" },	 { FN_REALLOCARRAY, "reallocarray" },
		{ FN_POSIX_MEMALIGN, "posix_memalign" }, { FN_VALLOC, "valloc" },
		{ FN_PVALLOC, "pvalloc" },	 { FN_FREE, "free" },
	};
	struct allocator *a = for_program("/bin/true", NULL);
	int has_libc = 0;

	ck_assert_uint_ge(a->nobjects, 2);
	ck_assert_str_eq(a->object_paths[0], "/bin/true");
	for (size_t i = 1; i < a->nobjects; i++) {
		ck_assert_msg(a->object_paths[i][0] == '/', "relative object %s",
			      a->object_paths[i]);
		has_libc |= test_same_file(a->object_paths[i], LIBC);
	}
	ck_assert_msg(has_libc, "libc missing from %s", a->objects);
	for (size_t i = 0; i < sizeof(libc_fns) / sizeof(libc_fns[0]); i++)
		ck_site_at_symbol(a, libc_fns[i].fn, LIBC, 1, libc_fns[i].name);
	/* In libc, file offsets of code are its addresses: nm's value, as it is. */
	{
		uint64_t value;

		ck_assert_int_eq(nm_value(LIBC, 1, "malloc", &value), 0);
		ck_assert_uint_eq(site_of(a, FN_MALLOC)->offset, value);
	}
	/* Only what was asked for, and no C++ runtime in a C program. */
	ck_assert_uint_eq(count_sites(a, FN_MMAP), 0);
	ck_assert_uint_eq(count_sites(a, FN_MUNMAP), 0);
	ck_assert_uint_eq(count_sites(a, FN_MREMAP), 0);
	ck_assert_uint_eq(count_sites(a, FN_DLOPEN), 0);
	ck_assert_uint_eq(count_sites(a, FN_DLCLOSE), 0);
	ck_assert_uint_eq(count_sites(a, FN_NEW), 0);
	ck_assert_uint_eq(count_sites(a, FN_DELETE), 0);
	allocator__free(a);
}
END_TEST

/* memalign and aligned_alloc are one function in glibc: one probe, not two. */
START_TEST(test_aliases_share_a_probe)
{
	struct allocator *a = for_program("/bin/true", NULL);
	uint64_t memalign, aligned;
	size_t n = count_sites(a, FN_MEMALIGN) + count_sites(a, FN_ALIGNED_ALLOC);

	ck_assert_int_eq(nm_value(LIBC, 1, "memalign", &memalign), 0);
	ck_assert_int_eq(nm_value(LIBC, 1, "aligned_alloc", &aligned), 0);
	if (memalign == aligned) {
		const struct probe_site *s = site_of(a, FN_ALIGNED_ALLOC);

		ck_assert_uint_eq(n, 1);
		if (!s)
			s = site_of(a, FN_MEMALIGN);
		ck_assert_ptr_nonnull(s);
		ck_assert_uint_eq(s->entry, memalign);
	} else {
		fprintf(stderr, "test_aliases_share_a_probe: memalign and aligned_alloc differ here\n");
		ck_assert_uint_eq(n, 2);
		ck_assert_uint_eq(site_of(a, FN_MEMALIGN)->entry, memalign);
		ck_assert_uint_eq(site_of(a, FN_ALIGNED_ALLOC)->entry, aligned);
	}
	allocator__free(a);
}
END_TEST

START_TEST(test_optional_functions)
{
	struct allocator_opts mmap_only = { .want_mmap = 1 };
	struct allocator_opts both = { .want_mmap = 1, .want_dl = 1 };
	struct allocator *a;
	uint64_t v;

	a = for_program("/bin/true", &mmap_only);
	ck_site_at_symbol(a, FN_MMAP, LIBC, 1, "mmap");
	ck_site_at_symbol(a, FN_MUNMAP, LIBC, 1, "munmap");
	ck_site_at_symbol(a, FN_MREMAP, LIBC, 1, "mremap");
	ck_assert_uint_eq(count_sites(a, FN_DLOPEN), 0);
	ck_assert_ptr_nonnull(site_of(a, FN_MALLOC));
	allocator__free(a);

	a = for_program("/bin/true", &both);
	ck_assert_ptr_nonnull(site_of(a, FN_MMAP));
	/* dlopen is in libc since glibc 2.34; a program without libdl has it there or not at all. */
	if (!nm_value(LIBC, 1, "dlopen", &v)) {
		ck_site_at_symbol(a, FN_DLOPEN, LIBC, 1, "dlopen");
		ck_site_at_symbol(a, FN_DLCLOSE, LIBC, 1, "dlclose");
	}
	allocator__free(a);
}
END_TEST

/* A C++ program: operator new and delete from libstdc++, malloc still from libc. */
START_TEST(test_cxx_program)
{
	const char *path = fixture("tests/fixtures/cxx");
	struct allocator *a = for_program(path, NULL);
	const char *libstdcxx = NULL;

	for (size_t i = 0; i < a->nobjects; i++)
		if (strstr(a->object_paths[i], "libstdc++"))
			libstdcxx = a->object_paths[i];
	ck_assert_msg(libstdcxx != NULL, "no libstdc++ in %s", a->objects);
	ck_assert_uint_ge(count_sites(a, FN_NEW), 1);
	ck_assert_uint_ge(count_sites(a, FN_DELETE), 1);
	for (size_t i = 0; i < a->nsites; i++)
		if (a->sites[i].fn == FN_NEW || a->sites[i].fn == FN_DELETE)
			ck_assert_str_eq(a->sites[i].path, libstdcxx);
	{
		uint64_t v;
		int found = 0;

		/* operator new(unsigned long) is one of them, where nm puts it. */
		ck_assert_int_eq(nm_value(libstdcxx, 1, "_Znwm", &v), 0);
		for (size_t i = 0; i < a->nsites; i++)
			found |= a->sites[i].fn == FN_NEW && a->sites[i].offset == file_offset(libstdcxx, v);
		ck_assert_msg(found, "no probe on _Znwm at 0x%" PRIx64, v);
	}
	ck_site_at_symbol(a, FN_MALLOC, LIBC, 1, "malloc");
	allocator__free(a);
}
END_TEST

/* A statically linked program is its own allocator. */
START_TEST(test_static_program)
{
	const char *path = fixture(FIXTURE_STATIC);
	struct allocator *a = for_program(path, NULL);

	ck_assert_uint_eq(a->nobjects, 1);
	ck_assert_str_eq(a->object_paths[0], path);
	ck_assert_str_eq(a->objects, path);
	ck_assert_uint_ge(a->nsites, 2);
	for (size_t i = 0; i < a->nsites; i++)
		ck_assert_str_eq(a->sites[i].path, path);
	/* Not position independent: offsets are not addresses, the segments translate. */
	ck_site_at_symbol(a, FN_MALLOC, path, 0, "malloc");
	ck_site_at_symbol(a, FN_FREE, path, 0, "free");
	ck_site_at_symbol(a, FN_CALLOC, path, 0, "calloc");
	ck_site_at_symbol(a, FN_REALLOC, path, 0, "realloc");
	allocator__free(a);
}
END_TEST

/* A program's own malloc interposes on libc's; what it does not define still comes from libc. */
START_TEST(test_program_interposes)
{
	const char *path = fixture(FIXTURE_INTERPOSE);
	struct allocator *a = for_program(path, NULL);

	ck_assert_str_eq(a->object_paths[0], path);
	ck_site_at_symbol(a, FN_MALLOC, path, 0, "malloc");
	ck_site_at_symbol(a, FN_FREE, path, 0, "free");
	ck_site_at_symbol(a, FN_CALLOC, path, 0, "calloc");
	ck_site_at_symbol(a, FN_REALLOC, path, 0, "realloc");
	ck_site_at_symbol(a, FN_POSIX_MEMALIGN, LIBC, 1, "posix_memalign");
	ck_site_at_symbol(a, FN_VALLOC, LIBC, 1, "valloc");
	allocator__free(a);
}
END_TEST

/* The site of a kind, NULL when none; fails when there are several. */
static const struct probe_site *site_of_kind(const struct allocator *a, enum probe_kind kind)
{
	const struct probe_site *found = NULL;

	for (size_t i = 0; i < a->nsites; i++) {
		if (a->sites[i].kind != kind)
			continue;
		ck_assert_msg(!found, "two %s sites", allocator_site_name(&a->sites[i]));
		found = &a->sites[i];
	}
	return found;
}

/*
 * With the preload library in LD_PRELOAD, the functions it defines are probed at its three
 * sites, exactly at their nops, when the tracer asks for sites; as its functions otherwise.
 * What the program defines itself stays the program's, and what the library does not
 * define (dlopen) stays the C library's.
 */
START_TEST(test_preload_sites)
{
	static const struct {
		enum probe_kind kind;
		const char *symbol;
	} kinds[] = {
		{ PROBE_SITE_ALLOC, "memleak_site_alloc" },
		{ PROBE_SITE_FREE, "memleak_site_free" },
		{ PROBE_SITE_REALLOC, "memleak_site_realloc" },
	};
	struct allocator_opts sites = { .want_dl = 1, .use_sites = 1 };
	const char *lib = fixture(PRELOAD_LIB), *interpose = fixture(FIXTURE_INTERPOSE);
	struct allocator *a;
	uint64_t value;

	ck_assert_int_eq(setenv("LD_PRELOAD", lib, 1), 0);
	a = for_program(fixture("tests/fixtures/counted"), &sites);
	for (size_t k = 0; k < sizeof(kinds) / sizeof(kinds[0]); k++) {
		const struct probe_site *s = site_of_kind(a, kinds[k].kind);

		ck_assert_msg(s != NULL, "no site %s", kinds[k].symbol);
		ck_assert(test_same_file(s->path, lib));
		ck_assert_int_eq(nm_value(lib, 1, kinds[k].symbol, &value), 0);
		ck_assert_uint_eq(s->offset, file_offset(lib, value));
		ck_assert_str_eq(allocator_site_name(s), kinds[k].symbol);
	}
	ck_assert_uint_eq(count_sites(a, FN_MALLOC), 0);
	ck_assert_uint_eq(count_sites(a, FN_FREE), 0);
	ck_assert_uint_eq(count_sites(a, FN_NEW), 0);
	ck_site_at_symbol(a, FN_DLOPEN, LIBC, 1, "dlopen");
	allocator__free(a);

	/* Without sites: the library is an allocator like any other. */
	a = for_program(fixture("tests/fixtures/counted"), NULL);
	ck_assert_ptr_null(site_of_kind(a, PROBE_SITE_ALLOC));
	ck_site_at_symbol(a, FN_MALLOC, lib, 1, "malloc");
	ck_site_at_symbol(a, FN_FREE, lib, 1, "free");
	allocator__free(a);

	/* The program's own malloc comes before the preloaded one. */
	a = for_program(interpose, &sites);
	ck_site_at_symbol(a, FN_MALLOC, interpose, 0, "malloc");
	ck_site_at_symbol(a, FN_FREE, interpose, 0, "free");
	ck_assert_uint_eq(count_sites(a, FN_VALLOC), 0);
	ck_assert_ptr_nonnull(site_of_kind(a, PROBE_SITE_ALLOC));
	allocator__free(a);
	unsetenv("LD_PRELOAD");
}
END_TEST

/* A script is run by its interpreter: the interpreter's allocator is the one. */
START_TEST(test_script)
{
	const char *plain = write_script("plain.sh", "#!/bin/sh\necho hi\n");
	const char *spaced = write_script("spaced.sh", "#! \t/bin/sh -e -u\nexit 0\n");
	const char *nested = NULL;
	char text[PATH_MAX + 8], *real;
	struct allocator *a, *sh;

	sh = for_program("/bin/sh", NULL);
	a = for_program(plain, NULL);
	ck_assert_str_eq(a->object_paths[0], "/bin/sh");
	ck_assert_str_eq(a->objects, sh->objects);
	ck_site_at_symbol(a, FN_MALLOC, LIBC, 1, "malloc");
	ck_assert_uint_eq(a->nsites, sh->nsites);
	allocator__free(a);

	a = for_program(spaced, NULL);
	ck_assert_str_eq(a->object_paths[0], "/bin/sh");
	ck_site_at_symbol(a, FN_FREE, LIBC, 1, "free");
	allocator__free(a);

	/* A script run by a script (Linux allows a few levels). */
	snprintf(text, sizeof(text), "#!%s\n", plain);
	nested = write_script("nested.sh", text);
	a = for_program(nested, NULL);
	ck_assert_str_eq(a->object_paths[0], "/bin/sh");
	allocator__free(a);

	/* A script whose interpreter is a static program. */
	real = realpath(fixture(FIXTURE_STATIC), NULL);
	ck_assert_ptr_nonnull(real);
	snprintf(text, sizeof(text), "#!%s\n", real);
	a = for_program(write_script("static.sh", text), NULL);
	ck_assert_uint_eq(a->nobjects, 1);
	ck_assert_str_eq(a->object_paths[0], real);
	allocator__free(a);
	free(real);
	allocator__free(sh);
}
END_TEST

START_TEST(test_program_errors)
{
	const char *no_interp = write_script("no_interp.sh", "#!\n");

	errno = 0;
	ck_assert_ptr_null(allocator__for_program("/nonexistent/program", NULL));
	ck_assert_int_eq(errno, ENOENT);
	/* The kernel would not run these either. */
	errno = 0;
	ck_assert_ptr_null(allocator__for_program(no_interp, NULL));
	ck_assert_int_eq(errno, ENOEXEC);
	errno = 0;
	ck_assert_ptr_null(allocator__for_program(write_script("missing.sh", "#!/nonexistent/sh\n"),
						  NULL));
	ck_assert_int_eq(errno, ENOENT);
}
END_TEST

/*
 * Neither ELF nor "#!": the kernel refuses it, and the program is launched as execvp
 * launches it, read by /bin/sh. Its allocator is the shell's.
 */
START_TEST(test_no_magic_is_read_by_sh)
{
	const char *files[] = { write_script("text", "just words, no program\n"),
				write_script("empty", ""), write_script("bytes", "\x01\x02\x03") };
	struct allocator *sh = for_program("/bin/sh", NULL);

	for (size_t i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
		struct allocator *a = for_program(files[i], NULL);

		ck_assert_str_eq(a->object_paths[0], "/bin/sh");
		ck_assert_str_eq(a->objects, sh->objects);
		ck_assert_uint_eq(a->nsites, sh->nsites);
		allocator__free(a);
	}
	allocator__free(sh);
}
END_TEST

/*
 * BUG (found by this test, since fixed): a script that is its own interpreter (or two that
 * name each other) made allocator__for_program recurse until the stack overflowed: the
 * process died of SIGSEGV. The kernel refuses such a chain with ELOOP after a few levels,
 * and so should this, so that memleak and memleak-run can report it.
 */
START_TEST(test_script_loop)
{
	char text[300];
	const char *self, *a;
	struct allocator *al;

	snprintf(text, sizeof(text), "#!%s/self.sh\n", tmp_dir);
	self = write_script("self.sh", text);
	snprintf(text, sizeof(text), "#!%s/b.sh\n", tmp_dir);
	a = write_script("a.sh", text);
	snprintf(text, sizeof(text), "#!%s/a.sh\n", tmp_dir);
	write_script("b.sh", text);

	errno = 0;
	al = allocator__for_program(self, NULL);
	ck_assert_ptr_null(al);
	ck_assert_int_eq(errno, ELOOP);
	errno = 0;
	al = allocator__for_program(a, NULL);
	ck_assert_ptr_null(al);
	ck_assert_int_eq(errno, ELOOP);
}
END_TEST

/*
 * BUG (found by this test, since fixed): a script whose interpreter path is relative
 * ("#!venv/bin/python") was refused with ENOEXEC, but Linux runs it, resolving the
 * interpreter from the working directory of the exec; memleak-run then failed on a
 * command that would have run.
 */
START_TEST(test_script_relative_interpreter)
{
	const char *rel = write_script("relative.sh", "#!bin/sh\n");
	struct allocator *a;

	ck_assert_int_eq(chdir("/"), 0);
	a = allocator__for_program(rel, NULL);
	ck_assert_msg(a != NULL, "allocator__for_program: %s", strerror(errno));
	ck_assert(test_same_file(a->object_paths[0], "/bin/sh"));
	allocator__free(a);
}
END_TEST

/* One object named explicitly: only what it defines. */
START_TEST(test_object)
{
	const char *lib = fixture(FIXTURE_LIB);
	struct allocator *a;

	/* A library that calls malloc but defines none of the functions. */
	a = allocator__for_object(lib, NULL);
	ck_assert_ptr_nonnull(a);
	ck_objects_string(a);
	ck_assert_uint_eq(a->nobjects, 1);
	ck_assert_str_eq(a->object_paths[0], lib);
	ck_assert_uint_eq(count_sites(a, FN_MALLOC), 0);
	ck_assert_uint_eq(count_sites(a, FN_FREE), 0);
	ck_assert_uint_eq(a->nsites, 0);
	allocator__free(a);

	/* libc itself, by the path given. */
	a = allocator__for_object(LIBC, NULL);
	ck_assert_ptr_nonnull(a);
	ck_sites_sane(a);
	ck_assert_str_eq(a->objects, LIBC);
	ck_site_at_symbol(a, FN_MALLOC, LIBC, 1, "malloc");
	ck_site_at_symbol(a, FN_FREE, LIBC, 1, "free");
	for (size_t i = 0; i < a->nsites; i++)
		ck_assert_str_eq(a->sites[i].path, LIBC);
	allocator__free(a);

	/* A static executable named with -O. */
	a = allocator__for_object(fixture(FIXTURE_STATIC), NULL);
	ck_assert_ptr_nonnull(a);
	ck_site_at_symbol(a, FN_MALLOC, fixture(FIXTURE_STATIC), 0, "malloc");
	allocator__free(a);
}
END_TEST

/*
 * BUG (found by this test, since fixed): allocator__for_object swallowed the reason an
 * object cannot be read: a path that does not exist (or a file that is not ELF) gave an
 * allocator with no sites instead of NULL with errno, so `memleak -O /typo/libc.so.6`
 * said "none of /typo/libc.so.6 defines malloc or free", not "No such file or directory".
 */
START_TEST(test_object_errors)
{
	struct allocator *a;

	errno = 0;
	a = allocator__for_object("/nonexistent/libc.so.6", NULL);
	if (a)
		fprintf(stderr, "test_object_errors: got %zu sites and no error\n", a->nsites);
	ck_assert_ptr_null(a);
	ck_assert_int_eq(errno, ENOENT);
	errno = 0;
	a = allocator__for_object(write_script("notelf", "text\n"), NULL);
	ck_assert_ptr_null(a);
	ck_assert_int_eq(errno, ENOEXEC);
}
END_TEST

/*
 * fn's site is the function this process calls by that name (libc's, or an interposer's
 * such as a sanitizer runtime): the same file, the same place in it.
 */
static void ck_site_is_called(const struct allocator *a, enum memleak_fn fn, const char *name)
{
	const struct probe_site *s = site_of(a, fn);
	void *addr = dlsym(RTLD_DEFAULT, name);
	uint64_t want;
	Dl_info info;

	ck_assert_msg(s != NULL, "no site for %s", name);
	ck_assert_ptr_nonnull(addr);
	ck_assert_int_ne(dladdr(addr, &info), 0);
	ck_assert_ptr_nonnull(info.dli_fname);
	ck_assert_msg(test_same_file(s->path, info.dli_fname), "%s probed in %s, called in %s", name,
		      s->path, info.dli_fname);
	want = file_offset(info.dli_fname, (uintptr_t)addr - (uintptr_t)info.dli_fbase);
	ck_assert_msg(s->entry == want, "%s found at 0x%" PRIx64 ", called at 0x%" PRIx64, name,
		      s->entry, want);
}

/* The first bytes of a site's function, as placement reads them. */
static size_t read_code(const struct probe_site *s, uint8_t *code, size_t len)
{
	int fd = open(s->path, O_RDONLY);
	ssize_t n;

	ck_assert_int_ge(fd, 0);
	n = pread(fd, code, len, (off_t)s->entry);
	close(fd);
	ck_assert_int_gt(n, 0);
	return (size_t)n;
}

/*
 * Each probe sits where placement decides for the real code of this machine's libc (and
 * a static program's own allocator), and at the entry when asked.
 */
START_TEST(test_probe_placement)
{
	const char *programs[] = { "/bin/true", fixture(FIXTURE_STATIC) };
	struct allocator_opts at_entry = { .at_entry = 1 };

	for (size_t p = 0; p < sizeof(programs) / sizeof(programs[0]); p++) {
		struct allocator *a = for_program(programs[p], NULL);
		struct allocator *e = for_program(programs[p], &at_entry);
		const struct probe_site *f = site_of(a, FN_FREE);

		for (size_t i = 0; i < a->nsites; i++) {
			const struct probe_site *s = &a->sites[i];
			uint8_t code[PLACEMENT_WINDOW];
			size_t n = read_code(s, code, sizeof(code));

			ck_assert_uint_eq(s->offset - s->entry,
					  placement_skip(code, n, s->fn == FN_FREE || s->fn == FN_DELETE));
		}
		ck_assert_uint_eq(e->nsites, a->nsites);
		for (size_t i = 0; i < e->nsites; i++)
			ck_assert_uint_eq(e->sites[i].offset, e->sites[i].entry);
		/* glibc's free starts with its null check: the probe must have moved past it. */
		ck_assert_ptr_nonnull(f);
		{
			uint8_t code[4];

			if (read_code(f, code, sizeof(code)) >= 3 && code[0] == 0x48 && code[1] == 0x85 &&
			    code[2] == 0xff)
				ck_assert_msg(f->offset > f->entry, "%s: free still probed at its entry",
					      programs[p]);
		}
		allocator__free(a);
		allocator__free(e);
	}
}
END_TEST

/* This very process, through /proc: the executable first, libc last. */
START_TEST(test_pid_self)
{
	char exe[PATH_MAX], prefix[64], expect[PATH_MAX + 64];
	struct allocator *a = allocator__for_pid(getpid(), NULL);
	const struct probe_site *m;
	ssize_t n;

	ck_assert_msg(a != NULL, "allocator__for_pid: %s", strerror(errno));
	ck_sites_sane(a);
	ck_objects_string(a);
	n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
	ck_assert_int_gt(n, 0);
	exe[n] = '\0';
	snprintf(prefix, sizeof(prefix), "/proc/%d/root/", (int)getpid());
	snprintf(expect, sizeof(expect), "/proc/%d/root%s", (int)getpid(), exe);
	ck_assert_uint_ge(a->nobjects, 2);
	ck_assert_str_eq(a->object_paths[0], expect);
	ck_assert_msg(test_same_file(a->object_paths[a->nobjects - 1], LIBC), "last object %s",
		      a->object_paths[a->nobjects - 1]);
	for (size_t i = 0; i < a->nobjects; i++) {
		ck_assert_msg(!strncmp(a->object_paths[i], prefix, strlen(prefix)),
			      "%s is not opened through the process's root", a->object_paths[i]);
		/* Each object once. */
		for (size_t j = i + 1; j < a->nobjects; j++)
			ck_assert_str_ne(a->object_paths[i], a->object_paths[j]);
	}
	m = site_of(a, FN_MALLOC);
	ck_assert_ptr_nonnull(m);
	ck_assert_msg(!strncmp(m->path, prefix, strlen(prefix)), "malloc in %s", m->path);
	/* The malloc and free this process really calls, wherever they come from. */
	ck_site_is_called(a, FN_MALLOC, "malloc");
	ck_site_is_called(a, FN_FREE, "free");
	ck_assert_uint_eq(count_sites(a, FN_MMAP), 0);
	allocator__free(a);
}
END_TEST

/* Whether a process maps a file whose name contains what, executable. */
static int maps_code_of(pid_t pid, const char *what)
{
	char path[64], line[4400];
	int found = 0;
	FILE *fp;

	snprintf(path, sizeof(path), "/proc/%d/maps", (int)pid);
	fp = fopen(path, "re");
	if (!fp)
		return 0;
	while (!found && fgets(line, sizeof(line), fp))
		found = strstr(line, " r-xp ") && strstr(line, what);
	fclose(fp);
	return found;
}

/* Another process, once its libraries are loaded; and one that does not exist. */
START_TEST(test_pid_other)
{
	const char *path = fixture("tests/fixtures/sleeper");
	struct allocator_opts opts = { .want_mmap = 1 };
	char expect[PATH_MAX + 64], *real;
	struct allocator *a;
	int in[2], status, i;
	pid_t child;

	/* sleeper waits for a byte on stdin: it stays until the pipe closes. */
	ck_assert_int_eq(pipe2(in, O_CLOEXEC), 0);
	child = fork();
	ck_assert_int_ge(child, 0);
	if (child == 0) {
		dup2(in[0], 0);
		execl(path, "sleeper", (char *)NULL);
		_exit(127);
	}
	close(in[0]);
	real = realpath(path, NULL);
	ck_assert_ptr_nonnull(real);
	/* Until it runs sleeper, with its libraries loaded. */
	for (i = 0; i < 500 && !(test_runs(child, real) && maps_code_of(child, "/libc.so")); i++)
		usleep(10000);
	ck_assert_msg(test_runs(child, real) && maps_code_of(child, "/libc.so"),
		      "%s did not start", path);

	a = allocator__for_pid(child, &opts);
	ck_assert_msg(a != NULL, "allocator__for_pid: %s", strerror(errno));
	ck_sites_sane(a);
	snprintf(expect, sizeof(expect), "/proc/%d/root%s", (int)child, real);
	ck_assert_str_eq(a->object_paths[0], expect);
	ck_site_at_symbol(a, FN_MALLOC, LIBC, 1, "malloc");
	ck_site_at_symbol(a, FN_MMAP, LIBC, 1, "mmap");
	ck_assert_uint_eq(count_sites(a, FN_DLOPEN), 0);
	free(real);
	allocator__free(a);

	close(in[1]);
	ck_assert_int_eq(waitpid(child, &status, 0), child);

	/* Gone: nothing to read. */
	errno = 0;
	ck_assert_ptr_null(allocator__for_pid(child, NULL));
	ck_assert_int_eq(errno, ENOENT);
	errno = 0;
	ck_assert_ptr_null(allocator__for_pid(0x7ffffff0, NULL));
	ck_assert_int_eq(errno, ENOENT);
}
END_TEST

static Suite *allocator_suite(void)
{
	Suite *s = suite_create("allocator");
	TCase *tc = tcase_create("allocator");

	tcase_add_unchecked_fixture(tc, make_tmp_dir, remove_tmp_dir);
	tcase_set_timeout(tc, 30);
	tcase_add_test(tc, test_fn_names);
	tcase_add_test(tc, test_dynamic_program);
	tcase_add_test(tc, test_aliases_share_a_probe);
	tcase_add_test(tc, test_optional_functions);
	tcase_add_test(tc, test_cxx_program);
	tcase_add_test(tc, test_static_program);
	tcase_add_test(tc, test_program_interposes);
	tcase_add_test(tc, test_preload_sites);
	tcase_add_test(tc, test_script);
	tcase_add_test(tc, test_program_errors);
	tcase_add_test(tc, test_no_magic_is_read_by_sh);
	tcase_add_test(tc, test_script_loop);
	tcase_add_test(tc, test_script_relative_interpreter);
	tcase_add_test(tc, test_object);
	tcase_add_test(tc, test_object_errors);
	tcase_add_test(tc, test_probe_placement);
	tcase_add_test(tc, test_pid_self);
	tcase_add_test(tc, test_pid_other);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return test_run_suite(allocator_suite());
}
