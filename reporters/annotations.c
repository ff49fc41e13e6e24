/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
#include "reporters/annotations.h"

#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "reporters/frame_format.h"
#include "reporters/report.h"

#define DEFAULT_TOOL "memleak-run"
#define DEFAULT_FRAMES 8

void annotations_put_escaped(FILE *out, const char *s, int property)
{
	/* Our own messages carry line feeds; everything else arrives cleaned. */
	char *clean = frame_format_clean(s, FRAME_FORMAT_KEEP_NEWLINES);
	const char *p = clean ? clean : "";

	for (; *p; p++) {
		switch (*p) {
		case '%':
			fputs("%25", out);
			break;
		case '\r':
			fputs("%0D", out);
			break;
		case '\n':
			fputs("%0A", out);
			break;
		case ':':
			fputs(property ? "%3A" : ":", out);
			break;
		case ',':
			fputs(property ? "%2C" : ",", out);
			break;
		default:
			fputc(*p, out);
		}
	}
	free(clean);
}

/* One annotation, its title and message composed beforehand. */
struct note {
	const char *file;	/* NULL: the annotation belongs to the run, not a line */
	int line;
	char *title;
	char *message;
};

/* Paths under the workspace become relative to it: that is how GitHub links files. */
static const char *relative(const char *file, const char *workspace)
{
	size_t n = workspace ? strlen(workspace) : 0;

	while (n > 1 && workspace[n - 1] == '/')
		n--;
	if (n && !strncmp(file, workspace, n) && file[n] == '/' && file[n + 1])
		return file + n + 1;
	return file;
}

static void print_note(FILE *out, const char *kind, const struct note *n, const char *workspace)
{
	const char *sep = " ";

	fprintf(out, "::%s", kind);
	if (n->file && n->file[0]) {
		fputs(" file=", out);
		annotations_put_escaped(out, relative(n->file, workspace), 1);
		if (n->line > 0)
			fprintf(out, ",line=%d", n->line);
		sep = ",";
	}
	if (n->title) {
		fprintf(out, "%stitle=", sep);
		annotations_put_escaped(out, n->title, 1);
	}
	fputs("::", out);
	annotations_put_escaped(out, n->message ? n->message : "", 0);
	fputc('\n', out);
}

/*
 * Prints at most max of the n notes; when there are more, the last slot says how many
 * are left out, so that everything printed is shown.
 */
static void print_notes(FILE *out, const char *kind, const struct note *notes, size_t n,
			size_t max, const char *tool, const char *more_what, const char *workspace)
{
	size_t shown = n > max ? max - 1 : n;
	char *title = NULL, *msg = NULL;

	for (size_t i = 0; i < shown; i++)
		print_note(out, kind, &notes[i], workspace);
	if (shown == n)
		return;
	if (asprintf(&title, "%s: %zu more %s", tool, n - shown, more_what) < 0)
		title = NULL;
	if (asprintf(&msg, "%zu more %s not annotated: see the job log and the JUnit or JSON "
			   "report", n - shown, more_what) < 0)
		msg = NULL;
	if (title && msg)
		print_note(out, kind, &(struct note){ .title = title, .message = msg }, workspace);
	free(title);
	free(msg);
}

struct notes {
	struct note *v;
	size_t n;
	size_t cap;
	int err;
};

/* Takes title and message (freed on failure). */
static void notes_add(struct notes *ns, const char *file, int line, char *title, char *message)
{
	struct note *grown;

	if (ns->err || !title || !message) {
		ns->err = -ENOMEM;
		free(title);
		free(message);
		return;
	}
	/* A message ends without a line feed: GitHub would show an empty last line. */
	for (size_t len = strlen(message); len && message[len - 1] == '\n'; len--)
		message[len - 1] = '\0';
	if (ns->n == ns->cap) {
		ns->cap = ns->cap ? 2 * ns->cap : 16;
		grown = realloc(ns->v, ns->cap * sizeof(*grown));
		if (!grown) {
			ns->err = -ENOMEM;
			free(title);
			free(message);
			return;
		}
		ns->v = grown;
	}
	ns->v[ns->n++] = (struct note){ .file = file, .line = line, .title = title,
					.message = message };
}

