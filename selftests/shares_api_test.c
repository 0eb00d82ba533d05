// SPDX-License-Identifier: GPL-2.0
/*
 * Descriptor shares: the calls themselves (docs/shares.md, "Calls" and
 * "Limits").  corey_share_create/destroy and the PR_COREY prctl with good
 * and bad arguments and their exact errnos, add-object through F_DUPFD
 * and dup2/dup3 with every kind of bad target, and the limits: a share
 * holds RLIMIT_NOFILE descriptors, a process 1022 shares.
 *
 * The harness runs every TEST in a fresh fork of this binary, which has
 * created no share, so indexes are predictable: the first create(0) is 1.
 */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "shares_test.h"

#define NO_SUCH_SHARE 900	/* an index no test here creates */

static int open_null(void)
{
	return open("/dev/null", O_RDONLY | O_CLOEXEC);
}

/* Lower RLIMIT_NOFILE's soft limit (the per-share limit) to @soft. */
static int set_nofile(rlim_t soft)
{
	struct rlimit rl;

	if (getrlimit(RLIMIT_NOFILE, &rl))
		return -1;
	if (soft > rl.rlim_max) {
		errno = EPERM;
		return -1;
	}
	rl.rlim_cur = soft;
	return setrlimit(RLIMIT_NOFILE, &rl);
}

static bool same_file(int a, int b)
{
	struct stat sa, sb;

	return !fstat(a, &sa) && !fstat(b, &sb) && sa.st_dev == sb.st_dev &&
	       sa.st_ino == sb.st_ino;
}

/* ---- corey_share_create ---- */

TEST(create_picks_lowest_free_index)
{
	ASSERT_EQ(1, corey_share_create_raw(0, 0));
	ASSERT_EQ(2, corey_share_create_raw(0, COREY_SHARE_SHARED));
	ASSERT_EQ(3, corey_share_create_raw(0, COREY_SHARE_CLOEXEC));
	ASSERT_EQ(4, corey_share_create_raw(0, COREY_SHARE_SHARED |
					       COREY_SHARE_CLOEXEC));
	/* destroy frees the index before it returns */
	ASSERT_EQ(0, corey_share_destroy_raw(2, 0));
	ASSERT_EQ(2, corey_share_create_raw(0, 0));
	/* an exact index leaves the lower ones free */
	ASSERT_EQ(10, corey_share_create_raw(10, 0));
	ASSERT_EQ(5, corey_share_create_raw(0, 0));
	ASSERT_EQ(6, corey_share_create_raw(0, 0));
}

TEST(create_exact_index_and_eexist)
{
	ASSERT_EQ(5, corey_share_create_raw(5, 0));
	EXPECT_ERRNO(EEXIST, corey_share_create_raw(5, 0));
	EXPECT_ERRNO(EEXIST, corey_share_create_raw(5, COREY_SHARE_SHARED));
	EXPECT_ERRNO(EEXIST, corey_share_create_raw(5, COREY_SHARE_CLOEXEC));

	ASSERT_EQ(COREY_SHARE_MAX,
		  corey_share_create_raw(COREY_SHARE_MAX, COREY_SHARE_SHARED));
	EXPECT_ERRNO(EEXIST, corey_share_create_raw(COREY_SHARE_MAX, 0));
	ASSERT_EQ(1, corey_share_create_raw(1, 0));
	EXPECT_ERRNO(EEXIST, corey_share_create_raw(1, 0));

	/* the lowest free index skips taken ones */
	ASSERT_EQ(2, corey_share_create_raw(0, 0));
	ASSERT_EQ(0, corey_share_destroy_raw(5, 0));
	ASSERT_EQ(5, corey_share_create_raw(5, COREY_SHARE_SHARED));
}

TEST(create_eexist_for_another_threads_private_share)
{
	struct worker w;
	long ret;
	int err;

	ASSERT_EQ(0, worker_start(&w));
	ret = WORKER_SYSCALL(&w, &err, __NR_corey_share_create, 7, 0);
	ASSERT_EQ(7, ret) TH_LOG("worker create(7): %s", strerrorname_np(err));

	/* invisible to us, but the index is taken */
	EXPECT_ERRNO(EEXIST, corey_share_create_raw(7, 0));
	EXPECT_ERRNO(EEXIST, corey_share_create_raw(7, COREY_SHARE_SHARED));
	EXPECT_ERRNO(EBADF, corey_share_destroy_raw(7, 0));
	ASSERT_EQ(1, corey_share_create_raw(0, 0));

	ret = WORKER_SYSCALL(&w, &err, __NR_corey_share_destroy, 7, 0);
	ASSERT_EQ(0, ret) TH_LOG("worker destroy(7): %s", strerrorname_np(err));
	ASSERT_EQ(7, corey_share_create_raw(7, 0));
	worker_stop(&w);
}

