// SPDX-License-Identifier: LGPL-2.1-or-later
/* Error messages that name the missing kernel feature. */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <corey.h>
#include "internal.h"

static const char missing_shares[] =
	"this kernel has no descriptor shares (CONFIG_COREY_SHARES); "
	"apply the Corey series";

const char *corey_strerror(int err)
{
	/*
	 * Only when the probe itself said ENOSYS: a kernel with shares has
	 * real EINVALs, and a probe refused by seccomp (EPERM) proves
	 * nothing about the kernel.
	 */
	if ((err == ENOSYS || err == EINVAL) &&
	    corey_probe_shares() == -ENOSYS)
		return missing_shares;
	return strerror(err);
}

void corey_perror(const char *what)
{
	const char *msg = corey_strerror(errno);

	if (what && *what)
		fprintf(stderr, "%s: %s\n", what, msg);
	else
		fprintf(stderr, "%s\n", msg);
}
