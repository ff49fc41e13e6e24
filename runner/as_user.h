/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * The user's files with the user's rights: when the gate runs a program for another user
 * (sudo, --user), the files that user names (suppressions, reports) are read and written
 * by a child of the gate that has taken that user's credentials, so the gate's own rights
 * never open, replace or reveal anything the user could not.
 */
#ifndef AS_USER_H
#define AS_USER_H

#include <stddef.h>

#include "runner/launch.h"

/*
 * Calls fn(arg) as lo's user: in a forked child that takes the user's credentials when
 * lo->drop_privileges is set, here otherwise. fn returns 0 or -errno (errno values only:
 * they travel in the child's exit status). Returns fn's result, or -errno.
 */
int as_user_call(const struct launch_opts *lo, int (*fn)(void *), void *arg);

/*
 * Reads the whole file as lo's user into *text (malloc'ed, NUL-terminated; *len without
 * the NUL). A file the user cannot read fails as it would for them (-EACCES), and
 * nothing of it is read. Returns 0 or -errno.
 */
int as_user_read_file(const struct launch_opts *lo, const char *path, char **text,
		      size_t *len);

/* report_write_file() as lo's user: the temporary file and the rename too. */
int as_user_write_file(const struct launch_opts *lo, const char *path, const void *data,
		       size_t len);

#endif /* AS_USER_H */
