// SPDX-License-Identifier: GPL-2.0
/*
 * The kcore-idle mode of nullcall: what a kernel core costs when nobody
 * uses it.  It spins for its idle time after the last request and then
 * must sleep and use no CPU at all; its thread's CPU time, from the
 * thread's CPU-time clock and from /proc/self/task/TID/stat, shows both.
 * The spinning phase is the control: the same reading must show a CPU
 * fully used there, or a 0 when idle would prove nothing.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "bench_err.h"
#include "bench_kcore.h"
#include "bench_report.h"
#include "bench_sampler.h"
#include "bench_task.h"
#include "nullcall.h"

#define IDLE_US		500000	/* the kernel core spins this long */
#define BUSY_WINDOW_MS	200	/* well inside IDLE_US after a request */

enum { BUSY_SHARE, BUSY_TICKS, IDLE_SHARE, IDLE_TICKS, NR_SERIES };

static const char *const series_metric[NR_SERIES] = {
	[BUSY_SHARE] = "busy_cpu_share",
	[BUSY_TICKS] = "busy_ticks_per_s",
	[IDLE_SHARE] = "idle_cpu_share",
	[IDLE_TICKS] = "idle_ticks_per_s",
};

struct cpu_reading {
	int64_t wall_ns;
	int64_t cpu_ns;
	unsigned long long ticks;
};

static int read_cpu(const struct nullcall_kcore *kcc, struct cpu_reading *r)
{
	struct bench_task_stat st;
	int err = bench_task_cpu_ns(kcc->tid, &r->cpu_ns);

	if (err) {
		bench_error(kcc->name, "clock_gettime(kernel core's CPU clock)",
			    -err);
		return -1;
	}
	err = bench_task_stat(kcc->tid, &st);
	if (err) {
		bench_error(kcc->name, "/proc/self/task/TID/stat", -err);
		return -1;
	}
	r->ticks = st.ticks;
	r->wall_ns = bench_now_ns();
	return 0;
}

/* The kernel core's CPU use while the calling thread sleeps @ms. */
static int window(const struct nullcall_kcore *kcc, long ms, double *share,
		  double *ticks_per_s)
{
	struct cpu_reading a, b;
	double wall_s;

	if (read_cpu(kcc, &a))
		return -1;
	bench_sleep_until(a.wall_ns + ms * NSEC_PER_MSEC);
	if (read_cpu(kcc, &b))
		return -1;
	wall_s = (double)(b.wall_ns - a.wall_ns) / NSEC_PER_SEC;
	*share = (double)(b.cpu_ns - a.cpu_ns) / NSEC_PER_SEC / wall_s;
	*ticks_per_s = (double)(b.ticks - a.ticks) / wall_s;
	return 0;
}

static int measure(const struct bench_args *args, struct nullcall_kcore *kcc,
		   double *series[NR_SERIES])
{
	int err;

	for (int k = 0; k < args->intervals; k++)
		if (nullcall_kcore_nop(kcc) ||
		    window(kcc, BUSY_WINDOW_MS, &series[BUSY_SHARE][k],
			   &series[BUSY_TICKS][k]))
			return -1;

	err = bench_task_wait_asleep(kcc->tid, IDLE_US * 1000LL +
				     NULLCALL_SERVER_WAIT_NS);
	if (err) {
		bench_errorf(kcc->name, "the kernel core (thread %d) did not "
			     "sleep after its idle time of %d us: %s", kcc->tid,
			     IDLE_US, strerror(-err));
		return -1;
	}
	bench_sleep_until(bench_now_ns() + args->warmup_ms * NSEC_PER_MSEC);
	for (int k = 0; k < args->intervals; k++)
		if (window(kcc, args->interval_ms, &series[IDLE_SHARE][k],
			   &series[IDLE_TICKS][k]))
			return -1;
	return 0;
}

int nullcall_run_kcore_idle(const struct bench_args *args)
{
	double *series[NR_SERIES] = { NULL };
	struct nullcall_kcore kcc;
	struct nullcall_cpus c;
	int status = bench_kcore_probe(args);

	if (status)
		return status;
	status = 1;
	for (int i = 0; i < NR_SERIES; i++) {
		series[i] = calloc(args->intervals, sizeof(double));
		if (!series[i]) {
			bench_error(args->spec->name, "malloc", ENOMEM);
			goto out;
		}
	}
	if (nullcall_place(args, &c) ||
	    nullcall_kcore_open(args, &kcc, &c, IDLE_US))
		goto out;
	if (measure(args, &kcc, series)) {
		(void)nullcall_kcore_close(&kcc);
		goto out;
	}
	if (nullcall_kcore_close(&kcc))
		goto out;
	/* The requests of the run: the one at attach, then one per window. */
	if (args->ops_file && bench_write_ops_file(args, args->intervals + 1))
		goto out;
	status = 0;
	for (int i = 0; i < NR_SERIES && !status; i++)
		if (bench_report(args, series_metric[i], series[i],
				 args->intervals))
			status = 1;
out:
	for (int i = 0; i < NR_SERIES; i++)
		free(series[i]);
	return status;
}
