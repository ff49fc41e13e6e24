// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * Allocation churn: N malloc/free pairs of 64 bytes. Prints the wall time per pair in ns
 * on stderr as "churn_ns_per_pair N".
 *
 *   churn [PAIRS]
 */
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

int main(int argc, char **argv)
{
	long n = argc > 1 ? atol(argv[1]) : 100000;
	struct timespec a, b;

	clock_gettime(CLOCK_MONOTONIC, &a);
	for (long i = 0; i < n; i++) {
		void *volatile p = malloc(64);

		free(p);
	}
	clock_gettime(CLOCK_MONOTONIC, &b);
	fprintf(stderr, "churn_ns_per_pair %.1f\n",
		((b.tv_sec - a.tv_sec) * 1e9 + (b.tv_nsec - a.tv_nsec)) / (double)n);
	return 0;
}
