// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#include "reporters/atomic_file.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

int atomic_file_write(const char *path, int (*write_fn)(FILE *out, const void *ctx),
		      const void *ctx)
{
	char *tmp = NULL;
	FILE *out = NULL;
	int fd, err = 0;

	if (asprintf(&tmp, "%s.XXXXXX", path) < 0)
		return -ENOMEM;
	fd = mkstemp(tmp);
	if (fd < 0) {
		err = -errno;
		goto cleanup;
	}
	fchmod(fd, 0644);
	out = fdopen(fd, "w");
	if (!out) {
		err = -errno;
		close(fd);
		goto cleanup;
	}
	err = write_fn(out, ctx);
	if (!err && (fflush(out) || fsync(fileno(out))))
		err = -errno;
	if (fclose(out) && !err)
		err = -errno;
	if (!err && rename(tmp, path))
		err = -errno;
cleanup:
	if (err && fd >= 0)
		unlink(tmp);
	free(tmp);
	return err;
}