TEST(create_bad_arguments)
{
	EXPECT_ERRNO(EINVAL, corey_share_create_raw(0, 0x4));
	EXPECT_ERRNO(EINVAL, corey_share_create_raw(0, 0x80));
	EXPECT_ERRNO(EINVAL, corey_share_create_raw(0, 0x80000000U));
	EXPECT_ERRNO(EINVAL, corey_share_create_raw(0, ~0U));
	EXPECT_ERRNO(EINVAL, corey_share_create_raw(0, COREY_SHARE_SHARED | 0x8));
	EXPECT_ERRNO(EINVAL, corey_share_create_raw(3, 0x80));
	EXPECT_ERRNO(EINVAL, corey_share_create_raw(COREY_SHARE_MAX + 1, 0));
	EXPECT_ERRNO(EINVAL, corey_share_create_raw(COREY_SHARE_MAX + 2, 0));
	EXPECT_ERRNO(EINVAL, corey_share_create_raw(COREY_SHARE_MAX + 1,
						    COREY_SHARE_SHARED));
	EXPECT_ERRNO(EINVAL, corey_share_create_raw(~0U, 0));
	EXPECT_ERRNO(EINVAL, corey_share_create_raw(1U << 31, 0));

	/* none of them created anything */
	ASSERT_EQ(1, corey_share_create_raw(0, 0));
	ASSERT_EQ(3, corey_share_create_raw(3, 0));
}

/* ---- corey_share_destroy ---- */

TEST(destroy_bad_arguments)
{
	int s;

	s = corey_share_create_raw(0, 0);
	ASSERT_EQ(1, s);

	/* flags are checked even on a share that exists */
	EXPECT_ERRNO(EINVAL, corey_share_destroy_raw(s, 1));
	EXPECT_ERRNO(EINVAL, corey_share_destroy_raw(s, COREY_SHARE_SHARED));
	EXPECT_ERRNO(EINVAL, corey_share_destroy_raw(s, 0x80000000U));
	EXPECT_ERRNO(EINVAL, corey_share_destroy_raw(0, 0));
	EXPECT_ERRNO(EINVAL, corey_share_destroy_raw(COREY_SHARE_MAX + 1, 0));
	EXPECT_ERRNO(EINVAL, corey_share_destroy_raw(COREY_SHARE_MAX + 2, 0));
	EXPECT_ERRNO(EINVAL, corey_share_destroy_raw(~0U, 0));
	EXPECT_ERRNO(EBADF, corey_share_destroy_raw(NO_SUCH_SHARE, 0));
	EXPECT_ERRNO(EBADF, corey_share_destroy_raw(COREY_SHARE_MAX, 0));

	/* the failures above left the share alone */
	ASSERT_EQ(0, corey_share_destroy_raw(s, 0));
	EXPECT_ERRNO(EBADF, corey_share_destroy_raw(s, 0));
	EXPECT_ERRNO(EINVAL, corey_share_destroy_raw(s, 1));
}

TEST(destroy_closes_the_shares_descriptors)
{
	int fd, s, i;

	fd = open_null();
	ASSERT_LE(0, fd);
	s = corey_share_create_raw(0, 0);
	ASSERT_LT(0, s);
	for (i = 0; i < 3; i++)
		ASSERT_EQ(COREY_FD(s, i), fcntl(fd, F_DUPFD, COREY_FD(s, 0)));

	ASSERT_EQ(0, corey_share_destroy_raw(s, 0));
	for (i = 0; i < 3; i++) {
		EXPECT_ERRNO(EBADF, fcntl(COREY_FD(s, i), F_GETFD));
		EXPECT_ERRNO(EBADF, close(COREY_FD(s, i)));
	}
	/* share 0 is untouched */
	EXPECT_EQ(FD_CLOEXEC, fcntl(fd, F_GETFD));
}

TEST(destroy_another_threads_private_share_ebadf)
{
	struct worker w;
	long ret;
	int fd, p, err;

	fd = open_null();
	ASSERT_LE(0, fd);
	ASSERT_EQ(0, worker_start(&w));
	p = WORKER_SYSCALL(&w, &err, __NR_corey_share_create, 0, 0);
	ASSERT_EQ(1, p) TH_LOG("worker create: %s", strerrorname_np(err));
	ret = WORKER_SYSCALL(&w, &err, SYS_fcntl, fd, F_DUPFD, COREY_FD(p, 0));
	ASSERT_EQ(COREY_FD(p, 0), ret);

	EXPECT_ERRNO(EBADF, corey_share_destroy_raw(p, 0));

	ret = WORKER_SYSCALL(&w, &err, SYS_fcntl, COREY_FD(p, 0), F_GETFD);
	EXPECT_EQ(0, ret) TH_LOG("the worker's descriptor: %s",
				 strerrorname_np(err));
	ret = WORKER_SYSCALL(&w, &err, __NR_corey_share_destroy, p, 0);
	EXPECT_EQ(0, ret);
	ret = WORKER_SYSCALL(&w, &err, SYS_fcntl, COREY_FD(p, 0), F_GETFD);
	ASSERT_WORKER_ERRNO(EBADF, ret, err, "F_GETFD after destroy");
	worker_stop(&w);
}

