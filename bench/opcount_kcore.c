// SPDX-License-Identifier: GPL-2.0
/*
 * opcount's kernel-core operations: a dup3()+close() pair made directly,
 * and the same pair run by a kernel core, as dupclose's kcore and
 * kcore-batch modes make it (bench/dupclose_kcore.c).
 *
 * With two or more CPUs (make insns SMP=2 boots two vCPUs and the plugin
 * counts each apart), the client is pinned to the first CPU and the
 * kernel core to the last, and the client spins: the counts of the client's
 * vCPU are what a pair costs the client, those of the kernel core's vCPU
 * what serving it costs, idle polling included (the profile separates
 * kcore_run's empty passes from the calls).  With one CPU the kernel core
 * shares it, the client sleeps in the reap, and a pair's count holds both
 * sides and the context switches between them.
 */
#include <corey.h>
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <stdlib.h>
#include <sys/eventfd.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "bench_cli.h"
#include "opcount.h"

/* Far above opcount's own descriptors, as in dupclose kcore-batch. */
#define TARGET_FD	512
#define RING_PAIRS	(COREY_KCORE_RING_SLOTS / 2)
/* Sharing the client's CPU: asleep as soon as the ring is empty. */
#define SHARED_IDLE_US	1
/* A CPU of its own: never asleep while the client refills the ring. */
#define OWN_IDLE_US	1000000

struct kcore_ctx {
	int fd;
	struct corey_kcore *kc;
	struct corey_kcore_ring *ring;
	unsigned int in_flight;		/* kcore-batch: pairs posted, not reaped */
};

static int dup3close_setup(void **ctx)
{
	struct kcore_ctx *k = calloc(1, sizeof(*k));

	if (!k)
		return opcount_fail("dup3close", "calloc");
	k->fd = eventfd(0, EFD_CLOEXEC);
	if (k->fd == -1) {
		free(k);
		return opcount_fail("dup3close", "eventfd");
	}
	*ctx = k;
	return 0;
}

static int dup3close_run(void *ctx, uint64_t n)
{
	struct kcore_ctx *k = ctx;

	for (uint64_t i = 0; i < n; i++) {
		if (dup3(k->fd, TARGET_FD, 0) != TARGET_FD)
			return opcount_fail("dup3close", "dup3");
		if (close(TARGET_FD))
			return opcount_fail("dup3close", "close");
	}
	return 0;
}

static void kcore_teardown(void *ctx)
{
	struct kcore_ctx *k = ctx;

	if (k->ring)
		corey_kcore_detach(k->ring);
	if (k->kc)
		corey_kcore_close(k->kc);
	close(k->fd);
	free(k);
}

/*
 * The client on the first CPU of its affinity mask, the kernel core on the
 * last; *shared says whether they are the same one.
 */
static int place(const char *op, int *client_cpu, int *kcore_cpu,
		 bool *shared)
{
	cpu_set_t set;
	int cpu;

	if (sched_getaffinity(0, sizeof(set), &set))
		return opcount_fail(op, "sched_getaffinity");
	*client_cpu = -1;
	*kcore_cpu = -1;
	for (cpu = 0; cpu < CPU_SETSIZE; cpu++) {
		if (!CPU_ISSET(cpu, &set))
			continue;
		if (*client_cpu < 0)
			*client_cpu = cpu;
		*kcore_cpu = cpu;
	}
	if (*client_cpu < 0) {
		errno = EINVAL;
		return opcount_fail(op, "an empty affinity mask");
	}
	*shared = *client_cpu == *kcore_cpu;
	CPU_ZERO(&set);
	CPU_SET(*client_cpu, &set);
	if (sched_setaffinity(0, sizeof(set), &set))
		return opcount_fail(op, "sched_setaffinity");
	return 0;
}

