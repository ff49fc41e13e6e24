// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * libmemleak-preload.so: the allocator's entry points, for memleak-run to preload into the
 * programs it runs. Each one calls the C library's own allocator and then reports the call
 * at a probe site: a function whose first instruction is a five-byte nop. The kernel turns
 * a uprobe on such a nop into a call, about four times cheaper here than the trap a probe
 * on the C library's own code costs, and one site per call replaces an entry probe and a
 * return probe.
 *
 * The sites take their arguments in the registers of a call, so the BPF programs read them
 * as function arguments. This library keeps frame pointers: the stack walk starts in the
 * wrapper's frame, whose return address is the program's call to malloc.
 *
 * Nothing here allocates, locks or keeps state beyond one thread-local depth: the wrappers
 * must be as safe as the C library's functions they stand for, in signal handlers and
 * between fork and exec included.
 */
#include <errno.h>
#include <stddef.h>
#include <stdint.h>
#include <dlfcn.h>
#include <malloc.h>
#include <stdlib.h>

#include "bpf/memleak.h"

#define EXPORT __attribute__((visibility("default")))

/* The C library's allocator, under the names it exports for interposers. */
extern void *__libc_malloc(size_t size);
extern void *__libc_calloc(size_t nmemb, size_t size);
extern void *__libc_realloc(void *ptr, size_t size);
extern void __libc_free(void *ptr);
extern void *__libc_memalign(size_t alignment, size_t size);
extern void *__libc_valloc(size_t size);
extern void *__libc_pvalloc(size_t size);

/*
 * The probe sites. Written in assembly so each is exactly a five-byte nop and a return: no
 * endbr64, no frame, nothing the kernel would have to single-step.
 */
void memleak_site_alloc(void *ptr, size_t size, uint32_t fn);
void memleak_site_free(void *ptr, uint32_t fn);
void memleak_site_realloc(void *old, void *ptr, size_t size, uint32_t fn);

#define SITE(name)                                                                         \
	".globl " #name "\n"                                                               \
	".type " #name ", @function\n"                                                     \
	".p2align 4\n" #name ":\n"                                                         \
	"\t.byte 0x0f, 0x1f, 0x44, 0x00, 0x00\n"                                           \
	"\tret\n"                                                                          \
	".size " #name ", . - " #name "\n"

__asm__(".text\n" SITE(memleak_site_alloc) SITE(memleak_site_free) SITE(memleak_site_realloc));

/*
 * Calls made inside another wrapper on this thread: the C++ runtime's operator new, called
 * for its out-of-memory handling, calls malloc, which must not report the block twice.
 */
static __thread unsigned int nested __attribute__((tls_model("initial-exec")));

static void leave(unsigned int **depth)
{
	(**depth)--;
}

/* Marks the rest of the block as nested; undone on return and when an exception unwinds. */
#define NESTED_SCOPE unsigned int *scope __attribute__((cleanup(leave))) = (nested++, &nested)

static inline void report_alloc(void *ptr, size_t size, uint32_t fn)
{
	if (ptr && !nested)
		memleak_site_alloc(ptr, size, fn);
}

static inline void report_free(void *ptr, uint32_t fn)
{
	/* Before the block goes back: another thread may be handed the address at once. */
	if (ptr && !nested)
		memleak_site_free(ptr, fn);
}

EXPORT void *malloc(size_t size)
{
	void *p = __libc_malloc(size);

	report_alloc(p, size, FN_MALLOC);
	return p;
}

EXPORT void *calloc(size_t nmemb, size_t size)
{
	void *p = __libc_calloc(nmemb, size);

	report_alloc(p, nmemb * size, FN_CALLOC);
	return p;
}

/*
 * realloc(NULL, n) is malloc(n); on success the old block is gone; realloc(p, 0) frees p
 * and returns NULL; a failure leaves the old block as it was. The site sees all three
 * values and sorts it out.
 */
EXPORT void *realloc(void *ptr, size_t size)
{
	void *p = __libc_realloc(ptr, size);

	if (!nested)
		memleak_site_realloc(ptr, p, size, FN_REALLOC);
	return p;
}

EXPORT void *reallocarray(void *ptr, size_t nmemb, size_t size)
{
	size_t total;
	void *p;

	if (__builtin_mul_overflow(nmemb, size, &total)) {
		errno = ENOMEM;
		return NULL;
	}
	p = __libc_realloc(ptr, total);
	if (!nested && (p || total == 0))
		memleak_site_realloc(ptr, p, total, FN_REALLOCARRAY);
	return p;
}

EXPORT void free(void *ptr)
{
	report_free(ptr, FN_FREE);
	__libc_free(ptr);
}

EXPORT void *memalign(size_t alignment, size_t size)
{
	void *p = __libc_memalign(alignment, size);

	report_alloc(p, size, FN_MEMALIGN);
	return p;
}

EXPORT void *aligned_alloc(size_t alignment, size_t size)
{
	void *p;

	if (alignment == 0 || (alignment & (alignment - 1))) {
		errno = EINVAL;
		return NULL;
	}
	p = __libc_memalign(alignment, size);
	report_alloc(p, size, FN_ALIGNED_ALLOC);
	return p;
}

