// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * Scale: allocates N blocks of 16 bytes and exits without freeing them, so all N are
 * outstanding when the process is judged.
 *
 *   hold N
 */
#include <stdlib.h>

/* Global and volatile: the compiler may not drop allocations nobody reads. */
static void **volatile keep;

int main(int argc, char **argv)
{
	long n = argc > 1 ? atol(argv[1]) : 1000000;

	keep = malloc(sizeof(void *) * (size_t)n);
	for (long i = 0; keep && i < n; i++)
		keep[i] = malloc(16);
	return keep ? 0 : 1;
}
