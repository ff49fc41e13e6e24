/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * The symbolizer against real code: this test's own functions, libc, libstdc++, a
 * dlopen'ed and dlclose'd library, a deleted library, a process that has exited, a static
 * executable, a process in another root, and the kernel.
 */
#include <check.h>
#include <dlfcn.h>
#include <elf.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <link.h>
#include <setjmp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ptrace.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "runner/symbolize.h"
#include "tests/testutil.h"

#define FIXTURE_LIB "tests/fixtures/libsym_dl.so"
#define FIXTURE_STATIC "tests/fixtures/static_leaky"

/* --- code of this test to resolve ----------------------------------------------------------- */

/* The line of sym_target's opening: its first instruction belongs to one of the next lines. */
static const int sym_target_line = __LINE__ + 1;
static __attribute__((noinline)) int sym_target(int x)
{
	return x * 7 + 3;
}

static __attribute__((noinline)) void *where_am_i(void)
{
	return __builtin_return_address(0);
}

/* Returns the address its call to where_am_i returns to, and that call's line. */
static __attribute__((noinline)) void *probe_here(int *line)
{
	void *ret;

	/* One line, so the recorded line is the call's. */
	/* clang-format off */
	*line = __LINE__; ret = where_am_i();
	/* clang-format on */
	/* Something after the call, so it is not turned into a jump. */
	__asm__ volatile("" : : "r"(ret) : "memory");
	return ret;
}

/*
 * A function inlined twice over: inline_host calls inlined_outer, inlined_outer calls
 * inlined_inner, both inlined; inlined_inner calls where_am_i, whose return address is in
 * inline_host's code but on lines of the inlined functions.
 */
static int inline_lines[3];	/* of the call in inlined_inner, inlined_outer, inline_host */

static inline __attribute__((always_inline)) void *inlined_inner(void)
{
	void *ret;

	/* clang-format off */
	inline_lines[0] = __LINE__; ret = where_am_i();
	/* clang-format on */
	__asm__ volatile("" : : "r"(ret) : "memory");
	return ret;
}

static inline __attribute__((always_inline)) void *inlined_outer(void)
{
	void *ret;

	/* clang-format off */
	inline_lines[1] = __LINE__; ret = inlined_inner();
	/* clang-format on */
	__asm__ volatile("" : : "r"(ret) : "memory");
	return ret;
}

static __attribute__((noinline)) void *inline_host(void)
{
	void *ret;

	/* clang-format off */
	inline_lines[2] = __LINE__; ret = inlined_outer();
	/* clang-format on */
	__asm__ volatile("" : : "r"(ret) : "memory");
	return ret;
}

static jmp_buf escape_jb;
static void *volatile escape_ret;

static __attribute__((noinline, noreturn)) void escape(void)
{
	escape_ret = __builtin_return_address(0);
	longjmp(escape_jb, 1);
}

/* Ends with a call that does not return: its return address is past its last byte. */
static __attribute__((noinline)) void ends_in_call(void)
{
	escape();
}

/* --- helpers --------------------------------------------------------------------------------- */

static const char *base_name(const char *path)
{
	const char *slash = path ? strrchr(path, '/') : NULL;

	return slash ? slash + 1 : path;
}

static char *self_exe(void)
{
	static char path[PATH_MAX];
	ssize_t n = readlink("/proc/self/exe", path, sizeof(path) - 1);

	ck_assert_int_gt(n, 0);
	path[n] = '\0';
	return path;
}

static const char *fixture(const char *rel)
{
	const char *path = test_path(rel);

	if (access(path, R_OK))
		ck_abort_msg("missing %s: build the fixtures first (make fixtures)", path);
	return path;
}

/* What the dynamic loader knows of the object that holds an address. */
struct object_info {
	uintptr_t addr;		/* in: an address inside the object */
	int found;
	uintptr_t bias;
	ElfW(Phdr) text;	/* its executable PT_LOAD */
	char build_id[128];	/* hex, "" when none */
};

static void note_build_id(struct object_info *o, const char *p, const char *end, size_t align)
{
	while (p + sizeof(ElfW(Nhdr)) <= end) {
		const ElfW(Nhdr) *nh = (const ElfW(Nhdr) *)p;
		const char *name = p + sizeof(*nh);
		const unsigned char *desc =
			(const unsigned char *)name + ((nh->n_namesz + align - 1) & ~(align - 1));

		if (nh->n_type == NT_GNU_BUILD_ID && nh->n_namesz == 4 && !memcmp(name, "GNU", 4) &&
		    nh->n_descsz * 2 < sizeof(o->build_id)) {
			for (size_t i = 0; i < nh->n_descsz; i++)
				sprintf(o->build_id + 2 * i, "%02x", desc[i]);
			return;
		}
		p = (const char *)desc + ((nh->n_descsz + align - 1) & ~(align - 1));
	}
}

