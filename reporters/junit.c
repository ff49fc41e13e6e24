/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * The JUnit XML report. The only file of the project that includes libxml2: the document
 * is built as a tree, so every name and text is escaped by the library, and serialized in
 * memory before anything touches the destination.
 */
#include "reporters/junit.h"

#include <errno.h>
#include <inttypes.h>
#include <libxml/tree.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "reporters/frame_format.h"
#include "reporters/report.h"

#define DEFAULT_TOOL "memleak-run"

/*
 * The document under construction. Builders do nothing once err is set, so a sequence of
 * calls needs one check at its end.
 */
struct doc {
	int err;
	const struct judgement *j;
	const struct junit_opts *o;
	const char *tool;
	char stamp[32];
	char host[256];
};

/* A suite's counts, kept as its testcases are added. */
struct counts {
	uint64_t tests;
	uint64_t failures;
	uint64_t errors;
	uint64_t skipped;
};

enum outcome {
	PASSED,
	FAILED,
	ERRORED,
	SKIPPED,
};

static void set_attr(struct doc *d, xmlNodePtr n, const char *name, const char *value)
{
	char *clean;

	if (d->err || !n)
		return;
	clean = frame_format_clean(value ? value : "", FRAME_FORMAT_KEEP_NEWLINES);
	if (!clean) {
		d->err = -ENOMEM;
		return;
	}
	/* xmlSetProp takes the text as it is and escapes it when the document is saved. */
	if (!xmlSetProp(n, BAD_CAST name, BAD_CAST clean))
		d->err = -ENOMEM;
	free(clean);
}

static void set_attr_u64(struct doc *d, xmlNodePtr n, const char *name, uint64_t v)
{
	char buf[24];

	snprintf(buf, sizeof(buf), "%" PRIu64, v);
	set_attr(d, n, name, buf);
}

/* A child element; text (cleaned, escaped) may be NULL. */
static xmlNodePtr add_elem(struct doc *d, xmlNodePtr parent, const char *name, const char *text)
{
	xmlNodePtr n;
	char *clean = NULL;

	if (d->err || !parent)
		return NULL;
	if (text) {
		clean = frame_format_clean(text, FRAME_FORMAT_KEEP_NEWLINES);
		if (!clean) {
			d->err = -ENOMEM;
			return NULL;
		}
	}
	/* xmlNewTextChild, unlike xmlNewChild, escapes its content. */
	n = xmlNewTextChild(parent, NULL, BAD_CAST name, clean ? BAD_CAST clean : NULL);
	free(clean);
	if (!n)
		d->err = -ENOMEM;
	return n;
}

static void add_property(struct doc *d, xmlNodePtr props, const char *name, const char *value)
{
	xmlNodePtr p = add_elem(d, props, "property", NULL);

	set_attr(d, p, "name", name);
	set_attr(d, p, "value", value);
}

static void add_property_u64(struct doc *d, xmlNodePtr props, const char *name, uint64_t v)
{
	char buf[24];

	snprintf(buf, sizeof(buf), "%" PRIu64, v);
	add_property(d, props, name, buf);
}

/* Text composed with stdio, for messages; NULL once the document has failed. */
struct text {
	char *buf;
	size_t len;
	FILE *out;
};

static FILE *text_open(struct doc *d, struct text *t)
{
	t->buf = NULL;
	t->len = 0;
	t->out = d->err ? NULL : open_memstream(&t->buf, &t->len);
	if (!t->out && !d->err)
		d->err = -ENOMEM;
	return t->out;
}

/* Closes the stream; returns the text (owned by t) or NULL on failure. */
static const char *text_close(struct doc *d, struct text *t)
{
	if (!t->out)
		return NULL;
	if (fclose(t->out)) {
		t->out = NULL;
		d->err = -ENOMEM;
		return NULL;
	}
	t->out = NULL;
	return t->buf;
}

static void text_free(struct text *t)
{
	if (t->out)
		fclose(t->out);
	free(t->buf);
	t->buf = NULL;
}

/*
 * A testcase with its outcome: for a failure, error or skip, an element of that name
 * with message and type, and detail as its text (failure and error) or as the testcase's
 * system-out (skipped). Detail of a passing testcase goes to system-out too.
 */
