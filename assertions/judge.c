// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#include "assertions/judge.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Frames that name a site: enough to tell leaks apart, few enough to read. */
#define NAME_FRAMES 4

static const char *base_of(const char *path)
{
	const char *slash = path ? strrchr(path, '/') : NULL;

	return slash ? slash + 1 : path;
}

const struct frame *site_own_frame(const struct leak_site *site)
{
	const struct frame *first = NULL;

	for (size_t i = 0; i < site->nframes; i++) {
		const struct frame *f = &site->frames[i];

		if (suppressions_is_system_module(f->module))
			continue;
		if (f->file && f->line)
			return f;
		if (!first)
			first = f;
	}
	return first;
}

char *site_name(const struct leak_site *site)
{
	const struct frame *own = site_own_frame(site);
	size_t cap = 64, len = 0, used = 0;
	char *name = malloc(cap);
	int own_seen = 0;

	if (!name)
		return NULL;
	name[0] = '\0';
	for (size_t i = 0; i < site->nframes && used < NAME_FRAMES; i++) {
		const struct frame *f = &site->frames[i];
		const char *part = f->function ? f->function : base_of(f->module);
		size_t plen = f->function ? suppressions_stable_len(f->function) : part ? strlen(part) : 0;
		char *grown;

		/* System frames name a site only until the program's own code is reached. */
		if (!part || (own_seen && suppressions_is_system_module(f->module)))
			continue;
		if (!suppressions_is_system_module(f->module))
			own_seen = 1;
		if (len + plen + 8 > cap) {
			cap = (len + plen + 8) * 2;
			grown = realloc(name, cap);
			if (!grown) {
				free(name);
				return NULL;
			}
			name = grown;
		}
		len += (size_t)sprintf(name + len, "%s%s%.*s%s", used ? " < " : "",
				       f->function ? "" : "[", (int)plen, part, f->function ? "" : "]");
		used++;
	}
	if (!used) {
		free(name);
		return strdup("unknown stack");
	}
	if (own && own->file) {
		char *full = NULL;

		if (asprintf(&full, "%s (%s)", name, base_of(own->file)) < 0) {
			free(name);
			return NULL;
		}
		free(name);
		name = full;
	}
	return name;
}

static int by_bytes(const void *a, const void *b)
{
	const struct site_judgement *x = a, *y = b;

	if (x->site->bytes != y->site->bytes)
		return x->site->bytes < y->site->bytes ? 1 : -1;
	if (x->site->allocs != y->site->allocs)
		return x->site->allocs < y->site->allocs ? 1 : -1;
	return strcmp(x->name, y->name);
}

/*
 * Two sites of one process with the same name (a function calling malloc twice, a loop
 * the compiler unrolled): the later ones get " #2", " #3" in their most-bytes-first order.
 */
static int dedupe_names(struct proc_judgement *pj)
{
	char **base = calloc(pj->nsites ? pj->nsites : 1, sizeof(*base));
	int err = 0;

	if (!base)
		return -ENOMEM;
	for (size_t i = 0; i < pj->nsites; i++)
		base[i] = pj->sites[i].name;
	for (size_t i = 1; i < pj->nsites && !err; i++) {
		int n = 1;

		for (size_t k = 0; k < i; k++)
			if (!strcmp(base[k], base[i]))
				n++;
		if (n > 1) {
			char *renamed = NULL;

			if (asprintf(&renamed, "%s #%d", base[i], n) < 0) {
				err = -ENOMEM;
				break;
			}
			pj->sites[i].name = renamed;
		}
	}
	/* The originals of renamed sites are no longer referenced. */
	for (size_t i = 0; i < pj->nsites; i++)
		if (base[i] != pj->sites[i].name)
			free(base[i]);
	free(base);
	return err;
}