TEST(shared_share_destroyed_by_another_thread)
{
	struct worker w;
	long ret;
	int fd, s, err;

	fd = open_null();
	ASSERT_LE(0, fd);
	s = corey_share_create_raw(0, COREY_SHARE_SHARED);
	ASSERT_LT(0, s);
	ASSERT_EQ(COREY_FD(s, 0), fcntl(fd, F_DUPFD, COREY_FD(s, 0)));

	ASSERT_EQ(0, worker_start(&w));
	ret = WORKER_SYSCALL(&w, &err, __NR_corey_share_destroy, s, 0);
	ASSERT_EQ(0, ret) TH_LOG("worker destroy: %s", strerrorname_np(err));
	worker_stop(&w);

	EXPECT_ERRNO(EBADF, fcntl(COREY_FD(s, 0), F_GETFD));
	EXPECT_ERRNO(EBADF, corey_share_destroy_raw(s, 0));
}

/* ---- limits ---- */

TEST(create_until_full)
{
	struct worker w;
	long ret;
	int i, err;

	for (i = 1; i <= COREY_SHARE_MAX; i++)
		ASSERT_EQ(i, corey_share_create_raw(0, i % 2 ? 0 :
							   COREY_SHARE_SHARED));
	EXPECT_ERRNO(ENOSPC, corey_share_create_raw(0, 0));
	EXPECT_ERRNO(ENOSPC, corey_share_create_raw(0, COREY_SHARE_SHARED));
	EXPECT_ERRNO(EEXIST, corey_share_create_raw(5, 0));
	EXPECT_ERRNO(EEXIST, corey_share_create_raw(COREY_SHARE_MAX, 0));

	/* the index space is the process's, not the thread's */
	ASSERT_EQ(0, worker_start(&w));
	ret = WORKER_SYSCALL(&w, &err, __NR_corey_share_create, 0, 0);
	ASSERT_WORKER_ERRNO(ENOSPC, ret, err, "create(0, 0) when full");
	worker_stop(&w);

	ASSERT_EQ(0, corey_share_destroy_raw(700, 0));
	ASSERT_EQ(700, corey_share_create_raw(0, 0));
	for (i = 1; i <= COREY_SHARE_MAX; i++)
		ASSERT_EQ(0, corey_share_destroy_raw(i, 0));
	ASSERT_EQ(1, corey_share_create_raw(0, 0));
}

TEST(share_holds_rlimit_nofile_descriptors)
{
	struct rlimit rl;
	int fd, p, s, i, n;

	ASSERT_EQ(0, set_nofile(64));
	fd = open_null();
	ASSERT_LE(0, fd);
	p = corey_share_create_raw(0, 0);
	ASSERT_LT(0, p);

	for (i = 0; i < 64; i++)
		ASSERT_EQ(COREY_FD(p, i), fcntl(fd, F_DUPFD, COREY_FD(p, 0)));
	EXPECT_ERRNO(EMFILE, fcntl(fd, F_DUPFD, COREY_FD(p, 0)));
	EXPECT_ERRNO(EMFILE, fcntl(fd, F_DUPFD_CLOEXEC, COREY_FD(p, 0)));

	/* the limit is per share: share 0 and another share still allocate */
	n = ASSERT_OK(dup(fd));
	EXPECT_FALSE(COREY_FD_IS_TAGGED(n));
	s = corey_share_create_raw(0, COREY_SHARE_SHARED);
	ASSERT_LT(0, s);
	ASSERT_EQ(COREY_FD(s, 0), fcntl(fd, F_DUPFD, COREY_FD(s, 0)));

	/* a freed slot is reused */
	ASSERT_EQ(0, close(COREY_FD(p, 17)));
	ASSERT_EQ(COREY_FD(p, 17), fcntl(fd, F_DUPFD, COREY_FD(p, 0)));
	EXPECT_ERRNO(EMFILE, fcntl(fd, F_DUPFD, COREY_FD(p, 0)));

	/* a higher limit lets the share's table grow */
	ASSERT_EQ(0, getrlimit(RLIMIT_NOFILE, &rl));
	if (rl.rlim_max < 128)
		return;
	ASSERT_EQ(0, set_nofile(128));
	for (i = 64; i < 128; i++)
		ASSERT_EQ(COREY_FD(p, i), fcntl(fd, F_DUPFD, COREY_FD(p, 0)));
	EXPECT_ERRNO(EMFILE, fcntl(fd, F_DUPFD, COREY_FD(p, 0)));
	for (i = 0; i < 128; i++)
		ASSERT_TRUE(same_file(fd, COREY_FD(p, i)));
}

