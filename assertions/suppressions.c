// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#include "assertions/suppressions.h"

#include <ctype.h>
#include <errno.h>
#include <fnmatch.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

/* One line of a valgrind or native rule: what a frame must look like. */
enum frame_kind {
	PAT_FUN,	/* fun:GLOB, the function name */
	PAT_OBJ,	/* obj:GLOB, the module path */
	PAT_SRC,	/* src:GLOB[:LINE], the source file's name */
	PAT_ANY,	/* ...: zero or more frames */
};

struct frame_pat {
	enum frame_kind kind;
	char *glob;
	int line;	/* src: 0 for any line */
};

struct rule {
	struct suppression_rule pub;	/* first: rules are handed out by this pointer */
	char *lsan;			/* LSan pattern, or NULL for a frame-pattern rule */
	struct frame_pat *frames;
	size_t nframes;
	int system_only;		/* builtin: every frame must be in a system library */
};

struct suppressions {
	struct rule **rules;
	size_t n, cap;
	char **strings;		/* file names, rule names */
	size_t nstrings;
};

struct suppressions *suppressions__new(void)
{
	return calloc(1, sizeof(struct suppressions));
}

static void rule_free(struct rule *r)
{
	if (!r)
		return;
	free(r->lsan);
	for (size_t i = 0; i < r->nframes; i++)
		free(r->frames[i].glob);
	free(r->frames);
	free((char *)r->pub.name);
	free(r);
}

void suppressions__free(struct suppressions *s)
{
	if (!s)
		return;
	for (size_t i = 0; i < s->n; i++)
		rule_free(s->rules[i]);
	free(s->rules);
	for (size_t i = 0; i < s->nstrings; i++)
		free(s->strings[i]);
	free(s->strings);
	free(s);
}

size_t suppressions__count(const struct suppressions *s)
{
	return s->n;
}

struct suppression_rule *suppressions__rule(const struct suppressions *s, size_t i)
{
	return i < s->n ? &s->rules[i]->pub : NULL;
}

static const char *intern(struct suppressions *s, const char *str)
{
	char **p = realloc(s->strings, (s->nstrings + 1) * sizeof(*p));

	if (!p)
		return NULL;
	s->strings = p;
	s->strings[s->nstrings] = strdup(str);
	return s->strings[s->nstrings] ? s->strings[s->nstrings++] : NULL;
}

static int add_rule(struct suppressions *s, struct rule *r)
{
	if (s->n == s->cap) {
		size_t cap = s->cap ? s->cap * 2 : 16;
		struct rule **p = realloc(s->rules, cap * sizeof(*p));

		if (!p)
			return -ENOMEM;
		s->rules = p;
		s->cap = cap;
	}
	s->rules[s->n++] = r;
	return 0;
}

static int add_frame(struct rule *r, enum frame_kind kind, const char *glob, int line)
{
	struct frame_pat *p = realloc(r->frames, (r->nframes + 1) * sizeof(*p));

	if (!p)
		return -ENOMEM;
	r->frames = p;
	p[r->nframes].kind = kind;
	p[r->nframes].line = line;
	p[r->nframes].glob = glob ? strdup(glob) : NULL;
	if (glob && !p[r->nframes].glob)
		return -ENOMEM;
	r->nframes++;
	return 0;
}

/* --- matching ------------------------------------------------------------------------ */

static const char *base_of(const char *path)
{
	const char *slash = path ? strrchr(path, '/') : NULL;

	return slash ? slash + 1 : path;
}

/*
 * A LeakSanitizer pattern: '*' matches any run, '^' anchors the start and '$' the end;
 * otherwise it matches anywhere in the text.
 */
static int lsan_match(const char *pat, const char *text)
{
	char glob[1024];
	size_t len;
	int anchored_start = pat[0] == '^', anchored_end;

	if (!text)
		return 0;
	if (anchored_start)
		pat++;
	len = strlen(pat);
	anchored_end = len > 0 && pat[len - 1] == '$';
	if (anchored_end)
		len--;
	if (len + 3 > sizeof(glob))
		return 0;
	snprintf(glob, sizeof(glob), "%s%.*s%s", anchored_start ? "" : "*", (int)len, pat,
		 anchored_end ? "" : "*");
	/* LSan has no '?' or bracket wildcards: make them literal. */
	for (char *p = glob; *p; p++)
		if (*p == '?' || *p == '[')
			*p = *p == '?' ? '\x01' : '\x02';
	{
		char t[1024];
		size_t i;

		for (i = 0; text[i] && i + 1 < sizeof(t); i++)
			t[i] = text[i] == '?' ? '\x01' : text[i] == '[' ? '\x02' : text[i];
		t[i] = '\0';
		return fnmatch(glob, t, 0) == 0;
	}
}

