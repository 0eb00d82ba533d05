/* SPDX-License-Identifier: GPL-2.0 WITH Linux-syscall-note */
/*
 * Corey on Linux: application-chosen sharing of kernel structures.
 *
 * Descriptor shares (CONFIG_COREY_SHARES): a share is a descriptor table
 * beside the process's ordinary one (share 0). A descriptor that lives in
 * share S is an ordinary non-negative int with bit 30 set, S in bits 29-20
 * and the slot in bits 19-0, so every fd syscall accepts it unchanged.
 * See Documentation/filesystems/corey-shares.rst.
 */
#ifndef _UAPI_LINUX_COREY_H
#define _UAPI_LINUX_COREY_H

#include <linux/ioctl.h>
#include <linux/types.h>

/* Layout of a share-qualified descriptor. */
#define COREY_FD_TAG		0x40000000U
#define COREY_FD_SHARE_SHIFT	20
#define COREY_FD_SHARE_MASK	0x3ffU
#define COREY_FD_SLOT_MASK	0xfffffU

/* Share indexes run from 1 to COREY_SHARE_MAX; 1023 is reserved. */
#define COREY_SHARE_MAX		1022
#define COREY_SHARE_SLOTS	(COREY_FD_SLOT_MASK + 1)

#define COREY_FD(share, slot)						\
	((int)(COREY_FD_TAG |						\
	       (((unsigned int)(share) & COREY_FD_SHARE_MASK) <<	\
		COREY_FD_SHARE_SHIFT) |					\
	       ((unsigned int)(slot) & COREY_FD_SLOT_MASK)))
#define COREY_FD_IS_TAGGED(fd)	(((unsigned int)(fd) >> 30) == 1)
#define COREY_FD_SHARE(fd)						\
	(((unsigned int)(fd) >> COREY_FD_SHARE_SHIFT) & COREY_FD_SHARE_MASK)
#define COREY_FD_SLOT(fd)	((unsigned int)(fd) & COREY_FD_SLOT_MASK)

/* corey_share_create() flags. */
#define COREY_SHARE_SHARED	0x1U	/* visible to every task sharing share 0 */
#define COREY_SHARE_CLOEXEC	0x2U	/* the whole share is destroyed by execve */
#define COREY_SHARE_FLAGS	(COREY_SHARE_SHARED | COREY_SHARE_CLOEXEC)

/* prctl(PR_COREY, op, ...): the calling thread's default allocation share. */
#define PR_COREY			0x43524559	/* "CREY" */
#define PR_COREY_SET_ALLOC_SHARE	1
#define PR_COREY_GET_ALLOC_SHARE	2

/*
 * System call numbers. They sit far above upstream's range (462 in 6.12)
 * and outside x32's legacy 512-547, so they cannot collide with a future
 * upstream call. Only x86_64 is wired.
 */
#if defined(__x86_64__) && !defined(__ILP32__)
#ifndef __NR_corey_share_create
#define __NR_corey_share_create		1000
#endif
#ifndef __NR_corey_share_destroy
#define __NR_corey_share_destroy	1001
#endif
#endif

/*
 * Kernel cores (CONFIG_COREY_USER_WORKER and the corey_kcore module): a
 * thread of the calling process, pinned to a chosen CPU, that runs only in
 * the kernel and serves system calls that the process's threads post on
 * per-client rings.  See Documentation/userspace-api/corey-kcore.rst.
 *
 * Memory (mmap of the device, MAP_SHARED, one page each):
 *   COREY_KCORE_OFF_CTL      the control page, read-only: one
 *                            struct corey_kcore_ctl per ring;
 *   COREY_KCORE_OFF_RING(i)  ring i, read-write: COREY_KCORE_RING_SLOTS
 *                            slots of 64 bytes.
 * A ring has one producer, the thread that attached it.  It posts slots in
 * order, 0, 1, ... 63, 0, ...: the payload first, then seq = 2t + 1 with a
 * release store, where t counts the slot's earlier uses.  The kernel core
 * writes the result to arg[0] and a status to the high half of op, then
 * seq = 2t + 2.  Any other seq leaves the ring stalled there; the kernel
 * never reads an index from the ring.
 */
#define COREY_KCORE_DEVICE		"/dev/corey_kcore"
#define COREY_KCORE_RINGS_MAX		64
#define COREY_KCORE_RING_SLOTS		64
#define COREY_KCORE_PAGE_SIZE		4096
#define COREY_KCORE_OFF_CTL		0ULL
#define COREY_KCORE_OFF_RING(ring)					\
	(((__u64)(ring) + 1) * COREY_KCORE_PAGE_SIZE)

