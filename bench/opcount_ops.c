// SPDX-License-Identifier: GPL-2.0
/*
 * The operations opcount counts: one iteration of each loop the goals
 * compare, on one thread.  dupclose and dupclose-share are dupclose's
 * threads and shares loops; fault-anon, fault-shmem and mmap-munmap are
 * will-it-scale's page_fault1, a shared-memory variant of it, and mmap1.
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/corey.h>
#include <pthread.h>
#include <stdlib.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "bench_cli.h"
#include "opcount.h"

#define PAGE		4096UL
#define FAULT_PAGES	1024UL		/* 4 MiB per map/touch/unmap */
#define MMAP_BYTES	(128UL << 20)	/* will-it-scale mmap1's size */

static void no_teardown(void *ctx)
{
	(void)ctx;
}

/* getppid: the cheapest system call, the floor under every other figure. */
static int none_setup(void **ctx)
{
	*ctx = NULL;
	return 0;
}

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

static int dup_mt_setup(void **ctx)
{
	int err = dup_setup(ctx);

	if (!err && park_a_thread(*ctx)) {
		dup_teardown(*ctx);
		return -1;
	}
	return err;
}

static int share_mt_setup(void **ctx)
{
	int err = share_setup(ctx);

	if (!err && park_a_thread(*ctx)) {
		dup_teardown(*ctx);
		return -1;
	}
	return err;
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

/* Map, write every page, unmap: one fault per page. */
static int touch_region(const char *op, int fd, int flags)
{
	char *p = mmap(NULL, FAULT_PAGES * PAGE, PROT_READ | PROT_WRITE,
		       flags, fd, 0);

	if (p == MAP_FAILED)
		return opcount_fail(op, "mmap");
	for (unsigned long i = 0; i < FAULT_PAGES; i++)
		p[i * PAGE] = 1;
	if (munmap(p, FAULT_PAGES * PAGE))
		return opcount_fail(op, "munmap");
	return 0;
}

static int fault_anon_run(void *ctx, uint64_t n)
{
	(void)ctx;
	for (uint64_t i = 0; i < n; i += FAULT_PAGES)
		if (touch_region("fault-anon", -1, MAP_PRIVATE | MAP_ANONYMOUS))
			return -1;
	return 0;
}

/* A new memfd each time, so that every fault allocates, as anon's do. */
static int fault_shmem_run(void *ctx, uint64_t n)
{
	(void)ctx;
	for (uint64_t i = 0; i < n; i += FAULT_PAGES) {
		int fd = memfd_create("opcount", MFD_CLOEXEC);
		int err;

		if (fd == -1)
			return opcount_fail("fault-shmem", "memfd_create");
		err = ftruncate(fd, FAULT_PAGES * PAGE) ?
		      opcount_fail("fault-shmem", "ftruncate") :
		      touch_region("fault-shmem", fd, MAP_SHARED);
		close(fd);
		if (err)
			return -1;
	}
	return 0;
}

/*
 * The same in a fresh address range (MFD_ADDR_RANGE, MAP_ADDR_RANGE): the
 * first touch of each page allocates it and fills the object's shared PTE
 * table, which this mm linked at mmap.  memclone's corey mode per page.
 */
static int fault_ar_setup(void **ctx)
{
	int fd = memfd_create("opcount", MFD_ADDR_RANGE | MFD_CLOEXEC);

	*ctx = NULL;
	if (fd == -1)
		return errno == EINVAL ? BENCH_EXIT_UNSUPPORTED :
		       opcount_fail("fault-ar", "memfd_create");
	close(fd);
	return 0;
}

static int fault_ar_run(void *ctx, uint64_t n)
{
	(void)ctx;
	for (uint64_t i = 0; i < n; i += FAULT_PAGES) {
		int fd = memfd_create("opcount", MFD_ADDR_RANGE | MFD_CLOEXEC);
		int err;

		if (fd == -1)
			return opcount_fail("fault-ar", "memfd_create");
		err = ftruncate(fd, FAULT_PAGES * PAGE) ?
		      opcount_fail("fault-ar", "ftruncate") :
		      touch_region("fault-ar", fd,
				   MAP_SHARED_VALIDATE | MAP_ADDR_RANGE);
		close(fd);
		if (err)
			return -1;
	}
	return 0;
}

static int mmap_munmap_run(void *ctx, uint64_t n)
{
	(void)ctx;
	for (uint64_t i = 0; i < n; i++) {
		void *p = mmap(NULL, MMAP_BYTES, PROT_READ | PROT_WRITE,
			       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

		if (p == MAP_FAILED)
			return opcount_fail("mmap-munmap", "mmap");
		if (munmap(p, MMAP_BYTES))
			return opcount_fail("mmap-munmap", "munmap");
	}
	return 0;
}

const struct opcount_op opcount_ops[] = {
	{ "getppid", "one getppid() system call", 1,
	  none_setup, getppid_run, no_teardown },
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
	{ "fault-anon", "one write fault on private anonymous memory, with "
	  "1/1024 of a 4 MiB mmap+munmap (page_fault1)", FAULT_PAGES,
	  none_setup, fault_anon_run, no_teardown },
	{ "fault-shmem", "one write fault on a shared memfd mapping, with "
	  "1/1024 of its memfd, mmap and munmap", FAULT_PAGES,
	  none_setup, fault_shmem_run, no_teardown },
	{ "fault-ar", "the same in a fresh address range, its memfd, mmap "
	  "and munmap shared likewise (memclone corey)", FAULT_PAGES,
	  fault_ar_setup, fault_ar_run, no_teardown },
	{ "mmap-munmap", "mmap() and munmap() of 128 MiB of untouched "
	  "anonymous memory (mmap1)", 1, none_setup, mmap_munmap_run,
	  no_teardown },
};

const unsigned int opcount_nr_ops = sizeof(opcount_ops) / sizeof(opcount_ops[0]);