static int lsan_rule_matches(const char *pat, const struct leak_site *site)
{
	for (size_t i = 0; i < site->nframes; i++) {
		const struct frame *f = &site->frames[i];

		if (lsan_match(pat, f->function) || lsan_match(pat, f->module) ||
		    lsan_match(pat, f->file))
			return 1;
	}
	return 0;
}

size_t suppressions_stable_len(const char *function)
{
	static const char *const suffixes[] = { ".constprop.", ".isra.", ".part.", ".cold", ".lto_priv." };
	size_t len = strlen(function);

	for (size_t i = 0; i < sizeof(suffixes) / sizeof(suffixes[0]); i++) {
		const char *p = strstr(function, suffixes[i]);

		if (p && (size_t)(p - function) < len)
			len = (size_t)(p - function);
	}
	return len;
}

/* A function name matches as compiled, or without the suffix of a compiler clone. */
static int function_matches(const char *glob, const char *function)
{
	char plain[512];
	size_t len;

	if (!function)
		return 0;
	if (fnmatch(glob, function, 0) == 0)
		return 1;
	len = suppressions_stable_len(function);
	if (len == strlen(function) || len >= sizeof(plain))
		return 0;
	memcpy(plain, function, len);
	plain[len] = '\0';
	return fnmatch(glob, plain, 0) == 0;
}

static int frame_matches(const struct frame_pat *p, const struct frame *f)
{
	switch (p->kind) {
	case PAT_FUN:
		return function_matches(p->glob, f->function);
	case PAT_OBJ:
		return f->module && (fnmatch(p->glob, f->module, 0) == 0 ||
				     fnmatch(p->glob, base_of(f->module), 0) == 0);
	case PAT_SRC:
		return f->file && fnmatch(p->glob, base_of(f->file), 0) == 0 &&
		       (!p->line || p->line == f->line);
	default:
		return 1;
	}
}

/* Patterns from pi on against frames from fi on; the stack may continue past the end. */
static int frames_match(const struct rule *r, size_t pi, const struct leak_site *site, size_t fi)
{
	if (pi == r->nframes)
		return 1;
	if (r->frames[pi].kind == PAT_ANY) {
		for (size_t k = fi; k <= site->nframes; k++)
			if (frames_match(r, pi + 1, site, k))
				return 1;
		return 0;
	}
	if (fi == site->nframes || !frame_matches(&r->frames[pi], &site->frames[fi]))
		return 0;
	return frames_match(r, pi + 1, site, fi + 1);
}

/* Names an allocator function has in a valgrind stack, which begins inside it. */
static int is_allocator_pattern(const struct frame_pat *p)
{
	static const char *const names[] = {
		"malloc", "calloc", "realloc", "reallocarray", "posix_memalign", "aligned_alloc",
		"memalign", "valloc", "pvalloc", "_Znwm", "_Znam", "_ZnwmRKSt9nothrow_t",
		"_ZnamRKSt9nothrow_t", "_ZnwmSt11align_val_t", "_ZnamSt11align_val_t",
		"operator new(unsigned long)", "operator new[](unsigned long)",
		"operator new(unsigned long, std::nothrow_t const&)",
		"operator new[](unsigned long, std::nothrow_t const&)",
		"operator new(unsigned long, std::align_val_t)",
		"operator new[](unsigned long, std::align_val_t)",
	};

	if (p->kind != PAT_FUN)
		return 0;
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if (fnmatch(p->glob, names[i], 0) == 0)
			return 1;
	return 0;
}

int suppressions_is_system_module(const char *module)
{
	static const char *const prefixes[] = { "/lib/", "/lib64/", "/usr/lib/", "/usr/lib64/",
						"/usr/libexec/", "/usr/local/lib/", "[" };
	const char *base = base_of(module);

	if (!module)
		return 1;
	for (size_t i = 0; i < sizeof(prefixes) / sizeof(prefixes[0]); i++)
		if (!strncmp(module, prefixes[i], strlen(prefixes[i])))
			return 1;
	return !strncmp(base, "ld-linux", 8) || !strncmp(base, "libc.so", 7) ||
	       !strncmp(base, "libstdc++.so", 12) || !strncmp(base, "libgcc_s.so", 11);
}

