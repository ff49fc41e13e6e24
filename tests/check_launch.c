/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * Starting the program under test: splitting -c command lines, finding programs as execvp
 * does, holding the child before exec until release, and reporting a failed exec.
 */
#include <check.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "runner/launch.h"
#include "tests/testutil.h"

/* --- helpers --------------------------------------------------------------------------------- */

/* One directory for the run, made and removed outside the tests so a failure leaves none. */
static char base_dir[64];
/* The directory of the test running now, in base_dir. */
static char tmp_dir[128];

static void setup(void)
{
	snprintf(base_dir, sizeof(base_dir), "/tmp/check_launch.XXXXXX");
	if (!mkdtemp(base_dir)) {
		perror("mkdtemp");
		exit(EXIT_FAILURE);
	}
}

/* Gives the test a fresh directory of its own. */
static void use_dir(const char *name)
{
	snprintf(tmp_dir, sizeof(tmp_dir), "%s/%s", base_dir, name);
	ck_assert_msg(mkdir(tmp_dir, 0755) == 0, "mkdir %s: %s", tmp_dir, strerror(errno));
}

static int remove_entry(const char *path, const struct stat *st, int type, struct FTW *ftw)
{
	if (remove(path))
		fprintf(stderr, "could not remove %s: %s\n", path, strerror(errno));
	return 0;
}

static void teardown(void)
{
	/* Children first; links are removed, not followed. */
	if (base_dir[0])
		nftw(base_dir, remove_entry, 16, FTW_DEPTH | FTW_PHYS);
	base_dir[0] = '\0';
}

/* tmp_dir/rel, in one of a few static buffers. */
static const char *in_tmp(const char *rel)
{
	static char slots[4][PATH_MAX];
	static int next;
	char *p = slots[next++ % 4];

	snprintf(p, PATH_MAX, "%s/%s", tmp_dir, rel);
	return p;
}

static void write_file(const char *path, const char *text, mode_t mode)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	size_t len = strlen(text);

	ck_assert_msg(fd >= 0, "open %s: %s", path, strerror(errno));
	ck_assert_int_eq(write(fd, text, len), (ssize_t)len);
	ck_assert_int_eq(close(fd), 0);
	/* Explicitly, whatever the umask. */
	ck_assert_int_eq(chmod(path, mode), 0);
}

static char *real(const char *path)
{
	char *r = realpath(path, NULL);

	ck_assert_msg(r != NULL, "realpath %s: %s", path, strerror(errno));
	return r;
}

static void ck_argv(char **argv, const char *const *words)
{
	int i;

	ck_assert_ptr_nonnull(argv);
	for (i = 0; words[i]; i++) {
		ck_assert_msg(argv[i] != NULL, "word %d missing, expected '%s'", i, words[i]);
		ck_assert_str_eq(argv[i], words[i]);
	}
	ck_assert_msg(argv[i] == NULL, "extra word '%s'", argv[i]);
}

#define WORDS(...) ((const char *const[]){ __VA_ARGS__, NULL })

#define ck_split(cmdline, ...)                                                                 \
	do {                                                                                   \
		char **v_ = launch_split_command(cmdline);                                     \
		ck_argv(v_, WORDS(__VA_ARGS__));                                               \
		launch_free_argv(v_);                                                          \
	} while (0)

#define ck_split_bad(cmdline)                                                                  \
	do {                                                                                   \
		char **v_;                                                                     \
		errno = 0;                                                                     \
		v_ = launch_split_command(cmdline);                                            \
		ck_assert_msg(v_ == NULL, "'%s' was split", (cmdline));                        \
		ck_assert_int_eq(errno, EINVAL);                                               \
	} while (0)

static const char *shown(const char *s)
{
	return s ? s : "(null)";
}

/* Expects launch_find_program(name) to fail with err. */
#define ck_find_bad(name, err)                                                                 \
	do {                                                                                   \
		char *p_;                                                                      \
		errno = 0;                                                                     \
		p_ = launch_find_program(name);                                                \
		ck_assert_msg(p_ == NULL, "'%s' found as %s", shown(name), shown(p_));         \
		ck_assert_int_eq(errno, (err));                                                \
	} while (0)

