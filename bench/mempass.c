// SPDX-License-Identifier: GPL-2.0
/*
 * mempass: Corey figure 7b.  An owner fills a buffer and hands it to the
 * workers one after another, each writing every page of it on its own
 * CPU.  Threads share the owner's page tables and take no faults; each
 * process must map the buffer itself and fault every page in again.
 *
 * Modes, as (worker, buffer): threads on anonymous memory; threads-shm,
 * threads on a shmem memfd mapped MAP_SHARED, the like-for-like peer of
 * corey (same kind of page, same fault path for the owner's fill);
 * processes on a shmem memfd; corey, processes started by corey_cfork()
 * on an address range.  Like processes, each corey worker maps the buffer
 * itself once the owner has filled it, so the two differ only in the kind
 * of memory: corey_ar_map() links every PTE table the owner's fill made,
 * and the worker's touches should take no fault at all.
 */
#include <corey.h>
#include <errno.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <unistd.h>

#include "bench_ar.h"
#include "bench_cli.h"
#include "bench_cpu.h"
#include "bench_err.h"
#include "bench_mem.h"
#include "bench_region.h"
#include "bench_report.h"
#include "bench_sync.h"
#include "bench_team.h"
#include "bench_time.h"

enum { OPT_MB };

/* One repetition's state, shared with the workers (MAP_SHARED). */
struct mempass_ctx {
	size_t bytes;
	int nr_workers;
	enum bench_team_kind kind;
	enum bench_region_kind buf_kind;
	void *buf;		/* threads: the owner's buffer */
	int memfd;		/* memfd or address range, inherited */
	int64_t start_ns;	/* the owner starts creating the buffer */
	int64_t end_ns;		/* the last worker has finished */
	/* Polled by the waiting workers: keep it off the written fields. */
	_Alignas(64) atomic_uint turn;
	_Alignas(64) long minflt[];	/* per worker, during its touch */
};

/*
 * Processes map the memfd afresh in every repetition; nothing is
 * inherited from the owner's mapping, so every page must be faulted in.
 * A corey worker maps the address range, which links the owner's tables.
 */
static void *map_buffer(struct bench_worker *w, struct mempass_ctx *ctx)
{
	void *map;
	int err;

	if (ctx->kind == BENCH_TEAM_THREADS)
		return ctx->buf;
	if (ctx->buf_kind == BENCH_REGION_AR) {
		map = corey_ar_map(ctx->memfd, NULL, ctx->bytes, 0);
		if (map == MAP_FAILED) {
			bench_worker_fail(w, "corey_ar_map", errno);
			return NULL;
		}
		return map;
	}
	map = mmap(NULL, ctx->bytes, PROT_READ | PROT_WRITE, MAP_SHARED,
		   ctx->memfd, 0);
	if (map == MAP_FAILED) {
		bench_worker_fail(w, "mmap", errno);
		return NULL;
	}
	err = bench_no_thp(map, ctx->bytes);
	if (err) {
		bench_worker_fail(w, "madvise", -err);
		if (munmap(map, ctx->bytes) == -1)
			bench_worker_fail(w, "munmap", errno);
		return NULL;
	}
	return map;
}

static int unmap_buffer(struct bench_worker *w, struct mempass_ctx *ctx,
			void *map)
{
	if (ctx->kind == BENCH_TEAM_THREADS)
		return 0;
	if (ctx->buf_kind == BENCH_REGION_AR) {
		if (corey_ar_unmap(map, ctx->bytes) == -1)
			return bench_worker_fail(w, "corey_ar_unmap", errno);
		return 0;
	}
	if (munmap(map, ctx->bytes) == -1)
		return bench_worker_fail(w, "munmap", errno);
	return 0;
}

/*
 * Wait for our turn, touch every page, pass the buffer on.  The fault
 * counter is read right around the touch, inside the timed handoff: two
 * getrusage() calls cost far less than a page fault, whereas reading it
 * further out would also count the copy-on-write stack faults that a
 * forked worker takes in the waiting code.
 */
static int touch_in_turn(struct bench_worker *w, struct mempass_ctx *ctx,
			 void *map)
{
	int i = bench_worker_index(w);
	int who = bench_worker_rusage_who(w);
	long before, after;
	int err;

	/*
	 * Spin: every worker has its CPU to itself, and a sleeping waiter's
	 * wake-up latency would be counted as part of the handoff.
	 */
	if (bench_spin_for(&ctx->turn, i, bench_worker_abort_flag(w)))
		return -1;

	err = bench_minflt(who, &before);
	if (err)
		return bench_worker_fail(w, "getrusage", -err);
	bench_touch_pages(map, ctx->bytes);
	err = bench_minflt(who, &after);
	if (err)
		return bench_worker_fail(w, "getrusage", -err);
	if (i == ctx->nr_workers - 1)
		ctx->end_ns = bench_now_ns();
	ctx->minflt[i] = after - before;

	/* Release: the owner reads our results once all turns are done. */
	atomic_store_explicit(&ctx->turn, i + 1, memory_order_release);
	return 0;
}

