// SPDX-License-Identifier: GPL-2.0
/*
 * dupclose: Corey figure 1 (will-it-scale dup1).  Every worker dups and
 * closes an fd of its own; with threads all of them allocate from one
 * shared fd table, with processes each has its own.
 */
#include <errno.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "bench_cli.h"
#include "bench_sampler.h"
#include "bench_team.h"
#include "dupclose.h"

#define METRIC	"ops_per_sec"

/*
 * An eventfd rather than open("/dev/null"): it needs no filesystem, so
 * the benchmark runs the same in any initramfs.
 */
static int dup_close_worker(struct bench_worker *w, void *ctx)
{
	uint64_t ops = 0;
	int fd, err = 0;

	(void)ctx;
	fd = eventfd(0, EFD_CLOEXEC);
	if (fd == -1)
		return bench_worker_fail(w, "eventfd", errno);
	if (bench_worker_sync(w))
		goto out;

	while (!bench_worker_stopping(w)) {
		int copy = dup(fd);

		if (copy == -1) {
			err = bench_worker_fail(w, "dup", errno);
			goto out;
		}
		if (close(copy) == -1) {
			err = bench_worker_fail(w, "close", errno);
			goto out;
		}
		bench_worker_publish(w, ++ops);
	}
out:
	if (close(fd) == -1 && !err)
		err = bench_worker_fail(w, "close", errno);
	return err;
}

static int run_threads(const struct bench_args *args)
{
	return bench_run_sampled(args, BENCH_TEAM_THREADS, dup_close_worker,
				 NULL, METRIC);
}

static int run_processes(const struct bench_args *args)
{
	return bench_run_sampled(args, BENCH_TEAM_PROCESSES, dup_close_worker,
				 NULL, METRIC);
}

static int run_uring(const struct bench_args *args)
{
	if (dupclose_uring_probe(args))
		return 1;
	return bench_run_sampled(args, BENCH_TEAM_THREADS,
				 dupclose_uring_worker, NULL, METRIC);
}

static const struct bench_mode modes[] = {
	{ "threads", "workers are threads of one process, sharing its fd table",
	  run_threads },
	{ "processes", "workers are forked processes, one fd table each",
	  run_processes },
	{ "uring", "threads; dup/close through a private io_uring direct "
		   "descriptor table each", run_uring },
};

static const struct bench_metric metrics[] = {
	{ METRIC, "dup+close pairs per second, summed over all workers "
		  "(uring: one IORING_OP_FILES_UPDATE + one close_direct)" },
};

static const struct bench_spec spec = {
	.name = "dupclose",
	.purpose = "each worker dups and closes its own fd in a tight loop "
		   "(Corey fig. 1, will-it-scale dup1)",
	.modes = modes,
	.nr_modes = BENCH_ARRAY_SIZE(modes),
	.metrics = metrics,
	.nr_metrics = BENCH_ARRAY_SIZE(metrics),
	.sampled = true,
};

int main(int argc, char **argv)
{
	return bench_main(&spec, argc, argv);
}
