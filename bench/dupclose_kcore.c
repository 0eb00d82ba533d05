// SPDX-License-Identifier: GPL-2.0
/*
 * The kcore mode of dupclose: every worker hands its dup and its close to
 * one kernel core (Corey's kernel core, a thread that runs only in the
 * kernel on a CPU of its own), each on the worker's own ring.  The
 * process's descriptor table and its lock are then only ever taken on the
 * kernel core's CPU, so they stay in its cache whatever the number of
 * workers; what crosses CPUs instead is each request's ring slot.
 *
 * Both calls are synchronous (corey_kcore_syscall(): post, wait, reap):
 * the close needs the dup's result, and this is the drop-in use a program
 * would make of it.  Batching would hide the round trip this mode is here
 * to show.
 */
#include <errno.h>
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

struct kcore_ctx {
	struct corey_kcore *kc;
	int cpu;		/* the kernel core's */
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
	char who[64];
	int err = bench_kcore_call(r, SYS_dup, args, &res);

	if (err)
		return bench_worker_fail(w, "dup through the kernel core", -err);
	snprintf(who, sizeof(who), "%s: worker %d",
		 bench_worker_args(w)->spec->name, bench_worker_index(w));
	if (bench_kcore_check_done(who, "dup", &res))
		return bench_worker_abort(w);
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
	err = kcore_loop(w, r, fd);
	if (bench_kcore_worker_detach(w, r))
		err = -1;
	if (close(fd) == -1 && !err)
		err = bench_worker_fail(w, "close", errno);
	return err;
}

int dupclose_run_kcore(const struct bench_args *args)
{
	struct kcore_ctx ctx;
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
