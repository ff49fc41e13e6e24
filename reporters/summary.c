// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#include "reporters/summary.h"

#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "reporters/memleak_text.h"

char *summary_frame_text(const struct frame *f)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *out = open_memstream(&buf, &len);

	if (!out)
		return NULL;
	memleak_text__frame(out, f);
	fclose(out);
	if (buf && len && buf[len - 1] == '\n')
		buf[len - 1] = '\0';
	return buf;
}

static void print_stack(FILE *out, const struct leak_site *s, int max_frames)
{
	size_t shown = max_frames > 0 && (size_t)max_frames < s->nframes ? (size_t)max_frames : s->nframes;

	for (size_t i = 0; i < shown; i++) {
		fprintf(out, "      #%zu ", i);
		memleak_text__frame(out, &s->frames[i]);
	}
	if (shown < s->nframes)
		fprintf(out, "      ... %zu more frames\n", s->nframes - shown);
	if (!s->nframes)
		fprintf(out, "      (stack not captured)\n");
}

static const char *verdict_word(enum site_verdict v)
{
	switch (v) {
	case SITE_LEAK: return "LEAK";
	case SITE_OVER_BUDGET: return "OVER BUDGET";
	case SITE_WITHIN_BUDGET: return "within budget";
	default: return "suppressed";
	}
}

static void print_lost(FILE *out, const struct proc_record *p)
{
	const struct lost_counts *l = &p->lost;

	if (!lost_counts_total(l))
		return;
	fprintf(out, "  LOST DATA: the tracer could not record everything:");
	if (l->map_full)
		fprintf(out, " %" PRIu64 " blocks (table full: raise --max-blocks)", l->map_full);
	if (l->stack_errors)
		fprintf(out, " %" PRIu64 " stacks (raise --max-stacks)", l->stack_errors);
	if (l->nest_overflow)
		fprintf(out, " %" PRIu64 " nested calls", l->nest_overflow);
	if (l->unmatched_returns)
		fprintf(out, " %" PRIu64 " returns without entry", l->unmatched_returns);
	if (l->ringbuf_drops)
		fprintf(out, " %" PRIu64 " events (ring buffer full)", l->ringbuf_drops);
	if (l->recursion_misses)
		fprintf(out, " %" PRIu64 " probe hits (BPF recursion)", l->recursion_misses);
	fputc('\n', out);
}

void summary__print(FILE *out, const struct judgement *j, const struct summary_opts *o)
{
	size_t failing_sites = 0;

	for (size_t i = 0; i < j->nprocs; i++) {
		const struct proc_judgement *pj = &j->procs[i];
		const struct proc_record *p = pj->proc;
		size_t suppressed = 0;

		for (size_t k = 0; k < pj->nsites; k++)
			if (pj->sites[k].verdict == SITE_LEAK || pj->sites[k].verdict == SITE_OVER_BUDGET)
				failing_sites++;
			else
				suppressed++;
		if (!pj->nsites && !lost_counts_total(&p->lost))
			continue;
		fprintf(out, "memleak-run: %s[%d] ", p->comm ? p->comm : "?", p->pid);
		if (p->term_signal)
			fprintf(out, "killed by signal %d", p->term_signal);
		else
			fprintf(out, "exited with status %d", p->exit_code);
		fprintf(out, ": %" PRIu64 " bytes in %" PRIu64 " allocations not freed\n",
			pj->leaked_bytes, pj->leaked_allocs);
		for (size_t k = 0; k < pj->nsites; k++) {
			const struct site_judgement *sj = &pj->sites[k];

			if (sj->verdict != SITE_LEAK && sj->verdict != SITE_OVER_BUDGET)
				continue;
			fprintf(out, "  %s: %" PRIu64 " bytes in %" PRIu64 " allocations: %s\n",
				verdict_word(sj->verdict), sj->site->bytes, sj->site->allocs, sj->name);
			if (sj->verdict == SITE_OVER_BUDGET)
				fprintf(out, "      rule '%s' (%s:%d) allows %" PRIu64 " bytes in %" PRIu64
					" allocations\n", sj->rule->name, sj->rule->file, sj->rule->line,
					sj->rule->max_bytes, sj->rule->max_allocs);
			print_stack(out, sj->site, o->max_frames);
		}
		if (suppressed)
			fprintf(out, "  suppressed: %" PRIu64 " bytes in %" PRIu64 " allocations from %zu sites\n",
				pj->suppressed_bytes, pj->suppressed_allocs, suppressed);
		print_lost(out, p);
	}
	for (size_t i = 0; i < j->nunused; i++)
		fprintf(out, "memleak-run: suppression matched nothing: %s (%s:%d)\n", j->unused[i]->name,
			j->unused[i]->file, j->unused[i]->line);
	for (size_t i = 0; i < j->nloose; i++)
		fprintf(out, "memleak-run: budget larger than needed: %s (%s:%d) allows %" PRIu64
			" bytes in %" PRIu64 " allocations, used %" PRIu64 " in %" PRIu64 "\n",
			j->loose[i]->name, j->loose[i]->file, j->loose[i]->line, j->loose[i]->max_bytes,
			j->loose[i]->max_allocs, j->loose[i]->matched_bytes, j->loose[i]->matched_allocs);
	if (judgement__failed(j))
		fprintf(out, "memleak-run: FAIL: %zu leak sites, %" PRIu64 " bytes in %" PRIu64
			" allocations (budget %" PRIu64 " bytes, %" PRIu64 " allocations)%s\n",
			failing_sites, j->leaked_bytes, j->leaked_allocs, o->max_leaked_bytes,
			o->max_leaked_allocs, j->lost_data ? "; data was lost" : "");
	else
		fprintf(out, "memleak-run: OK: %" PRIu64 " bytes in %" PRIu64 " allocations not freed "
			"(budget %" PRIu64 " bytes, %" PRIu64 " allocations), %zu processes judged\n",
			j->leaked_bytes, j->leaked_allocs, o->max_leaked_bytes, o->max_leaked_allocs,
			j->nprocs);
	fflush(out);
}
