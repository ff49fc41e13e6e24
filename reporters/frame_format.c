/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
#include "reporters/frame_format.h"

#include <errno.h>
#include <inttypes.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

/*
 * Length of the UTF-8 character at s, 0 when s does not start one; *keep says whether
 * flags let it through. A string ending inside a sequence fails the continuation test on
 * its NUL, so nothing past the end is read.
 */
static size_t char_len(const unsigned char *s, unsigned int flags, int *keep)
{
	uint32_t c, min;
	size_t n;

	if (s[0] < 0x80) {
		*keep = (s[0] >= 0x20 && s[0] != 0x7f) || (flags & FRAME_FORMAT_KEEP_CONTROLS) ||
			((flags & FRAME_FORMAT_KEEP_NEWLINES) && s[0] && strchr("\n\r\t", s[0]));
		return 1;
	}
	if ((s[0] & 0xe0) == 0xc0) {
		n = 2;
		c = s[0] & 0x1f;
		min = 0x80;
	} else if ((s[0] & 0xf0) == 0xe0) {
		n = 3;
		c = s[0] & 0x0f;
		min = 0x800;
	} else if ((s[0] & 0xf8) == 0xf0) {
		n = 4;
		c = s[0] & 0x07;
		min = 0x10000;
	} else {
		return 0;
	}
	for (size_t i = 1; i < n; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		c = (c << 6) | (s[i] & 0x3f);
	}
	/* Overlong forms, surrogates and values past Unicode are not UTF-8. */
	if (c < min || c > 0x10ffff || (c >= 0xd800 && c <= 0xdfff))
		return 0;
	/* XML 1.0 excludes U+FFFE and U+FFFF; C1 controls are as unwelcome as C0 ones. */
	*keep = (flags & FRAME_FORMAT_KEEP_CONTROLS) ||
		!(c == 0xfffe || c == 0xffff || (c >= 0x80 && c < 0xa0));
	return n;
}

void frame_format_put_clean(FILE *out, const char *s, unsigned int flags)
{
	const unsigned char *p = (const unsigned char *)s;
	int keep;

	if (!s)
		return;
	while (*p) {
		size_t n = char_len(p, flags, &keep);

		/* One '?' per byte that is not UTF-8, one per character left out. */
		if (!n) {
			fputc(FRAME_FORMAT_REPLACEMENT, out);
			p++;
		} else if (!keep) {
			fputc(FRAME_FORMAT_REPLACEMENT, out);
			p += n;
		} else {
			fwrite(p, 1, n, out);
			p += n;
		}
	}
}

char *frame_format_clean(const char *s, unsigned int flags)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *out = open_memstream(&buf, &len);

	if (!out)
		return NULL;
	frame_format_put_clean(out, s, flags);
	if (fclose(out)) {
		free(buf);
		errno = ENOMEM;
		return NULL;
	}
	return buf;
}

const char *frame_format_basename(const char *path)
{
	const char *slash;

	if (!path)
		return NULL;
	slash = strrchr(path, '/');
	/* "dir/" has no base name worth showing: keep the whole path. */
	return slash && slash[1] ? slash + 1 : path;
}

static const char *shown_path(const char *path, int full)
{
	/* "[kernel]", "[vdso]": names, not paths. */
	if (full || path[0] == '[')
		return path;
	return frame_format_basename(path);
}

void frame_format_frame(FILE *out, const struct frame *f, unsigned int flags)
{
	unsigned int clean = flags & ~(FRAME_FORMAT_KEEP_NEWLINES | FRAME_FORMAT_KEEP_CONTROLS);

	if (f->function && f->function[0]) {
		frame_format_put_clean(out, f->function, clean);
		if (!f->inlined)
			fprintf(out, "+0x%" PRIx64, f->offset);
	} else {
		fprintf(out, "0x%" PRIx64, f->addr);
	}
	if (f->file && f->file[0]) {
		fputs(" (", out);
		frame_format_put_clean(out, shown_path(f->file, flags & FRAME_FORMAT_FULL_FILES),
				       clean);
		if (f->line > 0)
			fprintf(out, ":%d", f->line);
		fputc(')', out);
	}
	if (f->module && f->module[0]) {
		const char *m = shown_path(f->module, 0);

		/* Modules that are names already carry their brackets. */
		if (m[0] == '[') {
			fputc(' ', out);
			frame_format_put_clean(out, m, clean);
		} else {
			fputs(" [", out);
			frame_format_put_clean(out, m, clean);
			fputc(']', out);
		}
	}
	if (f->inlined)
		fputs(" (inlined)", out);
}

void frame_format_stack(FILE *out, const struct leak_site *site, const char *indent,
			size_t max_frames, unsigned int flags)
{
	size_t shown = site->nframes;

	if (!indent)
		indent = "";
	if (max_frames && max_frames < shown)
		shown = max_frames;
	if (!site->nframes)
		fprintf(out, "%s(no stack was captured)\n", indent);
	for (size_t i = 0; i < shown; i++) {
		fprintf(out, "%s#%zu ", indent, i);
		frame_format_frame(out, &site->frames[i], flags);
		fputc('\n', out);
	}
	if (shown < site->nframes)
		fprintf(out, "%s... %zu more frame%s\n", indent, site->nframes - shown,
			site->nframes - shown == 1 ? "" : "s");
}

char *frame_format_stack_string(const struct leak_site *site, const char *indent,
				size_t max_frames, unsigned int flags)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *out = open_memstream(&buf, &len);

	if (!out)
		return NULL;
	frame_format_stack(out, site, indent, max_frames, flags);
	if (fclose(out)) {
		free(buf);
		errno = ENOMEM;
		return NULL;
	}
	return buf;
}
