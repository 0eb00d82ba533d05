/* SPDX-License-Identifier: GPL-2.0 */
/* Memory helpers: shared areas, page touching and fault counting. */
#ifndef BENCH_MEM_H
#define BENCH_MEM_H

#include <stddef.h>

/*
 * The benchmarks model Corey's measurements in units of 4 KiB pages, so
 * this is fixed rather than taken from sysconf().
 */
#define BENCH_PAGE_SIZE	4096UL
#define BENCH_MIB	(1024UL * 1024UL)

/*
 * Zeroed MAP_SHARED|MAP_ANONYMOUS memory, visible to forked workers.
 * Returns NULL with errno set on failure.
 */
void *bench_alloc_shared(size_t len);
void bench_free_shared(void *addr, size_t len);

/*
 * Keep a region on 4 KiB pages so that one write fault maps one page, as
 * the metrics assume, whatever the kernel's THP default is.
 * Returns 0 or -errno.
 */
int bench_no_thp(void *addr, size_t len);

/* Write one byte into every page of [buf, buf + len). */
void bench_touch_pages(void *buf, size_t len);

/*
 * Minor faults so far of the calling thread (@who = RUSAGE_THREAD) or
 * process (RUSAGE_SELF).  Returns 0 or -errno.
 */
int bench_minflt(int who, long *minflt);

#endif /* BENCH_MEM_H */
