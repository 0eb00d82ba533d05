// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * Corey's add-object and delete-object.  They need no new system call:
 * F_DUPFD with a tagged floor, dup3 onto a tagged number and close do it.
 */
#include <errno.h>
#include <fcntl.h>
#include <unistd.h>

#include <corey.h>
#include "internal.h"

/*
 * Both add calls check for the feature first rather than decode the
 * failure: on a kernel without shares whose fs.nr_open and RLIMIT_NOFILE
 * were raised past 2^30, F_DUPFD and dup3 would not fail but grow share
 * 0's table to a billion entries.
 *
 * They also refuse a share or slot too wide for its bits, which COREY_FD()
 * would silently mask into another one, with the errno the kernel gives
 * an out-of-range floor (EINVAL) or target (EBADF).
 */

int corey_share_addobj(int fd, unsigned int share)
{
	if (corey_require_shares())
		return -1;
	if (share > COREY_SHARE_MAX) {
		errno = EINVAL;
		return -1;
	}
	return fcntl(fd, F_DUPFD, COREY_FD(share, 0));
}

int corey_share_addobj_at(int fd, unsigned int share, unsigned int slot,
			  int flags)
{
	if (corey_require_shares())
		return -1;
	if (share > COREY_SHARE_MAX || slot >= COREY_SHARE_SLOTS) {
		errno = EBADF;
		return -1;
	}
	return dup3(fd, COREY_FD(share, slot), flags);
}

int corey_share_delobj(int fd)
{
	return close(fd);
}
