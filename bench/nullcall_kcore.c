// SPDX-License-Identifier: GPL-2.0
/*
 * The kcore mode of nullcall: a NOP posted on a ring of a kernel core
 * (Corey's dedicated kernel core) on the server CPU.  The kernel core runs
 * only in the kernel and polls its rings, so the round trip is the slot's
 * cache line going to the server CPU and back, without a trap on the
 * client's CPU.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "bench_err.h"
#include "bench_kcore.h"
#include "bench_task.h"
#include "nullcall.h"

int nullcall_kcore_open(const struct bench_args *args,
			struct nullcall_kcore *kcc,
			const struct nullcall_cpus *c, unsigned int idle_us)
{
	kcc->name = args->spec->name;
	kcc->kc = bench_kcore_open(args, c->server, 1, idle_us);
	if (!kcc->kc)
		return -1;
	kcc->tid = corey_kcore_tid(kcc->kc);
	kcc->r = bench_kcore_attach(kcc->name, kcc->kc, 0, c->shared);
	if (!kcc->r) {
		(void)corey_kcore_close(kcc->kc);
		return -1;
	}
	return 0;
}

int nullcall_kcore_close(struct nullcall_kcore *kcc)
{
	int err = 0;

	if (corey_kcore_detach(kcc->r) == -1) {
		bench_error(kcc->name, "corey_kcore_detach", errno);
		err = -1;
	}
	if (corey_kcore_close(kcc->kc) == -1) {
		bench_error(kcc->name, "corey_kcore_close", errno);
		return -1;
	}
	if (bench_task_wait_gone(kcc->tid, NULLCALL_SERVER_WAIT_NS)) {
		bench_errorf(kcc->name, "kernel core thread %d still there %lld "
			     "s after corey_kcore_close", kcc->tid,
			     (long long)(NULLCALL_SERVER_WAIT_NS / NSEC_PER_SEC));
		err = -1;
	}
	return err;
}

int nullcall_kcore_nop(void *arg)
{
	static const unsigned long none[6];
	struct nullcall_kcore *kcc = arg;
	struct corey_kcore_result res;
	int err = bench_kcore_call(kcc->r, COREY_KCORE_OP_NOP, none, &res);

	if (err) {
		bench_errorf(kcc->name, "NOP through the kernel core: %s",
			     corey_strerror(-err));
		return -1;
	}
	if (bench_kcore_check_done(kcc->name, "NOP", &res))
		return -1;
	return 0;
}

static int measure(const struct bench_args *args, struct nullcall_kcore *kcc,
		   const struct nullcall_cpus *c, double *ns_per_op,
		   double *wake_ns)
{
	int err;

	if (nullcall_kcore_open(args, kcc, c, NULLCALL_BUSY_IDLE_MS * 1000))
		return -1;
	err = nullcall_time(args, nullcall_kcore_nop, kcc, ns_per_op);
	if (nullcall_kcore_close(kcc) || err)
		return -1;

	if (nullcall_kcore_open(args, kcc, c, NULLCALL_WAKE_IDLE_MS * 1000))
		return -1;
	err = nullcall_wake(args, kcc->tid, nullcall_kcore_nop, kcc, wake_ns);
	if (nullcall_kcore_close(kcc) || err)
		return -1;
	return 0;
}

int nullcall_run_kcore(const struct bench_args *args)
{
	double *ns_per_op = NULL, *wake_ns = NULL;
	struct nullcall_kcore kcc;
	struct nullcall_cpus c;
	int status = bench_kcore_probe(args);

	if (status)
		return status;
	ns_per_op = calloc(args->intervals, sizeof(double));
	wake_ns = calloc(args->intervals, sizeof(double));
	if (!ns_per_op || !wake_ns) {
		bench_error(args->spec->name, "malloc", ENOMEM);
		goto fail;
	}
	if (nullcall_place(args, &c) ||
	    measure(args, &kcc, &c, ns_per_op, wake_ns))
		goto fail;
	return nullcall_report(args, ns_per_op, wake_ns);
fail:
	free(ns_per_op);
	free(wake_ns);
	return 1;
}
