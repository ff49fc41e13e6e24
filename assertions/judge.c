// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * The verdict on a run: every site of every process matched against the suppressions,
 * budgets charged, run totals compared with the run's budget, and the rules that turned
 * out unused or looser than needed listed, so that a baseline can only shrink.
 */
#include "assertions/judge.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "assertions/frame_names.h"

/* Frames that name a site: enough to tell leaks apart, few enough to read. */
#define NAME_FRAMES 4
/* Longest function name kept whole in a site name (C++ templates run to pages). */
#define NAME_PART_MAX 80

/* --- names ----------------------------------------------------------------------------- */

struct strbuf {
	char *s;
	size_t len, cap;
	int failed;
};

static void sb_add(struct strbuf *b, const char *s, size_t n)
{
	if (b->failed)
		return;
	if (b->len + n + 1 > b->cap) {
		size_t cap = b->cap ? b->cap : 64;
		char *grown;

		while (cap < b->len + n + 1)
			cap *= 2;
		grown = realloc(b->s, cap);
		if (!grown) {
			b->failed = 1;
			return;
		}
		b->s = grown;
		b->cap = cap;
	}
	memcpy(b->s + b->len, s, n);
	b->len += n;
	b->s[b->len] = '\0';
}

static void sb_str(struct strbuf *b, const char *s)
{
	sb_add(b, s, strlen(s));
}

/* The string built, or NULL with errno set when memory ran out. */
static char *sb_finish(struct strbuf *b)
{
	if (b->failed || !b->s) {
		free(b->s);
		if (!b->failed)
			return strdup("");
		errno = ENOMEM;
		return NULL;
	}
	return b->s;
}

/*
 * A frame of the C++ standard library's own code (an allocator, a container growing):
 * true but uninformative in a name, the program's caller says more. Demangled template
 * functions start with their return type, which is skipped first.
 */
static int is_cxx_library(const char *function)
{
	const char *p = function, *open;

	if (!function)
		return 0;
	open = function + strcspn(function, "(<");
	for (const char *q = function; q < open; q++) {
		if (*q == ' ')
			p = q + 1;
	}
	return !strncmp(p, "std::", 5) || !strncmp(p, "__gnu_cxx::", 11) ||
	       !strncmp(p, "__cxxabiv1::", 12);
}

static void add_frame_part(struct strbuf *b, const struct frame *f)
{
	if (f->function) {
		size_t n = frame_names_stem_len(f->function);

		if (n > NAME_PART_MAX) {
			sb_add(b, f->function, NAME_PART_MAX - 3);
			sb_str(b, "...");
		} else {
			sb_add(b, f->function, n);
		}
	} else if (f->module) {
		const char *base = frame_names_basename(f->module);

		sb_str(b, "[");
		sb_add(b, base, frame_names_module_stem_len(base));
		sb_str(b, "]");
	} else {
		sb_str(b, "[unknown]");
	}
}

const struct frame *site_own_frame(const struct leak_site *site)
{
	const struct frame *first = NULL;

	for (size_t i = 0; site && i < site->nframes; i++) {
		const struct frame *f = &site->frames[i];

		if (frame_names_is_system_module(f->module))
			continue;
		if (f->file && f->line > 0)
			return f;
		if (!first)
			first = f;
	}
	return first;
}

/*
 * "make_node < build_list < main (leaky.c)": the innermost frames up to main, functions
 * without clone suffixes, "[libfoo.so]" for a frame without a function, then the source
 * file of the program's own first frame. Never an address, offset or line number, which
 * change with every build or edit.
 */
