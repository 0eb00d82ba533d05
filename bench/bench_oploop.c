// SPDX-License-Identifier: GPL-2.0
#include "bench_oploop.h"

#include "bench_time.h"

/*
 * A batch between two clock reads should take between these: long enough
 * that one clock read (tens of ns, more under emulation) is lost in it,
 * short enough that an interval ends close to its deadline.
 */
#define BATCH_MIN_NS	50000
#define BATCH_MAX_NS	1000000
#define BATCH_MAX	65536U

struct oploop {
	bench_op_fn op;
	void *ctx;
	unsigned int batch;	/* calls per clock read; adapts to @op */
	uint64_t calls;
};

/*
 * Call the op in batches until the clock passes @deadline; returns the
 * time of the last clock read in *@end, or -1 if the op failed.  Starts at
 * one call per batch, so a slow op (a round trip to a server that must be
 * scheduled first) does not overshoot by a big batch.
 */
static int run_until(struct oploop *l, int64_t deadline, int64_t *end)
{
	int64_t start = bench_now_ns();

	for (;;) {
		int64_t now;

		for (unsigned int i = 0; i < l->batch; i++)
			if (l->op(l->ctx))
				return -1;
		l->calls += l->batch;
		now = bench_now_ns();
		if (now - start < BATCH_MIN_NS && l->batch < BATCH_MAX)
			l->batch *= 2;
		else if (now - start > BATCH_MAX_NS && l->batch > 1)
			l->batch /= 2;
		if (now >= deadline) {
			*end = now;
			return 0;
		}
		start = now;
	}
}

int bench_oploop(const struct bench_args *args, bench_op_fn op, void *ctx,
		 double *ns_per_op, uint64_t *calls)
{
	struct oploop l = { .op = op, .ctx = ctx, .batch = 1 };
	int64_t origin, prev;

	if (run_until(&l, bench_now_ns() + args->warmup_ms * NSEC_PER_MSEC,
		      &origin))
		return -1;
	prev = origin;
	for (int k = 0; k < args->intervals; k++) {
		uint64_t before = l.calls;
		int64_t end;

		/* Deadlines from one origin, as the sampler's intervals. */
		if (run_until(&l, origin + (k + 1) * args->interval_ms *
				  NSEC_PER_MSEC, &end))
			return -1;
		ns_per_op[k] = (double)(end - prev) / (double)(l.calls - before);
		prev = end;
	}
	*calls = l.calls;
	return 0;
}
