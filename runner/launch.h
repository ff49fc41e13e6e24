/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * Starting the program under test held before exec, so tracing is attached before its
 * first instruction, and reporting a program that cannot be executed.
 */
#ifndef LAUNCH_H
#define LAUNCH_H

#include <sys/types.h>

struct launch;

struct launch_opts {
	uid_t uid;		/* run as this user when drop_privileges is set */
	gid_t gid;
	int drop_privileges;
	/* That user's supplementary groups and login environment, as `sudo -u USER -i` sets. */
	gid_t *groups;
	int ngroups;
	const char *name, *home, *shell;
	int new_process_group;	/* put the child in its own process group */
};

/*
 * Forks a child that waits before exec. argv[0] is looked up in PATH as execvp does, and
 * the child executes what it found as found, with argv unchanged: a link is not replaced
 * by its target, so $0, /proc/PID/comm and AT_EXECFN are what they are without us.
 * Returns NULL with errno set when the program does not exist or is not executable
 * (nothing is forked then).
 */
struct launch *launch__start(char *const argv[], const struct launch_opts *opts);
pid_t launch__pid(const struct launch *l);
/* The file that will run, canonical (links resolved): for its allocator and symbols. */
const char *launch__path(const struct launch *l);
/* The path that is executed, as execvp forms it ("./t", "/usr/bin/t"). */
const char *launch__program(const struct launch *l);
/*
 * Lets the child exec. Returns 0, or -errno when the exec failed (the child has then
 * exited with 127 and been reaped).
 */
int launch__release(struct launch *l);
/* Kills and reaps a child that was never released. */
void launch__free(struct launch *l);

/*
 * Takes the credentials of opts' user (supplementary groups, group, user: no capability
 * is left) when opts->drop_privileges is set; nothing otherwise. 0 or -errno.
 */
int launch_become_user(const struct launch_opts *opts);
/* Sets HOME, USER, LOGNAME and SHELL to those of opts' user, as a login would. */
int launch_user_environment(const struct launch_opts *opts);

/* Splits a command line into words (quotes and backslashes as the shell does). */
char **launch_split_command(const char *cmdline);
void launch_free_argv(char **argv);

/*
 * Finds a program as execvp would; returns the malloc'ed path execvp would execute, not
 * canonicalised, or NULL with errno set.
 */
char *launch_find_program(const char *name);

#endif /* LAUNCH_H */
