/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * A judged run built by hand for the reporters' tests, independent of the judge: a
 * program "leaky" that leaks, has a suppressed site, a site within a rule's budget and one
 * over it, and a site with hostile symbol names; and a child "sh" that lost events and
 * has a site without a stack.
 */
#ifndef REPORT_FIXTURE_H
#define REPORT_FIXTURE_H

#include <stdint.h>
#include <string.h>

#include "assertions/judge.h"

#define FX_WORKSPACE "/work/ws"
#define FX_LEAKY_C FX_WORKSPACE "/src/leaky.c"
#define FX_LIBC "/usr/lib/x86_64-linux-gnu/libc.so.6"

/* Names the judge would give; the reporters only carry them. */
#define FX_NAME_CONFIG "read_config < main (leaky.c)"
#define FX_NAME_LIST "make_node < build_list < main (leaky.c)"
#define FX_NAME_CACHE "cache_put < main (leaky.c)"
#define FX_NAME_LIBC "[libc.so.6]"
#define FX_NAME_POOL "pool_grow < main (leaky.c)"
/* Control characters, markup and invalid UTF-8 (0xff, a lone continuation byte). */
#define FX_NAME_WEIRD "op<>&\"' \x01\x1b[31m\xff\x80 \xc3\xa9t\xc3\xa9"
#define FX_NAME_WEIRD_CLEAN "op<>&\"' ??[31m?? \xc3\xa9t\xc3\xa9"
#define FX_NAME_NOSTACK "unknown stack"

enum {
	FX_SITE_CONFIG,		/* leak, 4096 bytes in 1 allocation */
	FX_SITE_LIST,		/* leak, 320 bytes in 5 allocations */
	FX_SITE_CACHE,		/* over the budget of rule "cache" */
	FX_SITE_LIBC,		/* suppressed by rule "libc-init" */
	FX_SITE_POOL,		/* within the budget of rule "pool" */
	FX_SITE_WEIRD,		/* leak, hostile names */
	FX_NSITES_LEAKY,
};

enum {
	FX_RULE_LIBC,
	FX_RULE_CACHE,
	FX_RULE_POOL,
	FX_RULE_OLD,
	FX_NRULES,
};

struct fixture {
	struct frame frames[FX_NSITES_LEAKY][4];
	struct leak_site sites[FX_NSITES_LEAKY];
	struct leak_site sh_sites[1];
	struct block blocks[2];
	struct proc_record procs[2];
	struct site_judgement sj[FX_NSITES_LEAKY];
	struct site_judgement sh_sj[1];
	struct proc_judgement pj[2];
	struct suppression_rule rules[FX_NRULES];
	const struct suppression_rule *unused[1];
	const struct suppression_rule *loose[1];
	struct judgement j;
};

static inline struct frame fx_frame(uint64_t addr, const char *fn, uint64_t off, const char *file,
				    int line, const char *module)
{
	return (struct frame){ .addr = addr, .function = fn, .offset = off, .file = file,
			       .line = line, .module = module };
}

static inline void fx_site(struct fixture *f, int i, enum site_verdict v, const char *name,
			   uint64_t bytes, uint64_t allocs, size_t nframes, int rule, int own)
{
	f->sites[i] = (struct leak_site){ .bytes = bytes, .allocs = allocs, .nframes = nframes,
					  .frames = f->frames[i] };
	f->sj[i] = (struct site_judgement){ .site = &f->sites[i], .verdict = v,
					    .rule = rule >= 0 ? &f->rules[rule] : NULL,
					    .name = (char *)name,
					    .own_frame = own >= 0 ? &f->frames[i][own] : NULL };
}

