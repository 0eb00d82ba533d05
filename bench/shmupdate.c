// SPDX-License-Identifier: GPL-2.0
/*
 * shmupdate: the Barrelfish experiment (Baumann et al., "The multikernel",
 * SOSP 2009, figure 3) on Linux.  Workers update shared state of 1 to 8
 * cache lines, either each one directly in shared memory, so that the
 * lines travel to every updating CPU, or by asking one server that owns
 * the state, so that only the request and its reply travel.  The server
 * here is a Corey kernel core; the only requests it takes are system calls
 * from its allowlist, which shapes the update (see the notes).
 */
#include <errno.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>

#include "bench_err.h"
#include "bench_sampler.h"
#include "shmupdate.h"

#define METRIC	"ns_per_update"

/* One counter per cache line, so each update touches --lines lines. */
struct shm_line {
	_Alignas(SHMUPDATE_LINE) atomic_ulong count;
};

struct direct_ctx {
	struct shm_line *lines;
	int nr_lines;
	/* Updates done by all workers, to check the counters against. */
	_Alignas(SHMUPDATE_LINE) atomic_ulong done;
};

int shmupdate_run(const struct bench_args *args, bench_worker_fn fn,
		  void *ctx)
{
	char metric[64];

	/* The CSV line has no column for --lines: the metric names it. */
	snprintf(metric, sizeof(metric), METRIC ":%ldlines",
		 args->option[OPT_LINES]);
	return bench_run_sampled_ns(args, BENCH_TEAM_THREADS, fn, ctx, metric);
}

/*
 * Barrelfish's shared-memory case: each update is an atomic increment of
 * every line, so each line moves to the updating CPU in turn.  Relaxed
 * order is enough: only the sum is checked, after the workers are joined.
 */
static int direct_worker(struct bench_worker *w, void *arg)
{
	struct direct_ctx *ctx = arg;
	uint64_t ops = 0;

	if (bench_worker_sync(w))
		return -1;
	while (!bench_worker_stopping(w)) {
		for (int l = 0; l < ctx->nr_lines; l++)
			atomic_fetch_add_explicit(&ctx->lines[l].count, 1,
						  memory_order_relaxed);
		bench_worker_publish(w, ++ops);
	}
	atomic_fetch_add(&ctx->done, ops);
	return 0;
}

/* Every line must have counted every update: no update lost or torn. */
static int check_counts(const struct bench_args *args, struct direct_ctx *ctx)
{
	unsigned long done = atomic_load(&ctx->done);

	for (int l = 0; l < ctx->nr_lines; l++) {
		unsigned long count = atomic_load(&ctx->lines[l].count);

		if (count != done) {
			bench_errorf(args->spec->name, "line %d counted %lu "
				     "updates, the workers made %lu", l, count,
				     done);
			return -1;
		}
	}
	return 0;
}

static int run_direct(const struct bench_args *args)
{
	struct direct_ctx ctx = { .nr_lines = (int)args->option[OPT_LINES] };
	int status;

	ctx.lines = aligned_alloc(SHMUPDATE_LINE, shmupdate_bytes(args));
	if (!ctx.lines) {
		bench_error(args->spec->name, "aligned_alloc", ENOMEM);
		return 1;
	}
	for (int l = 0; l < ctx.nr_lines; l++)
		atomic_init(&ctx.lines[l].count, 0);
	atomic_init(&ctx.done, 0);
	status = shmupdate_run(args, direct_worker, &ctx);
	if (!status && check_counts(args, &ctx))
		status = 1;
	free(ctx.lines);
	return status;
}

static const struct bench_mode modes[] = {
	{ "direct", "threads; each update is an atomic increment of a counter "
		    "in each of the shared lines, made by the worker itself "
		    "(Barrelfish's shared-memory case)", run_direct },
	{ "pwrite", "threads; each update is the worker's own pwrite64 of "
		    "--lines lines over a shared one-page memfd: the kcore "
		    "mode's work, done in shared memory", shmupdate_run_pwrite },
	{ "kcore", "threads; each worker posts that pwrite64 on its own ring "
		   "to one kernel core on the last CPU and waits for it: the "
		   "state is only written on the kernel core's CPU "
		   "(Barrelfish's message-passing case; needs the corey_kcore "
		   "module)", shmupdate_run_kcore },
};

static const struct bench_option options[] = {
	[OPT_LINES] = { "lines", "L", "cache lines (64 bytes) of shared "
		        "state each update writes; the Barrelfish figure uses "
		        "1, 2, 4 and 8", 1, SHMUPDATE_MAX_LINES },
};

static const struct bench_metric metrics[] = {
	{ METRIC ":<L>lines", "mean nanoseconds one worker takes per update "
			      "(workers x interval / updates), each update "
			      "finished before the next starts" },
};

static const char *const notes[] = {
	"Why pwrite64: a Barrelfish server updates the state in its own "
	"memory when a message asks it to.  A kernel core only runs system "
	"calls from its allowlist (read, write, pread64, pwrite64, lseek, "
	"fstat, dup, dup3, close, openat, mmap, munmap) and a no-op; none of "
	"them can increment a counter.  The closest honest update is a "
	"pwrite64 of L lines from the worker's own buffer into a memfd page "
	"that only the kernel core writes: the state then stays in the kernel "
	"core's cache, and what crosses CPUs per update is the ring slot "
	"(request and reply, one line) as in Barrelfish, not the L lines.  "
	"The buffer is written once and then only read, so after the first "
	"update the kernel core reads it from its own cache.",
	"Limits: the update is a store of the worker's bytes, not a "
	"read-modify-write, so the three modes do not do identical work; and "
	"kcore and pwrite pay the system call's own path (descriptor lookup, "
	"the file's lock, page-cache lookup, copy) that a Barrelfish server "
	"does not.  The pwrite mode does exactly the kcore mode's work in "
	"shared memory (every worker's CPU takes the file's page and lock in "
	"turn), so kcore against pwrite is message passing against shared "
	"memory for one operation; direct is the shared-memory figure of the "
	"paper.  nullcall --mode kcore gives the ring's round trip alone.",
	"kcore: the kernel core runs on the last CPU of the affinity mask, its "
	"own while the workers leave it free; a worker that shares its CPU "
	"waits by sleeping (COREY_KCORE_BLOCK), the others spin on their "
	"slot.  With only 2 CPUs no crossover with direct is to be expected: "
	"in the paper, messages win only once several client cores share the "
	"lines.",
	NULL,
};

static const struct bench_spec spec = {
	.name = "shmupdate",
	.purpose = "workers update L shared cache lines directly (atomics), "
		   "by their own pwrite64 of a shared page, or by asking a "
		   "kernel core that alone writes it (Barrelfish, SOSP 2009, "
		   "fig. 3)",
	.modes = modes,
	.nr_modes = BENCH_ARRAY_SIZE(modes),
	.options = options,
	.nr_options = BENCH_ARRAY_SIZE(options),
	.metrics = metrics,
	.nr_metrics = BENCH_ARRAY_SIZE(metrics),
	.sampled = true,
	.notes = notes,
};

int main(int argc, char **argv)
{
	return bench_main(&spec, argc, argv);
}