static int find_object(struct dl_phdr_info *info, size_t size, void *data)
{
	struct object_info *o = data;
	int inside = 0;

	for (int i = 0; i < info->dlpi_phnum; i++) {
		const ElfW(Phdr) *ph = &info->dlpi_phdr[i];
		uintptr_t start = info->dlpi_addr + ph->p_vaddr;

		if (ph->p_type == PT_LOAD && o->addr >= start && o->addr < start + ph->p_memsz)
			inside = 1;
	}
	if (!inside)
		return 0;
	o->found = 1;
	o->bias = info->dlpi_addr;
	for (int i = 0; i < info->dlpi_phnum; i++) {
		const ElfW(Phdr) *ph = &info->dlpi_phdr[i];
		const char *p = (const char *)(info->dlpi_addr + ph->p_vaddr);

		if (ph->p_type == PT_LOAD && (ph->p_flags & PF_X))
			o->text = *ph;
		if (ph->p_type == PT_NOTE && !o->build_id[0])
			note_build_id(o, p, p + ph->p_memsz, ph->p_align == 8 ? 8 : 4);
	}
	return 1;
}

static struct object_info object_of(const void *addr)
{
	struct object_info o = { .addr = (uintptr_t)addr };

	dl_iterate_phdr(find_object, &o);
	ck_assert_msg(o.found, "no loaded object holds %p", addr);
	return o;
}

static void copy_file(const char *from, const char *to)
{
	char buf[65536];
	int in = open(from, O_RDONLY | O_CLOEXEC);
	int out = open(to, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0755);
	ssize_t n;

	ck_assert_int_ge(in, 0);
	ck_assert_int_ge(out, 0);
	while ((n = read(in, buf, sizeof(buf))) > 0)
		ck_assert_int_eq(write(out, buf, (size_t)n), n);
	ck_assert_int_eq(n, 0);
	close(in);
	ck_assert_int_eq(close(out), 0);
}

/* Whether a process maps code from a file whose name contains what. */
static int maps_code_of(pid_t pid, const char *what)
{
	char path[64], line[4400];
	int found = 0;
	FILE *fp;

	snprintf(path, sizeof(path), "/proc/%d/maps", (int)pid);
	fp = fopen(path, "re");
	ck_assert_ptr_nonnull(fp);
	while (!found && fgets(line, sizeof(line), fp)) {
		char perms[8] = "";

		/* The symbolizer's own read-only view of the file does not count. */
		if (sscanf(line, "%*x-%*x %7s", perms) == 1 && perms[2] == 'x')
			found = strstr(line, what) != NULL;
	}
	fclose(fp);
	return found;
}

static struct addr_space *self_space(struct symbolizer *s)
{
	struct addr_space *as = addr_space__new(s, getpid());

	ck_assert_ptr_nonnull(as);
	ck_assert_int_eq(addr_space__load_maps(as), 0);
	return as;
}

#define ck_resolves(s_, as_, addr_, is_ret_, fn_, off_)                                        \
	do {                                                                                   \
		uint64_t a_ = (uint64_t)(uintptr_t)(addr_);                                    \
		struct frame f_;                                                               \
		int err_ = symbolizer__resolve_user((s_), (as_), a_, (is_ret_), &f_);          \
		ck_assert_int_eq(err_, 0);                                                     \
		ck_assert_ptr_nonnull(f_.function);                                            \
		ck_assert_str_eq(f_.function, (fn_));                                          \
		ck_assert_uint_eq(f_.offset, (off_));                                          \
		ck_assert_uint_eq(f_.addr, a_);                                                \
	} while (0)

/* --- tests ----------------------------------------------------------------------------------- */

START_TEST(test_demangle)
{
	char *d = symbolize_demangle("_ZN3foo3barEi");

	ck_assert_str_eq(d, "foo::bar(int)");
	free(d);
	d = symbolize_demangle("malloc");
	ck_assert_str_eq(d, "malloc");
	free(d);
	/* Not a valid mangled name: left as it is. */
	d = symbolize_demangle("_Zfoo");
	ck_assert_str_eq(d, "_Zfoo");
	free(d);
	ck_assert_ptr_null(symbolize_demangle(NULL));
}
END_TEST

