// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * memleak against real programs: each fixture leaks a known set of blocks, and the
 * report must show exactly those, with the right functions in the stacks.
 */
#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "tests/testutil.h"

#define MAX_SITES 256
#define MAX_FRAMES 64

/* One "N bytes in M allocations from stack" block of a report. */
struct site {
	uint64_t bytes;
	uint64_t allocs;
	int nframes;
	char *frames[MAX_FRAMES];
};

struct report {
	int nsites;
	struct site sites[MAX_SITES];
};

/* Parses the last report in memleak's output (a final report follows periodic ones). */
static void parse_report(const char *out, struct report *r)
{
	const char *last = NULL, *p = out;
	char *copy, *line, *save = NULL;

	memset(r, 0, sizeof(*r));
	while ((p = strstr(p, "stacks with outstanding allocations:"))) {
		last = p;
		p++;
	}
	if (!last)
		return;
	copy = strdup(last);
	for (line = strtok_r(copy, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		unsigned long long b, a;

		if (sscanf(line, "\t%llu bytes in %llu allocations from stack", &b, &a) == 2 &&
		    r->nsites < MAX_SITES) {
			r->sites[r->nsites].bytes = b;
			r->sites[r->nsites].allocs = a;
			r->nsites++;
		} else if (!strncmp(line, "\t\t", 2) && r->nsites > 0) {
			struct site *s = &r->sites[r->nsites - 1];

			if (s->nframes < MAX_FRAMES)
				s->frames[s->nframes++] = strdup(line + 2);
		}
	}
	free(copy);
}

static void free_report(struct report *r)
{
	for (int i = 0; i < r->nsites; i++)
		for (int f = 0; f < r->sites[i].nframes; f++)
			free(r->sites[i].frames[f]);
}

/*
 * Totals of the sites whose innermost frame is in `function`: the frame starts with the
 * name, then "+offset", a space, or a compiler clone suffix such as ".constprop.0".
 */
static void totals_from(const struct report *r, const char *function, uint64_t *bytes,
			uint64_t *allocs)
{
	size_t n = strlen(function);

	*bytes = *allocs = 0;
	for (int i = 0; i < r->nsites; i++) {
		const struct site *s = &r->sites[i];

		if (s->nframes > 0 && !strncmp(s->frames[0], function, n) &&
		    strchr("+. ", s->frames[0][n])) {
			*bytes += s->bytes;
			*allocs += s->allocs;
		}
	}
}

/* Whether any frame of any site mentions `text`. */
static int mentions(const struct report *r, const char *text)
{
	for (int i = 0; i < r->nsites; i++)
		for (int f = 0; f < r->sites[i].nframes; f++)
			if (strstr(r->sites[i].frames[f], text))
				return 1;
	return 0;
}

/* Whether some site has a frame starting with `inner` right above one starting with `outer`. */
static int followed_by(const struct report *r, const char *inner, const char *outer)
{
	for (int i = 0; i < r->nsites; i++)
		for (int f = 0; f + 1 < r->sites[i].nframes; f++)
			if (!strncmp(r->sites[i].frames[f], inner, strlen(inner)) &&
			    !strncmp(r->sites[i].frames[f + 1], outer, strlen(outer)))
				return 1;
	return 0;
}

static const char *memleak(void)
{
	return test_path("memleak");
}

/* Runs `memleak -T 100 -c "FIXTURE ARGS"` and parses its final report. */
static int trace_fixture(struct report *rep, struct run_result *res, const char *cmdline)
{
	int err = run_sh(res, "%s -T 100 -c '%s/tests/fixtures/%s'", memleak(), test_output_dir(),
			 cmdline);

	ck_assert_int_eq(err, 0);
	parse_report(res->out, rep);
	return res->status;
}

static void expect_leak(const char *fixture_args, const char *function, uint64_t bytes,
			uint64_t allocs)
{
	struct run_result res;
	struct report rep;
	uint64_t b, a;
	int status = trace_fixture(&rep, &res, fixture_args);

	totals_from(&rep, function, &b, &a);
	ck_assert_msg(status == 0, "%s: exit %d\n%s", fixture_args, status, res.err);
	ck_assert_msg(b == bytes && a == allocs,
		      "%s: %s holds %" PRIu64 " bytes in %" PRIu64 " allocations, expected %" PRIu64
		      " in %" PRIu64 "\n--- output:\n%s\n--- stderr:\n%s",
		      fixture_args, function, b, a, bytes, allocs, res.out, res.err);
	ck_assert_msg(!strstr(res.out, "Lost events") || strstr(res.out, "missed frees"),
		      "%s lost events:\n%s", fixture_args, res.out);
	free_report(&rep);
	run_result_free(&res);
}

/* Every allocation function, leaked and not leaked, at -O2 and at -O0. */
static const struct {
	const char *scenario;
	const char *function;
	uint64_t bytes;
	uint64_t allocs;
} allocs_cases[] = {
	{ "malloc", "leak_malloc", 3 * 1001, 3 },
	{ "calloc", "leak_calloc2", 1050, 1 },
	{ "realloc", "leak_realloc", 3003 + 3004, 2 },
	{ "reallocarray", "leak_reallocarray", 3030, 1 },
	{ "posix_memalign", "leak_posix_memalign", 4004, 1 },
	{ "aligned_alloc", "leak_aligned_alloc", 5120, 1 },
	{ "memalign", "leak_memalign", 6006, 1 },
	{ "valloc", "leak_valloc", 7007, 1 },
	{ "none", "no_leak", 0, 0 },
};

START_TEST(test_each_function_O2)
{
	char args[128];

	snprintf(args, sizeof(args), "allocs %s", allocs_cases[_i].scenario);
	expect_leak(args, allocs_cases[_i].function, allocs_cases[_i].bytes, allocs_cases[_i].allocs);
}
END_TEST

START_TEST(test_each_function_O0)
{
	char args[128];

	snprintf(args, sizeof(args), "allocs-O0 %s", allocs_cases[_i].scenario);
	expect_leak(args, allocs_cases[_i].function, allocs_cases[_i].bytes, allocs_cases[_i].allocs);
}
END_TEST

START_TEST(test_pvalloc_rounds_to_pages)
{
	expect_leak("allocs pvalloc", "leak_pvalloc", (uint64_t)sysconf(_SC_PAGESIZE), 1);
}
END_TEST

START_TEST(test_all_scenarios_at_once)
{
	struct run_result res;
	struct report rep;
	uint64_t b, a;

	trace_fixture(&rep, &res, "allocs all");
	for (size_t i = 0; i < sizeof(allocs_cases) / sizeof(allocs_cases[0]); i++) {
		totals_from(&rep, allocs_cases[i].function, &b, &a);
		ck_assert_msg(b == allocs_cases[i].bytes && a == allocs_cases[i].allocs,
			      "%s: %" PRIu64 "/%" PRIu64 "\n%s", allocs_cases[i].function, b, a, res.out);
	}
	free_report(&rep);
	run_result_free(&res);
}
END_TEST

/* The same program with and without frame pointers: the stacks must be the same. */
static const char *const leaky_builds[] = { "leaky", "nofp_leaky" };

START_TEST(test_stack_innermost_is_caller)
{
	const char *fixture = leaky_builds[_i];
	char module[64];
	struct run_result res;
	struct report rep;
	int found = 0;

	snprintf(module, sizeof(module), "[%s]", fixture);
	trace_fixture(&rep, &res, fixture);
	/*
	 * The allocator's caller first, then its callers, in order. The list's head is
	 * definitely lost, the 4 nodes behind it indirectly: a site of their own.
	 */
	for (int i = 0; i < rep.nsites; i++) {
		struct site *s = &rep.sites[i];

		if (s->bytes == 256 && s->allocs == 4) {
			ck_assert_int_ge(s->nframes, 3);
			/* GCC may name them make_node.constprop.0 and so on. */
			ck_assert_msg(!strncmp(s->frames[0], "make_node", 9), "%s", s->frames[0]);
			ck_assert_msg(!strncmp(s->frames[1], "build_list", 10), "%s", s->frames[1]);
			ck_assert_msg(!strncmp(s->frames[2], "main+", 5), "%s", s->frames[2]);
			ck_assert_msg(strstr(s->frames[0], module), "module: %s", s->frames[0]);
			ck_assert_msg(strstr(s->frames[0], "(leaky.c:"), "file:line: %s", s->frames[0]);
			found = 1;
		}
	}
	ck_assert_msg(found, "%s: no 4 x 64 site:\n%s", fixture, res.out);
	free_report(&rep);
	run_result_free(&res);
}
END_TEST

/*
 * Through the C library, which has no frame pointers, to the program's function and
 * main: strdup, a stream left open, asprintf; in a program built with frame pointers and
 * in one built without.
 */
START_TEST(test_stack_through_the_c_library)
{
	static const char *const builds[] = { "via_libc", "nofp_via_libc" };
	static const struct {
		const char *libc, *caller;
	} sites[] = {
		{ "__strdup", "copy_name" },
		{ "__fopen_internal", "open_log" },
		{ "__vasprintf_internal", "format_message" },
	};
	struct run_result res;
	struct report rep;

	trace_fixture(&rep, &res, builds[_i]);
	for (size_t k = 0; k < sizeof(sites) / sizeof(sites[0]); k++) {
		int found = 0;

		for (int i = 0; i < rep.nsites && !found; i++) {
			const struct site *s = &rep.sites[i];
			int f = 0;

			if (!s->nframes || strncmp(s->frames[0], sites[k].libc, strlen(sites[k].libc)))
				continue;
			/* The C library's own frames, then the program's function, then main. */
			while (f < s->nframes && strstr(s->frames[f], "[libc.so.6]"))
				f++;
			ck_assert_msg(f + 1 < s->nframes, "%s: stack ends in the C library\n%s",
				      sites[k].libc, res.out);
			ck_assert_msg(!strncmp(s->frames[f], sites[k].caller, strlen(sites[k].caller)),
				      "%s called from %s\n%s", sites[k].libc, s->frames[f], res.out);
			ck_assert_msg(!strncmp(s->frames[f + 1], "main+", 5), "%s\n%s",
				      s->frames[f + 1], res.out);
			found = 1;
		}
		ck_assert_msg(found, "%s: no %s site\n%s", builds[_i], sites[k].libc, res.out);
	}
	free_report(&rep);
	run_result_free(&res);
}
END_TEST

START_TEST(test_threads)
{
	expect_leak("threads", "produce", 12 * 1111, 12);
}
END_TEST

START_TEST(test_fork_parent_only)
{
	struct run_result res;
	struct report rep;
	uint64_t b, a;

	trace_fixture(&rep, &res, "forks");
	totals_from(&rep, "before_fork", &b, &a);
	ck_assert_msg(b == 2221 && a == 1, "%s", res.out);
	totals_from(&rep, "after_fork", &b, &a);
	ck_assert_msg(b == 2222 && a == 1, "%s", res.out);
	/* memleak traces the one process: the child's leak is not the parent's. */
	ck_assert_msg(!mentions(&rep, "in_child"), "%s", res.out);
	free_report(&rep);
	run_result_free(&res);
}
END_TEST

START_TEST(test_dlclosed_library)
{
	char args[512];

	snprintf(args, sizeof(args), "dlopener %s/tests/fixtures/libplugin.so", test_output_dir());
	expect_leak(args, "plugin_leak", 3333, 1);
}
END_TEST

START_TEST(test_dlclosed_library_module)
{
	struct run_result res;
	struct report rep;
	char args[512];

	snprintf(args, sizeof(args), "dlopener %s/tests/fixtures/libplugin.so", test_output_dir());
	trace_fixture(&rep, &res, args);
	ck_assert_msg(mentions(&rep, "plugin_leak+") && mentions(&rep, "[libplugin.so]"), "%s", res.out);
	ck_assert_msg(mentions(&rep, "(libplugin.c:"), "no file:line:\n%s", res.out);
	/*
	 * The loader's allocations inside dlopen pass through dlopen's return probe: its
	 * caller is main, not the uprobe trampoline standing in its return address.
	 */
	ck_assert_msg(!mentions(&rep, "[anon]"), "a frame in the trampoline:\n%s", res.out);
	ck_assert_msg(followed_by(&rep, "dlopen+", "main+"), "dlopen's caller lost:\n%s", res.out);
	free_report(&rep);
	run_result_free(&res);
}
END_TEST

START_TEST(test_quick_exit_status_passes_through)
{
	struct run_result res;
	struct report rep;
	uint64_t b, a;
	int status = trace_fixture(&rep, &res, "quick");

	ck_assert_int_eq(status, 3);
	totals_from(&rep, "main", &b, &a);
	ck_assert_msg(b == 4444 && a == 1, "%s", res.out);
	free_report(&rep);
	run_result_free(&res);
}
END_TEST

START_TEST(test_cxx_new_delete)
{
	struct run_result res;
	struct report rep;
	uint64_t b, a;

	trace_fixture(&rep, &res, "cxx");
	totals_from(&rep, "ns::make_widget()", &b, &a);
	ck_assert_msg(b == 2 * 48 && a == 2, "%s", res.out);
	/* delete[] and the vector's memory are gone. */
	for (int i = 0; i < rep.nsites; i++)
		ck_assert_msg(rep.sites[i].bytes % 5555 != 0 && rep.sites[i].bytes != 4000,
			      "freed memory reported:\n%s", res.out);
	free_report(&rep);
	run_result_free(&res);
}
END_TEST

START_TEST(test_static_binary)
{
	expect_leak("static_leaky", "make_node", 5 * 64, 5);
}
END_TEST

/*
 * Every call is seen, wherever the probes sit: the counted fixture's frees, realloc's
 * implicit frees and its leaks, counted event by event (-t), with the probes placed past
 * free's null check and at the entries; in a dynamic program at -O2 and -O0 and in a
 * static one, whose allocator is its own.
 */
static const struct {
	const char *fixture;
	const char *flags;
} counted_cases[] = {
	{ "counted", "" },
	{ "counted-O0", "" },
	{ "static_counted", "" },
	{ "counted", "--probes-at-entry" },
	{ "static_counted", "--probes-at-entry" },
};

START_TEST(test_every_call_counted)
{
	const char *fixture = counted_cases[_i].fixture, *flags = counted_cases[_i].flags;
	/* Event lines (-t) of the fixture's own blocks, told apart by size. */
	static const struct {
		const char *kind;
		unsigned size;
		int n;
	} events[] = {
		{ "alloc malloc", 3331, 1000 },
		{ "alloc calloc", 3332, 1000 },
		{ "alloc ", 3333, 1000 },	/* realloc(NULL, n): glibc's realloc jumps to malloc */
		{ "alloc realloc", 3334, 1000 },
		{ "free  free", 3331, 900 },
		{ "free  free", 3332, 900 },
		{ "free  realloc", 3333, 1000 },
		{ "free  free", 3334, 900 },
	};
	struct run_result res;
	struct report rep;
	uint64_t bytes, allocs;

	ck_assert_int_eq(run_sh(&res, "%s %s -t -T 100 -c '%s/tests/fixtures/%s 1000'", memleak(),
				flags, test_output_dir(), fixture), 0);
	ck_assert_msg(res.status == 0, "%s %s: exit %d\n%s", fixture, flags, res.status, res.err);
	for (size_t k = 0; k < sizeof(events) / sizeof(events[0]); k++) {
		int seen = 0;

		for (const char *l = res.out; l && *l; l = strchr(l, '\n'), l = l ? l + 1 : NULL) {
			size_t len = strcspn(l, "\n");
			char tail[32];

			snprintf(tail, sizeof(tail), " size %u", events[k].size);
			if (!strncmp(l, events[k].kind, strlen(events[k].kind)) &&
			    len > strlen(tail) && !strncmp(l + len - strlen(tail), tail, strlen(tail)))
				seen++;
		}
		ck_assert_msg(seen == events[k].n, "%s %s: %d '%s ... size %u' events, expected %d",
			      fixture, flags, seen, events[k].kind, events[k].size, events[k].n);
	}
	parse_report(res.out, &rep);
	totals_from(&rep, "round_of_calls", &bytes, &allocs);
	ck_assert_msg(bytes == 100 * (3331 + 3332 + 3334) && allocs == 300, "%s %s: %" PRIu64 " bytes in %" PRIu64
		      " allocations outstanding\n%s", fixture, flags, bytes, allocs, res.out);
	ck_assert_msg(!strstr(res.out, "Lost events"), "%s %s lost events:\n%s", fixture, flags,
		      res.out);
	free_report(&rep);
	run_result_free(&res);
}
END_TEST

/* The whole of a file, NUL-terminated ("" when it cannot be read). */
static char *file_text(const char *path)
{
	FILE *f = fopen(path, "r");
	char *text = calloc(1, 1 << 16);
	size_t n = 0;

	ck_assert_ptr_nonnull(text);
	if (f) {
		n = fread(text, 1, (1 << 16) - 1, f);
		fclose(f);
	}
	text[n] = '\0';
	return text;
}

/* Whether process pid maps a file whose path contains `name`. */
static int maps_have(pid_t pid, const char *name)
{
	char path[64], line[4400];
	int found = 0;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/maps", (int)pid);
	f = fopen(path, "re");
	if (!f)
		return 0;
	while (!found && fgets(line, sizeof(line), f))
		found = strstr(line, name) != NULL;
	fclose(f);
	return found;
}

/*
 * Starts a fixture whose standard input is the returned pipe's write end (*in), and its
 * standard output *back's read end when back is given; returns once its C library is
 * mapped, where malloc is, so that attaching to it finds the allocator.
 */
static pid_t start_fixture(char *const argv[], int *in, int *back)
{
	int pin[2], pout[2] = { -1, -1 };
	pid_t pid;

	ck_assert_int_eq(pipe(pin), 0);
	if (back)
		ck_assert_int_eq(pipe(pout), 0);
	pid = fork();
	ck_assert_int_ge(pid, 0);
	if (pid == 0) {
		dup2(pin[0], 0);
		close(pin[1]);
		if (back) {
			dup2(pout[1], 1);
			close(pout[0]);
		}
		execv(argv[0], argv);
		_exit(127);
	}
	close(pin[0]);
	*in = pin[1];
	if (back) {
		close(pout[1]);
		*back = pout[0];
	}
	for (int tries = 0; tries < 500 && !maps_have(pid, "libc.so"); tries++)
		usleep(10000);
	return pid;
}

/* Starts memleak with argv (argv[0] ignored), writing to fd; `keep`: a descriptor it must not hold. */
static pid_t start_memleak(char *argv[], int fd, int keep)
{
	pid_t pid = fork();

	ck_assert_int_ge(pid, 0);
	if (pid == 0) {
		dup2(fd, 1);
		dup2(fd, 2);
		close(keep);
		argv[0] = (char *)memleak();
		execv(argv[0], argv);
		_exit(127);
	}
	return pid;
}

/* The final report of -c says each stack's kind, from the command's memory at its end. */
START_TEST(test_final_report_has_kinds)
{
	struct run_result r;

	ck_assert_int_eq(run_sh(&r, "%s -c '%s list'", memleak(), test_path("tests/fixtures/kinds")), 0);
	ck_assert_msg(r.status == 0, "exit %d\n%s%s", r.status, r.out, r.err);
	ck_assert_msg(strstr(r.out, "\t1005 bytes in 1 allocations from stack, definitely lost (and "
				    "3018 bytes in 3 allocations indirectly lost through them)\n") &&
		      strstr(r.out, "\t3018 bytes in 3 allocations from stack, indirectly lost\n"),
		      "%s", r.out);
	run_result_free(&r);
	/* Kept by a global: outstanding, and said to be reachable. */
	ck_assert_int_eq(run_sh(&r, "%s -c '%s global'", memleak(), test_path("tests/fixtures/kinds")), 0);
	ck_assert_msg(strstr(r.out, "\t1001 bytes in 1 allocations from stack, still reachable\n"),
		      "%s", r.out);
	run_result_free(&r);
}
END_TEST

/*
 * -p --unreachable: a running process is held while its memory is read, and only what
 * nothing points to is reported; it runs on afterwards.
 */
START_TEST(test_unreachable_in_running_process)
{
	char out_path[] = "/tmp/it_memleak_unreachable.XXXXXX", pid_arg[16], buf[64], *out = NULL;
	char *fixture[] = { (char *)test_path("tests/fixtures/kinds"), "wait", NULL };
	char *tool[] = { "memleak", "-p", pid_arg, "--unreachable", "3", "1", NULL };
	int in, back, fd, status;
	pid_t pid, tracer;

	pid = start_fixture(fixture, &in, &back);
	fd = mkstemp(out_path);
	ck_assert_int_ge(fd, 0);
	snprintf(pid_arg, sizeof(pid_arg), "%d", (int)pid);
	tracer = start_memleak(tool, fd, in);
	close(fd);
	/* Once attached, the program allocates; memleak reports after its interval and ends. */
	for (int i = 0; i < 500 && (!out || !strstr(out, "Attaching to pid")); i++) {
		free(out);
		out = file_text(out_path);
		usleep(10000);
	}
	ck_assert_int_eq(write(in, "go\n", 3), 3);
	ck_assert_int_gt(read(back, buf, sizeof(buf)), 0);
	ck_assert_int_eq(waitpid(tracer, &status, 0), tracer);
	ck_assert_msg(WIFEXITED(status) && WEXITSTATUS(status) == 0, "memleak: status %d", status);
	/* The program was only held: it goes on and ends by itself. */
	ck_assert_int_eq(write(in, "end\n", 4), 4);
	ck_assert_int_eq(waitpid(pid, &status, 0), pid);
	ck_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	free(out);
	out = file_text(out_path);
	unlink(out_path);
	ck_assert_msg(strstr(out, "Only blocks nothing points to; pid ") && strstr(out, " was held ") &&
		      strstr(out, "1005 bytes in 1 allocations from stack, definitely lost") &&
		      strstr(out, "3018 bytes in 3 allocations from stack, indirectly lost") &&
		      !strstr(out, "1001 bytes"), "%s", out);
	free(out);
	close(in);
	close(back);
}
END_TEST

START_TEST(test_attach_to_running_process)
{
	char out_path[] = "/tmp/it_memleak_attach.XXXXXX", pid_arg[16], *out = NULL;
	char *fixture[] = { (char *)test_path("tests/fixtures/sleeper"), NULL };
	char *tool[] = { "memleak", "-T", "50", "-p", pid_arg, NULL };
	int in, fd, status;
	pid_t pid, tracer;
	struct report rep;
	uint64_t b, a;

	/* Attached only once the program runs: its C library mapped, where malloc is. */
	pid = start_fixture(fixture, &in, NULL);
	fd = mkstemp(out_path);
	ck_assert_int_ge(fd, 0);
	snprintf(pid_arg, sizeof(pid_arg), "%d", (int)pid);
	tracer = start_memleak(tool, fd, in);
	close(fd);
	/* The sleeper allocates once released: only after memleak says it is attached. */
	for (int i = 0; i < 3000; i++) {
		free(out);
		out = file_text(out_path);
		if (strstr(out, "Attaching to pid") || waitpid(tracer, &status, WNOHANG) == tracer)
			break;
		usleep(10000);
	}
	ck_assert_msg(strstr(out, "Attaching to pid"), "%s", out);
	ck_assert_int_eq(write(in, "xy", 2), 2);
	close(in);
	waitpid(pid, NULL, 0);
	/* memleak reports and exits once its process has. */
	ck_assert_int_eq(waitpid(tracer, &status, 0), tracer);
	free(out);
	out = file_text(out_path);
	unlink(out_path);
	parse_report(out, &rep);
	totals_from(&rep, "after_attach", &b, &a);
	ck_assert_msg(b == 5555 && a == 1, "%s", out);
	free_report(&rep);
	free(out);
}
END_TEST

/*
 * -c runs the command as named: a script reached through a link sees the link in $0, a
 * program reached through one has the link's name, a name found in PATH is the path
 * execvp forms. They write to a file: stdout is the report's.
 */
START_TEST(test_command_runs_as_named)
{
	char dir[] = "/tmp/it_memleak.XXXXXX", path[256], expect[256];
	char *tool = realpath(memleak(), NULL), *out;
	struct run_result res;

	ck_assert_ptr_nonnull(tool);
	ck_assert_ptr_nonnull(mkdtemp(dir));
	ck_assert_int_eq(run_sh(&res,
				"cd %s && printf '#!/bin/sh\\necho \"$0\" >> out\\n' > driver.sh && "
				"echo 'cat /proc/$$/comm >> out' > comm.sh && chmod 755 driver.sh && "
				"mkdir bin && ln -s ../driver.sh bin/one.test && ln -s /bin/sh bin/mysh && "
				"%s -c ./bin/one.test && %s -c './bin/mysh comm.sh' && "
				"PATH=%s/bin:\"$PATH\" %s -c one.test",
				dir, tool, tool, dir, tool), 0);
	ck_assert_msg(res.status == 0, "exit %d\n%s", res.status, res.err);
	run_result_free(&res);
	snprintf(path, sizeof(path), "%s/out", dir);
	out = file_text(path);
	snprintf(expect, sizeof(expect), "./bin/one.test\nmysh\n%s/bin/one.test\n", dir);
	ck_assert_str_eq(out, expect);
	free(out);
	ck_assert_int_eq(run_sh(&res, "rm -rf %s", dir), 0);
	run_result_free(&res);
	free(tool);
}
END_TEST

START_TEST(test_command_not_found)
{
	struct run_result res;

	ck_assert_int_eq(run_sh(&res, "%s -c /nonexistent/program", memleak()), 0);
	ck_assert_int_eq(res.status, 127);
	ck_assert_msg(strstr(res.err, "/nonexistent/program") && strstr(res.err, "No such file"),
		      "%s", res.err);
	run_result_free(&res);
}
END_TEST

START_TEST(test_bad_option_values)
{
	static const char *const bad[] = { "-s 0", "-T x", "-z 10 -Z 5", "-p 0", "-o -1", "5 0" };

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct run_result res;

		ck_assert_int_eq(run_sh(&res, "%s %s", memleak(), bad[i]), 0);
		ck_assert_msg(res.status == 2, "'%s' exited %d", bad[i], res.status);
		ck_assert_msg(strstr(res.err, "memleak: "), "'%s': %s", bad[i], res.err);
		run_result_free(&res);
	}
}
END_TEST

