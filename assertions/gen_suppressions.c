// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * Writes the native rules that accept a run's unsuppressed leaks as they are now: a
 * baseline. Each rule pins its site's frames and carries a budget of exactly what the
 * site leaked over the whole run, so the next run passes and growth fails.
 */
#include "assertions/gen_suppressions.h"

#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "assertions/frame_names.h"
#include "reporters/report.h"

/* Frames a rule pins down: deep enough to keep distinct sites apart. */
#define GEN_MAX_FRAMES 16

struct gen_rule {
	const char *name;	/* borrowed from the judgement */
	char *lines;		/* the frame lines; rules with the same lines are one rule */
	size_t nlines;
	size_t nwild;		/* lines that match more than one name */
	uint64_t bytes;
	uint64_t allocs;
	unsigned int kinds;	/* of the sites it accepts: "kinds:" keeps them */
};

/*
 * A name or a glob as a native rule's line holds it (docs/SUPPRESSIONS.md, "Escapes"):
 * "\xHH" for a control byte, a '#', a backslash in a name, and a blank at either end,
 * which the reader would take for the end of a line, a comment or a trimmed blank. In a
 * glob ("glob" set), `*`, `?` and `\` are escaped with a backslash.
 */
static char *native_escape(const char *s, size_t len, int glob)
{
	char *out = malloc(4 * len + 1), *o = out;
	size_t lead = 0, trail = len;

	if (!out)
		return NULL;
	while (lead < len && isspace((unsigned char)s[lead]))
		lead++;
	while (trail > lead && isspace((unsigned char)s[trail - 1]))
		trail--;
	for (size_t i = 0; i < len && s[i]; i++) {
		unsigned char c = (unsigned char)s[i];

		if (glob && (c == '*' || c == '?' || c == '\\')) {
			*o++ = '\\';
			*o++ = (char)c;
		} else if (c < 0x20 || c == 0x7f || c == '#' || c == '\\' || i < lead ||
			   i >= trail) {
			o += sprintf(o, "\\x%02x", c);
		} else {
			*o++ = (char)c;
		}
	}
	*o = '\0';
	return out;
}

/* Appends "\t<kind><text>\n" to *buf, or fails with -ENOMEM. */
static int add_line(char **buf, size_t *len, const char *kind, const char *text,
		    const char *suffix)
{
	size_t n = 1 + strlen(kind) + strlen(text) + strlen(suffix) + 1;
	char *grown = realloc(*buf, *len + n + 1);

	if (!grown)
		return -ENOMEM;
	*buf = grown;
	*len += snprintf(grown + *len, n + 1, "\t%s%s%s\n", kind, text, suffix);
	return 0;
}

/*
 * The frame lines of a site: "fun:NAME" by function (without clone suffix, so a rebuild
 * with other optimizations still matches), "obj:LIBRARY" (without version) for a frame
 * without a function, "fun:*" for a frame without either. Frames below main are left out.
 */
static int site_lines(const struct leak_site *site, struct gen_rule *r)
{
	size_t depth = frame_names_depth(site);
	size_t len = 0;
	int err = 0;

	if (!depth)
		depth = site->nframes;
	if (depth > GEN_MAX_FRAMES)
		depth = GEN_MAX_FRAMES;
	for (size_t i = 0; i < depth && !err; i++) {
		const struct frame *f = &site->frames[i];
		size_t stem = frame_names_stem_len(f->function);
		char *glob;

		if (stem) {
			glob = native_escape(f->function, stem, 1);
			err = glob ? add_line(&r->lines, &len, "fun:", glob, "") : -ENOMEM;
			free(glob);
		} else if (f->module) {
			const char *base = frame_names_basename(f->module);
			size_t n = frame_names_module_stem_len(base);

			const char *any = n < strlen(base) ? "*" : "";

			glob = native_escape(base, n, 1);
			err = glob ? add_line(&r->lines, &len, "obj:", glob, any) : -ENOMEM;
			free(glob);
			r->nwild++;
		} else {
			err = add_line(&r->lines, &len, "fun:", "*", "");
			r->nwild++;
		}
		r->nlines++;
	}
	return err;
}

/*
 * Longer rules first: a rule matches every stack that starts with its frames, so a short
 * rule placed first would take a longer site's leaks into its own budget. Among equally
 * long rules the ones with fewer wildcards go first for the same reason.
 */
static int cmp_rules(const void *a, const void *b)
{
	const struct gen_rule *x = a, *y = b;

	if (x->nlines != y->nlines)
		return x->nlines > y->nlines ? -1 : 1;
	if (x->nwild != y->nwild)
		return x->nwild < y->nwild ? -1 : 1;
	return strcmp(x->name, y->name);
}

static uint64_t add_sat(uint64_t a, uint64_t b)
{
	return a > UINT64_MAX - b ? UINT64_MAX : a + b;
}