START_TEST(test_own_function)
{
	struct symbolizer *s = symbolizer__new();
	struct addr_space *as;
	uintptr_t addr = (uintptr_t)sym_target;
	struct frame f;

	ck_assert_ptr_nonnull(s);
	as = self_space(s);
	ck_assert_int_eq(symbolizer__resolve_user(s, as, addr, 0, &f), 0);
	ck_assert_str_eq(f.function, "sym_target");
	ck_assert_uint_eq(f.offset, 0);
	ck_assert_str_eq(f.module, self_exe());
	ck_assert_ptr_nonnull(f.file);
	ck_assert_str_eq(base_name(f.file), "check_symbolize.c");
	ck_assert_msg(f.file[0] == '/', "file %s is not a full path", f.file);
	ck_assert_int_ge(f.line, sym_target_line);
	ck_assert_int_le(f.line, sym_target_line + 2);
	/* Inside the function, the offset counts from its start. */
	ck_resolves(s, as, addr + 1, 0, "sym_target", 1);
	/* The same address again comes from the cache, with the same strings. */
	{
		struct frame g;

		ck_assert_int_eq(symbolizer__resolve_user(s, as, addr, 0, &g), 0);
		ck_assert_ptr_eq(g.function, f.function);
		ck_assert_ptr_eq(g.file, f.file);
		ck_assert_ptr_eq(g.module, f.module);
	}
	ck_assert_int_eq(sym_target(1), 10);
	addr_space__free(as);
	symbolizer__free(s);
}
END_TEST

START_TEST(test_return_address)
{
	struct symbolizer *s = symbolizer__new();
	struct addr_space *as = self_space(s);
	int line = 0;
	void *ret = probe_here(&line);
	struct frame f;

	ck_assert_int_eq(symbolizer__resolve_user(s, as, (uintptr_t)ret, 1, &f), 0);
	ck_assert_str_eq(f.function, "probe_here");
	ck_assert_uint_eq(f.offset, (uintptr_t)ret - (uintptr_t)probe_here);
	ck_assert_str_eq(base_name(f.file), "check_symbolize.c");
	ck_assert_int_eq(f.line, line);
	addr_space__free(as);
	symbolizer__free(s);
}
END_TEST

START_TEST(test_call_ending_a_function)
{
	struct symbolizer *s = symbolizer__new();
	struct addr_space *as = self_space(s);
	uintptr_t ret;
	struct frame f;

	if (!setjmp(escape_jb))
		ends_in_call();
	ret = (uintptr_t)escape_ret;
	ck_assert_uint_gt(ret, (uintptr_t)ends_in_call);
	/* As a return address it is the call, in ends_in_call, whatever follows it. */
	ck_resolves(s, as, ret, 1, "ends_in_call", ret - (uintptr_t)ends_in_call);
	ck_assert_int_eq(symbolizer__resolve_user(s, as, ret, 1, &f), 0);
	ck_assert_str_eq(base_name(f.file), "check_symbolize.c");
	/* As a plain address it is past the function: the call was its last instruction. */
	ck_assert_int_eq(symbolizer__resolve_user(s, as, ret, 0, &f), 0);
	ck_assert_msg(!f.function || strcmp(f.function, "ends_in_call"),
		      "the call is not the last instruction of ends_in_call");
	addr_space__free(as);
	symbolizer__free(s);
}
END_TEST

START_TEST(test_libc)
{
	struct symbolizer *s = symbolizer__new();
	struct addr_space *as = self_space(s);
	void *fn = dlsym(RTLD_DEFAULT, "malloc");
	struct object_info libc;
	char debug[256];
	struct frame f;

	ck_assert_ptr_nonnull(fn);
	libc = object_of(fn);
	ck_assert_int_eq(symbolizer__resolve_user(s, as, (uintptr_t)fn, 0, &f), 0);
	ck_assert_ptr_nonnull(f.module);
	ck_assert_msg(strstr(f.module, "libc.so.6"), "module %s", f.module);
	/* Aliases of one address (malloc, __libc_malloc, __malloc): the plain name wins. */
	ck_assert_str_eq(f.function, "malloc");
	ck_assert_uint_eq(f.offset, 0);
	ck_resolves(s, as, (uintptr_t)fn + 4, 0, "malloc", 4);
	ck_resolves(s, as, (uintptr_t)fn + 5, 1, "malloc", 5);
	/* With libc's separate debug file installed, its lines too. */
	snprintf(debug, sizeof(debug), "/usr/lib/debug/.build-id/%.2s/%s.debug", libc.build_id,
		 libc.build_id + 2);
	if (libc.build_id[0] && !access(debug, R_OK)) {
		ck_assert_ptr_nonnull(f.file);
		ck_assert_str_eq(base_name(f.file), "malloc.c");
		ck_assert_int_gt(f.line, 0);
	} else {
		fprintf(stderr, "test_libc: no debug file for libc, its lines not checked\n");
	}
	addr_space__free(as);
	symbolizer__free(s);
}
END_TEST

START_TEST(test_cxx_demangled)
{
	struct symbolizer *s = symbolizer__new();
	struct addr_space *as = self_space(s);
	/* operator new(unsigned long), from libstdc++ (linked for the demangler). */
	void *fn = dlsym(RTLD_DEFAULT, "_Znwm");
	struct frame f;

	ck_assert_ptr_nonnull(fn);
	ck_assert_int_eq(symbolizer__resolve_user(s, as, (uintptr_t)fn, 0, &f), 0);
	ck_assert_msg(strstr(f.module, "libstdc++"), "module %s", f.module);
	ck_assert_str_eq(f.function, "operator new(unsigned long)");
	ck_assert_uint_eq(f.offset, 0);
	addr_space__free(as);
	symbolizer__free(s);
}
END_TEST

