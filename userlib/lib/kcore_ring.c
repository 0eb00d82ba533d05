// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * Kernel cores: a thread taking a ring (ATTACH), giving it up (DETACH),
 * and choosing how it waits.
 */
#include <errno.h>
#include <stdlib.h>
#include <unistd.h>
#include <sys/ioctl.h>

#include <corey.h>
#include "internal.h"

/* The value a slot's next post stores: its last completion plus one. */
static __u32 next_post(const struct corey_kcore_slot *slot)
{
	__u32 seq = __atomic_load_n(&slot->seq, __ATOMIC_ACQUIRE);

	/*
	 * Odd: posted (by the ring's previous producer) and not served yet;
	 * it completes as seq + 1, so the next post is seq + 2.  Either way
	 * the answer does not change while the kernel core completes it.
	 */
	return seq & 1 ? seq + 2 : seq + 1;
}

/*
 * The slot where posting resumes.  The kernel keeps its own position and
 * never says it, but the slots do: posts go in slot order, so in ring
 * order every slot has been used as often as the one before it, or once
 * less where the last post stopped.  That is the first slot whose next
 * post differs from slot 0's; if none does, every slot has been used
 * equally often and the next lap starts at slot 0 (a fresh ring: all
 * zero, slot 0, seq 1).  Comparing for equality keeps this right when the
 * 32-bit seq values wrap.
 */
static unsigned int resume_slot(const struct corey_kcore_slot *slots)
{
	__u32 first = next_post(&slots[0]);
	unsigned int k;

	for (k = 1; k < COREY_KCORE_RING_SLOTS; k++)
		if (next_post(&slots[k]) != first)
			return k;
	return 0;
}

struct corey_kcore_ring *corey_kcore_attach(struct corey_kcore *kc,
					    unsigned int ring)
{
	struct corey_kcore_attach attach = { .ring = ring };
	struct corey_kcore_ring *r;
	int tid = gettid();

	if (!kc || ring >= kc->nr_rings) {
		errno = EINVAL;
		return NULL;
	}
	/*
	 * The kernel answers 0 when the producer attaches again, but a
	 * second handle would post over the first one's slots.
	 */
	if (__atomic_load_n(&kc->owner[ring], __ATOMIC_RELAXED) == tid) {
		errno = EBUSY;
		return NULL;
	}
	r = calloc(1, sizeof(*r));
	if (!r)
		return NULL;
	if (ioctl(kc->fd, COREY_KCORE_ATTACH, &attach) < 0) {
		int saved_errno = errno;

		free(r);
		errno = saved_errno;
		return NULL;
	}
	/*
	 * Taking over from a producer that exited replaces its entry: the
	 * kernel has just said that it is gone.
	 */
	__atomic_store_n(&kc->owner[ring], tid, __ATOMIC_RELAXED);
	r->kc = kc;
	r->ring = ring;
	r->tid = tid;
	r->wait_mode = COREY_KCORE_SPIN;
	r->slots = (struct corey_kcore_slot *)
		((char *)kc->rings + (size_t)ring * COREY_KCORE_PAGE_SIZE);
	r->ctl = &kc->ctl[ring];
	/*
	 * Requests the previous producer left posted are served first, in
	 * order; they are not this handle's to reap.  corey_kcore_post()
	 * refuses to reuse their slots until they are done.
	 */
	r->head = r->tail = resume_slot(r->slots);
	return r;
}

int corey_kcore_detach(struct corey_kcore_ring *r)
{
	struct corey_kcore_attach detach;
	int err = 0;

	if (!r) {
		errno = EINVAL;
		return -1;
	}
	/* A child of fork() has no ring (nor the right to ask): just free. */
	if (getpid() != r->kc->pid) {
		free(r);
		return 0;
	}
	if (gettid() != r->tid) {
		errno = EINVAL;
		return -1;
	}
	/*
	 * A detached ring is not served: finish what was posted first, so
	 * that every request submitted is made (FALLBACK ones here).  The
	 * results go nowhere.  A signal does not stop this: the kernel core
	 * is serving the ring and the wait is short.  On a dead kernel core
	 * each request fails with EOWNERDEAD and is dropped.
	 */
	while (r->head != r->tail) {
		if (corey_kcore_complete(r, NULL, 0, true) < 0) {
			err = errno;
			if (err != EOWNERDEAD)
				break;
		}
	}
	detach.ring = r->ring;
	detach.flags = 0;
	/*
	 * EOWNERDEAD: the kernel core has exited and no longer serves
	 * anything; there is nothing left to give up.
	 */
	if (ioctl(r->kc->fd, COREY_KCORE_DETACH, &detach) < 0 && !err &&
	    errno != EOWNERDEAD)
		err = errno;
	__atomic_store_n(&r->kc->owner[r->ring], 0, __ATOMIC_RELAXED);
	free(r);
	if (err) {
		errno = err;
		return -1;
	}
	return 0;
}

int corey_kcore_set_wait(struct corey_kcore_ring *r, int mode)
{
	if (!r || (mode != COREY_KCORE_SPIN && mode != COREY_KCORE_BLOCK)) {
		errno = EINVAL;
		return -1;
	}
	r->wait_mode = mode;
	return 0;
}
