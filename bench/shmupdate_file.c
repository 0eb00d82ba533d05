// SPDX-License-Identifier: GPL-2.0
/*
 * The shared state of shmupdate's pwrite and kcore modes, a page of a
 * memfd, and the pwrite mode itself: every worker writes the state with
 * its own pwrite64, so the page and the file's lock go to each updating
 * CPU in turn.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "bench_err.h"
#include "shmupdate.h"

#define FILE_BYTES	(SHMUPDATE_MAX_LINES * SHMUPDATE_LINE)

int shmupdate_file_open(const struct bench_args *args)
{
	static const unsigned char zeros[FILE_BYTES];
	const char *name = args->spec->name;
	int fd = memfd_create("shmupdate", MFD_CLOEXEC);

	if (fd == -1) {
		bench_error(name, "memfd_create", errno);
		return -1;
	}
	if (pwrite(fd, zeros, sizeof(zeros), 0) != (ssize_t)sizeof(zeros)) {
		bench_error(name, "pwrite64", errno ? errno : EIO);
		close(fd);
		return -1;
	}
	return fd;
}

int shmupdate_file_check(const struct bench_args *args, int fd)
{
	size_t len = shmupdate_bytes(args);
	unsigned char buf[FILE_BYTES];
	ssize_t got = pread(fd, buf, len, 0);

	if (got != (ssize_t)len) {
		bench_error(args->spec->name, "pread64", got < 0 ? errno : EIO);
		return -1;
	}
	/* All bytes equal to their neighbour: one worker's number + 1. */
	if (buf[0] < 1 || buf[0] > args->cpus ||
	    memcmp(buf, buf + 1, len - 1)) {
		bench_errorf(args->spec->name, "the shared state does not hold "
			     "one worker's whole update (first byte %u)",
			     buf[0]);
		return -1;
	}
	return 0;
}

unsigned char *shmupdate_source(struct bench_worker *w)
{
	size_t len = shmupdate_bytes(bench_worker_args(w));
	unsigned char *src = aligned_alloc(SHMUPDATE_LINE, len);

	if (!src) {
		bench_worker_fail(w, "aligned_alloc", ENOMEM);
		return NULL;
	}
	memset(src, bench_worker_index(w) + 1, len);
	return src;
}

int shmupdate_check_written(struct bench_worker *w, long ret,
			    const char *how)
{
	long len = (long)shmupdate_bytes(bench_worker_args(w));

	if (ret == len)
		return 0;
	return bench_worker_fail(w, how, ret == -1 ? errno : EIO);
}

struct pwrite_ctx {
	int fd;
};

static int pwrite_worker(struct bench_worker *w, void *arg)
{
	struct pwrite_ctx *ctx = arg;
	size_t len = shmupdate_bytes(bench_worker_args(w));
	unsigned char *src = shmupdate_source(w);
	uint64_t ops = 0;
	int err = 0;

	if (!src || bench_worker_sync(w)) {
		free(src);
		return -1;
	}
	while (!bench_worker_stopping(w)) {
		err = shmupdate_check_written(w, pwrite(ctx->fd, src, len, 0),
					      "pwrite64");
		if (err)
			break;
		bench_worker_publish(w, ++ops);
	}
	free(src);
	return err;
}

int shmupdate_run_pwrite(const struct bench_args *args)
{
	struct pwrite_ctx ctx = { .fd = shmupdate_file_open(args) };
	int status;

	if (ctx.fd == -1)
		return 1;
	status = shmupdate_run(args, pwrite_worker, &ctx);
	if (!status && shmupdate_file_check(args, ctx.fd))
		status = 1;
	close(ctx.fd);
	return status;
}
