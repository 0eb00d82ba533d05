/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Corey kernel cores: the state shared by the device (kcore_dev.c), the
 * serving loop (kcore_loop.c) and CPU hotplug (kcore_cpu.c).
 */
#ifndef COREY_KCORE_H
#define COREY_KCORE_H

#include <linux/atomic.h>
#include <linux/cpuhotplug.h>
#include <linux/mutex.h>
#include <linux/refcount.h>
#include <linux/spinlock.h>
#include <linux/types.h>
#include <linux/wait.h>
#include <linux/corey.h>

struct mm_struct;
struct page;
struct task_struct;
struct user_worker;

/* Requests taken from one ring per pass, so that no ring starves another. */
#define KCORE_BATCH	16

/*
 * The control page's kernel view: the same layout as struct
 * corey_kcore_ctl, with the flags word atomic because the loop, the
 * hotplug callbacks and exit all update it.
 */
struct kcore_ctl {
	atomic_t flags;
	u32 cpu;
	u32 __reserved[14];
};

struct kcore_ring {
	struct corey_kcore_slot *slots;	/* page_address(page) */
	struct page *page;
	/*
	 * The next slot to serve and how many times the ring has wrapped:
	 * the loop's own state, never read from the ring.  On the ring's
	 * lap-th pass, slot idx is posted when its seq is 2 * lap + 1
	 * (mod 2^32).
	 */
	u32 idx;
	u32 lap;
	/* Set by ATTACH and DETACH under kcore->lock; gen counts changes. */
	struct task_struct *producer;
	u32 gen;
	/* The loop's own reference to the producer, refreshed when gen moves. */
	struct task_struct *client;
	u32 seen_gen;
};

enum kcore_flags {
	KCORE_READY,	/* SETUP is done: uw, rings and ctl exist */
	KCORE_DEAD,	/* the kernel core's thread has left */
	KCORE_REPIN,	/* its CPU came back: pin to it again */
	KCORE_CPUHP,	/* registered for CPU hotplug callbacks */
};

struct kcore {
	/* One reference for the open file, one for the thread. */
	refcount_t refs;
	unsigned long flags;
	struct mutex setup_lock;	/* serialises SETUP */
	spinlock_t lock;		/* producer and gen of every ring */
	struct mm_struct *mm;		/* the creator's, mmgrab()bed */
	struct user_worker *uw;
	int cpu;
	unsigned int nr_rings;
	struct kcore_ring *rings;
	struct page *ctl_page;
	struct kcore_ctl *ctl;
	u64 idle_ns;
	/* Loop state, touched only by the kernel core's thread. */
	u64 idle_since;
	unsigned int next_ring;
	int last_cpu;
	/* Clients blocked in COREY_KCORE_WAIT. */
	wait_queue_head_t done_wq;
	struct hlist_node cpuhp_node;
};

extern const struct user_worker_ops kcore_worker_ops;

void kcore_put(struct kcore *kc);
void kcore_set_ctl_flags(struct kcore *kc, u32 flags);
void kcore_clear_ctl_flags(struct kcore *kc, u32 flags);

int kcore_cpu_init(void);
void kcore_cpu_exit(void);
void kcore_cpu_add(struct kcore *kc);
void kcore_cpu_remove(struct kcore *kc);

#endif /* COREY_KCORE_H */
