// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * memleak: trace outstanding allocations of a process or of the kernel and print the
 * stacks that hold them. This file only sequences the lifecycle: options, launch,
 * attach, the event loop, reports, exit status.
 */
#include <errno.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "reporters/memleak_text.h"
#include "runner/allocator.h"
#include "runner/collect.h"
#include "runner/launch.h"
#include "runner/options.h"
#include "runner/reachability.h"
#include "runner/resolve.h"
#include "runner/tracer.h"

/* Exit statuses of memleak itself (the -c command's own status is passed through). */
enum {
	EXIT_OK = 0,
	EXIT_FAILURE_ = 1,	/* could not trace */
	EXIT_USAGE = 2,
	EXIT_CANNOT_EXEC = 127,
};

static volatile sig_atomic_t stop_signal;

static void on_signal(int sig)
{
	stop_signal = sig;
}

struct session {
	struct memleak_opts *opts;
	struct tracer *tracer;
	struct resolver *resolver;
	pid_t pid;			/* traced process, 0 in kernel mode */
	uint64_t image_start_ns;	/* blocks before this belong to an earlier image */
	int target_exited;
	struct block_kinds *kinds;	/* -c: its blocks' kinds, read in _exit or abort */
};

/* The kinds of the outstanding blocks of the process, held still by h; NULL (said) on failure. */
static struct block_kinds *read_kinds(struct session *s, struct reach_hold *h, pid_t tid,
				      uint64_t sp)
{
	struct block_kinds *k = collect__kinds(s->tracer, s->pid, s->image_start_ns, h, tid, sp,
					       NULL, NULL);

	if (!k)
		fprintf(stderr, "memleak: cannot read the memory of pid %d: %s\n", s->pid,
			strerror(errno));
	return k;
}

/* The traced command stopped itself in _exit or abort: its memory is read, then it goes on. */
static void on_ending(struct session *s, const struct memleak_event *e)
{
	struct reach_hold *h = NULL;

	if ((pid_t)e->tgid == s->pid && !reach_wait_stopped(s->pid, 2000))
		h = reach_hold__new(s->pid);
	if (h) {
		block_kinds__free(s->kinds);
		s->kinds = read_kinds(s, h, (pid_t)e->tid, e->addr);
		reach_hold__free(h);
	}
	kill((pid_t)e->tgid, SIGCONT);
}

static const char *fn_label(uint32_t fn)
{
	switch (fn) {
	case KFN_KMALLOC: return "kmalloc";
	case KFN_KMEM_CACHE: return "kmem_cache";
	case KFN_PAGE: return "page";
	case KFN_PERCPU: return "percpu";
	default: return allocator_fn_name(fn);
	}
}

static int on_event(void *ctx, const struct memleak_event *e)
{
	struct session *s = ctx;

	switch (e->type) {
	case EV_ALLOC:
	case EV_FREE:
		printf("%-5s %-13s pid %-7u tid %-7u addr 0x%" PRIx64 " size %" PRIu64 "\n",
		       e->type == EV_ALLOC ? "alloc" : "free", fn_label(e->fn), e->tgid, e->tid,
		       (uint64_t)e->addr, (uint64_t)e->size);
		break;
	case EV_EXEC:
		if ((pid_t)e->tgid == s->pid) {
			s->image_start_ns = e->ts_ns;
			resolver__add_maps(s->resolver, s->pid);
		}
		break;
	case EV_MODULE_LOAD:
	case EV_MODULE_UNLOAD:
		resolver__add_process_file(s->resolver, (pid_t)e->tgid, e->path);
		/* The library's mappings too, while it is loaded (read before it unloads). */
		if (e->type == EV_MODULE_LOAD) {
			char path[4400];

			resolver__add_maps(s->resolver, (pid_t)e->tgid);
			if (!resolve_process_path((pid_t)e->tgid, e->path, path, sizeof(path)))
				tracer__add_unwind(s->tracer, path, 0);
		}
		break;
	case EV_ENDING:
		on_ending(s, e);
		break;
	case EV_EXIT:
		if ((pid_t)e->tgid == s->pid)
			s->target_exited = 1;
		break;
	default:
		break;
	}
	return 0;
}

