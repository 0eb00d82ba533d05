// SPDX-License-Identifier: GPL-2.0
#include "bench_region.h"

#include <corey.h>
#include <errno.h>
#include <stdbool.h>
#include <sys/mman.h>
#include <unistd.h>

#include "bench_mem.h"

/* A close-on-exec memfd of @bytes; -errno with *@what on failure. */
static int create_memfd(size_t bytes, const char **what)
{
	int fd = memfd_create("bench-region", MFD_CLOEXEC), err;

	if (fd == -1) {
		*what = "memfd_create";
		return -errno;
	}
	if (ftruncate(fd, bytes) == -1) {
		err = errno;
		(void)close(fd);
		*what = "ftruncate";
		return -err;
	}
	return fd;
}

/*
 * Anonymous memory and memfds are kept on 4 KiB pages by MADV_NOHUGEPAGE,
 * so that one write fault maps one page.  An address range needs no
 * advice: it shares PTE tables, so the kernel maps it with 4 KiB pages
 * only (memclone's minflt_per_page of 1.000 shows it).
 */
static int map_plain(struct bench_region *r, const char **what)
{
	int flags = r->fd == -1 ? MAP_PRIVATE | MAP_ANONYMOUS : MAP_SHARED;
	int err;

	r->addr = mmap(NULL, r->bytes, PROT_READ | PROT_WRITE, flags, r->fd, 0);
	if (r->addr == MAP_FAILED) {
		*what = "mmap";
		return -errno;
	}
	err = bench_no_thp(r->addr, r->bytes);
	if (err) {
		(void)munmap(r->addr, r->bytes);
		*what = "madvise";
		return err;
	}
	return 0;
}

static int map_ar(struct bench_region *r, const char **what)
{
	r->fd = corey_ar_create("bench-region", r->bytes, 0);
	if (r->fd == -1) {
		*what = "corey_ar_create";
		return -errno;
	}
	r->addr = corey_ar_map(r->fd, NULL, r->bytes, 0);
	if (r->addr == MAP_FAILED) {
		*what = "corey_ar_map";
		return -errno;
	}
	return 0;
}

int bench_region_map(struct bench_region *r, enum bench_region_kind kind,
		     size_t bytes, const char **what)
{
	int err;

	r->kind = kind;
	r->bytes = bytes;
	r->fd = -1;
	switch (kind) {
	case BENCH_REGION_AR:
		err = map_ar(r, what);
		break;
	case BENCH_REGION_MEMFD:
		err = create_memfd(bytes, what);
		if (err >= 0) {
			r->fd = err;
			err = map_plain(r, what);
		}
		break;
	default:
		err = map_plain(r, what);
		break;
	}
	if (err && r->fd >= 0)
		(void)close(r->fd);
	return err;
}

int bench_region_unmap(struct bench_region *r, const char **what)
{
	bool ar = r->kind == BENCH_REGION_AR;
	int err = 0;

	if (ar ? corey_ar_unmap(r->addr, r->bytes) : munmap(r->addr, r->bytes)) {
		err = -errno;
		*what = ar ? "corey_ar_unmap" : "munmap";
	}
	if (r->fd != -1 && close(r->fd) == -1 && !err) {
		err = -errno;
		*what = "close";
	}
	r->fd = -1;
	return err;
}
