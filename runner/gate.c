// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#include "runner/gate.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "runner/allocator.h"
#include "runner/collect.h"
#include "runner/images.h"
#include "runner/preloading.h"
#include "runner/reachability.h"
#include "runner/resolve.h"
#include "runner/tracer.h"

/* A traced process, from its creation (or the start) to its exit. */
struct traced_proc {
	pid_t pid;
	pid_t ppid;
	uint64_t image_start_ns;	/* blocks before this belong to an earlier image */
	char *comm;
	char *exe;
	int launching;			/* the program, before the exec that starts it */
	int exec_held;			/* held after an exec, for its new program's probes */
	int done;
	struct block_kinds *kinds;	/* its blocks' kinds, read from its memory at its end */
	const char *scan_error;		/* why it has none */
	uint64_t scan_ns;
};

struct gate {
	struct gate_opts opts;
	struct tracer *tracer;
	struct resolver *resolver;
	struct launch *child;
	pid_t root;
	int root_status;
	int root_reaped;
	int timed_out;
	struct images *images;		/* the allocators of the programs processes execute */
	struct stat preload_st;		/* the preload library's file, when there is one */
	struct traced_proc *procs;
	size_t nprocs, cap;
	/* Judged processes: records and the collections their sites live in. */
	struct proc_record *records;
	struct collection **collections;
	size_t nrecords;
	int error;
};

static struct traced_proc *find_proc(struct gate *g, pid_t pid)
{
	for (size_t i = g->nprocs; i-- > 0;)
		if (g->procs[i].pid == pid && !g->procs[i].done)
			return &g->procs[i];
	return NULL;
}

static char *read_comm(pid_t pid)
{
	char path[64], buf[64] = "";
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/comm", pid);
	f = fopen(path, "re");
	if (f) {
		if (fgets(buf, sizeof(buf), f))
			buf[strcspn(buf, "\n")] = '\0';
		fclose(f);
	}
	return buf[0] ? strdup(buf) : NULL;
}

static struct traced_proc *add_proc(struct gate *g, pid_t pid, pid_t ppid, const char *comm,
				    const char *exe)
{
	struct traced_proc *p;

	if (g->nprocs == g->cap) {
		size_t cap = g->cap ? g->cap * 2 : 16;

		p = realloc(g->procs, cap * sizeof(*p));
		if (!p)
			return NULL;
		g->procs = p;
		g->cap = cap;
	}
	p = &g->procs[g->nprocs++];
	memset(p, 0, sizeof(*p));
	p->pid = pid;
	p->ppid = ppid;
	p->comm = comm ? strdup(comm) : NULL;
	p->exe = exe ? strdup(exe) : NULL;
	return p;
}

static void set_str(char **dst, const char *src)
{
	char *copy;

	if (!src)
		return;
	copy = strdup(src);
	if (!copy)
		return;
	free(*dst);
	*dst = copy;
}

