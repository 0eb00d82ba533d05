// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * corey_cfork(): Corey's process per core.  A fork(2) child pinned to a
 * CPU that keeps only the address ranges it was given, returned as a
 * pidfd.
 *
 * Everything the child needs is worked out in the parent, under the
 * address-range lock, before the fork: the child then only makes system
 * calls, and the lock (held across fork() so that no other thread maps
 * or unmaps a range between the plan and the fork) is released in both.
 */
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <stdint.h>
#include <stdlib.h>
#include <unistd.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/wait.h>

#include <corey.h>
#include "internal.h"

#ifndef SYS_pidfd_open
#define SYS_pidfd_open 434		/* Linux 5.3, the same on every arch */
#endif

#define GRANULE COREY_ADDR_RANGE_GRANULE

/*
 * Far above any kernel's CPU count (NR_CPUS is at most 8192): a cpu
 * beyond it is simply not allowed, without a huge mask to ask with.
 */
#define CPU_LIMIT (1U << 16)

/* The exit status of a child whose setup failed (as a shell's "not run"). */
#define SETUP_FAILED 127

/*
 * The child reports a failed setup step's errno on this pipe, and closes
 * it once fn is about to run, so that corey_cfork() returns the error
 * itself, like posix_spawn(), instead of a child that exits 127.
 */
static int setup_status[2];

struct cfork_plan {
	cpu_set_t *cpus;		/* the child's affinity; NULL: inherit */
	size_t cpus_size;
	struct corey_ar_span *keep;	/* the child's record: sorted, merged */
	size_t nr_keep;
	struct corey_ar_span *drop;	/* what the child unmaps */
	size_t nr_drop;
};

static void free_plan(struct cfork_plan *plan)
{
	if (plan->cpus)
		CPU_FREE(plan->cpus);
	free(plan->keep);
	free(plan->drop);
}

static int plan_cpu(int cpu, struct cfork_plan *plan)
{
	if (cpu == -1)
		return 0;
	/*
	 * Whether the process may run on cpu is sched_setaffinity()'s to say,
	 * in the child (cpusets, offline CPUs): the caller's own mask does
	 * not matter, since a thread pinned to CPU 0 may well start a child
	 * on CPU 1.
	 */
	if (cpu < -1 || (unsigned int)cpu >= CPU_LIMIT) {
		errno = EINVAL;
		return -1;
	}
	plan->cpus = CPU_ALLOC((size_t)cpu + 1);
	if (!plan->cpus)
		return -1;
	plan->cpus_size = CPU_ALLOC_SIZE((size_t)cpu + 1);
	CPU_ZERO_S(plan->cpus_size, plan->cpus);
	CPU_SET_S((size_t)cpu, plan->cpus_size, plan->cpus);
	return 0;
}

static int by_start(const void *a, const void *b)
{
	const struct corey_ar_span *x = a, *y = b;

	return (x->start > y->start) - (x->start < y->start);
}

/* The union of the ranges, sorted, overlapping and adjacent ones merged. */
static int plan_keep(const struct corey_cfork_attr *attr,
		     struct cfork_plan *plan)
{
	size_t i, n = 0;

	if (attr->nr_ranges == 0)
		return 0;
	plan->keep = calloc(attr->nr_ranges, sizeof(*plan->keep));
	if (!plan->keep)
		return -1;
	for (i = 0; i < attr->nr_ranges; i++) {
		const struct corey_cfork_range *r = &attr->ranges[i];
		uintptr_t start = (uintptr_t)r->addr;

		if (r->bytes == 0 || start % GRANULE || r->bytes % GRANULE ||
		    r->bytes > UINTPTR_MAX - start ||
		    !corey_ar_covers(start, start + r->bytes)) {
			errno = EINVAL;
			return -1;
		}
		plan->keep[i].start = start;
		plan->keep[i].end = start + r->bytes;
	}
	qsort(plan->keep, attr->nr_ranges, sizeof(*plan->keep), by_start);
	for (i = 1; i < attr->nr_ranges; i++) {
		if (plan->keep[i].start <= plan->keep[n].end) {
			if (plan->keep[i].end > plan->keep[n].end)
				plan->keep[n].end = plan->keep[i].end;
		} else {
			plan->keep[++n] = plan->keep[i];
		}
	}
	plan->nr_keep = n + 1;
	return 0;
}

/*
 * The record minus what is kept.  Spans of the record are merged, so each
 * kept span lies inside one of them, and each record span loses at most
 * one piece per kept span plus its tail: nr_spans + nr_keep pieces at most.
 */