START_TEST(test_dlclosed_library)
{
	const char *path = fixture(FIXTURE_LIB);
	struct symbolizer *s = symbolizer__new(), *fresh = symbolizer__new();
	struct addr_space *seen, *reported, *by_path;
	struct link_map *lm = NULL;
	char l_name[PATH_MAX];
	uintptr_t fn, ret, l_addr;
	void *(*call)(int *);
	int line = 0;
	void *h;
	struct frame f;

	h = dlopen(path, RTLD_NOW | RTLD_LOCAL);
	ck_assert_msg(h != NULL, "dlopen: %s", dlerror());
	fn = (uintptr_t)dlsym(h, "sym_dl_function");
	*(void **)&call = dlsym(h, "sym_dl_call");
	ck_assert(fn && call);
	ret = (uintptr_t)call(&line);
	ck_assert_int_eq(dlinfo(h, RTLD_DI_LINKMAP, &lm), 0);
	snprintf(l_name, sizeof(l_name), "%s", lm->l_name);
	l_addr = lm->l_addr;

	seen = self_space(s);
	ck_assert_int_eq(dlclose(h), 0);
	ck_assert_msg(!maps_code_of(getpid(), "libsym_dl.so"), "dlclose left the library mapped");

	/* From the maps read while it was loaded. */
	ck_assert_int_eq(symbolizer__resolve_user(s, seen, fn, 0, &f), 0);
	ck_assert_str_eq(f.function, "sym_dl_function");
	ck_assert_uint_eq(f.offset, 0);
	ck_assert_str_eq(base_name(f.module), "libsym_dl.so");
	ck_assert_str_eq(base_name(f.file), "libsym_dl.c");
	ck_assert_int_eq(symbolizer__resolve_user(s, seen, ret, 1, &f), 0);
	ck_assert_str_eq(f.function, "sym_dl_call");
	ck_assert_int_eq(f.line, line);

	/* From the link_map's name and bias only, after the fact. */
	reported = addr_space__new(s, getpid());
	ck_assert_ptr_nonnull(reported);
	ck_assert_int_eq(addr_space__add_module(reported, l_name, l_addr), 0);
	ck_resolves(s, reported, fn, 0, "sym_dl_function", 0);
	ck_resolves(s, reported, ret, 1, "sym_dl_call", ret - (uintptr_t)call);
	ck_assert_int_eq(symbolizer__resolve_user(s, reported, ret, 1, &f), 0);
	ck_assert_str_eq(f.module, l_name);
	ck_assert_int_eq(f.line, line);

	/* And with nothing cached: no process, the file opened by its path. */
	by_path = addr_space__new(fresh, 0);
	ck_assert_ptr_nonnull(by_path);
	ck_assert_int_eq(addr_space__add_module(by_path, l_name, l_addr), 0);
	ck_resolves(fresh, by_path, fn + 2, 0, "sym_dl_function", 2);
	ck_assert_int_eq(addr_space__add_module(by_path, "/nonexistent/libnothing.so", 0), -ENOENT);

	addr_space__free(by_path);
	addr_space__free(reported);
	addr_space__free(seen);
	symbolizer__free(fresh);
	symbolizer__free(s);
}
END_TEST

START_TEST(test_deleted_library)
{
	const char *path = fixture(FIXTURE_LIB);
	char copy[] = "/tmp/libsym_deleted.XXXXXX";
	struct symbolizer *s;
	struct addr_space *as;
	uintptr_t fn;
	struct frame f;
	void *h;
	int fd;

	/* A deleted file is reached only through /proc/PID/map_files, which needs root. */
	if (geteuid() != 0) {
		fprintf(stderr, "test_deleted_library: skipped, needs root (map_files)\n");
		return;
	}
	fd = mkstemp(copy);
	ck_assert_int_ge(fd, 0);
	close(fd);
	copy_file(path, copy);
	h = dlopen(copy, RTLD_NOW | RTLD_LOCAL);
	ck_assert_msg(h != NULL, "dlopen: %s", dlerror());
	fn = (uintptr_t)dlsym(h, "sym_dl_function");
	ck_assert_int_eq(unlink(copy), 0);
	s = symbolizer__new();
	as = self_space(s);
	ck_assert_int_eq(dlclose(h), 0);
	ck_assert_int_eq(symbolizer__resolve_user(s, as, fn + 1, 0, &f), 0);
	ck_assert_str_eq(f.function, "sym_dl_function");
	ck_assert_uint_eq(f.offset, 1);
	ck_assert_str_eq(f.module, copy);
	ck_assert_str_eq(base_name(f.file), "libsym_dl.c");
	addr_space__free(as);
	symbolizer__free(s);
}
END_TEST

