// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * memleak-run: the CI leak gate. This file only sequences the lifecycle and maps
 * outcomes to exit statuses: options, suppressions, the traced run, the verdict, the
 * reports.
 */
#include <errno.h>
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include "assertions/gen_suppressions.h"
#include "assertions/judge.h"
#include "assertions/suppressions.h"
#include "reporters/annotations.h"
#include "reporters/json.h"
#include "reporters/junit.h"
#include "reporters/summary.h"
#include "runner/collect.h"
#include "runner/gate.h"
#include "runner/options.h"
#include "runner/preloading.h"
#include "runner/run_options.h"

/* Exit statuses of the gate itself; the program's own failure passes through. */
enum {
	EXIT_PASS = 0,
	EXIT_USAGE = 2,
	EXIT_SKIP = 77,
	EXIT_HARD_ERROR = 99,	/* cannot trace: Automake's "hard error" */
	EXIT_TIMEOUT = 124,
	EXIT_CANNOT_EXEC = 127,
};

static volatile sig_atomic_t stop_signal;

/* Signals from another process are passed on to the program; a terminal's reach it too. */
static void on_signal(int sig, siginfo_t *info, void *uctx)
{
	(void)uctx;
	if (info && info->si_code == SI_KERNEL)
		return;
	stop_signal = sig;
}

static int load_suppressions(const struct run_opts *o, struct suppressions **out)
{
	struct suppressions *s = suppressions__new();
	char err[1024];

	if (!s) {
		fprintf(stderr, "memleak-run: out of memory\n");
		return -ENOMEM;
	}
	for (size_t i = 0; i < o->nsuppressions; i++) {
		if (suppressions__load_file(s, o->suppressions[i], err, sizeof(err))) {
			fprintf(stderr, "memleak-run: %s\n", err);
			suppressions__free(s);
			return -EINVAL;
		}
	}
	if (o->default_suppressions && suppressions__add_defaults(s)) {
		fprintf(stderr, "memleak-run: cannot add the default suppressions\n");
		suppressions__free(s);
		return -EINVAL;
	}
	*out = s;
	return 0;
}

/*
 * Who the program runs as: --user, or under sudo the user who invoked it, so the tests
 * run with that user's rights and the report files are theirs.
 */
static int program_user(const struct run_opts *o, struct launch_opts *lo)
{
	const char *uid = getenv("SUDO_UID"), *gid = getenv("SUDO_GID");
	uint64_t v;

	if (o->user) {
		struct passwd *pw = getpwnam(o->user);

		if (!pw && !options_parse_u64(o->user, &v, 0))
			pw = getpwuid((uid_t)v);
		if (!pw) {
			fprintf(stderr, "memleak-run: --user %s: no such user\n", o->user);
			return -EINVAL;
		}
		lo->uid = pw->pw_uid;
		lo->gid = pw->pw_gid;
		lo->drop_privileges = 1;
	} else if (geteuid() == 0 && uid && gid && !options_parse_u64(uid, &v, 0)) {
		lo->uid = (uid_t)v;
		if (options_parse_u64(gid, &v, 0))
			return 0;
		lo->gid = (gid_t)v;
		lo->drop_privileges = lo->uid != 0;
	}
	return 0;
}

static int wait_status_code(int status)
{
	if (WIFEXITED(status))
		return WEXITSTATUS(status);
	if (WIFSIGNALED(status))
		return 128 + WTERMSIG(status);
	return 1;
}

/* What the file reports know of the run besides the judgement. */
struct run_facts {
	const char *const *argv;
	int exit_status;
	int timed_out;
	double duration_s;
};

static int write_reports(const struct run_opts *o, const struct judgement *j,
			 const struct launch_opts *lo, const struct run_facts *ro)
{
	struct summary_opts so = {
		.max_frames = o->stack_frames,
		.max_leaked_bytes = o->max_leaked_bytes,
		.max_leaked_allocs = o->max_leaked_allocs,
		.show_kinds = o->show_kinds,
	};
	int err = 0, e;

	summary__print(stderr, j, &so);
	if (o->junit) {
		struct junit_opts jo = {
			.argv = ro->argv,
			.exit_status = ro->exit_status,
			.timed_out = ro->timed_out,
			.max_leaked_bytes = o->max_leaked_bytes,
			.max_leaked_allocs = o->max_leaked_allocs,
			.duration_s = ro->duration_s,
			.show_kinds = o->show_kinds,
		};

		e = junit__write(j, &jo, o->junit);
		if (e) {
			fprintf(stderr, "memleak-run: cannot write %s: %s\n", o->junit, strerror(-e));
			err = e;
		} else if (lo->drop_privileges) {
			(void)!chown(o->junit, lo->uid, lo->gid);
		}
	}
	if (o->json) {
		struct json_opts jso = {
			.argv = ro->argv,
			.exit_status = ro->exit_status,
			.timed_out = ro->timed_out,
			.max_leaked_bytes = o->max_leaked_bytes,
			.max_leaked_allocs = o->max_leaked_allocs,
			.duration_s = ro->duration_s,
		};

		e = json__write(j, &jso, o->json);
		if (e) {
			fprintf(stderr, "memleak-run: cannot write %s: %s\n", o->json, strerror(-e));
			err = e;
		} else if (lo->drop_privileges) {
			(void)!chown(o->json, lo->uid, lo->gid);
		}
	}
	if (o->gen_suppressions) {
		e = gen_suppressions__write(j, o->gen_suppressions);
		if (e) {
			fprintf(stderr, "memleak-run: cannot write %s: %s\n", o->gen_suppressions,
				strerror(-e));
			err = e;
		} else if (lo->drop_privileges) {
			(void)!chown(o->gen_suppressions, lo->uid, lo->gid);
		}
	}
	if (getenv("GITHUB_ACTIONS") && !strcmp(getenv("GITHUB_ACTIONS"), "true")) {
		struct annotation_opts ao = {
			.workspace = getenv("GITHUB_WORKSPACE"),
			.max_leaked_bytes = o->max_leaked_bytes,
			.max_leaked_allocs = o->max_leaked_allocs,
		};

		annotations__print(stderr, j, &ao);
	}
	return err;
}

