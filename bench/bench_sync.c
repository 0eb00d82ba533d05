// SPDX-License-Identifier: GPL-2.0
#include "bench_sync.h"

#include <limits.h>
#include <linux/futex.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

/*
 * Pause instructions before going to sleep: a few to ~100 us depending on
 * the CPU's pause latency, enough for a barrier whose parties arrive
 * together, short enough not to starve a thread sharing the CPU.
 */
#define SPIN_LIMIT	2000
#define SPIN_FOREVER	UINT_MAX

/*
 * Sleepers also wake up this often to look at the abort flag: a safety net
 * in case whoever set it could not wake them (bench_barrier_wake()).
 */
#define ABORT_POLL_NS	10000000L

/*
 * Shared (not FUTEX_PRIVATE) futexes, so the same code serves forked
 * workers.  Every error (EAGAIN: the word already changed, EINTR,
 * ETIMEDOUT) is harmless because the caller re-reads the word anyway.
 */
static void futex_wait(atomic_uint *word, unsigned int val)
{
	struct timespec timeout = { .tv_sec = 0, .tv_nsec = ABORT_POLL_NS };

	(void)syscall(SYS_futex, (uint32_t *)word, FUTEX_WAIT, val, &timeout,
		      NULL, 0);
}

static void wake_all(atomic_uint *word)
{
	/* Fails only for a bad address, which would have crashed earlier. */
	(void)syscall(SYS_futex, (uint32_t *)word, FUTEX_WAKE, INT_MAX, NULL,
		      NULL, 0);
}

/*
 * Wait while (*word == val) is @while_equal, spinning @spin_limit times
 * before sleeping; -1 if *abort gets set.
 */
static int wait_while(atomic_uint *word, unsigned int val,
		      const atomic_int *abort, bool while_equal,
		      unsigned int spin_limit)
{
	for (unsigned int spins = 0;; spins++) {
		unsigned int cur = atomic_load_explicit(word,
							memory_order_acquire);

		if ((cur == val) != while_equal)
			return 0;
		if (atomic_load_explicit(abort, memory_order_relaxed))
			return -1;
		if (spins < spin_limit)
			bench_cpu_relax();
		else
			futex_wait(word, cur);
	}
}

int bench_spin_for(atomic_uint *word, unsigned int want,
		   const atomic_int *abort)
{
	return wait_while(word, want, abort, false, SPIN_FOREVER);
}

void bench_barrier_init(struct bench_barrier *b, unsigned int parties,
			const atomic_int *abort)
{
	atomic_init(&b->arrived, 0);
	atomic_init(&b->round, 0);
	b->parties = parties;
	b->abort = abort;
}

int bench_barrier_wait(struct bench_barrier *b)
{
	/*
	 * Read the round before arriving: once we have arrived, the last
	 * party may complete it at any moment and we must not mistake the
	 * next round's number for ours.
	 */
	unsigned int round = atomic_load_explicit(&b->round,
						  memory_order_acquire);

	if (atomic_load_explicit(b->abort, memory_order_relaxed))
		return -1;
	if (atomic_fetch_add_explicit(&b->arrived, 1, memory_order_acq_rel) + 1 ==
	    b->parties) {
		/* Reset before release: nobody re-arrives until then. */
		atomic_store_explicit(&b->arrived, 0, memory_order_relaxed);
		atomic_fetch_add_explicit(&b->round, 1, memory_order_release);
		wake_all(&b->round);
		return 0;
	}
	return wait_while(&b->round, round, b->abort, true, SPIN_LIMIT);
}

void bench_barrier_wake(struct bench_barrier *b)
{
	wake_all(&b->round);
}
