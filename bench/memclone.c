// SPDX-License-Identifier: GPL-2.0
/*
 * memclone: Corey figure 7a.  Every worker maps a region of its own and
 * write-faults it in; with threads all of those faults go through one
 * shared address space, with processes each has its own.
 *
 * Modes, as (worker, memory): threads and processes on anonymous memory;
 * threads-shm, threads on a shmem memfd each, the like-for-like peer of
 * corey; and corey, processes started by corey_cfork() whose region is an
 * address range of their own.  The paper's Corey line is "separate
 * address spaces but with the arrays mapped via shared address ranges", and
 * that is what is measured here: private anonymous memory in a cfork'd
 * process would be the processes mode again under another name, whereas
 * a range is memory that could be shared, and the point of the figure is
 * that it costs nothing extra while used by one core (no global lock or
 * shared counter in its fault path).  Its faults are shmem faults, dearer
 * than anonymous ones, which is why threads-shm is in the table; the goal
 * is judged on scaling, within the mode.
 */
#include <errno.h>
#include <stdlib.h>

#include "bench_cli.h"
#include "bench_err.h"
#include "bench_ar.h"
#include "bench_mem.h"
#include "bench_region.h"
#include "bench_report.h"
#include "bench_team.h"
#include "bench_time.h"

enum { OPT_MB };

/* One worker's touch phase in one repetition. */
struct touch_sample {
	/* Padded: workers write their own samples at the same moments. */
	_Alignas(64) int64_t start_ns;
	int64_t end_ns;
	long minflt;
};

/* Shared with the workers, so it lives in a MAP_SHARED area. */
struct memclone_ctx {
	size_t region_bytes;
	enum bench_region_kind region_kind;
	int nr_workers;
	struct touch_sample samples[];	/* [repetition][worker] */
};

static struct touch_sample *sample_of(struct memclone_ctx *ctx, int rep,
				      int worker)
{
	return &ctx->samples[rep * ctx->nr_workers + worker];
}

/*
 * The barrier after the touch keeps one worker's munmap, which takes the
 * shared mmap lock in thread mode, out of the others' timed phase.
 */
static int touch_once(struct bench_worker *w, struct memclone_ctx *ctx,
		      struct touch_sample *s)
{
	int who = bench_worker_rusage_who(w);
	int64_t start_ns, end_ns;
	struct bench_region region;
	const char *what;
	long before, after;
	int err, uerr;

	err = bench_region_map(&region, ctx->region_kind, ctx->region_bytes,
			       &what);
	if (err)
		return bench_worker_fail(w, what, -err);
	err = bench_worker_sync(w);
	if (err)
		goto out;
	/*
	 * Read the fault count only after the barrier: a forked worker's
	 * first use of the shared barrier page and of deeper stack pages
	 * (copy-on-write after fork) faults, and is not part of the touch.
	 */
	err = bench_minflt(who, &before);
	if (err) {
		bench_worker_fail(w, "getrusage", -err);
		goto out;
	}

	start_ns = bench_now_ns();
	bench_touch_pages(region.addr, ctx->region_bytes);
	end_ns = bench_now_ns();

	err = bench_minflt(who, &after);
	if (err) {
		bench_worker_fail(w, "getrusage", -err);
		goto out;
	}
	/*
	 * Stored only now: the first write to the shared sample page faults
	 * in a forked worker and must not be counted as a touch fault.
	 */
	s->start_ns = start_ns;
	s->end_ns = end_ns;
	s->minflt = after - before;
	err = bench_worker_sync(w);
out:
	uerr = bench_region_unmap(&region, &what);
	if (uerr && !err)
		err = bench_worker_fail(w, what, -uerr);
	return err ? -1 : 0;
}

static int memclone_worker(struct bench_worker *w, void *arg)
{
	struct memclone_ctx *ctx = arg;
	const struct bench_args *args = bench_worker_args(w);

	/*
	 * Repetition 0 is a warm-up that is not reported: the first pass
	 * through a fresh VM also pays for the page allocator's per-CPU
	 * lists and the slab caches filling up.
	 */
	for (int rep = 0; rep <= args->intervals; rep++)
		if (touch_once(w, ctx, sample_of(ctx, rep,
						 bench_worker_index(w))))
			return -1;
	return 0;
}

