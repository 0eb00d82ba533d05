/* SPDX-License-Identifier: GPL-2.0 */
/* Summary statistics over the K samples or repetitions of one metric. */
#ifndef BENCH_STATS_H
#define BENCH_STATS_H

struct bench_summary {
	double median;
	/* (max - min) / median; NaN if the median is 0 but values differ. */
	double spread;
};

/* @n must be at least 1.  Sorts @values in place. */
struct bench_summary bench_summarize(double *values, int n);

#endif /* BENCH_STATS_H */
