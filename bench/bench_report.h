/* SPDX-License-Identifier: GPL-2.0 */
/* The CSV result line, the only thing a benchmark writes to stdout. */
#ifndef BENCH_REPORT_H
#define BENCH_REPORT_H

#include "bench_cli.h"

/*
 * Print "benchmark,mode,cpus,metric,value,spread" where value is the
 * median of @values and spread their (max - min) / median.  Reorders
 * @values.  Returns 0, or -1 after reporting a failed write.
 */
int bench_report(const struct bench_args *args, const char *metric,
		 double *values, int n);

#endif /* BENCH_REPORT_H */