TEST(default_share_holds_rlimit_nofile_descriptors)
{
	int fd, p, i, pfd[2];

	ASSERT_EQ(0, set_nofile(64));
	fd = open_null();
	ASSERT_LE(0, fd);
	p = corey_share_create_raw(0, 0);
	ASSERT_LT(0, p);
	ASSERT_EQ(0, corey_set_alloc_share_raw(p));

	for (i = 0; i < 63; i++)
		ASSERT_EQ(COREY_FD(p, i), open_null());
	/* a pipe needs two slots; failing, it takes none */
	EXPECT_ERRNO(EMFILE, pipe2(pfd, O_CLOEXEC));
	ASSERT_EQ(COREY_FD(p, 63), open_null());
	EXPECT_ERRNO(EMFILE, open_null());
	EXPECT_ERRNO(EMFILE, dup(fd));

	ASSERT_EQ(0, corey_set_alloc_share_raw(0));
	i = ASSERT_OK(open_null());
	EXPECT_FALSE(COREY_FD_IS_TAGGED(i));
}

/*
 * A private default share allocates in line from its table's first word;
 * past it, and under a limit below one word, alloc_fd() does.  Both must
 * give the lowest free slot, set or clear close-on-exec as asked, and
 * stop at RLIMIT_NOFILE.
 */
TEST(default_share_allocates_the_lowest_free_slot)
{
	int fd, p, i;

	fd = open_null();
	ASSERT_LE(0, fd);
	p = corey_share_create_raw(0, 0);
	ASSERT_LT(0, p);
	ASSERT_EQ(0, corey_set_alloc_share_raw(p));

	/* across the first word and into a second one */
	for (i = 0; i < 70; i++)
		ASSERT_EQ(COREY_FD(p, i), dup(fd));
	ASSERT_EQ(0, close(COREY_FD(p, 66)));
	ASSERT_EQ(0, close(COREY_FD(p, 5)));
	ASSERT_EQ(0, close(COREY_FD(p, 3)));
	EXPECT_EQ(COREY_FD(p, 3), dup(fd));
	EXPECT_EQ(0, fcntl(COREY_FD(p, 3), F_GETFD));
	EXPECT_EQ(COREY_FD(p, 5), open_null());
	EXPECT_EQ(FD_CLOEXEC, fcntl(COREY_FD(p, 5), F_GETFD));
	/* the first word is full again: the general path finds 66 */
	EXPECT_EQ(COREY_FD(p, 66), dup(fd));
	EXPECT_EQ(COREY_FD(p, 70), dup(fd));
	/* a slot that was close-on-exec comes back without it */
	ASSERT_EQ(0, close(COREY_FD(p, 5)));
	EXPECT_EQ(COREY_FD(p, 5), dup(fd));
	EXPECT_EQ(0, fcntl(COREY_FD(p, 5), F_GETFD));
	for (i = 0; i <= 70; i++)
		ASSERT_EQ(0, close(COREY_FD(p, i)));

	/* a limit below one word */
	ASSERT_EQ(0, set_nofile(10));
	for (i = 0; i < 10; i++)
		ASSERT_EQ(COREY_FD(p, i), dup(fd));
	EXPECT_ERRNO(EMFILE, dup(fd));
	ASSERT_EQ(0, close(COREY_FD(p, 7)));
	EXPECT_EQ(COREY_FD(p, 7), dup(fd));
	EXPECT_ERRNO(EMFILE, open_null());
	ASSERT_EQ(0, corey_set_alloc_share_raw(0));
}

/*
 * fs.nr_open: the budget every share's table capacity is charged to, and
 * the cap that keeps share-0 numbers below the tag.  The sysctl is
 * global, so the fixture puts the old value back whatever happens.
 */
#define NR_OPEN "/proc/sys/fs/nr_open"