START_TEST(test_exited_process)
{
	struct symbolizer *s = symbolizer__new();
	struct addr_space *as;
	void *fn = dlsym(RTLD_DEFAULT, "malloc");
	int status;
	pid_t child;

	child = fork();
	ck_assert_int_ge(child, 0);
	if (child == 0) {
		pause();
		_exit(0);
	}
	/* The child has this process's layout: the same addresses mean the same code. */
	as = addr_space__new(s, child);
	ck_assert_ptr_nonnull(as);
	ck_assert_int_eq(addr_space__load_maps(as), 0);
	ck_assert_int_eq(kill(child, SIGKILL), 0);
	ck_assert_int_eq(waitpid(child, &status, 0), child);
	ck_assert_int_eq(addr_space__load_maps(as), -ENOENT);
	ck_resolves(s, as, (uintptr_t)sym_target + 3, 0, "sym_target", 3);
	ck_resolves(s, as, (uintptr_t)fn, 0, "malloc", 0);
	addr_space__free(as);
	symbolizer__free(s);
}
END_TEST

START_TEST(test_static_executable)
{
	const char *path = fixture(FIXTURE_STATIC);
	struct symbolizer *s = symbolizer__new();
	struct addr_space *as;
	Elf64_Ehdr eh;
	struct frame f;
	int fd, status;
	pid_t child;

	fd = open(path, O_RDONLY | O_CLOEXEC);
	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(read(fd, &eh, sizeof(eh)), sizeof(eh));
	close(fd);
	/* A static executable at fixed addresses (not static-pie). */
	ck_assert_int_eq(eh.e_type, ET_EXEC);

	/* Stopped at its exec, before it runs: its maps are the kernel's loading. */
	child = fork();
	ck_assert_int_ge(child, 0);
	if (child == 0) {
		if (ptrace(PTRACE_TRACEME, 0, NULL, NULL) == 0)
			execl(path, path, (char *)NULL);
		_exit(127);
	}
	ck_assert_int_eq(waitpid(child, &status, 0), child);
	if (!WIFSTOPPED(status)) {
		fprintf(stderr, "test_static_executable: skipped, cannot trace a child here\n");
		symbolizer__free(s);
		return;
	}
	as = addr_space__new(s, child);
	ck_assert_int_eq(addr_space__load_maps(as), 0);
	kill(child, SIGKILL);
	ck_assert_int_eq(waitpid(child, &status, 0), child);

	ck_assert_int_eq(symbolizer__resolve_user(s, as, eh.e_entry, 0, &f), 0);
	ck_assert_str_eq(f.function, "_start");
	ck_assert_uint_eq(f.offset, 0);
	ck_assert_str_eq(base_name(f.module), "static_leaky");
	ck_resolves(s, as, eh.e_entry + 1, 1, "_start", 1);
	addr_space__free(as);

	/* The same file placed by its headers (bias 0), with no process. */
	as = addr_space__new(s, 0);
	ck_assert_int_eq(addr_space__add_module(as, path, 0), 0);
	ck_resolves(s, as, eh.e_entry, 0, "_start", 0);
	addr_space__free(as);
	symbolizer__free(s);
}
END_TEST

struct chroot_report {
	uintptr_t l_addr;
	uintptr_t fn;
	char l_name[256];
};

START_TEST(test_other_root)
{
	const char *path = fixture(FIXTURE_LIB);
	char dir[] = "/tmp/symroot.XXXXXX", lib[PATH_MAX];
	struct chroot_report rep;
	struct symbolizer *s;
	struct addr_space *as;
	int pipefd[2], status;
	struct frame f;
	pid_t child;

	if (geteuid() != 0) {
		fprintf(stderr, "test_other_root: skipped, chroot needs root\n");
		return;
	}
	ck_assert_ptr_nonnull(mkdtemp(dir));
	snprintf(lib, sizeof(lib), "%s/libsym_rooted.so", dir);
	copy_file(path, lib);
	/* The name the process uses does not exist outside its root. */
	ck_assert_int_ne(access("/libsym_rooted.so", F_OK), 0);
	ck_assert_int_eq(pipe(pipefd), 0);
	child = fork();
	ck_assert_int_ge(child, 0);
	if (child == 0) {
		struct link_map *lm = NULL;
		void *h;

		memset(&rep, 0, sizeof(rep));
		if (chroot(dir) || chdir("/"))
			_exit(1);
		h = dlopen("/libsym_rooted.so", RTLD_NOW | RTLD_LOCAL);
		if (h && !dlinfo(h, RTLD_DI_LINKMAP, &lm)) {
			rep.l_addr = lm->l_addr;
			rep.fn = (uintptr_t)dlsym(h, "sym_dl_function");
			snprintf(rep.l_name, sizeof(rep.l_name), "%s", lm->l_name);
		}
		if (write(pipefd[1], &rep, sizeof(rep)) != sizeof(rep))
			_exit(1);
		pause();
		_exit(0);
	}
	close(pipefd[1]);
	ck_assert_int_eq(read(pipefd[0], &rep, sizeof(rep)), sizeof(rep));
	close(pipefd[0]);
	ck_assert_msg(rep.fn != 0, "the child could not load the library in its root");
	ck_assert_str_eq(rep.l_name, "/libsym_rooted.so");

	s = symbolizer__new();
	as = addr_space__new(s, child);
	ck_assert_int_eq(addr_space__add_module(as, rep.l_name, rep.l_addr), 0);
	kill(child, SIGKILL);
	ck_assert_int_eq(waitpid(child, &status, 0), child);
	unlink(lib);
	rmdir(dir);

	ck_assert_int_eq(symbolizer__resolve_user(s, as, rep.fn, 0, &f), 0);
	ck_assert_str_eq(f.function, "sym_dl_function");
	ck_assert_str_eq(f.module, "/libsym_rooted.so");
	ck_assert_str_eq(base_name(f.file), "libsym_dl.c");
	addr_space__free(as);
	symbolizer__free(s);
}
END_TEST