static void notes_free(struct notes *ns)
{
	for (size_t i = 0; i < ns->n; i++) {
		free(ns->v[i].title);
		free(ns->v[i].message);
	}
	free(ns->v);
}

/* Text composed with stdio; NULL on failure. */
struct text {
	char *buf;
	size_t len;
	FILE *out;
};

static FILE *text_open(struct text *t)
{
	t->buf = NULL;
	t->len = 0;
	t->out = open_memstream(&t->buf, &t->len);
	return t->out;
}

static char *text_take(struct text *t)
{
	char *buf;

	if (!t->out)
		return NULL;
	if (fclose(t->out)) {
		free(t->buf);
		return NULL;
	}
	buf = t->buf;
	t->buf = NULL;
	return buf;
}

struct failing {
	const struct site_judgement *sj;
	const char *proc;	/* stable process name */
	size_t order;		/* position in the judgement: ties keep it */
};

/* The most bytes first, then the most allocations, then the judgement's order. */
static int by_bytes(const void *a, const void *b)
{
	const struct failing *x = a, *y = b;
	const struct leak_site *s = x->sj->site, *t = y->sj->site;

	if (s->bytes != t->bytes)
		return s->bytes < t->bytes ? 1 : -1;
	if (s->allocs != t->allocs)
		return s->allocs < t->allocs ? 1 : -1;
	return x->order < y->order ? -1 : x->order > y->order;
}

static void add_site_note(struct notes *ns, const char *tool, const struct failing *f,
			  size_t max_frames)
{
	const struct site_judgement *sj = f->sj;
	const struct frame *own = sj->own_frame;
	struct text title, msg;
	FILE *t = text_open(&title), *m = text_open(&msg);

	if (t) {
		fprintf(t, "%s: %s, %s", tool, sj->verdict == SITE_OVER_BUDGET ?
						       "leak over its suppression's budget" :
						       "memory leak",
			leak_kind_words(sj->site->kind));
	}
	if (m) {
		report_print_amount(m, sj->site->bytes, sj->site->allocs);
		fprintf(m, " %s, not freed by %s: ", leak_kind_words(sj->site->kind), f->proc);
		frame_format_put_clean(m, sj->name, 0);
		fputc('\n', m);
		if (sj->verdict == SITE_OVER_BUDGET && sj->rule) {
			fputs("Rule ", m);
			report_print_rule(m, sj->rule);
			fputs(" matched ", m);
			report_print_amount(m, sj->rule->matched_bytes, sj->rule->matched_allocs);
			fputs(", its budget is ", m);
			report_print_budget(m, sj->rule->max_bytes, sj->rule->max_allocs);
			fputc('\n', m);
		}
		frame_format_stack(m, sj->site, "", max_frames, 0);
	}
	notes_add(ns, own ? own->file : NULL, own ? own->line : 0, text_take(&title),
		  text_take(&msg));
}

/* Lost events, all processes in one annotation: they undermine the whole result. */
static void add_lost_note(struct notes *ns, const char *tool, const struct judgement *j,
			  char **names)
{
	struct lost_counts sum = { 0 };
	struct text title, msg;
	FILE *t, *m;
	size_t procs = 0;

	for (size_t i = 0; i < j->nprocs; i++) {
		const struct lost_counts *l = &j->procs[i].proc->lost;

		if (!lost_counts_total(l))
			continue;
		procs++;
		sum.map_full += l->map_full;
		sum.stack_errors += l->stack_errors;
		sum.nest_overflow += l->nest_overflow;
		sum.unmatched_returns += l->unmatched_returns;
		sum.ringbuf_drops += l->ringbuf_drops;
		sum.recursion_misses += l->recursion_misses;
	}
	if (!procs)
		return;
	t = text_open(&title);
	m = text_open(&msg);
	if (t)
		fprintf(t, "%s: events lost", tool);
	if (m) {
		fprintf(m, "%" PRIu64 " event%s lost in", lost_counts_total(&sum),
			lost_counts_total(&sum) == 1 ? "" : "s");
		for (size_t i = 0, k = 0; i < j->nprocs; i++)
			if (lost_counts_total(&j->procs[i].proc->lost))
				fprintf(m, "%s %s", k++ ? "," : "", names[i]);
		fputs(": the leak report is incomplete.\n", m);
		for (size_t i = 0; i < report_ncounters; i++) {
			uint64_t v = report_counter_value(&sum, &report_counters[i]);

			if (v && report_counters[i].lost)
				fprintf(m, "%" PRIu64 " %s\n", v, report_counters[i].what);
		}
	}
	notes_add(ns, NULL, 0, text_take(&title), text_take(&msg));
}

