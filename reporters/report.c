/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
#include "reporters/report.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "reporters/frame_format.h"

const struct report_counter report_counters[] = {
	{ "map_full", "blocks not recorded: the outstanding-block table was full "
		      "(raise --max-blocks)", offsetof(struct lost_counts, map_full), 1 },
	{ "stack_errors", "stacks not captured or not stored (raise --max-stacks)",
	  offsetof(struct lost_counts, stack_errors), 1 },
	{ "nest_overflow", "allocator calls nested deeper than tracked",
	  offsetof(struct lost_counts, nest_overflow), 1 },
	{ "unmatched_returns", "allocator returns without a recorded entry",
	  offsetof(struct lost_counts, unmatched_returns), 1 },
	{ "ringbuf_drops", "events the ring buffer could not take",
	  offsetof(struct lost_counts, ringbuf_drops), 1 },
	{ "recursion_misses", "probe hits the kernel skipped (BPF recursion)",
	  offsetof(struct lost_counts, recursion_misses), 1 },
	{ "missed_frees", "addresses handed out again while still tracked (corrected)",
	  offsetof(struct lost_counts, missed_frees), 0 },
};

const size_t report_ncounters = sizeof(report_counters) / sizeof(report_counters[0]);

uint64_t report_counter_value(const struct lost_counts *l, const struct report_counter *c)
{
	uint64_t v;

	memcpy(&v, (const char *)l + c->offset, sizeof(v));
	return v;
}

