// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#include "reporters/annotations.h"

#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

/* Workflow-command escaping: data escapes %, CR, LF; properties also ':' and ','. */
static void put_escaped(FILE *out, const char *s, int property)
{
	for (; s && *s; s++) {
		switch (*s) {
		case '%': fputs("%25", out); break;
		case '\r': fputs("%0D", out); break;
		case '\n': fputs("%0A", out); break;
		case ':': fputs(property ? "%3A" : ":", out); break;
		case ',': fputs(property ? "%2C" : ",", out); break;
		default: fputc(*s, out);
		}
	}
}

static const char *relative(const char *file, const char *workspace)
{
	size_t n = workspace ? strlen(workspace) : 0;

	if (n && !strncmp(file, workspace, n) && file[n] == '/')
		return file + n + 1;
	return file;
}

static int by_bytes(const void *a, const void *b)
{
	const struct site_judgement *x = *(const struct site_judgement *const *)a;
	const struct site_judgement *y = *(const struct site_judgement *const *)b;

	return x->site->bytes < y->site->bytes ? 1 : x->site->bytes > y->site->bytes ? -1 : 0;
}

void annotations__print(FILE *out, const struct judgement *j, const struct annotation_opts *o)
{
	const struct site_judgement **failing = NULL;
	size_t n = 0, cap = 0, shown;

	for (size_t p = 0; p < j->nprocs; p++) {
		for (size_t s = 0; s < j->procs[p].nsites; s++) {
			const struct site_judgement *sj = &j->procs[p].sites[s];

			if (sj->verdict != SITE_LEAK && sj->verdict != SITE_OVER_BUDGET)
				continue;
			if (n == cap) {
				const struct site_judgement **g;

				cap = cap ? cap * 2 : 16;
				g = realloc(failing, cap * sizeof(*g));
				if (!g) {
					free(failing);
					return;
				}
				failing = g;
			}
			failing[n++] = sj;
		}
	}
	if (!j->over_budget && !j->lost_data)
		n = 0;	/* within the run's budget: nothing fails, nothing to flag */
	qsort(failing, n, sizeof(*failing), by_bytes);
	/* With more sites than GitHub shows, the last slot says how many are not shown. */
	shown = n > ANNOTATIONS_MAX ? ANNOTATIONS_MAX - 1 : n;
	for (size_t i = 0; i < shown; i++) {
		const struct site_judgement *sj = failing[i];
		char msg[256];

		fputs("::error ", out);
		if (sj->own_frame && sj->own_frame->file) {
			fputs("file=", out);
			put_escaped(out, relative(sj->own_frame->file, o->workspace), 1);
			if (sj->own_frame->line)
				fprintf(out, ",line=%d", sj->own_frame->line);
			fputc(',', out);
		}
		fputs("title=", out);
		put_escaped(out, "memory leak", 1);
		fputs("::", out);
		snprintf(msg, sizeof(msg), "%" PRIu64 " bytes in %" PRIu64 " allocations not freed: ",
			 sj->site->bytes, sj->site->allocs);
		put_escaped(out, msg, 0);
		put_escaped(out, sj->name, 0);
		fputc('\n', out);
	}
	if (shown < n)
		fprintf(out, "::error title=memory leak::%zu more leak sites: see the job log and the reports\n",
			n - shown);
	free(failing);
}