/*
 * A repetition lasts from the first worker's start to the last one's
 * end: the start barrier releases everyone together, and ideal scaling
 * keeps this time flat as workers are added.
 */
static int report(const struct bench_args *args, struct memclone_ctx *ctx)
{
	double pages = (double)(ctx->region_bytes / BENCH_PAGE_SIZE);
	double *ns_per_page = calloc(args->intervals, sizeof(double));
	double *minflt_per_page = calloc(args->intervals, sizeof(double));
	int status = 1;

	if (!ns_per_page || !minflt_per_page) {
		bench_error(args->spec->name, "malloc", ENOMEM);
		goto out;
	}
	for (int rep = 0; rep < args->intervals; rep++) {
		int64_t start = INT64_MAX, end = INT64_MIN;
		long minflt = 0;

		for (int i = 0; i < ctx->nr_workers; i++) {
			const struct touch_sample *s =
				sample_of(ctx, rep + 1, i);

			start = s->start_ns < start ? s->start_ns : start;
			end = s->end_ns > end ? s->end_ns : end;
			minflt += s->minflt;
		}
		ns_per_page[rep] = (double)(end - start) / pages;
		minflt_per_page[rep] = (double)minflt /
				       (pages * ctx->nr_workers);
	}
	if (bench_report(args, "ns_per_page", ns_per_page, args->intervals) ||
	    bench_report(args, "minflt_per_page", minflt_per_page,
			 args->intervals))
		goto out;
	status = 0;
out:
	free(ns_per_page);
	free(minflt_per_page);
	return status;
}

static int run(const struct bench_args *args, enum bench_team_kind kind,
	       enum bench_region_kind region_kind)
{
	size_t ctx_len = sizeof(struct memclone_ctx) +
			 (size_t)(args->intervals + 1) * args->cpus *
			 sizeof(struct touch_sample);
	struct memclone_ctx *ctx = bench_alloc_shared(ctx_len);
	struct bench_team *team = NULL;
	int status = 1;

	if (!ctx) {
		bench_error(args->spec->name, "mmap", errno);
		return 1;
	}
	ctx->region_bytes = (size_t)args->option[OPT_MB] * BENCH_MIB;
	ctx->region_kind = region_kind;
	ctx->nr_workers = args->cpus;

	team = bench_team_create(args, kind, false);
	if (!team || bench_team_start(team, memclone_worker, ctx))
		goto out;
	if (bench_team_wait(team) == 0)
		status = report(args, ctx);
out:
	bench_team_destroy(team);
	bench_free_shared(ctx, ctx_len);
	return status;
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
	{ "threads", "workers are threads, all regions (anonymous) in one "
		     "address space", run_threads },
	{ "threads-shm", "workers are threads, each region a shmem memfd "
			 "mapped MAP_SHARED, all in one address space",
	  run_threads_shm },
	{ "processes", "workers are forked processes, one address space each, "
		       "anonymous regions", run_processes },
	{ "corey", "workers are processes started by corey_cfork(), each "
		   "region an address range of the worker's own (needs "
		   "CONFIG_COREY_ADDR_RANGE; --mb even)", run_corey },
};

static const struct bench_option options[] = {
	[OPT_MB] = { "mb", "MB", "size of each worker's region in MiB",
		     100, 1 << 20 },
};

static const struct bench_metric metrics[] = {
	{ "ns_per_page", "wall time of a repetition's touch phase (first "
			 "worker's start to last worker's end) / pages per "
			 "worker; flat under ideal scaling" },
	{ "minflt_per_page", "minor faults taken by all workers during the "
			     "touch / pages touched by all workers" },
};

static const struct bench_spec spec = {
	.name = "memclone",
	.purpose = "each worker maps a region of its own and write-touches "
		   "every 4 KiB page (Corey fig. 7a)",
	.modes = modes,
	.nr_modes = BENCH_ARRAY_SIZE(modes),
	.options = options,
	.nr_options = BENCH_ARRAY_SIZE(options),
	.metrics = metrics,
	.nr_metrics = BENCH_ARRAY_SIZE(metrics),
	.sampled = false,
};

int main(int argc, char **argv)
{
	return bench_main(&spec, argc, argv);
}
