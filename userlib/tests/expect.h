/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The checks libcorey's test programs share: each failed check prints
 * where and why on stderr and sets failed; a case's exit status is
 * failed's.
 */
#ifndef COREY_TESTS_EXPECT_H
#define COREY_TESTS_EXPECT_H

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

static bool failed;

#define EXPECT(cond)							\
	do {								\
		if (!(cond)) {						\
			fprintf(stderr, "%s:%d: expected %s\n",		\
				__FILE__, __LINE__, #cond);		\
			failed = true;					\
		}							\
	} while (0)

/* The call failed with -1 and exactly this errno. */
#define EXPECT_ERRNO(call, err)						\
	do {								\
		long rc_;						\
		errno = 0;						\
		rc_ = (call);						\
		if (rc_ != -1 || errno != (err)) {			\
			fprintf(stderr, "%s:%d: %s returned %ld (%s), "	\
				"expected -1 (%s)\n", __FILE__, __LINE__, \
				#call, rc_, strerror(errno),		\
				strerror(err));				\
			failed = true;					\
		}							\
	} while (0)

/* The call returned NULL with exactly this errno. */
#define EXPECT_NULL_ERRNO(call, err)					\
	do {								\
		void *p_;						\
		errno = 0;						\
		p_ = (call);						\
		if (p_ || errno != (err)) {				\
			fprintf(stderr, "%s:%d: %s returned %p (%s), "	\
				"expected NULL (%s)\n", __FILE__, __LINE__, \
				#call, p_, strerror(errno),		\
				strerror(err));				\
			failed = true;					\
		}							\
	} while (0)

#endif /* COREY_TESTS_EXPECT_H */
