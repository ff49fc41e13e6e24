/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
#include "reporters/summary.h"

#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "reporters/frame_format.h"
#include "reporters/report.h"

#define DEFAULT_TOOL "memleak-run"
/* What a CI log shows when the caller does not say; the JSON report has everything. */
#define DEFAULT_MAX_SITES 20
#define DEFAULT_MAX_RULES 10

struct ctx {
	FILE *out;
	const struct judgement *j;
	const struct summary_opts *o;
	const char *tool;
	int leaks_fail;
};

static size_t limit(int n)
{
	return n > 0 ? (size_t)n : 0;
}

/* A list's cap: 0 is the default, less than 0 none (0 returned). */
static size_t cap(int n, size_t dflt)
{
	return n < 0 ? 0 : n ? (size_t)n : dflt;
}

/* Says how many entries of a list were left out: "  ... and 3 more shown: see ...". */
static void print_more(FILE *out, const char *indent, size_t n, const char *what)
{
	fprintf(out, "%s... and %zu more %s: see the JSON report\n", indent, n, what);
}

static int root_failed(const struct ctx *c, size_t i)
{
	const struct proc_record *p = c->j->procs[i].proc;

	return report_proc_is_root(c->j, i) && p->exited && (p->term_signal || p->exit_code);
}

static void print_how_it_ended(FILE *out, const struct proc_record *p)
{
	const char *name = report_signal_name(p->term_signal);

	if (!p->exited)
		fputs("still running", out);
	else if (p->term_signal && name)
		fprintf(out, "killed by signal %d (%s)", p->term_signal, name);
	else if (p->term_signal)
		fprintf(out, "killed by signal %d", p->term_signal);
	else
		fprintf(out, "exited with status %d", p->exit_code);
}

static void print_site(const struct ctx *c, const struct site_judgement *sj)
{
	FILE *out = c->out;
	const struct suppression_rule *r = sj->rule;

	fputs(sj->verdict == SITE_OVER_BUDGET ? "  over budget: " : "  leak: ", out);
	report_print_amount(out, sj->site->bytes, sj->site->allocs);
	/* Other kinds say theirs in the name. */
	if (sj->site->kind == LEAK_DEFINITE)
		fputs(", definitely lost", out);
	if (sj->site->indirect_allocs) {
		fputs(" (and ", out);
		report_print_amount(out, sj->site->indirect_bytes, sj->site->indirect_allocs);
		fputs(" indirectly lost through it)", out);
	}
	fputs(": ", out);
	frame_format_put_clean(out, sj->name, 0);
	fputc('\n', out);
	if (sj->verdict == SITE_OVER_BUDGET && r) {
		fputs("    rule ", out);
		report_print_rule(out, r);
		fputs(" matched ", out);
		report_print_amount(out, r->matched_bytes, r->matched_allocs);
		fputs(", its budget is ", out);
		report_print_budget(out, r->max_bytes, r->max_allocs);
		fputc('\n', out);
	}
	frame_format_stack(out, sj->site, "      ", limit(c->o->max_frames), 0);
}

static void print_lost(const struct ctx *c, const struct lost_counts *l)
{
	uint64_t total = lost_counts_total(l);

	if (!total)
		return;
	fprintf(c->out, "  LOST DATA: %" PRIu64 " event%s lost, the leaks of this process may be "
			"under-reported:\n", total, total == 1 ? "" : "s");
	for (size_t i = 0; i < report_ncounters; i++) {
		uint64_t v = report_counter_value(l, &report_counters[i]);

		if (v && report_counters[i].lost)
			fprintf(c->out, "      %" PRIu64 " %s\n", v, report_counters[i].what);
	}
}

