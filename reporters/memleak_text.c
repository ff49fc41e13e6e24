// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#include "reporters/memleak_text.h"

#include <inttypes.h>
#include <stddef.h>
#include <string.h>

#include "reporters/frame_format.h"

static const char *basename_of(const char *path)
{
	const char *slash = strrchr(path, '/');

	return slash ? slash + 1 : path;
}

void memleak_text__frame(FILE *out, const struct frame *f)
{
	if (f->function) {
		frame_format_put_clean(out, f->function, 0);
		if (!f->inlined)
			fprintf(out, "+0x%" PRIx64, f->offset);
	} else {
		fprintf(out, "[unknown] 0x%" PRIx64, f->addr);
	}
	/* Kernel modules come bracketed already: "[kernel]". */
	if (f->module) {
		fputs(f->module[0] == '[' ? " " : " [", out);
		frame_format_put_clean(out, f->module[0] == '[' ? f->module : basename_of(f->module), 0);
		if (f->module[0] != '[')
			fputc(']', out);
	}
	if (f->file && f->line) {
		fputs(" (", out);
		frame_format_put_clean(out, basename_of(f->file), 0);
		fprintf(out, ":%d)", f->line);
	}
	if (f->inlined)
		fputs(" (inlined)", out);
	fputc('\n', out);
}

void memleak_text__report(FILE *out, const struct leak_site *sites, size_t nsites,
			  const struct memleak_text_opts *o, time_t when)
{
	size_t shown = o->top > 0 && (size_t)o->top < nsites ? (size_t)o->top : nsites;
	char stamp[16];
	struct tm tm;

	localtime_r(&when, &tm);
	strftime(stamp, sizeof(stamp), "%H:%M:%S", &tm);
	if (o->sample_rate > 1)
		fprintf(out, "[%s] Sampled: 1 in %u allocations recorded, totals are of those.\n",
			stamp, o->sample_rate);
	fprintf(out, "[%s] Top %d stacks with outstanding allocations:\n", stamp, o->top);
	if (o->note)
		fprintf(out, "[%s] %s\n", stamp, o->note);
	if (o->show_blocks) {
		for (size_t i = 0; i < nsites; i++)
			for (size_t b = 0; b < sites[i].nblocks; b++)
				fprintf(out, "\taddr = %" PRIx64 " size = %" PRIu64 "\n",
					sites[i].blocks[b].addr, sites[i].blocks[b].size);
	}
	/* The largest last, as memleak(8) prints them. */
	for (size_t k = shown; k-- > 0;) {
		const struct leak_site *s = &sites[k];

		fprintf(out, "\t%" PRIu64 " bytes in %" PRIu64 " allocations from stack", s->bytes,
			s->allocs);
		if (o->show_kinds)
			fprintf(out, ", %s", leak_kind_words(s->kind));
		if (o->show_kinds && s->indirect_allocs)
			fprintf(out, " (and %" PRIu64 " bytes in %" PRIu64 " allocations indirectly lost "
				"through them)", s->indirect_bytes, s->indirect_allocs);
		fputc('\n', out);
		if (s->nframes == 0)
			fprintf(out, "\t\t[stack not captured]\n");
		for (size_t i = 0; i < s->nframes; i++) {
			fputs("\t\t", out);
			memleak_text__frame(out, &s->frames[i]);
		}
	}
	fflush(out);
}

void memleak_text__lost(FILE *out, const struct lost_counts *l, time_t when)
{
	static const struct {
		const char *what;
		size_t off;
	} fields[] = {
		{ "block table full", offsetof(struct lost_counts, map_full) },
		{ "stacks not captured", offsetof(struct lost_counts, stack_errors) },
		{ "nested calls too deep", offsetof(struct lost_counts, nest_overflow) },
		{ "returns without entry", offsetof(struct lost_counts, unmatched_returns) },
		{ "ring buffer full", offsetof(struct lost_counts, ringbuf_drops) },
		{ "BPF recursion misses", offsetof(struct lost_counts, recursion_misses) },
		{ "missed frees (corrected)", offsetof(struct lost_counts, missed_frees) },
	};
	char stamp[16];
	struct tm tm;
	int any = 0;

	for (size_t i = 0; i < sizeof(fields) / sizeof(fields[0]); i++) {
		uint64_t v = *(const uint64_t *)((const char *)l + fields[i].off);

		if (!v)
			continue;
		if (!any) {
			localtime_r(&when, &tm);
			strftime(stamp, sizeof(stamp), "%H:%M:%S", &tm);
			fprintf(out, "[%s] Lost events:", stamp);
		}
		fprintf(out, "%s %s %" PRIu64, any ? "," : "", fields[i].what, v);
		any = 1;
	}
	if (any)
		fputc('\n', out);
}
