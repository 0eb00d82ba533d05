/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Throughput measurement for benchmarks whose workers loop until told to
 * stop: the whole run of such a benchmark, from start barrier to CSV line.
 */
#ifndef BENCH_SAMPLER_H
#define BENCH_SAMPLER_H

#include <stdint.h>

#include "bench_cli.h"
#include "bench_team.h"

/*
 * Start a team of @kind running @fn, which must call bench_worker_sync()
 * once when ready, then loop publishing its running total with
 * bench_worker_publish() until bench_worker_stopping().  After
 * args->warmup_ms, the rate of the summed totals is sampled over
 * args->intervals consecutive intervals of args->interval_ms and reported
 * as @metric.  With args->ops_file, the summed total over the whole run is
 * written there before the CSV line.  Returns the process exit status.
 */
int bench_run_sampled(const struct bench_args *args, enum bench_team_kind kind,
		      bench_worker_fn fn, void *ctx, const char *metric);

/*
 * The same run, reporting instead the mean time one worker spent per
 * operation in each interval, args->cpus * 10^9 / rate nanoseconds: for
 * workers that make one synchronous operation at a time, its latency as
 * each worker sees it.
 */
int bench_run_sampled_ns(const struct bench_args *args,
			 enum bench_team_kind kind, bench_worker_fn fn,
			 void *ctx, const char *metric);

/*
 * Write @total, the operations of the whole run, to args->ops_file.
 * Returns 0, or -1 after reporting.
 */
int bench_write_ops_file(const struct bench_args *args, uint64_t total);

#endif /* BENCH_SAMPLER_H */