static int plan_drop(struct cfork_plan *plan)
{
	size_t nr_spans, i, k = 0;
	const struct corey_ar_span *spans = corey_ar_spans(&nr_spans);

	if (nr_spans == 0)
		return 0;
	plan->drop = calloc(nr_spans + plan->nr_keep, sizeof(*plan->drop));
	if (!plan->drop)
		return -1;
	for (i = 0; i < nr_spans; i++) {
		uintptr_t from = spans[i].start;

		for (; k < plan->nr_keep && plan->keep[k].start < spans[i].end;
		     k++) {
			if (plan->keep[k].start > from)
				plan->drop[plan->nr_drop++] = (struct corey_ar_span){
					from, plan->keep[k].start };
			from = plan->keep[k].end;
		}
		if (from < spans[i].end)
			plan->drop[plan->nr_drop++] = (struct corey_ar_span){
				from, spans[i].end };
	}
	return 0;
}

/* A setup step failed in the child: tell the parent, do not run fn. */
static _Noreturn void child_failed(void)
{
	int err = errno;

	if (write(setup_status[1], &err, sizeof(err)) != sizeof(err))
		_exit(SETUP_FAILED);
	_exit(SETUP_FAILED);
}

static _Noreturn void run_child(struct cfork_plan *plan, int (*fn)(void *),
				void *arg)
{
	size_t i;

	if (plan->cpus &&
	    sched_setaffinity(0, plan->cpus_size, plan->cpus) < 0)
		child_failed();
	for (i = 0; i < plan->nr_drop; i++)
		if (munmap((void *)plan->drop[i].start,
			   plan->drop[i].end - plan->drop[i].start) < 0)
			child_failed();
	/* The child's record is what it kept; the array is now the record's. */
	corey_ar_adopt(plan->keep, plan->nr_keep);
	plan->keep = NULL;
	free_plan(plan);
	/* The lock was held by the thread that forked: this one. */
	corey_ar_unlock();
	close(setup_status[0]);
	close(setup_status[1]);
	/* Not exit(): the atexit handlers and stdio buffers are the parent's. */
	_exit(fn(arg) & 0xff);
}

/* Undo a fork whose child cannot be handed out: no zombie is left. */
static void kill_child(pid_t pid)
{
	kill(pid, SIGKILL);
	while (waitpid(pid, NULL, 0) < 0 && errno == EINTR)
		;
}

/*
 * Wait until the child has set itself up: 0 if it is running fn, or the
 * errno of the step that failed (the child is then reaped).
 */
static int child_setup_error(pid_t pid)
{
	ssize_t n;
	int err;

	close(setup_status[1]);
	do
		n = read(setup_status[0], &err, sizeof(err));
	while (n < 0 && errno == EINTR);
	close(setup_status[0]);
	if (n == 0)
		return 0;
	if (n != sizeof(err))
		err = EIO;
	kill_child(pid);
	return err;
}

int corey_cfork(const struct corey_cfork_attr *attr, int (*fn)(void *),
		void *arg)
{
	struct cfork_plan plan = { 0 };
	int pidfd, saved_errno;
	pid_t pid;

	if (!attr || !fn || attr->flags ||
	    (attr->nr_ranges && !attr->ranges)) {
		errno = EINVAL;
		return -1;
	}
	if (plan_cpu(attr->cpu, &plan) < 0)
		goto fail;
	corey_ar_lock();
	if (plan_keep(attr, &plan) < 0 || plan_drop(&plan) < 0) {
		corey_ar_unlock();
		goto fail;
	}
	/* Under the lock, so that one cfork at a time uses setup_status. */
	if (pipe2(setup_status, O_CLOEXEC) < 0) {
		corey_ar_unlock();
		goto fail;
	}
	pid = fork();
	if (pid == 0)
		run_child(&plan, fn, arg);
	saved_errno = errno;
	free_plan(&plan);
	if (pid < 0) {
		close(setup_status[0]);
		close(setup_status[1]);
		corey_ar_unlock();
		errno = saved_errno;
		return -1;
	}
	saved_errno = child_setup_error(pid);
	corey_ar_unlock();
	if (saved_errno) {
		errno = saved_errno;
		return -1;
	}
	/* O_CLOEXEC: the kernel gives every pidfd close-on-exec. */
	pidfd = (int)syscall(SYS_pidfd_open, pid, 0U);
	if (pidfd < 0) {
		saved_errno = errno;
		kill_child(pid);
		errno = saved_errno;
		return -1;
	}
	return pidfd;

fail:
	saved_errno = errno;
	free_plan(&plan);
	errno = saved_errno;
	return -1;
}
