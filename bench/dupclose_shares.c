// SPDX-License-Identifier: GPL-2.0
/*
 * The shares mode of dupclose: each worker thread creates a private
 * descriptor share and makes it its default allocation share, so its
 * eventfd, every dup of it and every close stay in a table no other CPU
 * writes (docs/shares.md).  The loop itself is the threads mode's.
 *
 * The calls are made raw, not through libcorey, so that the benchmark
 * depends on the kernel's ABI alone.
 */
#include <errno.h>
#include <linux/corey.h>
#include <sys/eventfd.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "bench_err.h"
#include "bench_sampler.h"
#include "dupclose.h"

/* The uapi wires the calls on x86_64 only; elsewhere there are no shares. */
#ifdef __NR_corey_share_create
static long share_create(void)
{
	return syscall(__NR_corey_share_create, 0, 0);
}

static long share_destroy(long share)
{
	return syscall(__NR_corey_share_destroy, share, 0);
}
#else
static long share_create(void)
{
	errno = ENOSYS;
	return -1;
}

static long share_destroy(long share)
{
	(void)share;
	errno = ENOSYS;
	return -1;
}
#endif

int dupclose_shares_probe(const struct bench_args *args)
{
	long share = share_create();

	if (share == -1 && errno == ENOSYS) {
		bench_errorf(args->spec->name, "mode %s needs a kernel with "
			     "descriptor shares (CONFIG_COREY_SHARES)",
			     args->mode->name);
		return BENCH_EXIT_UNSUPPORTED;
	}
	if (share == -1) {
		bench_error(args->spec->name, "corey_share_create", errno);
		return 1;
	}
	if (share_destroy(share) == -1) {
		bench_error(args->spec->name, "corey_share_destroy", errno);
		return 1;
	}
	return 0;
}

int dupclose_check_in_share(struct bench_worker *w, int fd, long share,
			    const char *what)
{
	if (COREY_FD_IS_TAGGED(fd) && COREY_FD_SHARE(fd) == share)
		return 0;
	bench_errorf(bench_worker_args(w)->spec->name,
		     "worker %d: %s gave descriptor %#x while share %ld was the "
		     "default allocation share: %s", bench_worker_index(w),
		     what, (unsigned int)fd, share,
		     COREY_FD_IS_TAGGED(fd) ? "it is in another share" :
		     "it is not in a share at all");
	return bench_worker_abort(w);
}

/*
 * Once, before the barrier: a dup that silently went to share 0 would
 * make this mode measure the threads mode under another name.
 */
static int check_dup(struct bench_worker *w, int fd, long share)
{
	int copy = dup(fd);

	if (copy == -1)
		return bench_worker_fail(w, "dup", errno);
	if (dupclose_check_in_share(w, copy, share, "dup")) {
		close(copy);
		return -1;
	}
	if (close(copy) == -1)
		return bench_worker_fail(w, "close", errno);
	return 0;
}

/* Everything after the share exists; the caller destroys it. */
static int run_in_share(struct bench_worker *w, long share)
{
	int fd, err;

	if (prctl(PR_COREY, PR_COREY_SET_ALLOC_SHARE, share, 0, 0) == -1)
		return bench_worker_fail(w, "prctl(PR_COREY_SET_ALLOC_SHARE)",
					 errno);
	/* Allocated in the share directly: it is the default now. */
	fd = eventfd(0, EFD_CLOEXEC);
	if (fd == -1)
		return bench_worker_fail(w, "eventfd", errno);
	err = dupclose_check_in_share(w, fd, share, "eventfd");
	if (!err)
		err = check_dup(w, fd, share);
	if (!err)
		err = dupclose_loop(w, fd);
	if (close(fd) == -1 && !err)
		err = bench_worker_fail(w, "close", errno);
	return err;
}

static int shares_worker(struct bench_worker *w, void *ctx)
{
	long share;
	int err;

	(void)ctx;
	/* After pinning (the team does it first), so the table is local. */
	share = share_create();
	if (share == -1)
		return bench_worker_fail(w, "corey_share_create", errno);
	err = run_in_share(w, share);
	/*
	 * Thread exit would destroy it too; destroying it here checks that
	 * teardown works, and resets the default share as a side effect.
	 */
	if (share_destroy(share) == -1 && !err)
		err = bench_worker_fail(w, "corey_share_destroy", errno);
	return err;
}

int dupclose_run_shares(const struct bench_args *args)
{
	int status = dupclose_shares_probe(args);

	if (status)
		return status;
	return bench_run_sampled(args, BENCH_TEAM_THREADS, shares_worker, NULL,
				 DUPCLOSE_METRIC);
}
