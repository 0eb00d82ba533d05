// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * Kernel cores: posting requests on a ring and waiting for them, the
 * producer's half of the ring protocol.  This is the fast path: no system
 * call unless the kernel core sleeps or the caller asked to block.
 */
#include <errno.h>
#include <sys/ioctl.h>

#include <corey.h>
#include "internal.h"

/*
 * Spins between two looks at the control line while waiting: often enough
 * to notice a dead kernel core quickly, rarely enough not to pull the line
 * away from the kernel core on every spin.
 */
#define CHECK_SPINS 4096

static inline void cpu_relax(void)
{
#if defined(__x86_64__) || defined(__i386__)
	__builtin_ia32_pause();
#elif defined(__aarch64__)
	__asm__ __volatile__("yield" ::: "memory");
#else
	__atomic_signal_fence(__ATOMIC_SEQ_CST);
#endif
}

static bool completed(const struct corey_kcore_slot *slot, __u32 posted)
{
	/* Acquire: the result was written before seq moved on. */
	return __atomic_load_n(&slot->seq, __ATOMIC_ACQUIRE) != posted;
}

/*
 * A request still pending on a dead kernel core never completes.  The
 * kernel core may have completed it just before exiting, so look at the
 * slot again once DEAD is seen.
 */
static bool lost(const struct corey_kcore_ring *r,
		 const struct corey_kcore_slot *slot, __u32 posted)
{
	return (__atomic_load_n(&r->ctl->flags, __ATOMIC_ACQUIRE) &
		COREY_KCORE_DEAD) && !completed(slot, posted);
}

static void wake(const struct corey_kcore_ring *r)
{
	/* 0, or EOWNERDEAD, which the DEAD flag says too. */
	ioctl(r->kc->fd, COREY_KCORE_WAKE);
}

/*
 * The periodic look at the control line while a request is pending: fail
 * if the kernel core is gone, and wake it if it sleeps.  The latter cannot
 * be needed with the protocol in corey_kcore_post(); if a wake-up were
 * lost anyway, it turns a hang into a delay.
 */
static int check_ctl(const struct corey_kcore_ring *r,
		     const struct corey_kcore_slot *slot, __u32 posted)
{
	__u32 flags = __atomic_load_n(&r->ctl->flags, __ATOMIC_RELAXED);

	if ((flags & COREY_KCORE_DEAD) && lost(r, slot, posted)) {
		errno = EOWNERDEAD;
		return -1;
	}
	if (flags & COREY_KCORE_NEED_WAKEUP)
		wake(r);
	return 0;
}

/*
 * A post that found the slot still posted, or the kernel core asleep or
 * dead: out of line, so that the common post stays short.
 */
__attribute__((noinline))
static int post_slot_busy(const struct corey_kcore_ring *r,
			  const struct corey_kcore_slot *slot, __u32 seq)
{
	/*
	 * Still posted: left by the ring's previous producer and not served
	 * yet (reaping this handle's older requests waits it out), or
	 * dropped on a dead kernel core.
	 */
	errno = lost(r, slot, seq) ? EOWNERDEAD : EAGAIN;
	return -1;
}

__attribute__((noinline))
static int post_flagged(const struct corey_kcore_ring *r,
			const struct corey_kcore_slot *slot, __u32 seq,
			__u32 flags)
{
	if (flags & COREY_KCORE_NEED_WAKEUP)
		wake(r);
	/*
	 * A request on a dead kernel core is not counted as outstanding: its
	 * slot stays posted for good, and the next post finds it so and fails
	 * the same way.  NEED_WAKEUP too: the kernel core may have died
	 * asleep, after the flags were read.
	 */
	if (lost(r, slot, seq)) {
		errno = EOWNERDEAD;
		return -1;
	}
	return 0;
}

int corey_kcore_post(struct corey_kcore_ring *r, unsigned int op,
		     const unsigned long args[6], unsigned long user_data)
{
	static const unsigned long no_args[6];
	unsigned int idx = r->tail % COREY_KCORE_RING_SLOTS;
	struct corey_kcore_slot *slot = &r->slots[idx];
	struct corey_kcore_posted *posted = &r->posted[idx];
	__u32 seq, flags;

	if (r->tail - r->head == COREY_KCORE_RING_SLOTS) {
		errno = EAGAIN;
		return -1;
	}
	seq = __atomic_load_n(&slot->seq, __ATOMIC_ACQUIRE);
	if (seq & 1)
		return post_slot_busy(r, slot, seq);
	if (!args)
		args = no_args;
	seq++;
	/* Unrolled: this is every request's cost on the client's side. */
	slot->op = op;
	slot->arg[0] = args[0];
	slot->arg[1] = args[1];
	slot->arg[2] = args[2];
	slot->arg[3] = args[3];
	slot->arg[4] = args[4];
	slot->arg[5] = args[5];
	slot->user_data = user_data;
	__atomic_store_n(&slot->seq, seq, __ATOMIC_RELEASE);
	/*
	 * The kernel core sets NEED_WAKEUP, fences, then looks at the rings
	 * once more before it sleeps; we store seq, fence, then look at the
	 * flag.  One of the two sees the other's store, so a request is
	 * never left posted with the kernel core asleep.
	 */
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
	flags = __atomic_load_n(&r->ctl->flags, __ATOMIC_RELAXED);
	if ((flags & (COREY_KCORE_DEAD | COREY_KCORE_NEED_WAKEUP)) &&
	    post_flagged(r, slot, seq, flags))
		return -1;
	posted->seq = seq;
	posted->op = op;
	posted->arg0 = args[0];
	r->tail++;
	return 0;
}