/* Judges a process that exited: its blocks become a record, then leave the tracer. */
static int judge_exit(struct gate *g, struct traced_proc *p, int exit_code)
{
	struct frame_resolver fr = resolver__as_frame_resolver(g->resolver);
	struct collect_filter f = {
		.tgid = (uint32_t)p->pid,
		.not_before_ns = p->image_start_ns,
		.take = 1,	/* the process is gone: its blocks leave the tracer */
		.kinds = p->kinds,
	};
	uint64_t start = collect_now_ns(), map_bytes = g->opts.verbose ? tracer__map_memory(g->tracer) : 0;
	struct collection *c = collect__blocks(g->tracer, &f, &fr);
	struct proc_record *recs, *r;
	struct collection **cols;

	p->done = 1;
	tracer__remove_process(g->tracer, p->pid);
	tracer__detach_process(g->tracer, p->pid);
	if (!c) {
		fprintf(stderr, "memleak-run: cannot read the blocks of pid %d: %s\n", p->pid,
			strerror(errno));
		return -errno;
	}
	recs = realloc(g->records, (g->nrecords + 1) * sizeof(*recs));
	if (recs)
		g->records = recs;
	cols = realloc(g->collections, (g->nrecords + 1) * sizeof(*cols));
	if (cols)
		g->collections = cols;
	if (!recs || !cols) {
		collection__free(c);
		return -ENOMEM;
	}
	g->collections[g->nrecords] = c;
	r = &g->records[g->nrecords++];
	memset(r, 0, sizeof(*r));
	r->pid = p->pid;
	r->ppid = p->ppid;
	r->comm = p->comm;
	r->exe = p->exe;
	r->exited = 1;
	/* task->exit_code: a wait status. */
	if (WIFSIGNALED(exit_code))
		r->term_signal = WTERMSIG(exit_code);
	else
		r->exit_code = WEXITSTATUS(exit_code);
	r->nsites = c->nsites;
	r->sites = c->sites;
	r->scanned = p->kinds != NULL;
	r->scan_ns = p->scan_ns;
	r->scan_error = p->kinds ? NULL : p->scan_error;
	if (!p->kinds && !p->scan_error)
		r->scan_error = r->term_signal ? "it was killed by a signal before its memory could be read"
					       : "it ended without passing through _exit";
	block_kinds__free(p->kinds);
	p->kinds = NULL;
	if (r->scanned && c->unclassified)
		fprintf(stderr, "memleak-run: %s[%d]: %llu blocks allocated after its memory was read "
				"are counted as definitely lost\n", p->comm ? p->comm : "?", p->pid,
			(unsigned long long)c->unclassified);
	if (g->opts.verbose)
		fprintf(stderr, "memleak-run: pid %d (%s) exited: %zu sites, %llu bytes in %llu blocks "
				"outstanding, read in %.3f s; tracer maps held %.1f MiB\n",
			p->pid, p->comm ? p->comm : "?", c->nsites, (unsigned long long)c->total_bytes,
			(unsigned long long)c->total_allocs, (collect_now_ns() - start) / 1e9,
			map_bytes / 1048576.0);
	return 0;
}

/* Where the exec'd program is, through the process's root and working directory. */
static void remember_program(struct gate *g, pid_t pid, const char *name, struct traced_proc *p)
{
	if (!name[0])
		return;
	resolver__add_process_file(g->resolver, pid, name);
	resolver__add_maps(g->resolver, pid);
	if (p) {
		char exe[4096];
		char link[64];
		ssize_t n;

		snprintf(link, sizeof(link), "/proc/%d/exe", pid);
		n = readlink(link, exe, sizeof(exe) - 1);
		if (n > 0) {
			exe[n] = '\0';
			set_str(&p->exe, exe);
		} else {
			set_str(&p->exe, name);
		}
	}
}

/*
 * What a process about to run code from the objects of `alloc` needs known of them: their
 * paths, for symbols, and their unwind rows, for the stack walk (the preload library's
 * frames are walked through, not shown).
 */
static void learn_objects(struct gate *g, const struct allocator *alloc)
{
	for (size_t i = 0; i < alloc->nobjects; i++) {
		const char *path = alloc->object_paths[i];
		struct stat st;
		int hidden;

		resolver__add_file(g->resolver, path);
		hidden = g->opts.preload && !stat(path, &st) && st.st_dev == g->preload_st.st_dev &&
			 st.st_ino == g->preload_st.st_ino;
		tracer__add_unwind(g->tracer, path, hidden);
	}
}

/*
 * A traced process executed a new program and is held before its first instruction: its
 * probes become the ones that program's allocator needs. A static program has its own;
 * one whose environment no longer preloads the library uses the C library's. If that
 * cannot be done, the process still runs, and the user is told it is not traced.
 */
static void probe_new_program(struct gate *g, struct traced_proc *p)
{
	const char *comm = p->comm ? p->comm : "?";
	const struct allocator *alloc;
	int fresh, err;

	alloc = images__allocator(g->images, p->pid, &fresh);
	err = alloc ? 0 : -errno;
	if (alloc && fresh)
		learn_objects(g, alloc);
	if (alloc)
		err = tracer__attach_image(g->tracer, p->pid, alloc);
	/* A process gone meanwhile is judged at its exit event, with nothing to say here. */
	if (err && err != -ESRCH)
		fprintf(stderr, "memleak-run: warning: %s[%d] is not traced after its exec of %s: "
				"%s%s\n", comm, p->pid, p->exe ? p->exe : "a program",
			alloc ? "" : "cannot read its allocator: ", strerror(-err));
	else if (!err && g->opts.verbose > 1)
		fprintf(stderr, "memleak-run: %s[%d] executed %s: probes on %s\n", comm, p->pid,
			p->exe ? p->exe : "?", alloc->objects);
}

