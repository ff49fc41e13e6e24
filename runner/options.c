// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#include "runner/options.h"

#include <ctype.h>
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char usage[] =
"usage: memleak [-h] [-p PID | -c COMMAND] [-t] [-a] [-o OLDER] [--combined-only]\n"
"               [--wa-missing-free] [-s SAMPLE_RATE] [-T TOP] [-z MIN_SIZE] [-Z MAX_SIZE]\n"
"               [-O OBJ] [--percpu] [--mmap] [-v] [INTERVAL [COUNT]]\n"
"\n"
"Trace outstanding memory allocations of a process (-p, -c) or of the kernel, and print\n"
"the stacks that hold them every INTERVAL seconds (default 5), COUNT times (default: until\n"
"interrupted, or until the -c command exits, when a final report is printed).\n"
"\n"
"  -p, --pid PID          trace this process\n"
"  -c, --command CMD      run CMD (a command line, PATH lookup) and trace it from its first\n"
"                         allocation; memleak exits with its exit status\n"
"  -t, --trace            print every allocation and free as it happens\n"
"  -a, --show-allocs      list each outstanding block with address and size\n"
"  -o, --older MS         report only blocks older than MS milliseconds (default 500;\n"
"                         not applied to the final report of a process that exited)\n"
"      --combined-only    keep only per-stack totals, updated in the kernel\n"
"      --wa-missing-free  retire a block silently when its address is handed out again\n"
"                         (without it the same correction is made and counted)\n"
"  -s, --sample-rate N    record one allocation in N, chosen at random\n"
"  -T, --top N            show the N stacks holding the most bytes (default 10)\n"
"  -z, --min-size BYTES   ignore allocations smaller than BYTES\n"
"  -Z, --max-size BYTES   ignore allocations larger than BYTES\n"
"  -O, --obj PATH         probe the allocator in this object instead of the one resolved\n"
"                         from the process (a library, or a static executable)\n"
"      --percpu           kernel mode: trace percpu allocations\n"
"      --mmap             also trace mmap, munmap and mremap\n"
"      --max-blocks N     outstanding blocks tracked at once (default 1048576)\n"
"      --max-stacks N     distinct stacks kept (default 65536)\n"
"      --probes-at-entry  probe each function's first instruction, as memleak.py does,\n"
"                         not past the ones the kernel must single-step\n"
"      --unreachable      -p: report only the blocks nothing in the process points to\n"
"                         (definitely and indirectly lost), read while it is held\n"
"  -v, --verbose          more diagnostics (-vv: libbpf's too)\n"
"  -h, --help             this help\n";

enum {
	OPT_COMBINED = 256,
	OPT_WA_MISSING_FREE,
	OPT_PERCPU,
	OPT_MMAP,
	OPT_MAX_BLOCKS,
	OPT_MAX_STACKS,
	OPT_AT_ENTRY,
	OPT_UNREACHABLE,
};

static const struct option long_opts[] = {
	{ "pid", required_argument, NULL, 'p' },
	{ "command", required_argument, NULL, 'c' },
	{ "trace", no_argument, NULL, 't' },
	{ "show-allocs", no_argument, NULL, 'a' },
	{ "older", required_argument, NULL, 'o' },
	{ "combined-only", no_argument, NULL, OPT_COMBINED },
	{ "wa-missing-free", no_argument, NULL, OPT_WA_MISSING_FREE },
	{ "sample-rate", required_argument, NULL, 's' },
	{ "top", required_argument, NULL, 'T' },
	{ "min-size", required_argument, NULL, 'z' },
	{ "max-size", required_argument, NULL, 'Z' },
	{ "obj", required_argument, NULL, 'O' },
	{ "percpu", no_argument, NULL, OPT_PERCPU },
	{ "mmap", no_argument, NULL, OPT_MMAP },
	{ "max-blocks", required_argument, NULL, OPT_MAX_BLOCKS },
	{ "max-stacks", required_argument, NULL, OPT_MAX_STACKS },
	{ "probes-at-entry", no_argument, NULL, OPT_AT_ENTRY },
	{ "unreachable", no_argument, NULL, OPT_UNREACHABLE },
	{ "verbose", no_argument, NULL, 'v' },
	{ "help", no_argument, NULL, 'h' },
	{ NULL, 0, NULL, 0 },
};

void memleak_opts__defaults(struct memleak_opts *o)
{
	memset(o, 0, sizeof(*o));
	o->older_ms = 500;
	o->sample_rate = 1;
	o->top = 10;
	o->interval = 5;
	o->count = -1;
}

int options_parse_u64(const char *s, uint64_t *out, int allow_suffix)
{
	unsigned long long v;
	char *end;

	if (!s || !isdigit((unsigned char)*s))
		return -EINVAL;
	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno || end == s)
		return -EINVAL;
	if (allow_suffix && *end) {
		unsigned int shift = 0;

		switch (*end) {
		case 'k': case 'K': shift = 10; break;
		case 'm': case 'M': shift = 20; break;
		case 'g': case 'G': shift = 30; break;
		default: return -EINVAL;
		}
		if (v > (~0ULL >> shift))
			return -EINVAL;
		v <<= shift;
		end++;
	}
	if (*end)
		return -EINVAL;
	*out = v;
	return 0;
}

