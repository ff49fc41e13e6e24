// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * The make-check integrations of ci/examples, built and run for real: under each build
 * system the clean test passes and the leaky test fails because of its leak.
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tests/testutil.h"

static void run_example(const char *system)
{
	struct run_result r;

	ck_assert_int_eq(run_sh(&r, "ci/examples/run-examples.sh %s %s/tests/examples-%s %s 2>&1",
				test_path("memleak-run"), test_output_dir(), system, system), 0);
	ck_assert_msg(r.status == 0, "%s example failed (exit %d):\n%s", system, r.status, r.out);
	ck_assert_msg(strstr(r.out, "ok: "), "%s", r.out);
	run_result_free(&r);
}

START_TEST(test_automake)
{
	run_example("automake");
}
END_TEST

START_TEST(test_cmake)
{
	run_example("cmake");
}
END_TEST

START_TEST(test_meson)
{
	run_example("meson");
}
END_TEST

int main(void)
{
	Suite *s = suite_create("integrations");
	TCase *tc = tcase_create("make check");

	tcase_set_timeout(tc, 300);
	tcase_add_test(tc, test_automake);
	tcase_add_test(tc, test_cmake);
	tcase_add_test(tc, test_meson);
	suite_add_tcase(s, tc);
	return test_run_suite(s);
}