/* Writes all of buf, through short writes and interruptions. */
static int write_all(int fd, const void *buf, size_t len)
{
	const char *p = buf;

	while (len) {
		ssize_t n = write(fd, p, len);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

/*
 * The rename is durable once the directory is synced too. Failing to sync a directory
 * (some file systems refuse) does not undo a complete, renamed file: it is not an error.
 */
static void sync_dir(const char *dir)
{
	int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);

	if (fd < 0)
		return;
	(void)fsync(fd);
	close(fd);
}

int report_write_file(const char *path, const void *data, size_t len)
{
	const char *slash = strrchr(path, '/');
	char *dir = NULL, *tmp = NULL;
	struct stat st;
	mode_t mask;
	int fd = -1, err = 0;

	if (!path[0])
		return -ENOENT;
	/*
	 * A link someone else made (in /tmp, say) is not the caller's word for where the
	 * report goes; the caller's own link is replaced by the file, its target untouched.
	 */
	if (lstat(path, &st) == 0 && S_ISLNK(st.st_mode) && st.st_uid != geteuid())
		return -ELOOP;
	if (stat(path, &st) == 0 && !S_ISREG(st.st_mode))
		return S_ISDIR(st.st_mode) ? -EISDIR : -ENXIO;
	if (slash)
		dir = strndup(path, slash == path ? 1 : (size_t)(slash - path));
	else
		dir = strdup(".");
	/* Hidden and without the destination's suffix: globs such as *.xml do not see it. */
	if (!dir || asprintf(&tmp, "%s/.%s.XXXXXX", dir, slash ? slash + 1 : path) < 0) {
		tmp = NULL;
		err = -ENOMEM;
		goto cleanup;
	}
	fd = mkostemp(tmp, O_CLOEXEC);
	if (fd < 0) {
		err = -errno;
		free(tmp);
		tmp = NULL;
		goto cleanup;
	}
	/* mkostemp makes the file 0600; a report is as readable as any file made here. */
	mask = umask(0);
	umask(mask);
	if (fchmod(fd, 0666 & ~mask)) {
		err = -errno;
		goto cleanup;
	}
	err = write_all(fd, data, len);
	if (err)
		goto cleanup;
	if (fsync(fd)) {
		err = -errno;
		goto cleanup;
	}
	err = close(fd) ? -errno : 0;
	fd = -1;
	if (err)
		goto cleanup;
	if (rename(tmp, path)) {
		err = -errno;
		goto cleanup;
	}
	sync_dir(dir);
cleanup:
	if (fd >= 0)
		close(fd);
	if (err && tmp)
		unlink(tmp);
	free(tmp);
	free(dir);
	return err;
}

const char *report_write_strerror(int err)
{
	switch (err) {
	case -ELOOP:
		return "a symbolic link another user owns: not followed";
	case -EISDIR:
		return "a directory, not a regular file";
	case -ENXIO:
		return "a device, FIFO or socket, not a regular file";
	}
	return strerror(-err);
}

int report_write_refused(int err)
{
	return err == -ELOOP || err == -EISDIR || err == -ENXIO || err == -EACCES ||
	       err == -EPERM || err == -EROFS || err == -ENOENT || err == -ENOTDIR;
}

int report_run_failed(const struct judgement *j)
{
	return j->over_budget || j->lost_data;
}

int report_leaks_fail(const struct judgement *j, uint64_t max_leaked_bytes,
		      uint64_t max_leaked_allocs)
{
	return j->over_budget &&
	       (j->leaked_bytes > max_leaked_bytes || j->leaked_allocs > max_leaked_allocs);
}

int report_site_fails(const struct site_judgement *sj, int leaks_fail)
{
	return sj->verdict == SITE_OVER_BUDGET || (sj->verdict == SITE_LEAK && leaks_fail);
}

const char *report_verdict_name(enum site_verdict v)
{
	switch (v) {
	case SITE_LEAK:
		return "leak";
	case SITE_SUPPRESSED:
		return "suppressed";
	case SITE_WITHIN_BUDGET:
		return "within-budget";
	case SITE_OVER_BUDGET:
		return "over-budget";
	case SITE_NOT_AN_ERROR:
		return "not-an-error";
	}
	return "unknown";
}

/* Linux keeps 15 characters of a command name. */
#define COMM_LEN 15

static const char *proc_base_name(const struct proc_record *p)
{
	const char *exe = frame_format_basename(p->exe);

	/*
	 * The command name is what the process calls itself (a script's name rather than its
	 * interpreter's), but the kernel cuts it: then the executable's name is the whole one.
	 */
	if (p->comm && p->comm[0]) {
		if (exe && strlen(p->comm) == COMM_LEN && !strncmp(exe, p->comm, COMM_LEN))
			return exe;
		return p->comm;
	}
	if (exe && exe[0])
		return exe;
	return "process";
}

struct named_proc {
	const char *base;
	pid_t pid;
	size_t index;
};

/*
 * By name, then in the order the processes started: pids grow with each fork (until they
 * wrap, which runs rarely see), and the order of the records breaks ties.
 */
static int by_name_then_start(const void *a, const void *b)
{
	const struct named_proc *x = a, *y = b;
	int c = strcmp(x->base, y->base);

	if (c)
		return c;
	if (x->pid != y->pid)
		return x->pid < y->pid ? -1 : 1;
	return x->index < y->index ? -1 : x->index > y->index;
}

char **report_proc_names(const struct judgement *j)
{
	size_t n = j->nprocs;
	char **names = calloc(n ? n : 1, sizeof(*names));
	struct named_proc *order = calloc(n ? n : 1, sizeof(*order));
	int err = 0;

	if (!names || !order) {
		err = -ENOMEM;
		goto cleanup;
	}
	for (size_t i = 0; i < n; i++)
		order[i] = (struct named_proc){ .base = proc_base_name(j->procs[i].proc),
						.pid = j->procs[i].proc->pid, .index = i };
	qsort(order, n, sizeof(*order), by_name_then_start);
	for (size_t k = 0, same = 0; k < n; k++) {
		char **name = &names[order[k].index];

		same = k && !strcmp(order[k - 1].base, order[k].base) ? same + 1 : 0;
		if (same) {
			if (asprintf(name, "%s #%zu", order[k].base, same + 1) < 0)
				*name = NULL;
		} else {
			*name = strdup(order[k].base);
		}
		if (!*name) {
			err = -ENOMEM;
			goto cleanup;
		}
	}
cleanup:
	free(order);
	if (err) {
		report_free_names(names, n);
		errno = -err;
		return NULL;
	}
	return names;
}

void report_free_names(char **names, size_t n)
{
	if (!names)
		return;
	for (size_t i = 0; i < n; i++)
		free(names[i]);
	free(names);
}

int report_proc_is_root(const struct judgement *j, size_t i)
{
	pid_t ppid = j->procs[i].proc->ppid;

	for (size_t k = 0; k < j->nprocs; k++)
		if (k != i && j->procs[k].proc->pid == ppid)
			return 0;
	return 1;
}

/* Whether a shell would read the word as it is. */
static int plain_word(const char *s)
{
	if (!s[0])
		return 0;
	for (; *s; s++)
		if (!strchr("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"
			    "@%_+=:,./-", *s))
			return 0;
	return 1;
}

char *report_command_line(const char *const *argv)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *out = open_memstream(&buf, &len);

	if (!out)
		return NULL;
	for (size_t i = 0; argv && argv[i]; i++) {
		const char *s = argv[i];

		if (i)
			fputc(' ', out);
		if (plain_word(s)) {
			frame_format_put_clean(out, s, 0);
			continue;
		}
		fputc('\'', out);
		for (const char *q = strchr(s, '\''); q; s = q + 1, q = strchr(s, '\'')) {
			char *part = strndup(s, (size_t)(q - s));

			if (!part) {
				fclose(out);
				free(buf);
				errno = ENOMEM;
				return NULL;
			}
			frame_format_put_clean(out, part, FRAME_FORMAT_KEEP_NEWLINES);
			free(part);
			fputs("'\\''", out);
		}
		frame_format_put_clean(out, s, FRAME_FORMAT_KEEP_NEWLINES);
		fputc('\'', out);
	}
	if (fclose(out)) {
		free(buf);
		errno = ENOMEM;
		return NULL;
	}
	return buf;
}