START_TEST(test_no_such_pid)
{
	struct run_result res;

	ck_assert_int_eq(run_sh(&res, "%s -p 999999999", memleak()), 0);
	ck_assert_int_ne(res.status, 0);
	ck_assert_msg(strstr(res.err, "no process with pid"), "%s", res.err);
	run_result_free(&res);
}
END_TEST

START_TEST(test_object_without_allocator)
{
	struct run_result res;

	ck_assert_int_eq(run_sh(&res, "%s -O %s/tests/fixtures/libplugin.so -c true", memleak(),
				test_output_dir()), 0);
	ck_assert_int_ne(res.status, 0);
	ck_assert_msg(strstr(res.err, "defines malloc or free") && strstr(res.err, "libplugin.so"),
		      "%s", res.err);
	run_result_free(&res);
}
END_TEST

START_TEST(test_size_filters)
{
	struct run_result res;
	struct report rep;
	uint64_t b, a;

	/* -z 2000 -Z 3010: of the realloc scenario only 3003 and 3004 remain. */
	ck_assert_int_eq(run_sh(&res, "%s -T 100 -z 2000 -Z 3010 -c '%s/tests/fixtures/allocs all'",
				memleak(), test_output_dir()), 0);
	parse_report(res.out, &rep);
	totals_from(&rep, "leak_realloc", &b, &a);
	ck_assert_msg(b == 3003 + 3004 && a == 2, "%s", res.out);
	totals_from(&rep, "leak_malloc", &b, &a);
	ck_assert_msg(b == 0, "%s", res.out);
	totals_from(&rep, "leak_valloc", &b, &a);
	ck_assert_msg(b == 0, "%s", res.out);
	free_report(&rep);
	run_result_free(&res);
}
END_TEST

