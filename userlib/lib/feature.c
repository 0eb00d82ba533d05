// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * Does the running kernel have descriptor shares?  Asked once per process:
 * the answer cannot change while the process runs.
 */
#include <errno.h>
#include <stdatomic.h>
#include <unistd.h>
#include <sys/syscall.h>

#include <corey.h>
#include "internal.h"

/* 0: not asked yet; 1: supported; -errno: not, and why. */
static atomic_int probe_result;

static int ask_kernel(void)
{
#ifdef __NR_corey_share_destroy
	/*
	 * Share 0 is never destroyable: a kernel with shares rejects it with
	 * EINVAL, one without the call answers ENOSYS.  Nothing is changed
	 * either way.
	 */
	if (syscall(__NR_corey_share_destroy, 0U, 0U) == 0 || errno == EINVAL)
		return 1;
	return -errno;
#else
	/* The calls are wired on x86_64 only. */
	return -ENOSYS;
#endif
}

int corey_probe_shares(void)
{
	/*
	 * Two threads racing here both ask and store the same answer, so
	 * no ordering beyond the atomic access itself is needed.
	 */
	int result = atomic_load_explicit(&probe_result, memory_order_relaxed);

	if (result == 0) {
		int saved_errno = errno;

		result = ask_kernel();
		errno = saved_errno;
		atomic_store_explicit(&probe_result, result,
				      memory_order_relaxed);
	}
	return result;
}

int corey_require_shares(void)
{
	int result = corey_probe_shares();

	if (result == 1)
		return 0;
	errno = -result;
	return -1;
}

int corey_shares_supported(void)
{
	return corey_require_shares() == 0;
}
