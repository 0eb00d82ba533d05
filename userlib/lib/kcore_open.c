// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * Kernel cores: dedicating one (the device, its SETUP ioctl and the two
 * mappings) and releasing it.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <unistd.h>
#include <sys/ioctl.h>
#include <sys/mman.h>

#include <corey.h>
#include "internal.h"

int corey_kcore_open_device(void)
{
	int fd = open(COREY_KCORE_DEVICE, O_RDWR | O_CLOEXEC);

	/*
	 * ENOENT: no module (devtmpfs drops the node on rmmod); ENXIO and
	 * ENODEV: a stale node whose driver is gone.  One errno for "not
	 * there", which corey_strerror() can explain.
	 */
	if (fd < 0 && (errno == ENOENT || errno == ENXIO || errno == ENODEV))
		errno = ENODEV;
	return fd;
}

int corey_kcore_supported(void)
{
	int saved_errno = errno;
	int fd = corey_kcore_open_device();

	if (fd < 0)
		return 0;
	/* Opening does not start a kernel core; only SETUP does. */
	close(fd);
	errno = saved_errno;
	return 1;
}

static int map_kcore(struct corey_kcore *kc)
{
	size_t rings_len = (size_t)kc->nr_rings * COREY_KCORE_PAGE_SIZE;
	void *p;

	p = mmap(NULL, COREY_KCORE_PAGE_SIZE, PROT_READ, MAP_SHARED, kc->fd,
		 COREY_KCORE_OFF_CTL);
	if (p == MAP_FAILED)
		return -1;
	kc->ctl = p;
	p = mmap(NULL, rings_len, PROT_READ | PROT_WRITE, MAP_SHARED, kc->fd,
		 COREY_KCORE_OFF_RING(0));
	if (p == MAP_FAILED) {
		int saved_errno = errno;

		munmap((void *)kc->ctl, COREY_KCORE_PAGE_SIZE);
		errno = saved_errno;
		return -1;
	}
	kc->rings = p;
	/*
	 * The rings are never inherited (the driver marks them VM_DONTCOPY);
	 * keep the control page out of children too, so that a child has
	 * none of the mappings and its corey_kcore_close() knows there is
	 * nothing to unmap.  Best effort: a child that did inherit the page
	 * only holds the device until it exits or execs.
	 */
	madvise((void *)kc->ctl, COREY_KCORE_PAGE_SIZE, MADV_DONTFORK);
	return 0;
}

struct corey_kcore *corey_kcore_open(int cpu, unsigned int nr_rings,
				     unsigned int idle_us)
{
	struct corey_kcore_setup setup = {
		.size = sizeof(setup),
		.cpu = cpu,
		.nr_rings = nr_rings,
		.idle_us = idle_us,
	};
	struct corey_kcore *kc;
	int saved_errno;

	/*
	 * The kernel checks these too; checking them here first keeps the
	 * answer the same with or without the module, and keeps the length
	 * of the ring mapping sane.
	 */
	if (cpu < 0 || nr_rings == 0 || nr_rings > COREY_KCORE_RINGS_MAX) {
		errno = EINVAL;
		return NULL;
	}
	kc = calloc(1, sizeof(*kc));
	if (!kc)
		return NULL;
	kc->nr_rings = nr_rings;
	kc->pid = getpid();
	kc->fd = corey_kcore_open_device();
	if (kc->fd < 0)
		goto out_free;
	if (ioctl(kc->fd, COREY_KCORE_SETUP, &setup) < 0) {
		/* Something else answers at that path. */
		if (errno == ENOTTY)
			errno = ENODEV;
		goto out_close;
	}
	kc->tid = (int)setup.tid;
	if (map_kcore(kc) < 0)
		goto out_close;
	return kc;

out_close:
	/* The last reference to the file: the kernel core, if any, exits. */
	saved_errno = errno;
	close(kc->fd);
	errno = saved_errno;
out_free:
	free(kc);
	return NULL;
}

int corey_kcore_close(struct corey_kcore *kc)
{
	int rc;

	if (!kc) {
		errno = EINVAL;
		return -1;
	}
	/*
	 * In a child of fork() the addresses are not ours: neither mapping
	 * was inherited, and something else may live there now.  Its copy
	 * of the descriptor is all it holds.
	 */
	if (getpid() == kc->pid) {
		munmap(kc->rings, (size_t)kc->nr_rings * COREY_KCORE_PAGE_SIZE);
		munmap((void *)kc->ctl, COREY_KCORE_PAGE_SIZE);
	}
	/* With the mappings gone, this drops the last reference. */
	rc = close(kc->fd);
	free(kc);
	return rc;
}

int corey_kcore_tid(const struct corey_kcore *kc)
{
	if (!kc) {
		errno = EINVAL;
		return -1;
	}
	return kc->tid;
}