struct corey_kcore_slot {
	__u32 seq;		/* 2t + 1: posted; 2t + 2: completed */
	__u32 op;		/* low half: request; high half: status */
	__u64 arg[6];		/* arguments; arg[0] is the result */
	__u64 user_data;	/* never touched by the kernel */
};

/* Requests: a system call number from the allowlist, or a ring no-op. */
#define COREY_KCORE_OP_MASK		0xffffU
#define COREY_KCORE_OP_NOP		0x8000U
/* Status, in op >> COREY_KCORE_STATUS_SHIFT once seq is even. */
#define COREY_KCORE_STATUS_SHIFT	16
#define COREY_KCORE_DONE		1	/* arg[0]: the call's return */
#define COREY_KCORE_FALLBACK		2	/* not run: make the call yourself */
#define COREY_KCORE_BADOP		3	/* not on the allowlist; -ENOSYS */

/* One cache line per ring on the control page. */
struct corey_kcore_ctl {
	__u32 flags;
	__u32 cpu;		/* the CPU the kernel core last served from */
	__u32 __reserved[14];
};

#define COREY_KCORE_NEED_WAKEUP		0x1U	/* asleep: COREY_KCORE_WAKE */
#define COREY_KCORE_DEAD		0x2U	/* the kernel core has exited */
#define COREY_KCORE_HOMELESS		0x4U	/* its CPU is offline */
#define COREY_KCORE_MIGRATED		0x8U	/* it runs away from its CPU */

struct corey_kcore_setup {
	__u32 size;		/* in: sizeof(struct corey_kcore_setup) */
	__u32 flags;		/* in: 0 */
	__s32 cpu;		/* in: the CPU to dedicate */
	__u32 nr_rings;		/* in: 1 .. COREY_KCORE_RINGS_MAX */
	__u32 idle_us;		/* in: spin this long idle, then sleep; 0: 1 s */
	__u32 tid;		/* out: the kernel core's thread id */
	__u64 __reserved[2];	/* in: 0 */
};

#define COREY_KCORE_SETUP_SIZE_VER0	40

struct corey_kcore_attach {
	__u32 ring;		/* the ring the calling thread will produce on */
	__u32 flags;		/* 0 */
};

struct corey_kcore_wait {
	__u32 ring;
	__u32 slot;
	__u32 seq;		/* the posted value: wait until seq differs */
	__u32 flags;		/* 0 */
};

#define COREY_KCORE_IOC_MAGIC		0xCE
#define COREY_KCORE_SETUP	_IOWR(COREY_KCORE_IOC_MAGIC, 0, struct corey_kcore_setup)
#define COREY_KCORE_ATTACH	_IOW(COREY_KCORE_IOC_MAGIC, 1, struct corey_kcore_attach)
#define COREY_KCORE_WAKE	_IO(COREY_KCORE_IOC_MAGIC, 2)
#define COREY_KCORE_WAIT	_IOW(COREY_KCORE_IOC_MAGIC, 3, struct corey_kcore_wait)
#define COREY_KCORE_DETACH	_IOW(COREY_KCORE_IOC_MAGIC, 4, struct corey_kcore_attach)

/*
 * Address ranges (CONFIG_COREY_ADDR_RANGE): a memfd whose mappings share
 * their page tables.  Every process that maps it with MAP_ADDR_RANGE links
 * the same PTE table for each 2 MiB of the object, so a page faulted in by
 * one process is mapped in all of them at once.
 *
 *   fd = memfd_create(name, MFD_ADDR_RANGE [| MFD_CLOEXEC]);
 *   ftruncate(fd, n * COREY_ADDR_RANGE_GRANULE);
 *   p = mmap(addr, len, PROT_READ | PROT_WRITE,
 *            MAP_SHARED_VALIDATE | MAP_ADDR_RANGE [| MAP_FIXED], fd, off);
 *
 * The first such mmap freezes the object: its size is sealed, its pages
 * are unevictable and never migrated, and it is charged to RLIMIT_MEMLOCK.
 * The same values are defined where upstream keeps memfd and mmap flags
 * (linux/memfd.h, linux/mman.h).  The errno of every refusal is listed in
 * Documentation/mm/corey-addr-range.rst.
 */
#ifndef MFD_ADDR_RANGE
#define MFD_ADDR_RANGE			0x0020U
#endif
#ifndef MAP_ADDR_RANGE
#define MAP_ADDR_RANGE			0x400000
#endif
#define COREY_ADDR_RANGE_GRANULE	(2UL << 20)	/* PMD_SIZE on x86_64 */

#endif /* _UAPI_LINUX_COREY_H */