static void add_testcase(struct doc *d, xmlNodePtr suite, struct counts *c, const char *classname,
			 const char *name, const struct frame *where, enum outcome outcome,
			 const char *message, const char *type, const char *detail)
{
	static const char *const elem[] = { [FAILED] = "failure", [ERRORED] = "error",
					    [SKIPPED] = "skipped" };
	xmlNodePtr tc = add_elem(d, suite, "testcase", NULL), r;

	set_attr(d, tc, "name", name);
	set_attr(d, tc, "classname", classname);
	set_attr(d, tc, "time", "0");
	/* GitLab and the GitHub reporters link a testcase to file and line. */
	if (where && where->file && where->file[0]) {
		set_attr(d, tc, "file", where->file);
		if (where->line > 0)
			set_attr_u64(d, tc, "line", (uint64_t)where->line);
	}
	if (outcome != PASSED) {
		r = add_elem(d, tc, elem[outcome], outcome == SKIPPED ? NULL : detail);
		set_attr(d, r, "message", message);
		if (type)
			set_attr(d, r, "type", type);
	}
	if (detail && (outcome == PASSED || outcome == SKIPPED))
		add_elem(d, tc, "system-out", detail);
	c->tests++;
	c->failures += outcome == FAILED;
	c->errors += outcome == ERRORED;
	c->skipped += outcome == SKIPPED;
}

static void set_counts(struct doc *d, xmlNodePtr n, const struct counts *c)
{
	set_attr_u64(d, n, "tests", c->tests);
	set_attr_u64(d, n, "failures", c->failures);
	set_attr_u64(d, n, "errors", c->errors);
	set_attr_u64(d, n, "skipped", c->skipped);
}

static void add_counts(struct counts *total, const struct counts *c)
{
	total->tests += c->tests;
	total->failures += c->failures;
	total->errors += c->errors;
	total->skipped += c->skipped;
}

/*
 * Classnames are dotted paths to Jenkins and GitLab ("package.Class"): a name keeps
 * letters, digits, '_' and '-', and each run of anything else becomes one '_'.
 */
