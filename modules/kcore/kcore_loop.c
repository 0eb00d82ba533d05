// SPDX-License-Identifier: GPL-2.0
/*
 * Corey kernel cores: what the kernel core's thread runs.  Each pass
 * serves up to KCORE_BATCH requests from every attached ring, starting at a
 * rotating ring; after idle_ns without work it publishes NEED_WAKEUP and
 * sleeps (the Dekker pair with the client's fence-then-check, as io_uring's
 * SQPOLL does).  The rings are read through the kernel mapping, so a pass
 * never faults, never takes mmap_lock and cannot be stalled by what a
 * client writes: a slot whose seq is not the expected value just ends that
 * ring's turn.
 *
 * Copyright (C) 2026 Corey developers
 */
#include <linux/sched.h>
#include <linux/sched/task.h>
#include <linux/sched/user_worker.h>
#include <linux/smp.h>
#include <linux/timekeeping.h>

#include "kcore.h"

/* Take the loop's own reference on the ring's current producer. */
static void kcore_refresh_client(struct kcore *kc, struct kcore_ring *r)
{
	struct task_struct *old = r->client;

	spin_lock(&kc->lock);
	r->client = r->producer ? get_task_struct(r->producer) : NULL;
	r->seen_gen = r->gen;
	spin_unlock(&kc->lock);
	if (old)
		put_task_struct(old);
}

static u32 kcore_posted_seq(const struct kcore_ring *r)
{
	return 2 * r->lap + 1;
}

static void kcore_run_one(struct kcore *kc, struct kcore_ring *r,
			  struct corey_kcore_slot *slot)
{
	u32 op = READ_ONCE(slot->op);
	u32 status = COREY_KCORE_DONE;
	long ret = 0;

	if (op != COREY_KCORE_OP_NOP) {
		/*
		 * One read of each word: the client may rewrite them
		 * meanwhile.  Spelled out, because a loop of volatile reads
		 * is not unrolled, and an array left to fill would be
		 * zeroed first (INIT_STACK_ALL_ZERO): together 40
		 * instructions of every request.
		 */
		u64 args[6] = {
			READ_ONCE(slot->arg[0]), READ_ONCE(slot->arg[1]),
			READ_ONCE(slot->arg[2]), READ_ONCE(slot->arg[3]),
			READ_ONCE(slot->arg[4]), READ_ONCE(slot->arg[5]),
		};

		switch (user_worker_syscall(kc->uw, op, args, r->client, &ret)) {
		case USER_WORKER_DONE:
			break;
		case USER_WORKER_FALLBACK:
			status = COREY_KCORE_FALLBACK;
			ret = -EAGAIN;
			break;
		default:
			/* Exactly "no such system call": not on the allowlist. */
			status = COREY_KCORE_BADOP;
			ret = -ENOSYS;
			break;
		}
	}
	WRITE_ONCE(slot->arg[0], (u64)ret);
	WRITE_ONCE(slot->op, status << COREY_KCORE_STATUS_SHIFT |
			     (op & COREY_KCORE_OP_MASK));
}

static unsigned int kcore_serve_ring(struct kcore *kc, struct kcore_ring *r)
{
	unsigned int n, idx;
	u32 seq;

	if (READ_ONCE(r->gen) != r->seen_gen)
		kcore_refresh_client(kc, r);
	if (!r->client)
		return 0;

	/*
	 * The position in locals: only this thread moves it, and the
	 * compiler would otherwise reload it after every slot store.
	 */
	idx = r->idx;
	seq = kcore_posted_seq(r);
	for (n = 0; n < KCORE_BATCH; n++) {
		struct corey_kcore_slot *slot = &r->slots[idx];

		/* Pairs with the client's release store of seq. */
		if (smp_load_acquire(&slot->seq) != seq)
			break;
		kcore_run_one(kc, r, slot);
		/* Pairs with the client's acquire load of seq. */
		smp_store_release(&slot->seq, seq + 1);
		if (++idx == COREY_KCORE_RING_SLOTS) {
			idx = 0;
			r->lap++;
			seq = kcore_posted_seq(r);
		}
	}
	r->idx = idx;
	return n;
}

/*
 * Tell the clients where the loop runs.  Hotplug and cpuset changes move
 * the thread; it serves correctly from anywhere, only slower, and goes
 * home when its CPU is back.
 */
