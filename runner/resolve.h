/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * Frames to symbols. The tracer identifies each user frame's file by device and inode;
 * this module remembers which path each (device, inode) was seen at, from every source
 * available while processes live (the objects probed, /proc/PID/maps, dlopen events),
 * and asks the symbolizer for function, file and line.
 */
#ifndef RESOLVE_H
#define RESOLVE_H

#include <stdint.h>
#include <sys/types.h>

#include "runner/collect.h"
#include "runner/symbolize.h"

struct resolver;

struct resolver *resolver__new(void);
void resolver__free(struct resolver *r);

/*
 * The device and inode the kernel gives a mapping of the file at `path`, which frames
 * carry: those of the file really mapped. stat() says otherwise on a stacked filesystem
 * (overlayfs, as containers run programs: it gives the overlay's, while the mapping
 * holds the layer's file) and on a btrfs subvolume. Learnt by mapping a page of the file
 * and reading /proc/self/maps. Returns 0 or -errno.
 */
int resolve_file_key(const char *path, uint32_t *dev, uint64_t *ino);
/*
 * Where resolve_file_key learns the key of a mapping of its own at `addr` (0 or -errno):
 * the tracer asks the kernel as the walk does. Without one (NULL), /proc/self/maps.
 */
typedef int (*mapping_key_fn)(void *ctx, uintptr_t addr, uint32_t *dev, uint64_t *ino);
void resolve_set_mapping_key(mapping_key_fn fn, void *ctx);

/* Remembers a file by path (its key learnt now; kept open so it resolves after deletion). */
int resolver__add_file(struct resolver *r, const char *path);
/*
 * Remembers a file named by a process (a dlopen'ed library, an exec'd program): through
 * its root when absolute, its working directory when relative, else as named.
 */
int resolver__add_process_file(struct resolver *r, pid_t pid, const char *path);
/* The path by which this process opens `path` as process `pid` names it. */
int resolve_process_path(pid_t pid, const char *path, char *buf, size_t len);
/* Remembers every file mapped by a process now (through its root, for containers). */
int resolver__add_maps(struct resolver *r, pid_t pid);

/* The frame_resolver callback: ctx is a struct resolver. */
size_t resolver__frame(void *ctx, uint32_t tgid, const struct raw_frame *rf, struct frame *out,
		       size_t max);

/* A frame_resolver bound to r. */
struct frame_resolver resolver__as_frame_resolver(struct resolver *r);

#endif /* RESOLVE_H */