static int mempass_worker(struct bench_worker *w, void *arg)
{
	struct mempass_ctx *ctx = arg;
	void *map;
	int err;

	/* The owner has filled the buffer once everyone is past this. */
	if (bench_worker_sync(w))
		return -1;
	map = map_buffer(w, ctx);
	if (!map)
		return -1;
	err = touch_in_turn(w, ctx, map);
	if (unmap_buffer(w, ctx, map))
		err = -1;
	return err;
}

/* The owner's buffer for one repetition, created fresh each time. */
struct owner_buffer {
	enum bench_region_kind kind;
	void *map;
	size_t bytes;
	int memfd;
};

static int create_buffer(const struct bench_args *args,
			 struct mempass_ctx *ctx, struct owner_buffer *ob)
{
	const char *name = args->spec->name;

	ob->kind = ctx->buf_kind;
	ob->bytes = ctx->bytes;
	ob->map = MAP_FAILED;
	ob->memfd = -1;
	if (ob->kind == BENCH_REGION_AR) {
		/* Sized by corey_ar_create(); close-on-exec like the memfd. */
		ob->memfd = corey_ar_create("mempass", ob->bytes, 0);
		if (ob->memfd == -1) {
			bench_error(name, "corey_ar_create", errno);
			return -1;
		}
	} else if (ob->kind == BENCH_REGION_MEMFD) {
		/* CLOEXEC only matters for exec: forked workers inherit it. */
		ob->memfd = memfd_create("mempass", MFD_CLOEXEC);
		if (ob->memfd == -1) {
			bench_error(name, "memfd_create", errno);
			return -1;
		}
		if (ftruncate(ob->memfd, ob->bytes) == -1) {
			bench_error(name, "ftruncate", errno);
			return -1;
		}
	}
	ctx->memfd = ob->memfd;
	return 0;
}

/*
 * Mapped only after the workers have been forked, so that no child
 * inherits the owner's populated mapping.  The clock starts here: like
 * the paper's figure 7b, the time covers allocating and first touching
 * the buffer as well as passing it through every worker, so threads and
 * processes pay the same zero-fill faults and differ only in what the
 * handoffs cost.
 */
static int fill_buffer(const struct bench_args *args, struct mempass_ctx *ctx,
		       struct owner_buffer *ob)
{
	const char *name = args->spec->name;
	int flags = ob->memfd == -1 ? MAP_PRIVATE | MAP_ANONYMOUS : MAP_SHARED;
	int err;

	ctx->start_ns = bench_now_ns();
	if (ob->kind == BENCH_REGION_AR) {
		/* 4 KiB pages by construction: no advice (bench_region.c). */
		ob->map = corey_ar_map(ob->memfd, NULL, ob->bytes, 0);
		if (ob->map == MAP_FAILED) {
			bench_error(name, "corey_ar_map", errno);
			return -1;
		}
	} else {
		ob->map = mmap(NULL, ob->bytes, PROT_READ | PROT_WRITE, flags,
			       ob->memfd, 0);
		if (ob->map == MAP_FAILED) {
			bench_error(name, "mmap", errno);
			return -1;
		}
		err = bench_no_thp(ob->map, ob->bytes);
		if (err) {
			bench_error(name, "madvise", -err);
			return -1;
		}
	}
	bench_touch_pages(ob->map, ob->bytes);
	ctx->buf = ob->map;
	return 0;
}

static int destroy_buffer(const struct bench_args *args,
			  struct owner_buffer *ob)
{
	int status = 0;

	if (ob->map != MAP_FAILED && ob->kind == BENCH_REGION_AR) {
		if (corey_ar_unmap(ob->map, ob->bytes) == -1) {
			bench_error(args->spec->name, "corey_ar_unmap", errno);
			status = -1;
		}
	} else if (ob->map != MAP_FAILED && munmap(ob->map, ob->bytes) == -1) {
		bench_error(args->spec->name, "munmap", errno);
		status = -1;
	}
	if (ob->memfd != -1 && close(ob->memfd) == -1) {
		bench_error(args->spec->name, "close", errno);
		status = -1;
	}
	return status;
}

/*
 * One repetition with a fresh buffer and freshly started workers.
 * Returns 0 with the results in @ctx, or -1 after reporting a failure.
 */
