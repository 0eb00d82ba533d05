// SPDX-License-Identifier: GPL-2.0
/*
 * The uring mode of nullcall: io_uring's own answer to "hand the system
 * call to another CPU".  An SQ poll thread pinned to the server CPU takes
 * submissions from the ring without a system call, so a NOP's round trip
 * is two cache-line handoffs and the kernel's request handling, like a
 * kernel core's, and the peer Corey's kernel cores must beat.
 */
#include <errno.h>
#include <liburing.h>
#include <stdlib.h>
#include <string.h>

#include "bench_err.h"
#include "bench_sync.h"
#include "bench_task.h"
#include "nullcall.h"

#define RING_DEPTH	8	/* one request in flight at a time */
/* The SQ poll thread's name, "iou-sqp-<pid>", to find it in /proc. */
#define SQPOLL_COMM	"iou-sqp-"
/* Look at the clock every this many empty polls of the completion queue. */
#define SPIN_CHECK	(1UL << 20)
#define SPIN_TIMEOUT_NS	(10 * NSEC_PER_SEC)

struct uring_client {
	const char *name;
	struct io_uring ring;
	bool sleep_wait;	/* the client shares the SQ thread's CPU */
	int sq_tid;		/* the SQ poll thread */
};

static int ring_setup(struct uring_client *uc, int cpu, unsigned int idle_ms)
{
	struct io_uring_params p;
	int ret;

	memset(&p, 0, sizeof(p));
	p.flags = IORING_SETUP_SQPOLL | IORING_SETUP_SQ_AFF;
	p.sq_thread_cpu = cpu;
	p.sq_thread_idle = idle_ms;
	ret = io_uring_queue_init_params(RING_DEPTH, &uc->ring, &p);
	if (ret < 0) {
		bench_errorf(uc->name, "io_uring_queue_init_params(SQPOLL, "
			     "SQ_AFF cpu %d): %s", cpu, strerror(-ret));
		return -1;
	}
	uc->sq_tid = bench_task_find(SQPOLL_COMM, NULLCALL_SERVER_WAIT_NS);
	if (uc->sq_tid < 0) {
		bench_errorf(uc->name, "no " SQPOLL_COMM "* thread in "
			     "/proc/self/task: %s", strerror(-uc->sq_tid));
		io_uring_queue_exit(&uc->ring);
		return -1;
	}
	return 0;
}

/*
 * The SQ thread exits on its own after the ring is gone; the next ring's
 * thread must not have to share the CPU with it, nor be mistaken for it.
 */
static int ring_teardown(struct uring_client *uc)
{
	int err;

	io_uring_queue_exit(&uc->ring);
	err = bench_task_wait_gone(uc->sq_tid, NULLCALL_SERVER_WAIT_NS);
	if (err) {
		bench_errorf(uc->name, "waiting for SQ poll thread %d to exit: "
			     "%s", uc->sq_tid, strerror(-err));
		return -1;
	}
	return 0;
}

/*
 * Poll the completion queue without a system call, as a kernel core's
 * client polls its slot; give up if nothing comes for seconds, so that a
 * lost request fails the run instead of hanging it.
 */
static int spin_cqe(struct uring_client *uc, struct io_uring_cqe **cqe)
{
	int64_t since = 0;

	for (unsigned long spins = 1; !io_uring_cq_ready(&uc->ring); spins++) {
		bench_cpu_relax();
		if (spins % SPIN_CHECK)
			continue;
		if (!since)
			since = bench_now_ns();
		else if (bench_now_ns() - since > SPIN_TIMEOUT_NS)
			return -ETIMEDOUT;
	}
	return io_uring_peek_cqe(&uc->ring, cqe);
}

static int nop_round_trip(void *arg)
{
	struct uring_client *uc = arg;
	struct io_uring_sqe *sqe = io_uring_get_sqe(&uc->ring);
	struct io_uring_cqe *cqe;
	int ret, res;

	if (!sqe) {
		bench_error(uc->name, "io_uring_get_sqe", EBUSY);
		return -1;
	}
	io_uring_prep_nop(sqe);
	/*
	 * With SQPOLL this enters the kernel only to wake a sleeping thread.
	 * It returns the entries the thread has not consumed yet, which may
	 * already be 0: only an error counts.
	 */
	ret = io_uring_submit(&uc->ring);
	if (ret < 0) {
		bench_error(uc->name, "io_uring_submit", -ret);
		return -1;
	}
	ret = uc->sleep_wait ? io_uring_wait_cqe(&uc->ring, &cqe) :
			       spin_cqe(uc, &cqe);
	if (ret < 0) {
		bench_error(uc->name, "waiting for the NOP's completion", -ret);
		return -1;
	}
	res = cqe->res;
	io_uring_cqe_seen(&uc->ring, cqe);
	if (res != 0) {
		bench_error(uc->name, "IORING_OP_NOP", res < 0 ? -res : EIO);
		return -1;
	}
	return 0;
}

static int measure(const struct bench_args *args, struct uring_client *uc,
		   const struct nullcall_cpus *c, double *ns_per_op,
		   double *wake_ns)
{
	int err;

	if (ring_setup(uc, c->server, NULLCALL_BUSY_IDLE_MS))
		return -1;
	err = nullcall_time(args, nop_round_trip, uc, ns_per_op);
	if (ring_teardown(uc) || err)
		return -1;

	if (ring_setup(uc, c->server, NULLCALL_WAKE_IDLE_MS))
		return -1;
	err = nullcall_wake(args, uc->sq_tid, nop_round_trip, uc, wake_ns);
	if (ring_teardown(uc) || err)
		return -1;
	return 0;
}

int nullcall_run_uring(const struct bench_args *args)
{
	double *ns_per_op = calloc(args->intervals, sizeof(double));
	double *wake_ns = calloc(args->intervals, sizeof(double));
	struct uring_client uc = { .name = args->spec->name };
	struct nullcall_cpus c;

	if (!ns_per_op || !wake_ns) {
		bench_error(args->spec->name, "malloc", ENOMEM);
		goto fail;
	}
	if (nullcall_place(args, &c))
		goto fail;
	uc.sleep_wait = c.shared;
	if (measure(args, &uc, &c, ns_per_op, wake_ns))
		goto fail;
	return nullcall_report(args, ns_per_op, wake_ns);
fail:
	free(ns_per_op);
	free(wake_ns);
	return 1;
}
