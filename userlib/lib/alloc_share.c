// SPDX-License-Identifier: LGPL-2.1-or-later
/* The calling thread's default allocation share, through prctl(PR_COREY). */
#include <errno.h>
#include <sys/prctl.h>

#include <corey.h>
#include "internal.h"

/*
 * A kernel without shares answers EINVAL to an unknown prctl option, which
 * is also what a kernel with shares says about a bad argument; ask the
 * feature probe (only on failure) to tell the two apart.
 */
static int prctl_failed(void)
{
	/* Leaves errno alone when the kernel has shares. */
	if (errno == EINVAL)
		corey_require_shares();
	return -1;
}

int corey_set_alloc_share(unsigned int share)
{
	if (prctl(PR_COREY, PR_COREY_SET_ALLOC_SHARE, (unsigned long)share,
		  0UL, 0UL) < 0)
		return prctl_failed();
	return 0;
}

int corey_get_alloc_share(void)
{
	int share = prctl(PR_COREY, PR_COREY_GET_ALLOC_SHARE, 0UL, 0UL, 0UL);

	if (share < 0)
		return prctl_failed();
	return share;
}
