/* SPDX-License-Identifier: GPL-2.0 */
/* Pieces of the nullcall benchmark shared between its source files. */
#ifndef NULLCALL_H
#define NULLCALL_H

#include <stdbool.h>

#include "bench_cli.h"
#include "bench_oploop.h"
#include "bench_time.h"

#define NULLCALL_NS_PER_OP	"ns_per_op"
#define NULLCALL_WAKE_NS	"wake_ns"

/*
 * The server's idle time while round trips are timed: back-to-back
 * requests never leave it idle that long, so it never sleeps mid-run.
 */
#define NULLCALL_BUSY_IDLE_MS	1000
/* ... and for wake_ns, where it must fall asleep between requests. */
#define NULLCALL_WAKE_IDLE_MS	1
/* Round trips per wake_ns sample: each one waits for the server to sleep. */
#define NULLCALL_WAKES		8
/* How long a server may take to fall asleep or exit before we give up. */
#define NULLCALL_SERVER_WAIT_NS	(5 * NSEC_PER_SEC)

/* Where the client (this thread) and the server (its thread) run. */
struct nullcall_cpus {
	int client;
	int server;
	/*
	 * They share a CPU (--cpus 1): the client must wait by sleeping, or
	 * it would hold the CPU the server needs to answer it.
	 */
	bool shared;
};

/*
 * Client on the first CPU of the affinity mask, server on the N-th for
 * --cpus N; pins the calling thread, the client, to its CPU.  Returns 0,
 * or -1 after reporting.
 */
int nullcall_place(const struct bench_args *args, struct nullcall_cpus *c);

/*
 * Time round trips @rt (bench_oploop()) into ns_per_op[args->intervals]
 * and honour --ops-file.  Returns 0, or -1 after reporting.
 */
int nullcall_time(const struct bench_args *args, bench_op_fn rt, void *ctx,
		  double *ns_per_op);

/*
 * Fill wake_ns[args->intervals], each the mean of NULLCALL_WAKES round
 * trips @rt made once the server thread @server_tid is asleep.  Returns 0,
 * or -1 after reporting.
 */
int nullcall_wake(const struct bench_args *args, int server_tid,
		  bench_op_fn rt, void *ctx, double *wake_ns);

/*
 * Report ns_per_op, then wake_ns, and free both.  Returns the exit
 * status.
 */
int nullcall_report(const struct bench_args *args, double *ns_per_op,
		    double *wake_ns);

/* A kernel core with one ring, the client's. */
struct corey_kcore;
struct corey_kcore_ring;
struct nullcall_kcore {
	const char *name;
	struct corey_kcore *kc;
	struct corey_kcore_ring *r;
	int tid;		/* the kernel core's thread */
};

/*
 * Open a kernel core on the server CPU and attach its ring for the calling
 * thread, the client.  Returns 0, or -1 after reporting.
 */
int nullcall_kcore_open(const struct bench_args *args,
			struct nullcall_kcore *kcc,
			const struct nullcall_cpus *c, unsigned int idle_us);

/*
 * Detach, close and wait for the kernel core's thread to exit: the next
 * kernel core gets the same CPU.  Returns 0, or -1 after reporting.
 */
int nullcall_kcore_close(struct nullcall_kcore *kcc);

/* One COREY_KCORE_OP_NOP round trip (a bench_op_fn on a nullcall_kcore). */
int nullcall_kcore_nop(void *arg);

/* The modes in their own files. */
int nullcall_run_uring(const struct bench_args *args);
int nullcall_run_kcore(const struct bench_args *args);
int nullcall_run_kcore_idle(const struct bench_args *args);

#endif /* NULLCALL_H */