/* Expects launch_find_program(name) to give expect, the path execvp would execute. */
#define ck_find(name, expect)                                                                  \
	do {                                                                                   \
		char *p_ = launch_find_program(name);                                          \
		ck_assert_msg(p_ != NULL, "'%s' not found: %s", (name), strerror(errno));      \
		ck_assert_str_eq(p_, (expect));                                                \
		free(p_);                                                                      \
	} while (0)

static void sleep_ms(long ms)
{
	struct timespec ts = { .tv_sec = ms / 1000, .tv_nsec = (ms % 1000) * 1000000L };

	while (nanosleep(&ts, &ts) && errno == EINTR)
		;
}

/* The executable a process runs now. */
static char *exe_of(pid_t pid)
{
	static char buf[PATH_MAX];
	char link[64];
	ssize_t n;

	snprintf(link, sizeof(link), "/proc/%d/exe", (int)pid);
	n = readlink(link, buf, sizeof(buf) - 1);
	ck_assert_msg(n > 0, "readlink %s: %s", link, strerror(errno));
	buf[n] = '\0';
	return buf;
}

/* The state letter of /proc/PID/stat ('S', 'Z', ...), or 0 when it is gone. */
static char state_of(pid_t pid)
{
	char path[64], buf[512], *p;
	FILE *fp;

	snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
	fp = fopen(path, "re");
	if (!fp)
		return 0;
	p = fgets(buf, sizeof(buf), fp);
	fclose(fp);
	if (!p || !(p = strrchr(buf, ')')))
		return 0;
	return p[2];
}

