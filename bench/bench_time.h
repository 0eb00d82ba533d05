/* SPDX-License-Identifier: GPL-2.0 */
/* Monotonic time in nanoseconds, the one clock all benchmarks measure with. */
#ifndef BENCH_TIME_H
#define BENCH_TIME_H

#include <errno.h>
#include <stdint.h>
#include <time.h>

#define NSEC_PER_SEC	1000000000LL
#define NSEC_PER_MSEC	1000000LL

/*
 * CLOCK_MONOTONIC cannot fail with a valid clock id and pointer, so
 * callers need no error path here.
 */
static inline int64_t bench_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * NSEC_PER_SEC + ts.tv_nsec;
}

/* Sleep until the CLOCK_MONOTONIC instant @deadline_ns. */
static inline void bench_sleep_until(int64_t deadline_ns)
{
	struct timespec ts = {
		.tv_sec = deadline_ns / NSEC_PER_SEC,
		.tv_nsec = deadline_ns % NSEC_PER_SEC,
	};

	/* An absolute deadline makes restarting after a signal trivial. */
	while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, NULL) == EINTR)
		;
}

#endif /* BENCH_TIME_H */
