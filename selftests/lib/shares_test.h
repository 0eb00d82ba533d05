/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Common ground of the shares_*_test.c selftests: the kselftest harness,
 * the raw share calls, assertions on exact errnos, and a main() that
 * skips the whole binary on a kernel without descriptor shares.
 *
 * Include this instead of kselftest_harness.h.
 */
#ifndef SELFTESTS_SHARES_TEST_H
#define SELFTESTS_SHARES_TEST_H

#include <errno.h>
#include <fcntl.h>
#include <string.h>

#include "kselftest_harness.h"
#include "corey_shares.h"
#include "worker.h"

#ifndef PIDFD_THREAD
#define PIDFD_THREAD O_EXCL	/* linux/pidfd.h, 6.9 */
#endif

/*
 * Assert that @expr fails with errno @err (returns -1).  @expr is
 * evaluated once.  The harness's ASSERT_* need _metadata, so these only
 * work inside TEST()/TEST_F() bodies.
 */
#define __SHARES_ERRNO(_kind, _err, _expr) do {				\
	long __ret;							\
	int __e;							\
									\
	errno = 0;							\
	__ret = (long)(_expr);						\
	__e = errno;							\
	_kind##_EQ(-1, __ret)						\
		TH_LOG("%s returned %ld, want -1 with %s", #_expr,	\
		       __ret, strerrorname_np(_err));			\
	_kind##_EQ(_err, __e)						\
		TH_LOG("%s failed with %s, want %s", #_expr,		\
		       strerrorname_np(__e) ?: "?",			\
		       strerrorname_np(_err));				\
} while (0)
#define ASSERT_ERRNO(_err, _expr) __SHARES_ERRNO(ASSERT, _err, _expr)
#define EXPECT_ERRNO(_err, _expr) __SHARES_ERRNO(EXPECT, _err, _expr)

/* Assert that @expr succeeds (returns >= 0) and log errno if it does not. */
#define ASSERT_OK(_expr) ({						\
	long __ret;							\
									\
	errno = 0;							\
	__ret = (long)(_expr);						\
	ASSERT_LE(0, __ret)						\
		TH_LOG("%s failed: %s", #_expr,				\
		       strerrorname_np(errno) ?: "?");			\
	__ret;								\
})

/* Same, for a call made in a worker: @ret and @err from worker_call(). */
#define ASSERT_WORKER_ERRNO(_err, _ret, _e, _what) do {			\
	ASSERT_EQ(-1, (_ret)) TH_LOG("%s in the worker returned %ld, "	\
				     "want -1 with %s", (_what),	\
				     (long)(_ret),			\
				     strerrorname_np(_err));		\
	ASSERT_EQ((_err), (_e)) TH_LOG("%s in the worker failed with %s, " \
				       "want %s", (_what),		\
				       strerrorname_np(_e) ?: "?",	\
				       strerrorname_np(_err));		\
} while (0)

/*
 * main() for a shares test: on a kernel without shares the whole binary
 * reports one kselftest SKIP and exits KSFT_SKIP (4); on a kernel whose
 * answer to the probe is neither ENOSYS nor EINVAL it bails out as a
 * failure; otherwise it runs the harness.
 */
static inline void shares_require(void)
{
	const char *why = NULL;
	int ret = corey_shares_probe(&why);

	if (ret == 1)
		return;
	ksft_print_header();
	if (ret == 0)
		ksft_exit_skip("%s\n", why);
	ksft_exit_fail_msg("corey_share_destroy(0, 0) answered %s; want EINVAL (shares) or ENOSYS (no shares)\n",
			   ret == -EPROTO ? "success" : strerrorname_np(-ret));
}

#define COREY_SHARES_TEST_MAIN						\
	int main(int argc, char **argv)					\
	{								\
		shares_require();					\
		return test_harness_run(argc, argv);			\
	}

#endif /* SELFTESTS_SHARES_TEST_H */