static void put_class_part(FILE *out, const char *s)
{
	int pending = 0, any = 0;

	for (; *s; s++) {
		int keep = (*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') ||
			   (*s >= '0' && *s <= '9') || *s == '_' || *s == '-';

		if (!keep) {
			pending = any;
			continue;
		}
		if (pending)
			fputc('_', out);
		fputc(*s, out);
		pending = 0;
		any = 1;
	}
	if (!any)
		fputc('_', out);
}

/* A failure's type: "definitely-lost", "indirectly-lost", ... */
static const char *leak_kind_type(enum leak_kind k)
{
	static const char *const types[LEAK__COUNT] = {
		[LEAK_DEFINITE] = "definitely-lost",
		[LEAK_INDIRECT] = "indirectly-lost",
		[LEAK_POSSIBLE] = "possibly-lost",
		[LEAK_REACHABLE] = "still-reachable",
	};

	return (unsigned int)k < LEAK__COUNT ? types[k] : "leak";
}

static void add_site(struct doc *d, xmlNodePtr suite, struct counts *c, const char *classname,
		     const struct site_judgement *sj, int leaks_fail)
{
	const struct leak_site *s = sj->site;
	const struct suppression_rule *r = sj->rule;
	struct text msg, detail;
	FILE *m = text_open(d, &msg), *t = text_open(d, &detail);
	enum outcome outcome;
	const char *type = NULL;

	if (!m || !t)
		goto cleanup;
	report_print_amount(m, s->bytes, s->allocs);
	fprintf(m, " %s", leak_kind_words(s->kind));
	if (s->indirect_allocs) {
		fputs(" (and ", m);
		report_print_amount(m, s->indirect_bytes, s->indirect_allocs);
		fputs(" indirectly lost through it)", m);
	}
	if (sj->verdict == SITE_NOT_AN_ERROR) {
		outcome = PASSED;
		fputs(", a kind that does not fail the run", m);
	} else if (sj->verdict == SITE_OVER_BUDGET && r) {
		outcome = FAILED;
		type = "over-budget";
		fputs(", over the budget of ", m);
		report_print_rule(m, r);
		fputs("Rule ", t);
		report_print_rule(t, r);
		fputs(" matched ", t);
		report_print_amount(t, r->matched_bytes, r->matched_allocs);
		fputs(" in this run; its budget is ", t);
		report_print_budget(t, r->max_bytes, r->max_allocs);
		fputs(".\n", t);
	} else if (report_site_fails(sj, leaks_fail)) {
		outcome = FAILED;
		type = leak_kind_type(s->kind);
	} else if (sj->verdict == SITE_LEAK) {
		outcome = SKIPPED;
		fputs(", within the run's leak budget", m);
		/* Only a budget the leaks fit in is the one the judge used. */
		if (d->j->leaked_bytes <= d->o->max_leaked_bytes &&
		    d->j->leaked_allocs <= d->o->max_leaked_allocs) {
			fputs(" (", m);
			report_print_budget(m, d->o->max_leaked_bytes, d->o->max_leaked_allocs);
			fputc(')', m);
		}
	} else if (sj->verdict == SITE_WITHIN_BUDGET && r) {
		outcome = SKIPPED;
		fputs(", within the budget of ", m);
		report_print_rule(m, r);
		fputs(": ", m);
		report_print_budget(m, r->max_bytes, r->max_allocs);
	} else {
		outcome = SKIPPED;
		fputs(", suppressed by ", m);
		if (r)
			report_print_rule(m, r);
		else
			fputs("a rule", m);
	}
	report_print_amount(t, s->bytes, s->allocs);
	fprintf(t, " not freed, %s, allocated from:\n", leak_kind_words(s->kind));
	frame_format_stack(t, s, "", 0, FRAME_FORMAT_FULL_FILES);
	if (text_close(d, &msg) && text_close(d, &detail))
		add_testcase(d, suite, c, classname,
			     sj->name && sj->name[0] ? sj->name : "(unnamed site)", sj->own_frame,
			     outcome, msg.buf, type, detail.buf);
cleanup:
	text_free(&msg);
	text_free(&detail);
}

/* The process's own exit: the program's failure fails; its children's only inform. */
static void add_exit_status(struct doc *d, xmlNodePtr suite, struct counts *c,
			    const char *classname, int exited, int code, int sig, int root)
{
	enum outcome outcome = PASSED;
	const char *type = NULL, *signame = report_signal_name(sig);
	struct text msg;
	FILE *m = text_open(d, &msg);

	if (!m)
		goto cleanup;
	if (!exited) {
		fputs("still running when the run ended", m);
	} else if (sig) {
		fprintf(m, "killed by signal %d", sig);
		if (signame)
			fprintf(m, " (%s)", signame);
		outcome = FAILED;
		type = "signal";
	} else {
		fprintf(m, "exited with status %d", code);
		outcome = code ? FAILED : PASSED;
		type = "exit-status";
		/* Automake's conventions: 77 is a skipped test, 99 a hard error. */
		if (code == 77) {
			fputs(": the program skipped its test", m);
			outcome = SKIPPED;
			type = NULL;
		} else if (code == 99) {
			fputs(": a hard error", m);
			outcome = ERRORED;
			type = "hard-error";
		}
	}
	if (root && d->o->timed_out) {
		fputs(", ended by the run's timeout", m);
		outcome = FAILED;
		type = "timeout";
	}
	if (!root && outcome != PASSED) {
		fputs(" (a process the program started: its status is the program's to judge)", m);
		outcome = PASSED;
	}
	if (!text_close(d, &msg))
		goto cleanup;
	if (outcome == PASSED)
		add_testcase(d, suite, c, classname, "exit status", NULL, PASSED, NULL, NULL,
			     exited && !code && !sig ? NULL : msg.buf);
	else
		add_testcase(d, suite, c, classname, "exit status", NULL, outcome, msg.buf, type,
			     outcome == SKIPPED ? NULL : msg.buf);
cleanup:
	text_free(&msg);
}

/* Lost events make the record incomplete: that fails, each counter named. */
static void add_lost(struct doc *d, xmlNodePtr suite, struct counts *c, const char *classname,
		     const struct lost_counts *l)
{
	uint64_t total = lost_counts_total(l);
	struct text msg, detail;
	FILE *m = text_open(d, &msg), *t = text_open(d, &detail);
	int any_detail = 0;

	if (!m || !t)
		goto cleanup;
	for (size_t i = 0; i < report_ncounters; i++) {
		uint64_t v = report_counter_value(l, &report_counters[i]);

		if (!v)
			continue;
		fprintf(t, "%s: %" PRIu64 " %s\n", report_counters[i].name, v,
			report_counters[i].what);
		any_detail = 1;
	}
	fprintf(m, "%" PRIu64 " event%s lost: the leaks of this process may be under-reported",
		total, total == 1 ? "" : "s");
	if (!text_close(d, &msg) || !text_close(d, &detail))
		goto cleanup;
	if (total)
		add_testcase(d, suite, c, classname, "no events lost", NULL, FAILED, msg.buf,
			     "lost-data", detail.buf);
	else
		add_testcase(d, suite, c, classname, "no events lost", NULL, PASSED, NULL, NULL,
			     any_detail ? detail.buf : NULL);
cleanup:
	text_free(&msg);
	text_free(&detail);
}

/* The part of suite names and classnames that names the run: the command's base name. */
static const char *run_name(const struct junit_opts *o)
{
	const char *base = o->argv && o->argv[0] ? frame_format_basename(o->argv[0]) : NULL;

	return base && base[0] ? base : NULL;
}

/*
 * A suite: "TOOL: PROCESS" for the program the gate started, "TOOL: RUN: PROCESS" for
 * the processes it started in turn, so that suites of different runs merged into one
 * report stay apart. Classnames follow: "leaks.PROCESS", "leaks.RUN.PROCESS".
 */
static xmlNodePtr add_suite(struct doc *d, xmlNodePtr root, const char *proc_name, int is_root,
			    char **classname)
{
	const char *run = run_name(d->o);
	xmlNodePtr suite = add_elem(d, root, "testsuite", NULL);
	struct text name, cls;
	FILE *n = text_open(d, &name), *c = text_open(d, &cls);

	*classname = NULL;
	if (!n || !c)
		goto cleanup;
	fprintf(n, "%s: ", d->tool);
	fputs("leaks.", c);
	if (!is_root && run && strcmp(run, proc_name)) {
		fprintf(n, "%s: ", run);
		put_class_part(c, run);
		fputc('.', c);
	}
	fputs(proc_name, n);
	put_class_part(c, proc_name);
	if (!text_close(d, &name) || !text_close(d, &cls))
		goto cleanup;
	set_attr(d, suite, "name", name.buf);
	/* Counts first in the start tag for readers; their values come at the end. */
	set_counts(d, suite, &(struct counts){ 0 });
	set_attr(d, suite, "time", "0");
	set_attr(d, suite, "timestamp", d->stamp);
	set_attr(d, suite, "hostname", d->host);
	*classname = cls.buf;
	cls.buf = NULL;
cleanup:
	text_free(&name);
	text_free(&cls);
	return d->err ? NULL : suite;
}

static void add_common_properties(struct doc *d, xmlNodePtr props)
{
	char *cmd;

	add_property(d, props, "tool", d->tool);
	if (d->o->argv) {
		cmd = report_command_line(d->o->argv);
		if (!cmd && !d->err)
			d->err = -ENOMEM;
		add_property(d, props, "command", cmd);
		free(cmd);
	}
}

static void add_process(struct doc *d, xmlNodePtr root, struct counts *total,
			const struct judgement *j, size_t i, const char *proc_name, int leaks_fail)
{
	const struct proc_judgement *pj = &j->procs[i];
	const struct proc_record *p = pj->proc;
	int is_root = report_proc_is_root(j, i);
	char *classname = NULL;
	xmlNodePtr suite = add_suite(d, root, proc_name, is_root, &classname), props;
	struct counts c = { 0 };

	if (!suite)
		goto cleanup;
	props = add_elem(d, suite, "properties", NULL);
	add_common_properties(d, props);
	/* What differs from run to run is here, out of every name. */
	add_property_u64(d, props, "pid", (uint64_t)p->pid);
	add_property_u64(d, props, "ppid", (uint64_t)p->ppid);
	add_property(d, props, "comm", p->comm);
	add_property(d, props, "executable", p->exe);
	add_property_u64(d, props, "leaked_bytes", pj->leaked_bytes);
	add_property_u64(d, props, "leaked_allocations", pj->leaked_allocs);
	add_property_u64(d, props, "suppressed_bytes", pj->suppressed_bytes);
	add_property_u64(d, props, "suppressed_allocations", pj->suppressed_allocs);
	for (int k = 0; k < LEAK__COUNT; k++) {
		char name[64];

		snprintf(name, sizeof(name), "%s_bytes", leak_kind_name(k));
		add_property_u64(d, props, name, pj->kind_bytes[k]);
		snprintf(name, sizeof(name), "%s_allocations", leak_kind_name(k));
		add_property_u64(d, props, name, pj->kind_allocs[k]);
	}
	if (!p->scanned && p->scan_error)
		add_property(d, props, "memory_not_read", p->scan_error);
	for (size_t k = 0; k < pj->nsites; k++) {
		const struct site_judgement *sj = &pj->sites[k];

		/* Kinds that do not fail are listed only when asked for. */
		if (sj->verdict == SITE_NOT_AN_ERROR && !(d->o->show_kinds & (1u << sj->site->kind)))
			continue;
		add_site(d, suite, &c, classname, sj, leaks_fail);
	}
	add_exit_status(d, suite, &c, classname, p->exited, p->exit_code, p->term_signal, is_root);
	add_lost(d, suite, &c, classname, &p->lost);
	set_counts(d, suite, &c);
	add_counts(total, &c);
cleanup:
	free(classname);
}

/* No process was judged (the program could not be traced): its exit status still shows. */
static void add_program_only(struct doc *d, xmlNodePtr root, struct counts *total)
{
	const char *run = run_name(d->o);
	int st = d->o->exit_status;
	char *classname = NULL;
	xmlNodePtr suite = add_suite(d, root, run ? run : "program", 1, &classname), props;
	struct counts c = { 0 };

	if (!suite)
		goto cleanup;
	props = add_elem(d, suite, "properties", NULL);
	add_common_properties(d, props);
	add_exit_status(d, suite, &c, classname, WIFEXITED(st) || WIFSIGNALED(st),
			WIFEXITED(st) ? WEXITSTATUS(st) : 0, WIFSIGNALED(st) ? WTERMSIG(st) : 0, 1);
	set_counts(d, suite, &c);
	add_counts(total, &c);
cleanup:
	free(classname);
}

static xmlDocPtr build(const struct judgement *j, const struct junit_opts *o, int *err)
{
	struct doc d = { .j = j, .o = o, .tool = o->tool ? o->tool : DEFAULT_TOOL };
	xmlDocPtr doc = xmlNewDoc(BAD_CAST "1.0");
	xmlNodePtr root = NULL;
	struct counts total = { 0 };
	char **names = NULL, secs[32], *title = NULL;
	int leaks_fail = report_leaks_fail(j, o->max_leaked_bytes, o->max_leaked_allocs);
	time_t when = o->timestamp ? o->timestamp : time(NULL);
	struct tm tm;

	if (!doc || !(root = xmlNewDocNode(doc, NULL, BAD_CAST "testsuites", NULL))) {
		d.err = -ENOMEM;
		goto cleanup;
	}
	xmlDocSetRootElement(doc, root);
	/* ISO 8601 without a zone, as Ant writes it; the time is UTC. */
	gmtime_r(&when, &tm);
	strftime(d.stamp, sizeof(d.stamp), "%Y-%m-%dT%H:%M:%S", &tm);
	if (o->hostname)
		snprintf(d.host, sizeof(d.host), "%s", o->hostname);
	else if (gethostname(d.host, sizeof(d.host) - 1))
		snprintf(d.host, sizeof(d.host), "localhost");
	names = report_proc_names(j);
	if (!names) {
		d.err = -ENOMEM;
		goto cleanup;
	}
	if (run_name(o) && asprintf(&title, "%s: %s", d.tool, run_name(o)) < 0) {
		title = NULL;
		d.err = -ENOMEM;
		goto cleanup;
	}
	set_attr(&d, root, "name", title ? title : d.tool);
	set_counts(&d, root, &total);
	snprintf(secs, sizeof(secs), "%.3f", o->duration_s > 0 ? o->duration_s : 0.0);
	set_attr(&d, root, "time", secs);
	for (size_t i = 0; i < j->nprocs; i++)
		add_process(&d, root, &total, j, i, names[i], leaks_fail);
	if (!j->nprocs)
		add_program_only(&d, root, &total);
	set_counts(&d, root, &total);
cleanup:
	report_free_names(names, j->nprocs);
	free(title);
	*err = d.err;
	if (d.err && doc) {
		xmlFreeDoc(doc);
		doc = NULL;
	}
	return doc;
}

char *junit__render(const struct judgement *j, const struct junit_opts *o, size_t *len)
{
	static const struct junit_opts defaults;
	xmlDocPtr doc;
	xmlChar *mem = NULL;
	char *copy = NULL;
	int size = 0, err;

	doc = build(j, o ? o : &defaults, &err);
	if (!doc) {
		errno = -err;
		return NULL;
	}
	xmlDocDumpFormatMemoryEnc(doc, &mem, &size, "UTF-8", 1);
	xmlFreeDoc(doc);
	if (!mem || size < 0) {
		xmlFree(mem);
		errno = ENOMEM;
		return NULL;
	}
	/* Memory the caller frees with free(), whatever allocator libxml2 was given. */
	copy = malloc((size_t)size + 1);
	if (copy) {
		memcpy(copy, mem, (size_t)size);
		copy[size] = '\0';
		if (len)
			*len = (size_t)size;
	}
	xmlFree(mem);
	if (!copy)
		errno = ENOMEM;
	return copy;
}

int junit__write(const struct judgement *j, const struct junit_opts *o, const char *path)
{
	size_t len = 0;
	char *xml = junit__render(j, o, &len);
	int err;

	if (!xml)
		return -errno;
	err = report_write_file(path, xml, len);
	free(xml);
	return err;
}