static int write_nr_open(unsigned long v)
{
	char buf[32];
	int fd, len, ret = 0;

	fd = open(NR_OPEN, O_WRONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	len = snprintf(buf, sizeof(buf), "%lu\n", v);
	if (write(fd, buf, len) != len)
		ret = -errno;
	close(fd);
	return ret;
}

static long read_nr_open(void)
{
	char buf[32];
	ssize_t n = read_proc_file(NR_OPEN, buf, sizeof(buf));

	return n < 0 ? n : strtol(buf, NULL, 10);
}

FIXTURE(nr_open) {
	long saved;
};

FIXTURE_SETUP(nr_open)
{
	self->saved = -1;
	if (geteuid())
		SKIP(return, "writing fs.nr_open needs root");
	self->saved = read_nr_open();
	ASSERT_LT(0, self->saved);
}

FIXTURE_TEARDOWN(nr_open)
{
	if (self->saved > 0)
		EXPECT_EQ(0, write_nr_open(self->saved));
}

TEST_F(nr_open, capped_below_the_tag)
{
	EXPECT_EQ(-EINVAL, write_nr_open(COREY_FD_TAG - 63));
	EXPECT_EQ(-EINVAL, write_nr_open(COREY_FD_TAG));
	ASSERT_EQ(0, write_nr_open(COREY_FD_TAG - 64));
	EXPECT_EQ((long)COREY_FD_TAG - 64, read_nr_open());
}

TEST_F(nr_open, shares_cannot_multiply_the_limit)
{
	const int nr_open = 1024, nshares = 4;
	int fd, i, n, total = 0, s[4];

	if (set_nofile(nr_open))
		SKIP(return, "RLIMIT_NOFILE cannot be raised to %d", nr_open);
	fd = open_null();
	ASSERT_LE(0, fd);
	for (i = 0; i < nshares; i++) {
		s[i] = corey_share_create_raw(0, COREY_SHARE_SHARED);
		ASSERT_LT(0, s[i]);
	}
	ASSERT_EQ(0, write_nr_open(nr_open));

	/* fill every share until it cannot grow: one budget for all */
	for (i = 0; i < nshares; i++) {
		for (n = 0;; n++) {
			int ret = fcntl(fd, F_DUPFD, COREY_FD(s[i], 0));

			if (ret < 0) {
				ASSERT_EQ(EMFILE, errno) TH_LOG("share %d", i);
				break;
			}
			ASSERT_EQ(COREY_FD(s[i], n), ret);
		}
		/* a share's first table is always usable */
		EXPECT_LE(64, n) TH_LOG("share %d held %d", i, n);
		total += n;
	}
	TH_LOG("%d shares held %d descriptors under fs.nr_open = %d",
	       nshares, total, nr_open);
	EXPECT_GE(nr_open, total);

	/* destroying one gives its capacity back */
	ASSERT_EQ(0, corey_share_destroy_raw(s[0], 0));
	n = fcntl(fd, F_DUPFD, COREY_FD(s[1], 0));
	EXPECT_LT(0, n) TH_LOG("after destroy: %s", strerrorname_np(errno));
}

/* ---- add-object: F_DUPFD with a tagged floor ---- */

TEST(dupfd_adds_to_a_share)
{
	int fd, p, s;

	fd = open_null();
	ASSERT_LE(0, fd);
	p = corey_share_create_raw(0, 0);
	ASSERT_LT(0, p);
	s = corey_share_create_raw(0, COREY_SHARE_SHARED);
	ASSERT_LT(0, s);

	ASSERT_EQ(COREY_FD(p, 0), fcntl(fd, F_DUPFD, COREY_FD(p, 0)));
	ASSERT_EQ(COREY_FD(p, 1), fcntl(fd, F_DUPFD, COREY_FD(p, 0)));
	ASSERT_EQ(COREY_FD(p, 5), fcntl(fd, F_DUPFD, COREY_FD(p, 5)));
	ASSERT_EQ(COREY_FD(p, 6), fcntl(fd, F_DUPFD, COREY_FD(p, 5)));
	ASSERT_EQ(COREY_FD(p, 2), fcntl(fd, F_DUPFD_CLOEXEC, COREY_FD(p, 0)));
	ASSERT_EQ(COREY_FD(s, 0), fcntl(fd, F_DUPFD, COREY_FD(s, 0)));
	/* the floor may itself be a tagged descriptor of another share */
	ASSERT_EQ(COREY_FD(s, 1), fcntl(COREY_FD(p, 0), F_DUPFD,
					COREY_FD(s, 0)));

	/* F_DUPFD clears close-on-exec, F_DUPFD_CLOEXEC sets it */
	EXPECT_EQ(0, fcntl(COREY_FD(p, 0), F_GETFD));
	EXPECT_EQ(0, fcntl(COREY_FD(p, 6), F_GETFD));
	EXPECT_EQ(FD_CLOEXEC, fcntl(COREY_FD(p, 2), F_GETFD));
	EXPECT_TRUE(same_file(fd, COREY_FD(p, 5)));
	EXPECT_TRUE(same_file(fd, COREY_FD(s, 1)));

	/* slots 3 and 4 were never used */
	EXPECT_ERRNO(EBADF, fcntl(COREY_FD(p, 3), F_GETFD));
	EXPECT_ERRNO(EBADF, fcntl(COREY_FD(p, 4), F_GETFD));

	/* delete-object is close(); the slot is the lowest free again */
	ASSERT_EQ(0, close(COREY_FD(p, 1)));
	EXPECT_ERRNO(EBADF, close(COREY_FD(p, 1)));
	ASSERT_EQ(COREY_FD(p, 1), fcntl(fd, F_DUPFD, COREY_FD(p, 0)));
	ASSERT_EQ(COREY_FD(p, 3), fcntl(fd, F_DUPFD, COREY_FD(p, 0)));

	/* F_DUPFD with an untagged floor stays in share 0 */
	EXPECT_FALSE(COREY_FD_IS_TAGGED(fcntl(COREY_FD(p, 0), F_DUPFD, 0)));
}

TEST(dupfd_floor_errors)
{
	struct worker w;
	long ret;
	int fd, p, q, err, before;

	ASSERT_EQ(0, set_nofile(64));
	fd = open_null();
	ASSERT_LE(0, fd);
	p = corey_share_create_raw(0, 0);
	ASSERT_LT(0, p);
	ASSERT_EQ(0, worker_start(&w));
	q = WORKER_SYSCALL(&w, &err, __NR_corey_share_create, 0, 0);
	ASSERT_LT(0, q) TH_LOG("worker create: %s", strerrorname_np(err));
	before = count_share0_fds(64);

	EXPECT_ERRNO(EINVAL, fcntl(fd, F_DUPFD, COREY_FD(NO_SUCH_SHARE, 0)));
	EXPECT_ERRNO(EINVAL, fcntl(fd, F_DUPFD, COREY_FD(q, 0)));
	EXPECT_ERRNO(EINVAL, fcntl(fd, F_DUPFD, COREY_FD(0, 0)));
	EXPECT_ERRNO(EINVAL, fcntl(fd, F_DUPFD, COREY_FD(0, 3)));
	EXPECT_ERRNO(EINVAL, fcntl(fd, F_DUPFD, COREY_FD(1023, 0)));
	EXPECT_ERRNO(EINVAL, fcntl(fd, F_DUPFD, COREY_FD(1023, 9)));
	EXPECT_ERRNO(EINVAL, fcntl(fd, F_DUPFD, COREY_FD(p, 64)));
	EXPECT_ERRNO(EINVAL, fcntl(fd, F_DUPFD, COREY_FD(p, COREY_FD_SLOT_MASK)));
	EXPECT_ERRNO(EINVAL, fcntl(fd, F_DUPFD_CLOEXEC, COREY_FD(q, 0)));
	EXPECT_ERRNO(EINVAL, fcntl(fd, F_DUPFD_CLOEXEC, COREY_FD(0, 0)));
	EXPECT_ERRNO(EINVAL, fcntl(fd, F_DUPFD_CLOEXEC, COREY_FD(1023, 0)));
	EXPECT_ERRNO(EINVAL, fcntl(fd, F_DUPFD_CLOEXEC, COREY_FD(p, 64)));

	/* the last slot under the limit is fine */
	ASSERT_EQ(COREY_FD(p, 63), fcntl(fd, F_DUPFD, COREY_FD(p, 63)));
	ASSERT_EQ(0, corey_share_destroy_raw(p, 0));
	EXPECT_ERRNO(EINVAL, fcntl(fd, F_DUPFD, COREY_FD(p, 0)));
	EXPECT_ERRNO(EINVAL, fcntl(fd, F_DUPFD_CLOEXEC, COREY_FD(p, 0)));

	/* nothing landed in share 0 or in the worker's share */
	EXPECT_EQ(before, count_share0_fds(64));
	ret = WORKER_SYSCALL(&w, &err, SYS_fcntl, COREY_FD(q, 0), F_GETFD);
	ASSERT_WORKER_ERRNO(EBADF, ret, err, "F_GETFD on slot 0 of its share");
	worker_stop(&w);
}

/* ---- add-object at a slot: dup2/dup3 onto a tagged number ---- */

TEST(dup2_target_errors)
{
	struct worker w;
	long ret;
	int fd, p, q, err, before, i;

	ASSERT_EQ(0, set_nofile(64));
	fd = open_null();
	ASSERT_LE(0, fd);
	p = corey_share_create_raw(0, 0);
	ASSERT_LT(0, p);
	ASSERT_EQ(0, worker_start(&w));
	q = WORKER_SYSCALL(&w, &err, __NR_corey_share_create, 0, 0);
	ASSERT_LT(0, q) TH_LOG("worker create: %s", strerrorname_np(err));
	before = count_share0_fds(64);

	const int bad[] = {
		COREY_FD(NO_SUCH_SHARE, 0),	/* no such share */
		COREY_FD(q, 0),			/* another thread's private */
		COREY_FD(0, 0),			/* S = 0 is never a share */
		COREY_FD(0, 5),
		COREY_FD(1023, 0),		/* S = 1023 is never a share */
		COREY_FD(1023, 5),
		COREY_FD(p, 64),		/* slot at the limit */
		COREY_FD(p, COREY_FD_SLOT_MASK),
	};
	for (i = 0; i < (int)ARRAY_SIZE(bad) * 3; i++) {
		int target = bad[i / 3], e;

		errno = 0;
		ret = i % 3 == 0 ? dup2(fd, target) :
		      dup3(fd, target, i % 3 == 1 ? 0 : O_CLOEXEC);
		e = errno;
		EXPECT_EQ(-1, ret) TH_LOG("%s onto %#x succeeded",
					  i % 3 ? "dup3" : "dup2", target);
		EXPECT_EQ(EBADF, e) TH_LOG("%s onto %#x: %s, want EBADF",
					   i % 3 ? "dup3" : "dup2", target,
					   strerrorname_np(e));
	}

	ASSERT_EQ(COREY_FD(p, 63), dup2(fd, COREY_FD(p, 63)));
	ASSERT_EQ(0, corey_share_destroy_raw(p, 0));
	EXPECT_ERRNO(EBADF, dup2(fd, COREY_FD(p, 63)));
	EXPECT_ERRNO(EBADF, dup2(fd, COREY_FD(p, 0)));
	EXPECT_ERRNO(EBADF, dup3(fd, COREY_FD(p, 0), O_CLOEXEC));

	EXPECT_EQ(before, count_share0_fds(64));
	ret = WORKER_SYSCALL(&w, &err, SYS_fcntl, COREY_FD(q, 0), F_GETFD);
	ASSERT_WORKER_ERRNO(EBADF, ret, err, "F_GETFD on slot 0 of its share");
	worker_stop(&w);
}

/* ---- the default allocation share: prctl(PR_COREY) ---- */

TEST(alloc_share_set_and_get)
{
	int p, s;

	ASSERT_EQ(0, corey_get_alloc_share_raw());
	p = corey_share_create_raw(0, 0);
	ASSERT_LT(0, p);
	s = corey_share_create_raw(0, COREY_SHARE_SHARED);
	ASSERT_LT(0, s);

	ASSERT_EQ(0, corey_set_alloc_share_raw(p));
	ASSERT_EQ(p, corey_get_alloc_share_raw());
	ASSERT_EQ(0, corey_set_alloc_share_raw(s));
	ASSERT_EQ(s, corey_get_alloc_share_raw());
	ASSERT_EQ(0, corey_set_alloc_share_raw(0));
	ASSERT_EQ(0, corey_get_alloc_share_raw());
	ASSERT_EQ(0, corey_set_alloc_share_raw(0));
	ASSERT_EQ(0, corey_get_alloc_share_raw());
}

TEST(alloc_share_bad_arguments)
{
	int p;

	p = corey_share_create_raw(0, 0);
	ASSERT_LT(0, p);

	/* unknown sub-operations */
	EXPECT_ERRNO(EINVAL, prctl(PR_COREY, 0UL, 0UL, 0UL, 0UL));
	EXPECT_ERRNO(EINVAL, prctl(PR_COREY, 3UL, 0UL, 0UL, 0UL));
	EXPECT_ERRNO(EINVAL, prctl(PR_COREY, ~0UL, 0UL, 0UL, 0UL));
	/* nonzero unused arguments */
	EXPECT_ERRNO(EINVAL, prctl(PR_COREY, PR_COREY_SET_ALLOC_SHARE,
				   (unsigned long)p, 1UL, 0UL));
	EXPECT_ERRNO(EINVAL, prctl(PR_COREY, PR_COREY_SET_ALLOC_SHARE,
				   (unsigned long)p, 0UL, 1UL));
	EXPECT_ERRNO(EINVAL, prctl(PR_COREY, PR_COREY_GET_ALLOC_SHARE,
				   1UL, 0UL, 0UL));
	EXPECT_ERRNO(EINVAL, prctl(PR_COREY, PR_COREY_GET_ALLOC_SHARE,
				   0UL, 1UL, 0UL));
	EXPECT_ERRNO(EINVAL, prctl(PR_COREY, PR_COREY_GET_ALLOC_SHARE,
				   0UL, 0UL, 1UL));
	/* S > 1022, including values that truncate to a valid index */
	EXPECT_ERRNO(EINVAL, corey_set_alloc_share_raw(COREY_SHARE_MAX + 1));
	EXPECT_ERRNO(EINVAL, corey_set_alloc_share_raw(COREY_SHARE_MAX + 2));
	EXPECT_ERRNO(EINVAL, corey_set_alloc_share_raw(~0UL));
	EXPECT_ERRNO(EINVAL, corey_set_alloc_share_raw((1UL << 32) | p));
	/* S not visible: never created */
	EXPECT_ERRNO(EBADF, corey_set_alloc_share_raw(NO_SUCH_SHARE));

	/* failures change nothing */
	ASSERT_EQ(0, corey_get_alloc_share_raw());
	ASSERT_EQ(0, corey_set_alloc_share_raw(p));
	EXPECT_ERRNO(EBADF, corey_set_alloc_share_raw(NO_SUCH_SHARE));
	EXPECT_ERRNO(EINVAL, corey_set_alloc_share_raw(COREY_SHARE_MAX + 1));
	EXPECT_ERRNO(EINVAL, prctl(PR_COREY, PR_COREY_SET_ALLOC_SHARE, 0UL,
				   0UL, 1UL));
	ASSERT_EQ(p, corey_get_alloc_share_raw());
}

/*
 * dup() into a default allocation share, every source the kernel tells
 * apart: share 0, the default share itself (found once for both ends),
 * another private share of the thread, a shared default share, and each
 * kind of bad source, which must leave the default share's table as it was.
 */
TEST(dup_into_the_default_share)
{
	int fd, p, q, t, wq, err, copy, pfd[2];
	struct worker w;

	fd = open_null();
	ASSERT_LE(0, fd);
	/* q's slot 0 holds another file, so a mixed-up table shows */
	ASSERT_EQ(0, pipe2(pfd, O_CLOEXEC));
	p = corey_share_create_raw(0, 0);
	q = corey_share_create_raw(0, 0);
	t = corey_share_create_raw(0, COREY_SHARE_SHARED);
	ASSERT_LT(0, p);
	ASSERT_LT(0, q);
	ASSERT_LT(0, t);
	ASSERT_EQ(COREY_FD(q, 0), fcntl(pfd[0], F_DUPFD_CLOEXEC, COREY_FD(q, 0)));
	ASSERT_EQ(0, worker_start(&w));
	wq = WORKER_SYSCALL(&w, &err, __NR_corey_share_create, 0, 0);
	ASSERT_LT(0, wq) TH_LOG("worker create: %s", strerrorname_np(err));
	ASSERT_EQ(COREY_FD(wq, 0), WORKER_SYSCALL(&w, &err, SYS_fcntl, fd,
						  F_DUPFD, COREY_FD(wq, 0)));
	ASSERT_EQ(0, corey_set_alloc_share_raw(p));

	EXPECT_EQ(COREY_FD(p, 0), dup(fd));
	EXPECT_EQ(COREY_FD(p, 1), dup(COREY_FD(p, 0)));
	EXPECT_EQ(COREY_FD(p, 2), dup(COREY_FD(q, 0)));
	EXPECT_TRUE(same_file(fd, COREY_FD(p, 0)));
	EXPECT_TRUE(same_file(fd, COREY_FD(p, 1)));
	EXPECT_TRUE(same_file(pfd[0], COREY_FD(p, 2)));

	EXPECT_ERRNO(EBADF, dup(COREY_FD(p, 3)));
	EXPECT_ERRNO(EBADF, dup(COREY_FD(p, COREY_FD_SLOT_MASK)));
	EXPECT_ERRNO(EBADF, dup(COREY_FD(q, 1)));
	EXPECT_ERRNO(EBADF, dup(COREY_FD(NO_SUCH_SHARE, 0)));
	EXPECT_ERRNO(EBADF, dup(COREY_FD(wq, 0)));
	EXPECT_ERRNO(EBADF, dup(-1));
	/* none of the failures took a slot */
	EXPECT_EQ(COREY_FD(p, 3), dup(fd));

	/* a shared default share: the general path */
	ASSERT_EQ(0, corey_set_alloc_share_raw(t));
	copy = dup(COREY_FD(p, 0));
	EXPECT_EQ(COREY_FD(t, 0), copy);
	EXPECT_EQ(COREY_FD(t, 1), dup(copy));
	EXPECT_TRUE(same_file(fd, COREY_FD(t, 1)));

	for (int i = 0; i < 4; i++)
		EXPECT_EQ(0, close(COREY_FD(p, i)));
	EXPECT_ERRNO(EBADF, close(COREY_FD(p, 0)));
	EXPECT_EQ(0, close(COREY_FD(t, 0)));
	EXPECT_EQ(0, close(COREY_FD(t, 1)));
	EXPECT_ERRNO(EBADF, close(COREY_FD(t, 1)));
	EXPECT_ERRNO(EBADF, close(COREY_FD(wq, 0)));
	worker_stop(&w);
}

TEST(alloc_share_visibility)
{
	struct worker w;
	int q, t, err;

	ASSERT_EQ(0, worker_start(&w));
	q = WORKER_SYSCALL(&w, &err, __NR_corey_share_create, 0, 0);
	ASSERT_LT(0, q) TH_LOG("worker create: %s", strerrorname_np(err));
	t = WORKER_SYSCALL(&w, &err, __NR_corey_share_create, 0,
			   COREY_SHARE_SHARED);
	ASSERT_LT(0, t) TH_LOG("worker create shared: %s", strerrorname_np(err));

	EXPECT_ERRNO(EBADF, corey_set_alloc_share_raw(q));
	ASSERT_EQ(0, corey_get_alloc_share_raw());
	ASSERT_EQ(0, corey_set_alloc_share_raw(t));
	ASSERT_EQ(t, corey_get_alloc_share_raw());
	/* the default is per thread */
	EXPECT_EQ(0, WORKER_SYSCALL(&w, &err, SYS_prctl, PR_COREY,
				    PR_COREY_GET_ALLOC_SHARE, 0, 0, 0));
	worker_stop(&w);
}

TEST(alloc_share_reset_when_destroyed)
{
	int p, fd;

	p = corey_share_create_raw(0, 0);
	ASSERT_LT(0, p);
	ASSERT_EQ(0, corey_set_alloc_share_raw(p));
	ASSERT_EQ(0, corey_share_destroy_raw(p, 0));
	EXPECT_EQ(0, corey_get_alloc_share_raw());

	/* a new share under the same index is not the default */
	ASSERT_EQ(p, corey_share_create_raw(0, 0));
	EXPECT_EQ(0, corey_get_alloc_share_raw());
	fd = ASSERT_OK(open_null());
	EXPECT_FALSE(COREY_FD_IS_TAGGED(fd)) TH_LOG("open gave %#x", fd);
}

COREY_SHARES_TEST_MAIN
