// SPDX-License-Identifier: GPL-2.0
/*
 * Corey kernel cores: the misc device.  Opening it gives an empty context;
 * COREY_KCORE_SETUP creates the kernel core (a user worker of the calling
 * process, see <linux/sched/user_worker.h>) with its rings; mmap maps the
 * control page and the rings; ATTACH, DETACH, WAKE and WAIT serve the
 * clients.  Everything a client passes is untrusted.
 *
 * Copyright (C) 2026 Corey developers
 */
#include <linux/fs.h>
#include <linux/gfp.h>
#include <linux/miscdevice.h>
#include <linux/mm.h>
#include <linux/module.h>
#include <linux/nospec.h>
#include <linux/sched/mm.h>
#include <linux/sched/signal.h>
#include <linux/sched/task.h>
#include <linux/sched/user_worker.h>
#include <linux/slab.h>
#include <linux/uaccess.h>

#include "kcore.h"

#define KCORE_DEFAULT_IDLE_US	1000000U

/*
 * Everything SETUP acquires, in any state it can be left in: a failed
 * SETUP undoes itself with this, the last reference frees with it.
 */
static void kcore_release_setup(struct kcore *kc)
{
	unsigned int i;

	for (i = 0; kc->rings && i < kc->nr_rings; i++) {
		struct kcore_ring *r = &kc->rings[i];

		if (r->producer)
			put_task_struct(r->producer);
		if (r->client)
			put_task_struct(r->client);
		if (r->page)
			__free_page(r->page);
	}
	kfree(kc->rings);
	kc->rings = NULL;
	if (kc->ctl_page)
		__free_page(kc->ctl_page);
	kc->ctl_page = NULL;
	kc->ctl = NULL;
	if (kc->mm)
		mmdrop(kc->mm);
	kc->mm = NULL;
}

static void kcore_free(struct kcore *kc)
{
	kcore_release_setup(kc);
	kfree(kc);
}

void kcore_put(struct kcore *kc)
{
	if (refcount_dec_and_test(&kc->refs))
		kcore_free(kc);
}

void kcore_set_ctl_flags(struct kcore *kc, u32 flags)
{
	unsigned int i;

	for (i = 0; i < kc->nr_rings; i++)
		atomic_or(flags, &kc->ctl[i].flags);
}

void kcore_clear_ctl_flags(struct kcore *kc, u32 flags)
{
	unsigned int i;

	for (i = 0; i < kc->nr_rings; i++)
		atomic_andnot(flags, &kc->ctl[i].flags);
}

static int kcore_open(struct inode *inode, struct file *file)
{
	struct kcore *kc;

	kc = kzalloc(sizeof(*kc), GFP_KERNEL_ACCOUNT);
	if (!kc)
		return -ENOMEM;
	refcount_set(&kc->refs, 1);
	mutex_init(&kc->setup_lock);
	spin_lock_init(&kc->lock);
	init_waitqueue_head(&kc->done_wq);
	kc->last_cpu = -1;
	file->private_data = kc;
	return 0;
}

/*
 * The thread may be the caller (a client can post close() of this file),
 * and a stopped or frozen thread must not block a close: stop it and let
 * the references free what it still uses.
 */
static int kcore_release(struct inode *inode, struct file *file)
{
	struct kcore *kc = file->private_data;

	if (test_bit(KCORE_READY, &kc->flags)) {
		kcore_cpu_remove(kc);
		user_worker_stop(kc->uw);
		user_worker_put(kc->uw);
	}
	kcore_put(kc);
	return 0;
}

/* The kernel core's memory: zeroed pages on its CPU's node, charged. */
static struct page *kcore_alloc_page(int cpu)
{
	return alloc_pages_node(cpu_to_node(cpu),
				GFP_KERNEL_ACCOUNT | __GFP_ZERO, 0);
}

static int kcore_alloc_rings(struct kcore *kc)
{
	unsigned int i;

	kc->rings = kcalloc(kc->nr_rings, sizeof(*kc->rings),
			    GFP_KERNEL_ACCOUNT);
	if (!kc->rings)
		return -ENOMEM;
	kc->ctl_page = kcore_alloc_page(kc->cpu);
	if (!kc->ctl_page)
		return -ENOMEM;
	kc->ctl = page_address(kc->ctl_page);
	for (i = 0; i < kc->nr_rings; i++) {
		struct page *page = kcore_alloc_page(kc->cpu);

		if (!page)
			return -ENOMEM;
		kc->rings[i].page = page;
		kc->rings[i].slots = page_address(page);
		kc->ctl[i].cpu = kc->cpu;
	}
	return 0;
}

static long kcore_setup(struct kcore *kc,
			struct corey_kcore_setup __user *uarg)
{
	struct corey_kcore_setup s;
	char name[TASK_COMM_LEN];
	struct user_worker *uw;
	u32 usize;
	int ret;

