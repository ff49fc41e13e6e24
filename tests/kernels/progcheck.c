// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * progcheck OBJECT [LOGDIR]: loads each BPF program of OBJECT alone, every other one left
 * out, so one the kernel rejects does not hide the next. Prints per program "ok NAME N"
 * (N: instructions the verifier processed) or "FAIL NAME: REASON" (the verifier's last
 * line; the whole log in LOGDIR/NAME.log), then a total. Exit status 1 when any failed.
 */
#include <bpf/libbpf.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static char log_text[8 << 20];

static int quiet(enum libbpf_print_level level, const char *fmt, va_list args)
{
	return 0;
}

/* The last line of the log that is not the verifier's statistics. */
static void reason(const char *log, char *out, size_t len)
{
	const char *p = log;

	snprintf(out, len, "(no verifier log)");
	while (*p) {
		int n = (int)strcspn(p, "\n");

		if (n && strncmp(p, "processed ", 10) && strncmp(p, "verification time", 17) &&
		    strncmp(p, "stack depth", 11))
			snprintf(out, len, "%.*s", n, p);
		p += n + (p[n] == '\n');
	}
}

/* Loads program `name` of `path` alone, the log at `level`. Returns libbpf's error. */
static int load_alone(const char *path, const char *name, unsigned int level)
{
	struct bpf_object *obj = bpf_object__open_file(path, NULL);
	struct bpf_program *prog;
	int err;

	if (!obj)
		return -1;
	log_text[0] = '\0';
	bpf_object__for_each_program(prog, obj) {
		int mine = !strcmp(bpf_program__name(prog), name);

		bpf_program__set_autoload(prog, mine);
		if (mine) {
			bpf_program__set_log_buf(prog, log_text, sizeof(log_text));
			bpf_program__set_log_level(prog, level);
		}
	}
	err = bpf_object__load(obj);
	bpf_object__close(obj);
	return err;
}

int main(int argc, char **argv)
{
	struct bpf_object *obj;
	struct bpf_program *prog;
	int loaded = 0, failed = 0;

	if (argc < 2) {
		fprintf(stderr, "usage: progcheck OBJECT [LOGDIR]\n");
		return 2;
	}
	libbpf_set_print(quiet);
	obj = bpf_object__open_file(argv[1], NULL);
	if (!obj) {
		fprintf(stderr, "progcheck: cannot open %s\n", argv[1]);
		return 2;
	}
	bpf_object__for_each_program(prog, obj) {
		const char *name = bpf_program__name(prog);
		char why[512];
		const char *insns;

		/* Statistics only (4): a success's log is one line of counts. */
		if (!load_alone(argv[1], name, 4)) {
			insns = strstr(log_text, "processed ");
			printf("ok   %-22s %s insns\n", name,
			       insns ? strtok((char *)insns + 10, " ") : "?");
			loaded++;
			continue;
		}
		/* Again with the instructions (1), for the reason. */
		load_alone(argv[1], name, 1);
		reason(log_text, why, sizeof(why));
		printf("FAIL %-22s %s\n", name, why);
		failed++;
		if (argc > 2) {
			char file[4096];
			FILE *f;

			snprintf(file, sizeof(file), "%s/%s.log", argv[2], name);
			f = fopen(file, "w");
			if (f) {
				fputs(log_text, f);
				fclose(f);
			}
		}
	}
	printf("programs: %d loaded, %d failed\n", loaded, failed);
	bpf_object__close(obj);
	return failed ? 1 : 0;
}
