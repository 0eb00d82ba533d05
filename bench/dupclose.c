// SPDX-License-Identifier: GPL-2.0
/*
 * dupclose: Corey figure 1 (will-it-scale dup1).  Every worker dups and
 * closes an fd of its own; with threads all of them allocate from one
 * shared fd table, with processes each has its own, with shares each
 * thread has a private table beside the shared one.
 */
#include <errno.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "bench_cli.h"
#include "bench_sampler.h"
#include "bench_team.h"
#include "dupclose.h"

int dupclose_loop(struct bench_worker *w, int fd)
{
	uint64_t ops = 0;

	if (bench_worker_sync(w))
		return -1;
	while (!bench_worker_stopping(w)) {
		int copy = dup(fd);

		if (copy == -1)
			return bench_worker_fail(w, "dup", errno);
		if (close(copy) == -1)
			return bench_worker_fail(w, "close", errno);
		bench_worker_publish(w, ++ops);
	}
	return 0;
}

/*
 * An eventfd rather than open("/dev/null"): it needs no filesystem, so
 * the benchmark runs the same in any initramfs.  One per worker, never a
 * shared one: dup takes a reference on the file, and a file shared by all
 * workers would bounce its reference count whatever the tables do.
 */
int dupclose_worker(struct bench_worker *w, void *ctx)
{
	int fd, err;

	(void)ctx;
	fd = eventfd(0, EFD_CLOEXEC);
	if (fd == -1)
		return bench_worker_fail(w, "eventfd", errno);
	err = dupclose_loop(w, fd);
	if (close(fd) == -1 && !err)
		err = bench_worker_fail(w, "close", errno);
	return err;
}

static int run_threads(const struct bench_args *args)
{
	return bench_run_sampled(args, BENCH_TEAM_THREADS, dupclose_worker,
				 NULL, DUPCLOSE_METRIC);
}

static int run_processes(const struct bench_args *args)
{
	return bench_run_sampled(args, BENCH_TEAM_PROCESSES, dupclose_worker,
				 NULL, DUPCLOSE_METRIC);
}

static int run_uring(const struct bench_args *args)
{
	if (dupclose_uring_probe(args))
		return 1;
	return bench_run_sampled(args, BENCH_TEAM_THREADS,
				 dupclose_uring_worker, NULL, DUPCLOSE_METRIC);
}

static const struct bench_mode modes[] = {
	{ "threads", "workers are threads of one process, sharing its fd table",
	  run_threads },
	{ "processes", "workers are forked processes, one fd table each",
	  run_processes },
	{ "uring", "threads; dup/close through a private io_uring direct "
		   "descriptor table each", run_uring },
	{ "shares", "threads; each creates a private descriptor share, makes "
		    "it its default allocation share and runs the threads loop "
		    "in it (needs CONFIG_COREY_SHARES)", dupclose_run_shares },
	{ "corey-run", "the unmodified threads loop in the dynamically linked "
		       "copy dupclose-dyn, started under corey-run ($COREY_RUN, "
		       "default /bin/corey-run), which gives every new thread a "
		       "private default share (needs CONFIG_COREY_SHARES)",
	  dupclose_run_corey_run },
	{ "kcore", "threads; each posts its dup and its close, synchronously, "
		   "on a ring of its own to one kernel core on the last CPU, "
		   "which makes the calls (needs the corey_kcore module)",
	  dupclose_run_kcore },
	{ "kcore-batch", "as kcore, but each worker keeps its ring full of "
			 "dup3(fd, own target) + close(target) pairs and only "
			 "reaps (needs the corey_kcore module)",
	  dupclose_run_kcore_batch },
};

static const struct bench_metric metrics[] = {
	{ DUPCLOSE_METRIC, "dup+close pairs per second, summed over all "
			   "workers (uring: one IORING_OP_FILES_UPDATE + one "
			   "close_direct)" },
};

static const char *const notes[] = {
	"kcore: the kernel core runs on the last CPU of the affinity mask.  "
	"With fewer workers than CPUs that CPU is its own, as Corey dedicates "
	"a core to it; --cpus N then occupies N + 1 CPUs.  With as many "
	"workers as CPUs (--cpus 2 on 2 CPUs) it shares the last worker's "
	"CPU, and that worker waits for its calls by sleeping "
	"(COREY_KCORE_BLOCK) rather than spinning on the CPU the kernel core "
	"needs; the other workers spin on their ring slot.",
	NULL,
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
	.notes = notes,
};

int main(int argc, char **argv)
{
	return bench_main(&spec, argc, argv);
}
