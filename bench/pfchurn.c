// SPDX-License-Identifier: GPL-2.0
/*
 * pfchurn: page-fault throughput under address-space churn.  Every worker
 * repeatedly maps a private anonymous region, write-faults every page of
 * it and unmaps it again; with threads, all of that mmap/munmap/fault
 * traffic goes through one shared address space.
 */
#include <errno.h>
#include <sys/mman.h>

#include "bench_cli.h"
#include "bench_mem.h"
#include "bench_sampler.h"
#include "bench_team.h"

enum { OPT_MB };

#define METRIC		"pages_per_sec"

/*
 * Publish progress every this many pages, so the sampler sees smooth
 * progress even when one region takes longer than an interval.
 */
#define PUBLISH_PAGES	256
#define CHUNK_BYTES	(PUBLISH_PAGES * BENCH_PAGE_SIZE)

/* Returns 0 if the region was fully touched, 1 if told to stop, or -1. */
static int churn_once(struct bench_worker *w, size_t bytes, uint64_t *pages)
{
	void *region = mmap(NULL, bytes, PROT_READ | PROT_WRITE,
			    MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	int ret = 0, err;

	if (region == MAP_FAILED)
		return bench_worker_fail(w, "mmap", errno);
	err = bench_no_thp(region, bytes);
	if (err) {
		ret = bench_worker_fail(w, "madvise", -err);
		goto out;
	}
	for (size_t off = 0; off < bytes; off += CHUNK_BYTES) {
		size_t len = bytes - off < CHUNK_BYTES ? bytes - off : CHUNK_BYTES;

		bench_touch_pages((char *)region + off, len);
		*pages += len / BENCH_PAGE_SIZE;
		bench_worker_publish(w, *pages);
		if (bench_worker_stopping(w)) {
			ret = 1;
			break;
		}
	}
out:
	if (munmap(region, bytes) == -1 && ret >= 0)
		ret = bench_worker_fail(w, "munmap", errno);
	return ret;
}

static int pfchurn_worker(struct bench_worker *w, void *ctx)
{
	size_t bytes = (size_t)bench_worker_args(w)->option[OPT_MB] * BENCH_MIB;
	uint64_t pages = 0;
	int ret = 0;

	(void)ctx;
	if (bench_worker_sync(w))
		return -1;
	while (ret == 0 && !bench_worker_stopping(w))
		ret = churn_once(w, bytes, &pages);
	return ret < 0 ? -1 : 0;
}

static int run_threads(const struct bench_args *args)
{
	return bench_run_sampled(args, BENCH_TEAM_THREADS, pfchurn_worker,
				 NULL, METRIC);
}

static int run_processes(const struct bench_args *args)
{
	return bench_run_sampled(args, BENCH_TEAM_PROCESSES, pfchurn_worker,
				 NULL, METRIC);
}

static const struct bench_mode modes[] = {
	{ "threads", "workers are threads sharing one address space",
	  run_threads },
	{ "processes", "workers are forked processes, one address space each",
	  run_processes },
};

static const struct bench_option options[] = {
	[OPT_MB] = { "mb", "MB", "size of the region each worker maps per "
			   "iteration, in MiB", 16, 1 << 20 },
};

static const struct bench_metric metrics[] = {
	{ METRIC, "pages write-touched per second (each one a fresh "
		  "anonymous page fault), summed over all workers" },
};

static const struct bench_spec spec = {
	.name = "pfchurn",
	.purpose = "each worker loops: mmap a private anonymous region, "
		   "write-touch every 4 KiB page, munmap",
	.modes = modes,
	.nr_modes = BENCH_ARRAY_SIZE(modes),
	.options = options,
	.nr_options = BENCH_ARRAY_SIZE(options),
	.metrics = metrics,
	.nr_metrics = BENCH_ARRAY_SIZE(metrics),
	.sampled = true,
};

int main(int argc, char **argv)
{
	return bench_main(&spec, argc, argv);
}
