// SPDX-License-Identifier: GPL-2.0
/*
 * The kcore mode of dupclose: every worker hands its dup and its close to
 * one kernel core (Corey's kernel core, a thread that runs only in the
 * kernel on a CPU of its own), each on the worker's own ring.  The
 * process's descriptor table and its lock are then only ever taken on the
 * kernel core's CPU, so they stay in its cache whatever the number of
 * workers; what crosses CPUs instead is each request's ring slot.
 *
 * Mode kcore: both calls are synchronous (corey_kcore_syscall(): post,
 * wait, reap): the close needs the dup's result, and this is the drop-in
 * use a program would make of it; every pair pays two round trips.
 *
 * Mode kcore-batch: what a program written for kernel cores would do.  The
 * close cannot name the dup's result before it exists, so each worker
 * duplicates onto a number of its own with dup3(fd, target, 0) and closes
 * the target; a ring runs in order, so the worker keeps the ring full
 * (up to KCORE_BATCH_PAIRS pairs in flight) and only reaps.  dup3 onto a
 * fixed number skips dup's search for the lowest free slot, and the
 * table's lock is taken as often as by dup+close.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <sys/eventfd.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "bench_err.h"
#include "bench_kcore.h"
#include "bench_sampler.h"
#include "dupclose.h"

/* Workers never leave the kernel core idle long enough to make it sleep. */
#define KCORE_IDLE_US	1000000
/* Pairs in flight per ring in kcore-batch: the whole ring. */
#define KCORE_BATCH_PAIRS	(COREY_KCORE_RING_SLOTS / 2)
/* Worker i duplicates onto KCORE_BATCH_FD_BASE + i: far above its own fds. */
#define KCORE_BATCH_FD_BASE	512

struct kcore_ctx {
	struct corey_kcore *kc;
	int cpu;		/* the kernel core's */
	bool batch;		/* kcore-batch */
};

/*
 * Once, before the barrier: a dup that the kernel core handed back
 * (FALLBACK) would be made by the worker itself, and this mode would
 * measure the threads mode plus a ring round trip.
 */
static int check_served(struct bench_worker *w, struct corey_kcore_ring *r,
			int fd)
{
	unsigned long args[6] = { (unsigned long)fd };
	struct corey_kcore_result res;
	int err = bench_kcore_call(r, SYS_dup, args, &res);

	if (err)
		return bench_worker_fail(w, "dup through the kernel core", -err);
	if (bench_kcore_worker_check_done(w, "dup", &res))
		return -1;
	if (res.ret < 0)
		return bench_worker_fail(w, "dup through the kernel core",
					 res.err);
	if (close((int)res.ret) == -1)
		return bench_worker_fail(w, "close", errno);
	return 0;
}

static int kcore_loop(struct bench_worker *w, struct corey_kcore_ring *r,
		      int fd)
{
	uint64_t ops = 0;

	if (check_served(w, r, fd) || bench_worker_sync(w))
		return -1;
	while (!bench_worker_stopping(w)) {
		long copy = corey_kcore_syscall(r, SYS_dup, (long)fd);

		if (copy == -1)
			return bench_worker_fail(w, "dup through the kernel "
						 "core", errno);
		if (corey_kcore_syscall(r, SYS_close, copy) == -1)
			return bench_worker_fail(w, "close through the kernel "
						 "core", errno);
		bench_worker_publish(w, ++ops);
	}
	return 0;
}

static int reap_done(struct bench_worker *w, struct corey_kcore_ring *r,
		     const char *call)
{
	struct corey_kcore_result res;

	while (corey_kcore_reap(r, &res, 0) == -1)
		if (errno != EINTR)
			return bench_worker_fail(w, call, errno);
	if (bench_kcore_worker_check_done(w, call, &res))
		return -1;
	if (res.ret < 0)
		return bench_worker_fail(w, call, res.err);
	return 0;
}

/* Post dup3(fd, target) and close(target), reaping when the ring is full. */
static int post_pair(struct bench_worker *w, struct corey_kcore_ring *r,
		     int fd, int target, unsigned int *in_flight)
{
	unsigned long dup_args[6] = { (unsigned long)fd, (unsigned long)target };
	unsigned long close_args[6] = { (unsigned long)target };

	if (*in_flight == KCORE_BATCH_PAIRS) {
		if (reap_done(w, r, "dup3 through the kernel core") ||
		    reap_done(w, r, "close through the kernel core"))
			return -1;
		--*in_flight;
	}
	if (corey_kcore_submit(r, SYS_dup3, dup_args, 0) == -1 ||
	    corey_kcore_submit(r, SYS_close, close_args, 0) == -1)
		return bench_worker_fail(w, "posting to the kernel core", errno);
	++*in_flight;
	return 0;
}

static int kcore_batch_loop(struct bench_worker *w, struct corey_kcore_ring *r,
			    int fd)
{
	int target = KCORE_BATCH_FD_BASE + bench_worker_index(w);
	unsigned int in_flight = 0;
	uint64_t ops = 0;

	if (check_served(w, r, fd) || bench_worker_sync(w))
		return -1;
	while (!bench_worker_stopping(w)) {
		uint64_t before = in_flight;

		if (post_pair(w, r, fd, target, &in_flight))
			return -1;
		/* A full ring reaped one pair to post this one. */
		if (in_flight == before)
			bench_worker_publish(w, ++ops);
	}
	while (in_flight--)
		if (reap_done(w, r, "dup3 through the kernel core") ||
		    reap_done(w, r, "close through the kernel core"))
			return -1;
	return 0;
}

/* The eventfd is the worker's own, as in the other modes. */
static int kcore_worker(struct bench_worker *w, void *arg)
{
	struct kcore_ctx *ctx = arg;
	struct corey_kcore_ring *r;
	int fd, err;

	fd = eventfd(0, EFD_CLOEXEC);
	if (fd == -1)
		return bench_worker_fail(w, "eventfd", errno);
	r = bench_kcore_worker_attach(w, ctx->kc, ctx->cpu);
	if (!r) {
		close(fd);
		return -1;
	}
	err = ctx->batch ? kcore_batch_loop(w, r, fd) : kcore_loop(w, r, fd);
	if (bench_kcore_worker_detach(w, r))
		err = -1;
	if (close(fd) == -1 && !err)
		err = bench_worker_fail(w, "close", errno);
	return err;
}

static int run_kcore(const struct bench_args *args, bool batch)
{
	struct kcore_ctx ctx = { .batch = batch };
	int status = bench_kcore_probe(args);

	if (status)
		return status;
	ctx.cpu = bench_kcore_team_cpu(args);
	if (ctx.cpu < 0)
		return 1;
	ctx.kc = bench_kcore_open(args, ctx.cpu, args->cpus, KCORE_IDLE_US);
	if (!ctx.kc)
		return 1;
	status = bench_run_sampled(args, BENCH_TEAM_THREADS, kcore_worker, &ctx,
				   DUPCLOSE_METRIC);
	if (corey_kcore_close(ctx.kc) == -1 && !status) {
		bench_error(args->spec->name, "corey_kcore_close", errno);
		status = 1;
	}
	return status;
}

int dupclose_run_kcore(const struct bench_args *args)
{
	return run_kcore(args, false);
}

int dupclose_run_kcore_batch(const struct bench_args *args)
{
	return run_kcore(args, true);
}