/* A process worth a block: it failed the gate, lost data, leaked, or is the failed program. */
static int print_process(const struct ctx *c, size_t i)
{
	const struct proc_judgement *pj = &c->j->procs[i];
	const struct proc_record *p = pj->proc;
	uint64_t fbytes = 0, fallocs = 0, sbytes = 0, sallocs = 0;
	size_t failing = 0, accepted = 0, suppressed = 0, shown = 0;
	size_t max_sites = cap(c->o->max_sites, DEFAULT_MAX_SITES), listed;
	FILE *out = c->out;

	for (size_t k = 0; k < pj->nsites; k++) {
		const struct site_judgement *sj = &pj->sites[k];

		if (report_site_fails(sj, c->leaks_fail)) {
			failing++;
			fbytes += sj->site->bytes;
			fallocs += sj->site->allocs;
		} else if (sj->verdict == SITE_LEAK) {
			accepted++;
		} else if (sj->verdict == SITE_NOT_AN_ERROR) {
			continue;
		} else {
			suppressed++;
			sbytes += sj->site->bytes;
			sallocs += sj->site->allocs;
		}
	}
	if (!failing && !accepted && !lost_counts_total(&p->lost) && !root_failed(c, i))
		return 0;

	fprintf(out, "%s: ", c->tool);
	frame_format_put_clean(out, p->comm ? p->comm : frame_format_basename(p->exe), 0);
	fprintf(out, "[%d] ", (int)p->pid);
	print_how_it_ended(out, p);
	if (failing) {
		fprintf(out, ": %zu failing site%s, ", failing, failing == 1 ? "" : "s");
		report_print_amount(out, fbytes, fallocs);
	} else if (accepted) {
		fputs(": ", out);
		report_print_amount(out, pj->leaked_bytes, pj->leaked_allocs);
		fputs(" not freed, within the run's budget", out);
	}
	fputc('\n', out);
	if (p->scanned) {
		fputs("  ", out);
		report_print_kinds(out, pj);
		fputc('\n', out);
	} else if (p->scan_error && pj->nsites) {
		fputs("  memory not read: ", out);
		frame_format_put_clean(out, p->scan_error, 0);
		fputs("; every block counts as definitely lost\n", out);
	}
	for (size_t k = 0; k < pj->nsites; k++) {
		const struct site_judgement *sj = &pj->sites[k];

		if (!report_site_fails(sj, c->leaks_fail))
			continue;
		if (max_sites && shown == max_sites) {
			fprintf(out, "  ... %zu more failing site%s: see the JUnit or JSON "
				"report\n", failing - shown, failing - shown == 1 ? "" : "s");
			break;
		}
		print_site(c, sj);
		shown++;
	}
	/* Leaks the run's budget allows: named, without stacks, so growth is easy to spot. */
	listed = 0;
	for (size_t k = 0; k < pj->nsites; k++) {
		const struct site_judgement *sj = &pj->sites[k];

		if (sj->verdict != SITE_LEAK || report_site_fails(sj, c->leaks_fail))
			continue;
		if (max_sites && listed++ == max_sites) {
			print_more(out, "  ", accepted - max_sites, "sites within the run's budget");
			break;
		}
		fputs("  within the run's budget: ", out);
		report_print_amount(out, sj->site->bytes, sj->site->allocs);
		fputs(": ", out);
		frame_format_put_clean(out, sj->name, 0);
		fputc('\n', out);
	}
	/* Kinds asked for that do not fail: listed with their stacks, for a person to look at. */
	listed = 0;
	for (size_t k = 0; k < pj->nsites; k++) {
		const struct site_judgement *sj = &pj->sites[k];

		if (sj->verdict != SITE_NOT_AN_ERROR || !(c->o->show_kinds & (1u << sj->site->kind)))
			continue;
		if (max_sites && listed++ == max_sites) {
			size_t more = 1;

			while (++k < pj->nsites)
				more += pj->sites[k].verdict == SITE_NOT_AN_ERROR &&
					(c->o->show_kinds & (1u << pj->sites[k].site->kind));
			print_more(out, "  ", more, "sites of the kinds shown");
			break;
		}
		fputs("  shown: ", out);
		report_print_amount(out, sj->site->bytes, sj->site->allocs);
		fputs(": ", out);
		frame_format_put_clean(out, sj->name, 0);
		fputc('\n', out);
		frame_format_stack(out, sj->site, "      ", limit(c->o->max_frames), 0);
	}
	if (suppressed) {
		fputs("  suppressed: ", out);
		report_print_amount(out, sbytes, sallocs);
		fprintf(out, " from %zu site%s\n", suppressed, suppressed == 1 ? "" : "s");
	}
	print_lost(c, &p->lost);
	return 1;
}

static void print_rules(const struct ctx *c, const struct suppression_rule *const *rules, size_t n,
			int loose)
{
	size_t max = cap(c->o->max_rules, DEFAULT_MAX_RULES);

	for (size_t i = 0; i < n; i++) {
		const struct suppression_rule *r = rules[i];

		if (max && i == max) {
			fprintf(c->out, "%s: ", c->tool);
			print_more(c->out, "", n - i, loose ? "budgets larger than needed"
							    : "rules that matched nothing");
			break;
		}
		fprintf(c->out, "%s: %s: ", c->tool,
			loose ? "budget larger than needed" : "suppression matched nothing");
		report_print_rule(c->out, r);
		if (loose) {
			fputs(" allows ", c->out);
			report_print_budget(c->out, r->max_bytes, r->max_allocs);
			fputs(", this run used ", c->out);
			report_print_amount(c->out, r->matched_bytes, r->matched_allocs);
		}
		fputc('\n', c->out);
	}
}

/* "0 bytes, 0 allocations": the run's budget. */
static void print_run_budget(const struct ctx *c)
{
	uint64_t b = c->o->max_leaked_bytes, a = c->o->max_leaked_allocs;

	if (b == UINT64_MAX)
		fputs("any number of bytes", c->out);
	else
		fprintf(c->out, "%" PRIu64 " byte%s", b, b == 1 ? "" : "s");
	if (a == UINT64_MAX)
		fputs(", any number of allocations", c->out);
	else
		fprintf(c->out, ", %" PRIu64 " allocation%s", a, a == 1 ? "" : "s");
}