START_TEST(test_shadowing)
{
	const char *path = fixture(FIXTURE_LIB);
	struct symbolizer *s = symbolizer__new();
	struct addr_space *as = addr_space__new(s, 0);
	struct object_info exe = object_of((void *)sym_target), lib;
	const uint64_t base = 0x10000000;
	uintptr_t fn, target;
	struct frame f;
	void *h;

	h = dlopen(path, RTLD_NOW | RTLD_LOCAL);
	ck_assert_msg(h != NULL, "dlopen: %s", dlerror());
	fn = (uintptr_t)dlsym(h, "sym_dl_function");
	lib = object_of((void *)fn);
	ck_assert_uint_gt(exe.text.p_memsz, lib.text.p_memsz);

	/* This executable's code placed at base... */
	ck_assert_int_eq(addr_space__add_module(as, self_exe(), base - exe.text.p_vaddr), 0);
	target = base + ((uintptr_t)sym_target - exe.bias - exe.text.p_vaddr);
	ck_resolves(s, as, target, 0, "sym_target", 0);
	/* ...then the library's over its start: the newer mapping wins where they overlap. */
	ck_assert_int_eq(addr_space__add_module(as, path, base - lib.text.p_vaddr), 0);
	ck_resolves(s, as, base + (fn - lib.bias - lib.text.p_vaddr), 0, "sym_dl_function", 0);
	ck_assert_int_eq(symbolizer__resolve_user(s, as, base, 0, &f), 0);
	ck_assert_str_eq(base_name(f.module), "libsym_dl.so");
	/* Past the library's end, the executable is still there. */
	ck_assert_int_eq(symbolizer__resolve_user(s, as, base + exe.text.p_memsz - 1, 0, &f), 0);
	ck_assert_str_eq(f.module, self_exe());
	if (target >= base + lib.text.p_memsz)
		ck_resolves(s, as, target, 0, "sym_target", 0);
	ck_assert_int_eq(symbolizer__resolve_user(s, as, base + exe.text.p_memsz, 0, &f), -ENOENT);
	dlclose(h);
	addr_space__free(as);
	symbolizer__free(s);
}
END_TEST

START_TEST(test_file_offset)
{
	struct symbolizer *s = symbolizer__new();
	struct addr_space *as = self_space(s);
	struct object_info exe = object_of((void *)sym_target);
	uint64_t off = (uintptr_t)sym_target - exe.bias - exe.text.p_vaddr + exe.text.p_offset;
	struct stat st;
	struct frame f = { .addr = 42 };

	ck_assert_int_eq(stat(self_exe(), &st), 0);
	ck_assert_int_eq(symbolizer__resolve_file_offset(s, st.st_dev, st.st_ino, off + 2, 0, &f),
			 0);
	ck_assert_str_eq(f.function, "sym_target");
	ck_assert_uint_eq(f.offset, 2);
	ck_assert_str_eq(f.module, self_exe());
	ck_assert_uint_eq(f.addr, 42);
	ck_assert_int_eq(symbolizer__resolve_file_offset(s, st.st_dev, st.st_ino + 1, off, 0, &f),
			 -ENOENT);
	ck_assert_ptr_null(f.function);
	/* By path, opened on first use. */
	ck_assert_int_eq(symbolizer__resolve_file(s, self_exe(), off + 1, 1, &f, 1), 1);
	ck_assert_str_eq(f.function, "sym_target");
	ck_assert_uint_eq(f.offset, 1);
	ck_assert_int_eq(f.inlined, 0);
	ck_assert_int_eq(symbolizer__resolve_file(s, "/nonexistent/file", 0, 0, &f, 1), -ENOENT);
	addr_space__free(as);
	symbolizer__free(s);
}
END_TEST

