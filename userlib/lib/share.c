// SPDX-License-Identifier: LGPL-2.1-or-later
/* Creating and destroying shares: the two Corey system calls. */
#include <errno.h>
#include <unistd.h>
#include <sys/syscall.h>

#include <corey.h>

int corey_share_create(unsigned int share, unsigned int flags)
{
#ifdef __NR_corey_share_create
	return (int)syscall(__NR_corey_share_create, share, flags);
#else
	(void)share;
	(void)flags;
	errno = ENOSYS;
	return -1;
#endif
}

int corey_share_destroy(unsigned int share, unsigned int flags)
{
#ifdef __NR_corey_share_destroy
	return (int)syscall(__NR_corey_share_destroy, share, flags);
#else
	(void)share;
	(void)flags;
	errno = ENOSYS;
	return -1;
#endif
}
