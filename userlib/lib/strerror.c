// SPDX-License-Identifier: LGPL-2.1-or-later
/* Error messages that name the missing kernel feature. */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include <corey.h>
#include "internal.h"

static const char missing_shares[] =
	"this kernel has no descriptor shares (CONFIG_COREY_SHARES); "
	"apply the Corey series";

static const char missing_kcore[] =
	"no kernel cores: " COREY_KCORE_DEVICE " is missing; load the "
	"corey_kcore module (insmod corey_kcore.ko) on a kernel with "
	"CONFIG_COREY_USER_WORKER";

static const char missing_addr_range[] =
	"this kernel has no address ranges (CONFIG_COREY_ADDR_RANGE); "
	"apply the Corey series";

/*
 * ENODEV from corey_kcore_open() means the device is not there.  Ask
 * again each time (the module may have been loaded since), and name it
 * only while that is still the answer: a device that is there but cannot
 * be opened fails with EACCES and the like, which strerror() explains.
 */
static bool kcore_missing(void)
{
	int saved_errno = errno;
	bool missing = !corey_kcore_supported() && errno == ENODEV;

	errno = saved_errno;
	return missing;
}

/*
 * EOPNOTSUPP from corey_ar_create() and corey_ar_map() means the kernel
 * does not know the flags; with address ranges it has other meanings,
 * which strerror() explains.
 */
static bool addr_range_missing(void)
{
	int saved_errno = errno;
	bool missing = corey_ar_supported() == 0;

	errno = saved_errno;
	return missing;
}

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
	if (err == ENODEV && kcore_missing())
		return missing_kcore;
	if (err == EOPNOTSUPP && addr_range_missing())
		return missing_addr_range;
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
