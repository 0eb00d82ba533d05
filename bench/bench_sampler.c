// SPDX-License-Identifier: GPL-2.0
#include "bench_sampler.h"

#include <errno.h>
#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>

#include "bench_err.h"
#include "bench_report.h"
#include "bench_time.h"

/*
 * Runs on the unpinned main thread, which sleeps between readings so it
 * takes no CPU time away from the workers.  Intervals are back to back:
 * each one starts at the reading that ended the previous one.
 */
static int sample_rates(struct bench_team *team, const struct bench_args *args,
			double *rates)
{
	int64_t start, prev_ns;
	uint64_t prev_total;

	if (bench_team_sync(team))
		return -1;
	bench_sleep_until(bench_now_ns() + args->warmup_ms * NSEC_PER_MSEC);

	start = prev_ns = bench_now_ns();
	prev_total = bench_team_total(team);
	for (int k = 0; k < args->intervals; k++) {
		int64_t now_ns;
		uint64_t total;

		/* Deadlines from one origin, so oversleeping does not add up. */
		bench_sleep_until(start + (k + 1) * args->interval_ms * NSEC_PER_MSEC);
		now_ns = bench_now_ns();
		total = bench_team_total(team);
		if (bench_team_failed(team))
			return -1;
		rates[k] = (double)(total - prev_total) * NSEC_PER_SEC /
			   (double)(now_ns - prev_ns);
		prev_ns = now_ns;
		prev_total = total;
	}
	return 0;
}

/*
 * The whole run's count, not the sampled intervals': whatever is counted
 * around the process (lock_stat) also covers the warm-up and the stop.
 */
int bench_write_ops_file(const struct bench_args *args, uint64_t total)
{
	FILE *f = fopen(args->ops_file, "w");
	int err;

	if (!f) {
		bench_error(args->spec->name, args->ops_file, errno);
		return -1;
	}
	fprintf(f, "%llu\n", (unsigned long long)total);
	err = ferror(f) ? EIO : 0;
	if (fclose(f) == EOF && !err)
		err = errno;
	if (err) {
		bench_error(args->spec->name, args->ops_file, err);
		return -1;
	}
	return 0;
}

static int run_sampled(const struct bench_args *args, enum bench_team_kind kind,
		       bench_worker_fn fn, void *ctx, const char *metric,
		       bool per_worker_ns)
{
	double *rates = calloc(args->intervals, sizeof(*rates));
	struct bench_team *team = NULL;
	int sampled, status = 1;

	if (!rates) {
		bench_error(args->spec->name, "malloc", ENOMEM);
		return 1;
	}
	team = bench_team_create(args, kind, true);
	if (!team || bench_team_start(team, fn, ctx))
		goto out;

	sampled = sample_rates(team, args, rates);
	bench_team_stop(team);
	if (bench_team_wait(team) || sampled)
		goto out;
	/* Workers have exited, so the total is final. */
	if (args->ops_file && bench_write_ops_file(args, bench_team_total(team)))
		goto out;
	/*
	 * Each worker does one operation at a time, so over an interval it
	 * spends cpus / rate seconds per operation on average.
	 */
	if (per_worker_ns)
		for (int k = 0; k < args->intervals; k++)
			rates[k] = rates[k] > 0 ? args->cpus * 1e9 / rates[k] :
						  INFINITY;
	status = bench_report(args, metric, rates, args->intervals) ? 1 : 0;
out:
	bench_team_destroy(team);
	free(rates);
	return status;
}

int bench_run_sampled(const struct bench_args *args, enum bench_team_kind kind,
		      bench_worker_fn fn, void *ctx, const char *metric)
{
	return run_sampled(args, kind, fn, ctx, metric, false);
}

int bench_run_sampled_ns(const struct bench_args *args,
			 enum bench_team_kind kind, bench_worker_fn fn,
			 void *ctx, const char *metric)
{
	return run_sampled(args, kind, fn, ctx, metric, true);
}