char *site_name(const struct leak_site *site)
{
	struct strbuf b = { 0 };
	const struct frame *own;
	size_t depth, first = 0, used = 0;

	if (!site) {
		errno = EINVAL;
		return NULL;
	}
	depth = frame_names_depth(site);
	if (!depth)
		depth = site->nframes;
	while (first < depth && is_cxx_library(site->frames[first].function))
		first++;
	if (first == depth)
		first = 0;
	for (size_t i = first; i < depth && used < NAME_FRAMES; i++, used++) {
		if (used)
			sb_str(&b, " < ");
		add_frame_part(&b, &site->frames[i]);
	}
	if (!used)
		sb_str(&b, "[no stack]");
	own = site_own_frame(site);
	if (own && own->file) {
		sb_str(&b, " (");
		sb_str(&b, frame_names_basename(own->file));
		sb_str(&b, ")");
	}
	if (site->kind != LEAK_DEFINITE) {
		sb_str(&b, ", ");
		sb_str(&b, leak_kind_words(site->kind));
	}
	return sb_finish(&b);
}

/* FNV-1a over the stable form of every frame that describes the site. */
static uint32_t site_key_hash(const struct leak_site *site)
{
	uint32_t h = 2166136261u;
	size_t depth = frame_names_depth(site);

	if (!depth)
		depth = site->nframes;
	for (size_t i = 0; i < depth; i++) {
		const struct frame *f = &site->frames[i];
		const char *s = f->function;
		size_t n = frame_names_stem_len(s);

		if (!s) {
			s = f->module ? frame_names_basename(f->module) : "?";
			n = f->module ? frame_names_module_stem_len(s) : 1;
		}
		for (size_t k = 0; k <= n; k++) {
			h ^= k < n ? (unsigned char)s[k] : 0;	/* 0 separates frames */
			h *= 16777619u;
		}
	}
	return h;
}

struct named {
	struct site_judgement *sj;
	uint32_t key;
};

static int cmp_named(const void *a, const void *b)
{
	const struct named *x = a, *y = b;
	int c = strcmp(x->sj->name, y->sj->name);

	if (c)
		return c;
	return x->key < y->key ? -1 : x->key > y->key;
}

/*
 * Two different stacks may share their first frames and so their name. Within a run such
 * names get a hash of all their frames appended, " [1a2b3c4d]": deterministic, and the
 * same on the next run. The same stack in several processes keeps one name.
 */
static int disambiguate(struct judgement *j)
{
	struct named *all;
	size_t n = 0, total = 0;

	for (size_t p = 0; p < j->nprocs; p++)
		total += j->procs[p].nsites;
	if (total < 2)
		return 0;
	all = calloc(total, sizeof(*all));
	if (!all)
		return -ENOMEM;
	for (size_t p = 0; p < j->nprocs; p++) {
		for (size_t k = 0; k < j->procs[p].nsites; k++) {
			struct site_judgement *sj = &j->procs[p].sites[k];

			all[n++] = (struct named){ .sj = sj, .key = site_key_hash(sj->site) };
		}
	}
	qsort(all, n, sizeof(*all), cmp_named);
	for (size_t i = 0; i < n;) {
		size_t end = i + 1;

		while (end < n && !strcmp(all[end].sj->name, all[i].sj->name))
			end++;
		/* Sorted by key within the name: differing keys differ at the ends. */
		if (all[end - 1].key != all[i].key) {
			for (size_t k = i; k < end; k++) {
				struct site_judgement *sj = all[k].sj;
				char *named = NULL;

				if (asprintf(&named, "%s [%08x]", sj->name, all[k].key) < 0) {
					free(all);
					return -ENOMEM;
				}
				free(sj->name);
				sj->name = named;
			}
		}
		i = end;
	}
	free(all);
	return 0;
}

/*
 * Sites of one process whose frames name the same functions all the way (two calls in one
 * function) keep one name above; within the process they are numbered in the order they
 * are judged, " #2", " #3", so that each has a name of its own in reports.
 */
struct ranked {
	const char *name;
	size_t pos;
};

static int cmp_ranked(const void *a, const void *b)
{
	const struct ranked *x = a, *y = b;
	int c = strcmp(x->name, y->name);

	if (c)
		return c;
	return x->pos < y->pos ? -1 : x->pos > y->pos;
}

