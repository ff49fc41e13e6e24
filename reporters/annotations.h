/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * GitHub Actions workflow commands: each failing leak site as an error annotation at its
 * file and line, the most bytes first, within what GitHub shows (10 errors per step).
 */
#ifndef ANNOTATIONS_H
#define ANNOTATIONS_H

#include <stdio.h>

#include "assertions/judge.h"

#define ANNOTATIONS_MAX 10

struct annotation_opts {
	const char *workspace;	/* GITHUB_WORKSPACE: file paths are made relative to it */
};

void annotations__print(FILE *out, const struct judgement *j, const struct annotation_opts *o);

#endif /* ANNOTATIONS_H */
