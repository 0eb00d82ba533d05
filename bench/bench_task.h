/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Another thread of this process, seen from outside: its scheduler state
 * and CPU time.  For server threads the benchmarks do not run themselves
 * (a kernel core, io_uring's SQ poll thread), to tell whether they sleep
 * and what they cost while idle.
 */
#ifndef BENCH_TASK_H
#define BENCH_TASK_H

#include <stdint.h>

struct bench_task_stat {
	char state;			/* R, S, D, I, ... as in proc(5) */
	unsigned long long ticks;	/* utime + stime, in clock ticks */
};

/* Read /proc/self/task/@tid/stat.  Returns 0 or -errno. */
int bench_task_stat(int tid, struct bench_task_stat *st);

/*
 * The thread's CPU time in nanoseconds, from its thread CPU-time clock,
 * which the kernel lets any thread of the same process read: finer than
 * the stat file's ticks.  Returns 0 or -errno.
 */
int bench_task_cpu_ns(int tid, int64_t *ns);

/*
 * The id of a thread of this process whose name starts with @prefix,
 * polling every millisecond for at most @timeout_ns: a new thread may
 * name itself only once it first runs.  Returns the id, -ENOENT, or
 * another -errno.
 */
int bench_task_find(const char *prefix, int64_t timeout_ns);

/*
 * Poll every millisecond until thread @tid is not running or runnable
 * (state other than R), for at most @timeout_ns.  Returns 0, -ETIMEDOUT,
 * or another -errno.
 */
int bench_task_wait_asleep(int tid, int64_t timeout_ns);

/*
 * Poll every millisecond until thread @tid has exited, for at most
 * @timeout_ns: a server thread that exits on its own after its ring or
 * device is closed must not still spin on the CPU the next one gets.
 * Returns 0, -ETIMEDOUT, or another -errno.
 */
int bench_task_wait_gone(int tid, int64_t timeout_ns);

#endif /* BENCH_TASK_H */