static void kcore_track_cpu(struct kcore *kc)
{
	int cpu = raw_smp_processor_id();
	unsigned int i;

	/* A plain test first: no locked instruction on every pass. */
	if (test_bit(KCORE_REPIN, &kc->flags) &&
	    test_and_clear_bit(KCORE_REPIN, &kc->flags)) {
		switch (user_worker_repin(kc->uw)) {
		case 0:
			kcore_clear_ctl_flags(kc, COREY_KCORE_HOMELESS);
			break;
		case -EAGAIN:
			/* Online but not active yet: the next pass retries. */
			set_bit(KCORE_REPIN, &kc->flags);
			break;
		}
	}
	if (cpu == kc->last_cpu)
		return;
	kc->last_cpu = cpu;
	for (i = 0; i < kc->nr_rings; i++)
		WRITE_ONCE(kc->ctl[i].cpu, cpu);
	if (cpu == kc->cpu)
		kcore_clear_ctl_flags(kc, COREY_KCORE_MIGRATED);
	else
		kcore_set_ctl_flags(kc, COREY_KCORE_MIGRATED);
}

static bool kcore_run(void *data)
{
	struct kcore *kc = data;
	unsigned int i, ring = kc->next_ring, done = 0;
	u64 now;

	kcore_track_cpu(kc);
	for (i = 0; i < kc->nr_rings; i++) {
		done += kcore_serve_ring(kc, &kc->rings[ring]);
		if (++ring == kc->nr_rings)
			ring = 0;
	}
	if (++kc->next_ring == kc->nr_rings)
		kc->next_ring = 0;

	if (done) {
		kc->idle_since = 0;
		/* Pairs with the barrier in prepare_to_wait() of a waiter. */
		if (wq_has_sleeper(&kc->done_wq))
			wake_up_all(&kc->done_wq);
		return true;
	}
	/* Only an idle pass reads the clock. */
	now = ktime_get_ns();
	if (!kc->idle_since)
		kc->idle_since = now;
	return now - kc->idle_since < kc->idle_ns;
}

static bool kcore_anything_posted(struct kcore *kc)
{
	unsigned int i;

	for (i = 0; i < kc->nr_rings; i++) {
		struct kcore_ring *r = &kc->rings[i];

		if (READ_ONCE(r->gen) != r->seen_gen ||
		    (r->client &&
		     READ_ONCE(r->slots[r->idx].seq) == kcore_posted_seq(r)))
			return true;
	}
	return false;
}

/*
 * NEED_WAKEUP goes on every ring, attached or not, so a ring attached
 * while the thread sleeps still sees it.  The barrier orders the flag
 * before the re-check; the client orders its post before reading the
 * flag: one of the two always sees the other's store.
 */
static bool kcore_prepare_sleep(void *data)
{
	struct kcore *kc = data;

	kcore_set_ctl_flags(kc, COREY_KCORE_NEED_WAKEUP);
	/* Flag before re-check; pairs with the client's post-then-fence. */
	smp_mb__after_atomic();
	if (kcore_anything_posted(kc)) {
		kcore_clear_ctl_flags(kc, COREY_KCORE_NEED_WAKEUP);
		return false;
	}
	return true;
}

static void kcore_finish_sleep(void *data)
{
	struct kcore *kc = data;

	kcore_clear_ctl_flags(kc, COREY_KCORE_NEED_WAKEUP);
	/* A new idle window starts now. */
	kc->idle_since = 0;
}

/* The last module code the thread runs. */
static void kcore_worker_exit(void *data)
{
	struct kcore *kc = data;
	unsigned int i;

	set_bit(KCORE_DEAD, &kc->flags);
	kcore_set_ctl_flags(kc, COREY_KCORE_DEAD);
	for (i = 0; i < kc->nr_rings; i++) {
		if (kc->rings[i].client) {
			put_task_struct(kc->rings[i].client);
			kc->rings[i].client = NULL;
		}
	}
	/* DEAD before the waiters re-check their condition. */
	smp_mb__after_atomic();
	wake_up_all(&kc->done_wq);
	kcore_put(kc);
}

const struct user_worker_ops kcore_worker_ops = {
	.owner		= THIS_MODULE,
	.run		= kcore_run,
	.prepare_sleep	= kcore_prepare_sleep,
	.finish_sleep	= kcore_finish_sleep,
	.exit		= kcore_worker_exit,
};
