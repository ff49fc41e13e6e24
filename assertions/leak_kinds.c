// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* The four leak kinds' names, as valgrind spells them in its options and its reports. */
#include <errno.h>
#include <string.h>
#include <strings.h>

#include "runner/records.h"

static const char *const names[LEAK__COUNT] = {
	[LEAK_DEFINITE] = "definite",
	[LEAK_INDIRECT] = "indirect",
	[LEAK_POSSIBLE] = "possible",
	[LEAK_REACHABLE] = "reachable",
};

static const char *const words[LEAK__COUNT] = {
	[LEAK_DEFINITE] = "definitely lost",
	[LEAK_INDIRECT] = "indirectly lost",
	[LEAK_POSSIBLE] = "possibly lost",
	[LEAK_REACHABLE] = "still reachable",
};

const char *leak_kind_name(enum leak_kind k)
{
	return (unsigned int)k < LEAK__COUNT ? names[k] : "?";
}

const char *leak_kind_words(enum leak_kind k)
{
	return (unsigned int)k < LEAK__COUNT ? words[k] : "?";
}

int leak_kinds_parse(const char *list, unsigned int *set, const char **bad)
{
	const char *p = list;
	unsigned int s = 0;

	*bad = NULL;
	if (!strcasecmp(list, "all")) {
		*set = LEAK_KINDS_ALL;
		return 0;
	}
	if (!strcasecmp(list, "none")) {
		*set = 0;
		return 0;
	}
	for (;;) {
		size_t n = strcspn(p, ",");
		int k;

		for (k = 0; k < LEAK__COUNT; k++)
			if (n == strlen(names[k]) && !strncasecmp(p, names[k], n))
				break;
		if (k == LEAK__COUNT) {
			*bad = p;
			return -EINVAL;
		}
		s |= 1u << k;
		if (!p[n])
			break;
		p += n + 1;
	}
	*set = s;
	return 0;
}
