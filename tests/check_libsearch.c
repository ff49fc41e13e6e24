/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * Finding a program's libraries without running its dynamic linker: the same objects, in
 * the same order, as `ld.so --list` gives, for system programs and for programs built here
 * with DT_RPATH, DT_RUNPATH, $ORIGIN, LD_LIBRARY_PATH and LD_PRELOAD.
 */
#include <check.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "runner/libsearch.h"
#include "tests/testutil.h"

#define LDSO "/lib64/ld-linux-x86-64.so.2"

static char tmp_dir[64];

static void make_tmp_dir(void)
{
	snprintf(tmp_dir, sizeof(tmp_dir), "/tmp/check_libsearch.XXXXXX");
	test_mkdtemp(tmp_dir);
}

static void remove_tmp_dir(void)
{
	test_rmtree(tmp_dir);
}

/* Runs a shell command in tmp_dir; it must succeed. */
static void sh_in_tmp(const char *cmd)
{
	struct run_result r;

	ck_assert_int_eq(run_sh(&r, "cd %s && %s", tmp_dir, cmd), 0);
	ck_assert_msg(r.status == 0, "%s: exit %d\n%s", cmd, r.status, r.err);
	run_result_free(&r);
}

/*
 * What `ld.so --list` prints, one object a line, each path made absolute from cwd, in a
 * string; "not found" when a library is nowhere.
 */
static char *ldso_list(const char *program, const char *env, const char *cwd)
{
	char *out = NULL, *line = NULL;
	size_t len = 0, cap = 0;
	int missing = 0;
	char cmd[PATH_MAX * 2], quoted[512] = "";
	FILE *list, *o = open_memstream(&out, &len);
	int status;

	ck_assert_ptr_nonnull(o);
	for (size_t i = 0, k = 0; env[i] && k < sizeof(quoted) - 4; i++) {
		if (env[i] == ' ') {
			memcpy(quoted + k, "' '", 3);
			k += 3;
		} else {
			quoted[k++] = env[i];
		}
		quoted[k] = '\0';
	}
	/* Each word quoted: a ';' in a path list is no command separator. */
	snprintf(cmd, sizeof(cmd), "cd '%s' && env -i %s%s%s " LDSO " --list '%s' 2>/dev/null", cwd,
		 *env ? "'" : "", quoted, *env ? "'" : "", program);
	list = popen(cmd, "r");
	ck_assert_ptr_nonnull(list);
	while (getline(&line, &cap, list) > 0) {
		char *p = strstr(line, "=> "), *end;

		if (strstr(line, "not found")) {
			missing = 1;
			continue;
		}
		p = p ? p + 3 : line + strspn(line, " \t");
		end = strstr(p, " (");
		*(end ? end : p + strcspn(p, "\n")) = '\0';
		if (!strchr(p, '/'))
			continue;
		fprintf(o, p[0] == '/' ? "%s%s\n" : "%s/%s\n", p[0] == '/' ? "" : cwd, p);
	}
	free(line);
	status = pclose(list);
	/* It says so, or fails to load the program (127). */
	missing |= WIFEXITED(status) && WEXITSTATUS(status) == 127;
	if (status && !missing)
		fprintf(o, "exit %d\n", status);
	ck_assert_int_eq(fclose(o), 0);
	/* The dynamic linker stops there: nothing is loaded. */
	if (missing) {
		free(out);
		out = strdup("not found\n");
	}
	return out;
}

/* The same from libsearch_load_order, with env ("A=1 B=2") as the environment. */
static char *search_list(const char *program, const char *env, const char *cwd)
{
	struct libsearch_env le = { .cwd = cwd };
	char *envp[8] = { NULL }, *copy = strdup(env), *rest = copy, *word;
	char **paths, *out = NULL;
	size_t n = 0, len = 0, k = 0;
	FILE *o = open_memstream(&out, &len);
	int err;

	while ((word = strsep(&rest, " ")) && k < 7)
		if (*word)
			envp[k++] = word;
	le.envp = envp;
	err = libsearch_load_order(program, LDSO, &le, &paths, &n);
	if (err == -ENOENT)
		fputs("not found\n", o);
	else
		ck_assert_msg(err == 0, "libsearch_load_order(%s): %s", program, strerror(-err));
	for (size_t i = 0; i < n; i++) {
		fprintf(o, "%s\n", paths[i]);
		free(paths[i]);
	}
	free(paths);
	free(copy);
	ck_assert_int_eq(fclose(o), 0);
	return out;
}

