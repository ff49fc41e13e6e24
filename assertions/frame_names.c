// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#include "assertions/frame_names.h"

#include <ctype.h>
#include <string.h>

#include "assertions/glob.h"

const char *frame_names_basename(const char *path)
{
	const char *slash = path ? strrchr(path, '/') : NULL;

	return slash ? slash + 1 : path;
}

/* Words GCC and clang put after a '.' when they clone or split a function. */
static const char *const clone_words[] = {
	"cold", "part", "isra", "constprop", "localalias", "lto_priv", "llvm", "clone",
	"specialized", NULL,
};

/* 1 when name[0] is the '.' that starts a clone suffix. */
static int clone_suffix_at(const char *name)
{
	if (name[0] != '.')
		return 0;
	for (size_t i = 0; clone_words[i]; i++) {
		size_t n = strlen(clone_words[i]);

		if (!strncmp(name + 1, clone_words[i], n) && (name[1 + n] == '\0' ||
							      name[1 + n] == '.'))
			return 1;
	}
	return 0;
}

size_t frame_names_stem_len(const char *function)
{
	const char *clone;
	size_t len;

	if (!function)
		return 0;
	len = strcspn(function, "@");
	clone = strstr(function, " [clone ");
	if (clone && (size_t)(clone - function) < len)
		len = clone - function;
	for (size_t i = 1; i < len; i++) {
		if (clone_suffix_at(function + i))
			return i;
	}
	return len;
}

size_t frame_names_module_stem_len(const char *basename)
{
	const char *so;
	size_t len;

	if (!basename)
		return 0;
	len = strlen(basename);
	so = strstr(basename, ".so.");
	if (!so)
		return len;
	/* Only a version made of digits and dots is dropped: "libfoo.so.1.2.3". */
	for (const char *p = so + 4; *p; p++) {
		if (!isdigit((unsigned char)*p) && *p != '.')
			return len;
	}
	return so + 3 - basename;
}

/* Directories whose libraries and programs are the system's, not the project's. */
static const char *const system_dirs[] = {
	"/lib/", "/lib32/", "/lib64/", "/libx32/", "/usr/lib/", "/usr/lib32/", "/usr/lib64/",
	"/usr/libx32/", "/usr/libexec/", "/bin/", "/sbin/", "/usr/bin/", "/usr/sbin/", NULL,
};

/* Runtime libraries wherever they are installed, as globs on the file name. */
static const char *const system_libs[] = {
	"ld-linux*", "ld-*.so*", "ld64.so*", "libc.so*", "libc-*.so", "libm.so*", "libm-*.so",
	"libpthread.so*", "libpthread-*.so", "libdl.so*", "libdl-*.so", "librt.so*",
	"libstdc++.so*", "libgcc_s.so*", "libc++.so*", "libc++abi.so*", "libunwind.so*",
	"linux-vdso.so*", NULL,
};

int frame_names_is_system_module(const char *module)
{
	const char *base;

	if (!module || !*module)
		return 1;
	/* "[kernel]", "[vdso]", "[module]": not a file of the program. */
	if (module[0] == '[')
		return 1;
	/* A process in another mount namespace is seen through /proc/PID/root. */
	if (!strncmp(module, "/proc/", 6)) {
		const char *p = module + 6;

		while (isdigit((unsigned char)*p))
			p++;
		if (p > module + 6 && !strncmp(p, "/root/", 6))
			module = p + 5;
	}
	for (size_t i = 0; system_dirs[i]; i++) {
		if (!strncmp(module, system_dirs[i], strlen(system_dirs[i])))
			return 1;
	}
	base = frame_names_basename(module);
	for (size_t i = 0; system_libs[i]; i++) {
		if (glob_match(system_libs[i], base))
			return 1;
	}
	return 0;
}

/* Compares a function's stem (see frame_names_stem_len) with a plain name. */
static int stem_is(const char *function, const char *name)
{
	size_t len = frame_names_stem_len(function);

	return function && strlen(name) == len && !strncmp(function, name, len);
}

int frame_names_is_main(const char *function)
{
	return stem_is(function, "main");
}

static const char *const below_main[] = {
	"__libc_start_main", "__libc_start_main_impl", "__libc_start_main_alias_1",
	"__libc_start_main_alias_2", "__libc_start_call_main", "generic_start_main", "_start",
	"__start", "(below main)", NULL,
};

int frame_names_is_below_main(const char *function)
{
	for (size_t i = 0; below_main[i]; i++) {
		if (stem_is(function, below_main[i]))
			return 1;
	}
	return 0;
}

size_t frame_names_depth(const struct leak_site *site)
{
	size_t n = site->nframes;

	for (size_t i = 0; i < n; i++) {
		if (frame_names_is_main(site->frames[i].function))
			return i + 1;
	}
	while (n > 0 && frame_names_is_below_main(site->frames[n - 1].function))
		n--;
	return n;
}

const char *const frame_names_allocators[] = {
	"malloc", "calloc", "realloc", "reallocarray", "memalign", "posix_memalign",
	"aligned_alloc", "valloc", "pvalloc", "__libc_malloc", "__libc_calloc", "__libc_realloc",
	"__libc_memalign", "__libc_valloc", "__libc_pvalloc", "__builtin_new", "__builtin_vec_new",
	/* operator new and new[]: plain, nothrow, aligned, aligned nothrow; 64 and 32 bits. */
	"_Znwm", "_Znam", "_ZnwmRKSt9nothrow_t", "_ZnamRKSt9nothrow_t", "_ZnwmSt11align_val_t",
	"_ZnamSt11align_val_t", "_ZnwmSt11align_val_tRKSt9nothrow_t",
	"_ZnamSt11align_val_tRKSt9nothrow_t", "_Znwj", "_Znaj", "_ZnwjRKSt9nothrow_t",
	"_ZnajRKSt9nothrow_t", "_ZnwjSt11align_val_t", "_ZnajSt11align_val_t",
	"_ZnwjSt11align_val_tRKSt9nothrow_t", "_ZnajSt11align_val_tRKSt9nothrow_t",
	"operator new(unsigned long)", "operator new[](unsigned long)",
	"operator new(unsigned long, std::nothrow_t const&)",
	"operator new[](unsigned long, std::nothrow_t const&)",
	"operator new(unsigned long, std::align_val_t)",
	"operator new[](unsigned long, std::align_val_t)",
	"operator new(unsigned long, std::align_val_t, std::nothrow_t const&)",
	"operator new[](unsigned long, std::align_val_t, std::nothrow_t const&)",
	"operator new(unsigned int)", "operator new[](unsigned int)",
	"operator new(unsigned int, std::nothrow_t const&)",
	"operator new[](unsigned int, std::nothrow_t const&)",
	"operator new(unsigned int, std::align_val_t)",
	"operator new[](unsigned int, std::align_val_t)",
	"operator new(unsigned int, std::align_val_t, std::nothrow_t const&)",
	"operator new[](unsigned int, std::align_val_t, std::nothrow_t const&)",
	NULL,
};

int frame_names_is_allocator(const char *function)
{
	for (size_t i = 0; function && frame_names_allocators[i]; i++) {
		if (stem_is(function, frame_names_allocators[i]))
			return 1;
	}
	return 0;
}