static int spin_wait(const struct corey_kcore_ring *r,
		     const struct corey_kcore_slot *slot, __u32 posted)
{
	unsigned int spins = 0;

	while (!completed(slot, posted)) {
		if (++spins % CHECK_SPINS == 0 && check_ctl(r, slot, posted))
			return -1;
		cpu_relax();
	}
	return 0;
}

static int block_wait(const struct corey_kcore_ring *r, unsigned int idx,
		      __u32 posted, bool restart)
{
	struct corey_kcore_wait wait = {
		.ring = r->ring,
		.slot = idx,
		.seq = posted,
	};

	/* WAIT wakes the kernel core itself if it sleeps. */
	while (!completed(&r->slots[idx], posted)) {
		if (ioctl(r->kc->fd, COREY_KCORE_WAIT, &wait) < 0 &&
		    (errno != EINTR || !restart))
			return -1;
	}
	return 0;
}

/* Wait for slot idx to complete, as flags and the ring's wait mode say. */
static int wait_slot(const struct corey_kcore_ring *r, unsigned int idx,
		     __u32 posted, int flags, bool restart)
{
	const struct corey_kcore_slot *slot = &r->slots[idx];

	if (flags & COREY_KCORE_NOWAIT) {
		/* A caller that polls this way spins: same checks. */
		if (check_ctl(r, slot, posted) < 0)
			return -1;
		errno = EAGAIN;
		return -1;
	}
	if (r->wait_mode == COREY_KCORE_BLOCK)
		return block_wait(r, idx, posted, restart);
	return spin_wait(r, slot, posted);
}

/*
 * The kernel core exited before making the oldest request: it never will.
 * Stop counting it, so that reaping moves on to the next one (which fails
 * the same way) and ends with ENOENT, each request accounted for once.
 * Its slot stays posted, which corey_kcore_post() takes for a dead ring.
 */
static void drop(struct corey_kcore_ring *r,
		 const struct corey_kcore_slot *slot,
		 struct corey_kcore_result *res)
{
	if (res) {
		res->ret = -1;
		res->err = EOWNERDEAD;
		res->status = 0;
		res->user_data = slot->user_data;
	}
	r->head++;
	errno = EOWNERDEAD;
}

int corey_kcore_complete(struct corey_kcore_ring *r,
			 struct corey_kcore_result *res, int flags,
			 bool restart)
{
	unsigned int idx = r->head % COREY_KCORE_RING_SLOTS;
	const struct corey_kcore_slot *slot = &r->slots[idx];
	const struct corey_kcore_posted *posted = &r->posted[idx];
	struct corey_kcore_result discard;
	struct corey_kcore_done done;
	int i;

	if (r->head == r->tail) {
		errno = ENOENT;
		return -1;
	}
	if (!completed(slot, posted->seq) &&
	    wait_slot(r, idx, posted->seq, flags, restart) < 0) {
		if (errno == EOWNERDEAD)
			drop(r, slot, res);
		return -1;
	}
	/* Copy it all out: once head moves on, the slot is free again. */
	done.status = slot->op >> COREY_KCORE_STATUS_SHIFT;
	done.result = slot->arg[0];
	done.user_data = slot->user_data;
	if (res && corey_kcore_done_ok(&done, res)) {
		r->head++;
		return 0;
	}
	done.op = posted->op;
	if (done.status == COREY_KCORE_FALLBACK) {
		done.args[0] = posted->arg0;
		for (i = 1; i < 6; i++)
			done.args[i] = slot->arg[i];
	}
	r->head++;
	corey_kcore_finish(&done, res ? res : &discard);
	return 0;
}

int corey_kcore_submit(struct corey_kcore_ring *r, unsigned int op,
		       const unsigned long args[6], unsigned long user_data)
{
	if (!r) {
		errno = EINVAL;
		return -1;
	}
	return corey_kcore_post(r, op, args, user_data);
}

int corey_kcore_reap(struct corey_kcore_ring *r,
		     struct corey_kcore_result *res, int flags)
{
	if (!r || (flags & ~COREY_KCORE_NOWAIT)) {
		errno = EINVAL;
		return -1;
	}
	return corey_kcore_complete(r, res, flags, false);
}
