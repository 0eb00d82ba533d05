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

#endif /* _UAPI_LINUX_COREY_H */
