/* SPDX-License-Identifier: GPL-2.0 */
/* Pieces of the dupclose benchmark shared between its source files. */
#ifndef DUPCLOSE_H
#define DUPCLOSE_H

#include "bench_cli.h"
#include "bench_team.h"

#define DUPCLOSE_METRIC	"ops_per_sec"

/*
 * The loop every descriptor-table mode measures: wait at the start
 * barrier, then dup(@fd) and close the copy until told to stop, publishing
 * the count.  Returns 0, or -1 after reporting.
 */
int dupclose_loop(struct bench_worker *w, int fd);

/*
 * The threads and processes worker: open an eventfd of its own and run
 * dupclose_loop() on it.
 */
int dupclose_worker(struct bench_worker *w, void *ctx);

/*
 * Check once, before starting workers, that the kernel has descriptor
 * shares, so that a stock kernel gives one clear message and
 * BENCH_EXIT_UNSUPPORTED rather than a failure per worker.  Returns 0, or
 * the exit status after reporting.
 */
int dupclose_shares_probe(const struct bench_args *args);

/*
 * Check that @fd, which @what returned while @share was the thread's
 * default allocation share, lives in that share.  Returns 0, or -1 after
 * reporting and failing the team.
 */
int dupclose_check_in_share(struct bench_worker *w, int fd, long share,
			    const char *what);

/* The modes in their own files. */
int dupclose_run_shares(const struct bench_args *args);
int dupclose_run_corey_run(const struct bench_args *args);
int dupclose_run_kcore(const struct bench_args *args);
int dupclose_run_kcore_batch(const struct bench_args *args);

/*
 * Each worker duplicates an fd of its own into its ring's direct
 * descriptor table and closes that slot again, in a loop.
 */
int dupclose_uring_worker(struct bench_worker *w, void *ctx);

/*
 * Check once, before starting workers, that io_uring can be used at all so
 * an unavailable io_uring gives one clear message rather than one per
 * worker.  Returns 0, or -1 after reporting.
 */
int dupclose_uring_probe(const struct bench_args *args);

#endif /* DUPCLOSE_H */
