/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
#include "reporters/json.h"

#include <errno.h>
#include <inttypes.h>
#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>

#include "reporters/frame_format.h"
#include "reporters/report.h"

#define DEFAULT_TOOL "memleak-run"

/*
 * The document under construction. json-c answers an allocation failure with NULL, which
 * json_object_object_add would store as a JSON null: every value goes through helpers that
 * turn it into err instead, and do nothing once err is set.
 */
struct builder {
	int err;
	const struct judgement *j;
	const struct json_opts *o;
	int leaks_fail;
};

static json_object *new_obj(struct builder *b)
{
	json_object *v = b->err ? NULL : json_object_new_object();

	if (!v && !b->err)
		b->err = -ENOMEM;
	return v;
}

static json_object *new_arr(struct builder *b)
{
	json_object *v = b->err ? NULL : json_object_new_array();

	if (!v && !b->err)
		b->err = -ENOMEM;
	return v;
}

/* Adds v (owned from here on) under key; v NULL means its creation failed. */
static void put(struct builder *b, json_object *obj, const char *key, json_object *v)
{
	if (!v && !b->err)
		b->err = -ENOMEM;
	if (b->err || !obj) {
		json_object_put(v);
		return;
	}
	if (json_object_object_add(obj, key, v)) {
		json_object_put(v);
		b->err = -ENOMEM;
	}
}

static void put_null(struct builder *b, json_object *obj, const char *key)
{
	if (b->err || !obj)
		return;
	if (json_object_object_add(obj, key, NULL))
		b->err = -ENOMEM;
}

static void add(struct builder *b, json_object *arr, json_object *v)
{
	if (!v && !b->err)
		b->err = -ENOMEM;
	if (b->err || !arr) {
		json_object_put(v);
		return;
	}
	if (json_object_array_add(arr, v)) {
		json_object_put(v);
		b->err = -ENOMEM;
	}
}

/*
 * A string, or null for NULL. Text from the traced program may be any bytes: invalid
 * UTF-8 is replaced so the document stays valid; control characters json-c escapes.
 */
static json_object *str(struct builder *b, const char *s)
{
	json_object *v;
	char *clean;

	if (b->err || !s)
		return NULL;
	clean = frame_format_clean(s, FRAME_FORMAT_KEEP_CONTROLS);
	if (!clean) {
		b->err = -ENOMEM;
		return NULL;
	}
	v = json_object_new_string(clean);
	free(clean);
	if (!v)
		b->err = -ENOMEM;
	return v;
}

static void put_str(struct builder *b, json_object *obj, const char *key, const char *s)
{
	if (s)
		put(b, obj, key, str(b, s));
	else
		put_null(b, obj, key);
}

static void put_u64(struct builder *b, json_object *obj, const char *key, uint64_t v)
{
	put(b, obj, key, b->err ? NULL : json_object_new_uint64(v));
}

static void put_int(struct builder *b, json_object *obj, const char *key, int64_t v)
{
	put(b, obj, key, b->err ? NULL : json_object_new_int64(v));
}

static void put_bool(struct builder *b, json_object *obj, const char *key, int v)
{
	put(b, obj, key, b->err ? NULL : json_object_new_boolean(v != 0));
}

/* Addresses as hex strings: JSON numbers lose precision above 2^53 in many readers. */
static void put_addr(struct builder *b, json_object *obj, const char *key, uint64_t addr)
{
	char buf[24];

	snprintf(buf, sizeof(buf), "0x%" PRIx64, addr);
	put_str(b, obj, key, buf);
}

/* A limit of UINT64_MAX is no limit: null. */
static void put_limit(struct builder *b, json_object *obj, const char *key, uint64_t v)
{
	if (v == UINT64_MAX)
		put_null(b, obj, key);
	else
		put_u64(b, obj, key, v);
}