static void add_rule_note(struct notes *ns, const char *tool, const struct suppression_rule *r,
			  int loose)
{
	struct text title, msg;
	FILE *t = text_open(&title), *m = text_open(&msg);

	if (t)
		fprintf(t, "%s: %s", tool,
			loose ? "budget larger than needed" : "suppression matched nothing");
	if (m) {
		fputs("Rule ", m);
		report_print_rule(m, r);
		if (loose) {
			fputs(" allows ", m);
			report_print_budget(m, r->max_bytes, r->max_allocs);
			fputs(", this run used ", m);
			report_print_amount(m, r->matched_bytes, r->matched_allocs);
			fputs(": lower the budget so that growth fails", m);
		} else {
			fputs(" matched no leak in this run: the leak it accepted may be fixed", m);
		}
	}
	/* Builtin rules have no file a workflow could point at. */
	notes_add(ns, r->origin == SUPP_BUILTIN ? NULL : r->file, r->line, text_take(&title),
		  text_take(&msg));
}

void annotations__print(FILE *out, const struct judgement *j, const struct annotation_opts *o)
{
	static const struct annotation_opts defaults;
	const char *tool;
	struct notes errors = { 0 }, warnings = { 0 }, notices = { 0 };
	struct failing *failing = NULL;
	size_t nfailing = 0, nsites = 0, max, max_frames;
	char **names = NULL;
	int leaks_fail;

	if (!o)
		o = &defaults;
	tool = o->tool ? o->tool : DEFAULT_TOOL;
	max = o->max_per_kind > 0 ? (size_t)o->max_per_kind : ANNOTATIONS_MAX;
	max_frames = o->max_frames > 0 ? (size_t)o->max_frames : DEFAULT_FRAMES;
	leaks_fail = report_leaks_fail(j, o->max_leaked_bytes, o->max_leaked_allocs);
	names = report_proc_names(j);
	for (size_t i = 0; i < j->nprocs; i++)
		nsites += j->procs[i].nsites;
	failing = calloc(nsites ? nsites : 1, sizeof(*failing));
	if (!names || !failing) {
		fprintf(stderr, "%s: cannot write annotations: out of memory\n", tool);
		goto cleanup;
	}
	for (size_t i = 0, order = 0; i < j->nprocs; i++) {
		for (size_t k = 0; k < j->procs[i].nsites; k++, order++) {
			const struct site_judgement *sj = &j->procs[i].sites[k];

			if (report_site_fails(sj, leaks_fail))
				failing[nfailing++] = (struct failing){ sj, names[i], order };
		}
	}
	qsort(failing, nfailing, sizeof(*failing), by_bytes);

	add_lost_note(&errors, tool, j, names);
	for (size_t i = 0; i < nfailing; i++)
		add_site_note(&errors, tool, &failing[i], max_frames);
	for (size_t i = 0; i < j->nunused; i++)
		add_rule_note(&warnings, tool, j->unused[i], 0);
	for (size_t i = 0; i < j->nloose; i++)
		add_rule_note(&notices, tool, j->loose[i], 1);
	if (errors.err || warnings.err || notices.err) {
		fprintf(stderr, "%s: cannot write annotations: out of memory\n", tool);
		goto cleanup;
	}
	print_notes(out, "error", errors.v, errors.n, max, tool, "failing leak sites",
		    o->workspace);
	print_notes(out, "warning", warnings.v, warnings.n, max, tool,
		    "suppressions that matched nothing", o->workspace);
	print_notes(out, "notice", notices.v, notices.n, max, tool, "budgets larger than needed",
		    o->workspace);
	fflush(out);
cleanup:
	notes_free(&errors);
	notes_free(&warnings);
	notes_free(&notices);
	free(failing);
	report_free_names(names, j->nprocs);
}