/* Both give the same list; returns how many objects. */
static int ck_same_as_ldso(const char *program, const char *env, const char *cwd)
{
	char *want = ldso_list(program, env, cwd), *got = search_list(program, env, cwd);
	int lines = count_substr(want, "\n");

	ck_assert_msg(!strcmp(want, got), "%s (%s):\nld.so --list:\n%slibsearch:\n%s", program, env,
		      want, got);
	free(want);
	free(got);
	return lines;
}

/* The line of list naming a file called name, or 0. */
static int line_of(const char *program, const char *env, const char *cwd, const char *name)
{
	char *list = search_list(program, env, cwd), *p = list;
	int line = 0, found = 0;

	for (char *nl; !found && (nl = strchr(p, '\n')); p = nl + 1) {
		line++;
		*nl = '\0';
		found = strlen(p) >= strlen(name) && !strcmp(p + strlen(p) - strlen(name), name);
	}
	free(list);
	return found ? line : 0;
}

/* --- tests ----------------------------------------------------------------------------------- */

START_TEST(test_system_programs)
{
	static const char *const programs[] = { "/bin/ls", "/bin/sh", "/usr/bin/git",
						"/usr/bin/python3", "/usr/bin/perl" };
	int checked = 0;

	for (size_t i = 0; i < sizeof(programs) / sizeof(programs[0]); i++) {
		if (access(programs[i], X_OK))
			continue;
		ck_assert_int_ge(ck_same_as_ldso(programs[i], "", "/"), 2);
		ck_same_as_ldso(programs[i], "PATH=/bin", "/tmp");
		checked++;
	}
	ck_assert_int_ge(checked, 2);
}
END_TEST

/*
 * Built here: libtwo; libone needs it; programs need libone. lib/ holds both, alt/ another
 * libone whose DT_RUNPATH ($ORIGIN/../lib) finds libtwo, found first where alt/ comes first.
 */
static void build_libraries(void)
{
	sh_in_tmp("mkdir -p lib alt sub && "
		  "echo 'int two(void) { return 2; }' > two.c && "
		  "echo 'int two(void); int one(void) { return two() - 1; }' > one.c && "
		  "echo 'int one(void); int main(void) { return one() - 1; }' > main.c && "
		  "echo 'void *malloc(unsigned long n) { return 0; }' > pre.c && "
		  "cc -shared -fPIC two.c -o lib/libtwo.so && "
		  "cc -shared -fPIC one.c -Llib -ltwo -o lib/libone.so && "
		  "cc -shared -fPIC one.c -Llib -ltwo -Wl,--enable-new-dtags,-rpath,'$ORIGIN/../lib' "
		  "-o alt/libone.so && "
		  "cc -shared -fPIC pre.c -o sub/libpre.so");
}

START_TEST(test_rpath_origin)
{
	char prog[128];

	build_libraries();
	/* DT_RPATH of the program serves its libraries' needs too. */
	sh_in_tmp("cc main.c -Wl,-rpath-link,lib -Llib -lone -Wl,--disable-new-dtags,-rpath,'$ORIGIN/lib' -o rpath");
	snprintf(prog, sizeof(prog), "%s/rpath", tmp_dir);
	ck_assert_int_ge(ck_same_as_ldso(prog, "", "/"), 4);
	ck_assert_int_eq(line_of(prog, "", "/", "/lib/libone.so"), 1);
	/* ... and comes before LD_LIBRARY_PATH. */
	ck_same_as_ldso(prog, "LD_LIBRARY_PATH=alt", tmp_dir);
	ck_assert_int_eq(line_of(prog, "LD_LIBRARY_PATH=alt", tmp_dir, "/lib/libone.so"), 1);
	/* ${ORIGIN} and $LIB. */
	sh_in_tmp("cc main.c -Wl,-rpath-link,lib -Llib -lone -Wl,--disable-new-dtags,-rpath,'${ORIGIN}/lib:/x/$LIB' "
		  "-o braces");
	snprintf(prog, sizeof(prog), "%s/braces", tmp_dir);
	ck_same_as_ldso(prog, "", "/");
}
END_TEST

