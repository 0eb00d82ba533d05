// SPDX-License-Identifier: GPL-2.0
/*
 * wake_ns: the round trip to a server that has gone to sleep, what a
 * request costs when it comes after a pause rather than in a stream.
 */
#include <string.h>

#include "bench_err.h"
#include "bench_task.h"
#include "nullcall.h"

/*
 * Wait, untimed, until the server sleeps, then time one round trip.  The
 * /proc polling happens before the clock starts, so only the round trip,
 * wake-up included, is counted.
 */
static int one_wake(const struct bench_args *args, int tid, bench_op_fn rt,
		    void *ctx, int64_t *ns)
{
	int64_t start;
	int err = bench_task_wait_asleep(tid, NULLCALL_SERVER_WAIT_NS);

	if (err) {
		bench_errorf(args->spec->name, "waiting for server thread %d "
			     "to sleep after its %d ms idle time: %s", tid,
			     NULLCALL_WAKE_IDLE_MS, strerror(-err));
		return -1;
	}
	start = bench_now_ns();
	if (rt(ctx))
		return -1;
	*ns = bench_now_ns() - start;
	return 0;
}

int nullcall_wake(const struct bench_args *args, int server_tid,
		  bench_op_fn rt, void *ctx, double *wake_ns)
{
	for (int k = 0; k < args->intervals; k++) {
		int64_t sum = 0;

		for (int i = 0; i < NULLCALL_WAKES; i++) {
			int64_t ns;

			if (one_wake(args, server_tid, rt, ctx, &ns))
				return -1;
			sum += ns;
		}
		wake_ns[k] = (double)sum / NULLCALL_WAKES;
	}
	return 0;
}
