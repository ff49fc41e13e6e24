/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * Suppression rules: which leak sites a project accepts, and how much of them.
 *
 * Three input forms are read unchanged: LeakSanitizer files (`leak:PATTERN` lines),
 * valgrind suppression blocks (`{ name / Memcheck:Leak / fun: obj: src: ... }`), and the
 * native form, which can also carry a budget. See docs/SUPPRESSIONS.md.
 */
#ifndef SUPPRESSIONS_H
#define SUPPRESSIONS_H

#include <stdint.h>
#include <stdio.h>

#include "runner/records.h"

enum suppression_origin {
	SUPP_NATIVE,
	SUPP_LSAN,
	SUPP_VALGRIND,
	SUPP_BUILTIN,	/* the C runtime's own one-time allocations */
};

struct suppression_rule {
	const char *name;		/* rule name (valgrind block name, pattern, ...) */
	const char *file;		/* file it came from ("<builtin>" for defaults) */
	int line;			/* line where the rule starts */
	enum suppression_origin origin;
	int has_budget;			/* 1: the rule admits at most max_bytes/max_allocs */
	uint64_t max_bytes;		/* UINT64_MAX when the budget names only allocations */
	uint64_t max_allocs;		/* UINT64_MAX when the budget names only bytes */
	int budget_per_process;		/* 1: the budget applies to each process on its own */
	unsigned int leak_kinds;	/* kinds of block it matches (1 << LEAK_*): match-leak-kinds */
	/* What the rule matched so far in this run. */
	uint64_t matched_bytes;
	uint64_t matched_allocs;
	uint64_t matched_sites;
};

struct suppressions;

struct suppressions *suppressions__new(void);
void suppressions__free(struct suppressions *s);

/*
 * Reads rules from a file, detecting its form per rule. On a malformed file returns
 * -EINVAL and writes "FILE:LINE: what is wrong" into err; other errors return -errno
 * with a message naming the file.
 */
int suppressions__load_file(struct suppressions *s, const char *path, char *err, size_t errlen);
/* Same as load_file, from a string; `name` stands for the file name in messages. */
int suppressions__load_string(struct suppressions *s, const char *name, const char *text,
			      char *err, size_t errlen);
/* Adds the built-in rules for the C runtime's one-time allocations. */
int suppressions__add_defaults(struct suppressions *s);

/* The first rule that matches the site, or NULL. Does not update the counters. */
struct suppression_rule *suppressions__match(const struct suppressions *s,
					     const struct leak_site *site);

/*
 * Starts judging a new process, running the executable `exe` (NULL: not known): budgets
 * that apply per process start again from zero.
 */
void suppressions__begin_process(struct suppressions *s, const char *exe);
/*
 * Counts a site the rule matched. Returns 1 when the rule's budget is now exceeded (for
 * this process, with a per-process budget), else 0.
 */
int suppressions__charge(struct suppressions *s, struct suppression_rule *r,
			 const struct leak_site *site);
/*
 * 1 when a rule that matched something has a budget larger than what it matched (for a
 * per-process budget: than what the process that used most of it matched).
 */
int suppressions__is_loose(const struct suppressions *s, const struct suppression_rule *r);
/* Zeroes every rule's counters, to judge another run with the same rules. */
void suppressions__reset_counters(struct suppressions *s);

/*
 * Whether a module belongs to the system (C runtime, system library directories, the
 * kernel) rather than to the program under test. NULL (unknown) counts as system.
 */
int suppressions_is_system_module(const char *module);

/*
 * Length of a function name without the suffix compilers give clones (".constprop.0",
 * ".isra.0", ".part.0", ".cold"), which comes and goes with optimization settings.
 */
size_t suppressions_stable_len(const char *function);

size_t suppressions__count(const struct suppressions *s);
struct suppression_rule *suppressions__rule(const struct suppressions *s, size_t i);

#endif /* SUPPRESSIONS_H */