	if (get_user(usize, &uarg->size))
		return -EFAULT;
	if (usize < COREY_KCORE_SETUP_SIZE_VER0)
		return -EINVAL;
	ret = copy_struct_from_user(&s, sizeof(s), uarg, usize);
	if (ret)
		return ret;
	if (s.flags || s.__reserved[0] || s.__reserved[1] ||
	    !s.nr_rings || s.nr_rings > COREY_KCORE_RINGS_MAX ||
	    s.cpu < 0 || s.cpu >= nr_cpu_ids)
		return -EINVAL;

	mutex_lock(&kc->setup_lock);
	if (test_bit(KCORE_READY, &kc->flags)) {
		/* As for every other call: not from another process. */
		ret = current->mm == kc->mm ? -EBUSY : -EPERM;
		goto out_unlock;
	}
	kc->cpu = s.cpu;
	kc->last_cpu = s.cpu;
	kc->nr_rings = s.nr_rings;
	kc->idle_ns = (u64)(s.idle_us ?: KCORE_DEFAULT_IDLE_US) * NSEC_PER_USEC;
	ret = kcore_alloc_rings(kc);
	if (ret)
		goto out_undo;
	kc->mm = current->mm;
	mmgrab(kc->mm);

	snprintf(name, sizeof(name), "kcore/%d", s.cpu);
	uw = user_worker_create(&kcore_worker_ops, kc, name, s.cpu);
	if (IS_ERR(uw)) {
		ret = PTR_ERR(uw);
		goto out_undo;
	}
	kc->uw = uw;
	refcount_inc(&kc->refs);	/* the thread's */
	s.tid = user_worker_tid(uw);
	/* Publish before the thread, another ioctl or hotplug can look. */
	smp_mb__before_atomic();
	set_bit(KCORE_READY, &kc->flags);
	kcore_cpu_add(kc);
	user_worker_start(uw);
	mutex_unlock(&kc->setup_lock);

	/* The kernel core exists whatever happens here; SETUP is done. */
	if (copy_to_user(uarg, &s, min_t(size_t, usize, sizeof(s))))
		return -EFAULT;
	return 0;

out_undo:
	kcore_release_setup(kc);
out_unlock:
	mutex_unlock(&kc->setup_lock);
	return ret;
}

/*
 * The context a call other than SETUP needs: a kernel core, and a caller
 * in its process (a forked child still holds the file, but must not drive
 * the parent's kernel core).
 */
static int kcore_check_caller(struct kcore *kc)
{
	/* Pairs with the barrier before set_bit() in kcore_setup(). */
	if (!test_bit_acquire(KCORE_READY, &kc->flags))
		return -EINVAL;
	if (current->mm != kc->mm)
		return -EPERM;
	return 0;
}

static struct kcore_ring *kcore_user_ring(struct kcore *kc, u32 ring)
{
	if (ring >= kc->nr_rings)
		return NULL;
	return &kc->rings[array_index_nospec(ring, kc->nr_rings)];
}

static long kcore_attach(struct kcore *kc,
			 struct corey_kcore_attach __user *uarg, bool attach)
{
	struct task_struct *old = NULL;
	struct corey_kcore_attach a;
	struct kcore_ring *r;
	long ret = 0;

	if (copy_from_user(&a, uarg, sizeof(a)))
		return -EFAULT;
	r = kcore_user_ring(kc, a.ring);
	if (!r || a.flags)
		return -EINVAL;
	if (attach && test_bit(KCORE_DEAD, &kc->flags))
		return -EOWNERDEAD;

	spin_lock(&kc->lock);
	if (!attach) {
		if (r->producer != current) {
			ret = -EINVAL;
		} else {
			old = r->producer;
			r->producer = NULL;
			WRITE_ONCE(r->gen, r->gen + 1);
		}
	} else if (r->producer != current) {
		/* A producer that is leaving cannot post any more. */
		if (r->producer && !(READ_ONCE(r->producer->flags) & PF_EXITING)) {
			ret = -EBUSY;
		} else {
			old = r->producer;
			r->producer = get_task_struct(current);
			WRITE_ONCE(r->gen, r->gen + 1);
		}
	}
	spin_unlock(&kc->lock);
	/* The loop holds its own reference while it serves the ring. */
	if (old)
		put_task_struct(old);
	if (!ret && attach)
		user_worker_wake(kc->uw);
	return ret;
}