START_TEST(test_show_allocs_and_trace)
{
	struct run_result res;

	ck_assert_int_eq(run_sh(&res, "%s -a -t -c '%s/tests/fixtures/quick'", memleak(),
				test_output_dir()), 0);
	ck_assert_msg(strstr(res.out, " size = 4444"), "-a: %s", res.out);
	ck_assert_msg(count_substr(res.out, "size 4444") >= 1, "-t: %s", res.out);
	ck_assert_msg(strstr(res.out, "alloc "), "-t: %s", res.out);
	run_result_free(&res);
}
END_TEST

START_TEST(test_combined_only)
{
	struct run_result res;
	struct report rep;
	uint64_t b, a;

	ck_assert_int_eq(run_sh(&res, "%s --combined-only -T 100 -c '%s/tests/fixtures/threads'",
				memleak(), test_output_dir()), 0);
	parse_report(res.out, &rep);
	totals_from(&rep, "produce", &b, &a);
	ck_assert_msg(b == 12 * 1111 && a == 12, "%s", res.out);
	free_report(&rep);
	run_result_free(&res);
}
END_TEST

START_TEST(test_sampling_says_so)
{
	struct run_result res;
	struct report rep;
	uint64_t b, a;

	ck_assert_int_eq(run_sh(&res, "%s -s 4 -T 100 -c '%s/tests/fixtures/threads'", memleak(),
				test_output_dir()), 0);
	parse_report(res.out, &rep);
	totals_from(&rep, "produce", &b, &a);
	ck_assert_msg(strstr(res.out, "Sampled: 1 in 4"), "%s", res.out);
	/* 12 leaked blocks, each kept with probability 1/4: never more than 12. */
	ck_assert_msg(a <= 12 && b == a * 1111, "%s", res.out);
	free_report(&rep);
	run_result_free(&res);
}
END_TEST