/* Adds a site to the rule with the same frame lines, or as a new rule. */
static int collect_site(struct gen_rule **rules, size_t *n, const struct site_judgement *sj)
{
	struct gen_rule r = { .name = sj->name }, *grown;
	int err = site_lines(sj->site, &r);

	if (err) {
		free(r.lines);
		return err;
	}
	for (size_t k = 0; k < *n; k++) {
		struct gen_rule *same = &(*rules)[k];

		if (strcmp(same->lines, r.lines))
			continue;
		/* The same site in several processes, or stacks alike in all pinned frames. */
		same->kinds |= 1u << sj->site->kind;
		same->bytes = add_sat(same->bytes, sj->site->bytes);
		same->allocs = add_sat(same->allocs, sj->site->allocs);
		if (strcmp(r.name, same->name) < 0)
			same->name = r.name;
		free(r.lines);
		return 0;
	}
	grown = realloc(*rules, (*n + 1) * sizeof(*grown));
	if (!grown) {
		free(r.lines);
		return -ENOMEM;
	}
	*rules = grown;
	r.bytes = sj->site->bytes;
	r.allocs = sj->site->allocs;
	r.kinds = 1u << sj->site->kind;
	(*rules)[(*n)++] = r;
	return 0;
}

int gen_suppressions__print(FILE *out, const struct judgement *j)
{
	struct gen_rule *rules = NULL;
	uint64_t stackless_bytes = 0, stackless_allocs = 0;
	size_t n = 0;
	int err = 0;

	if (!out || !j)
		return -EINVAL;
	for (size_t p = 0; p < j->nprocs && !err; p++) {
		for (size_t s = 0; s < j->procs[p].nsites && !err; s++) {
			const struct site_judgement *sj = &j->procs[p].sites[s];

			if (sj->verdict != SITE_LEAK)
				continue;
			if (!sj->site->nframes) {
				/* No frame line can match a site without a stack. */
				stackless_bytes = add_sat(stackless_bytes, sj->site->bytes);
				stackless_allocs = add_sat(stackless_allocs, sj->site->allocs);
				continue;
			}
			err = collect_site(&rules, &n, sj);
		}
	}
	if (err)
		goto cleanup;
	qsort(rules, n, sizeof(*rules), cmp_rules);
	fputs("# memleak-run suppressions: the leaks of one run, each accepted up to what it\n"
	      "# leaked then. A leak that grows fails the gate; lower a budget when a leak\n"
	      "# shrinks, and delete the rule when it is gone. See docs/SUPPRESSIONS.md.\n", out);
	if (stackless_allocs)
		fprintf(out, "#\n# Not covered: %" PRIu64 " bytes in %" PRIu64 " allocations "
			"without a stack; raise --max-leaked-bytes\n# and --max-leaked-allocs "
			"for them.\n", stackless_bytes, stackless_allocs);
	for (size_t k = 0; k < n && !err; k++) {
		char *name = native_escape(rules[k].name, strlen(rules[k].name), 0);
		const char *sep = "";

		if (!name) {
			err = -ENOMEM;
			break;
		}
		fprintf(out, "\nleak %s\n%s\tkinds: ", name, rules[k].lines);
		free(name);
		for (int kind = 0; kind < LEAK__COUNT; kind++) {
			if (rules[k].kinds & (1u << kind)) {
				fprintf(out, "%s%s", sep, leak_kind_name(kind));
				sep = ",";
			}
		}
		fprintf(out, "\n\tbudget: %" PRIu64 " bytes, %" PRIu64 " allocs\n", rules[k].bytes,
			rules[k].allocs);
	}
	if (!err && (fflush(out) || ferror(out)))
		err = -EIO;
cleanup:
	for (size_t k = 0; k < n; k++)
		free(rules[k].lines);
	free(rules);
	return err ? err : (int)n;
}

char *gen_suppressions__render(const struct judgement *j, size_t *len)
{
	char *text = NULL;
	size_t n = 0;
	FILE *out;
	int err;

	if (!j) {
		errno = EINVAL;
		return NULL;
	}
	out = open_memstream(&text, &n);
	if (!out)
		return NULL;
	err = gen_suppressions__print(out, j);
	if (fclose(out) && err >= 0)
		err = -ENOMEM;
	if (err < 0) {
		free(text);
		errno = -err;
		return NULL;
	}
	if (len)
		*len = n;
	return text;
}

int gen_suppressions__write(const struct judgement *j, const char *path)
{
	size_t len = 0;
	char *text;
	int err;

	if (!path)
		return -EINVAL;
	text = gen_suppressions__render(j, &len);
	if (!text)
		return -errno;
	/* Written beside the target and renamed over it: readers see all of it or none. */
	err = report_write_file(path, text, len);
	free(text);
	return err;
}