static const char *origin_name(enum suppression_origin o)
{
	switch (o) {
	case SUPP_NATIVE:
		return "native";
	case SUPP_LSAN:
		return "lsan";
	case SUPP_VALGRIND:
		return "valgrind";
	case SUPP_BUILTIN:
		return "builtin";
	}
	return "unknown";
}

static json_object *rule_json(struct builder *b, const struct suppression_rule *r)
{
	json_object *o = new_obj(b), *budget, *matched;

	put_str(b, o, "name", r->name);
	put_str(b, o, "file", r->file);
	put_int(b, o, "line", r->line);
	put_str(b, o, "form", origin_name(r->origin));
	if (r->has_budget) {
		budget = new_obj(b);
		put_limit(b, budget, "bytes", r->max_bytes);
		put_limit(b, budget, "allocations", r->max_allocs);
		put(b, o, "budget", budget);
	} else {
		put_null(b, o, "budget");
	}
	matched = new_obj(b);
	put_u64(b, matched, "bytes", r->matched_bytes);
	put_u64(b, matched, "allocations", r->matched_allocs);
	put_u64(b, matched, "sites", r->matched_sites);
	put(b, o, "matched", matched);
	return o;
}

/* A site names its rule briefly; the rule itself is listed once under "suppressions". */
static json_object *rule_ref_json(struct builder *b, const struct suppression_rule *r)
{
	json_object *o = new_obj(b);

	put_str(b, o, "name", r->name);
	put_str(b, o, "file", r->file);
	put_int(b, o, "line", r->line);
	return o;
}

static json_object *frame_json(struct builder *b, const struct frame *f)
{
	json_object *o = new_obj(b);

	put_addr(b, o, "address", f->addr);
	put_str(b, o, "module", f->module);
	put_str(b, o, "function", f->function);
	if (f->function && !f->inlined)
		put_u64(b, o, "offset", f->offset);
	else
		put_null(b, o, "offset");
	put_bool(b, o, "inlined", f->inlined);
	put_str(b, o, "file", f->file);
	if (f->line > 0)
		put_int(b, o, "line", f->line);
	else
		put_null(b, o, "line");
	return o;
}

static json_object *site_json(struct builder *b, const struct site_judgement *sj)
{
	const struct leak_site *s = sj->site;
	const struct frame *own = sj->own_frame;
	json_object *o = new_obj(b), *frames = new_arr(b), *loc;

	put_str(b, o, "name", sj->name);
	put_str(b, o, "verdict", report_verdict_name(sj->verdict));
	put_bool(b, o, "fails", report_site_fails(sj, b->leaks_fail));
	put_u64(b, o, "bytes", s->bytes);
	put_u64(b, o, "allocations", s->allocs);
	put_str(b, o, "kind", leak_kind_name(s->kind));
	put_u64(b, o, "indirect_bytes", s->indirect_bytes);
	put_u64(b, o, "indirect_allocations", s->indirect_allocs);
	if (sj->rule)
		put(b, o, "rule", rule_ref_json(b, sj->rule));
	else
		put_null(b, o, "rule");
	/* The first frame in the program's own code: where to look. */
	if (own && own >= s->frames && own < s->frames + s->nframes)
		put_u64(b, o, "own_frame", (uint64_t)(own - s->frames));
	else
		put_null(b, o, "own_frame");
	if (own && own->file) {
		loc = new_obj(b);
		put_str(b, loc, "file", own->file);
		if (own->line > 0)
			put_int(b, loc, "line", own->line);
		else
			put_null(b, loc, "line");
		put(b, o, "location", loc);
	} else {
		put_null(b, o, "location");
	}
	for (size_t i = 0; i < s->nframes; i++)
		add(b, frames, frame_json(b, &s->frames[i]));
	put(b, o, "frames", frames);
	if (s->nblocks) {
		json_object *blocks = new_arr(b);

		for (size_t i = 0; i < s->nblocks; i++) {
			json_object *blk = new_obj(b);

			put_addr(b, blk, "address", s->blocks[i].addr);
			put_u64(b, blk, "size", s->blocks[i].size);
			put_u64(b, blk, "age_ns", s->blocks[i].age_ns);
			add(b, blocks, blk);
		}
		put(b, o, "blocks", blocks);
	}
	return o;
}