START_TEST(test_runpath_origin)
{
	char prog[128];

	build_libraries();
	/* DT_RUNPATH serves only the object that has it: alt/libone's own finds libtwo. */
	sh_in_tmp("cc main.c -Wl,-rpath-link,lib -Lalt -Llib -lone -Wl,--enable-new-dtags,-rpath,'$ORIGIN/alt' "
		  "-o runpath && cc main.c -Wl,-rpath-link,lib -Llib -lone -Wl,--enable-new-dtags,-rpath,'$ORIGIN/lib' "
		  "-o runpath_short");
	snprintf(prog, sizeof(prog), "%s/runpath", tmp_dir);
	ck_assert_int_ge(ck_same_as_ldso(prog, "", "/"), 4);
	ck_assert_int_eq(line_of(prog, "", "/", "/alt/libone.so"), 1);
	ck_assert_int_eq(line_of(prog, "", "/", "/alt/../lib/libtwo.so"), 3);
	/* LD_LIBRARY_PATH comes before DT_RUNPATH. */
	ck_same_as_ldso(prog, "LD_LIBRARY_PATH=lib", tmp_dir);
	ck_assert_int_eq(line_of(prog, "LD_LIBRARY_PATH=lib", tmp_dir, "/lib/libone.so"), 1);
	/* lib/libone has no path of its own, and the program's DT_RUNPATH is not its: */
	snprintf(prog, sizeof(prog), "%s/runpath_short", tmp_dir);
	ck_same_as_ldso(prog, "", "/");
	ck_assert_int_eq(line_of(prog, "", "/", "not found"), 1);
}
END_TEST

START_TEST(test_library_path_and_preload)
{
	static const char *const envs[] = {
		"LD_LIBRARY_PATH=lib",
		"LD_LIBRARY_PATH=/nonexistent::lib;alt",
		"LD_LIBRARY_PATH=lib LD_PRELOAD=sub/libpre.so",
		"LD_LIBRARY_PATH=lib:sub LD_PRELOAD=libpre.so:libtwo.so",
		"LD_LIBRARY_PATH=lib LD_PRELOAD=libnone.so",
		"LD_LIBRARY_PATH=lib/ LD_PRELOAD=./sub/libpre.so",
	};
	char prog[128];

	build_libraries();
	sh_in_tmp("cc main.c -Wl,-rpath-link,lib -Llib -lone -o plain");
	snprintf(prog, sizeof(prog), "%s/plain", tmp_dir);
	/* Without LD_LIBRARY_PATH, libone is nowhere. */
	ck_same_as_ldso(prog, "", tmp_dir);
	ck_assert_int_eq(line_of(prog, "", tmp_dir, "not found"), 1);
	for (size_t i = 0; i < sizeof(envs) / sizeof(envs[0]); i++)
		ck_same_as_ldso(prog, envs[i], tmp_dir);
	/* A preload comes first, its own needs after the program's. */
	ck_assert_int_eq(line_of(prog, "LD_LIBRARY_PATH=lib LD_PRELOAD=sub/libpre.so", tmp_dir,
				 "/sub/libpre.so"), 1);
	ck_assert_int_eq(line_of(prog, "LD_LIBRARY_PATH=lib:sub LD_PRELOAD=libpre.so:libtwo.so",
				 tmp_dir, "/lib/libtwo.so"), 2);
	/* The system's programs too. */
	ck_same_as_ldso("/bin/ls", "LD_LIBRARY_PATH=lib LD_PRELOAD=sub/libpre.so", tmp_dir);
}
END_TEST

START_TEST(test_set_id_ignores_environment)
{
	struct libsearch_env le = { .cwd = tmp_dir, .secure = 1 };
	char *envp[] = { "LD_PRELOAD=sub/libpre.so", NULL };
	char **paths;
	size_t n;

	build_libraries();
	le.envp = envp;
	ck_assert_int_eq(libsearch_load_order("/bin/ls", LDSO, &le, &paths, &n), 0);
	for (size_t i = 0; i < n; i++) {
		ck_assert_msg(!strstr(paths[i], "libpre"), "%s preloaded", paths[i]);
		free(paths[i]);
	}
	free(paths);
	le.secure = 0;
	ck_assert_int_eq(libsearch_load_order("/bin/ls", LDSO, &le, &paths, &n), 0);
	ck_assert_msg(n > 0 && strstr(paths[0], "/sub/libpre.so"), "not preloaded");
	for (size_t i = 0; i < n; i++)
		free(paths[i]);
	free(paths);
}
END_TEST

static Suite *suite(void)
{
	Suite *s = suite_create("libsearch");
	TCase *tc = tcase_create("ldso");

	tcase_add_checked_fixture(tc, make_tmp_dir, remove_tmp_dir);
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, test_system_programs);
	tcase_add_test(tc, test_rpath_origin);
	tcase_add_test(tc, test_runpath_origin);
	tcase_add_test(tc, test_library_path_and_preload);
	tcase_add_test(tc, test_set_id_ignores_environment);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return test_run_suite(suite());
}
