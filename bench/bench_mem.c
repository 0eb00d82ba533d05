// SPDX-License-Identifier: GPL-2.0
#include "bench_mem.h"

#include <errno.h>
#include <sys/mman.h>
#include <sys/resource.h>

void *bench_alloc_shared(size_t len)
{
	void *addr = mmap(NULL, len, PROT_READ | PROT_WRITE,
			  MAP_SHARED | MAP_ANONYMOUS, -1, 0);

	return addr == MAP_FAILED ? NULL : addr;
}

/*
 * Only used on teardown paths of areas we mapped ourselves, where munmap
 * cannot fail and there is nothing left to report to.
 */
void bench_free_shared(void *addr, size_t len)
{
	if (addr)
		(void)munmap(addr, len);
}

int bench_no_thp(void *addr, size_t len)
{
	if (madvise(addr, len, MADV_NOHUGEPAGE) == 0)
		return 0;
	/* Kernels built without THP reject the advice: nothing to disable. */
	if (errno == EINVAL)
		return 0;
	return -errno;
}

void bench_touch_pages(void *buf, size_t len)
{
	/* volatile: the stores are the point, the compiler must not drop them. */
	volatile char *p = buf;

	for (size_t off = 0; off < len; off += BENCH_PAGE_SIZE)
		p[off] = 1;
}

int bench_minflt(int who, long *minflt)
{
	struct rusage ru;

	if (getrusage(who, &ru) == -1)
		return -errno;
	*minflt = ru.ru_minflt;
	return 0;
}