static int kcore_setup(const char *op, void **ctx)
{
	int client_cpu = -1, kcore_cpu = -1, err;
	struct kcore_ctx *k;
	bool shared = true;

	if (place(op, &client_cpu, &kcore_cpu, &shared))
		return -1;
	err = dup3close_setup(ctx);
	if (err)
		return err;
	k = *ctx;
	k->kc = corey_kcore_open(kcore_cpu, 1,
				 shared ? SHARED_IDLE_US : OWN_IDLE_US);
	if (!k->kc) {
		err = errno;
		kcore_teardown(k);
		if (err == ENODEV)
			return BENCH_EXIT_UNSUPPORTED;
		errno = err;
		return opcount_fail(op, "corey_kcore_open");
	}
	k->ring = corey_kcore_attach(k->kc, 0);
	if (!k->ring || (shared &&
			 corey_kcore_set_wait(k->ring, COREY_KCORE_BLOCK))) {
		err = errno;
		kcore_teardown(k);
		errno = err;
		return opcount_fail(op, "attaching a ring");
	}
	return 0;
}

static int kcore_batch_setup(void **ctx)
{
	return kcore_setup("kcore-batch", ctx);
}

static int kcore_sync_setup(void **ctx)
{
	return kcore_setup("kcore-sync", ctx);
}

/* Both calls synchronous, as dupclose's kcore mode makes them. */
static int kcore_sync_run(void *ctx, uint64_t n)
{
	struct kcore_ctx *k = ctx;

	for (uint64_t i = 0; i < n; i++) {
		if (corey_kcore_syscall(k->ring, SYS_dup3, k->fd, TARGET_FD,
					0) != TARGET_FD)
			return opcount_fail("kcore-sync", "dup3");
		if (corey_kcore_syscall(k->ring, SYS_close, TARGET_FD))
			return opcount_fail("kcore-sync", "close");
	}
	return 0;
}

/* Reap one pair: both must have been run by the kernel core itself. */
static int reap_pair(struct kcore_ctx *k)
{
	struct corey_kcore_result res;

	for (int i = 0; i < 2; i++) {
		while (corey_kcore_reap(k->ring, &res, 0) == -1)
			if (errno != EINTR)
				return opcount_fail("kcore-batch", "reap");
		if (res.status != COREY_KCORE_DONE || res.ret < 0) {
			errno = res.status != COREY_KCORE_DONE ? EPROTO : res.err;
			return opcount_fail("kcore-batch",
					    "a request the kernel core served");
		}
	}
	k->in_flight--;
	return 0;
}

/* Keep the ring full; drain it at the end, so the bracket holds it all. */
static int kcore_batch_run(void *ctx, uint64_t n)
{
	struct kcore_ctx *k = ctx;
	unsigned long dup_args[6] = { (unsigned long)k->fd, TARGET_FD };
	unsigned long close_args[6] = { TARGET_FD };

	for (uint64_t i = 0; i < n; i++) {
		if (k->in_flight == RING_PAIRS && reap_pair(k))
			return -1;
		if (corey_kcore_submit(k->ring, SYS_dup3, dup_args, 0) ||
		    corey_kcore_submit(k->ring, SYS_close, close_args, 0))
			return opcount_fail("kcore-batch", "submit");
		k->in_flight++;
	}
	while (k->in_flight)
		if (reap_pair(k))
			return -1;
	return 0;
}

const struct opcount_op opcount_kcore_ops[] = {
	{ "dup3close", "dup3() onto a fixed number and close() of it, made "
	  "directly", 1, dup3close_setup, dup3close_run, kcore_teardown },
	{ "kcore-sync", "the same pair made by a kernel core on the last CPU, "
	  "each call waited for (dupclose kcore)", 1, kcore_sync_setup,
	  kcore_sync_run, kcore_teardown },
	{ "kcore-batch", "the same pair made by a kernel core on the last CPU, "
	  "the ring kept full (dupclose kcore-batch)", 1, kcore_batch_setup,
	  kcore_batch_run, kcore_teardown },
};

const unsigned int opcount_nr_kcore_ops =
	sizeof(opcount_kcore_ops) / sizeof(opcount_kcore_ops[0]);
