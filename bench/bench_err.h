/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Runtime failure reporting shared by all benchmarks.
 *
 * Every message starts with the benchmark name so that the project's
 * scripts, which run many binaries in a row, can tell which one failed.
 */
#ifndef BENCH_ERR_H
#define BENCH_ERR_H

/* Print "NAME: WHAT: strerror(err)" to stderr. */
void bench_error(const char *bench, const char *what, int err);

/* Print "NAME: MESSAGE" to stderr, printf-style. */
void bench_errorf(const char *bench, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

#endif /* BENCH_ERR_H */
