// SPDX-License-Identifier: GPL-2.0
/*
 * The io_uring mode of dupclose: the "dup" installs the worker's fd into a
 * free slot of the ring's own direct descriptor table and the "close"
 * frees that slot, so no operation touches the process-wide fd table.
 */
#include <errno.h>
#include <liburing.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "bench_err.h"
#include "dupclose.h"

#define RING_DEPTH	8	/* one request in flight at a time */
#define DIRECT_SLOTS	16

int dupclose_uring_probe(const struct bench_args *args)
{
	struct io_uring ring;
	int ret = io_uring_queue_init(RING_DEPTH, &ring, 0);

	if (ret == -ENOSYS || ret == -EPERM) {
		bench_errorf(args->spec->name, "io_uring not available: %s",
			     strerror(-ret));
		return -1;
	}
	if (ret < 0) {
		bench_error(args->spec->name, "io_uring_queue_init", -ret);
		return -1;
	}
	io_uring_queue_exit(&ring);
	return 0;
}

/*
 * Submit the one prepared request and wait for its completion.  Returns
 * the CQE's res in *res, or -errno if submitting or waiting failed.
 */
static int submit_one(struct io_uring *ring, int *res)
{
	struct io_uring_cqe *cqe;
	int ret = io_uring_submit_and_wait(ring, 1);

	if (ret < 0)
		return ret;
	ret = io_uring_wait_cqe(ring, &cqe);
	if (ret < 0)
		return ret;
	*res = cqe->res;
	io_uring_cqe_seen(ring, cqe);
	return 0;
}

/*
 * Returns the direct descriptor slot now holding @fd, or -1 on failure.
 *
 * With IORING_FILE_INDEX_ALLOC the kernel writes the allocated slot back
 * into the fd array and completes with the number of fds installed, so the
 * array must be a scratch copy that lives until the completion.
 */
static int dup_direct(struct bench_worker *w, struct io_uring *ring, int fd)
{
	struct io_uring_sqe *sqe = io_uring_get_sqe(ring);
	int fds[1] = { fd };
	int ret, res;

	if (!sqe)
		return bench_worker_fail(w, "io_uring_get_sqe", EBUSY);
	io_uring_prep_files_update(sqe, fds, 1, IORING_FILE_INDEX_ALLOC);
	ret = submit_one(ring, &res);
	if (ret < 0)
		return bench_worker_fail(w, "io_uring_submit_and_wait", -ret);
	if (res < 0)
		return bench_worker_fail(w, "IORING_OP_FILES_UPDATE", -res);
	if (res != 1)
		return bench_worker_fail(w, "IORING_OP_FILES_UPDATE", EIO);
	return fds[0];
}

static int close_direct(struct bench_worker *w, struct io_uring *ring,
			int slot)
{
	struct io_uring_sqe *sqe = io_uring_get_sqe(ring);
	int ret, res;

	if (!sqe)
		return bench_worker_fail(w, "io_uring_get_sqe", EBUSY);
	io_uring_prep_close_direct(sqe, slot);
	ret = submit_one(ring, &res);
	if (ret < 0)
		return bench_worker_fail(w, "io_uring_submit_and_wait", -ret);
	if (res < 0)
		return bench_worker_fail(w, "IORING_OP_CLOSE (direct)", -res);
	return 0;
}

static int dup_close_loop(struct bench_worker *w, struct io_uring *ring,
			  int fd)
{
	uint64_t ops = 0;

	if (bench_worker_sync(w))
		return -1;
	while (!bench_worker_stopping(w)) {
		int slot = dup_direct(w, ring, fd);

		if (slot < 0 || close_direct(w, ring, slot))
			return -1;
		bench_worker_publish(w, ++ops);
	}
	return 0;
}

int dupclose_uring_worker(struct bench_worker *w, void *ctx)
{
	struct io_uring ring;
	int fd, ret, err = 0;

	(void)ctx;
	fd = eventfd(0, EFD_CLOEXEC);
	if (fd == -1)
		return bench_worker_fail(w, "eventfd", errno);

	ret = io_uring_queue_init(RING_DEPTH, &ring, 0);
	if (ret < 0) {
		err = bench_worker_fail(w, "io_uring_queue_init", -ret);
		goto out_fd;
	}
	ret = io_uring_register_files_sparse(&ring, DIRECT_SLOTS);
	if (ret < 0) {
		err = bench_worker_fail(w, "io_uring_register_files_sparse",
					-ret);
		goto out_ring;
	}

	err = dup_close_loop(w, &ring, fd);
out_ring:
	/* Also drops the registered table, so no unregister is needed. */
	io_uring_queue_exit(&ring);
out_fd:
	if (close(fd) == -1 && !err)
		err = bench_worker_fail(w, "close", errno);
	return err;
}