/*
 * Functions inlined at a return address come first, innermost first, each at its line
 * there; the function the code is in comes last, at the line of the outermost call.
 */
START_TEST(test_inlined_frames)
{
	struct symbolizer *s = symbolizer__new();
	uintptr_t ret = (uintptr_t)inline_host();
	struct object_info exe = object_of((void *)ret);
	uint64_t off = ret - exe.bias - exe.text.p_vaddr + exe.text.p_offset;
	struct frame f[8] = { { .addr = ret } };
	int n;

	n = symbolizer__resolve_file(s, self_exe(), off, 1, f, 8);
	ck_assert_int_eq(n, 3);
	ck_assert_str_eq(f[0].function, "inlined_inner");
	ck_assert_int_eq(f[0].inlined, 1);
	ck_assert_int_eq(f[0].line, inline_lines[0]);
	ck_assert_str_eq(f[1].function, "inlined_outer");
	ck_assert_int_eq(f[1].inlined, 1);
	ck_assert_int_eq(f[1].line, inline_lines[1]);
	ck_assert_str_eq(f[2].function, "inline_host");
	ck_assert_int_eq(f[2].inlined, 0);
	ck_assert_int_eq(f[2].line, inline_lines[2]);
	for (int i = 0; i < n; i++) {
		ck_assert_uint_eq(f[i].addr, ret);
		ck_assert_str_eq(base_name(f[i].file), "check_symbolize.c");
	}
	/* Room for one frame: the function the code is in, at the line the code has. */
	ck_assert_int_eq(symbolizer__resolve_file(s, self_exe(), off, 1, f, 1), 1);
	ck_assert_str_eq(f[0].function, "inline_host");
	ck_assert_int_eq(f[0].line, inline_lines[0]);
	symbolizer__free(s);
}
END_TEST

START_TEST(test_unmapped_and_reset)
{
	struct symbolizer *s = symbolizer__new();
	struct addr_space *as = self_space(s);
	int on_stack = 0;
	void *on_heap = malloc(16);
	struct frame f;

	ck_assert_int_eq(symbolizer__resolve_user(s, as, 0x1000, 0, &f), -ENOENT);
	ck_assert_ptr_null(f.module);
	ck_assert_ptr_null(f.function);
	ck_assert_uint_eq(f.addr, 0x1000);
	/* Data is not code. */
	ck_assert_int_eq(symbolizer__resolve_user(s, as, (uintptr_t)&on_stack, 0, &f), -ENOENT);
	ck_assert_int_eq(symbolizer__resolve_user(s, as, (uintptr_t)on_heap, 0, &f), -ENOENT);
	ck_assert_int_eq(symbolizer__resolve_user(s, as, 0, 1, &f), -ENOENT);
	ck_assert_int_eq(symbolizer__resolve_user(s, as, UINT64_MAX, 1, &f), -ENOENT);
	free(on_heap);

	/* After an exec the old mappings are gone; reading the maps again brings them back. */
	addr_space__reset(as);
	ck_assert_int_eq(symbolizer__resolve_user(s, as, (uintptr_t)sym_target, 0, &f), -ENOENT);
	ck_assert_int_eq(addr_space__load_maps(as), 0);
	ck_resolves(s, as, (uintptr_t)sym_target, 0, "sym_target", 0);
	/* Reading them twice changes nothing. */
	ck_assert_int_eq(addr_space__load_maps(as), 0);
	ck_resolves(s, as, (uintptr_t)sym_target, 0, "sym_target", 0);
	addr_space__free(as);

	addr_space__free(NULL);
	symbolizer__free(NULL);
	errno = 0;
	ck_assert_ptr_null(addr_space__new(NULL, 1));
	ck_assert_int_eq(errno, EINVAL);
	as = addr_space__new(s, 0);
	ck_assert_int_eq(addr_space__load_maps(as), -EINVAL);
	ck_assert_int_eq(addr_space__add_module(as, "", 0), -ENOENT);
	ck_assert_int_eq(addr_space__add_module(as, "/proc/self/status", 0), -ENOEXEC);
	addr_space__free(as);
	symbolizer__free(s);
}
END_TEST

START_TEST(test_main_executable_by_link_map)
{
	struct symbolizer *s = symbolizer__new();
	struct addr_space *as = addr_space__new(s, getpid());
	struct object_info exe = object_of((void *)sym_target);

	/* The main program's link_map entry has an empty name. */
	ck_assert_int_eq(addr_space__add_module(as, "", exe.bias), 0);
	ck_resolves(s, as, (uintptr_t)sym_target, 0, "sym_target", 0);
	addr_space__free(as);
	symbolizer__free(s);
}
END_TEST