static int number_repeats(struct proc_judgement *pj)
{
	struct ranked *all;
	int *nth, err = 0;

	if (pj->nsites < 2)
		return 0;
	all = calloc(pj->nsites, sizeof(*all));
	nth = calloc(pj->nsites, sizeof(*nth));
	if (!all || !nth) {
		err = -ENOMEM;
		goto cleanup;
	}
	for (size_t k = 0; k < pj->nsites; k++)
		all[k] = (struct ranked){ .name = pj->sites[k].name, .pos = k };
	qsort(all, pj->nsites, sizeof(*all), cmp_ranked);
	for (size_t k = 1; k < pj->nsites; k++) {
		if (!strcmp(all[k].name, all[k - 1].name))
			nth[all[k].pos] = nth[all[k - 1].pos] + 1;
	}
	for (size_t k = 0; k < pj->nsites && !err; k++) {
		struct site_judgement *sj = &pj->sites[k];
		char *named = NULL;

		if (!nth[k])
			continue;
		if (asprintf(&named, "%s #%d", sj->name, nth[k] + 1) < 0) {
			err = -ENOMEM;
			break;
		}
		free(sj->name);
		sj->name = named;
	}
cleanup:
	free(all);
	free(nth);
	return err;
}

/* --- verdict --------------------------------------------------------------------------- */

static uint64_t add_sat(uint64_t a, uint64_t b)
{
	return a > UINT64_MAX - b ? UINT64_MAX : a + b;
}

/* Most bytes first, a lost block counted with what it holds: a list's head before its nodes. */
static int cmp_sites(const void *a, const void *b)
{
	const struct site_judgement *x = a, *y = b;
	uint64_t xb = add_sat(x->site->bytes, x->site->indirect_bytes);
	uint64_t yb = add_sat(y->site->bytes, y->site->indirect_bytes);
	int c;

	if (xb != yb)
		return xb > yb ? -1 : 1;
	if (x->site->bytes != y->site->bytes)
		return x->site->bytes > y->site->bytes ? -1 : 1;
	if (x->site->allocs != y->site->allocs)
		return x->site->allocs > y->site->allocs ? -1 : 1;
	c = strcmp(x->name, y->name);
	if (c)
		return c;
	/* The records' own order decides the rest. */
	return x->site < y->site ? -1 : x->site > y->site;
}

static void judge_site(struct judgement *j, struct proc_judgement *pj, struct site_judgement *sj,
		       struct suppressions *supp, unsigned int error_kinds)
{
	const struct leak_site *site = sj->site;
	struct suppression_rule *rule;

	if ((unsigned int)site->kind < LEAK__COUNT) {
		pj->kind_bytes[site->kind] = add_sat(pj->kind_bytes[site->kind], site->bytes);
		pj->kind_allocs[site->kind] = add_sat(pj->kind_allocs[site->kind], site->allocs);
	}
	if (!(error_kinds & (1u << site->kind))) {
		sj->verdict = SITE_NOT_AN_ERROR;
		return;
	}
	rule = supp ? suppressions__match(supp, site) : NULL;
	sj->rule = rule;
	if (!rule) {
		sj->verdict = SITE_LEAK;
		pj->leaked_bytes = add_sat(pj->leaked_bytes, site->bytes);
		pj->leaked_allocs = add_sat(pj->leaked_allocs, site->allocs);
		j->leaked_bytes = add_sat(j->leaked_bytes, site->bytes);
		j->leaked_allocs = add_sat(j->leaked_allocs, site->allocs);
		return;
	}
	if (suppressions__charge(supp, rule, site)) {
		/* Beyond its rule's budget: neither suppressed nor counted against the run's. */
		sj->verdict = SITE_OVER_BUDGET;
		j->over_budget = 1;
		return;
	}
	sj->verdict = rule->has_budget ? SITE_WITHIN_BUDGET : SITE_SUPPRESSED;
	pj->suppressed_bytes = add_sat(pj->suppressed_bytes, site->bytes);
	pj->suppressed_allocs = add_sat(pj->suppressed_allocs, site->allocs);
}

