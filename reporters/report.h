/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * What every report needs beside its own format: writing a file whole or not at all,
 * which sites fail the run, stable names for processes, and the words for counters,
 * amounts and budgets, so that the summary, JUnit, JSON and annotations agree.
 */
#ifndef REPORT_H
#define REPORT_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "assertions/judge.h"

/*
 * Writes data to path whole or not at all: into a temporary file in the same directory,
 * flushed to disk, then renamed over path. On failure no partial file is left and path is
 * untouched. The file's mode follows the umask. Only a regular file, or a new one, is
 * written: -EISDIR for a directory, -ENXIO for a device, FIFO or socket, and -ELOOP for
 * a final symbolic link that another user than the caller (its effective user) owns,
 * which is not followed. Returns 0 or -errno.
 */
int report_write_file(const char *path, const void *data, size_t len);
/* Why report_write_file() failed, for people. */
const char *report_write_strerror(int err);
/*
 * Whether its failure is the caller's request refused (not a regular file, a link not
 * theirs, no right to write there, no such directory) rather than the system failing.
 */
int report_write_refused(int err);

/*
 * Whether the run fails the gate: over a budget or data lost. The same rule as
 * judgement__failed(), kept here so that reports need nothing but the judgement.
 */
int report_run_failed(const struct judgement *j);
/*
 * Whether the unsuppressed leaks (SITE_LEAK) fail the run: the judge found the run over
 * a budget and the leaks exceed the run's budget given here (as given to the judge).
 */
int report_leaks_fail(const struct judgement *j, uint64_t max_leaked_bytes,
		      uint64_t max_leaked_allocs);
/* Whether a site fails: over its rule's budget, or a leak when leaks fail the run. */
int report_site_fails(const struct site_judgement *sj, int leaks_fail);
/* "leak", "suppressed", "within-budget", "over-budget", "not-an-error". */
const char *report_verdict_name(enum site_verdict v);

/*
 * Names of the processes, stable across runs: the command name (the executable's base
 * name when the command name is truncated), numbered " #2", " #3" among processes of the
 * same name in the order they were started. Never a pid. An array of j->nprocs strings,
 * or NULL with errno set; free with report_free_names().
 */
char **report_proc_names(const struct judgement *j);
void report_free_names(char **names, size_t n);
/* Whether process i was started by the gate itself: its parent was not traced. */
int report_proc_is_root(const struct judgement *j, size_t i);

/*
 * The command line for people to read and paste: arguments joined by spaces, those a
 * shell would split or expand in single quotes. Cleaned text; NULL argv gives "".
 * Returns NULL with errno set on failure.
 */
char *report_command_line(const char *const *argv);

/* "320 bytes in 5 allocations", with singulars where due. */
void report_print_amount(FILE *out, uint64_t bytes, uint64_t allocs);
/*
 * A process's blocks by kind, in valgrind's words: "definitely lost: 32 bytes in 1
 * allocation; still reachable: ...", kinds without blocks left out.
 */
void report_print_kinds(FILE *out, const struct proc_judgement *pj);
/* "at most 100 bytes in 2 allocations"; a limit of UINT64_MAX reads "any number of". */
void report_print_budget(FILE *out, uint64_t max_bytes, uint64_t max_allocs);
/* "NAME (FILE:LINE)", cleaned. */
void report_print_rule(FILE *out, const struct suppression_rule *r);
/* "SIGSEGV" for the usual signals, NULL for others. */
const char *report_signal_name(int sig);

/* The lost-event counters of struct lost_counts, in the order reports list them. */
struct report_counter {
	const char *name;	/* field name, as in JSON */
	const char *what;	/* what was lost, for people */
	size_t offset;		/* in struct lost_counts */
	int lost;		/* 1: data was lost; 0: corrected, shown for information */
};

extern const struct report_counter report_counters[];
extern const size_t report_ncounters;

uint64_t report_counter_value(const struct lost_counts *l, const struct report_counter *c);

#endif /* REPORT_H */