static void report(struct session *s, int final)
{
	struct memleak_opts *o = s->opts;
	struct frame_resolver fr = resolver__as_frame_resolver(s->resolver);
	struct memleak_text_opts to = {
		.top = o->top,
		.show_blocks = o->show_allocs,
		.sample_rate = o->sample_rate,
	};
	struct collect_filter f = {
		.tgid = (uint32_t)s->pid,
		/* Once the process is gone every block it held is a leak, whatever its age. */
		.min_age_ns = final && s->pid ? 0 : o->older_ms * 1000000ULL,
		.not_before_ns = s->image_start_ns,
		.want_blocks = o->show_allocs,
	};
	struct block_kinds *unreachable = NULL;
	struct collection *c;
	struct lost_counts lost;
	char note[160];

	/* Libraries mapped since the last look, while the process can still be read. */
	if (s->pid && !s->target_exited)
		resolver__add_maps(s->resolver, s->pid);
	/* --unreachable: the process is held while its blocks are listed and its memory read. */
	if (o->unreachable && !s->target_exited) {
		uint64_t start = collect_now_ns();
		struct reach_hold *h = reach_hold__new(s->pid);

		if (!h) {
			fprintf(stderr, "memleak: cannot hold pid %d to read its memory: %s\n", s->pid,
				strerror(errno));
			return;
		}
		unreachable = read_kinds(s, h, 0, 0);
		reach_hold__free(h);
		if (!unreachable)
			return;
		snprintf(note, sizeof(note), "Only blocks nothing points to; pid %d was held %.1f ms "
			 "to read its memory.", s->pid, (collect_now_ns() - start) / 1e6);
		f.kinds = unreachable;
		f.only_kinds = LEAK_KINDS_LOST;
		f.min_age_ns = 0;
		to.note = note;
	} else if (final && s->kinds) {
		f.kinds = s->kinds;
	}
	to.show_kinds = f.kinds != NULL;
	if (o->combined_only)
		c = collect__combined(s->tracer, (uint32_t)s->pid, &fr);
	else
		c = collect__blocks(s->tracer, &f, &fr);
	block_kinds__free(unreachable);
	if (!c) {
		fprintf(stderr, "memleak: cannot read the outstanding allocations: %s\n", strerror(errno));
		return;
	}
	memleak_text__report(stdout, c->sites, c->nsites, &to, time(NULL));
	if (!tracer__lost(s->tracer, &lost))
		memleak_text__lost(stdout, &lost, time(NULL));
	fflush(stdout);
	collection__free(c);
}

static struct allocator *find_allocator(const struct memleak_opts *o, const char *program, pid_t pid)
{
	/* A command is held in _exit or abort, for the kinds of the final report. */
	struct allocator_opts ao = { .want_mmap = o->mmap, .want_dl = 1,
				     .want_exit = program && !o->combined_only,
				     .at_entry = o->probes_at_entry };
	struct allocator *a;
	const char *what;

	if (o->obj) {
		a = allocator__for_object(o->obj, &ao);
		what = o->obj;
	} else if (program) {
		a = allocator__for_program(program, &ao);
		what = program;
	} else {
		a = allocator__for_pid(pid, &ao);
		what = "the process";
	}
	if (!a) {
		fprintf(stderr, "memleak: cannot read the allocator of %s: %s\n", what, strerror(errno));
		return NULL;
	}
	for (size_t i = 0; i < a->nsites; i++)
		if (a->sites[i].kind != PROBE_FUNCTION || a->sites[i].fn == FN_MALLOC ||
		    a->sites[i].fn == FN_FREE)
			return a;
	fprintf(stderr, "memleak: no allocator found: none of %s defines malloc or free\n",
		a->objects[0] ? a->objects : what);
	allocator__free(a);
	return NULL;
}

static int wait_status(int status)
{
	if (WIFEXITED(status))
		return WEXITSTATUS(status);
	if (WIFSIGNALED(status))
		return 128 + WTERMSIG(status);
	return EXIT_FAILURE_;
}

