/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Kernel cores (libcorey, the corey_kcore module) for the benchmarks'
 * kcore modes: the check that they exist, where the kernel core goes, and
 * each client's ring.
 */
#ifndef BENCH_KCORE_H
#define BENCH_KCORE_H

#include <corey.h>
#include <stdbool.h>

#include "bench_cli.h"
#include "bench_team.h"

/*
 * Check once, before anything starts, that kernel cores can be had, so
 * that a kernel without the module gives one clear message and exit
 * status BENCH_EXIT_UNSUPPORTED.  Returns 0, or the exit status after
 * reporting.
 */
int bench_kcore_probe(const struct bench_args *args);

/*
 * The CPU for the one kernel core of a team of args->cpus workers: the
 * last CPU of the initial affinity mask.  It is a CPU of its own while the
 * workers leave one free, as Corey dedicates a core; with as many workers
 * as CPUs it shares the last worker's.  Returns the CPU, or -1 after
 * reporting.
 */
int bench_kcore_team_cpu(const struct bench_args *args);

/* corey_kcore_open(); NULL after reporting. */
struct corey_kcore *bench_kcore_open(const struct bench_args *args, int cpu,
				     unsigned int nr_rings,
				     unsigned int idle_us);

/*
 * Become the producer of @ring.  A client on the kernel core's own CPU
 * (@share_cpu) waits by sleeping (COREY_KCORE_BLOCK): spinning there would
 * keep the kernel core off the CPU it needs to answer; the others spin.
 * Then one NOP round trip checks that requests are served.  Returns the
 * ring, or NULL after reporting as @who (the benchmark's or a worker's
 * name).
 */
struct corey_kcore_ring *bench_kcore_attach(const char *who,
					    struct corey_kcore *kc,
					    unsigned int ring, bool share_cpu);

/*
 * Post one request and wait for it (what corey_kcore_syscall() does, with
 * the status kept).  Returns 0 with *@res filled, or -errno.
 */
int bench_kcore_call(struct corey_kcore_ring *r, unsigned int op,
		     const unsigned long args[6],
		     struct corey_kcore_result *res);

/*
 * Check that @res is a request the kernel core ran itself (DONE): a
 * FALLBACK, made by the client instead, would make a kcore mode measure
 * the plain system call plus a ring round trip under the kcore name.
 * Returns 0, or -1 after reporting as @who.
 */
int bench_kcore_check_done(const char *who, const char *call,
			   const struct corey_kcore_result *res);

/*
 * bench_kcore_check_done() for a team worker, which it fails (returns -1)
 * unless @res is DONE.  The worker's name is formatted only to report, so
 * this costs a compare on every reap.
 */
int bench_kcore_worker_check_done(struct bench_worker *w, const char *call,
				  const struct corey_kcore_result *res);

/*
 * A team worker's ring: ring number = worker index, and it shares the
 * kernel core's CPU @kc_cpu if it runs there.  NULL after failing the team.
 */
struct corey_kcore_ring *bench_kcore_worker_attach(struct bench_worker *w,
						   struct corey_kcore *kc,
						   int kc_cpu);

/* Detach the worker's ring; returns 0 or -1 after failing the team. */
int bench_kcore_worker_detach(struct bench_worker *w,
			      struct corey_kcore_ring *r);

#endif /* BENCH_KCORE_H */
