// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* The only file of the project that includes libxml2. */
#include "reporters/junit.h"

#include <errno.h>
#include <inttypes.h>
#include <libxml/tree.h>
#include <libxml/xmlsave.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "reporters/atomic_file.h"
#include "reporters/summary.h"

/* XML 1.0 has no place for most control characters: they become '?'. */
static char *xml_safe(const char *s)
{
	char *copy = strdup(s ? s : "");

	for (unsigned char *p = (unsigned char *)copy; copy && *p; p++)
		if (*p < 0x20 && *p != '\t' && *p != '\n' && *p != '\r')
			*p = '?';
	return copy;
}

static xmlNodePtr child(xmlNodePtr parent, const char *name, const char *text)
{
	char *safe = text ? xml_safe(text) : NULL;
	xmlNodePtr n = xmlNewTextChild(parent, NULL, BAD_CAST name, safe ? BAD_CAST safe : NULL);

	free(safe);
	return n;
}

static void attr(xmlNodePtr n, const char *name, const char *value)
{
	char *safe = xml_safe(value);

	xmlNewProp(n, BAD_CAST name, BAD_CAST(safe ? safe : ""));
	free(safe);
}

static void attr_num(xmlNodePtr n, const char *name, uint64_t v)
{
	char buf[32];

	snprintf(buf, sizeof(buf), "%" PRIu64, v);
	attr(n, name, buf);
}

static char *stack_text(const struct leak_site *s)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *out = open_memstream(&buf, &len);

	if (!out)
		return NULL;
	for (size_t i = 0; i < s->nframes; i++) {
		char *f = summary_frame_text(&s->frames[i]);

		fprintf(out, "#%zu %s\n", i, f ? f : "?");
		free(f);
	}
	if (!s->nframes)
		fputs("(stack not captured)\n", out);
	fclose(out);
	return buf;
}

static const char *proc_name(const struct proc_record *p)
{
	const char *slash;

	if (p->comm)
		return p->comm;
	slash = p->exe ? strrchr(p->exe, '/') : NULL;
	return slash ? slash + 1 : p->exe ? p->exe : "process";
}

/* Suite names are stable across runs: the command name, numbered when repeated. */
static void suite_name(const struct judgement *j, size_t i, char *buf, size_t len)
{
	const char *name = proc_name(j->procs[i].proc);
	int n = 1;

	for (size_t k = 0; k < i; k++)
		if (!strcmp(proc_name(j->procs[k].proc), name))
			n++;
	if (n > 1)
		snprintf(buf, len, "%s #%d", name, n);
	else
		snprintf(buf, len, "%s", name);
}

static void add_site(xmlNodePtr suite, const char *classname, const struct site_judgement *sj,
		     int run_over_budget, int *failures, int *skipped)
{
	xmlNodePtr tc = xmlNewChild(suite, NULL, BAD_CAST "testcase", NULL);
	char msg[256], *stack = stack_text(sj->site);

	attr(tc, "classname", classname);
	attr(tc, "name", sj->name);
	attr(tc, "time", "0");
	if (sj->own_frame && sj->own_frame->file) {
		attr(tc, "file", sj->own_frame->file);
		if (sj->own_frame->line)
			attr_num(tc, "line", (uint64_t)sj->own_frame->line);
	}
	snprintf(msg, sizeof(msg), "%" PRIu64 " bytes in %" PRIu64 " allocations not freed",
		 sj->site->bytes, sj->site->allocs);
	if (sj->verdict == SITE_LEAK && !run_over_budget) {
		/* Within the run's budget (--max-leaked-*): visible, but not a failure. */
		char *out = NULL;

		if (asprintf(&out, "%s (within the run's budget)\n%s", msg, stack ? stack : "") > 0)
			child(tc, "system-out", out);
		free(out);
	} else if (sj->verdict == SITE_LEAK || sj->verdict == SITE_OVER_BUDGET) {
		xmlNodePtr f = child(tc, "failure", stack);

		if (sj->verdict == SITE_OVER_BUDGET) {
			char over[600];

			snprintf(over, sizeof(over), "%s: over the budget of rule '%s' (%s:%d)", msg,
				 sj->rule->name, sj->rule->file, sj->rule->line);
			attr(f, "message", over);
		} else {
			attr(f, "message", msg);
		}
		attr(f, "type", "leak");
		(*failures)++;
	} else {
		char why[600];
		xmlNodePtr s = xmlNewChild(tc, NULL, BAD_CAST "skipped", NULL);

		snprintf(why, sizeof(why), "%s; %s by '%s' (%s:%d)", msg,
			 sj->verdict == SITE_WITHIN_BUDGET ? "within the budget of" : "suppressed",
			 sj->rule->name, sj->rule->file, sj->rule->line);
		attr(s, "message", why);
		child(tc, "system-out", stack);
		(*skipped)++;
	}
	free(stack);
}

