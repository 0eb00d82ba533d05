/* SPDX-License-Identifier: GPL-2.0 */
/*
 * For the kernel-core selftests that go through libcorey (the Makefile adds
 * userlib/include and libcorey.a for them): one request made directly and
 * through a ring, compared.  Header-only, because lib/ is built without
 * libcorey.
 */
#ifndef SELFTESTS_KCORE_LIBCOREY_H
#define SELFTESTS_KCORE_LIBCOREY_H

#include <limits.h>
#include <stdlib.h>
#include <sys/syscall.h>

#include <corey.h>

#include "kcore_test.h"

/* One call's outcome, as syscall(2) gives it. */
struct outcome {
	long ret;
	int err;		/* errno if ret == -1, else 0 */
	unsigned int status;	/* through the kernel core: its status */
};

static inline struct outcome direct(long nr, const unsigned long a[6])
{
	struct outcome o = { 0 };

	errno = 0;
	o.ret = syscall(nr, a[0], a[1], a[2], a[3], a[4], a[5]);
	o.err = o.ret == -1 ? errno : 0;
	return o;
}

/* Submit and reap one request; a library failure comes back as status 0. */
static inline struct outcome via_kcore(struct corey_kcore_ring *r, unsigned int op,
				const unsigned long a[6])
{
	struct corey_kcore_result res;
	struct outcome o = { .ret = LONG_MIN };

	if (corey_kcore_submit(r, op, a, 0x5eed)) {
		o.err = errno;
		return o;
	}
	if (corey_kcore_reap(r, &res, 0)) {
		o.err = errno;
		return o;
	}
	o.ret = res.ret;
	o.err = res.ret == -1 ? res.err : 0;
	o.status = res.status;
	if (res.user_data != 0x5eed)
		o.status = 0xbad;
	return o;
}

#define ARGS(...) ((const unsigned long[6]){ __VA_ARGS__ })

/*
 * Run @nr with @a directly and through the kernel core: both fail with
 * @err, and the kernel core ran it (DONE).
 */
static inline void same_error(struct __test_metadata *_metadata,
		       struct corey_kcore_ring *r, const char *what, long nr,
		       const unsigned long a[6], int err)
{
	struct outcome d, k;

	/* KCORE_TEST_VERBOSE=1: name each case first (to find a hang) */
	if (getenv("KCORE_TEST_VERBOSE"))
		TH_LOG("%s", what);
	d = direct(nr, a);
	k = via_kcore(r, nr, a);
	EXPECT_EQ(-1, d.ret) TH_LOG("%s: the direct call returned %ld", what,
				    d.ret);
	EXPECT_EQ(err, d.err) TH_LOG("%s: the direct call failed with %s, "
				     "the test expects %s", what,
				     strerrorname_np(d.err) ?: "?",
				     strerrorname_np(err));
	EXPECT_EQ(COREY_KCORE_DONE, k.status)
		TH_LOG("%s: status %s (%u), library errno %s", what,
		       kcore_status_name(k.status), k.status,
		       strerrorname_np(k.err) ?: "?");
	EXPECT_EQ(d.ret, k.ret) TH_LOG("%s: %ld directly, %ld through the kernel core",
				       what, d.ret, k.ret);
	EXPECT_EQ(d.err, k.err) TH_LOG("%s: %s directly, %s through the kernel core",
				       what, strerrorname_np(d.err) ?: "-",
				       strerrorname_np(k.err) ?: "-");
}

/* A successful call through the kernel core: its return value. */
static inline long kcall(struct __test_metadata *_metadata, struct corey_kcore_ring *r,
		  const char *what, long nr, const unsigned long a[6])
{
	struct outcome k = via_kcore(r, nr, a);

	EXPECT_EQ(COREY_KCORE_DONE, k.status)
		TH_LOG("%s: status %s (%u)", what, kcore_status_name(k.status),
		       k.status);
	EXPECT_EQ(0, k.err) TH_LOG("%s: %s", what,
				   strerrorname_np(k.err) ?: "?");
	return k.ret;
}

/*
 * Run @nr with @a directly and through the kernel core: the same return
 * and errno, and the kernel core's status is @status.  Only for calls
 * without side effects (errors, reads at an offset, fstat).
 */
static inline void same_as_direct(struct __test_metadata *_metadata,
				  struct corey_kcore_ring *r, const char *what,
				  long nr, const unsigned long a[6],
				  unsigned int status)
{
	struct outcome d = direct(nr, a), k = via_kcore(r, nr, a);

	EXPECT_EQ(status, k.status)
		TH_LOG("%s: status %s (%u), want %s; library errno %s", what,
		       kcore_status_name(k.status), k.status,
		       kcore_status_name(status),
		       strerrorname_np(k.err) ?: "?");
	EXPECT_EQ(d.ret, k.ret) TH_LOG("%s: %ld directly, %ld through the kernel core",
				       what, d.ret, k.ret);
	EXPECT_EQ(d.err, k.err) TH_LOG("%s: %s directly, %s through the kernel core",
				       what, strerrorname_np(d.err) ?: "-",
				       strerrorname_np(k.err) ?: "-");
}

#endif /* SELFTESTS_KCORE_LIBCOREY_H */
