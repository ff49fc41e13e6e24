// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * The privilege boundary of memleak-run: run for another user (through sudo, which the
 * gate knows by SUDO_UID and SUDO_GID, set here as sudo sets them, or --user), the gate
 * reads and writes the files that user names with the user's rights, runs the program
 * with the user's groups, login environment and no capability, and lets a user other
 * than root run programs only as themselves.
 */
#include <check.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "tests/testutil.h"

#define USER_NAME "memleak-priv"
#define OTHER_NAME "memleak-other"
#define GROUP_NAME "memleak-privg"
#define USER_HOME "/home/" USER_NAME

static uid_t user_uid, other_uid;
static gid_t user_gid, group_gid;
static char tmpdir[256];
static char sudo_env[256];

static void quiet_sh(const char *fmt, const char *arg)
{
	struct run_result r;

	ck_assert_int_eq(run_sh(&r, fmt, arg), 0);
	run_result_free(&r);
}

static void remove_users(void)
{
	quiet_sh("userdel %s", USER_NAME);
	quiet_sh("userdel %s", OTHER_NAME);
	quiet_sh("groupdel %s", GROUP_NAME);
}

/*
 * An unprivileged user with a supplementary group, another user to plant links, and a
 * directory for the files: root's own (0755), one of the user's, and a sticky one
 * anybody can write to, as /tmp.
 */
static void setup(void)
{
	struct run_result r;
	struct passwd *pw;
	struct group *gr;

	remove_users();
	ck_assert_int_eq(run_sh(&r, "groupadd %s && useradd -M -d %s -s /bin/sh -G %s %s && "
				"useradd -M -s /bin/sh %s", GROUP_NAME, USER_HOME, GROUP_NAME,
				USER_NAME, OTHER_NAME), 0);
	ck_assert_msg(r.status == 0, "cannot add the test users: %s", r.err);
	run_result_free(&r);
	pw = getpwnam(USER_NAME);
	ck_assert_ptr_nonnull(pw);
	user_uid = pw->pw_uid;
	user_gid = pw->pw_gid;
	pw = getpwnam(OTHER_NAME);
	ck_assert_ptr_nonnull(pw);
	other_uid = pw->pw_uid;
	gr = getgrnam(GROUP_NAME);
	ck_assert_ptr_nonnull(gr);
	group_gid = gr->gr_gid;
	snprintf(sudo_env, sizeof(sudo_env), "SUDO_UID=%u SUDO_GID=%u SUDO_USER=%s "
		 "HOME=/root USER=root LOGNAME=root", (unsigned int)user_uid,
		 (unsigned int)user_gid, USER_NAME);

	snprintf(tmpdir, sizeof(tmpdir), "%s/tests/tmp-priv-XXXXXX", test_output_dir());
	ck_assert_ptr_nonnull(mkdtemp(tmpdir));
	ck_assert_int_eq(chmod(tmpdir, 0755), 0);
	ck_assert_int_eq(run_sh(&r, "cd '%s' && mkdir user sticky && chown %u:%u user && "
				"chmod 1777 sticky && echo root-owned > root.conf && "
				"echo root-owned > sticky/root.xml && mkfifo user/fifo && "
				"ln -s ../user/fifo sticky/planted && chown -h %u sticky/planted",
				tmpdir, (unsigned int)user_uid, (unsigned int)user_gid,
				(unsigned int)other_uid), 0);
	ck_assert_msg(r.status == 0, "%s", r.err);
	run_result_free(&r);
}

static void teardown(void)
{
	test_rmtree(tmpdir);
	remove_users();
}

/* What is there: each entry's type, owner, inode, size and time, and the root files' text. */
static char *snapshot(void)
{
	struct run_result r;
	char *s;

	/* A directory's time moves when a temporary file comes and goes: not compared. */
	ck_assert_int_eq(run_sh(&r, "cd '%s' && { find . /dev/full ! -type d -printf '%%p %%y %%U "
				"%%i %%s %%T@ %%l\\n'; find . -type d -printf '%%p %%U %%i %%m\\n'; } "
				"| sort && cat root.conf sticky/root.xml", tmpdir), 0);
	ck_assert_int_eq(r.status, 0);
	s = r.out;
	r.out = NULL;
	run_result_free(&r);
	return s;
}

static const char *const report_options[] = { "--junit", "--json", "--gen-suppressions" };

