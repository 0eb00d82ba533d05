/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Helpers shared by libcorey's source files; not installed.  Everything
 * here is hidden from the shared library's symbol table by libcorey.map.
 */
#ifndef COREY_INTERNAL_H
#define COREY_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include <corey.h>

/*
 * The kernel's answer to the feature probe, asked once per process: 1 if
 * it has descriptor shares, otherwise minus the errno that says why not
 * (-ENOSYS on a kernel without them).
 */
int corey_probe_shares(void);

/*
 * 0 if the kernel has descriptor shares; otherwise -1 with errno set to
 * why not.  For wrappers whose underlying call would not fail cleanly on
 * a kernel without them.
 */
int corey_require_shares(void);

/*
 * Kernel cores.  The handles are opaque to callers; the library's files
 * share their layout.  Only the producer thread touches a ring handle, so
 * nothing in it is atomic; what the kernel core also reads or writes (the
 * slots, the control page) is accessed with __atomic builtins where the
 * ring protocol orders it.
 */
struct corey_kcore {
	int fd;
	int tid;			/* the kernel core's thread */
	pid_t pid;			/* the process the mappings belong to */
	unsigned int nr_rings;
	const struct corey_kcore_ctl *ctl;	/* control page: a line per ring */
	struct corey_kcore_slot *rings;	/* nr_rings pages of slots */
	/* Which thread holds each ring's handle (0: none); __atomic only. */
	int owner[COREY_KCORE_RINGS_MAX];
};

/* What the producer posted in a slot: the kernel overwrites op and arg[0]. */
struct corey_kcore_posted {
	__u32 seq;
	__u32 op;
	__u64 arg0;
};

struct corey_kcore_ring {
	struct corey_kcore *kc;
	struct corey_kcore_slot *slots;
	const struct corey_kcore_ctl *ctl;
	unsigned int ring;
	int tid;			/* the producer */
	int wait_mode;			/* COREY_KCORE_SPIN or _BLOCK */
	/*
	 * Free-running request counters: the oldest outstanding request is
	 * in slot head % COREY_KCORE_RING_SLOTS, the next one goes to slot
	 * tail % COREY_KCORE_RING_SLOTS.  2^32 is a multiple of the slot
	 * count, so they may wrap.
	 */
	unsigned int head;
	unsigned int tail;
	struct corey_kcore_posted posted[COREY_KCORE_RING_SLOTS];
};

/* A completed request, copied out of its slot before the slot is reused. */
struct corey_kcore_done {
	unsigned int op;		/* as posted */
	unsigned int status;		/* from the high half of the slot's op */
	unsigned long result;		/* the slot's arg[0] */
	unsigned long args[6];		/* as posted; only for FALLBACK */
	unsigned long user_data;
};

/*
 * open(2) of the device, O_RDWR | O_CLOEXEC; "no such device" in any of
 * its forms (no node, a node without a driver) becomes ENODEV.
 */
int corey_kcore_open_device(void);

/* Post one request on r; corey_kcore_submit() without the checks. */
int corey_kcore_post(struct corey_kcore_ring *r, unsigned int op,
		     const unsigned long args[6], unsigned long user_data);

/*
 * Complete the oldest outstanding request into res (NULL: discard it).
 * flags as for corey_kcore_reap().  With restart, a blocking wait that a
 * signal interrupts is resumed instead of failing with EINTR.
 */
int corey_kcore_complete(struct corey_kcore_ring *r,
			 struct corey_kcore_result *res, int flags,
			 bool restart);

/* The kernel's error returns: -4095 .. -1, as the libc wrappers decode them. */
#define MAX_ERRNO 4095UL

/*
 * The common completion, a call made that succeeded: its result as it is.
 * False for anything else, which corey_kcore_finish() decodes.  In line,
 * so that reaping it costs no call and no errno save.
 */
static inline bool corey_kcore_done_ok(const struct corey_kcore_done *done,
				       struct corey_kcore_result *res)
{
	if (done->status != COREY_KCORE_DONE || done->result >= -MAX_ERRNO)
		return false;
	res->ret = (long)done->result;
	res->err = 0;
	res->status = COREY_KCORE_DONE;
	res->user_data = done->user_data;
	return true;
}

/*
 * Turn a completed request into its result: decode the return value, make
 * a FALLBACK call here, and raise the signal a DONE call would have raised
 * in the caller.
 */
void corey_kcore_finish(const struct corey_kcore_done *done,
			struct corey_kcore_result *res);

/*
 * Address ranges: the library's record of what corey_ar_map() mapped, so
 * that corey_cfork() can check the ranges a child keeps and unmap the
 * others in the child.  It is a set of addresses, not a list of calls:
 * sorted, disjoint spans, adjacent ones merged, each a whole number of
 * COREY_ADDR_RANGE_GRANULEs.  Every function but the lock itself needs
 * the lock held; a mapping call takes it around the system call too, so
 * that the record and the address space change together as corey_cfork()
 * sees them.
 */
struct corey_ar_span {
	uintptr_t start;
	uintptr_t end;			/* exclusive */
};

void corey_ar_lock(void);
void corey_ar_unlock(void);

/*
 * Make room for more spans, so that the corey_ar_add() or
 * corey_ar_remove() that follows a successful system call cannot fail.
 * Errors: ENOMEM.
 */
int corey_ar_reserve(size_t more);

/* Add [start, end) (uses at most one reserved span). */
void corey_ar_add(uintptr_t start, uintptr_t end);

/* Remove [start, end) (a split in the middle uses one reserved span). */
void corey_ar_remove(uintptr_t start, uintptr_t end);

/* Whether every address of [start, end) is in the record. */
bool corey_ar_covers(uintptr_t start, uintptr_t end);

/* The record as it is: *nr spans, valid until the next change. */
const struct corey_ar_span *corey_ar_spans(size_t *nr);

/*
 * Replace the record by spans[0..nr), taking over the array (malloc'd,
 * sorted, disjoint; NULL if nr is 0).  For a corey_cfork() child, whose
 * record is only what it kept.
 */
void corey_ar_adopt(struct corey_ar_span *spans, size_t nr);

#endif /* COREY_INTERNAL_H */