/*
 * A traced process stopped itself in _exit or abort, its memory whole: which of its
 * blocks it still points to is read now, then it goes on to its end. Whatever fails
 * here leaves its blocks taken as definitely lost, and the report says why.
 */
static void scan_ending(struct gate *g, struct traced_proc *p, pid_t tid, uint64_t sp)
{
	uint64_t start = collect_now_ns(), listed = start;
	struct reach_stats stats = { 0 };
	int err;

	block_kinds__free(p->kinds);
	p->kinds = NULL;
	err = reach_wait_stopped(p->pid, 2000);
	if (!err) {
		p->kinds = collect__kinds(g->tracer, p->pid, p->image_start_ns, NULL, tid, sp, &stats,
					  &listed);
		if (!p->kinds)
			err = -errno;
	}
	p->scan_ns = collect_now_ns() - start;
	if (err) {
		p->scan_error = err == -ETIMEDOUT ? "it did not stop to have its memory read"
						  : "its memory could not be read";
		fprintf(stderr, "memleak-run: %s[%d]: %s (%s): its blocks count as definitely lost\n",
			p->comm ? p->comm : "?", p->pid, p->scan_error, strerror(-err));
	} else if (g->opts.verbose) {
		fprintf(stderr, "memleak-run: %s[%d] held %.3f s at its end (blocks listed in %.3f s): "
				"%zu blocks, %llu bytes of roots and %llu of blocks read, %llu threads "
				"(%llu without registers)\n",
			p->comm ? p->comm : "?", p->pid, p->scan_ns / 1e9, (listed - start) / 1e9,
			p->kinds->n, (unsigned long long)stats.root_bytes,
			(unsigned long long)stats.block_bytes, (unsigned long long)stats.threads,
			(unsigned long long)stats.threads_without_registers);
	}
	kill(p->pid, SIGCONT);
}

static int on_event(void *ctx, const struct memleak_event *e)
{
	struct gate *g = ctx;
	struct traced_proc *p = find_proc(g, (pid_t)e->tgid), *parent;
	char *comm;
	int err;

	if (g->opts.verbose > 1)
		fprintf(stderr, "memleak-run: event %u tgid %u tid %u ppid %u\n", e->type, e->tgid,
			e->tid, e->ppid);
	switch (e->type) {
	case EV_FORK:
		parent = find_proc(g, (pid_t)e->ppid);
		if (!g->opts.follow || p)
			break;
		comm = read_comm((pid_t)e->tgid);
		p = add_proc(g, (pid_t)e->tgid, (pid_t)e->ppid,
			     comm ? comm : parent ? parent->comm : NULL, parent ? parent->exe : NULL);
		free(comm);
		if (!p) {
			g->error = -ENOMEM;
			break;
		}
		/*
		 * The new process will stop itself before its first instruction (EV_HELD). Its
		 * parent's probes go in now, while the parent's program is still the one it
		 * copied: the parent may execute another before the child's hold is seen.
		 */
		err = tracer__attach_child(g->tracer, p->pid, p->ppid);
		if (err && err != -ESRCH)
			fprintf(stderr, "memleak-run: pid %d is not traced: %s\n", p->pid, strerror(-err));
		break;
	case EV_HELD:
		/* A held process continues, traced or not: a failure has been said. */
		if (p && p->exec_held) {
			p->exec_held = 0;
			probe_new_program(g, p);
		}
		kill((pid_t)e->tgid, SIGCONT);
		break;
	case EV_EXEC:
		if (!p)
			break;
		p->image_start_ns = e->ts_ns;
		/* What was read of the old image's memory (an abort it survived) is not the new one's. */
		block_kinds__free(p->kinds);
		p->kinds = NULL;
		p->scan_error = NULL;
		remember_program(g, p->pid, e->path, p);
		comm = read_comm(p->pid);
		if (comm)
			set_str(&p->comm, comm);
		free(comm);
		/* The program's first exec runs the file its probes were made for. */
		p->exec_held = !p->launching;
		p->launching = 0;
		break;
	case EV_MODULE_LOAD:
	case EV_MODULE_UNLOAD:
		resolver__add_process_file(g->resolver, (pid_t)e->tgid, e->path);
		if (e->type == EV_MODULE_LOAD) {
			char path[4400];

			resolver__add_maps(g->resolver, (pid_t)e->tgid);
			if (!resolve_process_path((pid_t)e->tgid, e->path, path, sizeof(path)))
				tracer__add_unwind(g->tracer, path, 0);
		}
		break;
	case EV_ENDING:
		if (p)
			scan_ending(g, p, (pid_t)e->tid, e->addr);
		else
			kill((pid_t)e->tgid, SIGCONT);
		break;
	case EV_EXIT:
		err = p ? judge_exit(g, p, e->exit_code) : 0;
		if (err && !g->error)
			g->error = err;
		break;
	default:
		break;
	}
	return 0;
}

