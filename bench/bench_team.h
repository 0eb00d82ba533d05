/* SPDX-License-Identifier: GPL-2.0 */
/*
 * A team of N pinned workers run as threads of this process, as forked
 * processes or as processes started with libcorey's corey_cfork(), with the
 * same worker code for all three.
 *
 * The team provides what every benchmark needs around its workers: pinning
 * worker i to args->cpu_ids[i], a start barrier, a stop flag, one padded
 * progress counter per worker and failure propagation.  In the process kinds
 * the workers see the main process's memory as it was at fork time, so @ctx and
 * anything reachable from it that workers write must be in shared memory
 * (bench_alloc_shared()).
 */
#ifndef BENCH_TEAM_H
#define BENCH_TEAM_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include "bench_cli.h"

enum bench_team_kind {
	BENCH_TEAM_THREADS,
	BENCH_TEAM_PROCESSES,
	/*
	 * Corey's model: one process per core, each started pinned by
	 * corey_cfork() (a fork that keeps no address range of the caller's
	 * unless asked to; these teams ask for none).  Only on a kernel
	 * with address ranges: check with bench_ar_probe() first.
	 */
	BENCH_TEAM_COREY,
};

struct bench_team;
struct bench_worker;

/* Returns 0 on success, -1 after a failure (see bench_worker_fail()). */
typedef int (*bench_worker_fn)(struct bench_worker *w, void *ctx);

/*
 * Allocate a team of args->cpus workers.  With @main_in_barrier the main
 * thread is one more party of the barrier and must call bench_team_sync()
 * wherever the workers call bench_worker_sync().
 * Returns NULL after reporting the error.
 */
struct bench_team *bench_team_create(const struct bench_args *args,
				     enum bench_team_kind kind,
				     bool main_in_barrier);

/* Start all workers running @fn.  Returns 0, or -1 after reporting. */
int bench_team_start(struct bench_team *team, bench_worker_fn fn, void *ctx);

/* Wait for all workers.  Returns 0 if every one of them succeeded. */
int bench_team_wait(struct bench_team *team);

void bench_team_destroy(struct bench_team *team);

/* The main thread's side of the barrier (main_in_barrier teams only). */
int bench_team_sync(struct bench_team *team);

/* Ask workers polling bench_worker_stopping() to finish. */
void bench_team_stop(struct bench_team *team);

/*
 * Mark the team failed and release every worker from its waits, e.g.
 * when the main thread cannot provide what the workers wait for.
 */
void bench_team_abort(struct bench_team *team);

bool bench_team_failed(const struct bench_team *team);

/* Sum of all workers' published counters. */
uint64_t bench_team_total(const struct bench_team *team);

/* Worker side. */
int bench_worker_index(const struct bench_worker *w);
const struct bench_args *bench_worker_args(const struct bench_worker *w);

/* RUSAGE_THREAD or RUSAGE_SELF: whichever covers exactly this worker. */
int bench_worker_rusage_who(const struct bench_worker *w);

/* Barrier among the team.  Returns -1 if the team has failed. */
int bench_worker_sync(struct bench_worker *w);

bool bench_worker_stopping(const struct bench_worker *w);

/* Publish this worker's running total for bench_team_total(). */
void bench_worker_publish(struct bench_worker *w, uint64_t total);

/* Set when any worker fails; for custom waits such as bench_spin_for(). */
const atomic_int *bench_worker_abort_flag(const struct bench_worker *w);

/*
 * Report "NAME: worker I: WHAT: strerror(err)", mark the team failed so
 * the others stop waiting, and return -1 for the worker to return.
 */
int bench_worker_fail(struct bench_worker *w, const char *what, int err);

/* Like bench_worker_fail() for a worker that has already reported. */
int bench_worker_abort(struct bench_worker *w);

#endif /* BENCH_TEAM_H */