/* The run; pid_base changes every pid, as another run of the same program would. */
static inline void fixture_init(struct fixture *f, int pid_base)
{
	static const char *const exe = FX_WORKSPACE "/build/leaky";
	struct frame libc_main = fx_frame(0x7f0000029d90, "__libc_start_call_main", 0x7a, NULL, 0,
					  FX_LIBC);

	memset(f, 0, sizeof(*f));
	f->rules[FX_RULE_LIBC] = (struct suppression_rule){
		.name = "libc-init", .file = "supp.txt", .line = 3, .origin = SUPP_NATIVE,
		.matched_bytes = 72, .matched_allocs = 1, .matched_sites = 1 };
	f->rules[FX_RULE_CACHE] = (struct suppression_rule){
		.name = "cache", .file = "supp.txt", .line = 7, .origin = SUPP_NATIVE,
		.has_budget = 1, .max_bytes = 100, .max_allocs = 1, .matched_bytes = 200,
		.matched_allocs = 2, .matched_sites = 1 };
	f->rules[FX_RULE_POOL] = (struct suppression_rule){
		.name = "pool", .file = FX_WORKSPACE "/supp.txt", .line = 12,
		.origin = SUPP_NATIVE, .has_budget = 1, .max_bytes = 128, .max_allocs = UINT64_MAX,
		.matched_bytes = 64, .matched_allocs = 1, .matched_sites = 1 };
	f->rules[FX_RULE_OLD] = (struct suppression_rule){
		.name = "old-leak", .file = FX_WORKSPACE "/supp.txt", .line = 20,
		.origin = SUPP_LSAN };

	f->frames[FX_SITE_CONFIG][0] = fx_frame(0x401136, "read_config", 0x13, FX_LEAKY_C, 41, exe);
	f->frames[FX_SITE_CONFIG][1] = fx_frame(0x401186, "main", 0x16, FX_LEAKY_C, 52, exe);
	f->frames[FX_SITE_CONFIG][2] = libc_main;
	fx_site(f, FX_SITE_CONFIG, SITE_LEAK, FX_NAME_CONFIG, 4096, 1, 3, -1, 0);

	f->frames[FX_SITE_LIST][0] = fx_frame(0x40111d, "make_node", 0x1d, FX_LEAKY_C, 19, exe);
	f->frames[FX_SITE_LIST][1] = fx_frame(0x401155, "build_list", 0x25, FX_LEAKY_C, 34, exe);
	f->frames[FX_SITE_LIST][2] = fx_frame(0x40117e, "main", 0xe, FX_LEAKY_C, 51, exe);
	f->frames[FX_SITE_LIST][3] = libc_main;
	fx_site(f, FX_SITE_LIST, SITE_LEAK, FX_NAME_LIST, 320, 5, 4, -1, 0);

	f->frames[FX_SITE_CACHE][0] = fx_frame(0x4011a0, "cache_put", 0x10, FX_LEAKY_C, 60, exe);
	f->frames[FX_SITE_CACHE][1] = fx_frame(0x401190, "main", 0x20, FX_LEAKY_C, 53, exe);
	fx_site(f, FX_SITE_CACHE, SITE_OVER_BUDGET, FX_NAME_CACHE, 200, 2, 2, FX_RULE_CACHE, 0);

	f->frames[FX_SITE_LIBC][0] = fx_frame(0x7f0000060000, "_IO_file_doallocate", 0x94, NULL,
					      0, FX_LIBC);
	f->frames[FX_SITE_LIBC][1] = fx_frame(0x7f0000061000, NULL, 0, NULL, 0, FX_LIBC);
	fx_site(f, FX_SITE_LIBC, SITE_SUPPRESSED, FX_NAME_LIBC, 72, 1, 2, FX_RULE_LIBC, -1);

	f->frames[FX_SITE_POOL][0] = fx_frame(0x4011c0, "pool_grow", 0x8, FX_LEAKY_C, 70, exe);
	f->frames[FX_SITE_POOL][1] = fx_frame(0x401194, "main", 0x24, FX_LEAKY_C, 54, exe);
	fx_site(f, FX_SITE_POOL, SITE_WITHIN_BUDGET, FX_NAME_POOL, 64, 1, 2, FX_RULE_POOL, 0);

	f->frames[FX_SITE_WEIRD][0] = fx_frame(0x4011e0, FX_NAME_WEIRD, 0x4, FX_WORKSPACE
					       "/src/we<ird>&.c", 5, exe);
	fx_site(f, FX_SITE_WEIRD, SITE_LEAK, FX_NAME_WEIRD, 16, 1, 1, -1, 0);

	f->blocks[0] = (struct block){ .addr = 0x55550000a000, .size = 4096, .age_ns = 1000 };
	f->sites[FX_SITE_CONFIG].nblocks = 1;
	f->sites[FX_SITE_CONFIG].blocks = &f->blocks[0];

	f->sh_sites[0] = (struct leak_site){ .bytes = 8, .allocs = 1 };
	f->sh_sj[0] = (struct site_judgement){ .site = &f->sh_sites[0], .verdict = SITE_LEAK,
					       .name = (char *)FX_NAME_NOSTACK };

	f->procs[0] = (struct proc_record){ .pid = pid_base, .ppid = 1, .comm = "leaky",
					    .exe = exe, .exited = 1, .nsites = FX_NSITES_LEAKY,
					    .sites = f->sites };
	f->procs[1] = (struct proc_record){ .pid = pid_base + 1, .ppid = pid_base, .comm = "sh",
					    .exe = "/usr/bin/dash", .exited = 1, .exit_code = 1,
					    .nsites = 1, .sites = f->sh_sites,
					    .lost = { .map_full = 3, .ringbuf_drops = 2,
						      .missed_frees = 4 } };

	f->pj[0] = (struct proc_judgement){ .proc = &f->procs[0], .nsites = FX_NSITES_LEAKY,
					    .sites = f->sj, .leaked_bytes = 4096 + 320 + 16,
					    .leaked_allocs = 7, .suppressed_bytes = 200 + 72 + 64,
					    .suppressed_allocs = 4 };
	f->pj[1] = (struct proc_judgement){ .proc = &f->procs[1], .nsites = 1, .sites = f->sh_sj,
					    .leaked_bytes = 8, .leaked_allocs = 1 };

	f->unused[0] = &f->rules[FX_RULE_OLD];
	f->loose[0] = &f->rules[FX_RULE_POOL];
	f->j = (struct judgement){ .nprocs = 2, .procs = f->pj, .leaked_bytes = 4096 + 320 + 16 + 8,
				   .leaked_allocs = 8, .over_budget = 1, .lost_data = 1,
				   .nunused = 1, .unused = f->unused, .nloose = 1,
				   .loose = f->loose };
}

/* The same run without the child, lost data or the rule over budget: a clean pass. */
static inline void fixture_clean(struct fixture *f)
{
	fixture_init(f, 100);
	f->j.nprocs = 1;
	f->pj[0].nsites = 0;
	f->pj[0].leaked_bytes = f->pj[0].leaked_allocs = 0;
	f->pj[0].suppressed_bytes = f->pj[0].suppressed_allocs = 0;
	f->j.leaked_bytes = f->j.leaked_allocs = 0;
	f->j.over_budget = f->j.lost_data = 0;
	f->j.nunused = f->j.nloose = 0;
}

#endif /* REPORT_FIXTURE_H */
