/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * Text of frames and stacks as every report shows them,
 *
 *   #0 make_node+0x1d (leaky.c:19) [leaky]
 *
 * and the cleaning of any text taken from the traced program (symbol names, paths, the
 * command line) so that no report carries invalid UTF-8 or control characters: they would
 * make XML invalid, JSON unreadable, terminals misbehave and workflow commands split.
 */
#ifndef FRAME_FORMAT_H
#define FRAME_FORMAT_H

#include <stddef.h>
#include <stdio.h>

#include "runner/records.h"

enum frame_format_flags {
	/* Source files as recorded, instead of their base names (modules stay short). */
	FRAME_FORMAT_FULL_FILES = 1 << 0,
	/* Cleaning keeps line ends and tabs (multi-line text such as a command line). */
	FRAME_FORMAT_KEEP_NEWLINES = 1 << 1,
	/*
	 * Cleaning keeps every control character and only replaces invalid UTF-8: for
	 * formats that escape control characters themselves (JSON).
	 */
	FRAME_FORMAT_KEEP_CONTROLS = 1 << 2,
};

/* The character that stands for what cleaning removes. */
#define FRAME_FORMAT_REPLACEMENT '?'

/*
 * Writes s with each byte that is not part of valid UTF-8, and each control character
 * (C0, DEL, C1) or non-character U+FFFE/U+FFFF that flags do not keep, replaced by '?'.
 * NULL writes nothing.
 */
void frame_format_put_clean(FILE *out, const char *s, unsigned int flags);
/* The same into a new string ("" for NULL). Returns NULL with errno set on failure. */
char *frame_format_clean(const char *s, unsigned int flags);

/* The last component of a path; the path itself when it has no '/'. NULL gives NULL. */
const char *frame_format_basename(const char *path);

/*
 * One frame, without a line end: "function+0xoff (file:line) [module]", or for a function
 * inlined into the next frame "function (file:line) [module] (inlined)". Unknown parts
 * are left out; a frame without a function shows its address instead. Files and modules
 * are base names, files too unless FRAME_FORMAT_FULL_FILES.
 */
void frame_format_frame(FILE *out, const struct frame *f, unsigned int flags);

/*
 * A site's stack, innermost first, one "INDENT#N frame" line each, at most max_frames
 * (0: all) followed by "INDENT... N more frames". A site without frames gives one line
 * saying so.
 */
void frame_format_stack(FILE *out, const struct leak_site *site, const char *indent,
			size_t max_frames, unsigned int flags);
/* The same into a new string. Returns NULL with errno set on failure. */
char *frame_format_stack_string(const struct leak_site *site, const char *indent,
				size_t max_frames, unsigned int flags);

#endif /* FRAME_FORMAT_H */