START_TEST(test_many_frames)
{
	struct symbolizer *s = symbolizer__new();
	struct addr_space *as = self_space(s);
	struct object_info libc = object_of(dlsym(RTLD_DEFAULT, "malloc"));
	uintptr_t start = libc.bias + libc.text.p_vaddr;
	struct timespec t0, t1;
	size_t named = 0, n = 0;
	double secs;

	/* Every 16th byte of libc's code: each resolves, nearly all to a function. */
	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (uintptr_t a = start + 1; a < start + libc.text.p_memsz; a += 16, n++) {
		struct frame f;

		ck_assert_int_eq(symbolizer__resolve_user(s, as, a, 1, &f), 0);
		named += f.function != NULL;
	}
	clock_gettime(CLOCK_MONOTONIC, &t1);
	secs = (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
	ck_assert_uint_gt(named, n * 9 / 10);
	/* Lookups are logarithmic: tens of thousands of frames take well under this. */
	ck_assert_msg(secs < 20.0, "%zu frames took %.1f s", n, secs);
	addr_space__free(as);
	symbolizer__free(s);
}
END_TEST

/* A kernel function whose address no other kallsyms symbol shares, with room after it. */
static int pick_kernel_symbol(uint64_t *addr, char *name, size_t len)
{
	FILE *fp = fopen("/proc/kallsyms", "re");
	char line[512], prev_name[256] = "";
	uint64_t prev = 0;
	int prev_alone = 0, nonzero = 0, found = 0;
	char prev_type = 0;

	if (!fp)
		return -errno;
	while (!found && fgets(line, sizeof(line), fp)) {
		char type, sym[256];
		uint64_t a;

		if (sscanf(line, "%" SCNx64 " %c %255s", &a, &type, sym) != 3)
			continue;
		nonzero |= a != 0;
		if (a == prev) {
			prev_alone = 0;
			continue;
		}
		/* The previous symbol is alone at its address and this one ends it. */
		if (prev_alone && prev_type == 'T' && a > prev + 16 && !strchr(line, '\t') &&
		    prev > 0xffff000000000000ULL) {
			*addr = prev;
			snprintf(name, len, "%s", prev_name);
			found = 1;
		}
		prev = a;
		prev_type = type;
		prev_alone = 1;
		snprintf(prev_name, sizeof(prev_name), "%s", sym);
	}
	fclose(fp);
	if (!nonzero)
		return -EPERM;
	return found ? 0 : -ENOENT;
}

START_TEST(test_kernel)
{
	struct symbolizer *s = symbolizer__new();
	char name[256];
	uint64_t addr = 0;
	struct frame f;
	int err = pick_kernel_symbol(&addr, name, sizeof(name));

	if (err == -EPERM || err == -ENOENT || err == -EACCES) {
		fprintf(stderr, "test_kernel: skipped, /proc/kallsyms shows no addresses here\n");
		ck_assert_int_eq(symbolizer__resolve_kernel(s, 0xffffffff81000000ULL, &f), -ENOENT);
		ck_assert_str_eq(f.module, "[kernel]");
		symbolizer__free(s);
		return;
	}
	ck_assert_int_eq(err, 0);
	ck_assert_int_eq(symbolizer__resolve_kernel(s, addr, &f), 0);
	ck_assert_str_eq(f.function, name);
	ck_assert_uint_eq(f.offset, 0);
	ck_assert_str_eq(f.module, "[kernel]");
	ck_assert_uint_eq(f.addr, addr);
	ck_assert_int_eq(symbolizer__resolve_kernel(s, addr + 9, &f), 0);
	ck_assert_str_eq(f.function, name);
	ck_assert_uint_eq(f.offset, 9);
	/* Below every kernel symbol there is nothing. */
	ck_assert_int_eq(symbolizer__resolve_kernel(s, 0x1000, &f), -ENOENT);
	ck_assert_ptr_null(f.function);
	symbolizer__free(s);
}
END_TEST

static Suite *symbolize_suite(void)
{
	Suite *suite = suite_create("symbolize");
	TCase *tc = tcase_create("symbolize");

	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, test_demangle);
	tcase_add_test(tc, test_own_function);
	tcase_add_test(tc, test_return_address);
	tcase_add_test(tc, test_call_ending_a_function);
	tcase_add_test(tc, test_libc);
	tcase_add_test(tc, test_cxx_demangled);
	tcase_add_test(tc, test_dlclosed_library);
	tcase_add_test(tc, test_deleted_library);
	tcase_add_test(tc, test_exited_process);
	tcase_add_test(tc, test_static_executable);
	tcase_add_test(tc, test_other_root);
	tcase_add_test(tc, test_shadowing);
	tcase_add_test(tc, test_file_offset);
	tcase_add_test(tc, test_inlined_frames);
	tcase_add_test(tc, test_unmapped_and_reset);
	tcase_add_test(tc, test_main_executable_by_link_map);
	tcase_add_test(tc, test_many_frames);
	tcase_add_test(tc, test_kernel);
	suite_add_tcase(suite, tc);
	return suite;
}

int main(void)
{
	return test_run_suite(symbolize_suite());
}
