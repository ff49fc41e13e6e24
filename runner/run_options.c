// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#include "runner/run_options.h"

#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "runner/options.h"
#include "runner/records.h"

static const char usage[] =
"usage: memleak-run [OPTIONS] -- COMMAND [ARGS...]\n"
"\n"
"Run COMMAND, trace the allocations of it and of every process it starts, and at each\n"
"process's exit judge the blocks still allocated against suppressions and budgets.\n"
"\n"
"Exit status: COMMAND's own failure passes through (its exit code, or 128+signal); a\n"
"COMMAND that succeeded but leaked over budget gives --error-exitcode (23); 2 for a usage\n"
"or suppressions-file error; 99 when tracing is impossible (77 with --skip-if-untraceable).\n"
"\n"
"  -s, --suppressions FILE    leaks to accept: LeakSanitizer, valgrind or native rules\n"
"                             (repeatable; see docs/SUPPRESSIONS.md)\n"
"      --no-default-suppressions  also report the C runtime's one-time allocations\n"
"      --max-leaked-bytes N   unsuppressed bytes the run may leak (default 0)\n"
"      --max-leaked-allocs N  unsuppressed allocations the run may leak (default 0)\n"
"      --errors-for-leak-kinds KINDS  kinds of lost block that fail: definite, indirect,\n"
"                             possible, reachable, comma-separated, or all or none\n"
"                             (default definite,indirect)\n"
"      --show-leak-kinds KINDS  kinds listed in the reports besides those that fail\n"
"                             (default: the failing ones)\n"
"      --error-exitcode N     exit status when leaks exceed the budget (default 23)\n"
"      --junit FILE           write a JUnit XML report\n"
"      --json FILE            write the complete result as JSON\n"
"      --gen-suppressions FILE  write rules accepting today's leaks, each with a budget of\n"
"                             what it leaks now\n"
"      --timeout SECONDS      end the whole process tree after SECONDS; a failure\n"
"      --user USER            run COMMAND as USER (default under sudo: the invoking user)\n"
"      --skip-if-untraceable  exit 77 (skip) instead of 99 when tracing is impossible\n"
"      --no-follow            trace COMMAND only, not the processes it starts\n"
"      --summary-frames N     frames shown per stack in the summary (default 12)\n"
"      --max-blocks N         outstanding blocks tracked at once (default 1048576)\n"
"      --max-stacks N         distinct stacks kept (default 65536)\n"
"      --no-preload           probe the C library's allocator itself instead of\n"
"                             preloading libmemleak-preload.so (slower)\n"
"      --probes-at-entry      probe each function's first instruction, as memleak(8)\n"
"                             does, not past the ones the kernel must single-step\n"
"      --probe-only           attach every probe but record nothing: the cost of the\n"
"                             probes alone (diagnostics; judges nothing)\n"
"  -v, --verbose              more diagnostics\n"
"  -h, --help                 this help\n";

enum {
	OPT_NO_DEFAULT = 256,
	OPT_MAX_BYTES,
	OPT_MAX_ALLOCS,
	OPT_ERROR_EXITCODE,
	OPT_JUNIT,
	OPT_JSON,
	OPT_GEN,
	OPT_TIMEOUT,
	OPT_USER,
	OPT_SKIP,
	OPT_NO_FOLLOW,
	OPT_FRAMES,
	OPT_MAX_BLOCKS,
	OPT_MAX_STACKS,
	OPT_AT_ENTRY,
	OPT_PROBE_ONLY,
	OPT_NO_PRELOAD,
	OPT_ERROR_KINDS,
	OPT_SHOW_KINDS,
};

static const struct option long_opts[] = {
	{ "suppressions", required_argument, NULL, 's' },
	{ "no-default-suppressions", no_argument, NULL, OPT_NO_DEFAULT },
	{ "max-leaked-bytes", required_argument, NULL, OPT_MAX_BYTES },
	{ "max-leaked-allocs", required_argument, NULL, OPT_MAX_ALLOCS },
	{ "error-exitcode", required_argument, NULL, OPT_ERROR_EXITCODE },
	{ "junit", required_argument, NULL, OPT_JUNIT },
	{ "json", required_argument, NULL, OPT_JSON },
	{ "gen-suppressions", required_argument, NULL, OPT_GEN },
	{ "timeout", required_argument, NULL, OPT_TIMEOUT },
	{ "user", required_argument, NULL, OPT_USER },
	{ "skip-if-untraceable", no_argument, NULL, OPT_SKIP },
	{ "no-follow", no_argument, NULL, OPT_NO_FOLLOW },
	{ "summary-frames", required_argument, NULL, OPT_FRAMES },
	{ "max-blocks", required_argument, NULL, OPT_MAX_BLOCKS },
	{ "max-stacks", required_argument, NULL, OPT_MAX_STACKS },
	{ "probes-at-entry", no_argument, NULL, OPT_AT_ENTRY },
	{ "probe-only", no_argument, NULL, OPT_PROBE_ONLY },
	{ "no-preload", no_argument, NULL, OPT_NO_PRELOAD },
	{ "errors-for-leak-kinds", required_argument, NULL, OPT_ERROR_KINDS },
	{ "show-leak-kinds", required_argument, NULL, OPT_SHOW_KINDS },
	{ "verbose", no_argument, NULL, 'v' },
	{ "help", no_argument, NULL, 'h' },
	{ NULL, 0, NULL, 0 },
};