static json_object *lost_json(struct builder *b, const struct lost_counts *l)
{
	json_object *o = new_obj(b);

	for (size_t i = 0; i < report_ncounters; i++) {
		const struct report_counter *c = &report_counters[i];

		put_u64(b, o, c->name, report_counter_value(l, c));
	}
	return o;
}

static json_object *proc_json(struct builder *b, size_t i, const char *name)
{
	const struct proc_judgement *pj = &b->j->procs[i];
	const struct proc_record *p = pj->proc;
	json_object *o = new_obj(b), *sites = new_arr(b);
	uint64_t failing = 0;

	put_str(b, o, "name", name);
	put_int(b, o, "pid", p->pid);
	put_int(b, o, "ppid", p->ppid);
	put_str(b, o, "comm", p->comm);
	put_str(b, o, "exe", p->exe);
	put_bool(b, o, "root", report_proc_is_root(b->j, i));
	put_bool(b, o, "exited", p->exited);
	if (p->exited && !p->term_signal)
		put_int(b, o, "exit_code", p->exit_code);
	else
		put_null(b, o, "exit_code");
	if (p->exited && p->term_signal) {
		put_int(b, o, "signal", p->term_signal);
		put_str(b, o, "signal_name", report_signal_name(p->term_signal));
	} else {
		put_null(b, o, "signal");
		put_null(b, o, "signal_name");
	}
	for (size_t k = 0; k < pj->nsites; k++)
		failing += report_site_fails(&pj->sites[k], b->leaks_fail);
	put_u64(b, o, "leaked_bytes", pj->leaked_bytes);
	put_u64(b, o, "leaked_allocations", pj->leaked_allocs);
	put_u64(b, o, "suppressed_bytes", pj->suppressed_bytes);
	put_u64(b, o, "suppressed_allocations", pj->suppressed_allocs);
	put_u64(b, o, "failing_sites", failing);
	put_bool(b, o, "memory_read", p->scanned);
	if (p->scanned) {
		put_null(b, o, "memory_not_read");
		put_u64(b, o, "hold_ns", p->scan_ns);
	} else {
		put_str(b, o, "memory_not_read", p->scan_error ? p->scan_error : "not read");
		put_null(b, o, "hold_ns");
	}
	{
		json_object *kinds = new_obj(b);

		for (int k = 0; k < LEAK__COUNT; k++) {
			json_object *t = new_obj(b);

			put_u64(b, t, "bytes", pj->kind_bytes[k]);
			put_u64(b, t, "allocations", pj->kind_allocs[k]);
			put(b, kinds, leak_kind_name(k), t);
		}
		put(b, o, "kinds", kinds);
	}
	put(b, o, "lost", lost_json(b, &p->lost));
	put_u64(b, o, "lost_events", lost_counts_total(&p->lost));
	for (size_t k = 0; k < pj->nsites; k++)
		add(b, sites, site_json(b, &pj->sites[k]));
	put(b, o, "sites", sites);
	return o;
}

static int contains(const struct suppression_rule *const *rules, size_t n,
		    const struct suppression_rule *r)
{
	for (size_t i = 0; i < n; i++)
		if (rules[i] == r)
			return 1;
	return 0;
}

/* Each rule that matched, once, in the order the sites met them. */
static json_object *used_json(struct builder *b)
{
	const struct judgement *j = b->j;
	const struct suppression_rule **seen = NULL;
	size_t n = 0, cap = 0;
	json_object *arr = new_arr(b);

	for (size_t i = 0; i < j->nprocs && !b->err; i++) {
		for (size_t k = 0; k < j->procs[i].nsites && !b->err; k++) {
			const struct suppression_rule *r = j->procs[i].sites[k].rule;

			if (!r || contains(seen, n, r))
				continue;
			if (n == cap) {
				const struct suppression_rule **grown;

				cap = cap ? 2 * cap : 16;
				grown = realloc(seen, cap * sizeof(*grown));
				if (!grown) {
					b->err = -ENOMEM;
					break;
				}
				seen = grown;
			}
			seen[n++] = r;
			add(b, arr, rule_json(b, r));
		}
	}
	free(seen);
	return arr;
}

