// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#include "assertions/glob.h"

#include <stdlib.h>
#include <string.h>

/* Dialect switches of the matcher below. */
enum {
	GM_QMARK = 1 << 0,	/* `?` matches one character */
	GM_ESCAPE = 1 << 1,	/* `\` makes the next character literal */
	GM_OPEN_START = 1 << 2,	/* the pattern may start anywhere in s */
	GM_OPEN_END = 1 << 3,	/* s may go on after the pattern ends */
};

/*
 * Matches pattern [p, pend) against s. A `*` remembers where it was; on a mismatch the
 * match resumes there with the star taking one more character. Only the last star needs
 * remembering: whatever an earlier star could take, the later one can take too. So the
 * search never backtracks further than that, and takes at most len(p) x len(s) steps.
 */
static int match(const char *p, const char *pend, const char *s, const char *send, int flags)
{
	const char *star_p = NULL, *star_s = NULL;

	if (flags & GM_OPEN_START) {
		star_p = p;
		star_s = s;
	}
	for (;;) {
		if (p < pend && *p == '*') {
			while (p < pend && *p == '*')
				p++;
			star_p = p;
			star_s = s;
			continue;
		}
		if (p == pend) {
			if (s == send || (flags & GM_OPEN_END))
				return 1;
		} else if (s < send) {
			const char *lit = p;
			size_t plen = 1;

			if ((flags & GM_ESCAPE) && *p == '\\' && p + 1 < pend) {
				lit = p + 1;
				plen = 2;
			} else if ((flags & GM_QMARK) && *p == '?') {
				p++;
				s++;
				continue;
			}
			if (*lit == *s) {
				p += plen;
				s++;
				continue;
			}
		}
		/* Mismatch: let the last star take one more character, if there is one. */
		if (!star_p || star_s == send)
			return 0;
		p = star_p;
		s = ++star_s;
	}
}

int glob_match_n(const char *glob, size_t glen, const char *s, size_t slen)
{
	if (!glob || !s)
		return 0;
	return match(glob, glob + glen, s, s + slen, GM_QMARK | GM_ESCAPE);
}

int glob_match(const char *glob, const char *s)
{
	if (!glob || !s)
		return 0;
	return glob_match_n(glob, strlen(glob), s, strlen(s));
}

int glob_match_lsan(const char *pattern, const char *s)
{
	const char *p = pattern, *pend;
	int flags = GM_OPEN_START | GM_OPEN_END;

	if (!pattern || !s || !*s)
		return 0;
	pend = p + strlen(p);
	if (*p == '^') {
		flags &= ~GM_OPEN_START;
		p++;
	}
	if (pend > p && pend[-1] == '$') {
		flags &= ~GM_OPEN_END;
		pend--;
	}
	return match(p, pend, s, s + strlen(s), flags);
}

int glob_has_wildcards(const char *glob)
{
	for (const char *p = glob; p && *p; p++) {
		if (*p == '\\' && p[1])
			p++;
		else if (*p == '*' || *p == '?')
			return 1;
	}
	return 0;
}

char *glob_escape(const char *s, size_t len)
{
	char *out = malloc(2 * len + 1), *o = out;

	if (!out)
		return NULL;
	for (size_t i = 0; i < len && s[i]; i++) {
		if (s[i] == '*' || s[i] == '?' || s[i] == '\\')
			*o++ = '\\';
		*o++ = s[i];
	}
	*o = '\0';
	return out;
}
