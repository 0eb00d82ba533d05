// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * Address ranges: creating one (a memfd with MFD_ADDR_RANGE), asking
 * whether the kernel has them, and mapping and unmapping them while the
 * library's record (ar_registry.c) follows.
 */
#include <errno.h>
#include <stdint.h>
#include <unistd.h>
#include <sys/mman.h>

#include <corey.h>
#include "internal.h"

#define GRANULE COREY_ADDR_RANGE_GRANULE

/* Fixed, short and valid: EINVAL from the probe can only be the flag. */
static const char probe_name[] = "corey_ar_probe";

static bool granular(uintptr_t x)
{
	return x % GRANULE == 0;
}

int corey_ar_supported(void)
{
	int saved_errno = errno;
	int fd = memfd_create(probe_name, MFD_ADDR_RANGE | MFD_CLOEXEC);

	if (fd >= 0) {
		close(fd);
		errno = saved_errno;
		return 1;
	}
	if (errno == EINVAL) {
		/* The kernel does not know the flag. */
		errno = EOPNOTSUPP;
		return 0;
	}
	return -1;
}

int corey_ar_create(const char *name, size_t bytes, unsigned int flags)
{
	int fd, saved_errno;

	if (flags || bytes == 0 || !granular(bytes)) {
		errno = EINVAL;
		return -1;
	}
	fd = memfd_create(name, MFD_ADDR_RANGE | MFD_CLOEXEC);
	if (fd < 0) {
		if (errno != EINVAL)
			return -1;
		/*
		 * An unknown flag and a bad name (too long) both say EINVAL.
		 * If the same name works without the flag, it was the flag:
		 * say so with one errno that corey_strerror() explains.
		 */
		fd = memfd_create(name, MFD_CLOEXEC);
		if (fd < 0) {
			errno = EINVAL;
			return -1;
		}
		close(fd);
		errno = EOPNOTSUPP;
		return -1;
	}
	if (ftruncate(fd, (off_t)bytes) < 0) {
		saved_errno = errno;
		close(fd);
		errno = saved_errno;
		return -1;
	}
	return fd;
}

void *corey_ar_map(int fd, void *addr, size_t bytes, off_t offset)
{
	uintptr_t start = (uintptr_t)addr;
	int flags = MAP_SHARED_VALIDATE | MAP_ADDR_RANGE;
	void *p;

	/*
	 * The kernel checks these too, but the record holds whole granules
	 * only, so nothing else may get into it.
	 */
	if (bytes == 0 || !granular(bytes) || !granular(start) ||
	    offset < 0 || !granular((uintptr_t)offset) ||
	    (addr && bytes > UINTPTR_MAX - start)) {
		errno = EINVAL;
		return MAP_FAILED;
	}
	if (addr)
		flags |= MAP_FIXED;
	corey_ar_lock();
	/* Room first: once the mapping exists, recording it cannot fail. */
	if (corey_ar_reserve(1) < 0) {
		corey_ar_unlock();
		return MAP_FAILED;
	}
	p = mmap(addr, bytes, PROT_READ | PROT_WRITE, flags, fd, offset);
	if (p != MAP_FAILED) {
		start = (uintptr_t)p;
		/* MAP_FIXED replaces what was there: the union says it all. */
		corey_ar_add(start, start + bytes);
	}
	corey_ar_unlock();
	return p;
}

int corey_ar_unmap(void *addr, size_t bytes)
{
	uintptr_t start = (uintptr_t)addr;
	int ret = -1;

	if (bytes == 0 || !granular(bytes) || !granular(start) ||
	    bytes > UINTPTR_MAX - start) {
		errno = EINVAL;
		return -1;
	}
	corey_ar_lock();
	/*
	 * Only what corey_ar_map() mapped: munmap() of anything else would
	 * leave the record and the address space telling different stories.
	 */
	if (!corey_ar_covers(start, start + bytes)) {
		errno = EINVAL;
		goto out;
	}
	/* A hole in the middle of a span splits it in two. */
	if (corey_ar_reserve(1) < 0)
		goto out;
	if (munmap(addr, bytes) < 0)
		goto out;
	corey_ar_remove(start, start + bytes);
	ret = 0;
out:
	corey_ar_unlock();
	return ret;
}
