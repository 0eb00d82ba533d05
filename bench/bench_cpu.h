/* SPDX-License-Identifier: GPL-2.0 */
/* Which CPUs the workers run on, and pinning to them. */
#ifndef BENCH_CPU_H
#define BENCH_CPU_H

/*
 * Store in *ids a malloc'ed array of the CPUs in the initial affinity
 * mask, in ascending order.  Returns their number, or -errno.
 */
int bench_cpu_list(int **ids);

/* Pin the calling thread to @cpu.  Returns 0 or -errno. */
int bench_pin_self(int cpu);

#endif /* BENCH_CPU_H */
