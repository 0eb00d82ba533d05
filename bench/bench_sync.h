/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Synchronisation that works alike between threads and between forked
 * processes: every object here may live in a MAP_SHARED page, and waits can
 * be abandoned when another worker has failed, so one broken worker never
 * leaves the others blocked forever.
 */
#ifndef BENCH_SYNC_H
#define BENCH_SYNC_H

#include <stdatomic.h>

/* One pause in a spin-wait: lets a sibling hyperthread run meanwhile. */
static inline void bench_cpu_relax(void)
{
#if defined(__x86_64__) || defined(__i386__)
	__builtin_ia32_pause();
#elif defined(__aarch64__)
	__asm__ __volatile__("yield" ::: "memory");
#endif
}

/*
 * Spin until *word == @want.  Returns 0 once it does, or -1 as soon as
 * *abort is non-zero.  Never sleeps: for a waiter that has a CPU to itself
 * and whose wake-up latency would be part of what is measured.
 */
int bench_spin_for(atomic_uint *word, unsigned int want,
		   const atomic_int *abort);

/*
 * A reusable barrier that spins briefly (its parties usually arrive
 * together) and then sleeps on a futex.
 */
struct bench_barrier {
	atomic_uint arrived;		/* arrivals in the current round */
	atomic_uint round;		/* bumped when a round completes */
	unsigned int parties;
	const atomic_int *abort;
};

void bench_barrier_init(struct bench_barrier *b, unsigned int parties,
			const atomic_int *abort);

/* Returns 0 when all parties have arrived, -1 if *abort became set. */
int bench_barrier_wait(struct bench_barrier *b);

/* Release everyone waiting, e.g. after setting *abort. */
void bench_barrier_wake(struct bench_barrier *b);

#endif /* BENCH_SYNC_H */
