// SPDX-License-Identifier: GPL-2.0
/*
 * opcount's memory operations: will-it-scale's page_fault1 (fault-anon),
 * the same on a shared memfd (fault-shmem) and in an address range
 * (fault-ar, memclone's corey mode), and mmap1 (mmap-munmap).
 */
#include <errno.h>
#include <linux/corey.h>
#include <sys/mman.h>
#include <unistd.h>

#include "bench_cli.h"
#include "opcount.h"

#define PAGE		4096UL
#define FAULT_PAGES	1024UL		/* 4 MiB per map/touch/unmap */
#define MMAP_BYTES	(128UL << 20)	/* will-it-scale mmap1's size */

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

const struct opcount_op opcount_mm_ops[] = {
	{ "fault-anon", "one write fault on private anonymous memory, with "
	  "1/1024 of a 4 MiB mmap+munmap (page_fault1)", FAULT_PAGES,
	  opcount_no_setup, fault_anon_run, opcount_no_teardown },
	{ "fault-shmem", "one write fault on a shared memfd mapping, with "
	  "1/1024 of its memfd, mmap and munmap", FAULT_PAGES,
	  opcount_no_setup, fault_shmem_run, opcount_no_teardown },
	{ "fault-ar", "the same in a fresh address range, its memfd, mmap "
	  "and munmap shared likewise (memclone corey)", FAULT_PAGES,
	  fault_ar_setup, fault_ar_run, opcount_no_teardown },
	{ "mmap-munmap", "mmap() and munmap() of 128 MiB of untouched "
	  "anonymous memory (mmap1)", 1, opcount_no_setup, mmap_munmap_run,
	  opcount_no_teardown },
};

const unsigned int opcount_nr_mm_ops =
	sizeof(opcount_mm_ops) / sizeof(opcount_mm_ops[0]);
