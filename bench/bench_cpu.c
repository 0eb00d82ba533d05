// SPDX-License-Identifier: GPL-2.0
#include "bench_cpu.h"

#include <errno.h>
#include <sched.h>
#include <stdlib.h>

int bench_cpu_list(int **ids)
{
	cpu_set_t mask;
	int count, n = 0;

	if (sched_getaffinity(0, sizeof(mask), &mask) == -1)
		return -errno;
	count = CPU_COUNT(&mask);
	*ids = malloc(sizeof(**ids) * (count ? count : 1));
	if (!*ids)
		return -ENOMEM;
	for (int cpu = 0; cpu < CPU_SETSIZE && n < count; cpu++)
		if (CPU_ISSET(cpu, &mask))
			(*ids)[n++] = cpu;
	return n;
}

/* pid 0 means the calling thread, so this works for threads and processes. */
int bench_pin_self(int cpu)
{
	cpu_set_t mask;

	CPU_ZERO(&mask);
	CPU_SET(cpu, &mask);
	if (sched_setaffinity(0, sizeof(mask), &mask) == -1)
		return -errno;
	return 0;
}