static long kcore_wait(struct kcore *kc, struct corey_kcore_wait __user *uarg)
{
	struct corey_kcore_slot *slot;
	struct corey_kcore_wait w;
	struct kcore_ring *r;
	int ret;

	if (copy_from_user(&w, uarg, sizeof(w)))
		return -EFAULT;
	r = kcore_user_ring(kc, w.ring);
	if (!r || w.slot >= COREY_KCORE_RING_SLOTS || w.flags)
		return -EINVAL;
	slot = &r->slots[array_index_nospec(w.slot, COREY_KCORE_RING_SLOTS)];

	user_worker_wake(kc->uw);
	ret = wait_event_interruptible(kc->done_wq,
				       READ_ONCE(slot->seq) != w.seq ||
				       test_bit(KCORE_DEAD, &kc->flags));
	if (ret)
		return ret;
	/*
	 * Dead, unless it completed the request on its way out.  Only then:
	 * a client may rewrite seq at any time, so seeing the posted value
	 * again proves nothing while the kernel core lives.
	 */
	if (test_bit(KCORE_DEAD, &kc->flags) && READ_ONCE(slot->seq) == w.seq)
		return -EOWNERDEAD;
	return 0;
}

static long kcore_ioctl(struct file *file, unsigned int cmd, unsigned long arg)
{
	struct kcore *kc = file->private_data;
	void __user *uarg = (void __user *)arg;
	long ret;

	if (cmd == COREY_KCORE_SETUP)
		return kcore_setup(kc, uarg);
	switch (cmd) {
	case COREY_KCORE_ATTACH:
	case COREY_KCORE_DETACH:
	case COREY_KCORE_WAKE:
	case COREY_KCORE_WAIT:
		break;
	default:
		return -ENOTTY;
	}
	ret = kcore_check_caller(kc);
	if (ret)
		return ret;

	switch (cmd) {
	case COREY_KCORE_ATTACH:
		return kcore_attach(kc, uarg, true);
	case COREY_KCORE_DETACH:
		return kcore_attach(kc, uarg, false);
	case COREY_KCORE_WAKE:
		if (test_bit(KCORE_DEAD, &kc->flags))
			return -EOWNERDEAD;
		user_worker_wake(kc->uw);
		return 0;
	default:
		return kcore_wait(kc, uarg);
	}
}

/*
 * The control page read-only, or a run of rings read-write; shared, never
 * executable, never inherited, never grown.  vm_insert_pages() takes a
 * reference on every page, so a mapping outliving the context is safe.
 */
static int kcore_mmap(struct file *file, struct vm_area_struct *vma)
{
	struct kcore *kc = file->private_data;
	unsigned long npages = vma_pages(vma);
	struct page *pages[COREY_KCORE_RINGS_MAX];
	unsigned long first, i, num;
	int ret;

	ret = kcore_check_caller(kc);
	if (ret)
		return ret;
	if (!(vma->vm_flags & VM_SHARED))
		return -EINVAL;
	if (vma->vm_flags & VM_EXEC)
		return -EPERM;

	if (vma->vm_pgoff == 0) {
		if (npages != 1)
			return -EINVAL;
		if (vma->vm_flags & VM_WRITE)
			return -EPERM;
		vm_flags_clear(vma, VM_MAYWRITE);
		pages[0] = kc->ctl_page;
	} else {
		first = vma->vm_pgoff - 1;
		if (first >= kc->nr_rings || npages > kc->nr_rings - first)
			return -EINVAL;
		for (i = 0; i < npages; i++)
			pages[i] = kc->rings[first + i].page;
	}
	vm_flags_clear(vma, VM_MAYEXEC);
	vm_flags_set(vma, VM_DONTCOPY | VM_DONTEXPAND | VM_DONTDUMP);
	num = npages;
	return vm_insert_pages(vma, vma->vm_start, pages, &num);
}

static const struct file_operations kcore_fops = {
	.owner		= THIS_MODULE,
	.open		= kcore_open,
	.release	= kcore_release,
	.unlocked_ioctl	= kcore_ioctl,
	.mmap		= kcore_mmap,
	.llseek		= noop_llseek,
};

static struct miscdevice kcore_misc = {
	.minor	= MISC_DYNAMIC_MINOR,
	.name	= "corey_kcore",
	.fops	= &kcore_fops,
	.mode	= 0666,
};

static int __init kcore_init(void)
{
	int ret;

	ret = kcore_cpu_init();
	if (ret)
		return ret;
	ret = misc_register(&kcore_misc);
	if (ret)
		kcore_cpu_exit();
	return ret;
}

/*
 * Every kernel core holds a module reference until its thread has left
 * the module's code, and every open file holds one through fops, so
 * nothing of ours runs any more.
 */
static void __exit kcore_exit(void)
{
	misc_deregister(&kcore_misc);
	kcore_cpu_exit();
}

module_init(kcore_init);
module_exit(kcore_exit);
MODULE_DESCRIPTION("Corey kernel cores: a dedicated CPU serving system calls posted on rings");
MODULE_AUTHOR("Corey developers <corey@localhost>");
MODULE_LICENSE("GPL");