static const struct {
	const char *path;	/* under tmpdir unless absolute */
	const char *why;	/* in the message */
} targets[] = {
	{ "root.conf", "Permission denied" },		/* root's, in root's directory */
	{ "sticky/root.xml", "Operation not permitted" },	/* root's, in a sticky directory */
	{ "/dev/full", "not a regular file" },
	{ "user/fifo", "not a regular file" },
	{ "sticky/planted", "a symbolic link another user owns" },
	{ "user", "a directory" },
};

#define NTARGETS (sizeof(targets) / sizeof(targets[0]))
#define NREPORTS (sizeof(report_options) / sizeof(report_options[0]))

/*
 * Each report option at each file the user may not write: refused, naming the option and
 * the file, exit 2, the verdict printed all the same, and nothing changed.
 */
START_TEST(test_report_targets_refused)
{
	const char *option = report_options[_i / NTARGETS];
	const char *target = targets[_i % NTARGETS].path;
	char path[512], *before, *after;
	struct run_result r;

	if (target[0] == '/')
		snprintf(path, sizeof(path), "%s", target);
	else
		snprintf(path, sizeof(path), "%s/%s", tmpdir, target);
	before = snapshot();
	ck_assert_int_eq(run_sh(&r, "%s %s %s %s -- %s", sudo_env, test_path("memleak-run"),
				option, path, test_path("tests/fixtures/leaky")), 0);
	ck_assert_msg(r.status == 2, "%s %s: exit %d\n%s", option, path, r.status, r.err);
	ck_assert_msg(strstr(r.err, "memleak-run: FAIL:"), "no verdict: %s", r.err);
	ck_assert_msg(strstr(r.err, option) && strstr(r.err, path) &&
		      strstr(r.err, targets[_i % NTARGETS].why),
		      "%s %s: not said why: %s", option, path, r.err);
	after = snapshot();
	ck_assert_str_eq(after, before);
	free(before);
	free(after);
	run_result_free(&r);
}
END_TEST

/*
 * A link another user planted is not followed by root either; the user's own report goes
 * where they asked, as theirs.
 */
START_TEST(test_user_writes_own_reports)
{
	char path[512], link[512], *before, *after;
	struct run_result r;
	struct stat st;

	snprintf(link, sizeof(link), "%s/sticky/planted", tmpdir);
	before = snapshot();
	ck_assert_int_eq(run_sh(&r, "%s --json %s -- /bin/true", test_path("memleak-run"), link),
			 0);
	ck_assert_msg(r.status == 2 && strstr(r.err, "a symbolic link another user owns"),
		      "exit %d\n%s", r.status, r.err);
	after = snapshot();
	ck_assert_str_eq(after, before);
	free(before);
	free(after);
	run_result_free(&r);

	for (size_t i = 0; i < NREPORTS; i++) {
		snprintf(path, sizeof(path), "%s/user/report%zu", tmpdir, i);
		ck_assert_int_eq(run_sh(&r, "%s %s %s %s -- %s", sudo_env, test_path("memleak-run"),
					report_options[i], path, test_path("tests/fixtures/leaky")),
				 0);
		ck_assert_msg(r.status == 23, "exit %d\n%s", r.status, r.err);
		ck_assert_int_eq(lstat(path, &st), 0);
		ck_assert(S_ISREG(st.st_mode));
		ck_assert_int_gt(st.st_size, 0);
		ck_assert_uint_eq(st.st_uid, user_uid);
		ck_assert_uint_eq(st.st_gid, user_gid);
		run_result_free(&r);
	}
}
END_TEST

/* A suppression file the user cannot read: refused as for them, nothing of it shown. */
START_TEST(test_unreadable_suppressions)
{
	char secret[512], shared[512];
	struct run_result r;

	snprintf(secret, sizeof(secret), "%s/secret.supp", tmpdir);
	snprintf(shared, sizeof(shared), "%s/group.supp", tmpdir);
	ck_assert_int_eq(run_sh(&r, "echo 'SECRET-first-line x' > %s && chmod 600 %s", secret,
				secret), 0);
	run_result_free(&r);
	/* Root reads it, and says what is wrong with its first line. */
	ck_assert_int_eq(run_sh(&r, "%s -s %s -- /bin/true", test_path("memleak-run"), secret), 0);
	ck_assert_msg(r.status == 2 && strstr(r.err, "SECRET"), "exit %d\n%s", r.status, r.err);
	run_result_free(&r);
	ck_assert_int_eq(run_sh(&r, "%s %s -s %s -- /bin/true", sudo_env, test_path("memleak-run"),
				secret), 0);
	ck_assert_msg(r.status == 2, "exit %d\n%s", r.status, r.err);
	ck_assert_msg(strstr(r.err, secret) && strstr(r.err, "Permission denied"), "%s", r.err);
	ck_assert_msg(!strstr(r.err, "SECRET") && !strstr(r.out, "SECRET"), "%s", r.err);
	run_result_free(&r);

	/* Readable through a supplementary group only: read. */
	ck_assert_int_eq(run_sh(&r, "echo 'leak:read_config' > %s && chgrp %s %s && chmod 640 %s",
				shared, GROUP_NAME, shared, shared), 0);
	run_result_free(&r);
	ck_assert_int_eq(run_sh(&r, "%s %s -s %s -- %s", sudo_env, test_path("memleak-run"),
				shared, test_path("tests/fixtures/leaky")), 0);
	ck_assert_msg(r.status == 23 && strstr(r.err, "suppressed"), "exit %d\n%s", r.status,
		      r.err);
	run_result_free(&r);
}
END_TEST