/*
 * What to probe. The preload library's sites only when every process the program forks
 * is attached before it runs: a process inherits a site the kernel has patched into a
 * call, but not what the call jumps to.
 */
static struct allocator_opts allocator_options(const struct gate_opts *opts)
{
	return (struct allocator_opts){ .want_dl = 1, .want_exit = 1,
					.at_entry = opts->probes_at_entry, .use_sites = opts->follow };
}

struct gate *gate__new(const struct gate_opts *opts)
{
	struct gate *g = calloc(1, sizeof(*g));
	struct tracer_opts to = {
		.follow_children = opts->follow,
		.hold_execs = 1,
		.hold_exits = 1,
		.wa_missing_free = 1,
		.sample_rate = 1,
		.max_blocks = opts->max_blocks,
		.max_stacks = opts->max_stacks,
		.probe_only = opts->probe_only,
		.verbose = opts->verbose,
		.on_event = on_event,
	};
	struct allocator_opts ao = allocator_options(opts);
	int err = 0;

	if (!g)
		return NULL;
	g->opts = *opts;
	to.event_ctx = g;
	if (opts->preload && stat(opts->preload, &g->preload_st)) {
		err = -errno;
		fprintf(stderr, "memleak-run: cannot find %s: %s\n", opts->preload, strerror(-err));
		goto cleanup;
	}
	g->resolver = resolver__new();
	g->images = images__new(&ao);
	if (!g->resolver || !g->images) {
		err = -errno;
		goto cleanup;
	}
	g->tracer = tracer__new(&to);
	if (!g->tracer)
		err = -errno;
cleanup:
	if (err) {
		gate__free(g);
		errno = -err;
		return NULL;
	}
	return g;
}

void gate__free(struct gate *g)
{
	if (!g)
		return;
	tracer__free(g->tracer);
	launch__free(g->child);
	for (size_t i = 0; i < g->nrecords; i++)
		collection__free(g->collections[i]);
	free(g->collections);
	free(g->records);
	for (size_t i = 0; i < g->nprocs; i++) {
		free(g->procs[i].comm);
		free(g->procs[i].exe);
		block_kinds__free(g->procs[i].kinds);
	}
	free(g->procs);
	resolver__free(g->resolver);
	images__free(g->images);
	free(g);
}

/*
 * Puts the preload library in the environment the program will inherit, unless the
 * program would not load it: then its allocator is probed in the C library.
 */
static int preload(struct gate *g, const char *name, const struct launch_opts *lo)
{
	char *program;
	const char *obstacle;
	int err;

	if (!g->opts.preload)
		return 0;
	program = launch_find_program(name);
	if (!program)
		return -errno;
	obstacle = preloading_obstacle(g->opts.preload, program, lo);
	free(program);
	if (obstacle) {
		if (g->opts.verbose)
			fprintf(stderr, "memleak-run: not preloading %s: %s\n", g->opts.preload, obstacle);
		return 0;
	}
	err = preloading_setenv(g->opts.preload);
	if (err)
		fprintf(stderr, "memleak-run: cannot set LD_PRELOAD: %s\n", strerror(-err));
	else if (g->opts.verbose)
		fprintf(stderr, "memleak-run: preloading %s\n", g->opts.preload);
	return err;
}

