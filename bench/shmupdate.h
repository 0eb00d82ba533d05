/* SPDX-License-Identifier: GPL-2.0 */
/* Pieces of the shmupdate benchmark shared between its source files. */
#ifndef SHMUPDATE_H
#define SHMUPDATE_H

#include <stddef.h>

#include "bench_cli.h"
#include "bench_team.h"

#define SHMUPDATE_LINE		64
/* One page: what one pwrite64 of the shared state covers. */
#define SHMUPDATE_MAX_LINES	64

enum { OPT_LINES };

/* The shared state's size in bytes: --lines cache lines. */
static inline size_t shmupdate_bytes(const struct bench_args *args)
{
	return (size_t)args->option[OPT_LINES] * SHMUPDATE_LINE;
}

/*
 * Run a team of threads of @fn and report "ns_per_update:<L>lines", the
 * mean time one worker spends per update.  Returns the exit status.
 */
int shmupdate_run(const struct bench_args *args, bench_worker_fn fn,
		  void *ctx);

/*
 * The shared state of the pwrite and kcore modes: a one-page memfd,
 * written once here so that its page exists before the clock starts.
 * Returns the descriptor, or -1 after reporting.
 */
int shmupdate_file_open(const struct bench_args *args);

/*
 * After the run: the state must hold one worker's whole update (the
 * writes are serialised by the file's lock), proof that the updates
 * reached the file.  Returns 0, or -1 after reporting.
 */
int shmupdate_file_check(const struct bench_args *args, int fd);

/*
 * The calling worker's update: a buffer of the state's size filled with
 * its number + 1, written once and then only read, so that its lines stay
 * in every cache that reads them.  NULL after failing the team; free().
 */
unsigned char *shmupdate_source(struct bench_worker *w);

/*
 * Check what one update's pwrite64 of the source over the state returned
 * (@ret, or -1 with errno set): 0 if it wrote the whole state, else -1
 * after failing the team as @how ("pwrite64", "pwrite64 through the
 * kernel core").
 */
int shmupdate_check_written(struct bench_worker *w, long ret,
			    const char *how);

/* The modes in their own files. */
int shmupdate_run_pwrite(const struct bench_args *args);
int shmupdate_run_kcore(const struct bench_args *args);

#endif /* SHMUPDATE_H */
