// SPDX-License-Identifier: GPL-2.0
/*
 * nullcall: the round trip of a request that does nothing, the fixed cost
 * under every call a program makes: a system call on its own CPU, a no-op
 * handed to io_uring's SQ poll thread on another CPU, or to a kernel core
 * there (Corey's kernel cores, by shared-memory rings instead of traps).
 */
#include <errno.h>
#include <stdlib.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "bench_cpu.h"
#include "bench_err.h"
#include "bench_report.h"
#include "bench_sampler.h"
#include "nullcall.h"

int nullcall_place(const struct bench_args *args, struct nullcall_cpus *c)
{
	int err;

	c->client = args->cpu_ids[0];
	c->server = args->cpu_ids[args->cpus - 1];
	c->shared = c->client == c->server;
	err = bench_pin_self(c->client);
	if (err) {
		bench_error(args->spec->name, "sched_setaffinity", -err);
		return -1;
	}
	return 0;
}

int nullcall_time(const struct bench_args *args, bench_op_fn rt, void *ctx,
		  double *ns_per_op)
{
	uint64_t calls;

	if (bench_oploop(args, rt, ctx, ns_per_op, &calls))
		return -1;
	return args->ops_file ? bench_write_ops_file(args, calls) : 0;
}

int nullcall_report(const struct bench_args *args, double *ns_per_op,
		    double *wake_ns)
{
	int status = 0;

	if (bench_report(args, NULLCALL_NS_PER_OP, ns_per_op, args->intervals))
		status = 1;
	if (!status && wake_ns &&
	    bench_report(args, NULLCALL_WAKE_NS, wake_ns, args->intervals))
		status = 1;
	free(ns_per_op);
	free(wake_ns);
	return status;
}

/* getppid: no argument to check, no lock, nothing cached by libc. */
static int getppid_op(void *ctx)
{
	(void)ctx;
	(void)syscall(SYS_getppid);
	return 0;
}

static int run_syscall(const struct bench_args *args)
{
	double *ns_per_op = calloc(args->intervals, sizeof(double));
	struct nullcall_cpus c;

	if (!ns_per_op) {
		bench_error(args->spec->name, "malloc", ENOMEM);
		return 1;
	}
	if (nullcall_place(args, &c) ||
	    nullcall_time(args, getppid_op, NULL, ns_per_op)) {
		free(ns_per_op);
		return 1;
	}
	return nullcall_report(args, ns_per_op, NULL);
}

static const struct bench_mode modes[] = {
	{ "syscall", "a plain system call, syscall(SYS_getppid), on the "
		     "client's CPU", run_syscall },
	{ "uring", "IORING_OP_NOP through an io_uring whose SQ poll thread "
		   "(IORING_SETUP_SQPOLL | IORING_SETUP_SQ_AFF) runs on the "
		   "server CPU; the client polls the completion queue",
	  nullcall_run_uring },
	{ "kcore", "COREY_KCORE_OP_NOP through a kernel core on the server "
		   "CPU (libcorey corey_kcore_submit + corey_kcore_reap, "
		   "spinning on the ring slot); needs the corey_kcore module",
	  nullcall_run_kcore },
	{ "kcore-idle", "a kernel core's own CPU time while it spins after a "
			"request and while it is idle (needs the corey_kcore "
			"module)", nullcall_run_kcore_idle },
};

static const struct bench_metric metrics[] = {
	{ NULLCALL_NS_PER_OP, "nanoseconds per round trip, back to back: "
			      "interval time / round trips (syscall, uring, "
			      "kcore)" },
	{ NULLCALL_WAKE_NS, "nanoseconds per round trip that finds the server "
			    "asleep and must wake it, mean of 8 per sample, K "
			    "samples (uring, kcore)" },
	{ "busy_cpu_share", "the kernel core's CPU time / wall time over 200 "
			    "ms right after a request, while it spins: the "
			    "control, about 1 (kcore-idle)" },
	{ "busy_ticks_per_s", "the same from utime + stime of "
				   "/proc/self/task/TID/stat, in clock ticks "
				   "per second (sysconf(_SC_CLK_TCK), 100 for a "
				   "thread that never stops) (kcore-idle)" },
	{ "idle_cpu_share", "CPU time / wall time over each interval once the "
			    "kernel core sleeps: the goal is 0 (kcore-idle)" },
	{ "idle_ticks_per_s", "the same in /proc stat ticks per second "
				   "(kcore-idle)" },
};

static const char *const notes[] = {
	"--cpus N is the number of CPUs the run occupies: the client runs on "
	"the first CPU of the affinity mask, the server (SQ poll thread, "
	"kernel core) on the N-th.  From --cpus 2 the server has a CPU of its "
	"own and the client spins until the completion appears, as with "
	"Corey's dedicated kernel cores.  With --cpus 1 they share the CPU and "
	"the client waits by sleeping (io_uring_wait_cqe; COREY_KCORE_BLOCK): "
	"spinning there would keep the server off the CPU it needs.  syscall "
	"only uses the client's CPU.",
	"While round trips are timed the server's idle time is 1 s "
	"(sq_thread_idle 1000 ms; idle_us 1000000), so it never sleeps between "
	"back-to-back requests.  wake_ns is measured afterwards on a second "
	"server whose idle time is 1 ms: before each round trip the client "
	"polls /proc/self/task/TID/stat until the server thread is asleep "
	"(state not R), then times a round trip that must wake it "
	"(IORING_ENTER_SQ_WAKEUP; COREY_KCORE_WAKE).",
	"kcore-idle opens a kernel core with idle_us 500000.  busy: K times, a "
	"NOP, then the kernel core's CPU time over the next 200 ms, while it "
	"still spins.  idle: once /proc shows it asleep and after --warmup-ms, "
	"its CPU time over each of K --interval-ms intervals.  CPU share comes "
	"from the thread's CPU-time clock (nanoseconds), ticks from /proc.",
	"Under emulation (TCG) absolute times mean little: compare the modes "
	"of one run, and --cpus 2 with --cpus 2.  A spinning client and server "
	"need two host CPUs at the same time: when other work on the host "
	"takes one, a round trip waits for the host's scheduler (milliseconds) "
	"and the spread shows it.",
	NULL,
};

static const struct bench_spec spec = {
	.name = "nullcall",
	.purpose = "round trip of a request that does nothing: a system call, "
		   "an io_uring NOP to an SQ poll thread on another CPU, a "
		   "ring NOP to a kernel core on another CPU",
	.modes = modes,
	.nr_modes = BENCH_ARRAY_SIZE(modes),
	.metrics = metrics,
	.nr_metrics = BENCH_ARRAY_SIZE(metrics),
	.sampled = true,
	.notes = notes,
	.cpus_help = "CPUs the run occupies (required): the client runs on the "
		     "first CPU of the initial affinity mask, the server on the "
		     "N-th (see Notes)",
};

int main(int argc, char **argv)
{
	return bench_main(&spec, argc, argv);
}
