// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#include "reporters/gen_suppressions.h"

#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "reporters/atomic_file.h"

/* Frames a generated rule pins down, innermost first. */
#define RULE_FRAMES 4

/* A glob that matches this text literally. */
static void put_glob(FILE *out, const char *text, size_t len)
{
	for (size_t i = 0; i < len; i++) {
		if (strchr("*?[]\\", text[i]))
			fputc('\\', out);
		fputc(text[i], out);
	}
}

/* The frame lines of a site's rule, as one string (rules are merged when equal). */
static char *frame_lines(const struct leak_site *site)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *out = open_memstream(&buf, &len);
	size_t used = 0;

	if (!out)
		return NULL;
	for (size_t i = 0; i < site->nframes && used < RULE_FRAMES; i++, used++) {
		const struct frame *f = &site->frames[i];

		if (f->function) {
			/* Without a clone's suffix: the rule outlives a change of optimization. */
			fputs("  fun:", out);
			put_glob(out, f->function, suppressions_stable_len(f->function));
		} else if (f->module) {
			fputs("  obj:", out);
			put_glob(out, f->module, strlen(f->module));
		} else {
			fputs("  fun:*", out);
		}
		fputc('\n', out);
	}
	if (fclose(out)) {
		free(buf);
		return NULL;
	}
	return buf;
}

struct gen_rule {
	const char *name;
	char *frames;
	uint64_t bytes;
	uint64_t allocs;
};

int gen_suppressions__print(FILE *out, const struct judgement *j)
{
	struct gen_rule *rules = NULL;
	size_t n = 0;
	int err = 0;

	for (size_t p = 0; p < j->nprocs && !err; p++) {
		for (size_t s = 0; s < j->procs[p].nsites && !err; s++) {
			const struct site_judgement *sj = &j->procs[p].sites[s];
			struct gen_rule *r = NULL;
			char *frames;

			if (sj->verdict != SITE_LEAK)
				continue;
			frames = frame_lines(sj->site);
			if (!frames) {
				err = -ENOMEM;
				break;
			}
			/* The same site in several processes: one rule, their sum as its budget. */
			for (size_t k = 0; k < n && !r; k++)
				if (!strcmp(rules[k].frames, frames))
					r = &rules[k];
			if (r) {
				free(frames);
			} else {
				struct gen_rule *grown = realloc(rules, (n + 1) * sizeof(*grown));

				if (!grown) {
					free(frames);
					err = -ENOMEM;
					break;
				}
				rules = grown;
				r = &rules[n++];
				*r = (struct gen_rule){ .name = sj->name, .frames = frames };
			}
			r->bytes += sj->site->bytes;
			r->allocs += sj->site->allocs;
		}
	}
	if (!err) {
		fprintf(out, "# memleak-run suppressions: today's leaks, each with a budget of what it\n"
			     "# leaks now. Growth beyond a budget fails; shrink budgets as leaks are fixed.\n");
		for (size_t k = 0; k < n; k++)
			fprintf(out, "\nrule %s\n%s  budget: %" PRIu64 " bytes, %" PRIu64 " allocations\n",
				rules[k].name, rules[k].frames, rules[k].bytes, rules[k].allocs);
		if (ferror(out))
			err = -EIO;
	}
	for (size_t k = 0; k < n; k++)
		free(rules[k].frames);
	free(rules);
	return err ? err : (int)n;
}

static int print_cb(FILE *out, const void *ctx)
{
	int n = gen_suppressions__print(out, ctx);

	return n < 0 ? n : 0;
}

int gen_suppressions__write(const struct judgement *j, const char *path)
{
	return atomic_file_write(path, print_cb, j);
}