static int judge_proc(struct judgement *j, struct proc_judgement *pj, const struct proc_record *p,
		      struct suppressions *supp)
{
	pj->proc = p;
	pj->sites = calloc(p->nsites ? p->nsites : 1, sizeof(*pj->sites));
	if (!pj->sites)
		return -ENOMEM;
	for (size_t i = 0; i < p->nsites; i++) {
		struct site_judgement *sj = &pj->sites[pj->nsites];

		sj->site = &p->sites[i];
		sj->name = site_name(sj->site);
		if (!sj->name)
			return -ENOMEM;
		sj->own_frame = site_own_frame(sj->site);
		pj->nsites++;
	}
	qsort(pj->sites, pj->nsites, sizeof(*pj->sites), by_bytes);
	if (dedupe_names(pj))
		return -ENOMEM;
	for (size_t i = 0; i < pj->nsites; i++) {
		struct site_judgement *sj = &pj->sites[i];
		struct suppression_rule *rule = supp ? suppressions__match(supp, sj->site) : NULL;

		sj->rule = rule;
		if (!rule) {
			sj->verdict = SITE_LEAK;
			pj->leaked_bytes += sj->site->bytes;
			pj->leaked_allocs += sj->site->allocs;
			continue;
		}
		rule->matched_bytes += sj->site->bytes;
		rule->matched_allocs += sj->site->allocs;
		rule->matched_sites++;
		if (rule->has_budget && (rule->matched_bytes > rule->max_bytes ||
					 rule->matched_allocs > rule->max_allocs)) {
			sj->verdict = SITE_OVER_BUDGET;
			j->over_budget = 1;
		} else {
			sj->verdict = rule->has_budget ? SITE_WITHIN_BUDGET : SITE_SUPPRESSED;
		}
		pj->suppressed_bytes += sj->site->bytes;
		pj->suppressed_allocs += sj->site->allocs;
	}
	j->leaked_bytes += pj->leaked_bytes;
	j->leaked_allocs += pj->leaked_allocs;
	if (lost_counts_total(&p->lost))
		j->lost_data = 1;
	return 0;
}

struct judgement *judge__run(const struct proc_record *procs, size_t nprocs,
			     struct suppressions *supp, const struct judge_opts *opts)
{
	struct judgement *j = calloc(1, sizeof(*j));
	size_t nrules = supp ? suppressions__count(supp) : 0;
	int err = 0;

	if (!j)
		return NULL;
	j->procs = calloc(nprocs ? nprocs : 1, sizeof(*j->procs));
	j->unused = calloc(nrules ? nrules : 1, sizeof(*j->unused));
	j->loose = calloc(nrules ? nrules : 1, sizeof(*j->loose));
	if (!j->procs || !j->unused || !j->loose) {
		err = -ENOMEM;
		goto cleanup;
	}
	for (size_t i = 0; i < nprocs && !err; i++) {
		err = judge_proc(j, &j->procs[i], &procs[i], supp);
		j->nprocs++;
	}
	if (err)
		goto cleanup;
	if (j->leaked_bytes > opts->max_leaked_bytes || j->leaked_allocs > opts->max_leaked_allocs)
		j->over_budget = 1;
	/* The baseline may only shrink: rules that matched nothing, budgets never reached. */
	for (size_t i = 0; i < nrules; i++) {
		const struct suppression_rule *r = suppressions__rule(supp, i);

		if (r->origin == SUPP_BUILTIN)
			continue;
		if (!r->matched_sites)
			j->unused[j->nunused++] = r;
		else if (r->has_budget &&
			 ((r->max_bytes != ~0ULL && r->matched_bytes < r->max_bytes) ||
			  (r->max_allocs != ~0ULL && r->matched_allocs < r->max_allocs)))
			j->loose[j->nloose++] = r;
	}
cleanup:
	if (err) {
		judgement__free(j);
		errno = -err;
		return NULL;
	}
	return j;
}

void judgement__free(struct judgement *j)
{
	if (!j)
		return;
	for (size_t i = 0; i < j->nprocs; i++) {
		for (size_t k = 0; k < j->procs[i].nsites; k++)
			free(j->procs[i].sites[k].name);
		free(j->procs[i].sites);
	}
	free(j->procs);
	free(j->unused);
	free(j->loose);
	free(j);
}

int judgement__failed(const struct judgement *j)
{
	return j->over_budget || j->lost_data;
}