static void add_suite_counts(xmlNodePtr suite, int tests, int failures, int errors, int skipped)
{
	attr_num(suite, "tests", (uint64_t)tests);
	attr_num(suite, "failures", (uint64_t)failures);
	attr_num(suite, "errors", (uint64_t)errors);
	attr_num(suite, "skipped", (uint64_t)skipped);
}

/* The run itself: the program's exit status, the budget, lost data. */
static void add_run_suite(xmlNodePtr root, const struct judgement *j, const struct report_opts *o,
			  const char *stamp, const char *host, int *all_tests, int *all_failures)
{
	xmlNodePtr suite = xmlNewChild(root, NULL, BAD_CAST "testsuite", NULL);
	xmlNodePtr tc, f;
	int failures = 0, tests = 0;
	char msg[512];
	int st = o->exit_status;

	attr(suite, "name", "memleak-run");
	attr(suite, "timestamp", stamp);
	attr(suite, "hostname", host);
	snprintf(msg, sizeof(msg), "%.3f", o->duration_s);
	attr(suite, "time", msg);
	if (o->argv) {
		xmlNodePtr props = xmlNewChild(suite, NULL, BAD_CAST "properties", NULL);
		char *cmd = NULL;
		size_t len = 0;
		FILE *out = open_memstream(&cmd, &len);

		for (size_t i = 0; out && o->argv[i]; i++)
			fprintf(out, "%s%s", i ? " " : "", o->argv[i]);
		if (out)
			fclose(out);
		tc = xmlNewChild(props, NULL, BAD_CAST "property", NULL);
		attr(tc, "name", "command");
		attr(tc, "value", cmd ? cmd : "");
		free(cmd);
	}

	tc = xmlNewChild(suite, NULL, BAD_CAST "testcase", NULL);
	attr(tc, "classname", "memleak-run");
	attr(tc, "name", "exit status");
	attr(tc, "time", "0");
	tests++;
	if (o->timed_out) {
		f = child(tc, "failure", NULL);
		attr(f, "message", "ended by --timeout");
		attr(f, "type", "timeout");
		failures++;
	} else if (WIFSIGNALED(st) || (WIFEXITED(st) && WEXITSTATUS(st) != 0)) {
		if (WIFSIGNALED(st))
			snprintf(msg, sizeof(msg), "killed by signal %d", WTERMSIG(st));
		else
			snprintf(msg, sizeof(msg), "exited with status %d", WEXITSTATUS(st));
		f = child(tc, "failure", NULL);
		attr(f, "message", msg);
		attr(f, "type", "exit-status");
		failures++;
	}

	tc = xmlNewChild(suite, NULL, BAD_CAST "testcase", NULL);
	attr(tc, "classname", "memleak-run");
	attr(tc, "name", "leak budget");
	attr(tc, "time", "0");
	tests++;
	if (j->leaked_bytes > o->max_leaked_bytes || j->leaked_allocs > o->max_leaked_allocs) {
		snprintf(msg, sizeof(msg), "%" PRIu64 " bytes in %" PRIu64 " allocations not freed; "
			 "the budget is %" PRIu64 " bytes in %" PRIu64 " allocations", j->leaked_bytes,
			 j->leaked_allocs, o->max_leaked_bytes, o->max_leaked_allocs);
		f = child(tc, "failure", NULL);
		attr(f, "message", msg);
		attr(f, "type", "budget");
		failures++;
	}

	tc = xmlNewChild(suite, NULL, BAD_CAST "testcase", NULL);
	attr(tc, "classname", "memleak-run");
	attr(tc, "name", "nothing lost");
	attr(tc, "time", "0");
	tests++;
	if (j->lost_data) {
		f = child(tc, "failure", NULL);
		attr(f, "message", "the tracer lost events: the result is incomplete");
		attr(f, "type", "lost-data");
		failures++;
	}
	add_suite_counts(suite, tests, failures, 0, 0);
	*all_tests += tests;
	*all_failures += failures;
}