/* Through sudo, a user other than root runs programs as themselves only. */
START_TEST(test_user_option_through_sudo)
{
	const char *const others[] = { "root", "0", OTHER_NAME };
	char marker[512];
	struct run_result r;

	snprintf(marker, sizeof(marker), "%s/user/ran", tmpdir);
	for (size_t i = 0; i < sizeof(others) / sizeof(others[0]); i++) {
		ck_assert_int_eq(run_sh(&r, "%s %s --user %s -- touch %s", sudo_env,
					test_path("memleak-run"), others[i], marker), 0);
		ck_assert_msg(r.status == 2 && strstr(r.err, "refused"), "--user %s: exit %d\n%s",
			      others[i], r.status, r.err);
		ck_assert_int_ne(access(marker, F_OK), 0);
		run_result_free(&r);
	}
	/* Naming themselves is allowed; root without sudo names anyone. */
	ck_assert_int_eq(run_sh(&r, "%s %s --user %s -- id -u", sudo_env, test_path("memleak-run"),
				USER_NAME), 0);
	ck_assert_msg(r.status == 0 && atoi(r.out) == (int)user_uid, "exit %d: %s\n%s", r.status,
		      r.out, r.err);
	run_result_free(&r);
	ck_assert_int_eq(run_sh(&r, "%s --user %s -- id -u", test_path("memleak-run"), OTHER_NAME),
			 0);
	ck_assert_msg(r.status == 0 && atoi(r.out) == (int)other_uid, "exit %d: %s\n%s", r.status,
		      r.out, r.err);
	run_result_free(&r);
}
END_TEST

/*
 * The program has the user's groups, login environment and no capability, as under
 * `sudo -u USER -i`: through sudo, and with --user from root.
 */
START_TEST(test_program_has_the_users_credentials)
{
	const char *const ways[] = { sudo_env, "HOME=/root USER=root LOGNAME=root" };
	const char *option = _i ? "--user " USER_NAME : "";
	char expect[512], groups[128];
	struct run_result r;

	ck_assert_int_eq(run_sh(&r, "%s %s %s -- sh -c 'id -u; id -G; echo \"$HOME $USER $LOGNAME "
				"$SHELL\"; grep -E \"^Cap(Eff|Prm|Amb)\" /proc/self/status'",
				ways[_i], test_path("memleak-run"), option), 0);
	ck_assert_msg(r.status == 0, "exit %d\n%s", r.status, r.err);
	snprintf(groups, sizeof(groups), "%u %u", (unsigned int)user_gid, (unsigned int)group_gid);
	snprintf(expect, sizeof(expect), "%u\n%s\n%s %s %s /bin/sh\n"
		 "CapPrm:\t0000000000000000\nCapEff:\t0000000000000000\n"
		 "CapAmb:\t0000000000000000\n", (unsigned int)user_uid, groups, USER_HOME,
		 USER_NAME, USER_NAME);
	ck_assert_str_eq(r.out, expect);
	run_result_free(&r);
}
END_TEST

static Suite *suite(void)
{
	Suite *s = suite_create("privileges");
	TCase *tc = tcase_create("another user");

	tcase_set_timeout(tc, 120);
	tcase_add_unchecked_fixture(tc, setup, teardown);
	tcase_add_loop_test(tc, test_report_targets_refused, 0, NTARGETS * NREPORTS);
	tcase_add_test(tc, test_user_writes_own_reports);
	tcase_add_test(tc, test_unreadable_suppressions);
	tcase_add_test(tc, test_user_option_through_sudo);
	tcase_add_loop_test(tc, test_program_has_the_users_credentials, 0, 2);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return test_run_suite(suite());
}
