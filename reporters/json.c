// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#include "reporters/json.h"

#include <errno.h>
#include <json-c/json.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>

#include "reporters/atomic_file.h"

static json_object *str_or_null(const char *s)
{
	return s ? json_object_new_string(s) : NULL;
}

static void put(json_object *o, const char *key, json_object *v)
{
	json_object_object_add(o, key, v);
}

static const char *verdict_name(enum site_verdict v)
{
	switch (v) {
	case SITE_LEAK: return "leak";
	case SITE_SUPPRESSED: return "suppressed";
	case SITE_WITHIN_BUDGET: return "within-budget";
	default: return "over-budget";
	}
}

static const char *origin_name(enum suppression_origin o)
{
	switch (o) {
	case SUPP_LSAN: return "lsan";
	case SUPP_VALGRIND: return "valgrind";
	case SUPP_BUILTIN: return "builtin";
	default: return "native";
	}
}

static json_object *rule_json(const struct suppression_rule *r)
{
	json_object *o = json_object_new_object();

	put(o, "name", json_object_new_string(r->name));
	put(o, "file", json_object_new_string(r->file));
	put(o, "line", json_object_new_int(r->line));
	put(o, "form", json_object_new_string(origin_name(r->origin)));
	if (r->has_budget) {
		json_object *b = json_object_new_object();

		put(b, "bytes", r->max_bytes == ~0ULL ? NULL : json_object_new_uint64(r->max_bytes));
		put(b, "allocations", r->max_allocs == ~0ULL ? NULL : json_object_new_uint64(r->max_allocs));
		put(o, "budget", b);
	}
	put(o, "matched_bytes", json_object_new_uint64(r->matched_bytes));
	put(o, "matched_allocations", json_object_new_uint64(r->matched_allocs));
	put(o, "matched_sites", json_object_new_uint64(r->matched_sites));
	return o;
}

static json_object *frame_json(const struct frame *f)
{
	json_object *o = json_object_new_object();
	char addr[24];

	snprintf(addr, sizeof(addr), "0x%llx", (unsigned long long)f->addr);
	put(o, "address", json_object_new_string(addr));
	put(o, "module", str_or_null(f->module));
	put(o, "function", str_or_null(f->function));
	put(o, "offset", f->function ? json_object_new_uint64(f->offset) : NULL);
	put(o, "file", str_or_null(f->file));
	put(o, "line", f->line ? json_object_new_int(f->line) : NULL);
	return o;
}

static json_object *lost_json(const struct lost_counts *l)
{
	json_object *o = json_object_new_object();

	put(o, "blocks_table_full", json_object_new_uint64(l->map_full));
	put(o, "stack_errors", json_object_new_uint64(l->stack_errors));
	put(o, "nesting_overflow", json_object_new_uint64(l->nest_overflow));
	put(o, "returns_without_entry", json_object_new_uint64(l->unmatched_returns));
	put(o, "ring_buffer_drops", json_object_new_uint64(l->ringbuf_drops));
	put(o, "bpf_recursion_misses", json_object_new_uint64(l->recursion_misses));
	put(o, "missed_frees_corrected", json_object_new_uint64(l->missed_frees));
	return o;
}

static json_object *proc_json(const struct proc_judgement *pj)
{
	const struct proc_record *p = pj->proc;
	json_object *o = json_object_new_object(), *sites = json_object_new_array();

	put(o, "pid", json_object_new_int(p->pid));
	put(o, "ppid", json_object_new_int(p->ppid));
	put(o, "command", str_or_null(p->comm));
	put(o, "executable", str_or_null(p->exe));
	put(o, "exit_code", p->term_signal ? NULL : json_object_new_int(p->exit_code));
	put(o, "signal", p->term_signal ? json_object_new_int(p->term_signal) : NULL);
	put(o, "leaked_bytes", json_object_new_uint64(pj->leaked_bytes));
	put(o, "leaked_allocations", json_object_new_uint64(pj->leaked_allocs));
	put(o, "suppressed_bytes", json_object_new_uint64(pj->suppressed_bytes));
	put(o, "suppressed_allocations", json_object_new_uint64(pj->suppressed_allocs));
	put(o, "lost", lost_json(&p->lost));
	for (size_t i = 0; i < pj->nsites; i++) {
		const struct site_judgement *sj = &pj->sites[i];
		json_object *s = json_object_new_object(), *frames = json_object_new_array();

		put(s, "name", json_object_new_string(sj->name));
		put(s, "verdict", json_object_new_string(verdict_name(sj->verdict)));
		put(s, "bytes", json_object_new_uint64(sj->site->bytes));
		put(s, "allocations", json_object_new_uint64(sj->site->allocs));
		put(s, "rule", sj->rule ? json_object_new_string(sj->rule->name) : NULL);
		for (size_t f = 0; f < sj->site->nframes; f++)
			json_object_array_add(frames, frame_json(&sj->site->frames[f]));
		put(s, "frames", frames);
		json_object_array_add(sites, s);
	}
	put(o, "sites", sites);
	return o;
}

