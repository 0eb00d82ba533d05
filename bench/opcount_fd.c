// SPDX-License-Identifier: GPL-2.0
/*
 * opcount's descriptor operations: getppid (the floor under every system
 * call figure), dupclose's threads and shares loops (dupclose,
 * dupclose-share), and fstat(2) for fdget(): a hit in share 0, the tag
 * decoded on the miss path, and both again in a process with a second
 * thread, where share 0's fdget() takes a reference and a private share
 * still borrows.
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/corey.h>
#include <pthread.h>
#include <stdlib.h>
#include <sys/eventfd.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "bench_cli.h"
#include "opcount.h"

static int getppid_run(void *ctx, uint64_t n)
{
	(void)ctx;
	for (uint64_t i = 0; i < n; i++)
		syscall(SYS_getppid);
	return 0;
}

/*
 * ctx of the descriptor loops: the descriptor used, its share, and for
 * the -mt variants a second thread parked in read() on a pipe.
 */
struct dup_ctx {
	int fd;
	long share;
	int park[2];
	pthread_t parked;
};

static int dup_setup(void **ctx)
{
	struct dup_ctx *d = malloc(sizeof(*d));

	if (!d)
		return opcount_fail("eventfd in share 0", "malloc");
	d->share = 0;
	d->park[0] = d->park[1] = -1;
	d->fd = eventfd(0, EFD_CLOEXEC);
	if (d->fd == -1) {
		free(d);
		return opcount_fail("eventfd in share 0", "eventfd");
	}
	*ctx = d;
	return 0;
}

static int dup_run(void *ctx, uint64_t n)
{
	struct dup_ctx *d = ctx;

	for (uint64_t i = 0; i < n; i++) {
		int copy = dup(d->fd);

		if (copy == -1)
			return opcount_fail("dupclose", "dup");
		if (close(copy) == -1)
			return opcount_fail("dupclose", "close");
	}
	return 0;
}

static void *parked_thread(void *arg)
{
	char c;

	while (read(*(int *)arg, &c, 1) == -1 && errno == EINTR)
		;
	return NULL;
}

static void dup_teardown(void *ctx)
{
	struct dup_ctx *d = ctx;

	if (d->park[1] != -1) {
		close(d->park[1]);	/* EOF: the parked thread returns */
		pthread_join(d->parked, NULL);
		close(d->park[0]);
	}
	close(d->fd);
#ifdef __NR_corey_share_destroy
	if (d->share)
		syscall(__NR_corey_share_destroy, d->share, 0);
#endif
	free(d);
}

/*
 * dupclose-share: the same loop in a private share made the thread's
 * default allocation share, as dupclose's shares mode sets it up.
 */
static int share_setup(void **ctx)
{
#ifdef __NR_corey_share_create
	struct dup_ctx *d = malloc(sizeof(*d));

	if (!d)
		return opcount_fail("private share", "malloc");
	d->park[0] = d->park[1] = -1;
	d->share = syscall(__NR_corey_share_create, 0, 0);
	if (d->share == -1) {
		free(d);
		if (errno == ENOSYS)
			return BENCH_EXIT_UNSUPPORTED;
		return opcount_fail("private share", "corey_share_create");
	}
	if (prctl(PR_COREY, PR_COREY_SET_ALLOC_SHARE, d->share, 0, 0) == -1) {
		syscall(__NR_corey_share_destroy, d->share, 0);
		free(d);
		return opcount_fail("private share", "prctl");
	}
	d->fd = eventfd(0, EFD_CLOEXEC);
	if (d->fd == -1 || !COREY_FD_IS_TAGGED(d->fd)) {
		if (d->fd != -1)
			errno = EPROTO;
		syscall(__NR_corey_share_destroy, d->share, 0);
		free(d);
		return opcount_fail("private share", "eventfd in the share");
	}
	*ctx = d;
	return 0;
#else
	(void)ctx;
	return BENCH_EXIT_UNSUPPORTED;
#endif
}

/*
 * A second thread, parked, makes share 0 a table two tasks use: its
 * fdget() then takes a reference on the file, where a single-threaded
 * process borrows.  A private share borrows either way.
 */
static int park_a_thread(struct dup_ctx *d)
{
	int err;

	if (pipe2(d->park, O_CLOEXEC))
		return opcount_fail("parked thread", "pipe2");
	err = pthread_create(&d->parked, NULL, parked_thread, &d->park[0]);
	if (err) {
		close(d->park[0]);
		close(d->park[1]);
		d->park[0] = d->park[1] = -1;
		errno = err;
		return opcount_fail("parked thread", "pthread_create");
	}
	return 0;
}

/* @setup, then a parked thread: the -mt variants of the operations. */
static int setup_with_parked_thread(int (*setup)(void **ctx), void **ctx)
{
	int err = setup(ctx);

	if (!err && park_a_thread(*ctx)) {
		dup_teardown(*ctx);
		return -1;
	}
	return err;
}

static int dup_mt_setup(void **ctx)
{
	return setup_with_parked_thread(dup_setup, ctx);
}

static int share_mt_setup(void **ctx)
{
	return setup_with_parked_thread(share_setup, ctx);
}

/*
 * fstat(2) itself, not glibc's fstat(), which becomes newfstatat(fd, "",
 * AT_EMPTY_PATH): one fdget() hit and a put, the lookup nearly every fd
 * system call makes.
 */
static int fstat_run(void *ctx, uint64_t n)
{
	struct dup_ctx *d = ctx;
	struct stat st;

	for (uint64_t i = 0; i < n; i++)
		if (syscall(SYS_fstat, d->fd, &st))
			return opcount_fail("fstat", "fstat");
	return 0;
}

const struct opcount_op opcount_fd_ops[] = {
	{ "getppid", "one getppid() system call", 1,
	  opcount_no_setup, getppid_run, opcount_no_teardown },
	{ "dupclose", "dup() and close() of an eventfd in share 0 "
	  "(dupclose threads)", 1, dup_setup, dup_run, dup_teardown },
	{ "dupclose-share", "the same in a private descriptor share, the "
	  "default allocation share (dupclose shares)", 1,
	  share_setup, dup_run, dup_teardown },
	{ "fstat", "fstat() of an eventfd in share 0: an fdget() hit",
	  1, dup_setup, fstat_run, dup_teardown },
	{ "fstat-share", "the same in a private descriptor share: fdget()'s "
	  "miss path decodes the tag", 1, share_setup, fstat_run, dup_teardown },
	{ "fstat-mt", "fstat with a second thread parked: share 0's fdget() "
	  "takes a reference", 1, dup_mt_setup, fstat_run, dup_teardown },
	{ "fstat-share-mt", "fstat-share with a second thread parked: a "
	  "private share still borrows", 1, share_mt_setup, fstat_run,
	  dup_teardown },
};

const unsigned int opcount_nr_fd_ops =
	sizeof(opcount_fd_ops) / sizeof(opcount_fd_ops[0]);
