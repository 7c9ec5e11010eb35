// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * syscost: what one system call costs, in nanoseconds (getppid(), which
 * does almost nothing).  A program on a syscalls:* tracepoint puts every
 * task of the machine on the system-call slow path while it is attached;
 * the benchmark runs this beside each tracer to show that cost, which no
 * program's own run time includes.
 *
 *   syscost [COUNT]     (default 2000000)
 * prints a line for people and "syscost: ns=..." for scripts.
 */
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>
#include <sys/syscall.h>

int main(int argc, char **argv)
{
	long n = 2000000, i;
	struct timespec a, b;
	double ns;
	char *end;

	if (argc > 2 || (argc == 2 && ((n = strtol(argv[1], &end, 10)) <= 0 ||
				       *end || n > 1000000000))) {
		fprintf(stderr, "usage: syscost [COUNT]  (1 to 1000000000)\n");
		return 2;
	}
	clock_gettime(CLOCK_MONOTONIC, &a);
	for (i = 0; i < n; i++)
		syscall(SYS_getppid);
	clock_gettime(CLOCK_MONOTONIC, &b);
	ns = ((double)(b.tv_sec - a.tv_sec) * 1e9 + (double)(b.tv_nsec - a.tv_nsec)) / (double)n;
	printf("%ld getppid() calls, %.1f ns each\nsyscost: ns=%.1f\n", n, ns, ns);
	return 0;
}