static json_object *rules_json(struct builder *b, const struct suppression_rule *const *rules,
			       size_t n)
{
	json_object *arr = new_arr(b);

	for (size_t i = 0; i < n; i++)
		add(b, arr, rule_json(b, rules[i]));
	return arr;
}

static json_object *program_json(struct builder *b)
{
	const struct json_opts *o = b->o;
	json_object *prog = new_obj(b), *cmd;
	int st = o->exit_status;

	if (o->argv) {
		cmd = new_arr(b);
		for (size_t i = 0; o->argv[i]; i++)
			add(b, cmd, str(b, o->argv[i]));
		put(b, prog, "command", cmd);
	} else {
		put_null(b, prog, "command");
	}
	if (WIFEXITED(st))
		put_int(b, prog, "exit_code", WEXITSTATUS(st));
	else
		put_null(b, prog, "exit_code");
	if (WIFSIGNALED(st)) {
		put_int(b, prog, "signal", WTERMSIG(st));
		put_str(b, prog, "signal_name", report_signal_name(WTERMSIG(st)));
	} else {
		put_null(b, prog, "signal");
		put_null(b, prog, "signal_name");
	}
	put_bool(b, prog, "timed_out", o->timed_out);
	return prog;
}

static int program_failed(const struct json_opts *o)
{
	int st = o->exit_status;

	return o->timed_out || WIFSIGNALED(st) || (WIFEXITED(st) && WEXITSTATUS(st) != 0);
}

static json_object *totals_json(struct builder *b)
{
	const struct judgement *j = b->j;
	json_object *t = new_obj(b);
	uint64_t sites = 0, failing = 0, sb = 0, sa = 0, lost = 0;

	for (size_t i = 0; i < j->nprocs; i++) {
		const struct proc_judgement *pj = &j->procs[i];

		sites += pj->nsites;
		sb += pj->suppressed_bytes;
		sa += pj->suppressed_allocs;
		lost += lost_counts_total(&pj->proc->lost);
		for (size_t k = 0; k < pj->nsites; k++)
			failing += report_site_fails(&pj->sites[k], b->leaks_fail);
	}
	put_u64(b, t, "processes", j->nprocs);
	put_u64(b, t, "sites", sites);
	put_u64(b, t, "failing_sites", failing);
	put_u64(b, t, "leaked_bytes", j->leaked_bytes);
	put_u64(b, t, "leaked_allocations", j->leaked_allocs);
	put_u64(b, t, "suppressed_bytes", sb);
	put_u64(b, t, "suppressed_allocations", sa);
	put_u64(b, t, "lost_events", lost);
	return t;
}

/*
 * The verdict and each reason for it: the leaks over the run's budget, a site over its
 * rule's budget, lost events, the program's own failure.
 */
static json_object *verdict_json(struct builder *b, json_object *root)
{
	const struct judgement *j = b->j;
	json_object *reasons = new_arr(b);
	int rule_over = 0, failed;

	for (size_t i = 0; i < j->nprocs; i++)
		for (size_t k = 0; k < j->procs[i].nsites; k++)
			rule_over |= j->procs[i].sites[k].verdict == SITE_OVER_BUDGET;
	if (b->leaks_fail)
		add(b, reasons, str(b, "leaks"));
	if (rule_over)
		add(b, reasons, str(b, "rule-over-budget"));
	/* Over a budget by the judge's account although no site says which: still a failure. */
	if (j->over_budget && !b->leaks_fail && !rule_over)
		add(b, reasons, str(b, "over-budget"));
	if (j->lost_data)
		add(b, reasons, str(b, "lost-data"));
	if (b->o->timed_out)
		add(b, reasons, str(b, "timeout"));
	else if (program_failed(b->o))
		add(b, reasons, str(b, "program-failed"));
	failed = report_run_failed(j) || program_failed(b->o);
	put_str(b, root, "verdict", failed ? "fail" : "pass");
	put_bool(b, root, "leak_gate_passed", !report_run_failed(j));
	return reasons;
}