static int save(FILE *out, const void *ctx)
{
	const char *text = json_object_to_json_string_ext((json_object *)ctx,
							  JSON_C_TO_STRING_PRETTY |
							  JSON_C_TO_STRING_NOSLASHESCAPE);

	if (!text)
		return -ENOMEM;
	if (fputs(text, out) < 0 || fputc('\n', out) < 0)
		return -EIO;
	return 0;
}

int json__write(const struct judgement *j, const struct report_opts *o, const char *path)
{
	json_object *root = json_object_new_object(), *procs = json_object_new_array();
	json_object *cmd = json_object_new_array(), *used = json_object_new_array();
	json_object *unused = json_object_new_array(), *loose = json_object_new_array();
	json_object *program = json_object_new_object(), *budget = json_object_new_object();
	int st = o->exit_status, err;

	for (size_t i = 0; o->argv && o->argv[i]; i++)
		json_object_array_add(cmd, json_object_new_string(o->argv[i]));
	put(program, "command", cmd);
	put(program, "exit_code", WIFEXITED(st) ? json_object_new_int(WEXITSTATUS(st)) : NULL);
	put(program, "signal", WIFSIGNALED(st) ? json_object_new_int(WTERMSIG(st)) : NULL);
	put(program, "timed_out", json_object_new_boolean(o->timed_out));
	put(root, "program", program);
	put(budget, "bytes", json_object_new_uint64(o->max_leaked_bytes));
	put(budget, "allocations", json_object_new_uint64(o->max_leaked_allocs));
	put(root, "budget", budget);
	put(root, "leaked_bytes", json_object_new_uint64(j->leaked_bytes));
	put(root, "leaked_allocations", json_object_new_uint64(j->leaked_allocs));
	put(root, "over_budget", json_object_new_boolean(j->over_budget));
	put(root, "lost_data", json_object_new_boolean(j->lost_data));
	put(root, "passed", json_object_new_boolean(!judgement__failed(j)));
	for (size_t i = 0; i < j->nprocs; i++) {
		json_object_array_add(procs, proc_json(&j->procs[i]));
		for (size_t k = 0; k < j->procs[i].nsites; k++) {
			const struct suppression_rule *r = j->procs[i].sites[k].rule;
			int seen = 0;

			if (!r)
				continue;
			/* Each rule once, with its totals over the run. */
			for (size_t u = 0; u < json_object_array_length(used) && !seen; u++) {
				json_object *e = json_object_array_get_idx(used, u), *n, *f, *l;

				seen = json_object_object_get_ex(e, "name", &n) &&
				       json_object_object_get_ex(e, "file", &f) &&
				       json_object_object_get_ex(e, "line", &l) &&
				       !strcmp(json_object_get_string(n), r->name) &&
				       !strcmp(json_object_get_string(f), r->file) &&
				       json_object_get_int(l) == r->line;
			}
			if (!seen)
				json_object_array_add(used, rule_json(r));
		}
	}
	put(root, "processes", procs);
	for (size_t i = 0; i < j->nunused; i++)
		json_object_array_add(unused, rule_json(j->unused[i]));
	for (size_t i = 0; i < j->nloose; i++)
		json_object_array_add(loose, rule_json(j->loose[i]));
	put(root, "suppressions_used", used);
	put(root, "suppressions_unused", unused);
	put(root, "budgets_larger_than_needed", loose);
	err = atomic_file_write(path, save, root);
	json_object_put(root);
	return err;
}