void options_report_bad(const char *tool, const char *with_value, int argc, char **argv)
{
	const char *arg = optind > 0 && optind <= argc ? argv[optind - 1] : "";
	int len = (int)strcspn(arg, "=");

	/* getopt leaves optopt at the short option, the long option's value, or 0. */
	if (!strncmp(arg, "--", 2) && optopt > 0 && !strchr(arg, '='))
		fprintf(stderr, "%s: option '%s' needs a value\n", tool, arg);
	else if (!strncmp(arg, "--", 2) && optopt > 0)
		fprintf(stderr, "%s: option '%.*s' takes no value\n", tool, len, arg);
	else if (!strncmp(arg, "--", 2))
		fprintf(stderr, "%s: unknown option '%.*s'\n", tool, len, arg);
	else if (optopt > 0 && optopt < 256 && strchr(with_value, optopt))
		fprintf(stderr, "%s: option '-%c' needs a value\n", tool, optopt);
	else if (optopt > 0)
		fprintf(stderr, "%s: unknown option '-%c'\n", tool, optopt);
	else
		fprintf(stderr, "%s: unknown option '%s'\n", tool, arg);
}

static int bad(const char *opt, const char *val, const char *want)
{
	fprintf(stderr, "memleak: invalid value '%s' for %s: %s\n", val, opt, want);
	return -EINVAL;
}

static int parse_bounded(const char *opt, const char *val, uint64_t lo, uint64_t hi, int suffix,
			 uint64_t *out)
{
	char want[96];

	if (options_parse_u64(val, out, suffix) || *out < lo || *out > hi) {
		snprintf(want, sizeof(want), "expected an integer from %llu to %llu%s",
			 (unsigned long long)lo, (unsigned long long)hi, suffix ? " (k, M, G allowed)" : "");
		return bad(opt, val, want);
	}
	return 0;
}

int memleak_opts__parse(struct memleak_opts *o, int argc, char **argv)
{
	uint64_t v;
	int c, err;

	/* 0, not 1: getopt starts over completely, as for a first parse. */
	optind = 0;
	opterr = 0;
	while ((c = getopt_long(argc, argv, "+p:c:tao:s:T:z:Z:O:vh", long_opts, NULL)) != -1) {
		err = 0;
		switch (c) {
		case 'p':
			err = parse_bounded("-p", optarg, 1, 0x7fffffff, 0, &v);
			o->pid = (pid_t)v;
			break;
		case 'c':
			o->command = optarg;
			break;
		case 't':
			o->trace = 1;
			break;
		case 'a':
			o->show_allocs = 1;
			break;
		case 'o':
			err = parse_bounded("-o", optarg, 0, ~0ULL / 1000000, 0, &o->older_ms);
			break;
		case OPT_COMBINED:
			o->combined_only = 1;
			break;
		case OPT_WA_MISSING_FREE:
			o->wa_missing_free = 1;
			break;
		case 's':
			err = parse_bounded("-s", optarg, 1, 0xffffffff, 0, &v);
			o->sample_rate = (uint32_t)v;
			break;
		case 'T':
			err = parse_bounded("-T", optarg, 1, 1000000, 0, &v);
			o->top = (int)v;
			break;
		case 'z':
			err = parse_bounded("-z", optarg, 0, ~0ULL, 1, &o->min_size);
			break;
		case 'Z':
			err = parse_bounded("-Z", optarg, 1, ~0ULL, 1, &o->max_size);
			break;
		case 'O':
			o->obj = optarg;
			break;
		case OPT_PERCPU:
			o->percpu = 1;
			break;
		case OPT_MMAP:
			o->mmap = 1;
			break;
		case OPT_MAX_BLOCKS:
			err = parse_bounded("--max-blocks", optarg, 1024, 1U << 30, 1, &v);
			o->max_blocks = (uint32_t)v;
			break;
		case OPT_MAX_STACKS:
			err = parse_bounded("--max-stacks", optarg, 64, 1U << 24, 1, &v);
			o->max_stacks = (uint32_t)v;
			break;
		case OPT_AT_ENTRY:
			o->probes_at_entry = 1;
			break;
		case OPT_UNREACHABLE:
			o->unreachable = 1;
			break;
		case 'v':
			o->verbose++;
			break;
		case 'h':
			fputs(usage, stdout);
			return 1;
		default:
			options_report_bad("memleak", "pcosTzZO", argc, argv);
			fputs("Try 'memleak --help'.\n", stderr);
			return -EINVAL;
		}
		if (err)
			return err;
	}
	if (optind < argc) {
		err = parse_bounded("INTERVAL", argv[optind++], 1, 86400, 0, &v);
		if (err)
			return err;
		o->interval = (unsigned int)v;
	}
	if (optind < argc) {
		err = parse_bounded("COUNT", argv[optind++], 1, 0x7fffffff, 0, &v);
		if (err)
			return err;
		o->count = (long)v;
	}
	if (optind < argc) {
		fprintf(stderr, "memleak: unexpected argument '%s' (a command goes in -c \"...\")\n",
			argv[optind]);
		return -EINVAL;
	}
	if (o->pid && o->command) {
		fprintf(stderr, "memleak: -p and -c exclude each other\n");
		return -EINVAL;
	}
	if (o->max_size && o->min_size > o->max_size) {
		fprintf(stderr, "memleak: -z (%llu) is larger than -Z (%llu)\n",
			(unsigned long long)o->min_size, (unsigned long long)o->max_size);
		return -EINVAL;
	}
	if (o->percpu && (o->pid || o->command)) {
		fprintf(stderr, "memleak: --percpu traces the kernel: it excludes -p and -c\n");
		return -EINVAL;
	}
	if (o->unreachable && (!o->pid || o->combined_only)) {
		fprintf(stderr, "memleak: --unreachable reads a running process's memory: it needs -p "
				"and excludes --combined-only\n");
		return -EINVAL;
	}
	if (o->command && !*o->command) {
		fprintf(stderr, "memleak: -c needs a command\n");
		return -EINVAL;
	}
	return 0;
}