static json_object *build(struct builder *b)
{
	const struct judgement *j = b->j;
	const struct json_opts *o = b->o;
	json_object *root = new_obj(b), *budget, *procs, *supp;
	char **names = report_proc_names(j), stamp[32], secs[32];
	time_t when = o->timestamp ? o->timestamp : time(NULL);
	struct tm tm;

	if (!names && !b->err)
		b->err = -ENOMEM;
	gmtime_r(&when, &tm);
	strftime(stamp, sizeof(stamp), "%Y-%m-%dT%H:%M:%SZ", &tm);
	snprintf(secs, sizeof(secs), "%.3f", o->duration_s > 0 ? o->duration_s : 0.0);

	put_str(b, root, "format", "memleak-run-report");
	put_int(b, root, "version", JSON_REPORT_VERSION);
	put_str(b, root, "tool", o->tool ? o->tool : DEFAULT_TOOL);
	put_str(b, root, "timestamp", stamp);
	put(b, root, "duration_s", b->err ? NULL : json_object_new_double_s(o->duration_s, secs));
	put(b, root, "program", program_json(b));
	put(b, root, "reasons", verdict_json(b, root));
	budget = new_obj(b);
	put_u64(b, budget, "bytes", o->max_leaked_bytes);
	put_u64(b, budget, "allocations", o->max_leaked_allocs);
	put(b, root, "budget", budget);
	put_bool(b, root, "over_budget", j->over_budget);
	put_bool(b, root, "lost_data", j->lost_data);
	put(b, root, "totals", totals_json(b));
	procs = new_arr(b);
	for (size_t i = 0; i < j->nprocs && names; i++)
		add(b, procs, proc_json(b, i, names[i]));
	put(b, root, "processes", procs);
	supp = new_obj(b);
	put(b, supp, "used", used_json(b));
	put(b, supp, "unused", rules_json(b, j->unused, j->nunused));
	put(b, supp, "loose_budgets", rules_json(b, j->loose, j->nloose));
	put(b, root, "suppressions", supp);
	report_free_names(names, j->nprocs);
	if (b->err) {
		json_object_put(root);
		return NULL;
	}
	return root;
}

char *json__render(const struct judgement *j, const struct json_opts *o, size_t *len)
{
	static const struct json_opts defaults;
	struct builder b = { .j = j, .o = o ? o : &defaults };
	json_object *root;
	const char *text;
	char *copy = NULL;
	size_t n;

	b.leaks_fail = report_leaks_fail(j, b.o->max_leaked_bytes, b.o->max_leaked_allocs);
	root = build(&b);
	if (!root) {
		errno = -b.err;
		return NULL;
	}
	text = json_object_to_json_string_ext(root, JSON_C_TO_STRING_PRETTY |
							JSON_C_TO_STRING_SPACED |
							JSON_C_TO_STRING_NOSLASHESCAPE);
	if (text) {
		n = strlen(text);
		copy = malloc(n + 2);
	}
	if (copy) {
		memcpy(copy, text, n);
		copy[n] = '\n';
		copy[n + 1] = '\0';
		if (len)
			*len = n + 1;
	}
	json_object_put(root);
	if (!copy)
		errno = ENOMEM;
	return copy;
}

int json__write(const struct judgement *j, const struct json_opts *o, const char *path)
{
	size_t len = 0;
	char *text = json__render(j, o, &len);
	int err;

	if (!text)
		return -errno;
	err = report_write_file(path, text, len);
	free(text);
	return err;
}