START_TEST(test_kernel_mode_sees_open_files)
{
	struct run_result res;
	int fds[64], ctl[2];
	pid_t pid;
	char c;

	/* A child opens files while memleak traces the kernel; they stay open until it ends. */
	ck_assert_int_eq(pipe(ctl), 0);
	pid = fork();
	ck_assert_int_ge(pid, 0);
	if (pid == 0) {
		close(ctl[1]);
		sleep(2);
		for (int i = 0; i < 64; i++)
			fds[i] = open("/dev/null", O_RDONLY);
		(void)!read(ctl[0], &c, 1);
		_exit(fds[0] < 0);
	}
	close(ctl[0]);
	ck_assert_int_eq(run_sh(&res, "%s -o 0 -T 400 3 1", memleak()), 0);
	close(ctl[1]);
	waitpid(pid, NULL, 0);
	ck_assert_msg(strstr(res.out, "Attaching to kernel allocators"), "%s\n%s", res.out, res.err);
	ck_assert_msg(strstr(res.out, "alloc_empty_file+") && strstr(res.out, "[kernel]"),
		      "no file allocation stack:\n%.4000s\n%s", res.out, res.err);
	run_result_free(&res);
}
END_TEST

static Suite *suite(void)
{
	Suite *s = suite_create("memleak");
	TCase *tc = tcase_create("process");
	TCase *tk = tcase_create("kernel");
	TCase *tu = tcase_create("usage");
	int n = (int)(sizeof(allocs_cases) / sizeof(allocs_cases[0]));

	tcase_set_timeout(tc, 60);
	tcase_add_loop_test(tc, test_each_function_O2, 0, n);
	tcase_add_loop_test(tc, test_each_function_O0, 0, n);
	tcase_add_test(tc, test_pvalloc_rounds_to_pages);
	tcase_add_test(tc, test_all_scenarios_at_once);
	tcase_add_loop_test(tc, test_stack_innermost_is_caller, 0,
			    sizeof(leaky_builds) / sizeof(leaky_builds[0]));
	tcase_add_loop_test(tc, test_stack_through_the_c_library, 0, 2);
	tcase_add_test(tc, test_threads);
	tcase_add_test(tc, test_fork_parent_only);
	tcase_add_test(tc, test_dlclosed_library);
	tcase_add_test(tc, test_dlclosed_library_module);
	tcase_add_test(tc, test_quick_exit_status_passes_through);
	tcase_add_test(tc, test_cxx_new_delete);
	tcase_add_test(tc, test_static_binary);
	tcase_add_loop_test(tc, test_every_call_counted, 0,
			    (int)(sizeof(counted_cases) / sizeof(counted_cases[0])));
	tcase_add_test(tc, test_attach_to_running_process);
	tcase_add_test(tc, test_unreachable_in_running_process);
	tcase_add_test(tc, test_final_report_has_kinds);
	tcase_add_test(tc, test_size_filters);
	tcase_add_test(tc, test_show_allocs_and_trace);
	tcase_add_test(tc, test_combined_only);
	tcase_add_test(tc, test_sampling_says_so);
	tcase_add_test(tc, test_command_runs_as_named);
	suite_add_tcase(s, tc);

	tcase_set_timeout(tk, 60);
	tcase_add_test(tk, test_kernel_mode_sees_open_files);
	suite_add_tcase(s, tk);

	tcase_add_test(tu, test_command_not_found);
	tcase_add_test(tu, test_bad_option_values);
	tcase_add_test(tu, test_no_such_pid);
	tcase_add_test(tu, test_object_without_allocator);
	suite_add_tcase(s, tu);
	return s;
}

int main(void)
{
	return test_run_suite(suite());
}