void report_print_amount(FILE *out, uint64_t bytes, uint64_t allocs)
{
	fprintf(out, "%" PRIu64 " byte%s in %" PRIu64 " allocation%s", bytes, bytes == 1 ? "" : "s",
		allocs, allocs == 1 ? "" : "s");
}

void report_print_kinds(FILE *out, const struct proc_judgement *pj)
{
	const char *sep = "";

	for (int k = 0; k < LEAK__COUNT; k++) {
		if (!pj->kind_allocs[k])
			continue;
		fprintf(out, "%s%s: ", sep, leak_kind_words(k));
		report_print_amount(out, pj->kind_bytes[k], pj->kind_allocs[k]);
		sep = "; ";
	}
}

void report_print_budget(FILE *out, uint64_t max_bytes, uint64_t max_allocs)
{
	fputs("at most ", out);
	if (max_bytes == UINT64_MAX)
		fputs("any number of bytes", out);
	else
		fprintf(out, "%" PRIu64 " byte%s", max_bytes, max_bytes == 1 ? "" : "s");
	if (max_allocs == UINT64_MAX)
		fputs(" in any number of allocations", out);
	else
		fprintf(out, " in %" PRIu64 " allocation%s", max_allocs,
			max_allocs == 1 ? "" : "s");
}

void report_print_rule(FILE *out, const struct suppression_rule *r)
{
	frame_format_put_clean(out, r->name ? r->name : "(unnamed)", 0);
	fputs(" (", out);
	frame_format_put_clean(out, r->file ? r->file : "?", 0);
	if (r->line > 0)
		fprintf(out, ":%d", r->line);
	fputc(')', out);
}

const char *report_signal_name(int sig)
{
	static const struct {
		int sig;
		const char *name;
	} names[] = {
		{ SIGHUP, "SIGHUP" },	{ SIGINT, "SIGINT" },	{ SIGQUIT, "SIGQUIT" },
		{ SIGILL, "SIGILL" },	{ SIGTRAP, "SIGTRAP" }, { SIGABRT, "SIGABRT" },
		{ SIGBUS, "SIGBUS" },	{ SIGFPE, "SIGFPE" },	{ SIGKILL, "SIGKILL" },
		{ SIGUSR1, "SIGUSR1" }, { SIGSEGV, "SIGSEGV" }, { SIGUSR2, "SIGUSR2" },
		{ SIGPIPE, "SIGPIPE" }, { SIGALRM, "SIGALRM" }, { SIGTERM, "SIGTERM" },
		{ SIGXCPU, "SIGXCPU" }, { SIGXFSZ, "SIGXFSZ" }, { SIGSYS, "SIGSYS" },
	};

	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if (names[i].sig == sig)
			return names[i].name;
	return NULL;
}