static int all_system(const struct leak_site *site)
{
	for (size_t i = 0; i < site->nframes; i++)
		if (!suppressions_is_system_module(site->frames[i].module))
			return 0;
	return 1;
}

static int rule_matches(const struct rule *r, const struct leak_site *site)
{
	if (r->system_only && !all_system(site))
		return 0;
	if (r->lsan)
		return lsan_rule_matches(r->lsan, site);
	if (frames_match(r, 0, site, 0))
		return 1;
	/*
	 * A valgrind stack starts in the allocator, ours at its caller: a first pattern line
	 * that names an allocator stands for the call itself.
	 */
	if (r->pub.origin == SUPP_VALGRIND && r->nframes > 0 && is_allocator_pattern(&r->frames[0]))
		return frames_match(r, 1, site, 0);
	return 0;
}

struct suppression_rule *suppressions__match(const struct suppressions *s,
					     const struct leak_site *site)
{
	for (size_t i = 0; i < s->n; i++)
		if (rule_matches(s->rules[i], site))
			return &s->rules[i]->pub;
	return NULL;
}

/* --- parsing ----------------------------------------------------------------------- */

struct parser {
	struct suppressions *s;
	const char *file;	/* interned */
	int lineno;
	char *err;
	size_t errlen;
	struct rule *open;	/* valgrind block or native rule being read */
	int open_line;
	int valgrind_state;	/* 0: name next, 1: kind next, 2: frames */
};

