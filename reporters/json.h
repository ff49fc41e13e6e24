/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * The complete result as JSON, for tools, merging and baselines: processes, sites,
 * stacks, verdicts, suppressions used and unused, lost-event counters. Written whole or
 * not at all.
 */
#ifndef JSON_H
#define JSON_H

#include "assertions/judge.h"
#include "reporters/report_opts.h"

int json__write(const struct judgement *j, const struct report_opts *o, const char *path);

#endif /* JSON_H */