static int pass_once(const struct bench_args *args, struct mempass_ctx *ctx)
{
	struct owner_buffer ob;
	struct bench_team *team = NULL;
	int status = -1;

	atomic_store(&ctx->turn, 0);
	ctx->start_ns = 0;
	ctx->end_ns = 0;
	if (create_buffer(args, ctx, &ob))
		goto out;
	team = bench_team_create(args, ctx->kind, true);
	if (!team || bench_team_start(team, mempass_worker, ctx))
		goto out;

	if (fill_buffer(args, ctx, &ob) || bench_team_sync(team))
		bench_team_abort(team);
	if (bench_team_wait(team) == 0)
		status = 0;
out:
	bench_team_destroy(team);
	if (destroy_buffer(args, &ob))
		status = -1;
	return status;
}

static int run(const struct bench_args *args, enum bench_team_kind kind,
	       enum bench_region_kind buf_kind)
{
	size_t ctx_len = sizeof(struct mempass_ctx) +
			 args->cpus * sizeof(long);
	struct mempass_ctx *ctx = bench_alloc_shared(ctx_len);
	double *seconds = calloc(args->intervals, sizeof(double));
	double *minflt_per_page = calloc(args->intervals, sizeof(double));
	const char *name = args->spec->name;
	double pages, worst = 0;
	int err, status = 1;

	if (!ctx) {
		bench_error(name, "mmap", errno);
		goto out;
	}
	if (!seconds || !minflt_per_page) {
		bench_error(name, "malloc", ENOMEM);
		goto out;
	}
	ctx->bytes = (size_t)args->option[OPT_MB] * BENCH_MIB;
	ctx->nr_workers = args->cpus;
	ctx->kind = kind;
	ctx->buf_kind = buf_kind;
	pages = (double)(ctx->bytes / BENCH_PAGE_SIZE);

	/* The owner fills the buffer on the first CPU, where worker 0 runs. */
	err = bench_pin_self(args->cpu_ids[0]);
	if (err) {
		bench_error(name, "sched_setaffinity", -err);
		goto out;
	}

	/* A warm-up pass, not reported, as in memclone. */
	if (pass_once(args, ctx))
		goto out;
	for (int rep = 0; rep < args->intervals; rep++) {
		long minflt = 0;

		if (pass_once(args, ctx))
			goto out;
		for (int i = 0; i < ctx->nr_workers; i++) {
			minflt += ctx->minflt[i];
			if (ctx->minflt[i] / pages > worst)
				worst = ctx->minflt[i] / pages;
		}
		seconds[rep] = (double)(ctx->end_ns - ctx->start_ns) /
			       NSEC_PER_SEC;
		minflt_per_page[rep] = (double)minflt /
				       (pages * ctx->nr_workers);
	}
	if (bench_report(args, "seconds", seconds, args->intervals) ||
	    bench_report(args, "minflt_per_page", minflt_per_page,
			 args->intervals) ||
	    bench_report(args, "minflt_per_page_worst", &worst, 1))
		goto out;
	status = 0;
out:
	free(seconds);
	free(minflt_per_page);
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
	return run(args, BENCH_TEAM_PROCESSES, BENCH_REGION_MEMFD);
}

static int run_corey(const struct bench_args *args)
{
	int status = bench_ar_probe(args, (size_t)args->option[OPT_MB] *
					  BENCH_MIB);

	return status ? status : run(args, BENCH_TEAM_COREY, BENCH_REGION_AR);
}

static const struct bench_mode modes[] = {
	{ "threads", "anonymous buffer in one process, workers are threads",
	  run_threads },
	{ "threads-shm", "memfd buffer mapped MAP_SHARED in one process, "
			 "workers are threads", run_threads_shm },
	{ "processes", "memfd buffer, workers are forked processes that each "
		       "mmap it themselves", run_processes },
	{ "corey", "address-range buffer, workers are processes started by "
		   "corey_cfork() that each map it themselves with "
		   "corey_ar_map() (needs CONFIG_COREY_ADDR_RANGE; --mb even)",
	  run_corey },
};

static const struct bench_option options[] = {
	[OPT_MB] = { "mb", "MB", "size of the buffer in MiB", 100, 1 << 20 },
};

static const struct bench_metric metrics[] = {
	{ "seconds", "wall time from the owner mapping and filling the "
		     "buffer to the last worker finishing" },
	{ "minflt_per_page", "minor faults taken by the workers during their "
			     "touches / (workers x pages)" },
	/*
	 * A maximum, not a median: the goal "no worker faults" must not be
	 * met by an average that hides one worker or repetition that did.
	 */
	{ "minflt_per_page_worst", "the most minor faults per page that one "
				   "worker took in one repetition (one value, "
				   "spread 0)" },
};

static const struct bench_spec spec = {
	.name = "mempass",
	.purpose = "a buffer is passed from worker to worker, each "
		   "write-touching every 4 KiB page in turn (Corey fig. 7b)",
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