int main(int argc, char **argv)
{
	struct run_opts opts;
	struct suppressions *supp = NULL;
	struct launch_opts lo = { 0 };
	struct gate_opts go = { 0 };
	struct judgement *j = NULL;
	struct run_facts ro = { 0 };
	uint64_t started = collect_now_ns();
	struct gate *g = NULL;
	char *preload = NULL;
	struct sigaction sa = { .sa_sigaction = on_signal, .sa_flags = SA_SIGINFO };
	const struct proc_record *recs;
	size_t nrecs;
	int exit_code = EXIT_HARD_ERROR, err, status, program_failed;

	run_opts__defaults(&opts);
	err = run_opts__parse(&opts, argc, argv);
	if (err)
		return err > 0 ? EXIT_PASS : EXIT_USAGE;
	/* Everything that can be wrong with the input is found before the program runs. */
	if (load_suppressions(&opts, &supp)) {
		exit_code = EXIT_USAGE;
		goto cleanup;
	}
	if (program_user(&opts, &lo)) {
		exit_code = EXIT_USAGE;
		goto cleanup;
	}

	go.follow = opts.follow;
	go.max_blocks = opts.max_blocks;
	go.max_stacks = opts.max_stacks;
	go.timeout = opts.timeout;
	go.probes_at_entry = opts.probes_at_entry;
	go.probe_only = opts.probe_only;
	go.verbose = opts.verbose;
	/*
	 * Only when every process is followed: a forked process that is not attached crashes
	 * on a probe site the kernel patched in its parent (see docs/DESIGN.md).
	 */
	if (!opts.no_preload && opts.follow) {
		preload = preloading_find_library();
		if (!preload && opts.verbose)
			fprintf(stderr, "memleak-run: %s not found: probing the C library\n",
				PRELOADING_LIBRARY);
		go.preload = preload;
	}
	g = gate__new(&go);
	if (!g) {
		fprintf(stderr, "memleak-run: cannot trace allocations here (%s)%s\n", strerror(errno),
			opts.skip_untraceable ? ": skipping" : "");
		exit_code = opts.skip_untraceable ? EXIT_SKIP : EXIT_HARD_ERROR;
		goto cleanup;
	}
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGHUP, &sa, NULL);
	err = gate__start(g, opts.argv, &lo);
	if (err == -ENOENT || err == -EACCES || err == -ENOEXEC || err == -ENOTDIR) {
		fprintf(stderr, "memleak-run: cannot execute '%s': %s\n", opts.argv[0], strerror(-err));
		exit_code = EXIT_CANNOT_EXEC;
		goto cleanup;
	}
	if (err) {
		fprintf(stderr, "memleak-run: cannot trace '%s': %s\n", opts.argv[0], strerror(-err));
		exit_code = opts.skip_untraceable ? EXIT_SKIP : EXIT_HARD_ERROR;
		goto cleanup;
	}
	err = gate__wait(g, &stop_signal);
	if (err) {
		fprintf(stderr, "memleak-run: tracing failed: %s\n", strerror(-err));
		exit_code = EXIT_HARD_ERROR;
		goto cleanup;
	}
	status = gate__status(g);
	recs = gate__records(g, &nrecs);
	j = judge__run(recs, nrecs, supp,
		       &(struct judge_opts){ .max_leaked_bytes = opts.max_leaked_bytes,
					     .max_leaked_allocs = opts.max_leaked_allocs,
					     .error_kinds = opts.error_kinds });
	if (!j) {
		fprintf(stderr, "memleak-run: cannot judge the run: %s\n", strerror(errno));
		goto cleanup;
	}
	ro.argv = (const char *const *)opts.argv;
	ro.exit_status = status;
	ro.timed_out = gate__timed_out(g);
	ro.duration_s = (double)(collect_now_ns() - started) / 1e9;
	err = write_reports(&opts, j, &lo, &ro);

	program_failed = wait_status_code(status) != 0;
	if (gate__timed_out(g))
		exit_code = EXIT_TIMEOUT;
	else if (program_failed)
		exit_code = wait_status_code(status);
	else if (judgement__failed(j))
		exit_code = opts.error_exitcode;
	else if (err)
		exit_code = EXIT_HARD_ERROR;	/* a report could not be written */
	else
		exit_code = EXIT_PASS;
	if (opts.verbose) {
		struct rusage ru;

		/* The gate's own peak memory: the program is a child, not counted here. */
		if (!getrusage(RUSAGE_SELF, &ru))
			fprintf(stderr, "memleak-run: peak RSS %.1f MiB\n", ru.ru_maxrss / 1024.0);
	}
cleanup:
	judgement__free(j);
	gate__free(g);
	suppressions__free(supp);
	run_opts__free(&opts);
	free(preload);
	return exit_code;
}
