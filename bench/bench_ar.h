/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Address ranges (libcorey, CONFIG_COREY_ADDR_RANGE) for the benchmarks'
 * corey modes: the check that the kernel has them.
 */
#ifndef BENCH_AR_H
#define BENCH_AR_H

#include <stddef.h>

#include "bench_cli.h"

/*
 * Check once, before anything starts, that this kernel has address ranges
 * and that @bytes, the size of each range the mode will create, is a
 * multiple of their 2 MiB granule.  A corey mode never falls back to
 * ordinary memory: without address ranges it says so and the caller exits
 * with BENCH_EXIT_UNSUPPORTED, so the matrix skips it on stock.  Returns
 * 0, or the exit status after reporting.
 */
int bench_ar_probe(const struct bench_args *args, size_t bytes);

#endif /* BENCH_AR_H */
