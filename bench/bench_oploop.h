/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Time a synchronous operation on the calling thread, for benchmarks with
 * a single client whose metric is the time per operation (a round trip).
 */
#ifndef BENCH_OPLOOP_H
#define BENCH_OPLOOP_H

#include <stdint.h>

#include "bench_cli.h"

/* One operation; returns 0, or -1 after reporting a failure. */
typedef int (*bench_op_fn)(void *ctx);

/*
 * Call @op back to back for args->warmup_ms, then through args->intervals
 * consecutive intervals of about args->interval_ms, storing in
 * ns_per_op[k] interval k's elapsed time divided by its calls.  The clock
 * is read once per batch of calls, sized so that a batch takes tens of
 * microseconds, which keeps the clock's own cost out of the figure.
 * *@calls gets the calls of the whole run, warm-up included (--ops-file).
 * Returns 0, or -1 as soon as @op fails.
 */
int bench_oploop(const struct bench_args *args, bench_op_fn op, void *ctx,
		 double *ns_per_op, uint64_t *calls);

#endif /* BENCH_OPLOOP_H */
