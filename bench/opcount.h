/* SPDX-License-Identifier: GPL-2.0 */
/*
 * opcount: the guest side of `make insns`.  Each operation here is one
 * iteration of a benchmark loop, run on one thread with nothing else
 * going on, so that the instruction counts the QEMU plugin logs between
 * two markers divide into a count per operation.
 */
#ifndef OPCOUNT_H
#define OPCOUNT_H

#include <stdint.h>

struct opcount_op {
	const char *name;
	const char *help;
	/*
	 * Operations are counted in multiples of unit (a page-fault loop
	 * maps, touches and unmaps a region of unit pages).
	 */
	uint64_t unit;
	/*
	 * Prepare state in *ctx.  Returns 0, -1 after printing why, or
	 * BENCH_EXIT_UNSUPPORTED if this kernel lacks the feature.
	 */
	int (*setup)(void **ctx);
	/* Run @n operations (a multiple of unit); 0 or -1 after printing. */
	int (*run)(void *ctx, uint64_t n);
	void (*teardown)(void *ctx);
};

/* opcount_fd.c: getppid, dup/close and fstat, in share 0 and in a share */
extern const struct opcount_op opcount_fd_ops[];
extern const unsigned int opcount_nr_fd_ops;
/* opcount_mm.c: page faults and mmap/munmap */
extern const struct opcount_op opcount_mm_ops[];
extern const unsigned int opcount_nr_mm_ops;

/* opcount_kcore.c: dup3+close made directly and by a kernel core */
extern const struct opcount_op opcount_kcore_ops[];
extern const unsigned int opcount_nr_kcore_ops;

/* setup and teardown for operations that keep no state */
int opcount_no_setup(void **ctx);
void opcount_no_teardown(void *ctx);

/* Print "opcount: OP: WHAT: strerror(errno)" and return -1. */
int opcount_fail(const char *op, const char *what);

#endif /* OPCOUNT_H */
