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
 * Corey series".  Other errors, and any error on a kernel with shares, give
 * strerror(err).  Do not modify the string.
 */
const char *corey_strerror(int err);

/* perror(3) with corey_strerror(errno): "what: message" on stderr. */
void corey_perror(const char *what);

#ifdef __cplusplus
}
#endif

#endif /* COREY_H */
