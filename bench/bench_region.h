/* SPDX-License-Identifier: GPL-2.0 */
/*
 * A worker's own memory region, of the kind its mode measures: anonymous
 * memory, a plain shmem memfd mapped MAP_SHARED, or an address range.
 * memclone and pfchurn map one per worker (and pfchurn one per iteration),
 * so that their modes differ only in the kind of memory and of worker.
 */
#ifndef BENCH_REGION_H
#define BENCH_REGION_H

#include <stddef.h>

enum bench_region_kind {
	BENCH_REGION_ANON,	/* MAP_PRIVATE | MAP_ANONYMOUS */
	BENCH_REGION_MEMFD,	/* memfd_create(), MAP_SHARED */
	BENCH_REGION_AR,	/* corey_ar_create(), corey_ar_map() */
};

struct bench_region {
	enum bench_region_kind kind;
	void *addr;
	size_t bytes;
	int fd;			/* the memfd, -1 for anonymous memory */
};

/*
 * Create and map a fresh region of @bytes, every page still untouched, so
 * that the first write to each page is a zero-fill fault whatever the
 * kind.  Returns 0, or -errno with *@what naming the call that failed
 * (and nothing left mapped or open).
 */
int bench_region_map(struct bench_region *r, enum bench_region_kind kind,
		     size_t bytes, const char **what);

/*
 * Unmap the region and close its file, which frees its pages.  Returns 0,
 * or -errno with *@what set; the region is gone either way.
 */
int bench_region_unmap(struct bench_region *r, const char **what);

#endif /* BENCH_REGION_H */
