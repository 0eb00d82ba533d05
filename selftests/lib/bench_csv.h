/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Check a benchmark's stdout against the project's CSV result contract.
 *
 * Every line is "benchmark,mode,cpus,metric,value,spread"; there is no
 * header.  value and spread are finite numbers, spread >= 0, and each
 * expected metric appears exactly once.
 */
#ifndef SELFTESTS_BENCH_CSV_H
#define SELFTESTS_BENCH_CSV_H

#include <stdbool.h>
#include <stddef.h>

struct bench_metric {
	const char *name;
	bool positive;		/* value must be > 0, not just >= 0 */
};

struct bench_csv_expect {
	const char *benchmark;
	const char *mode;
	const char *cpus;
	const struct bench_metric *metrics;	/* ends with a NULL name */
};

/*
 * Returns true if @out follows the contract for @expect.  Otherwise returns
 * false and describes the first problem found in @why.
 */
bool bench_csv_check(const char *out, const struct bench_csv_expect *expect,
		     char *why, size_t why_len);

#endif /* SELFTESTS_BENCH_CSV_H */
