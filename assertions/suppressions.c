// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * Suppression rules: reading the three file forms, matching leak sites, budgets, and the
 * built-in rules for the C runtime. docs/SUPPRESSIONS.md describes the forms for users.
 *
 * One file may mix the forms; each rule is recognised by its first line:
 *   leak:PATTERN          a LeakSanitizer rule, matched anywhere in the stack
 *   {                     a valgrind block, matched from the allocator's frame down
 *   leak NAME / rule NAME a native rule, matched from the allocator's caller down
 */
#include "assertions/suppressions.h"

#include <ctype.h>
#include <dlfcn.h>
#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

#include "assertions/frame_names.h"
#include "assertions/glob.h"

enum pat_kind {
	PAT_FUN,	/* fun:GLOB, the function */
	PAT_OBJ,	/* obj:GLOB, the module (object) path or file name */
	PAT_SRC,	/* src:GLOB or src:GLOB:LINE, the source file */
	PAT_ANY,	/* ...: zero or more frames */
};

/* One frame line of a valgrind block or a native rule. */
struct pat {
	enum pat_kind kind;
	char *glob;
	char *demangled;	/* fun: naming a mangled C++ function: the name frames carry */
	char *module;		/* built-in rules: '|'-separated globs the module must match too */
	int alternatives;	/* built-in rules: glob is a '|'-separated list of globs */
};

struct rule {
	struct suppression_rule pub;	/* first: rules are handed out by this pointer */
	char *lsan;			/* LeakSanitizer pattern, or NULL for frame lines */
	struct pat *pats;
	size_t npats;
	int allocator_frame;		/* valgrind: the frame lines start at the allocator */
	uint64_t min_block;		/* built-in rules: sites of smaller blocks do not match */
	/* Built-in: a site of a system program without a frame of the project's code. */
	int system_program;
	/* Budget accounting within the process being judged. */
	uint64_t proc_bytes;
	uint64_t proc_allocs;
	uint64_t peak_bytes;		/* the most any one process used */
	uint64_t peak_allocs;
};

struct suppressions {
	struct rule **rules;
	size_t n, cap;
	char **files;		/* file names the rules point to */
	size_t nfiles;
	int system_process;	/* the process being judged runs a system program */
};

static const char builtin_file[] = "<builtin>";

/* --- rules and the set --------------------------------------------------------------- */

static struct rule *rule_of(const struct suppression_rule *r)
{
	return (struct rule *)r;
}

static void rule_free(struct rule *r)
{
	if (!r)
		return;
	for (size_t i = 0; i < r->npats; i++) {
		free(r->pats[i].glob);
		free(r->pats[i].demangled);
		free(r->pats[i].module);
	}
	free(r->pats);
	free(r->lsan);
	free((char *)r->pub.name);
	free(r);
}

static struct rule *rule_new(enum suppression_origin origin, const char *file, int line,
			     const char *name, size_t namelen)
{
	struct rule *r = calloc(1, sizeof(*r));

	if (!r)
		return NULL;
	r->pub.name = strndup(name, namelen);
	if (!r->pub.name) {
		free(r);
		return NULL;
	}
	r->pub.file = file;
	r->pub.line = line;
	r->pub.origin = origin;
	r->pub.max_bytes = UINT64_MAX;
	r->pub.max_allocs = UINT64_MAX;
	r->pub.leak_kinds = LEAK_KINDS_ALL;
	return r;
}

/* Appends a frame line to a rule; the rule owns glob and module from then on. */
static int rule_add_pat(struct rule *r, enum pat_kind kind, char *glob, char *module)
{
	struct pat *grown = realloc(r->pats, (r->npats + 1) * sizeof(*grown));

	if (!grown) {
		free(glob);
		free(module);
		return -ENOMEM;
	}
	r->pats = grown;
	r->pats[r->npats++] = (struct pat){ .kind = kind, .glob = glob, .module = module };
	return 0;
}

/* Keeps a copy of a file name for the rules that came from it. */
static const char *set_keep_file(struct suppressions *s, const char *name)
{
	char **grown = realloc(s->files, (s->nfiles + 1) * sizeof(*grown));
	char *copy;

	if (!grown)
		return NULL;
	s->files = grown;
	copy = strdup(name);
	if (copy)
		s->files[s->nfiles++] = copy;
	return copy;
}

struct suppressions *suppressions__new(void)
{
	return calloc(1, sizeof(struct suppressions));
}

void suppressions__free(struct suppressions *s)
{
	if (!s)
		return;
	for (size_t i = 0; i < s->n; i++)
		rule_free(s->rules[i]);
	free(s->rules);
	for (size_t i = 0; i < s->nfiles; i++)
		free(s->files[i]);
	free(s->files);
	free(s);
}

size_t suppressions__count(const struct suppressions *s)
{
	return s ? s->n : 0;
}

struct suppression_rule *suppressions__rule(const struct suppressions *s, size_t i)
{
	return s && i < s->n ? &s->rules[i]->pub : NULL;
}

int suppressions_is_system_module(const char *module)
{
	return frame_names_is_system_module(module);
}

size_t suppressions_stable_len(const char *function)
{
	return frame_names_stem_len(function);
}

/* --- matching ------------------------------------------------------------------------ */

/* Matches a glob, or for built-in rules any of its '|'-separated alternatives. */
static int glob_any(const char *glob, int alternatives, const char *s, size_t slen)
{
	const char *p = glob;

	if (!alternatives)
		return glob_match_n(glob, strlen(glob), s, slen);
	for (;;) {
		size_t n = strcspn(p, "|");

		if (glob_match_n(p, n, s, slen))
			return 1;
		if (!p[n])
			return 0;
		p += n + 1;
	}
}

static int fun_glob_matches(const struct pat *p, const char *s, size_t len)
{
	return glob_any(p->glob, p->alternatives, s, len) ||
	       (p->demangled && glob_match_n(p->demangled, strlen(p->demangled), s, len));
}

/*
 * A function matches under its own name and under the stable forms other tools show:
 * without clone suffix or symbol version ("make_node.constprop.0" is also "make_node"),
 * glibc's internal alias without its "__" ("__strdup" is also "strdup"), "(below main)"
 * for the C runtime's start-up frames as valgrind names them, and "???" when unknown.
 */
static int fun_matches(const struct pat *p, const char *function)
{
	size_t len, stem;

	if (!function)
		return fun_glob_matches(p, "???", 3);
	len = strlen(function);
	stem = frame_names_stem_len(function);
	if (fun_glob_matches(p, function, len))
		return 1;
	if (stem < len && fun_glob_matches(p, function, stem))
		return 1;
	if (stem > 2 && function[0] == '_' && function[1] == '_' &&
	    isalpha((unsigned char)function[2]) && fun_glob_matches(p, function + 2, stem - 2))
		return 1;
	return frame_names_is_below_main(function) &&
	       fun_glob_matches(p, "(below main)", strlen("(below main)"));
}

/* A module matches by its path or by its file name alone. */
static int module_matches(const char *glob, int alternatives, const char *module)
{
	const char *base;

	if (!module)
		return glob_any(glob, alternatives, "???", 3);
	base = frame_names_basename(module);
	return glob_any(glob, alternatives, module, strlen(module)) ||
	       (base != module && glob_any(glob, alternatives, base, strlen(base)));
}

/* A source file matches by path or file name, either alone or followed by ":LINE". */
static int src_matches(const char *glob, const struct frame *f)
{
	const char *base;
	char buf[4096];

	if (!f->file)
		return 0;
	base = frame_names_basename(f->file);
	if (glob_match(glob, f->file) || glob_match(glob, base))
		return 1;
	if (f->line <= 0)
		return 0;
	snprintf(buf, sizeof(buf), "%s:%d", f->file, f->line);
	if (glob_match(glob, buf))
		return 1;
	snprintf(buf, sizeof(buf), "%s:%d", base, f->line);
	return glob_match(glob, buf);
}

static int pat_matches_frame(const struct pat *p, const struct frame *f)
{
	if (p->module && !module_matches(p->module, 1, f->module))
		return 0;
	switch (p->kind) {
	case PAT_FUN:
		return fun_matches(p, f->function);
	case PAT_OBJ:
		return module_matches(p->glob, p->alternatives, f->module);
	case PAT_SRC:
		return src_matches(p->glob, f);
	default:
		return 0;
	}
}

/* Where valgrind's allocator replacements live, for obj: lines naming them. */
static const char *const valgrind_preloads[] = {
	"/usr/libexec/valgrind/vgpreload_memcheck-amd64-linux.so",
	"/usr/lib/x86_64-linux-gnu/valgrind/vgpreload_memcheck-amd64-linux.so",
	"/usr/lib/valgrind/vgpreload_memcheck-amd64-linux.so",
	"vgpreload_memcheck-amd64-linux.so",
	NULL,
};

/*
 * Whether a valgrind frame line matches the allocator's own frame. Valgrind's stacks start
 * in its replacement of malloc (or calloc, operator new, ...); ours start at the caller,
 * because the allocator's frame says nothing. The block's first line is therefore
 * matched against a stand-in frame for the allocator: any allocator entry point as the
 * function, valgrind's preload object as the module, its replacement source as the file.
 */
static int pat_matches_allocator(const struct pat *p)
{
	switch (p->kind) {
	case PAT_FUN:
		for (size_t i = 0; frame_names_allocators[i]; i++) {
			const char *name = frame_names_allocators[i];

			if (fun_glob_matches(p, name, strlen(name)))
				return 1;
		}
		return 0;
	case PAT_OBJ:
		if (strstr(p->glob, "vgpreload"))
			return 1;
		for (size_t i = 0; valgrind_preloads[i]; i++) {
			if (glob_match(p->glob, valgrind_preloads[i]))
				return 1;
		}
		return 0;
	case PAT_SRC:
		return strstr(p->glob, "vg_replace_malloc") ||
		       glob_match(p->glob, "vg_replace_malloc.c");
	default:
		return 0;
	}
}

/*
 * Whether a fun: line names an allocator specifically, so that it may stand for a second
 * allocator frame: valgrind shows "malloc" then "operator new" when a C++ runtime's new
 * calls malloc, while the tracer records the outermost allocator call only. A glob that
 * also matches an arbitrary name ("*", "?") is not specific.
 */
static int pat_is_allocator_specific(const struct pat *p)
{
	return p->kind == PAT_FUN && pat_matches_allocator(p) && !fun_glob_matches(p, "x", 1);
}

/* A frame line that may match past the last frame: the stack walk may stop above main. */
static int pat_matches_stack_end(const struct pat *p)
{
	if (p->kind == PAT_ANY)
		return 1;
	return p->kind == PAT_FUN && !glob_has_wildcards(p->glob) &&
	       !strcmp(p->glob, "(below main)");
}

/*
 * Whether the rule's lines match the stack: a glob over frames, with "..." as the star.
 * Row i holds the frames j at which line i can be tried, given that lines 0..i-1 matched
 * the frames before j; a line moves a position to the next row, "..." also along its own
 * row. Rows are filled in order and only positions reached are tried, so the work is at
 * most lines x frames, with nothing recursive on the length of either.
 */
static int frames_match(const struct rule *r, const struct leak_site *site)
{
	unsigned char small[2 * 512];
	unsigned char *cur, *next, *buf;
	size_t nv, npats = r->npats;
	int alloc, ok = 0;

	/* A stack that (unexpectedly) starts inside the allocator needs no stand-in. */
	alloc = r->allocator_frame &&
		!(site->nframes > 0 && frame_names_is_allocator(site->frames[0].function));
	nv = site->nframes + alloc;	/* frames, counting the allocator's stand-in */
	if (!npats)
		return 1;
	buf = 2 * (nv + 1) <= sizeof(small) ? small : malloc(2 * (nv + 1));
	if (!buf)
		return 0;
	cur = buf;
	next = buf + nv + 1;
	memset(cur, 0, nv + 1);
	cur[0] = 1;
	for (size_t i = 0; i < npats; i++) {
		const struct pat *p = &r->pats[i];
		int reached = 0;

		memset(next, 0, nv + 1);
		for (size_t j = 0; j <= nv; j++) {
			if (!cur[j])
				continue;
			if (p->kind == PAT_ANY) {
				next[j] = 1;
				if (j < nv)
					cur[j + 1] = 1;
			} else if (j == nv) {
				if (pat_matches_stack_end(p))
					next[j] = 1;
			} else if (alloc && j == 0) {
				if (pat_matches_allocator(p)) {
					next[1] = 1;
					if (i + 1 < npats && pat_is_allocator_specific(&r->pats[i + 1]))
						next[0] = 1;
				}
			} else if (pat_matches_frame(p, &site->frames[j - alloc])) {
				next[j + 1] = 1;
			}
		}
		for (size_t j = 0; j <= nv && !reached; j++)
			reached = next[j];
		if (!reached)
			goto out;
		/* Frames beyond the rule's lines do not matter. */
		if (i + 1 == npats) {
			ok = 1;
			goto out;
		}
		buf = cur;
		cur = next;
		next = buf;
	}
out:
	buf = cur < next ? cur : next;
	if (buf != small)
		free(buf);
	return ok;
}

/* LeakSanitizer: the pattern matches any frame's function, module or source file. */
static int lsan_matches(const char *pattern, const struct leak_site *site)
{
	for (size_t i = 0; i < site->nframes; i++) {
		const struct frame *f = &site->frames[i];

		if (glob_match_lsan(pattern, f->function) || glob_match_lsan(pattern, f->module) ||
		    glob_match_lsan(pattern, f->file))
			return 1;
		if (f->function) {
			size_t stem = frame_names_stem_len(f->function);
			char buf[512];

			if (stem < strlen(f->function) && stem < sizeof(buf)) {
				memcpy(buf, f->function, stem);
				buf[stem] = '\0';
				if (glob_match_lsan(pattern, buf))
					return 1;
			}
		}
	}
	return 0;
}

/* Whether any frame of the site is in the project's code rather than the system's. */
static int has_project_frame(const struct leak_site *site)
{
	for (size_t i = 0; i < site->nframes; i++)
		if (!frame_names_is_system_module(site->frames[i].module))
			return 1;
	return 0;
}

static int rule_matches(const struct suppressions *s, const struct rule *r,
			const struct leak_site *site)
{
	if (!(r->pub.leak_kinds & (1u << site->kind)))
		return 0;
	if (r->system_program)
		return s->system_process && !has_project_frame(site);
	if (r->min_block && (!site->allocs || site->bytes / site->allocs < r->min_block))
		return 0;
	if (r->lsan)
		return lsan_matches(r->lsan, site);
	return frames_match(r, site);
}

struct suppression_rule *suppressions__match(const struct suppressions *s,
					     const struct leak_site *site)
{
	for (size_t i = 0; s && i < s->n; i++) {
		if (rule_matches(s, s->rules[i], site))
			return &s->rules[i]->pub;
	}
	return NULL;
}

/* --- budgets ------------------------------------------------------------------------- */

static uint64_t add_sat(uint64_t a, uint64_t b)
{
	return a > UINT64_MAX - b ? UINT64_MAX : a + b;
}

void suppressions__begin_process(struct suppressions *s, const char *exe)
{
	if (s)
		s->system_process = exe && frame_names_is_system_module(exe);
	for (size_t i = 0; s && i < s->n; i++) {
		s->rules[i]->proc_bytes = 0;
		s->rules[i]->proc_allocs = 0;
	}
}

int suppressions__charge(struct suppressions *s, struct suppression_rule *pub,
			 const struct leak_site *site)
{
	struct rule *r = rule_of(pub);
	uint64_t bytes, allocs;

	pub->matched_bytes = add_sat(pub->matched_bytes, site->bytes);
	pub->matched_allocs = add_sat(pub->matched_allocs, site->allocs);
	pub->matched_sites++;
	r->proc_bytes = add_sat(r->proc_bytes, site->bytes);
	r->proc_allocs = add_sat(r->proc_allocs, site->allocs);
	if (r->proc_bytes > r->peak_bytes)
		r->peak_bytes = r->proc_bytes;
	if (r->proc_allocs > r->peak_allocs)
		r->peak_allocs = r->proc_allocs;
	if (!pub->has_budget)
		return 0;
	bytes = pub->budget_per_process ? r->proc_bytes : pub->matched_bytes;
	allocs = pub->budget_per_process ? r->proc_allocs : pub->matched_allocs;
	return bytes > pub->max_bytes || allocs > pub->max_allocs;
}

int suppressions__is_loose(const struct suppressions *s, const struct suppression_rule *pub)
{
	const struct rule *r = rule_of(pub);
	uint64_t bytes, allocs;

	if (!pub->has_budget || !pub->matched_sites)
		return 0;
	bytes = pub->budget_per_process ? r->peak_bytes : pub->matched_bytes;
	allocs = pub->budget_per_process ? r->peak_allocs : pub->matched_allocs;
	return (pub->max_bytes != UINT64_MAX && bytes < pub->max_bytes) ||
	       (pub->max_allocs != UINT64_MAX && allocs < pub->max_allocs);
}

void suppressions__reset_counters(struct suppressions *s)
{
	for (size_t i = 0; s && i < s->n; i++) {
		struct rule *r = s->rules[i];

		r->pub.matched_bytes = r->pub.matched_allocs = r->pub.matched_sites = 0;
		r->proc_bytes = r->proc_allocs = r->peak_bytes = r->peak_allocs = 0;
	}
}

/* --- C++ names in valgrind files ------------------------------------------------------ */

typedef char *(*demangle_fn)(const char *mangled, char *buf, size_t *len, int *status);

/*
 * The C++ runtime's demangler, found at run time: the tools link the C++ runtime anyway,
 * and this module stays plain C that links without it.
 */
static demangle_fn demangler(void)
{
	static demangle_fn fn;
	static int looked;

	if (!looked) {
		void *sym = dlsym(RTLD_DEFAULT, "__cxa_demangle");

		looked = 1;
		if (!sym) {
			void *lib = dlopen("libstdc++.so.6", RTLD_LAZY | RTLD_LOCAL);

			sym = lib ? dlsym(lib, "__cxa_demangle") : NULL;
		}
		memcpy(&fn, &sym, sizeof(fn));
	}
	return fn;
}

/*
 * Valgrind files name C++ functions mangled ("_ZN2ns11make_widgetEv"); frames carry them
 * demangled ("ns::make_widget()"). An exact mangled name is demangled once, here; a mangled
 * glob with wildcards cannot be and matches only a frame showing the mangled name.
 */
static int demangle_pat(struct pat *p)
{
	demangle_fn fn;
	char *plain;
	int status = -1;

	if (p->kind != PAT_FUN || strncmp(p->glob, "_Z", 2) || glob_has_wildcards(p->glob) ||
	    strchr(p->glob, '\\'))
		return 0;
	fn = demangler();
	if (!fn)
		return 0;
	plain = fn(p->glob, NULL, NULL, &status);
	if (!plain || status != 0) {
		free(plain);
		return status == -1 ? -ENOMEM : 0;
	}
	p->demangled = glob_escape(plain, strlen(plain));
	free(plain);
	return p->demangled ? 0 : -ENOMEM;
}

/* --- reading files -------------------------------------------------------------------- */

enum parse_state {
	ST_TOP,		/* between rules */
	ST_NATIVE,	/* in a native rule: frame lines and its budget */
	ST_VG_NAME,	/* after '{': the block's name comes next */
	ST_VG_KIND,	/* after the name: "Memcheck:Leak" comes next */
	ST_VG_FRAMES,	/* frame lines until '}' */
	ST_VG_SKIP,	/* a block for another tool or error kind: skipped until '}' */
};

struct parser {
	const char *file;	/* for messages and rules; kept by the suppressions */
	int line;
	char *err;
	size_t errlen;
	struct rule **rules;	/* read so far; added to the set when the whole file is good */
	size_t n;
	enum parse_state state;
	struct rule *cur;	/* the native rule or valgrind block being read */
	int cur_line;		/* the line it started on */
	int kinds_next;		/* valgrind: a match-leak-kinds line may come next */
	int has_budget_line;
};

__attribute__((format(printf, 3, 4)))
static int fail_at(struct parser *ps, int line, const char *fmt, ...)
{
	size_t used;
	va_list ap;

	if (!ps->err || !ps->errlen)
		return -EINVAL;
	snprintf(ps->err, ps->errlen, "%s:%d: ", ps->file, line);
	used = strlen(ps->err);
	va_start(ap, fmt);
	vsnprintf(ps->err + used, ps->errlen - used, fmt, ap);
	va_end(ap);
	return -EINVAL;
}

static int keep_rule(struct parser *ps, struct rule *r)
{
	struct rule **grown = realloc(ps->rules, (ps->n + 1) * sizeof(*grown));

	if (!grown) {
		rule_free(r);
		return -ENOMEM;
	}
	ps->rules = grown;
	ps->rules[ps->n++] = r;
	return 0;
}

static char *trim(char *s)
{
	char *end;

	while (isspace((unsigned char)*s))
		s++;
	end = s + strlen(s);
	while (end > s && isspace((unsigned char)end[-1]))
		*--end = '\0';
	return s;
}

/* Native lines may end with a comment: whitespace, '#', anything. */
static char *strip_comment(char *s)
{
	for (char *p = s; *p; p++) {
		if (*p == '#' && p > s && isspace((unsigned char)p[-1])) {
			*p = '\0';
			break;
		}
	}
	return trim(s);
}

static int starts_with(const char *s, const char *prefix)
{
	return !strncmp(s, prefix, strlen(prefix));
}

/* Which frame line this is: a PAT_* kind, or -1 when it is not one. */
static int frame_line_kind(const char *text)
{
	if (!strcmp(text, "..."))
		return PAT_ANY;
	if (starts_with(text, "fun:"))
		return PAT_FUN;
	if (starts_with(text, "obj:"))
		return PAT_OBJ;
	if (starts_with(text, "src:"))
		return PAT_SRC;
	return -1;
}

/* The value of hex digit c, or -1. */
static int hex_digit(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	c = (char)tolower((unsigned char)c);
	return c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
}

/* The byte of "\xHH" at s, or -1 when s does not start such an escape. */
static int hex_escape(const char *s)
{
	int hi, lo;

	if (s[0] != '\\' || s[1] != 'x' || (hi = hex_digit(s[2])) < 0 ||
	    (lo = hex_digit(s[3])) < 0)
		return -1;
	return hi << 4 | lo;
}

/*
 * Native rules write any byte as "\xHH": a line feed, a '#', a blank at either end of a
 * name or pattern (docs/SUPPRESSIONS.md, "Escapes"). In a pattern the byte is literal,
 * as "\c" is: the result is a glob. Other backslashes are kept: in a pattern "\c" is
 * the glob's own escape, in a name a backslash. Returns a new string, or NULL with the
 * parser's error set (a NUL byte) or, with ps->err untouched, out of memory.
 */
static char *native_unescape(struct parser *ps, const char *s, int glob, int *err)
{
	char *out = malloc(2 * strlen(s) + 1), *o = out;

	*err = -ENOMEM;
	if (!out)
		return NULL;
	while (*s) {
		int c = hex_escape(s);

		if (c == 0) {
			free(out);
			*err = fail_at(ps, ps->line, "'\\x00': a name cannot hold a NUL byte");
			return NULL;
		}
		if (c > 0) {
			if (glob)
				*o++ = '\\';
			*o++ = (char)c;
			s += 4;
		} else if (glob && *s == '\\' && s[1]) {
			*o++ = *s++;
			*o++ = *s++;
		} else {
			*o++ = *s++;
		}
	}
	*o = '\0';
	*err = 0;
	return out;
}

/* Adds a frame line to the rule being read; native rules' lines may hold escapes. */
static int add_frame_line(struct parser *ps, const char *text, int kind)
{
	char *glob = NULL;
	int err;

	if (kind != PAT_ANY) {
		char *copy = strdup(text + 4), *g;

		if (!copy)
			return -ENOMEM;
		g = trim(copy);
		if (!*g) {
			free(copy);
			return fail_at(ps, ps->line, "'%.4s' needs a pattern after the colon",
				       text);
		}
		if (ps->state == ST_NATIVE)
			glob = native_unescape(ps, g, 1, &err);
		else
			glob = strdup(g);
		free(copy);
		if (!glob)
			return ps->state == ST_NATIVE ? err : -ENOMEM;
	}
	err = rule_add_pat(ps->cur, kind, glob, NULL);
	if (err)
		return err;
	return demangle_pat(&ps->cur->pats[ps->cur->npats - 1]);
}

/* Parses "NUMBER" from *p; moves *p past it. */
static int parse_number(const char **p, uint64_t *out)
{
	uint64_t v = 0;

	if (!isdigit((unsigned char)**p))
		return -EINVAL;
	while (isdigit((unsigned char)**p)) {
		unsigned d = **p - '0';

		if (v > (UINT64_MAX - d) / 10)
			return -ERANGE;
		v = v * 10 + d;
		(*p)++;
	}
	*out = v;
	return 0;
}

static int word_is(const char *w, size_t n, const char *const *words)
{
	for (size_t i = 0; words[i]; i++) {
		if (strlen(words[i]) == n && !strncasecmp(w, words[i], n))
			return 1;
	}
	return 0;
}

#define BUDGET_FORM "expected 'N bytes', 'N allocs' or both, as in 'budget: 4096 bytes, 3 allocs'"

/* "budget: 4096 bytes, 3 allocs [per process]", either amount alone, in any order. */
static int parse_budget(struct parser *ps, const char *text)
{
	static const char *const byte_words[] = { "bytes", "byte", "B", NULL };
	static const char *const alloc_words[] = { "allocs", "alloc", "allocations", "allocation",
						   NULL };
	struct suppression_rule *pub = &ps->cur->pub;
	const char *p = text + strlen("budget:");
	int have_bytes = 0, have_allocs = 0;

	if (ps->has_budget_line)
		return fail_at(ps, ps->line, "rule '%s' has a second budget line", pub->name);
	ps->has_budget_line = 1;
	for (;;) {
		const char *w;
		uint64_t v;
		size_t n;
		int err;

		while (isspace((unsigned char)*p) || *p == ',')
			p++;
		if (!*p)
			break;
		if ((have_bytes || have_allocs) && starts_with(p, "per") &&
		    isspace((unsigned char)p[3])) {
			const char *q = p + 3;

			while (isspace((unsigned char)*q))
				q++;
			if (!strcmp(q, "process")) {
				pub->budget_per_process = 1;
				break;
			}
		}
		w = p;
		err = parse_number(&p, &v);
		if (err == -ERANGE)
			return fail_at(ps, ps->line, "budget amount '%.*s' is too large",
				       (int)strspn(w, "0123456789"), w);
		if (err)
			return fail_at(ps, ps->line, "bad budget '%s': " BUDGET_FORM, text);
		while (isspace((unsigned char)*p))
			p++;
		w = p;
		n = strcspn(p, " \t,");
		if (word_is(w, n, byte_words) && !have_bytes) {
			pub->max_bytes = v;
			have_bytes = 1;
		} else if (word_is(w, n, alloc_words) && !have_allocs) {
			pub->max_allocs = v;
			have_allocs = 1;
		} else {
			return fail_at(ps, ps->line, "bad budget '%s': " BUDGET_FORM, text);
		}
		p += n;
	}
	if (!have_bytes && !have_allocs)
		return fail_at(ps, ps->line, "empty budget: " BUDGET_FORM);
	pub->has_budget = 1;
	return 0;
}

/* Memcheck's error kinds other than Leak: blocks for them are valid but not about leaks. */
static const char *const memcheck_kinds[] = {
	"Value0", "Value1", "Value2", "Value4", "Value8", "Value16", "Value32", "Cond", "Addr1",
	"Addr2", "Addr4", "Addr8", "Addr16", "Addr32", "Jump", "Param", "User", "Free",
	"Overlap", "FishyValue", "ReallocZero", NULL,
};

/*
 * "match-leak-kinds: definite,possible" (valgrind) or "kinds: definite" (native): the
 * kinds of block the rule matches.
 */
static int parse_leak_kinds(struct parser *ps, const char *text, const char *key)
{
	const char *p = text + strlen(key);
	char list[128];
	size_t n = 0;
	const char *bad;

	for (; *p && n + 1 < sizeof(list); p++)
		if (!isspace((unsigned char)*p))
			list[n++] = *p;
	list[n] = '\0';
	if (*p || !n)
		return fail_at(ps, ps->line, "'%s' names no kind, or too many", key);
	if (leak_kinds_parse(list, &ps->cur->pub.leak_kinds, &bad))
		return fail_at(ps, ps->line, "unknown leak kind '%.*s' in '%s' (expected definite, "
			       "indirect, possible, reachable, all or none)", (int)strcspn(bad, ","),
			       bad, key);
	return 0;
}

/* The line after a valgrind block's name: "TOOL[,TOOL...]:KIND". */
static int parse_vg_kind(struct parser *ps, const char *text)
{
	const char *colon = strchr(text, ':'), *space = strpbrk(text, " \t{}"), *kind, *p;
	int memcheck = 0;

	if (!colon || frame_line_kind(text) >= 0 || starts_with(text, "match-leak-kinds:") ||
	    (space && space < colon))
		return fail_at(ps, ps->line, "block '%s' lacks its 'Memcheck:Leak' line "
			       "(found '%s' after the name)", ps->cur->pub.name, text);
	for (p = text; p < colon;) {
		size_t n = strcspn(p, ",:");

		if (n == 8 && !strncasecmp(p, "Memcheck", 8))
			memcheck = 1;
		p += n + (p[n] == ',');
	}
	kind = colon + 1;
	if (memcheck && !strcmp(kind, "Leak")) {
		ps->state = ST_VG_FRAMES;
		ps->kinds_next = 1;
		return 0;
	}
	if (memcheck && !word_is(kind, strlen(kind), memcheck_kinds))
		return fail_at(ps, ps->line, "unknown Memcheck suppression kind '%s' in block '%s' "
			       "(leaks are 'Memcheck:Leak')", kind, ps->cur->pub.name);
	/* Another kind of error, or another tool: valid, but nothing to do with leaks. */
	ps->state = ST_VG_SKIP;
	return 0;
}

static int vg_line(struct parser *ps, char *text)
{
	struct rule *r = ps->cur;
	int kind;

	if (!strcmp(text, "{"))
		return fail_at(ps, ps->line, "'{' inside the block opened at line %d: is its '}' "
			       "missing?", ps->cur_line);
	switch (ps->state) {
	case ST_VG_NAME: {
		char *name;

		if (!strcmp(text, "}"))
			return fail_at(ps, ps->line, "block opened at line %d has no name",
				       ps->cur_line);
		name = strdup(text);
		if (!name)
			return -ENOMEM;
		free((char *)r->pub.name);
		r->pub.name = name;
		ps->state = ST_VG_KIND;
		return 0;
	}
	case ST_VG_KIND:
		return parse_vg_kind(ps, text);
	case ST_VG_SKIP:
		if (!strcmp(text, "}")) {
			rule_free(r);
			ps->cur = NULL;
			ps->state = ST_TOP;
		}
		return 0;
	default:
		break;
	}
	if (!strcmp(text, "}")) {
		ps->cur = NULL;
		ps->state = ST_TOP;
		if (!r->npats) {
			int err = fail_at(ps, ps->line, "block '%s' has no frame lines "
					  "(fun:, obj:, src: or ...)", r->pub.name);

			rule_free(r);
			return err;
		}
		return keep_rule(ps, r);
	}
	if (starts_with(text, "match-leak-kinds:")) {
		if (!ps->kinds_next)
			return fail_at(ps, ps->line, "'match-leak-kinds:' must come right after "
				       "'Memcheck:Leak'");
		ps->kinds_next = 0;
		return parse_leak_kinds(ps, text, "match-leak-kinds:");
	}
	ps->kinds_next = 0;
	kind = frame_line_kind(text);
	if (kind >= 0)
		return add_frame_line(ps, text, kind);
	if (starts_with(text, "budget:"))
		return fail_at(ps, ps->line, "budgets belong in native rules ('leak NAME'), not in "
			       "valgrind blocks");
	return fail_at(ps, ps->line, "unknown frame line '%s' in block '%s' (expected fun:, obj:, "
		       "src: or ...)", text, r->pub.name);
}

static int finish_native(struct parser *ps)
{
	struct rule *r = ps->cur;

	ps->cur = NULL;
	ps->state = ST_TOP;
	if (!r->npats) {
		int err = fail_at(ps, ps->cur_line, "rule '%s' has no frame lines "
				  "(fun:, obj:, src: or ...)", r->pub.name);

		rule_free(r);
		return err;
	}
	return keep_rule(ps, r);
}

/* "leak NAME" or "rule NAME" starts a native rule. */
static int is_native_header(const char *text)
{
	return (starts_with(text, "leak") || starts_with(text, "rule")) &&
	       (text[4] == '\0' || isspace((unsigned char)text[4]));
}

static int top_line(struct parser *ps, char *text)
{
	size_t word;

	if (!strcmp(text, "{")) {
		ps->cur = rule_new(SUPP_VALGRIND, ps->file, ps->line, "", 0);
		if (!ps->cur)
			return -ENOMEM;
		ps->cur->allocator_frame = 1;
		ps->cur_line = ps->line;
		ps->state = ST_VG_NAME;
		return 0;
	}
	if (is_native_header(text)) {
		char *name = strip_comment(text + 4);

		int err;

		if (!*name)
			return fail_at(ps, ps->line, "rule name missing after '%.4s'", text);
		name = native_unescape(ps, name, 0, &err);
		if (!name)
			return err;
		ps->cur = rule_new(SUPP_NATIVE, ps->file, ps->line, name, strlen(name));
		free(name);
		if (!ps->cur)
			return -ENOMEM;
		ps->cur_line = ps->line;
		ps->has_budget_line = 0;
		ps->state = ST_NATIVE;
		return 0;
	}
	if (starts_with(text, "leak:")) {
		char *pattern = trim(text + 5);
		struct rule *r;

		if (!*pattern)
			return fail_at(ps, ps->line, "'leak:' needs a pattern");
		r = rule_new(SUPP_LSAN, ps->file, ps->line, text, strlen(text));
		if (!r)
			return -ENOMEM;
		r->lsan = strdup(pattern);
		if (!r->lsan) {
			rule_free(r);
			return -ENOMEM;
		}
		return keep_rule(ps, r);
	}
	if (!strcmp(text, "}"))
		return fail_at(ps, ps->line, "'}' without an opening '{'");
	if (frame_line_kind(text) >= 0)
		return fail_at(ps, ps->line, "'%s' outside a rule: frame lines belong in a "
			       "valgrind '{' block or after 'leak NAME'", text);
	if (starts_with(text, "budget:"))
		return fail_at(ps, ps->line, "'budget:' outside a rule: budgets belong after "
			       "'leak NAME'");
	word = strspn(text, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-");
	if (word > 0 && text[word] == ':')
		return fail_at(ps, ps->line, "unsupported suppression type '%.*s:' (of "
			       "LeakSanitizer's types only 'leak:' applies to leaks)", (int)word,
			       text);
	return fail_at(ps, ps->line, "unrecognized line '%s' (expected 'leak:PATTERN', a valgrind "
		       "'{' block or a native rule 'leak NAME')", text);
}

static int native_line(struct parser *ps, char *text)
{
	int kind;

	if (!strcmp(text, "{") || is_native_header(text) || starts_with(text, "leak:")) {
		int err = finish_native(ps);

		return err ? err : top_line(ps, text);
	}
	text = strip_comment(text);
	kind = frame_line_kind(text);
	if (kind >= 0)
		return add_frame_line(ps, text, kind);
	if (starts_with(text, "budget:"))
		return parse_budget(ps, text);
	if (starts_with(text, "kinds:"))
		return parse_leak_kinds(ps, text, "kinds:");
	if (!strcmp(text, "}"))
		return fail_at(ps, ps->line, "'}' without an opening '{'");
	return fail_at(ps, ps->line, "unknown line '%s' in rule '%s' (expected fun:, obj:, src:, "
		       "..., kinds: or budget:)", text, ps->cur->pub.name);
}

static int parse_line(struct parser *ps, char *line)
{
	char *text = trim(line);

	if (!*text || *text == '#')
		return 0;
	switch (ps->state) {
	case ST_TOP:
		return top_line(ps, text);
	case ST_NATIVE:
		return native_line(ps, text);
	default:
		return vg_line(ps, text);
	}
}

static int parse_end(struct parser *ps)
{
	switch (ps->state) {
	case ST_TOP:
		return 0;
	case ST_NATIVE:
		return finish_native(ps);
	default:
		if (ps->state == ST_VG_NAME)
			return fail_at(ps, ps->cur_line, "block is not closed with '}'");
		return fail_at(ps, ps->cur_line, "block '%s' is not closed with '}'",
			       ps->cur->pub.name);
	}
}

static int set_reserve(struct suppressions *s, size_t more)
{
	size_t cap = s->cap ? s->cap : 16;
	struct rule **grown;

	while (cap < s->n + more)
		cap *= 2;
	if (cap == s->cap)
		return 0;
	grown = realloc(s->rules, cap * sizeof(*grown));
	if (!grown)
		return -ENOMEM;
	s->rules = grown;
	s->cap = cap;
	return 0;
}

/*
 * Messages quote the file's lines and name, which may hold anything: control bytes are
 * written as \xHH, so that a message cannot move a terminal's cursor or change its colours.
 */
static void clean_message(char *err, size_t errlen)
{
	char copy[4096];
	size_t o = 0;

	if (!err || !errlen)
		return;
	snprintf(copy, sizeof(copy), "%s", err);
	for (const unsigned char *p = (const unsigned char *)copy; *p && o + 1 < errlen; p++) {
		if (*p < 0x20 || *p == 0x7f) {
			if (o + 5 > errlen)
				break;
			snprintf(err + o, 5, "\\x%02x", *p);
			o += 4;
		} else {
			err[o++] = (char)*p;
		}
	}
	err[o] = '\0';
}

int suppressions__load_string(struct suppressions *s, const char *name, const char *text,
			      char *err, size_t errlen)
{
	struct parser ps = { .err = err, .errlen = errlen };
	char *copy = NULL, *line, *next;
	int ret;

	if (err && errlen)
		err[0] = '\0';
	if (!name)
		name = "<string>";
	if (!s || !text) {
		ret = -EINVAL;
		if (err && errlen)
			snprintf(err, errlen, "%s: no suppressions to read", name);
		goto cleanup;
	}
	ps.file = set_keep_file(s, name);
	copy = strdup(text);
	if (!ps.file || !copy) {
		ret = -ENOMEM;
		goto cleanup;
	}
	ret = 0;
	for (line = copy; line && !ret; line = next) {
		next = strchr(line, '\n');
		if (next)
			*next++ = '\0';
		ps.line++;
		ret = parse_line(&ps, line);
	}
	if (!ret)
		ret = parse_end(&ps);
	if (!ret)
		ret = set_reserve(s, ps.n);
	if (!ret) {
		/* The whole file is good: its rules join the set, in file order. */
		for (size_t i = 0; i < ps.n; i++)
			s->rules[s->n++] = ps.rules[i];
		ps.n = 0;
	}
cleanup:
	if (ret && ret != -EINVAL && err && errlen && !err[0])
		snprintf(err, errlen, "%s: %s", name, strerror(-ret));
	if (ret)
		clean_message(err, errlen);
	for (size_t i = 0; i < ps.n; i++)
		rule_free(ps.rules[i]);
	free(ps.rules);
	rule_free(ps.cur);
	free(copy);
	return ret;
}

int suppressions__load_file(struct suppressions *s, const char *path, char *err, size_t errlen)
{
	char *text = NULL, *nul;
	size_t len = 0;
	struct stat st;
	FILE *f = NULL;
	int ret = 0;

	if (err && errlen)
		err[0] = '\0';
	f = fopen(path, "r");
	if (!f) {
		ret = -errno;
		goto cleanup;
	}
	if (fstat(fileno(f), &st) == 0 && S_ISDIR(st.st_mode)) {
		ret = -EISDIR;
		if (err && errlen)
			snprintf(err, errlen, "%s: is a directory, not a suppressions file", path);
		goto cleanup;
	}
	for (;;) {
		char *grown = realloc(text, len + 65536 + 1);
		size_t got;

		if (!grown) {
			ret = -ENOMEM;
			goto cleanup;
		}
		text = grown;
		got = fread(text + len, 1, 65536, f);
		len += got;
		if (got < 65536)
			break;
	}
	if (ferror(f)) {
		ret = errno ? -errno : -EIO;
		goto cleanup;
	}
	text[len] = '\0';
	/* The text ends at a NUL: what follows would be dropped without a word. */
	nul = memchr(text, '\0', len);
	if (nul) {
		int line = 1;

		for (const char *p = text; p < nul; p++)
			line += *p == '\n';
		ret = -EINVAL;
		if (err && errlen)
			snprintf(err, errlen, "%s:%d: NUL byte in the file: a suppressions file is "
				 "text", path, line);
		goto cleanup;
	}
	ret = suppressions__load_string(s, path, text, err, errlen);
cleanup:
	if (ret && err && errlen && !err[0])
		snprintf(err, errlen, "%s: %s", path, strerror(-ret));
	if (ret)
		clean_message(err, errlen);
	if (f)
		fclose(f);
	free(text);
	return ret;
}

/* --- built-in rules ------------------------------------------------------------------- */

/*
 * The C runtime's own allocations that live as long as the process: each rule names the
 * runtime function that called the allocator (frame 0), so a program's own allocations,
 * whose frame 0 is the program's code, never match. Names reserved to the implementation
 * (a leading "__", or "_" and a capital) are matched in any module, so static programs are
 * covered too; other names only in the runtime's own library. docs/SUPPRESSIONS.md
 * explains each rule.
 */
#define LIBC "libc.so*|libc-*.so"
#define LDSO "ld-linux*|ld-*.so*|ld64.so*"
#define LIBSTDCXX "libstdc++.so*"
#define STRING_COPIES "__strdup|strdup|__strndup|strndup"

struct builtin_frame {
	const char *fun;	/* '|'-separated globs on the function */
	const char *module;	/* '|'-separated globs on the module, or NULL for any */
};

struct builtin {
	const char *name;
	struct builtin_frame frames[2];
	int budget;		/* 1: at most max_bytes in max_allocs in each process */
	uint64_t max_bytes;
	uint64_t max_allocs;
	uint64_t min_block;	/* only sites whose blocks average at least this size */
	int system_program;	/* instead of frames: see struct rule */
};

#define FUN(f) { .fun = (f) }
#define FUN_IN(f, m) { .fun = (f), .module = (m) }

static const struct builtin builtins[] = {
	/*
	 * What a system program (a shell, make, an interpreter) leaves allocated at its exit
	 * is not the project's, unless the project's code allocated it (a frame of it on the
	 * stack: a library of the project's that the program loaded).
	 */
	{ .name = "builtin:system-program", .system_program = 1 },
	{ .name = "builtin:stdio-buffers",
	  .frames = { FUN("_IO_file_doallocate|_IO_wfile_doallocate") } },
	{ .name = "builtin:dynamic-loader", .frames = { FUN_IN("*", LDSO) } },
	{ .name = "builtin:dynamic-loader", .frames = { FUN("_dl_*") } },
	{ .name = "builtin:dlerror", .frames = { FUN("_dlerror_run") } },
	{ .name = "builtin:thread-specific-data",
	  .frames = { FUN_IN("pthread_setspecific|__pthread_setspecific", LIBC) } },
	{ .name = "builtin:locale",
	  .frames = { FUN("_nl_*|__wcsmbs_load_conv|__gconv_load_cache|__gconv_read_conf|"
			  "__gconv_load_conf|__gconv_get_path|__gconv_find_shlib|"
			  "__gconv_lookup_cache|__gconv_find_transform|__dcigettext") } },
	{ .name = "builtin:locale",
	  .frames = { FUN_IN("setlocale|new_composite_name|read_alias_file|extend_alias_table|"
			     "find_derivation|add_derivation|textdomain|bindtextdomain|"
			     "bind_textdomain_codeset|set_binding_values", LIBC) } },
	{ .name = "builtin:time-zone",
	  .frames = { FUN("__tzfile_read|__tzstring*|__tzset_parse_tz|__tzfile_default") } },
	{ .name = "builtin:time-zone", .frames = { FUN_IN("tzset_internal", LIBC) } },
	{ .name = "builtin:runtime-string-copies",
	  .frames = { FUN_IN(STRING_COPIES, LIBC),
		      FUN_IN("setlocale|new_composite_name|tzset_internal|_nl_*|__tz*|"
			     "read_alias_file|__gconv_*|textdomain|set_binding_values", LIBC) } },
	{ .name = "builtin:nss", .frames = { FUN("__nss_*|_nss_*") } },
	{ .name = "builtin:nss",
	  .frames = { FUN_IN("nss_*|global_state_allocate|getpwnam|getpwuid|getpwent|getgrnam|"
			     "getgrgid|getgrent|getspnam|getspent|gethostbyname|gethostbyname2|"
			     "gethostbyaddr|gethostent|getnetbyname|getnetbyaddr|getnetent|"
			     "getprotobyname|getprotobynumber|getprotoent|getservbyname|"
			     "getservbyport|getservent|getrpcbyname|getrpcbynumber|getrpcent|"
			     "getaliasbyname|getaliasent", LIBC) } },
	{ .name = "builtin:resolver",
	  .frames = { FUN("__resolv_conf_*|__resolv_context_*|__libc_alloc_buffer_allocate|"
			  "__check_pf") } },
	{ .name = "builtin:resolver",
	  .frames = { FUN_IN("get_locked_global|context_alloc|make_request", LIBC) } },
	/* glibc's private growable arrays back only its own lasting tables. */
	{ .name = "builtin:libc-internal-arrays",
	  .frames = { FUN("__libc_dynarray_emplace_enlarge|__libc_dynarray_resize*") } },
	{ .name = "builtin:atexit", .frames = { FUN("__new_exitfn|__internal_atexit") } },
	{ .name = "builtin:c++-emergency-pool",
	  .frames = { FUN_IN("(anonymous namespace)::pool::pool*|_GLOBAL__sub_I_eh_alloc*|"
			     "__static_initialization_and_destruction_0*", LIBSTDCXX) } },
	/*
	 * Without the C++ runtime's symbols the pool's frame has no name: a single block of
	 * its size (tens of KiB) is accepted, nothing else from an unnamed frame there.
	 */
	{ .name = "builtin:c++-emergency-pool", .frames = { FUN_IN("\\?\\?\\?", LIBSTDCXX) },
	  .budget = 1, .max_bytes = UINT64_MAX, .max_allocs = 1, .min_block = 16384 },
};

static struct rule *builtin_rule(const struct builtin *b, int line)
{
	struct rule *r = rule_new(SUPP_BUILTIN, builtin_file, line, b->name, strlen(b->name));

	if (!r)
		return NULL;
	for (size_t i = 0; i < 2 && b->frames[i].fun; i++) {
		const struct builtin_frame *bf = &b->frames[i];
		char *glob = strdup(bf->fun), *module = bf->module ? strdup(bf->module) : NULL;

		if (!glob || (bf->module && !module)) {
			free(glob);
			free(module);
			goto fail;
		}
		if (rule_add_pat(r, PAT_FUN, glob, module))
			goto fail;
		r->pats[r->npats - 1].alternatives = 1;
	}
	r->min_block = b->min_block;
	r->system_program = b->system_program;
	/*
	 * The C runtime's own blocks, whatever their kind, but never an indirectly lost one:
	 * that is held by a lost block, the program's (a leaked iconv_t's conversion steps).
	 * A system program's blocks only while it still points to them: what it lost is a
	 * leak (measured: make and dash lose nothing at their exit).
	 */
	r->pub.leak_kinds = b->system_program ? (1u << LEAK_POSSIBLE) | (1u << LEAK_REACHABLE)
					      : LEAK_KINDS_ALL & ~(1u << LEAK_INDIRECT);
	if (b->budget) {
		r->pub.has_budget = 1;
		r->pub.budget_per_process = 1;
		r->pub.max_bytes = b->max_bytes;
		r->pub.max_allocs = b->max_allocs;
	}
	return r;
fail:
	rule_free(r);
	return NULL;
}

int suppressions__add_defaults(struct suppressions *s)
{
	size_t n = sizeof(builtins) / sizeof(builtins[0]);
	int err;

	if (!s)
		return -EINVAL;
	err = set_reserve(s, n);
	if (err)
		return err;
	for (size_t i = 0; i < n; i++) {
		struct rule *r = builtin_rule(&builtins[i], (int)i + 1);

		if (!r)
			return -ENOMEM;
		s->rules[s->n++] = r;
	}
	return 0;
}
