/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * JUnit XML (the Jenkins/Ant family of schemas): one testsuite per traced process, one
 * testcase per leak site named from its symbolized frames, and a "run" suite with the
 * program's exit status, the budget and lost data. Written whole or not at all.
 */
#ifndef JUNIT_H
#define JUNIT_H

#include "assertions/judge.h"
#include "reporters/report_opts.h"

int junit__write(const struct judgement *j, const struct report_opts *o, const char *path);

#endif /* JUNIT_H */