static void print_verdict(const struct ctx *c)
{
	const struct judgement *j = c->j;
	size_t leaks = 0, over = 0, lost = 0, suppressed = 0;
	const char *sep = "";
	int failed = 0;
	FILE *out = c->out;

	for (size_t i = 0; i < j->nprocs; i++) {
		const struct proc_judgement *pj = &j->procs[i];

		lost += lost_counts_total(&pj->proc->lost) != 0;
		for (size_t k = 0; k < pj->nsites; k++) {
			enum site_verdict v = pj->sites[k].verdict;

			leaks += v == SITE_LEAK;
			over += v == SITE_OVER_BUDGET;
			suppressed += v == SITE_SUPPRESSED || v == SITE_WITHIN_BUDGET;
		}
	}
	fprintf(out, "%s: ", c->tool);
	/*
	 * A program that crashed or failed did not pass, whatever it leaked: "program failed:
	 * killed by signal 11 (SIGSEGV); no leaks", never "OK".
	 */
	for (size_t i = 0; i < j->nprocs && !failed; i++) {
		failed = root_failed(c, i);
		if (failed) {
			fputs("program failed: ", out);
			print_how_it_ended(out, j->procs[i].proc);
			fputs("; ", out);
		}
	}
	if (!report_run_failed(j)) {
		if (!failed)
			fputs("OK: ", out);
		if (leaks) {
			report_print_amount(out, j->leaked_bytes, j->leaked_allocs);
			fputs(" not freed, within the run's budget (", out);
			print_run_budget(c);
			fputc(')', out);
		} else {
			fputs("no leaks", out);
		}
		if (suppressed)
			fprintf(out, " (%zu suppressed site%s)", suppressed,
				suppressed == 1 ? "" : "s");
		fputc('\n', out);
		return;
	}
	fputs("FAIL: ", out);
	if (c->leaks_fail) {
		fprintf(out, "%zu leak site%s, ", leaks, leaks == 1 ? "" : "s");
		report_print_amount(out, j->leaked_bytes, j->leaked_allocs);
		fputs(" (budget ", out);
		print_run_budget(c);
		fputc(')', out);
		sep = "; ";
	}
	if (over) {
		fprintf(out, "%s%zu site%s over the budget of %s suppression", sep, over,
			over == 1 ? "" : "s", over == 1 ? "its" : "their");
		sep = "; ";
	}
	if (j->over_budget && !c->leaks_fail && !over) {
		fprintf(out, "%sover budget: ", sep);
		report_print_amount(out, j->leaked_bytes, j->leaked_allocs);
		sep = "; ";
	}
	if (j->lost_data)
		fprintf(out, "%sevents lost in %zu process%s: the result is incomplete", sep,
			lost, lost == 1 ? "" : "es");
	fputc('\n', out);
}

/* The summary into out, as it is written: in many small pieces. */
static void print_all(FILE *out, const struct judgement *j, const struct summary_opts *o)
{
	static const struct summary_opts defaults;
	struct ctx c = { .out = out, .j = j, .o = o ? o : &defaults };
	uint64_t sbytes = 0, sallocs = 0;
	size_t sites = 0, procs = 0, printed = 0;

	c.tool = c.o->tool ? c.o->tool : DEFAULT_TOOL;
	c.leaks_fail = report_leaks_fail(j, c.o->max_leaked_bytes, c.o->max_leaked_allocs);
	for (size_t i = 0; i < j->nprocs; i++) {
		const struct proc_judgement *pj = &j->procs[i];
		size_t n = 0;

		if (print_process(&c, i)) {
			printed++;
			continue;
		}
		/* Processes without a block of their own: only what they had suppressed. */
		for (size_t k = 0; k < pj->nsites; k++)
			n += pj->sites[k].verdict != SITE_LEAK &&
			     pj->sites[k].verdict != SITE_NOT_AN_ERROR;
		if (!n)
			continue;
		sites += n;
		sbytes += pj->suppressed_bytes;
		sallocs += pj->suppressed_allocs;
		procs++;
	}
	if (procs) {
		fprintf(out, "%s: suppressed in %zu%s process%s: ", c.tool, procs,
			printed ? " other" : "", procs == 1 ? "" : "es");
		report_print_amount(out, sbytes, sallocs);
		fprintf(out, " from %zu site%s\n", sites, sites == 1 ? "" : "s");
	}
	print_rules(&c, j->unused, j->nunused, 0);
	print_rules(&c, j->loose, j->nloose, 1);
	print_verdict(&c);
}

/*
 * Composed in memory and written at once: stderr is unbuffered, and piece by piece the
 * summary took a write(2) for every few bytes.
 */
void summary__print(FILE *out, const struct judgement *j, const struct summary_opts *o)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *mem = open_memstream(&buf, &len);

	if (!mem) {
		print_all(out, j, o);
	} else {
		print_all(mem, j, o);
		if (fclose(mem) == 0)
			fwrite(buf, 1, len, out);
		free(buf);
	}
	fflush(out);
}