static int fail(struct parser *p, int line, const char *fmt, ...)
{
	va_list ap;
	int n = snprintf(p->err, p->errlen, "%s:%d: ", p->file, line);

	va_start(ap, fmt);
	if (n >= 0 && (size_t)n < p->errlen)
		vsnprintf(p->err + n, p->errlen - n, fmt, ap);
	va_end(ap);
	return -EINVAL;
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

static struct rule *new_rule(struct parser *p, enum suppression_origin origin, const char *name)
{
	struct rule *r = calloc(1, sizeof(*r));

	if (!r)
		return NULL;
	r->pub.origin = origin;
	r->pub.file = p->file;
	r->pub.line = p->lineno;
	r->pub.name = strdup(name);
	if (!r->pub.name) {
		free(r);
		return NULL;
	}
	return r;
}

/* fun:, obj:, src: and ... lines, shared by valgrind blocks and native rules. */
static int parse_frame_line(struct parser *p, char *t)
{
	int line = 0;

	if (!strcmp(t, "..."))
		return add_frame(p->open, PAT_ANY, NULL, 0);
	if (!strncmp(t, "fun:", 4) && t[4])
		return add_frame(p->open, PAT_FUN, trim(t + 4), 0);
	if (!strncmp(t, "obj:", 4) && t[4])
		return add_frame(p->open, PAT_OBJ, trim(t + 4), 0);
	if (!strncmp(t, "src:", 4) && t[4]) {
		char *file = trim(t + 4), *colon = strrchr(file, ':');

		if (colon) {
			char *end;
			long v = strtol(colon + 1, &end, 10);

			if (*end || v <= 0 || v > 10000000)
				return fail(p, p->lineno, "bad line number in '%s'", t);
			*colon = '\0';
			line = (int)v;
		}
		return add_frame(p->open, PAT_SRC, file, line);
	}
	return fail(p, p->lineno, "expected fun:, obj:, src: or ..., got '%s'", t);
}

/* "budget: N bytes, M allocations" (either part may be left out). */
static int parse_budget(struct parser *p, char *t)
{
	char *part, *save = NULL;
	int any = 0;

	p->open->pub.has_budget = 1;
	p->open->pub.max_bytes = ~0ULL;
	p->open->pub.max_allocs = ~0ULL;
	for (part = strtok_r(t, ",", &save); part; part = strtok_r(NULL, ",", &save)) {
		unsigned long long v;
		char unit[32] = "";
		int n = 0;

		part = trim(part);
		if (sscanf(part, "%llu %31s %n", &v, unit, &n) != 2 || part[n] || part[0] == '-')
			return fail(p, p->lineno, "bad budget '%s': expected 'N bytes' or 'N allocations'", part);
		if (!strcmp(unit, "bytes") || !strcmp(unit, "byte"))
			p->open->pub.max_bytes = v;
		else if (!strcmp(unit, "allocations") || !strcmp(unit, "allocation") || !strcmp(unit, "allocs"))
			p->open->pub.max_allocs = v;
		else
			return fail(p, p->lineno, "bad budget unit '%s': expected bytes or allocations", unit);
		any = 1;
	}
	return any ? 0 : fail(p, p->lineno, "empty budget");
}

static int close_open(struct parser *p)
{
	struct rule *r = p->open;
	int err;

	if (!r)
		return 0;
	p->open = NULL;
	if (r->pub.origin == SUPP_VALGRIND) {
		rule_free(r);
		return fail(p, p->open_line, "valgrind suppression not closed with '}'");
	}
	if (r->nframes == 0) {
		err = fail(p, p->open_line, "rule '%s' has no frame lines (fun:, obj:, src:)", r->pub.name);
		rule_free(r);
		return err;
	}
	err = add_rule(p->s, r);
	if (err)
		rule_free(r);
	return err;
}

static int parse_line(struct parser *p, char *raw)
{
	char *t = trim(raw);
	int err;

	if (p->open && p->open->pub.origin == SUPP_VALGRIND) {
		if (!*t || *t == '#')
			return 0;
		if (!strcmp(t, "}")) {
			struct rule *r = p->open;

			if (p->valgrind_state < 2)
				return fail(p, p->lineno, "valgrind suppression '%s' ends before its kind",
					    r->pub.name);
			if (r->nframes == 0)
				return fail(p, p->lineno, "valgrind suppression '%s' has no frames", r->pub.name);
			p->open = NULL;
			err = add_rule(p->s, r);
			if (err)
				rule_free(r);
			return err;
		}
		if (p->valgrind_state == 0) {
			free((char *)p->open->pub.name);
			p->open->pub.name = strdup(t);
			p->valgrind_state = 1;
			return p->open->pub.name ? 0 : -ENOMEM;
		}
		if (p->valgrind_state == 1) {
			if (strcmp(t, "Memcheck:Leak"))
				return fail(p, p->lineno, "unsupported suppression kind '%s': only "
					    "Memcheck:Leak is about leaks", t);
			p->valgrind_state = 2;
			return 0;
		}
		if (!strncmp(t, "match-leak-kinds:", 17))
			return 0;
		return parse_frame_line(p, t);
	}

	if (!*t) {
		/* A blank line ends a native rule. */
		return close_open(p);
	}
	if (*t == '#')
		return 0;
	if (p->open) {
		if (!strncmp(t, "budget:", 7))
			return parse_budget(p, t + 7);
		if (!strncmp(t, "rule ", 5) || !strcmp(t, "{") || !strncmp(t, "leak:", 5)) {
			err = close_open(p);
			if (err)
				return err;
			return parse_line(p, t);
		}
		return parse_frame_line(p, t);
	}
	if (!strncmp(t, "leak:", 5)) {
		char *pat = trim(t + 5);
		struct rule *r;

		if (!*pat)
			return fail(p, p->lineno, "empty leak: pattern");
		r = new_rule(p, SUPP_LSAN, pat);
		if (!r)
			return -ENOMEM;
		r->lsan = strdup(pat);
		if (!r->lsan || add_rule(p->s, r)) {
			rule_free(r);
			return -ENOMEM;
		}
		return 0;
	}
	if (!strcmp(t, "{")) {
		p->open = new_rule(p, SUPP_VALGRIND, "");
		p->open_line = p->lineno;
		p->valgrind_state = 0;
		return p->open ? 0 : -ENOMEM;
	}
	if (!strncmp(t, "rule ", 5) && *trim(t + 5)) {
		p->open = new_rule(p, SUPP_NATIVE, trim(t + 5));
		p->open_line = p->lineno;
		return p->open ? 0 : -ENOMEM;
	}
	{
		char *colon = strchr(t, ':');

		if (colon && colon - t < 32 && !strchr(t, ' '))
			return fail(p, p->lineno, "unsupported LeakSanitizer suppression type '%.*s': "
				    "only leak: applies to leaks", (int)(colon - t), t);
	}
	return fail(p, p->lineno, "unrecognized line '%s' (expected leak:PATTERN, a valgrind "
		    "'{ ... }' block, or a 'rule NAME' block)", t);
}

static int load_text(struct suppressions *s, const char *name, const char *text,
		     enum suppression_origin force, char *err, size_t errlen)
{
	struct parser p = { .s = s, .err = err, .errlen = errlen };
	size_t first = s->n;
	char *copy, *line, *next;
	int ret = 0;

	p.file = intern(s, name);
	copy = strdup(text);
	if (!p.file || !copy) {
		free(copy);
		snprintf(err, errlen, "%s: out of memory", name);
		return -ENOMEM;
	}
	for (line = copy; line && !ret; line = next) {
		next = strchr(line, '\n');
		if (next)
			*next++ = '\0';
		p.lineno++;
		ret = parse_line(&p, line);
	}
	if (!ret && p.open)
		ret = close_open(&p);
	rule_free(p.open);
	free(copy);
	if (ret) {
		/* All or nothing: a file with an error adds no rule. */
		for (size_t i = first; i < s->n; i++)
			rule_free(s->rules[i]);
		s->n = first;
		if (ret == -ENOMEM)
			snprintf(err, errlen, "%s: out of memory", name);
		return ret;
	}
	if (force == SUPP_BUILTIN)
		for (size_t i = first; i < s->n; i++)
			s->rules[i]->pub.origin = SUPP_BUILTIN;
	return 0;
}

int suppressions__load_string(struct suppressions *s, const char *name, const char *text,
			      char *err, size_t errlen)
{
	return load_text(s, name, text, SUPP_NATIVE, err, errlen);
}

int suppressions__load_file(struct suppressions *s, const char *path, char *err, size_t errlen)
{
	char *text = NULL;
	size_t len = 0, cap = 0, n;
	FILE *f = fopen(path, "re");
	int ret;

	if (!f) {
		ret = -errno;
		snprintf(err, errlen, "%s: cannot read suppressions: %s", path, strerror(errno));
		return ret;
	}
	do {
		if (len + 4096 + 1 > cap) {
			char *p = realloc(text, cap = cap ? cap * 2 : 8192);

			if (!p) {
				free(text);
				fclose(f);
				snprintf(err, errlen, "%s: out of memory", path);
				return -ENOMEM;
			}
			text = p;
		}
		n = fread(text + len, 1, cap - len - 1, f);
		len += n;
	} while (n > 0);
	fclose(f);
	text[len] = '\0';
	if (memchr(text, '\0', len)) {
		free(text);
		snprintf(err, errlen, "%s:1: not a text file", path);
		return -EINVAL;
	}
	ret = load_text(s, path, text, SUPP_NATIVE, err, errlen);
	free(text);
	return ret;
}

/*
 * The C runtime's own one-time allocations, kept for the life of the process by design:
 * not the program's leaks. Each rule names the innermost frame (the allocator's caller),
 * which is in the runtime itself, so none of them can hide a call the program made.
 * docs/SUPPRESSIONS.md explains each; the integration tests prove each on real programs.
 */
static const char builtin_rules[] =
	"# stdio: the buffer of a stream, allocated on its first use (stdout, stdin, ...)\n"
	"rule stdio-buffer\n"
	"  fun:_IO_file_doallocate\n"
	"\n"
	"# The dynamic loader: TLS blocks and DTVs of threads, dlopen bookkeeping, link maps.\n"
	"rule dynamic-loader\n"
	"  obj:*/ld-linux*.so*\n"
	"\n"
	"# Locale and time zone data, loaded once by setlocale, strftime, localtime and friends.\n"
	"rule locale-data\n"
	"  fun:_nl_*\n"
	"\n"
	"rule locale-aliases\n"
	"  fun:read_alias_file\n"
	"\n"
	"rule locale-names\n"
	"  fun:new_composite_name\n"
	"\n"
	"rule locale-setlocale\n"
	"  fun:setlocale\n"
	"\n"
	"rule timezone-data\n"
	"  fun:__tz*\n"
	"\n"
	"# The runtime's own copies of strings (locale names): only when no frame of the stack\n"
	"# is the program's own.\n"
	"rule runtime-strdup\n"
	"  fun:__strdup\n"
	"\n"
	"rule runtime-strndup\n"
	"  fun:__strndup\n"
	"\n"
	"# The C++ runtime's exception-handling emergency pool, made at start-up: only when no\n"
	"# frame of the stack is the program's own.\n"
	"rule libstdc++-startup\n"
	"  obj:*/libstdc++.so*\n";

int suppressions__add_defaults(struct suppressions *s)
{
	char err[256];
	size_t first = s->n;
	int ret = load_text(s, "<builtin>", builtin_rules, SUPP_BUILTIN, err, sizeof(err));

	for (size_t i = first; !ret && i < s->n; i++)
		if (!strcmp(s->rules[i]->pub.name, "libstdc++-startup") ||
		    !strcmp(s->rules[i]->pub.name, "runtime-strdup") ||
		    !strcmp(s->rules[i]->pub.name, "runtime-strndup"))
			s->rules[i]->system_only = 1;
	return ret;
}
