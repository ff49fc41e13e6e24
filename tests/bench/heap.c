// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * A large heap to read at exit: MIB mebibytes in blocks of KIB kibibytes, every block
 * kept by an array, every word of every block a pointer to another block (the most work
 * per word a scan can have).
 *
 *   heap MIB KIB
 */
#include <stdint.h>
#include <stdlib.h>

static void **volatile keep;

int main(int argc, char **argv)
{
	long mib = argc > 1 ? atol(argv[1]) : 1024, kib = argc > 2 ? atol(argv[2]) : 1024;
	long n = mib * 1024 / kib, words = kib * 1024 / 8;

	keep = malloc(sizeof(void *) * (size_t)n);
	for (long i = 0; keep && i < n; i++)
		keep[i] = malloc((size_t)kib * 1024);
	for (long i = 0; keep && i < n; i++) {
		uintptr_t *w = keep[i];

		for (long k = 0; w && k < words; k++)
			w[k] = (uintptr_t)keep[(i * 7919 + k) % n];
	}
	return keep ? 0 : 1;
}
