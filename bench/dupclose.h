/* SPDX-License-Identifier: GPL-2.0 */
/* Pieces of the dupclose benchmark shared between its source files. */
#ifndef DUPCLOSE_H
#define DUPCLOSE_H

#include "bench_cli.h"
#include "bench_team.h"

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