int gate__start(struct gate *g, char *const argv[], const struct launch_opts *lo)
{
	struct allocator_opts ao = allocator_options(&g->opts);
	struct allocator *alloc = NULL;
	const char *base;
	int err;

	err = preload(g, argv[0], lo);
	if (err)
		return err;
	g->child = launch__start(argv, lo);
	if (!g->child)
		return -errno;
	g->root = launch__pid(g->child);
	alloc = allocator__for_program(launch__path(g->child), &ao);
	if (!alloc) {
		err = -errno;
		fprintf(stderr, "memleak-run: cannot read the allocator of %s: %s\n",
			launch__path(g->child), strerror(-err));
		return err;
	}
	learn_objects(g, alloc);
	err = tracer__attach_process(g->tracer, g->root, alloc);
	if (err)
		goto cleanup;
	base = strrchr(launch__path(g->child), '/');
	if (!add_proc(g, g->root, getpid(), base ? base + 1 : launch__path(g->child),
		      launch__path(g->child))) {
		err = -ENOMEM;
		goto cleanup;
	}
	g->procs[0].launching = 1;
	err = launch__release(g->child);
	if (err) {
		g->root_reaped = 1;
		g->procs[0].done = 1;
	}
cleanup:
	allocator__free(alloc);
	return err;
}

static int all_done(const struct gate *g)
{
	for (size_t i = 0; i < g->nprocs; i++)
		if (!g->procs[i].done)
			return 0;
	return 1;
}

/* Ends every traced process still alive: the root first, then what it left behind. */
static void kill_tree(struct gate *g, int sig)
{
	for (size_t i = 0; i < g->nprocs; i++)
		if (!g->procs[i].done)
			kill(g->procs[i].pid, sig);
}

int gate__wait(struct gate *g, volatile sig_atomic_t *stop)
{
	uint64_t start = collect_now_ns(), root_gone_at = 0;
	int forwarded = 0, err;

	for (;;) {
		/* Once the program's exit was seen, it is a zombie within moments: look often. */
		err = tracer__poll(g->tracer, g->nprocs && g->procs[0].done && !g->root_reaped ? 1 : 50);
		if (err < 0) {
			fprintf(stderr, "memleak-run: reading events failed: %s\n", strerror(-err));
			return err;
		}
		if (g->error)
			return g->error;
		if (!g->root_reaped && waitpid(g->root, &g->root_status, WNOHANG) == g->root) {
			g->root_reaped = 1;
			root_gone_at = collect_now_ns();
		}
		if (g->root_reaped && all_done(g))
			break;
		/*
		 * Processes the program left running are not waited for long: they are
		 * reported as not judged. Their exit events already queued are taken first.
		 */
		if (g->root_reaped && collect_now_ns() - root_gone_at > 500000000ULL) {
			if (g->opts.verbose)
				fprintf(stderr, "memleak-run: processes still running after the program "
						"exited are not judged\n");
			break;
		}
		if (*stop && forwarded != *stop) {
			forwarded = *stop;
			kill(g->root, *stop);
		}
		if (g->opts.timeout && !g->timed_out &&
		    collect_now_ns() - start > g->opts.timeout * 1000000000ULL) {
			fprintf(stderr, "memleak-run: timeout after %u seconds: ending the process tree\n",
				g->opts.timeout);
			g->timed_out = 1;
			kill_tree(g, SIGKILL);
		}
	}
	return 0;
}

int gate__status(const struct gate *g)
{
	return g->root_status;
}

int gate__timed_out(const struct gate *g)
{
	return g->timed_out;
}

const struct proc_record *gate__records(const struct gate *g, size_t *n)
{
	struct lost_counts lost;

	for (size_t i = 0; i < g->nrecords; i++) {
		if (g->records[i].pid == g->root && !tracer__lost(g->tracer, &lost))
			g->records[i].lost = lost;
	}
	*n = g->nrecords;
	return g->records;
}