/* Waits for a child and returns its exit code (128+signal when killed). */
static int wait_exit(pid_t pid)
{
	int status;

	while (waitpid(pid, &status, 0) < 0)
		ck_assert_int_eq(errno, EINTR);
	return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

/* Whether this process has no child left to reap. */
static int no_children(void)
{
	int status;

	return waitpid(-1, &status, WNOHANG) < 0 && errno == ECHILD;
}

static int count_fds(void)
{
	DIR *d = opendir("/proc/self/fd");
	struct dirent *e;
	int n = 0;

	ck_assert_ptr_nonnull(d);
	while ((e = readdir(d)))
		n += e->d_name[0] != '.';
	closedir(d);
	return n;
}

/* --- launch_split_command -------------------------------------------------------------------- */

START_TEST(test_split_words)
{
	ck_split("ls", "ls");
	ck_split("ls -l  /tmp", "ls", "-l", "/tmp");
	ck_split("  \tprog\targ  ", "prog", "arg");
	ck_split("./leaky --count=3", "./leaky", "--count=3");
	/* An assignment is a word like any other: there is no shell to take it. */
	ck_split("x=1 prog", "x=1", "prog");
}
END_TEST

START_TEST(test_split_quotes)
{
	ck_split("prog 'a b' \"c d\"", "prog", "a b", "c d");
	ck_split("prog e\\ f", "prog", "e f");
	ck_split("prog 'it'\"'\"'s'", "prog", "it's");
	ck_split("prog \"say \\\"hi\\\"\"", "prog", "say \"hi\"");
	ck_split("prog '' \"\"", "prog", "", "");
	ck_split("prog 'a  b'c\" d\"", "prog", "a  bc d");
	/* Nothing expands inside single quotes. */
	ck_split("prog '$HOME' '*' '`id`' '$(id)' 'a|b;c'", "prog", "$HOME", "*", "`id`",
		 "$(id)", "a|b;c");
	/* Quoted, the shell's operators are plain characters. */
	ck_split("sh -c 'exit 3; echo no'", "sh", "-c", "exit 3; echo no");
}
END_TEST

START_TEST(test_split_refuses)
{
	ck_split_bad("");
	ck_split_bad("   \t ");
	ck_split_bad("'unterminated");
	ck_split_bad("\"unterminated");
	/* A command line, not a script: no substitution, no operators. */
	ck_split_bad("echo $(id)");
	ck_split_bad("echo `id`");
	ck_split_bad("a | b");
	ck_split_bad("a; b");
	ck_split_bad("a && b");
	ck_split_bad("a > out");
	ck_split_bad("a < in");
	ck_split_bad("(a)");
	ck_split_bad("a\nb");
	/* An undefined variable is a mistake, not an empty word. */
	unsetenv("MEMLEAK_CHECK_UNDEFINED");
	ck_split_bad("prog $MEMLEAK_CHECK_UNDEFINED");
}
END_TEST

START_TEST(test_split_variables)
{
	setenv("MEMLEAK_CHECK_VAR", "two words", 1);
	/* Like the shell: split unquoted, kept whole in double quotes. */
	ck_split("prog $MEMLEAK_CHECK_VAR", "prog", "two", "words");
	ck_split("prog \"$MEMLEAK_CHECK_VAR\"", "prog", "two words");
	launch_free_argv(NULL);
}
END_TEST

/* --- launch_find_program --------------------------------------------------------------------- */

START_TEST(test_find_with_slash)
{
	use_dir("find_with_slash");
	write_file(in_tmp("plain"), "data\n", 0644);
	write_file(in_tmp("tool"), "#!/bin/sh\nexit 0\n", 0755);
	ck_assert_int_eq(mkdir(in_tmp("dir"), 0755), 0);

	ck_find("/bin/true", "/bin/true");
	ck_find(in_tmp("tool"), in_tmp("tool"));
	/* Not searched in PATH when it has a slash. */
	setenv("PATH", tmp_dir, 1);
	ck_find_bad("/nonexistent/true", ENOENT);
	ck_find_bad(in_tmp("plain"), EACCES);
	ck_find_bad(in_tmp("dir"), EACCES);
	ck_find_bad(in_tmp("plain/x"), ENOTDIR);

	/* Relative to the working directory, and kept as given. */
	ck_assert_int_eq(chdir(tmp_dir), 0);
	ck_find("./tool", "./tool");
	ck_find("dir/../tool", "dir/../tool");
	ck_find_bad("./plain", EACCES);
}
END_TEST

START_TEST(test_find_empty_name)
{
	ck_find_bad(NULL, ENOENT);
	ck_find_bad("", ENOENT);
}
END_TEST

START_TEST(test_find_in_path)
{
	char path[512];

	use_dir("find_in_path");
	ck_assert_int_eq(mkdir(in_tmp("a"), 0755), 0);
	ck_assert_int_eq(mkdir(in_tmp("b"), 0755), 0);
	ck_assert_int_eq(mkdir(in_tmp("c"), 0755), 0);
	write_file(in_tmp("a/prog"), "#!/bin/sh\n", 0644);
	write_file(in_tmp("b/prog"), "#!/bin/sh\n", 0755);
	write_file(in_tmp("c/prog"), "#!/bin/sh\n", 0755);
	ck_assert_int_eq(mkdir(in_tmp("a/subdir"), 0755), 0);
	write_file(in_tmp("b/subdir"), "#!/bin/sh\n", 0755);

	/* The first directory that has it executable, as execvp searches. */
	snprintf(path, sizeof(path), "%s/nonexistent:%s/b:%s/c", tmp_dir, tmp_dir, tmp_dir);
	setenv("PATH", path, 1);
	ck_find("prog", in_tmp("b/prog"));
	/* Found but not executable: the search goes on. */
	snprintf(path, sizeof(path), "%s/a:%s/c", tmp_dir, tmp_dir);
	setenv("PATH", path, 1);
	ck_find("prog", in_tmp("c/prog"));
	/* A directory of that name does not stop it either. */
	snprintf(path, sizeof(path), "%s/a:%s/b", tmp_dir, tmp_dir);
	setenv("PATH", path, 1);
	ck_find("subdir", in_tmp("b/subdir"));
	/* Only found not executable: that is the error, not "no such file". */
	snprintf(path, sizeof(path), "%s/nonexistent:%s/a", tmp_dir, tmp_dir);
	setenv("PATH", path, 1);
	ck_find_bad("prog", EACCES);
	ck_find_bad("subdir", EACCES);
	ck_find_bad("missing", ENOENT);
	/* A PATH entry that is a file is no directory. */
	snprintf(path, sizeof(path), "%s/b/prog:%s/c", tmp_dir, tmp_dir);
	setenv("PATH", path, 1);
	ck_find("prog", in_tmp("c/prog"));
}
END_TEST

START_TEST(test_find_symlink)
{
	char path[256];

	use_dir("find_symlink");
	ck_assert_int_eq(mkdir(in_tmp("bin"), 0755), 0);
	write_file(in_tmp("target"), "#!/bin/sh\n", 0755);
	ck_assert_int_eq(symlink(in_tmp("target"), in_tmp("bin/link")), 0);
	snprintf(path, sizeof(path), "%s/bin", tmp_dir);
	setenv("PATH", path, 1);
	/* The link itself, as execvp executes it: not its target. */
	ck_find("link", in_tmp("bin/link"));
	ck_assert_int_eq(symlink(in_tmp("gone"), in_tmp("bin/dangling")), 0);
	ck_find_bad("dangling", ENOENT);
}
END_TEST

START_TEST(test_find_default_path)
{
	/* Without PATH, the C library's default, "/bin:/usr/bin". */
	unsetenv("PATH");
	ck_find("true", "/bin/true");
	ck_find_bad("memleak-check-no-such-program", ENOENT);
}
END_TEST

/*
 * BUG (found by this test, since fixed): an empty PATH entry (a leading, trailing or
 * doubled ':') means the working directory for execvp, but launch_find_program split PATH
 * with strtok_r, which never returns empty tokens, so the working directory was never
 * searched and the program not found (ENOENT).
 */
START_TEST(test_find_empty_path_entry)
{
	use_dir("find_empty_path_entry");
	write_file(in_tmp("here"), "#!/bin/sh\n", 0755);
	ck_assert_int_eq(chdir(tmp_dir), 0);
	setenv("PATH", ":/nonexistent", 1);
	ck_find("here", "here");
	setenv("PATH", "/nonexistent::/nonexistent2", 1);
	ck_find("here", "here");
	setenv("PATH", "/nonexistent:", 1);
	ck_find("here", "here");
	/* An empty PATH is one empty entry. */
	setenv("PATH", "", 1);
	ck_find("here", "here");
}
END_TEST

/* --- launch__start / launch__release --------------------------------------------------------- */

START_TEST(test_held_until_release)
{
	char *argv[] = { "true", NULL };
	char self[PATH_MAX];
	struct launch *l;
	char *truepath = real("/bin/true");
	pid_t pid;

	snprintf(self, sizeof(self), "%s", exe_of(getpid()));
	setenv("PATH", "/usr/bin:/bin", 1);
	l = launch__start(argv, NULL);
	ck_assert_msg(l != NULL, "launch__start: %s", strerror(errno));
	pid = launch__pid(l);
	ck_assert_int_gt(pid, 0);
	ck_assert_str_eq(launch__path(l), truepath);
	ck_assert_str_eq(launch__program(l), "/usr/bin/true");

	/* Held: alive, and still this program's image, not yet true's. */
	sleep_ms(200);
	ck_assert_int_eq(waitpid(pid, NULL, WNOHANG), 0);
	ck_assert_str_eq(exe_of(pid), self);
	ck_assert_int_ne(state_of(pid), 'Z');

	ck_assert_int_eq(launch__release(l), 0);
	ck_assert_int_eq(wait_exit(pid), 0);
	launch__free(l);
	free(truepath);
}
END_TEST

START_TEST(test_exit_status_and_argv)
{
	/* argv[0] arrives as given, not replaced by the path that was found. */
	char *zeroth[] = { "sh", "-c", "[ \"$0\" = sh ] || exit 90; exit 7", NULL };
	/* The arguments too, empty ones included. */
	char *args[] = { "sh", "-c",
			 "[ \"$1\" = 'a b' ] || exit 91; [ -z \"$2\" ] || exit 92; "
			 "[ $# = 2 ] || exit 93; exit 8",
			 "name", "a b", "", NULL };
	struct launch *l;
	pid_t pid;

	l = launch__start(zeroth, NULL);
	ck_assert_ptr_nonnull(l);
	pid = launch__pid(l);
	ck_assert_int_eq(launch__release(l), 0);
	ck_assert_int_eq(wait_exit(pid), 7);
	launch__free(l);

	l = launch__start(args, NULL);
	ck_assert_ptr_nonnull(l);
	pid = launch__pid(l);
	ck_assert_int_eq(launch__release(l), 0);
	ck_assert_int_eq(wait_exit(pid), 8);
	launch__free(l);
	ck_assert(no_children());
}
END_TEST

START_TEST(test_runs_after_release)
{
	char *argv[] = { "/bin/sh", "-c", "echo ran > \"$0\"", NULL, NULL };
	char buf[16] = "";
	struct launch *l;
	FILE *fp;
	pid_t pid;

	use_dir("runs_after_release");
	argv[3] = (char *)in_tmp("out");
	l = launch__start(argv, NULL);
	ck_assert_ptr_nonnull(l);
	pid = launch__pid(l);
	sleep_ms(100);
	ck_assert_int_ne(access(in_tmp("out"), F_OK), 0);
	ck_assert_int_eq(launch__release(l), 0);
	ck_assert_int_eq(wait_exit(pid), 0);
	fp = fopen(in_tmp("out"), "re");
	ck_assert_ptr_nonnull(fp);
	ck_assert_ptr_nonnull(fgets(buf, sizeof(buf), fp));
	fclose(fp);
	ck_assert_str_eq(buf, "ran\n");
	/* Released: freeing it does not touch the process, which is already reaped. */
	launch__free(l);
}
END_TEST

START_TEST(test_start_fails_without_fork)
{
	char *missing[] = { "memleak-check-no-such-program", NULL };
	char *plain[] = { NULL, NULL };
	char *dir[] = { "/tmp", NULL };

	use_dir("start_fails_without_fork");
	write_file(in_tmp("plain"), "#!/bin/sh\n", 0644);
	plain[0] = (char *)in_tmp("plain");
	/* Only directories anyone can search: an unreadable one would make it EACCES. */
	setenv("PATH", "/usr/bin:/bin", 1);

	errno = 0;
	ck_assert_ptr_null(launch__start(missing, NULL));
	ck_assert_int_eq(errno, ENOENT);
	errno = 0;
	ck_assert_ptr_null(launch__start(plain, NULL));
	ck_assert_int_eq(errno, EACCES);
	errno = 0;
	ck_assert_ptr_null(launch__start(dir, NULL));
	ck_assert_int_eq(errno, EACCES);
	ck_assert(no_children());
}
END_TEST

/* The first line of a file, or "" when it cannot be read. */
static const char *first_line(const char *path)
{
	static char buf[PATH_MAX];
	FILE *fp = fopen(path, "re");

	buf[0] = '\0';
	if (fp) {
		if (!fgets(buf, sizeof(buf), fp))
			buf[0] = '\0';
		fclose(fp);
	}
	buf[strcspn(buf, "\n")] = '\0';
	return buf;
}

/* Launches argv, releases it and returns its exit code. */
static int launch_and_wait(char *const argv[])
{
	struct launch *l = launch__start(argv, NULL);
	pid_t pid;

	ck_assert_msg(l != NULL, "launch__start %s: %s", argv[0], strerror(errno));
	pid = launch__pid(l);
	ck_assert_int_eq(launch__release(l), 0);
	launch__free(l);
	return wait_exit(pid);
}

/*
 * A program reached through a link runs as the link: a script's $0 and a program's name
 * (/proc/PID/comm, from the path executed) are the link's, as without us, while
 * launch__path names the file itself.
 */
START_TEST(test_link_executed_as_given)
{
	char script[PATH_MAX], path[PATH_MAX];
	char *argv[] = { NULL, NULL, NULL, NULL };
	struct launch *l;

	use_dir("link_executed_as_given");
	ck_assert_int_eq(mkdir(in_tmp("bin"), 0755), 0);
	snprintf(script, sizeof(script), "#!/bin/sh\necho \"$0\" > %s/zero\n", tmp_dir);
	write_file(in_tmp("target.sh"), script, 0755);
	ck_assert_int_eq(symlink("../target.sh", in_tmp("bin/name.test")), 0);
	ck_assert_int_eq(symlink("/bin/sh", in_tmp("bin/mysh")), 0);
	ck_assert_int_eq(chdir(tmp_dir), 0);

	argv[0] = "./bin/name.test";
	ck_assert_int_eq(launch_and_wait(argv), 0);
	ck_assert_str_eq(first_line(in_tmp("zero")), "./bin/name.test");

	/* Found in PATH: the path execvp forms, the link's. */
	snprintf(path, sizeof(path), "/nonexistent:%s/bin:/usr/bin:/bin", tmp_dir);
	setenv("PATH", path, 1);
	argv[0] = "name.test";
	l = launch__start(argv, NULL);
	ck_assert_ptr_nonnull(l);
	ck_assert_str_eq(launch__program(l), in_tmp("bin/name.test"));
	ck_assert_str_eq(launch__path(l), in_tmp("target.sh"));
	launch__free(l);
	ck_assert_int_eq(launch_and_wait(argv), 0);
	ck_assert_str_eq(first_line(in_tmp("zero")), in_tmp("bin/name.test"));

	/* An ELF program through a link: its name is the link's, argv[0] is untouched. */
	argv[0] = "mysh";
	argv[1] = "-c";
	snprintf(script, sizeof(script), "cat /proc/$$/comm > %s/zero", tmp_dir);
	argv[2] = script;
	ck_assert_int_eq(launch_and_wait(argv), 0);
	ck_assert_str_eq(first_line(in_tmp("zero")), "mysh");
}
END_TEST

/* Executable bits, but no ELF and no "#!": /bin/sh reads it, as execvp has it do. */
START_TEST(test_no_magic_read_by_sh)
{
	char *argv[] = { NULL, "arg", NULL };

	use_dir("no_magic_read_by_sh");
	write_file(in_tmp("plain.sh"), "[ \"$1\" = arg ] || exit 3\necho \"$0\" > zero\nexit 42\n",
		   0755);
	ck_assert_int_eq(chdir(tmp_dir), 0);
	argv[0] = "./plain.sh";
	ck_assert_int_eq(launch_and_wait(argv), 42);
	ck_assert_str_eq(first_line("zero"), "./plain.sh");
	ck_assert(no_children());
}
END_TEST

/* Executable bits but nothing the kernel can run: the child's errno comes back. */
START_TEST(test_exec_failure_reported)
{
	char *bad_interp[] = { NULL, NULL };
	struct launch *l;
	pid_t pid;
	int fds = count_fds();

	use_dir("exec_failure_reported");
	write_file(in_tmp("bad_interp"), "#!/nonexistent/interpreter\n", 0755);
	bad_interp[0] = (char *)in_tmp("bad_interp");

	l = launch__start(bad_interp, NULL);
	ck_assert_ptr_nonnull(l);
	pid = launch__pid(l);
	ck_assert_int_eq(launch__release(l), -ENOENT);
	/* The child exited with 127 and was reaped. */
	ck_assert_int_eq(waitpid(pid, NULL, WNOHANG), -1);
	ck_assert_int_eq(errno, ECHILD);
	launch__free(l);
	ck_assert(no_children());
	/* No pipe left open. */
	ck_assert_int_eq(count_fds(), fds);
}
END_TEST

/* A file that stopped being executable between start and release: exec gives EACCES. */
START_TEST(test_exec_eacces_reported)
{
	char *argv[] = { NULL, NULL };
	struct launch *l;

	use_dir("exec_eacces_reported");
	write_file(in_tmp("tool"), "#!/bin/sh\nexit 0\n", 0755);
	argv[0] = (char *)in_tmp("tool");
	l = launch__start(argv, NULL);
	ck_assert_ptr_nonnull(l);
	ck_assert_int_eq(chmod(in_tmp("tool"), 0644), 0);
	ck_assert_int_eq(launch__release(l), -EACCES);
	launch__free(l);
	ck_assert(no_children());
}
END_TEST

START_TEST(test_free_unreleased)
{
	char *argv[] = { "/bin/true", NULL };
	struct launch *l;
	pid_t pid;
	int fds = count_fds();

	launch__free(NULL);
	l = launch__start(argv, NULL);
	ck_assert_ptr_nonnull(l);
	pid = launch__pid(l);
	ck_assert_int_eq(kill(pid, 0), 0);
	launch__free(l);
	/* Killed and reaped: nothing is left of it. */
	ck_assert_int_eq(waitpid(pid, NULL, WNOHANG), -1);
	ck_assert_int_eq(errno, ECHILD);
	ck_assert_int_eq(kill(pid, 0), -1);
	ck_assert_int_eq(errno, ESRCH);
	ck_assert_int_eq(count_fds(), fds);
}
END_TEST

START_TEST(test_free_released_leaves_it_running)
{
	char *argv[] = { "/bin/sh", "-c", "sleep 0.3; exit 9", NULL };
	struct launch *l;
	pid_t pid;

	l = launch__start(argv, NULL);
	ck_assert_ptr_nonnull(l);
	pid = launch__pid(l);
	ck_assert_int_eq(launch__release(l), 0);
	launch__free(l);
	ck_assert_int_eq(wait_exit(pid), 9);
}
END_TEST

START_TEST(test_two_at_once)
{
	char *first[] = { "/bin/sh", "-c", "exit 11", NULL };
	char *second[] = { "/bin/sh", "-c", "exit 12", NULL };
	struct launch *a, *b;
	pid_t pa, pb;

	a = launch__start(first, NULL);
	b = launch__start(second, NULL);
	ck_assert_ptr_nonnull(a);
	ck_assert_ptr_nonnull(b);
	pa = launch__pid(a);
	pb = launch__pid(b);
	ck_assert_int_ne(pa, pb);
	/* Released in the other order: each runs its own command. */
	ck_assert_int_eq(launch__release(b), 0);
	ck_assert_int_eq(wait_exit(pb), 12);
	ck_assert_int_eq(waitpid(pa, NULL, WNOHANG), 0);
	ck_assert_int_eq(launch__release(a), 0);
	ck_assert_int_eq(wait_exit(pa), 11);
	launch__free(a);
	launch__free(b);
}
END_TEST

START_TEST(test_process_group)
{
	char *argv[] = { "/bin/true", NULL };
	struct launch_opts opts = { .new_process_group = 1 };
	struct launch *l;
	pid_t pid;
	int i;

	l = launch__start(argv, &opts);
	ck_assert_ptr_nonnull(l);
	pid = launch__pid(l);
	/* The child moves itself into its group right after fork. */
	for (i = 0; i < 200 && getpgid(pid) != pid; i++)
		sleep_ms(10);
	ck_assert_int_eq(getpgid(pid), pid);
	ck_assert_int_eq(launch__release(l), 0);
	ck_assert_int_eq(wait_exit(pid), 0);
	launch__free(l);

	/* By default it stays in ours. */
	l = launch__start(argv, NULL);
	ck_assert_ptr_nonnull(l);
	pid = launch__pid(l);
	sleep_ms(50);
	ck_assert_int_eq(getpgid(pid), getpgrp());
	launch__free(l);
}
END_TEST

START_TEST(test_drop_privileges)
{
	char *argv[] = { "/bin/sh", "-c",
			 "[ \"$(id -u)\" = 65534 ] || exit 5; [ \"$(id -g)\" = 65534 ] || exit 6; "
			 "[ \"$(id -G)\" = 65534 ] || exit 7; exit 0",
			 NULL };
	struct launch_opts opts = { .uid = 65534, .gid = 65534, .drop_privileges = 1 };
	struct launch *l;
	pid_t pid;
	int err;

	l = launch__start(argv, &opts);
	ck_assert_ptr_nonnull(l);
	pid = launch__pid(l);
	err = launch__release(l);
	if (geteuid() != 0) {
		/* Without the right to change ids, the child reports why and does not run. */
		ck_assert_int_eq(err, -EPERM);
		fprintf(stderr, "test_drop_privileges: not root, only the failure checked\n");
	} else {
		ck_assert_int_eq(err, 0);
		ck_assert_int_eq(wait_exit(pid), 0);
	}
	launch__free(l);
	ck_assert(no_children());
}
END_TEST

/*
 * BUG (found by this test, since fixed): a held child that died before launch__release
 * (killed by a signal meant for the process group, the OOM killer, ...) made the release
 * write into a pipe nobody reads: the caller got SIGPIPE and died instead of getting an
 * error. Neither memleak nor memleak-run ignores SIGPIPE; expected: a negative errno.
 */
START_TEST(test_release_after_child_died)
{
	char *argv[] = { "/bin/true", NULL };
	struct launch *l;
	pid_t pid;
	int i, err;

	/* As in the tools. */
	signal(SIGPIPE, SIG_DFL);
	l = launch__start(argv, NULL);
	ck_assert_ptr_nonnull(l);
	pid = launch__pid(l);
	ck_assert_int_eq(kill(pid, SIGKILL), 0);
	for (i = 0; i < 200 && state_of(pid) != 'Z'; i++)
		sleep_ms(10);
	ck_assert_int_eq(state_of(pid), 'Z');
	err = launch__release(l);
	ck_assert_int_lt(err, 0);
	launch__free(l);
}
END_TEST

static Suite *launch_suite(void)
{
	Suite *s = suite_create("launch");
	TCase *split = tcase_create("split");
	TCase *find = tcase_create("find");
	TCase *files = tcase_create("exec");
	TCase *start = tcase_create("start");

	tcase_add_test(split, test_split_words);
	tcase_add_test(split, test_split_quotes);
	tcase_add_test(split, test_split_refuses);
	tcase_add_test(split, test_split_variables);
	suite_add_tcase(s, split);

	tcase_add_unchecked_fixture(find, setup, teardown);
	tcase_add_test(find, test_find_with_slash);
	tcase_add_test(find, test_find_empty_name);
	tcase_add_test(find, test_find_in_path);
	tcase_add_test(find, test_find_symlink);
	tcase_add_test(find, test_find_default_path);
	tcase_add_test(find, test_find_empty_path_entry);
	suite_add_tcase(s, find);

	/* Programs written for the occasion, in a directory of their own. */
	tcase_add_unchecked_fixture(files, setup, teardown);
	tcase_set_timeout(files, 30);
	tcase_add_test(files, test_runs_after_release);
	tcase_add_test(files, test_start_fails_without_fork);
	tcase_add_test(files, test_link_executed_as_given);
	tcase_add_test(files, test_no_magic_read_by_sh);
	tcase_add_test(files, test_exec_failure_reported);
	tcase_add_test(files, test_exec_eacces_reported);
	suite_add_tcase(s, files);

	tcase_set_timeout(start, 30);
	tcase_add_test(start, test_held_until_release);
	tcase_add_test(start, test_exit_status_and_argv);
	tcase_add_test(start, test_free_unreleased);
	tcase_add_test(start, test_free_released_leaves_it_running);
	tcase_add_test(start, test_two_at_once);
	tcase_add_test(start, test_process_group);
	tcase_add_test(start, test_drop_privileges);
	tcase_add_test(start, test_release_after_child_died);
	suite_add_tcase(s, start);
	return s;
}

int main(void)
{
	return test_run_suite(launch_suite());
}
