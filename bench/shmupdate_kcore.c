// SPDX-License-Identifier: GPL-2.0
/*
 * The kcore mode of shmupdate: the message-passing case.  Every worker
 * posts its update, a pwrite64 of the shared state, on a ring of its own
 * to one kernel core and waits for the reply; only the kernel core's CPU
 * ever writes the state's page or takes the file's lock.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "bench_err.h"
#include "bench_kcore.h"
#include "shmupdate.h"

/* Workers never leave the kernel core idle long enough to make it sleep. */
#define KCORE_IDLE_US	1000000
#define HOW		"pwrite64 through the kernel core"

struct kcore_ctx {
	struct corey_kcore *kc;
	int cpu;		/* the kernel core's */
	int fd;			/* the shared state */
};

/*
 * Once, before the barrier: an update the kernel core handed back
 * (FALLBACK) would be written by the worker itself, which is the pwrite
 * mode plus a round trip, not message passing.
 */
static int check_served(struct bench_worker *w, struct corey_kcore_ring *r,
			const struct kcore_ctx *ctx, const unsigned char *src)
{
	unsigned long args[6] = {
		(unsigned long)ctx->fd, (unsigned long)src,
		shmupdate_bytes(bench_worker_args(w)), 0,
	};
	struct corey_kcore_result res;
	int err = bench_kcore_call(r, SYS_pwrite64, args, &res);

	if (err)
		return bench_worker_fail(w, HOW, -err);
	if (bench_kcore_worker_check_done(w, "pwrite64", &res))
		return -1;
	errno = res.err;
	return shmupdate_check_written(w, res.ret, HOW);
}

static int kcore_loop(struct bench_worker *w, struct corey_kcore_ring *r,
		      const struct kcore_ctx *ctx, const unsigned char *src)
{
	long len = (long)shmupdate_bytes(bench_worker_args(w));
	uint64_t ops = 0;

	if (check_served(w, r, ctx, src) || bench_worker_sync(w))
		return -1;
	while (!bench_worker_stopping(w)) {
		long ret = corey_kcore_syscall(r, SYS_pwrite64, (long)ctx->fd,
					       (long)src, len, 0L);

		if (shmupdate_check_written(w, ret, HOW))
			return -1;
		bench_worker_publish(w, ++ops);
	}
	return 0;
}

static int kcore_worker(struct bench_worker *w, void *arg)
{
	struct kcore_ctx *ctx = arg;
	unsigned char *src = shmupdate_source(w);
	struct corey_kcore_ring *r;
	int err;

	if (!src)
		return -1;
	r = bench_kcore_worker_attach(w, ctx->kc, ctx->cpu);
	if (!r) {
		free(src);
		return -1;
	}
	err = kcore_loop(w, r, ctx, src);
	if (bench_kcore_worker_detach(w, r))
		err = -1;
	free(src);
	return err;
}

int shmupdate_run_kcore(const struct bench_args *args)
{
	struct kcore_ctx ctx;
	int status = bench_kcore_probe(args);

	if (status)
		return status;
	ctx.cpu = bench_kcore_team_cpu(args);
	if (ctx.cpu < 0)
		return 1;
	ctx.fd = shmupdate_file_open(args);
	if (ctx.fd == -1)
		return 1;
	ctx.kc = bench_kcore_open(args, ctx.cpu, args->cpus, KCORE_IDLE_US);
	if (!ctx.kc) {
		close(ctx.fd);
		return 1;
	}
	status = shmupdate_run(args, kcore_worker, &ctx);
	if (corey_kcore_close(ctx.kc) == -1 && !status) {
		bench_error(args->spec->name, "corey_kcore_close", errno);
		status = 1;
	}
	if (!status && shmupdate_file_check(args, ctx.fd))
		status = 1;
	close(ctx.fd);
	return status;
}
