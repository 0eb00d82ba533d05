/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * libcorey: the user-space side of Corey on Linux.
 *
 * Descriptor shares (CONFIG_COREY_SHARES; docs/shares.md in the project):
 * a share is a descriptor table beside the process's ordinary one (share 0).
 * A descriptor in share S is an ordinary non-negative int that every fd
 * system call accepts; COREY_FD(), COREY_FD_SHARE(), COREY_FD_SLOT() and
 * COREY_FD_IS_TAGGED() from <linux/corey.h> build and take it apart.
 *
 * Every function returns -1 and sets errno on failure, like the libc
 * wrappers.  On a kernel without descriptor shares every function except
 * corey_share_delobj() fails with ENOSYS, whatever the kernel itself would
 * answer (the prctl says EINVAL, an F_DUPFD floor above the limit EINVAL, a
 * dup3 target above it EBADF): one errno means "feature missing", and
 * corey_strerror() turns it into a message that says so.  (If a seccomp
 * filter refuses the feature probe, they fail with the errno it chose.)
 *
 * Link with -lcorey (pkg-config --cflags --libs corey).  Thread-safe.
 */
#ifndef COREY_H
#define COREY_H

#include <stddef.h>
#include <sys/types.h>

#include <linux/corey.h>

#ifdef __cplusplus
extern "C" {
#endif

/*
 * Create a share and return its index (1..COREY_SHARE_MAX).  share 0 picks
 * the lowest free index; 1..COREY_SHARE_MAX asks for that one.  flags:
 * COREY_SHARE_SHARED makes it visible to every thread (every task sharing
 * share 0) instead of only the caller; COREY_SHARE_CLOEXEC destroys it on
 * execve.  Errors: EINVAL, EEXIST, ENOSPC, ENOMEM, ENOSYS.
 */
int corey_share_create(unsigned int share, unsigned int flags);

/*
 * Close every descriptor in a share and free its index.  flags must be 0.
 * Errors: EINVAL (flags, share 0 or > COREY_SHARE_MAX), EBADF (no such
 * share visible to the caller), ENOSYS.
 */
int corey_share_destroy(unsigned int share, unsigned int flags);

/*
 * Corey's add-object: put a copy of fd in the lowest free slot of the share
 * and return the new, share-qualified descriptor (fcntl F_DUPFD with the
 * floor COREY_FD(share, 0)).  Errors: EBADF (fd), EINVAL (share invisible,
 * 0 or > COREY_SHARE_MAX), EMFILE (share full, or the process's table
 * budget is spent), ENOSYS.
 */
int corey_share_addobj(int fd, unsigned int share);

/*
 * Put a copy of fd at a given slot of the share (dup3 onto
 * COREY_FD(share, slot)), closing what was there; flags is 0 or O_CLOEXEC.
 * Returns the new descriptor.  Errors: EBADF (fd; or the share is
 * invisible, 0 or > COREY_SHARE_MAX, or slot is at or above the limit),
 * EINVAL (flags; fd already is that descriptor), EMFILE (the process's
 * table budget is spent), EBUSY, EINTR, ENOSYS.
 */
int corey_share_addobj_at(int fd, unsigned int share, unsigned int slot,
			  int flags);

/*
 * Corey's delete-object: close(fd).  It works on every kernel, for every
 * descriptor, tagged or not.  Errors: those of close(2).
 */
int corey_share_delobj(int fd);

/*
 * Set the calling thread's default allocation share: open, socket, pipe,
 * dup, accept, ... then allocate their descriptors in it.  0 resets to the
 * ordinary table.  Errors: EINVAL (share > COREY_SHARE_MAX), EBADF (share
 * not visible), ENOSYS.
 */
int corey_set_alloc_share(unsigned int share);

/*
 * The calling thread's default allocation share (0 if none, or if it was
 * destroyed).  Errors: ENOSYS.
 */
int corey_get_alloc_share(void);

/*
 * 1 if the running kernel has descriptor shares, 0 if not; then errno says
 * why (ENOSYS: the kernel lacks CONFIG_COREY_SHARES; anything else: the
 * probe was refused, e.g. EPERM from a seccomp filter).  The kernel is
 * asked once per process.  Never fails.
 */
int corey_shares_supported(void);

/*
 * strerror(3) that names the missing feature: on a kernel without shares,
 * ENOSYS and EINVAL (what a direct prctl(PR_COREY, ...) answers there) give
 * "this kernel has no descriptor shares (CONFIG_COREY_SHARES); apply the
 * Corey series"; while /dev/corey_kcore is missing, ENODEV gives "no kernel
 * cores: /dev/corey_kcore is missing; load the corey_kcore module ...";
 * on a kernel without address ranges, EOPNOTSUPP gives "this kernel has
 * no address ranges (CONFIG_COREY_ADDR_RANGE); apply the Corey series".
 * Other errors give strerror(err).  Do not modify the string.
 */
const char *corey_strerror(int err);

/* perror(3) with corey_strerror(errno): "what: message" on stderr. */
void corey_perror(const char *what);

/*
 * Kernel cores (the corey_kcore module on a kernel with
 * CONFIG_COREY_USER_WORKER; docs/kcore.md in the project): a thread of this
 * process, pinned to a CPU, that runs system calls which other threads post
 * on their own rings.  Each ring has one producer thread, the one that
 * attached it; a ring handle must only be used by that thread.
 *
 * Functions that return a pointer return NULL and set errno on failure; the
 * others return -1 and set errno; a NULL handle is EINVAL.  Without the
 * module, corey_kcore_open() fails with ENODEV and corey_strerror(ENODEV)
 * says what is missing.  A child of fork() inherits no rings: there, only
 * corey_kcore_detach() and corey_kcore_close() may be used, to free the
 * handles (and close the child's copy of the device, which otherwise keeps
 * the kernel core alive until the child execs or exits).
 */
struct corey_kcore;		/* a kernel core: the device and its control page */
struct corey_kcore_ring;	/* one thread's ring on a kernel core */

/*
 * Dedicate a kernel core on CPU cpu with nr_rings rings
 * (1..COREY_KCORE_RINGS_MAX).  After idle_us microseconds without work it
 * sleeps until a client wakes it (0: the kernel's default, 1 s).  The device
 * is opened O_CLOEXEC and the rings are not inherited by fork.
 * Errors: ENODEV (module not loaded), EINVAL (cpu negative, offline,
 * outside the caller's cpuset or out of range; nr_rings; the two checked
 * before the device is opened), EAGAIN (RLIMIT_NPROC, pids cgroup),
 * ENOMEM, EINTR, and those of open(2) such as EACCES, EMFILE, ENFILE.
 */
struct corey_kcore *corey_kcore_open(int cpu, unsigned int nr_rings,
				     unsigned int idle_us);

/*
 * Stop the kernel core and release everything, including kc; ring handles
 * on it must have been detached (one used afterwards is undefined).  The
 * thread exits on its own, without being waited for.  Errors: EINVAL (kc
 * NULL), those of close(2); kc is released anyway.
 */
int corey_kcore_close(struct corey_kcore *kc);

/*
 * The kernel core's thread id (for /proc/<pid>/task/<tid>/stat).  Errors:
 * EINVAL (kc NULL).
 */
int corey_kcore_tid(const struct corey_kcore *kc);

/*
 * Make the calling thread the producer of ring ring.  A ring whose producer
 * exited may be taken over; requests it left posted are served first and
 * are not this handle's to reap.  Errors: EINVAL (ring out of range), EBUSY
 * (another live thread produces on it, or the calling thread already has a
 * handle for it), EOWNERDEAD (the kernel core has exited), ENOMEM.
 */
struct corey_kcore_ring *corey_kcore_attach(struct corey_kcore *kc,
					    unsigned int ring);

/*
 * Complete the ring's outstanding requests as corey_kcore_reap() would
 * (FALLBACK calls are made, signals raised; signals do not interrupt the
 * wait), discard their results, give the ring up and free r.  Only the
 * producer may detach.  Errors: EINVAL (r NULL, or not the producer: r is
 * kept), EOWNERDEAD (the kernel core exited before completing them: they
 * were not made; r is freed).
 */
int corey_kcore_detach(struct corey_kcore_ring *r);

/* How corey_kcore_reap() and corey_kcore_syscall() wait. */
#define COREY_KCORE_SPIN	0	/* poll the slot (the default) */
#define COREY_KCORE_BLOCK	1	/* sleep in the kernel until done */
/* Errors: EINVAL (r NULL, mode). */
int corey_kcore_set_wait(struct corey_kcore_ring *r, int mode);

/*
 * Post a request without waiting: op is a system call number on the
 * allowlist (or COREY_KCORE_OP_NOP), args its six arguments (NULL: all 0),
 * user_data comes back with the result.  Wakes the kernel core if it
 * sleeps.  An op off the allowlist is posted too, and completes as BADOP.
 * Errors: EINVAL (r NULL), EAGAIN (COREY_KCORE_RING_SLOTS requests
 * outstanding, or the next slot still holds one the previous producer
 * left: reap first), EOWNERDEAD (the kernel core has exited; the request
 * was not posted).
 */
int corey_kcore_submit(struct corey_kcore_ring *r, unsigned int op,
		       const unsigned long args[6], unsigned long user_data);

struct corey_kcore_result {
	long ret;			/* the call's return, as syscall(2) gives it */
	int err;			/* errno when ret is -1, else 0 */
	unsigned int status;		/* COREY_KCORE_DONE, _FALLBACK or _BADOP */
	unsigned long user_data;
};

/*
 * Complete the oldest outstanding request, in posting order.  A request the
 * kernel core handed back (FALLBACK) is made here with syscall(2), so its
 * result is always Linux's; status says which path ran.  SIGPIPE and
 * SIGXFSZ that the call would have raised are raised in the caller.
 * flags: 0 waits; COREY_KCORE_NOWAIT fails with EAGAIN if not done yet.
 * res may be NULL to discard the result.  Returns 0: the call's own error
 * is in res->err, never in errno.  Errors: EINVAL (r NULL, flags), EAGAIN,
 * ENOENT (nothing outstanding), EOWNERDEAD (the kernel core exited first:
 * the request was not made and is dropped; res, if not NULL, gets ret -1,
 * err EOWNERDEAD, status 0 and its user_data), EINTR (blocking wait
 * interrupted; call again).
 */
#define COREY_KCORE_NOWAIT	1
int corey_kcore_reap(struct corey_kcore_ring *r,
		     struct corey_kcore_result *res, int flags);

/*
 * syscall(2) through the kernel core: submit, wait, reap.  Returns what
 * syscall(2) would (-1 and errno on error), ENOSYS for a call off the
 * allowlist.  A signal does not interrupt the wait: the call is made
 * anyway.  Errors of its own: EINVAL (r NULL), EBUSY (the ring has
 * requests outstanding), EOWNERDEAD (the kernel core has exited; the call
 * was not made).
 */
long corey_kcore_syscall(struct corey_kcore_ring *r, long nr, ...);

/*
 * 1 if /dev/corey_kcore exists and opens, 0 if not; then errno says why
 * (ENODEV: it is missing, the module is not loaded).  The device is asked
 * on every call: the module may come and go.  Never fails.
 */
int corey_kcore_supported(void);

/*
 * Address ranges (CONFIG_COREY_ADDR_RANGE): memory whose page tables are
 * shared by every process that maps it, so a page one process faulted in
 * is mapped in the others without a fault.  See corey_ar_create(3).
 */

/*
 * Create an address range of @bytes (a multiple of
 * COREY_ADDR_RANGE_GRANULE, 2 MiB) and return its memfd, close-on-exec.
 * Errors: EINVAL (bytes 0 or not a multiple, flags not 0), EOPNOTSUPP
 * (the kernel has no address ranges), and memfd_create(2)'s.
 */
int corey_ar_create(const char *name, size_t bytes, unsigned int flags);

/*
 * Map @bytes of address range @fd from @offset, read-write, at @addr if
 * it is not NULL (MAP_FIXED) or where the kernel chooses (2 MiB aligned).
 * Every page table the range already has is linked at once: pages other
 * processes touched are mapped without a fault.  The first map freezes
 * the range (size sealed, memory locked).  Returns MAP_FAILED with errno
 * set: EINVAL (alignment, bounds), EOPNOTSUPP (@fd is not an address
 * range, or the kernel has none), EAGAIN (RLIMIT_MEMLOCK), and mmap(2)'s.
 */
void *corey_ar_map(int fd, void *addr, size_t bytes, off_t offset);

/* Unmap a mapping from corey_ar_map(); 2 MiB aligned pieces only. */
int corey_ar_unmap(void *addr, size_t bytes);

/* 1 if the running kernel has address ranges, 0 if not, -1 on error. */
int corey_ar_supported(void);

/* An address range a cfork'd child keeps, at the same address. */
struct corey_cfork_range {
	void *addr;
	size_t bytes;
};

struct corey_cfork_attr {
	int cpu;				/* the child's CPU; -1: any */
	unsigned int flags;			/* 0 */
	const struct corey_cfork_range *ranges;	/* kept, prelinked */
	unsigned int nr_ranges;
};

/*
 * Start fn(arg) in a new process pinned to attr->cpu: its own address
 * space, with the listed address ranges mapped at the same addresses and
 * their page tables linked, the other ranges from corey_ar_map() unmapped,
 * and the caller's descriptors as fork(2) gives them.  The child exits
 * with fn's return value.  Returns a pidfd (close-on-exec) for
 * corey_cwait(), or -1 with errno: EINVAL (attr, a range that is not
 * inside a corey_ar_map() mapping, cpu), and fork(2)'s and
 * pidfd_open(2)'s.
 */
int corey_cfork(const struct corey_cfork_attr *attr, int (*fn)(void *),
		void *arg);

/*
 * Wait for the child behind @pidfd to end, store its wait status (as
 * waitpid(2) gives it) in *@status if not NULL, and close @pidfd.
 */
int corey_cwait(int pidfd, int *status);

#ifdef __cplusplus
}
#endif

#endif /* COREY_H */