void run_opts__defaults(struct run_opts *o)
{
	memset(o, 0, sizeof(*o));
	o->default_suppressions = 1;
	o->error_exitcode = 23;
	o->follow = 1;
	o->stack_frames = 12;
	o->max_blocks = 1U << 20;	/* its hash buckets are allocated up front: 16 MiB */
	o->error_kinds = LEAK_KINDS_LOST;
}

static int kinds(const char *opt, const char *val, unsigned int *out)
{
	const char *bad;

	if (leak_kinds_parse(val, out, &bad)) {
		fprintf(stderr, "memleak-run: invalid value '%s' for %s: expected definite, indirect, "
				"possible, reachable (comma-separated), all or none\n", val, opt);
		return -EINVAL;
	}
	return 0;
}

static int number(const char *opt, const char *val, uint64_t lo, uint64_t hi, uint64_t *out)
{
	if (options_parse_u64(val, out, 1) || *out < lo || *out > hi) {
		fprintf(stderr, "memleak-run: invalid value '%s' for %s: expected an integer from "
				"%llu to %llu\n", val, opt, (unsigned long long)lo, (unsigned long long)hi);
		return -EINVAL;
	}
	return 0;
}

/*
 * A report's file name. getopt takes the next word as the value even when it is "--" or
 * another option ("--junit -- prog" would write a file named "--"): a name starting with
 * '-' is taken for a forgotten value.
 */
static int file_name(const char *opt, const char *val, const char **out)
{
	if (val[0] == '-' || !val[0]) {
		fprintf(stderr, "memleak-run: %s: missing file name (got '%s'; write ./%s for a "
				"file of that name)\n", opt, val, val);
		return -EINVAL;
	}
	*out = val;
	return 0;
}

int run_opts__parse(struct run_opts *o, int argc, char **argv)
{
	uint64_t v;
	int c, err;

	/* 0, not 1: getopt starts over completely, as for a first parse. */
	optind = 0;
	opterr = 0;
	/* '+': options end at the first non-option, so COMMAND's own options are its own. */
	while ((c = getopt_long(argc, argv, "+s:vh", long_opts, NULL)) != -1) {
		char **list;

		err = 0;
		switch (c) {
		case 's':
			list = realloc(o->suppressions, (o->nsuppressions + 1) * sizeof(*list));
			if (!list)
				return -ENOMEM;
			o->suppressions = list;
			o->suppressions[o->nsuppressions++] = optarg;
			break;
		case OPT_NO_DEFAULT:
			o->default_suppressions = 0;
			break;
		case OPT_MAX_BYTES:
			err = number("--max-leaked-bytes", optarg, 0, ~0ULL, &o->max_leaked_bytes);
			break;
		case OPT_MAX_ALLOCS:
			err = number("--max-leaked-allocs", optarg, 0, ~0ULL, &o->max_leaked_allocs);
			break;
		case OPT_ERROR_KINDS:
			err = kinds("--errors-for-leak-kinds", optarg, &o->error_kinds);
			break;
		case OPT_SHOW_KINDS:
			err = kinds("--show-leak-kinds", optarg, &o->show_kinds);
			break;
		case OPT_ERROR_EXITCODE:
			err = number("--error-exitcode", optarg, 1, 255, &v);
			o->error_exitcode = (int)v;
			break;
		case OPT_JUNIT:
			err = file_name("--junit", optarg, &o->junit);
			break;
		case OPT_JSON:
			err = file_name("--json", optarg, &o->json);
			break;
		case OPT_GEN:
			err = file_name("--gen-suppressions", optarg, &o->gen_suppressions);
			break;
		case OPT_TIMEOUT:
			err = number("--timeout", optarg, 1, 7 * 86400, &v);
			o->timeout = (unsigned int)v;
			break;
		case OPT_USER:
			o->user = optarg;
			break;
		case OPT_SKIP:
			o->skip_untraceable = 1;
			break;
		case OPT_NO_FOLLOW:
			o->follow = 0;
			break;
		case OPT_FRAMES:
			err = number("--summary-frames", optarg, 1, 127, &v);
			o->stack_frames = (int)v;
			break;
		case OPT_MAX_BLOCKS:
			err = number("--max-blocks", optarg, 1024, 1U << 30, &v);
			o->max_blocks = (uint32_t)v;
			break;
		case OPT_MAX_STACKS:
			err = number("--max-stacks", optarg, 64, 1U << 24, &v);
			o->max_stacks = (uint32_t)v;
			break;
		case OPT_AT_ENTRY:
			o->probes_at_entry = 1;
			break;
		case OPT_PROBE_ONLY:
			o->probe_only = 1;
			break;
		case OPT_NO_PRELOAD:
			o->no_preload = 1;
			break;
		case 'v':
			o->verbose++;
			break;
		case 'h':
			fputs(usage, stdout);
			return 1;
		default:
			options_report_bad("memleak-run", "s", argc, argv);
			fputs("Try 'memleak-run --help'.\n", stderr);
			return -EINVAL;
		}
		if (err)
			return err;
	}
	if (optind >= argc) {
		fprintf(stderr, "memleak-run: no command to run (memleak-run [OPTIONS] -- COMMAND [ARGS...])\n");
		return -EINVAL;
	}
	o->argv = &argv[optind];
	return 0;
}

void run_opts__free(struct run_opts *o)
{
	free(o->suppressions);
	o->suppressions = NULL;
}