EXPORT int posix_memalign(void **memptr, size_t alignment, size_t size)
{
	void *p;

	if (alignment % sizeof(void *) || (alignment & (alignment - 1)) || alignment == 0)
		return EINVAL;
	p = __libc_memalign(alignment, size);
	if (!p)
		return ENOMEM;
	*memptr = p;
	report_alloc(p, size, FN_POSIX_MEMALIGN);
	return 0;
}

EXPORT void *valloc(size_t size)
{
	void *p = __libc_valloc(size);

	report_alloc(p, size, FN_VALLOC);
	return p;
}

EXPORT void *pvalloc(size_t size)
{
	size_t page = 4096;
	void *p = __libc_pvalloc(size);

	/* pvalloc rounds the size up to whole pages. */
	report_alloc(p, size ? (size + page - 1) & ~(page - 1) : page, FN_PVALLOC);
	return p;
}

/*
 * C++'s operators. The common case is the C library's allocator; only when it fails does
 * the C++ runtime's own operator run, for its new-handler loop and its exceptions.
 */
typedef void *(*new_fn)(size_t);
typedef void *(*new_aligned_fn)(size_t, size_t);

static void *runtime_operator(const char *name)
{
	return dlsym(RTLD_NEXT, name);
}

static void *new_slow(const char *name, size_t size)
{
	new_fn real = (new_fn)runtime_operator(name);
	NESTED_SCOPE;

	(void)scope;
	return real ? real(size) : NULL;
}

static void *new_aligned_slow(const char *name, size_t size, size_t alignment)
{
	new_aligned_fn real = (new_aligned_fn)runtime_operator(name);
	NESTED_SCOPE;

	(void)scope;
	return real ? real(size, alignment) : NULL;
}

static inline void *new_common(size_t size, const char *name)
{
	void *p = __libc_malloc(size ? size : 1);

	if (!p)
		p = new_slow(name, size);
	report_alloc(p, size, FN_NEW);
	return p;
}

static inline void *new_aligned_common(size_t size, size_t alignment, const char *name)
{
	void *p = __libc_memalign(alignment, size ? size : 1);

	if (!p)
		p = new_aligned_slow(name, size, alignment);
	report_alloc(p, size, FN_NEW);
	return p;
}

/* No C header declares the operators under their mangled names. */
#pragma GCC diagnostic ignored "-Wmissing-prototypes"

/*
 * The nothrow variants' tag is an empty type no operator reads: the runtime's is called
 * with the size (and alignment) only.
 */
EXPORT void *_Znwm(size_t size) { return new_common(size, "_Znwm"); }
EXPORT void *_Znam(size_t size) { return new_common(size, "_Znam"); }
EXPORT void *_ZnwmRKSt9nothrow_t(size_t size, const void *tag)
{
	(void)tag;
	return new_common(size, "_ZnwmRKSt9nothrow_t");
}
EXPORT void *_ZnamRKSt9nothrow_t(size_t size, const void *tag)
{
	(void)tag;
	return new_common(size, "_ZnamRKSt9nothrow_t");
}
EXPORT void *_ZnwmSt11align_val_t(size_t size, size_t alignment)
{
	return new_aligned_common(size, alignment, "_ZnwmSt11align_val_t");
}
EXPORT void *_ZnamSt11align_val_t(size_t size, size_t alignment)
{
	return new_aligned_common(size, alignment, "_ZnamSt11align_val_t");
}
EXPORT void *_ZnwmSt11align_val_tRKSt9nothrow_t(size_t size, size_t alignment, const void *tag)
{
	(void)tag;
	return new_aligned_common(size, alignment, "_ZnwmSt11align_val_tRKSt9nothrow_t");
}
EXPORT void *_ZnamSt11align_val_tRKSt9nothrow_t(size_t size, size_t alignment, const void *tag)
{
	(void)tag;
	return new_aligned_common(size, alignment, "_ZnamSt11align_val_tRKSt9nothrow_t");
}

static inline void delete_common(void *ptr)
{
	report_free(ptr, FN_DELETE);
	__libc_free(ptr);
}

EXPORT void _ZdlPv(void *ptr) { delete_common(ptr); }
EXPORT void _ZdaPv(void *ptr) { delete_common(ptr); }
EXPORT void _ZdlPvm(void *ptr, size_t size) { (void)size; delete_common(ptr); }
EXPORT void _ZdaPvm(void *ptr, size_t size) { (void)size; delete_common(ptr); }
EXPORT void _ZdlPvRKSt9nothrow_t(void *ptr, const void *tag) { (void)tag; delete_common(ptr); }
EXPORT void _ZdaPvRKSt9nothrow_t(void *ptr, const void *tag) { (void)tag; delete_common(ptr); }
EXPORT void _ZdlPvSt11align_val_t(void *ptr, size_t al) { (void)al; delete_common(ptr); }
EXPORT void _ZdaPvSt11align_val_t(void *ptr, size_t al) { (void)al; delete_common(ptr); }
EXPORT void _ZdlPvmSt11align_val_t(void *ptr, size_t size, size_t al)
{
	(void)size;
	(void)al;
	delete_common(ptr);
}
EXPORT void _ZdaPvmSt11align_val_t(void *ptr, size_t size, size_t al)
{
	(void)size;
	(void)al;
	delete_common(ptr);
}
