// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * memleak-run: the CI leak gate. This file only sequences the lifecycle and maps
 * outcomes to exit statuses: options, suppressions, the traced run, the verdict, the
 * reports.
 */
#include <errno.h>
#include <grp.h>
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
#include "reporters/report.h"
#include "reporters/summary.h"
#include "runner/as_user.h"
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

/* Suppression files are read with the rights of the user the program runs as. */
static int load_suppressions(const struct run_opts *o, const struct launch_opts *lo,
			     struct suppressions **out)
{
	struct suppressions *s = suppressions__new();
	char err[1024];

	if (!s) {
		fprintf(stderr, "memleak-run: out of memory\n");
		return -ENOMEM;
	}
	for (size_t i = 0; i < o->nsuppressions; i++) {
		char *text;
		size_t len;
		int e = as_user_read_file(lo, o->suppressions[i], &text, &len);

		if (e) {
			fprintf(stderr, "memleak-run: %s: %s\n", o->suppressions[i], strerror(-e));
			suppressions__free(s);
			return e;
		}
		e = suppressions__load_string(s, o->suppressions[i], text, err, sizeof(err));
		free(text);
		if (e) {
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

/* The user's supplementary groups, as initgroups would set them. */
static int user_groups(const char *name, gid_t gid, struct launch_opts *lo)
{
	int n = 64;

	for (int tries = 0; tries < 4; tries++) {
		gid_t *groups = realloc(lo->groups, (size_t)n * sizeof(*groups));

		if (!groups)
			return -ENOMEM;
		lo->groups = groups;
		if (getgrouplist(name, gid, groups, &n) >= 0) {
			lo->ngroups = n;
			return 0;
		}
	}
	return -ERANGE;
}

static void free_user(struct launch_opts *lo)
{
	free(lo->groups);
	free((char *)lo->name);
	free((char *)lo->home);
	free((char *)lo->shell);
}

/*
 * Who the program runs as: --user, or under sudo the user who invoked it, so the tests
 * run with that user's rights, groups and login environment, and the files they name are
 * read and written with those rights. Through sudo, a user other than root can name only
 * themselves: sudo gave the gate root's rights to trace, not to run as anyone.
 */
static int program_user(const struct run_opts *o, struct launch_opts *lo)
{
	const char *sudo_uid = getenv("SUDO_UID"), *sudo_gid = getenv("SUDO_GID");
	struct passwd *pw = NULL;
	uint64_t v;
	int sudo = geteuid() == 0 && sudo_uid && !options_parse_u64(sudo_uid, &v, 0);
	uid_t caller = sudo ? (uid_t)v : getuid();

	if (o->user) {
		pw = getpwnam(o->user);
		if (!pw && !options_parse_u64(o->user, &v, 0))
			pw = getpwuid((uid_t)v);
		if (!pw) {
			fprintf(stderr, "memleak-run: --user %s: no such user\n", o->user);
			return -EINVAL;
		}
		if (caller != 0 && pw->pw_uid != caller) {
			fprintf(stderr,
				"memleak-run: --user %s: refused: the gate was started by user %u%s, "
				"and runs programs as that user only\n",
				o->user, (unsigned int)caller, sudo ? " through sudo" : "");
			return -EPERM;
		}
		lo->uid = pw->pw_uid;
		lo->gid = pw->pw_gid;
	} else if (sudo) {
		if (caller == 0)
			return 0;
		lo->uid = caller;
		pw = getpwuid(caller);
		if (sudo_gid && !options_parse_u64(sudo_gid, &v, 0))
			lo->gid = (gid_t)v;
		else if (pw)
			lo->gid = pw->pw_gid;
		else {
			fprintf(stderr, "memleak-run: SUDO_UID %s has no group (SUDO_GID)\n",
				sudo_uid);
			return -EINVAL;
		}
	} else {
		return 0;
	}
	lo->drop_privileges = 1;
	if (!pw)
		return 0;	/* a user without a passwd entry: no groups, no login */
	lo->name = strdup(pw->pw_name);
	lo->home = strdup(pw->pw_dir);
	lo->shell = strdup(pw->pw_shell && *pw->pw_shell ? pw->pw_shell : "/bin/sh");
	if (!lo->name || !lo->home || !lo->shell || user_groups(lo->name, lo->gid, lo)) {
		fprintf(stderr, "memleak-run: cannot read the groups of user %u\n",
			(unsigned int)lo->uid);
		return -ENOMEM;
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

/*
 * Writes one report file as the program's user. A request refused (not a regular file, a
 * link another user made, no right to write there) is a usage error: EXIT_USAGE.
 */
static int write_report(const char *option, const char *path, char *text, size_t len,
			const struct launch_opts *lo, int *refused)
{
	int e = text ? as_user_write_file(lo, path, text, len) : -errno;

	free(text);
	if (!e)
		return 0;
	fprintf(stderr, "memleak-run: %s %s: cannot write: %s\n", option, path,
		report_write_strerror(e));
	*refused |= report_write_refused(e);
	return e;
}

static int write_reports(const struct run_opts *o, const struct judgement *j,
			 const struct launch_opts *lo, const struct run_facts *ro, int *refused)
{
	struct summary_opts so = {
		.max_frames = o->stack_frames,
		.max_leaked_bytes = o->max_leaked_bytes,
		.max_leaked_allocs = o->max_leaked_allocs,
		.show_kinds = o->show_kinds,
	};
	size_t len = 0;
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
		char *xml = junit__render(j, &jo, &len);

		e = write_report("--junit", o->junit, xml, len, lo, refused);
		err = err ? err : e;
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
		char *text = json__render(j, &jso, &len);

		e = write_report("--json", o->json, text, len, lo, refused);
		err = err ? err : e;
	}
	if (o->gen_suppressions) {
		char *text = gen_suppressions__render(j, &len);

		e = write_report("--gen-suppressions", o->gen_suppressions, text, len, lo, refused);
		err = err ? err : e;
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
	int exit_code = EXIT_HARD_ERROR, err, status, program_failed, refused = 0;

	run_opts__defaults(&opts);
	err = run_opts__parse(&opts, argc, argv);
	if (err)
		return err > 0 ? EXIT_PASS : EXIT_USAGE;
	/* Everything that can be wrong with the input is found before the program runs. */
	if (program_user(&opts, &lo) || load_suppressions(&opts, &lo, &supp)) {
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
	err = write_reports(&opts, j, &lo, &ro, &refused);

	program_failed = wait_status_code(status) != 0;
	if (refused)
		exit_code = EXIT_USAGE;	/* the verdict is printed; the request was wrong */
	else if (gate__timed_out(g))
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
	free_user(&lo);
	free(preload);
	return exit_code;
}
