/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * Addresses to names.
 *
 * A symbolizer caches every module (executable or shared object) it has opened, keyed by
 * the file's device and inode: ELF symbols sorted once, DWARF line tables read on first
 * use, separate debug files (by build-id or .gnu_debuglink) found when the module is
 * opened. Files are opened while the process that maps them lives (through its
 * /proc/PID/map_files or /proc/PID/root), so they resolve later even when the process has
 * exited, the library was dlclose'd, the file was deleted or lives in another mount
 * namespace.
 *
 * An addr_space is the history of one process's executable mappings, so user addresses
 * map to (module, file offset) after the mappings are gone.
 *
 * Kernel addresses resolve through /proc/kallsyms, read once on first use.
 *
 * Nothing here prints; errors are returned as -errno (or NULL with errno set). None of
 * it is thread-safe: one thread uses a symbolizer and its address spaces at a time.
 */
#ifndef SYMBOLIZE_H
#define SYMBOLIZE_H

#include <stdint.h>
#include <sys/types.h>

#include "runner/records.h"

struct symbolizer;
struct addr_space;

struct symbolizer *symbolizer__new(void);
/* Frees every cached module and every string handed out in frames. NULL is fine. */
void symbolizer__free(struct symbolizer *s);

/*
 * Address spaces. An address space belongs to a symbolizer and must be freed before it;
 * the modules it saw stay cached in the symbolizer. pid 0 is an address space of no
 * process, which only addr_space__add_module fills (with paths as the caller sees them).
 */
struct addr_space *addr_space__new(struct symbolizer *s, pid_t pid);
void addr_space__free(struct addr_space *as);

/*
 * Reads /proc/PID/maps now and adds every file-backed executable mapping; newer mappings
 * shadow older ones over the same range. Each file is opened now and cached. Files that
 * cannot be opened still name their mappings (f->module) but resolve no further.
 * Returns 0, or -errno when the maps cannot be read (-ENOENT: the process is gone).
 */
int addr_space__load_maps(struct addr_space *as);

/*
 * Adds a module known by the path the process used (a link_map l_name) and its ELF load
 * bias (l_addr): each executable PT_LOAD segment is placed at bias + p_vaddr. The file is
 * looked up through the process's root (or working directory, for a relative path) while
 * it lives, else as named. An empty path is the process's main executable.
 * Returns 0 or -errno (-ENOENT: no such file, -ENOEXEC: not an ELF file).
 */
int addr_space__add_module(struct addr_space *as, const char *path, uint64_t bias);

/* Forgets every mapping (at exec the old image is gone); cached modules stay. */
void addr_space__reset(struct addr_space *as);

/*
 * Fills *f (all of it) for a user address of that process. With is_return_addr the
 * address is a return address: the symbol and line are those of addr - 1 (the call), so
 * a call ending a function resolves to that function; f->offset is still counted from
 * addr. Strings are owned by the symbolizer and stay valid until symbolizer__free.
 * Unknown parts are NULL/0; f->module is set whenever a known mapping covers the address.
 * Returns 0, or -ENOENT when no mapping covers it.
 */
int symbolizer__resolve_user(struct symbolizer *s, struct addr_space *as, uint64_t addr,
			     int is_return_addr, struct frame *f);

/*
 * The same for a byte at file_offset in a module already cached under (dev, ino), e.g.
 * a frame captured as (device, inode, offset). dev is a user-space dev_t (makedev()), not
 * the kernel's internal encoding. Fills f->function, f->offset, f->file, f->line and
 * f->module (the first path the module was seen by); f->addr is left alone.
 * Returns 0, or -ENOENT when no module is cached under that key.
 */
int symbolizer__resolve_file_offset(struct symbolizer *s, dev_t dev, ino_t ino,
				    uint64_t file_offset, int is_return_addr, struct frame *f);

/*
 * Opens the file at path now and caches it (also by path), so it resolves later even if
 * it is deleted or was reached through a process that has exited. Returns 0 or -errno.
 */
int symbolizer__open_file(struct symbolizer *s, const char *path);

/*
 * Like symbolizer__resolve_file_offset for the file at path, opened and cached on first
 * use, with the functions inlined at that place: out[0..n-2] are those (inlined set,
 * innermost first, each at the line it has there), out[n-1] the function the code is in,
 * at the line of the outermost inlined call. At most max frames; out[0].addr is copied to
 * each. f->module is set to path as cached. Returns n (at least 1), or -ENOENT when the
 * file cannot be opened.
 */
int symbolizer__resolve_file(struct symbolizer *s, const char *path, uint64_t file_offset,
			     int is_return_addr, struct frame *out, size_t max);

/*
 * Fills *f (all of it) for a kernel address: f->function, f->offset, and f->module as
 * "[kernel]" or "[modname]". Returns 0, or -ENOENT when no kernel symbol covers it (for
 * instance when /proc/kallsyms hides addresses from an unprivileged reader).
 */
int symbolizer__resolve_kernel(struct symbolizer *s, uint64_t addr, struct frame *f);

/* "name" demangled when it is a C++ symbol, else a copy; the caller frees it. */
char *symbolize_demangle(const char *name);

#endif /* SYMBOLIZE_H */
