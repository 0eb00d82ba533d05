// SPDX-License-Identifier: GPL-2.0
/*
 * pfchurn: page-fault throughput under address-space churn.  Every worker
 * repeatedly maps a fresh region, write-faults every page of it and unmaps
 * it again; with threads, all of that mmap/munmap/fault traffic goes
 * through one shared address space, and every munmap shoots down the TLBs
 * of the CPUs the others run on.
 *
 * Modes, as (worker, memory): threads and processes on anonymous memory;
 * threads-shm, threads on a fresh shmem memfd per iteration, the
 * like-for-like peer of corey; corey, processes started by corey_cfork()
 * churning a fresh address range of their own per iteration (for the
 * reason memclone.c gives: a cfork'd process on anonymous memory would be
 * the processes mode again).  A fresh file per iteration, closed after
 * the munmap, keeps every touch a zero-fill fault as with anonymous
 * memory: remapping one file would find its pages still in the page cache.
 * The memfd_create/ftruncate/close that this adds to each iteration is
 * small next to its 4096 faults (16 MiB) and is paid by both modes alike.
 */
#include "bench_ar.h"
#include "bench_cli.h"
#include "bench_mem.h"
#include "bench_region.h"
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
static int churn_once(struct bench_worker *w, enum bench_region_kind kind,
		      size_t bytes, uint64_t *pages)
{
	struct bench_region region;
	const char *what;
	int ret = 0, err;

	err = bench_region_map(&region, kind, bytes, &what);
	if (err)
		return bench_worker_fail(w, what, -err);
	for (size_t off = 0; off < bytes; off += CHUNK_BYTES) {
		size_t len = bytes - off < CHUNK_BYTES ? bytes - off : CHUNK_BYTES;

		bench_touch_pages((char *)region.addr + off, len);
		*pages += len / BENCH_PAGE_SIZE;
		bench_worker_publish(w, *pages);
		if (bench_worker_stopping(w)) {
			ret = 1;
			break;
		}
	}
	err = bench_region_unmap(&region, &what);
	if (err && ret >= 0)
		ret = bench_worker_fail(w, what, -err);
	return ret;
}

/*
 * What the workers churn, as the sampler's context: a pointer every
 * worker can read, forked ones included, since it is never written.
 */
static enum bench_region_kind region_kinds[] = {
	[BENCH_REGION_ANON] = BENCH_REGION_ANON,
	[BENCH_REGION_MEMFD] = BENCH_REGION_MEMFD,
	[BENCH_REGION_AR] = BENCH_REGION_AR,
};

static int pfchurn_worker(struct bench_worker *w, void *ctx)
{
	size_t bytes = (size_t)bench_worker_args(w)->option[OPT_MB] * BENCH_MIB;
	const enum bench_region_kind *kind = ctx;
	uint64_t pages = 0;
	int ret = 0;

	if (bench_worker_sync(w))
		return -1;
	while (ret == 0 && !bench_worker_stopping(w))
		ret = churn_once(w, *kind, bytes, &pages);
	return ret < 0 ? -1 : 0;
}

static int run(const struct bench_args *args, enum bench_team_kind kind,
	       enum bench_region_kind region_kind)
{
	return bench_run_sampled(args, kind, pfchurn_worker,
				 &region_kinds[region_kind], METRIC);
}

static int run_threads(const struct bench_args *args)
{
	return run(args, BENCH_TEAM_THREADS, BENCH_REGION_ANON);
}

static int run_threads_shm(const struct bench_args *args)
{
	return run(args, BENCH_TEAM_THREADS, BENCH_REGION_MEMFD);
}

static int run_processes(const struct bench_args *args)
{
	return run(args, BENCH_TEAM_PROCESSES, BENCH_REGION_ANON);
}

static int run_corey(const struct bench_args *args)
{
	int status = bench_ar_probe(args, (size_t)args->option[OPT_MB] *
					  BENCH_MIB);

	return status ? status : run(args, BENCH_TEAM_COREY, BENCH_REGION_AR);
}

static const struct bench_mode modes[] = {
	{ "threads", "workers are threads sharing one address space, "
		     "anonymous regions", run_threads },
	{ "threads-shm", "workers are threads sharing one address space, "
			 "each region a fresh shmem memfd mapped MAP_SHARED",
	  run_threads_shm },
	{ "processes", "workers are forked processes, one address space each, "
		       "anonymous regions", run_processes },
	{ "corey", "workers are processes started by corey_cfork(), each "
		   "region a fresh address range of the worker's own (needs "
		   "CONFIG_COREY_ADDR_RANGE; --mb even)", run_corey },
};

static const struct bench_option options[] = {
	[OPT_MB] = { "mb", "MB", "size of the region each worker maps per "
			   "iteration, in MiB", 16, 1 << 20 },
};

static const struct bench_metric metrics[] = {
	{ METRIC, "pages write-touched per second (each one a zero-fill "
		  "page fault), summed over all workers" },
};

static const struct bench_spec spec = {
	.name = "pfchurn",
	.purpose = "each worker loops: map a fresh region, write-touch "
		   "every 4 KiB page, unmap",
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