/*
 * Rules that matched nothing, and budgets above what was seen. Built-in rules are not
 * listed: they cover what a program may or may not do.
 */
static int list_rules(struct judgement *j, const struct suppressions *supp)
{
	size_t n = suppressions__count(supp);

	if (!n)
		return 0;
	j->unused = calloc(n, sizeof(*j->unused));
	j->loose = calloc(n, sizeof(*j->loose));
	if (!j->unused || !j->loose)
		return -ENOMEM;
	for (size_t i = 0; i < n; i++) {
		const struct suppression_rule *r = suppressions__rule(supp, i);

		if (r->origin == SUPP_BUILTIN)
			continue;
		if (!r->matched_sites)
			j->unused[j->nunused++] = r;
		else if (suppressions__is_loose(supp, r))
			j->loose[j->nloose++] = r;
	}
	return 0;
}

struct judgement *judge__run(const struct proc_record *procs, size_t nprocs,
			     struct suppressions *supp, const struct judge_opts *opts)
{
	struct judgement *j = calloc(1, sizeof(*j));
	int err = 0;

	if (!j)
		return NULL;
	if (nprocs) {
		j->procs = calloc(nprocs, sizeof(*j->procs));
		if (!j->procs) {
			err = -ENOMEM;
			goto cleanup;
		}
	}
	j->nprocs = nprocs;
	for (size_t p = 0; p < nprocs; p++) {
		struct proc_judgement *pj = &j->procs[p];
		const struct proc_record *rec = &procs[p];

		pj->proc = rec;
		if (!rec->nsites)
			continue;
		pj->sites = calloc(rec->nsites, sizeof(*pj->sites));
		if (!pj->sites) {
			err = -ENOMEM;
			goto cleanup;
		}
		pj->nsites = rec->nsites;
		for (size_t k = 0; k < rec->nsites; k++) {
			struct site_judgement *sj = &pj->sites[k];

			sj->site = &rec->sites[k];
			sj->name = site_name(sj->site);
			sj->own_frame = site_own_frame(sj->site);
			if (!sj->name) {
				err = -ENOMEM;
				goto cleanup;
			}
		}
	}
	err = disambiguate(j);
	if (err)
		goto cleanup;
	for (size_t p = 0; p < nprocs; p++) {
		struct proc_judgement *pj = &j->procs[p];

		if (pj->nsites > 1)
			qsort(pj->sites, pj->nsites, sizeof(*pj->sites), cmp_sites);
		err = number_repeats(pj);
		if (err)
			goto cleanup;
		suppressions__begin_process(supp, pj->proc->exe);
		for (size_t k = 0; k < pj->nsites; k++)
			judge_site(j, pj, &pj->sites[k], supp,
				   opts && opts->error_kinds ? opts->error_kinds : LEAK_KINDS_LOST);
		if (lost_counts_total(&pj->proc->lost))
			j->lost_data = 1;
	}
	if (j->leaked_bytes > (opts ? opts->max_leaked_bytes : 0) ||
	    j->leaked_allocs > (opts ? opts->max_leaked_allocs : 0))
		j->over_budget = 1;
	err = list_rules(j, supp);
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
	for (size_t p = 0; j->procs && p < j->nprocs; p++) {
		for (size_t k = 0; k < j->procs[p].nsites; k++)
			free(j->procs[p].sites[k].name);
		free(j->procs[p].sites);
	}
	free(j->procs);
	free(j->unused);
	free(j->loose);
	free(j);
}

int judgement__failed(const struct judgement *j)
{
	return !j || j->over_budget || j->lost_data;
}