int main(int argc, char **argv)
{
	struct memleak_opts opts;
	struct session s = { .opts = &opts };
	struct tracer_opts to = { 0 };
	struct allocator *alloc = NULL;
	struct launch *child = NULL;
	char **cmd_argv = NULL;
	struct sigaction sa = { .sa_handler = on_signal };
	uint64_t next_report;
	int exit_code = EXIT_FAILURE_, err, child_status = -1;
	long reports = 0;

	memleak_opts__defaults(&opts);
	err = memleak_opts__parse(&opts, argc, argv);
	if (err)
		return err > 0 ? EXIT_OK : EXIT_USAGE;
	setvbuf(stdout, NULL, _IOLBF, 0);

	if (opts.pid && kill(opts.pid, 0) && errno == ESRCH) {
		fprintf(stderr, "memleak: no process with pid %d\n", opts.pid);
		return EXIT_FAILURE_;
	}
	if (opts.command) {
		cmd_argv = launch_split_command(opts.command);
		if (!cmd_argv) {
			fprintf(stderr, "memleak: cannot parse the command line '%s'\n", opts.command);
			return EXIT_USAGE;
		}
		child = launch__start(cmd_argv, NULL);
		if (!child) {
			fprintf(stderr, "memleak: cannot execute '%s': %s\n", cmd_argv[0], strerror(errno));
			exit_code = EXIT_CANNOT_EXEC;
			goto cleanup;
		}
		s.pid = launch__pid(child);
	} else {
		s.pid = opts.pid;
	}

	if (s.pid) {
		alloc = find_allocator(&opts, child ? launch__path(child) : NULL, s.pid);
		if (!alloc)
			goto cleanup;
	}
	s.resolver = resolver__new();
	if (!s.resolver) {
		fprintf(stderr, "memleak: cannot start the symbolizer: %s\n", strerror(errno));
		goto cleanup;
	}
	to.kernel = s.pid == 0;
	to.percpu = opts.percpu;
	to.trace_events = opts.trace;
	to.combined_only = opts.combined_only;
	to.wa_missing_free = opts.wa_missing_free;
	to.min_size = opts.min_size;
	to.max_size = opts.max_size;
	to.sample_rate = opts.sample_rate;
	to.max_blocks = opts.max_blocks;
	to.max_stacks = opts.max_stacks;
	to.on_event = on_event;
	to.event_ctx = &s;
	to.verbose = opts.verbose;
	to.hold_exits = child && !opts.combined_only;
	s.tracer = tracer__new(&to);
	if (!s.tracer)
		goto cleanup;
	/* Symbols and unwind rows of the objects, before the process runs code from them. */
	for (size_t i = 0; alloc && i < alloc->nobjects; i++) {
		resolver__add_file(s.resolver, alloc->object_paths[i]);
		tracer__add_unwind(s.tracer, alloc->object_paths[i], 0);
	}
	err = s.pid ? tracer__attach_process(s.tracer, s.pid, alloc) : tracer__attach_kernel(s.tracer);
	if (err)
		goto cleanup;

	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	if (child) {
		printf("Executing '%s' and tracing the resulting process.\n", opts.command);
		err = launch__release(child);
		if (err) {
			fprintf(stderr, "memleak: cannot execute '%s': %s\n", launch__path(child),
				strerror(-err));
			exit_code = EXIT_CANNOT_EXEC;
			goto cleanup;
		}
	} else if (s.pid) {
		printf("Attaching to pid %d, Ctrl+C to quit.\n", s.pid);
		resolver__add_maps(s.resolver, s.pid);
	} else {
		printf("Attaching to kernel allocators, Ctrl+C to quit.\n");
	}

	next_report = collect_now_ns() + opts.interval * 1000000000ULL;
	while (!stop_signal) {
		uint64_t now = collect_now_ns();
		int wait_ms = next_report > now ? (int)((next_report - now) / 1000000) : 0;

		err = tracer__poll(s.tracer, wait_ms > 100 ? 100 : wait_ms);
		if (err < 0 && err != -EINTR) {
			fprintf(stderr, "memleak: reading events failed: %s\n", strerror(-err));
			break;
		}
		if (child && child_status < 0) {
			int status;

			if (waitpid(s.pid, &status, WNOHANG) == s.pid) {
				child_status = status;
				s.target_exited = 1;
			}
		}
		if (s.target_exited)
			break;
		if (collect_now_ns() >= next_report) {
			report(&s, 0);
			next_report += opts.interval * 1000000000ULL;
			if (opts.count > 0 && ++reports >= opts.count)
				break;
		}
	}
	/* Events still queued (the exit, a last dlopen) come before the final report. */
	tracer__poll(s.tracer, 0);
	if (s.target_exited || stop_signal)
		report(&s, s.target_exited);
	exit_code = EXIT_OK;
	if (child) {
		if (child_status < 0 && !s.target_exited) {
			/* Interrupted: the command keeps running, as with memleak(8). */
			child_status = 0;
		} else if (child_status < 0) {
			while (waitpid(s.pid, &child_status, 0) < 0 && errno == EINTR)
				;
		}
		exit_code = wait_status(child_status);
	}
cleanup:
	block_kinds__free(s.kinds);
	tracer__free(s.tracer);
	resolver__free(s.resolver);
	allocator__free(alloc);
	launch__free(child);	/* kills the command only if it was never released */
	launch_free_argv(cmd_argv);
	return exit_code;
}