static int save(FILE *out, const void *ctx)
{
	xmlDocPtr doc = (xmlDocPtr)ctx;
	xmlChar *mem = NULL;
	int len = 0;

	xmlDocDumpFormatMemoryEnc(doc, &mem, &len, "UTF-8", 1);
	if (!mem)
		return -ENOMEM;
	if (fwrite(mem, 1, (size_t)len, out) != (size_t)len) {
		xmlFree(mem);
		return -EIO;
	}
	xmlFree(mem);
	return 0;
}

int junit__write(const struct judgement *j, const struct report_opts *o, const char *path)
{
	xmlDocPtr doc = xmlNewDoc(BAD_CAST "1.0");
	xmlNodePtr root;
	char stamp[32], host[256] = "localhost", name[256], classname[300];
	int tests = 0, failures = 0, skipped = 0, err;
	time_t now = time(NULL);
	struct tm tm;

	if (!doc)
		return -ENOMEM;
	gmtime_r(&now, &tm);
	strftime(stamp, sizeof(stamp), "%Y-%m-%dT%H:%M:%S", &tm);
	gethostname(host, sizeof(host) - 1);
	root = xmlNewNode(NULL, BAD_CAST "testsuites");
	xmlDocSetRootElement(doc, root);
	attr(root, "name", "memleak-run");

	add_run_suite(root, j, o, stamp, host, &tests, &failures);
	for (size_t i = 0; i < j->nprocs; i++) {
		const struct proc_judgement *pj = &j->procs[i];
		xmlNodePtr suite = xmlNewChild(root, NULL, BAD_CAST "testsuite", NULL);
		xmlNodePtr props = xmlNewChild(suite, NULL, BAD_CAST "properties", NULL), prop;
		int f = 0, s = 0;

		suite_name(j, i, name, sizeof(name));
		snprintf(classname, sizeof(classname), "leaks.%s", name);
		attr(suite, "name", name);
		attr(suite, "timestamp", stamp);
		attr(suite, "hostname", host);
		attr(suite, "time", "0");
		prop = xmlNewChild(props, NULL, BAD_CAST "property", NULL);
		attr(prop, "name", "pid");
		attr_num(prop, "value", (uint64_t)pj->proc->pid);
		prop = xmlNewChild(props, NULL, BAD_CAST "property", NULL);
		attr(prop, "name", "executable");
		attr(prop, "value", pj->proc->exe ? pj->proc->exe : "");
		for (size_t k = 0; k < pj->nsites; k++)
			add_site(suite, classname, &pj->sites[k], j->over_budget, &f, &s);
		add_suite_counts(suite, (int)pj->nsites, f, 0, s);
		tests += (int)pj->nsites;
		failures += f;
		skipped += s;
	}
	add_suite_counts(root, tests, failures, 0, skipped);
	err = atomic_file_write(path, save, doc);
	xmlFreeDoc(doc);
	return err;
}
