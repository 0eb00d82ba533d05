// SPDX-License-Identifier: GPL-2.0
/*
 * Descriptor shares: "every fd syscall accepts them" (docs/shares.md,
 * "Model" and "The default allocation share").  Tagged descriptors go
 * through read/write, fstat, mmap, fcntl, ioctl, *at dirfds, fchdir,
 * poll, epoll (as the watched fd and as the epoll fd), dup2/dup3,
 * close_range, POSIX record locks and SCM_RIGHTS; and while a thread's
 * default share is P, every call that allocates "the lowest free
 * descriptor" returns one tagged in P.
 *
 * The harness runs every TEST in a fresh fork, which has created no
 * share; slots in a new share are predictable.
 */
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/timerfd.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include "shares_test.h"

#ifndef CLOSE_RANGE_CLOEXEC
#define CLOSE_RANGE_CLOEXEC (1U << 2)
#endif

static int open_null(void)
{
	return open("/dev/null", O_RDONLY | O_CLOEXEC);
}

static bool same_file(int a, int b)
{
	struct stat sa, sb;

	return !fstat(a, &sa) && !fstat(b, &sb) && sa.st_dev == sb.st_dev &&
	       sa.st_ino == sb.st_ino;
}

/* Move @fd to @to (a tagged number) and close the original. */
static int move_fd(int fd, int to)
{
	int ret = dup3(fd, to, 0);

	if (ret == to)
		close(fd);
	return ret;
}

/* ---- data path ---- */

TEST(read_write_lseek_ioctl_through_tagged_fds)
{
	int p, pfd[2], r, w, m, avail;
	struct stat st;
	char buf[16];

	p = corey_share_create_raw(0, 0);
	ASSERT_LT(0, p);
	ASSERT_EQ(0, pipe2(pfd, 0));
	r = COREY_FD(p, 0);
	w = COREY_FD(p, 1);
	ASSERT_EQ(r, move_fd(pfd[0], r));
	ASSERT_EQ(w, move_fd(pfd[1], w));

	ASSERT_EQ(5, write(w, "hello", 5));
	ASSERT_EQ(0, ioctl(r, FIONREAD, &avail));
	EXPECT_EQ(5, avail);
	ASSERT_EQ(5, read(r, buf, sizeof(buf)));
	EXPECT_EQ(0, memcmp(buf, "hello", 5));
	ASSERT_EQ(0, fstat(r, &st));
	EXPECT_TRUE(S_ISFIFO(st.st_mode));
	EXPECT_ERRNO(ESPIPE, lseek(r, 0, SEEK_CUR));

	m = ASSERT_OK(memfd_create("shares", MFD_CLOEXEC));
	ASSERT_EQ(COREY_FD(p, 2), move_fd(m, COREY_FD(p, 2)));
	m = COREY_FD(p, 2);
	ASSERT_EQ(0, ftruncate(m, 12345));
	ASSERT_EQ(0, fstat(m, &st));
	EXPECT_EQ(12345, st.st_size);
	EXPECT_TRUE(S_ISREG(st.st_mode));
	ASSERT_EQ(6, pwrite(m, "shares", 6, 100));
	ASSERT_EQ(100, lseek(m, 100, SEEK_SET));
	ASSERT_EQ(6, read(m, buf, 6));
	EXPECT_EQ(0, memcmp(buf, "shares", 6));
	EXPECT_EQ(106, lseek(m, 0, SEEK_CUR));
	ASSERT_EQ(0, fsync(m));
	ASSERT_EQ(0, close(m));
	EXPECT_ERRNO(EBADF, fstat(m, &st));
}

TEST(mmap_of_a_tagged_memfd)
{
	const size_t len = 4 * 4096;
	unsigned char *map, buf[64];
	int p, m;
	size_t i;

	p = corey_share_create_raw(0, COREY_SHARE_SHARED);
	ASSERT_LT(0, p);
	m = ASSERT_OK(memfd_create("shares-mmap", MFD_CLOEXEC));
	ASSERT_EQ(COREY_FD(p, 3), move_fd(m, COREY_FD(p, 3)));
	m = COREY_FD(p, 3);
	ASSERT_EQ(0, ftruncate(m, len));

	map = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED, m, 0);
	ASSERT_NE(MAP_FAILED, map) TH_LOG("mmap: %s", strerrorname_np(errno));
	for (i = 0; i < len; i++)
		map[i] = (unsigned char)(i * 13 + i / 4096);
	ASSERT_EQ((ssize_t)sizeof(buf), pread(m, buf, sizeof(buf), 3 * 4096));
	for (i = 0; i < sizeof(buf); i++)
		ASSERT_EQ((unsigned char)((3 * 4096 + i) * 13 + 3), buf[i]);

	/* the mapping holds the file, not the descriptor */
	ASSERT_EQ(0, close(m));
	EXPECT_EQ((unsigned char)(5 * 13), map[5]);
	ASSERT_EQ(0, munmap(map, len));
	EXPECT_ERRNO(EBADF, (long)mmap(NULL, len, PROT_READ, MAP_SHARED, m, 0));
}

TEST(fcntl_flags_on_tagged_fds)
{
	int p, t, pfd[2];
	char c;

	p = corey_share_create_raw(0, 0);
	ASSERT_LT(0, p);
	t = open("/dev/null", O_WRONLY | O_APPEND);
	ASSERT_LE(0, t);
	ASSERT_EQ(COREY_FD(p, 0), move_fd(t, COREY_FD(p, 0)));
	t = COREY_FD(p, 0);

	EXPECT_EQ(O_WRONLY | O_APPEND, fcntl(t, F_GETFL) & (O_ACCMODE | O_APPEND));
	EXPECT_EQ(0, fcntl(t, F_GETFD));
	ASSERT_EQ(0, fcntl(t, F_SETFD, FD_CLOEXEC));
	EXPECT_EQ(FD_CLOEXEC, fcntl(t, F_GETFD));
	ASSERT_EQ(0, fcntl(t, F_SETFD, 0));
	EXPECT_EQ(0, fcntl(t, F_GETFD));

	ASSERT_EQ(0, pipe2(pfd, 0));
	ASSERT_EQ(COREY_FD(p, 1), move_fd(pfd[0], COREY_FD(p, 1)));
	ASSERT_EQ(0, fcntl(COREY_FD(p, 1), F_SETFL, O_NONBLOCK));
	EXPECT_EQ(O_NONBLOCK, fcntl(COREY_FD(p, 1), F_GETFL) & O_NONBLOCK);
	EXPECT_ERRNO(EAGAIN, read(COREY_FD(p, 1), &c, 1));
	ASSERT_EQ(0, close(pfd[1]));
	EXPECT_EQ(0, read(COREY_FD(p, 1), &c, 1));
	/* F_GETPIPE_SZ goes through the file too */
	EXPECT_LT(0, fcntl(COREY_FD(p, 1), F_GETPIPE_SZ));
}

/* ---- *at() dirfds and fchdir ---- */

TEST(tagged_dirfd_for_at_calls_and_fchdir)
{
	char dir[] = "/tmp/shares_at_XXXXXX", cwd[PATH_MAX], real[PATH_MAX];
	int p, d, f, null;
	struct stat st;
	char buf[8];

	ASSERT_NE(NULL, mkdtemp(dir));
	ASSERT_NE(NULL, realpath(dir, real));
	p = corey_share_create_raw(0, 0);
	ASSERT_LT(0, p);
	d = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	ASSERT_LE(0, d);
	ASSERT_EQ(COREY_FD(p, 0), move_fd(d, COREY_FD(p, 0)));
	d = COREY_FD(p, 0);

	f = openat(d, "file", O_CREAT | O_RDWR | O_CLOEXEC, 0600);
	ASSERT_LE(0, f) TH_LOG("openat: %s", strerrorname_np(errno));
	ASSERT_EQ(3, write(f, "abc", 3));
	close(f);
	ASSERT_EQ(0, fstatat(d, "file", &st, 0));
	EXPECT_EQ(3, st.st_size);
	ASSERT_EQ(0, mkdirat(d, "sub", 0700));
	ASSERT_EQ(0, faccessat(d, "sub", X_OK, 0));
	ASSERT_EQ(0, renameat(d, "file", d, "sub/moved"));

	/* the tagged dirfd is the base of the relative path */
	f = openat(d, "sub/moved", O_RDONLY | O_CLOEXEC);
	ASSERT_LE(0, f);
	ASSERT_EQ(3, read(f, buf, sizeof(buf)));
	EXPECT_EQ(0, memcmp(buf, "abc", 3));
	close(f);

	/* a tagged non-directory is resolved, then refused */
	null = open_null();
	ASSERT_LE(0, null);
	ASSERT_EQ(COREY_FD(p, 1), move_fd(null, COREY_FD(p, 1)));
	EXPECT_ERRNO(ENOTDIR, openat(COREY_FD(p, 1), "x", O_RDONLY));

	ASSERT_EQ(0, fchdir(d));
	ASSERT_NE(NULL, getcwd(cwd, sizeof(cwd)));
	EXPECT_STREQ(real, cwd);
	ASSERT_EQ(0, access("sub/moved", R_OK));
	EXPECT_ERRNO(ENOTDIR, fchdir(COREY_FD(p, 1)));

	ASSERT_EQ(0, unlinkat(d, "sub/moved", 0));
	ASSERT_EQ(0, unlinkat(d, "sub", AT_REMOVEDIR));
	ASSERT_EQ(0, chdir("/"));
	ASSERT_EQ(0, rmdir(dir));
}

/* ---- poll and epoll ---- */

TEST(poll_on_a_tagged_pipe)
{
	struct pollfd fds[3];
	int p, s, pfd[2], r, w;
	char c;

	p = corey_share_create_raw(0, 0);
	ASSERT_LT(0, p);
	s = corey_share_create_raw(0, COREY_SHARE_SHARED);
	ASSERT_LT(0, s);
	ASSERT_EQ(0, pipe2(pfd, O_CLOEXEC));
	r = COREY_FD(p, 4);
	w = COREY_FD(s, 2);
	ASSERT_EQ(r, move_fd(pfd[0], r));
	ASSERT_EQ(w, move_fd(pfd[1], w));

	fds[0] = (struct pollfd){ .fd = r, .events = POLLIN };
	fds[1] = (struct pollfd){ .fd = w, .events = POLLOUT };
	/* an unused slot of a visible share is a closed descriptor */
	fds[2] = (struct pollfd){ .fd = COREY_FD(p, 5), .events = POLLIN };
	ASSERT_EQ(2, poll(fds, 3, 0));
	EXPECT_EQ(0, fds[0].revents);
	EXPECT_EQ(POLLOUT, fds[1].revents);
	EXPECT_EQ(POLLNVAL, fds[2].revents);

	ASSERT_EQ(1, write(w, "x", 1));
	ASSERT_EQ(3, poll(fds, 3, 0));
	EXPECT_EQ(POLLIN, fds[0].revents);
	ASSERT_EQ(1, read(r, &c, 1));
	ASSERT_EQ(0, close(w));
	ASSERT_EQ(3, poll(fds, 3, 0));
	EXPECT_EQ(POLLHUP, fds[0].revents & (POLLHUP | POLLIN));
	EXPECT_EQ(POLLNVAL, fds[1].revents);
}

/* Expect exactly one ready event from @epfd, with data @data. */
static int one_event(int epfd, uint64_t *data)
{
	struct epoll_event ev[4];
	int n;

	n = epoll_wait(epfd, ev, 4, 0);
	if (n == 1)
		*data = ev[0].data.u64;
	return n;
}

TEST(epoll_with_tagged_fd_and_tagged_epfd)
{
	struct epoll_event ev, evs[4];
	int p, pfd[2], r, epfd, tep, i;
	uint64_t data = 0, seen;
	char c;

	p = corey_share_create_raw(0, 0);
	ASSERT_LT(0, p);
	ASSERT_EQ(0, pipe2(pfd, O_CLOEXEC));
	r = COREY_FD(p, 0);
	ASSERT_EQ(r, dup3(pfd[0], r, 0));
	epfd = epoll_create1(EPOLL_CLOEXEC);
	ASSERT_LE(0, epfd);

	/* tagged fd in a share-0 epoll */
	ev = (struct epoll_event){ .events = EPOLLIN, .data.u64 = 1 };
	ASSERT_EQ(0, epoll_ctl(epfd, EPOLL_CTL_ADD, r, &ev));
	EXPECT_ERRNO(EEXIST, epoll_ctl(epfd, EPOLL_CTL_ADD, r, &ev));
	ASSERT_EQ(0, one_event(epfd, &data));
	ASSERT_EQ(1, write(pfd[1], "x", 1));
	ASSERT_EQ(1, one_event(epfd, &data));
	EXPECT_EQ(1, data);
	ev.data.u64 = 2;
	ASSERT_EQ(0, epoll_ctl(epfd, EPOLL_CTL_MOD, r, &ev));
	ASSERT_EQ(1, one_event(epfd, &data));
	EXPECT_EQ(2, data);
	ASSERT_EQ(0, epoll_ctl(epfd, EPOLL_CTL_DEL, r, NULL));
	ASSERT_EQ(0, one_event(epfd, &data));
	EXPECT_ERRNO(ENOENT, epoll_ctl(epfd, EPOLL_CTL_DEL, r, NULL));
	EXPECT_ERRNO(ENOENT, epoll_ctl(epfd, EPOLL_CTL_MOD, r, &ev));

	/* the same file under a share-0 number and a tagged one: two items */
	ev.data.u64 = 10;
	ASSERT_EQ(0, epoll_ctl(epfd, EPOLL_CTL_ADD, pfd[0], &ev));
	ev.data.u64 = 11;
	ASSERT_EQ(0, epoll_ctl(epfd, EPOLL_CTL_ADD, r, &ev));
	ASSERT_EQ(2, epoll_wait(epfd, evs, 4, 0));
	seen = evs[0].data.u64 + evs[1].data.u64;
	EXPECT_EQ(21, seen);

	/* the epoll fd itself tagged, watching a tagged and a plain fd */
	tep = COREY_FD(p, 1);
	ASSERT_EQ(tep, move_fd(epfd, tep));
	ASSERT_EQ(2, epoll_wait(tep, evs, 4, 0));
	ASSERT_EQ(0, epoll_ctl(tep, EPOLL_CTL_DEL, pfd[0], NULL));
	ev.data.u64 = 12;
	ASSERT_EQ(0, epoll_ctl(tep, EPOLL_CTL_MOD, r, &ev));
	ASSERT_EQ(1, one_event(tep, &data));
	EXPECT_EQ(12, data);
	ASSERT_EQ(1, read(r, &c, 1));
	ASSERT_EQ(0, one_event(tep, &data));
	ASSERT_EQ(0, epoll_ctl(tep, EPOLL_CTL_DEL, r, NULL));
	EXPECT_ERRNO(ENOENT, epoll_ctl(tep, EPOLL_CTL_DEL, r, NULL));

	/* an epoll fd can watch a tagged epoll fd */
	epfd = epoll_create1(EPOLL_CLOEXEC);
	ASSERT_LE(0, epfd);
	ev = (struct epoll_event){ .events = EPOLLIN, .data.u64 = 99 };
	ASSERT_EQ(0, epoll_ctl(tep, EPOLL_CTL_ADD, r, &ev));
	ev.data.u64 = 7;
	ASSERT_EQ(0, epoll_ctl(epfd, EPOLL_CTL_ADD, tep, &ev));
	ASSERT_EQ(0, one_event(epfd, &data));
	ASSERT_EQ(1, write(pfd[1], "y", 1));
	ASSERT_EQ(1, one_event(epfd, &data));
	EXPECT_EQ(7, data);
	for (i = 0; i < 2; i++)
		close(pfd[i]);
}

/* ---- dup2/dup3 onto tagged numbers ---- */

/* 0 if @r (non-blocking read end) is at EOF, -errno otherwise. */
static int at_eof(int r)
{
	char c;
	ssize_t n = read(r, &c, 1);

	return n == 0 ? 0 : n < 0 ? -errno : -EEXIST;
}

TEST(dup2_onto_tagged_numbers)
{
	int p, q, null, pfd[2], qfd[2];

	null = open_null();
	ASSERT_LE(0, null);
	p = corey_share_create_raw(0, 0);
	ASSERT_LT(0, p);
	q = corey_share_create_raw(0, COREY_SHARE_SHARED);
	ASSERT_LT(0, q);

	/* same share: the old target is closed (its pipe reaches EOF) */
	ASSERT_EQ(0, pipe2(pfd, O_NONBLOCK | O_CLOEXEC));
	ASSERT_EQ(COREY_FD(p, 0), move_fd(pfd[1], COREY_FD(p, 0)));
	ASSERT_EQ(COREY_FD(p, 1), dup3(null, COREY_FD(p, 1), 0));
	EXPECT_EQ(-EAGAIN, at_eof(pfd[0]));
	ASSERT_EQ(COREY_FD(p, 0), dup2(COREY_FD(p, 1), COREY_FD(p, 0)));
	EXPECT_EQ(0, at_eof(pfd[0]));
	EXPECT_TRUE(same_file(null, COREY_FD(p, 0)));

	/* across shares, with dup3's O_CLOEXEC */
	ASSERT_EQ(0, pipe2(qfd, O_NONBLOCK | O_CLOEXEC));
	ASSERT_EQ(COREY_FD(q, 3), move_fd(qfd[1], COREY_FD(q, 3)));
	EXPECT_EQ(-EAGAIN, at_eof(qfd[0]));
	ASSERT_EQ(COREY_FD(q, 3), dup3(COREY_FD(p, 1), COREY_FD(q, 3),
				       O_CLOEXEC));
	EXPECT_EQ(0, at_eof(qfd[0]));
	EXPECT_TRUE(same_file(null, COREY_FD(q, 3)));
	EXPECT_EQ(FD_CLOEXEC, fcntl(COREY_FD(q, 3), F_GETFD));
	ASSERT_EQ(COREY_FD(p, 5), dup3(COREY_FD(q, 3), COREY_FD(p, 5), 0));
	EXPECT_EQ(0, fcntl(COREY_FD(p, 5), F_GETFD));

	/* from a tagged number to plain ones */
	ASSERT_EQ(40, dup2(COREY_FD(q, 3), 40));
	EXPECT_TRUE(same_file(null, 40));
	EXPECT_EQ(0, fcntl(40, F_GETFD));

	/* dup2(t, t) is a no-op, dup3(t, t) is EINVAL, bad flags EINVAL */
	ASSERT_EQ(COREY_FD(p, 1), dup2(COREY_FD(p, 1), COREY_FD(p, 1)));
	EXPECT_ERRNO(EINVAL, dup3(COREY_FD(p, 1), COREY_FD(p, 1), 0));
	EXPECT_ERRNO(EINVAL, dup3(COREY_FD(p, 1), COREY_FD(p, 1), O_CLOEXEC));
	EXPECT_ERRNO(EINVAL, dup3(COREY_FD(p, 1), COREY_FD(p, 7), O_NONBLOCK));
	EXPECT_ERRNO(EBADF, dup2(COREY_FD(p, 9), COREY_FD(p, 9)));
	EXPECT_ERRNO(EBADF, dup2(COREY_FD(p, 9), COREY_FD(p, 10)));
	EXPECT_EQ(0, fcntl(COREY_FD(p, 1), F_GETFD));
}

TEST(dup2_from_tagged_to_stdio)
{
	int p, pfd[2], fd, save, got;
	bool same;
	char buf[8];

	p = corey_share_create_raw(0, 0);
	ASSERT_LT(0, p);
	ASSERT_EQ(0, pipe2(pfd, O_CLOEXEC));
	ASSERT_EQ(COREY_FD(p, 6), move_fd(pfd[0], COREY_FD(p, 6)));
	ASSERT_EQ(COREY_FD(p, 7), move_fd(pfd[1], COREY_FD(p, 7)));

	for (fd = 0; fd <= 2; fd++) {
		int src = fd ? COREY_FD(p, 7) : COREY_FD(p, 6);

		/* a closed stdio fd is closed again afterwards */
		save = fcntl(fd, F_DUPFD_CLOEXEC, 10);
		ASSERT_TRUE(save >= 0 || errno == EBADF);
		fflush(stdout);
		fflush(stderr);
		/* no logging until stdio is back */
		got = dup2(src, fd);
		same = same_file(src, fd);
		if (fd)
			same &= write(fd, "o", 1) == 1;
		else
			same &= write(COREY_FD(p, 7), "i", 1) == 1 &&
				read(0, buf, 1) == 1 && buf[0] == 'i';
		if (save >= 0) {
			ASSERT_EQ(fd, dup2(save, fd));
			close(save);
		} else {
			ASSERT_EQ(0, close(fd));
		}
		ASSERT_EQ(fd, got) TH_LOG("dup2(%#x, %d)", src, fd);
		EXPECT_TRUE(same) TH_LOG("fd %d after dup2 from %#x", fd, src);
	}
	/* what went to fds 1 and 2 reached the pipe */
	ASSERT_EQ(2, read(COREY_FD(p, 6), buf, sizeof(buf)));
	EXPECT_EQ(0, memcmp(buf, "oo", 2));
}

/* ---- close_range ---- */

TEST(close_range_closes_tagged_fds_but_not_other_threads_private)
{
	int p, s, q, null, err, i;
	struct worker w;
	long ret;

	null = open_null();
	ASSERT_LE(3, null);
	p = corey_share_create_raw(0, 0);
	ASSERT_LT(0, p);
	s = corey_share_create_raw(0, COREY_SHARE_SHARED);
	ASSERT_LT(0, s);
	for (i = 0; i < 3; i++) {
		ASSERT_EQ(COREY_FD(p, i), fcntl(null, F_DUPFD, COREY_FD(p, 0)));
		ASSERT_EQ(COREY_FD(s, i), fcntl(null, F_DUPFD, COREY_FD(s, 0)));
	}
	ASSERT_EQ(0, worker_start(&w));
	q = WORKER_SYSCALL(&w, &err, __NR_corey_share_create, 0, 0);
	ASSERT_LT(0, q);
	ret = WORKER_SYSCALL(&w, &err, SYS_fcntl, null, F_DUPFD, COREY_FD(q, 0));
	ASSERT_EQ(COREY_FD(q, 0), ret);

	/* glibc's closefrom(3) */
	ASSERT_EQ(0, close_range(3, ~0U, 0));

	EXPECT_ERRNO(EBADF, fcntl(null, F_GETFD));
	for (i = 0; i < 3; i++) {
		EXPECT_ERRNO(EBADF, fcntl(COREY_FD(p, i), F_GETFD));
		EXPECT_ERRNO(EBADF, fcntl(COREY_FD(s, i), F_GETFD));
	}
	ret = WORKER_SYSCALL(&w, &err, SYS_fcntl, COREY_FD(q, 0), F_GETFD);
	EXPECT_EQ(0, ret) TH_LOG("the worker's private descriptor: %s",
				 strerrorname_np(err));
	/* stdio survives; the shares survive, empty */
	EXPECT_LE(0, fcntl(2, F_GETFD));
	ASSERT_EQ(COREY_FD(p, 0), fcntl(2, F_DUPFD, COREY_FD(p, 0)));
	ASSERT_EQ(COREY_FD(s, 0), fcntl(2, F_DUPFD, COREY_FD(s, 0)));
	worker_stop(&w);
	EXPECT_EQ(0, corey_share_destroy_raw(p, 0));
	EXPECT_EQ(0, corey_share_destroy_raw(s, 0));
}

TEST(close_range_on_a_tagged_range)
{
	int p, s, null, i;

	null = open_null();
	ASSERT_LE(3, null);
	p = corey_share_create_raw(0, 0);
	ASSERT_LT(0, p);
	s = corey_share_create_raw(0, COREY_SHARE_SHARED);
	ASSERT_LT(0, s);
	for (i = 0; i < 8; i++) {
		ASSERT_EQ(COREY_FD(p, i), fcntl(null, F_DUPFD, COREY_FD(p, 0)));
		ASSERT_EQ(COREY_FD(s, i), fcntl(null, F_DUPFD, COREY_FD(s, 0)));
	}

	/* CLOSE_RANGE_CLOEXEC marks slots 2..5 of p and nothing else */
	ASSERT_EQ(0, close_range(COREY_FD(p, 2), COREY_FD(p, 5),
				 CLOSE_RANGE_CLOEXEC));
	for (i = 0; i < 8; i++) {
		EXPECT_EQ(i >= 2 && i <= 5 ? FD_CLOEXEC : 0,
			  fcntl(COREY_FD(p, i), F_GETFD)) TH_LOG("slot %d", i);
		EXPECT_EQ(0, fcntl(COREY_FD(s, i), F_GETFD)) TH_LOG("slot %d", i);
	}
	EXPECT_EQ(FD_CLOEXEC, fcntl(null, F_GETFD));

	/* plain close_range closes slots 3..6 of s and nothing else */
	ASSERT_EQ(0, close_range(COREY_FD(s, 3), COREY_FD(s, 6), 0));
	for (i = 0; i < 8; i++) {
		if (i >= 3 && i <= 6)
			EXPECT_ERRNO(EBADF, fcntl(COREY_FD(s, i), F_GETFD));
		else
			EXPECT_EQ(0, fcntl(COREY_FD(s, i), F_GETFD));
		EXPECT_LE(0, fcntl(COREY_FD(p, i), F_GETFD)) TH_LOG("slot %d", i);
	}
	EXPECT_EQ(FD_CLOEXEC, fcntl(null, F_GETFD));

	/* a range over the whole number space marks every share */
	ASSERT_EQ(0, close_range(3, ~0U, CLOSE_RANGE_CLOEXEC));
	EXPECT_EQ(FD_CLOEXEC, fcntl(COREY_FD(p, 0), F_GETFD));
	EXPECT_EQ(FD_CLOEXEC, fcntl(COREY_FD(s, 7), F_GETFD));
}

/* ---- POSIX record locks ---- */

/*
 * Fork a child that opens @path and asks F_GETLK for a write lock on the
 * whole file.  Returns 0 (unlocked), 1 (write-locked by us), 2 (locked by
 * someone else) or 3 (the child failed).
 */
static int child_getlk(const char *path)
{
	int status;
	pid_t pid;

	pid = fork();
	if (pid < 0)
		return 3;
	if (pid == 0) {
		struct flock fl = { .l_type = F_WRLCK, .l_whence = SEEK_SET };
		int fd = open(path, O_RDWR);

		if (fd < 0 || fcntl(fd, F_GETLK, &fl))
			_exit(3);
		if (fl.l_type == F_UNLCK)
			_exit(0);
		_exit(fl.l_type == F_WRLCK && fl.l_pid == getppid() ? 1 : 2);
	}
	if (waitpid(pid, &status, 0) != pid || !WIFEXITED(status))
		return 3;
	return WEXITSTATUS(status);
}

static int lock_file(int fd, short type)
{
	struct flock fl = { .l_type = type, .l_whence = SEEK_SET };

	return fcntl(fd, F_SETLK, &fl);
}

TEST(posix_locks_through_tagged_fds)
{
	char path[] = "/tmp/shares_lock_XXXXXX";
	int p, s, fd, t;

	fd = mkstemp(path);
	ASSERT_LE(0, fd);
	p = corey_share_create_raw(0, 0);
	ASSERT_LT(0, p);
	s = corey_share_create_raw(0, COREY_SHARE_SHARED);
	ASSERT_LT(0, s);
	ASSERT_EQ(0, child_getlk(path));

	/* a lock taken through a tagged fd is the process's */
	t = fcntl(fd, F_DUPFD, COREY_FD(p, 0));
	ASSERT_EQ(COREY_FD(p, 0), t);
	ASSERT_EQ(0, lock_file(t, F_WRLCK));
	EXPECT_EQ(1, child_getlk(path));
	/* closing the tagged fd releases it, as close(2) does */
	ASSERT_EQ(0, close(t));
	EXPECT_EQ(0, child_getlk(path));

	/* closing a share-0 descriptor of the file releases it too */
	t = fcntl(fd, F_DUPFD, COREY_FD(p, 0));
	ASSERT_EQ(COREY_FD(p, 0), t);
	ASSERT_EQ(0, lock_file(t, F_WRLCK));
	EXPECT_EQ(1, child_getlk(path));
	ASSERT_EQ(0, close(fd));
	EXPECT_EQ(0, child_getlk(path));

	/* a lock taken through share 0 is released by a tagged close */
	fd = open(path, O_RDWR | O_CLOEXEC);
	ASSERT_LE(0, fd);
	ASSERT_EQ(0, lock_file(fd, F_WRLCK));
	EXPECT_EQ(1, child_getlk(path));
	ASSERT_EQ(0, close(t));
	EXPECT_EQ(0, child_getlk(path));

	/* destroying the share that holds the fd releases it */
	t = fcntl(fd, F_DUPFD, COREY_FD(s, 0));
	ASSERT_EQ(COREY_FD(s, 0), t);
	ASSERT_EQ(0, lock_file(t, F_WRLCK));
	EXPECT_EQ(1, child_getlk(path));
	ASSERT_EQ(0, corey_share_destroy_raw(s, 0));
	EXPECT_EQ(0, child_getlk(path));

	/* and F_UNLCK through a tagged fd unlocks */
	t = fcntl(fd, F_DUPFD, COREY_FD(p, 0));
	ASSERT_EQ(COREY_FD(p, 0), t);
	ASSERT_EQ(0, lock_file(fd, F_WRLCK));
	EXPECT_EQ(1, child_getlk(path));
	ASSERT_EQ(0, lock_file(t, F_UNLCK));
	EXPECT_EQ(0, child_getlk(path));
	unlink(path);
}

/* ---- SCM_RIGHTS ---- */

static int send_fds(int sock, const int *fds, int n)
{
	char cbuf[CMSG_SPACE(sizeof(int) * 4)] = { 0 };
	struct iovec iov = { .iov_base = "F", .iov_len = 1 };
	struct msghdr msg = {
		.msg_iov = &iov, .msg_iovlen = 1,
		.msg_control = cbuf, .msg_controllen = CMSG_SPACE(sizeof(int) * n),
	};
	struct cmsghdr *cm = CMSG_FIRSTHDR(&msg);

	cm->cmsg_level = SOL_SOCKET;
	cm->cmsg_type = SCM_RIGHTS;
	cm->cmsg_len = CMSG_LEN(sizeof(int) * n);
	memcpy(CMSG_DATA(cm), fds, sizeof(int) * n);
	return sendmsg(sock, &msg, 0) == 1 ? 0 : -1;
}

struct recv_arg {
	int sock;
	int flags;		/* recvmsg flags (MSG_CMSG_CLOEXEC) */
	int n;			/* descriptors received */
	int fds[4];
};

/* Receive one message with SCM_RIGHTS; returns 0 or -1 (errno). */
static long recv_fds(void *data)
{
	struct recv_arg *a = data;
	char cbuf[CMSG_SPACE(sizeof(int) * 4)], c;
	struct iovec iov = { .iov_base = &c, .iov_len = 1 };
	struct msghdr msg = {
		.msg_iov = &iov, .msg_iovlen = 1,
		.msg_control = cbuf, .msg_controllen = sizeof(cbuf),
	};
	struct cmsghdr *cm;

	if (recvmsg(a->sock, &msg, a->flags) != 1)
		return -1;
	cm = CMSG_FIRSTHDR(&msg);
	if (!cm || cm->cmsg_type != SCM_RIGHTS) {
		errno = EPROTO;
		return -1;
	}
	a->n = (cm->cmsg_len - CMSG_LEN(0)) / sizeof(int);
	memcpy(a->fds, CMSG_DATA(cm), sizeof(int) * a->n);
	return 0;
}

static long set_default_share(void *data)
{
	return corey_set_alloc_share_raw((long)data);
}

struct send_arg {
	int sock;
	int fd;
};

static long send_one(void *data)
{
	struct send_arg *a = data;

	return send_fds(a->sock, &a->fd, 1);
}

TEST(scm_rights_sends_tagged_fds_and_receives_into_the_default_share)
{
	int p, q, sv[2], pfd[2], null, err, fds[2];
	struct recv_arg a = { 0 };
	struct worker w;
	char buf[4];
	long ret;

	ASSERT_EQ(0, socketpair(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0, sv));
	ASSERT_EQ(0, pipe2(pfd, O_CLOEXEC));
	null = open_null();
	ASSERT_LE(0, null);
	p = corey_share_create_raw(0, 0);
	ASSERT_LT(0, p);
	ASSERT_EQ(COREY_FD(p, 0), move_fd(pfd[1], COREY_FD(p, 0)));

	ASSERT_EQ(0, worker_start(&w));
	q = WORKER_SYSCALL(&w, &err, __NR_corey_share_create, 0, 0);
	ASSERT_LT(0, q);
	ASSERT_EQ(0, worker_call(&w, set_default_share, (void *)(long)q, &err))
		TH_LOG("worker set default %d: %s", q, strerrorname_np(err));

	/* our private write end goes to the worker, whose default is q */
	ASSERT_EQ(0, send_fds(sv[0], (int[]){ COREY_FD(p, 0) }, 1))
		TH_LOG("sendmsg: %s", strerrorname_np(errno));
	a.sock = sv[1];
	ASSERT_EQ(0, worker_call(&w, recv_fds, &a, &err))
		TH_LOG("recvmsg: %s", strerrorname_np(err));
	ASSERT_EQ(1, a.n);
	EXPECT_EQ(COREY_FD(q, 0), a.fds[0]) TH_LOG("received %#x", a.fds[0]);
	ret = WORKER_SYSCALL(&w, &err, SYS_write, a.fds[0], (long)"m", 1);
	ASSERT_EQ(1, ret) TH_LOG("worker write: %s", strerrorname_np(err));
	ASSERT_EQ(1, read(pfd[0], buf, sizeof(buf)));
	EXPECT_EQ('m', buf[0]);
	ret = WORKER_SYSCALL(&w, &err, SYS_fcntl, a.fds[0], F_GETFD);
	EXPECT_EQ(0, ret);

	/* two at once, one tagged and one plain, with MSG_CMSG_CLOEXEC */
	fds[0] = null;
	fds[1] = COREY_FD(p, 0);
	ASSERT_EQ(0, send_fds(sv[0], fds, 2));
	a.flags = MSG_CMSG_CLOEXEC;
	ASSERT_EQ(0, worker_call(&w, recv_fds, &a, &err))
		TH_LOG("recvmsg: %s", strerrorname_np(err));
	ASSERT_EQ(2, a.n);
	EXPECT_EQ(COREY_FD(q, 1), a.fds[0]);
	EXPECT_EQ(COREY_FD(q, 2), a.fds[1]);
	ret = WORKER_SYSCALL(&w, &err, SYS_fcntl, a.fds[1], F_GETFD);
	EXPECT_EQ(FD_CLOEXEC, ret);

	/* we cannot send the worker's private descriptor */
	EXPECT_ERRNO(EBADF, send_fds(sv[0], (int[]){ a.fds[0] }, 1));

	/* the worker sends from its private share; we receive into share 0 */
	struct send_arg sa = { .sock = sv[1], .fd = COREY_FD(q, 0) };
	ASSERT_EQ(0, worker_call(&w, send_one, &sa, &err))
		TH_LOG("worker sendmsg: %s", strerrorname_np(err));
	a = (struct recv_arg){ .sock = sv[0] };
	ASSERT_EQ(0, recv_fds(&a));
	ASSERT_EQ(1, a.n);
	EXPECT_FALSE(COREY_FD_IS_TAGGED(a.fds[0])) TH_LOG("got %#x", a.fds[0]);
	EXPECT_TRUE(same_file(a.fds[0], pfd[0]));
	ASSERT_EQ(1, write(a.fds[0], "n", 1));
	ASSERT_EQ(1, read(pfd[0], buf, sizeof(buf)));
	EXPECT_EQ('n', buf[0]);
	worker_stop(&w);
}

/* ---- the default allocation share ---- */

TEST(default_share_tags_every_allocation)
{
	struct sockaddr_un addr = { .sun_family = AF_UNIX };
	int p, a, b, c, x, pp[2], sp[2], n, expect, err;
	socklen_t alen;
	struct worker w;
	uint64_t one = 1;
	char buf[8];
	long ret;

	p = corey_share_create_raw(0, 0);
	ASSERT_LT(0, p);
	ASSERT_EQ(0, corey_set_alloc_share_raw(p));

	/* each call takes the lowest free slot of p */
	expect = 0;
#define EXPECT_NEXT(_fd) do {						\
	int __fd = (_fd);						\
									\
	ASSERT_EQ(COREY_FD(p, expect), __fd)				\
		TH_LOG("%s gave %#x (%s)", #_fd, __fd,			\
		       __fd < 0 ? strerrorname_np(errno) : "");		\
	expect++;							\
} while (0)
	a = open("/dev/null", O_RDWR | O_CLOEXEC);
	EXPECT_NEXT(a);
	b = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	EXPECT_NEXT(b);
	ASSERT_EQ(0, pipe2(pp, O_CLOEXEC));
	EXPECT_NEXT(pp[0]);
	EXPECT_NEXT(pp[1]);
	EXPECT_NEXT(dup(a));
	n = eventfd(0, EFD_CLOEXEC);
	EXPECT_NEXT(n);
	EXPECT_NEXT(epoll_create1(EPOLL_CLOEXEC));
	EXPECT_NEXT(memfd_create("default", MFD_CLOEXEC));
	x = syscall(SYS_pidfd_open, getpid(), 0);
	EXPECT_NEXT(x);
	EXPECT_NEXT(syscall(SYS_pidfd_getfd, x, a, 0));
	EXPECT_NEXT(timerfd_create(CLOCK_MONOTONIC, TFD_CLOEXEC));
	ASSERT_EQ(0, socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sp));
	EXPECT_NEXT(sp[0]);
	EXPECT_NEXT(sp[1]);
	EXPECT_NEXT(openat(AT_FDCWD, "/", O_RDONLY | O_DIRECTORY | O_CLOEXEC));

	/* accept and accept4 on a tagged listening socket */
	snprintf(addr.sun_path + 1, sizeof(addr.sun_path) - 1,
		 "corey-shares-%d", getpid());
	alen = offsetof(struct sockaddr_un, sun_path) + 1 +
	       strlen(addr.sun_path + 1);
	ASSERT_EQ(0, bind(b, (struct sockaddr *)&addr, alen));
	ASSERT_EQ(0, listen(b, 4));
	c = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	EXPECT_NEXT(c);
	ASSERT_EQ(0, connect(c, (struct sockaddr *)&addr, alen));
	x = accept4(b, NULL, NULL, SOCK_CLOEXEC);
	EXPECT_NEXT(x);
	ASSERT_EQ(2, write(c, "ab", 2));
	ASSERT_EQ(2, read(x, buf, sizeof(buf)));
	c = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	EXPECT_NEXT(c);
	ASSERT_EQ(0, connect(c, (struct sockaddr *)&addr, alen));
	EXPECT_NEXT(accept(b, NULL, NULL));
#undef EXPECT_NEXT

	/* the tagged descriptors work */
	ASSERT_EQ(1, write(pp[1], "p", 1));
	ASSERT_EQ(1, read(pp[0], buf, sizeof(buf)));
	ASSERT_EQ(8, write(n, &one, 8));
	ASSERT_EQ(8, read(n, &one, 8));
	EXPECT_EQ(1, one);
	ASSERT_EQ(1, write(sp[0], "s", 1));
	ASSERT_EQ(1, read(sp[1], buf, sizeof(buf)));

	/* explicit numbers and untagged floors stay in share 0 */
	x = fcntl(a, F_DUPFD, 10);
	EXPECT_LE(10, x);
	EXPECT_FALSE(COREY_FD_IS_TAGGED(x)) TH_LOG("F_DUPFD(a, 10) gave %#x", x);
	x = fcntl(a, F_DUPFD_CLOEXEC, 0);
	EXPECT_LE(0, x);
	EXPECT_FALSE(COREY_FD_IS_TAGGED(x)) TH_LOG("F_DUPFD(a, 0) gave %#x", x);
	EXPECT_EQ(20, dup2(a, 20));
	EXPECT_EQ(21, dup3(a, 21, O_CLOEXEC));
	/* a tagged floor in another share goes there */
	n = corey_share_create_raw(0, COREY_SHARE_SHARED);
	ASSERT_LT(0, n);
	EXPECT_EQ(COREY_FD(n, 0), fcntl(a, F_DUPFD, COREY_FD(n, 0)));

	/* the default is per thread, and a new thread starts with 0 */
	ASSERT_EQ(0, worker_start(&w));
	ret = WORKER_SYSCALL(&w, &err, SYS_prctl, PR_COREY,
			     PR_COREY_GET_ALLOC_SHARE, 0, 0, 0);
	EXPECT_EQ(0, ret);
	ret = WORKER_SYSCALL(&w, &err, SYS_openat, AT_FDCWD, (long)"/dev/null",
			     O_RDONLY | O_CLOEXEC);
	ASSERT_LE(0, ret);
	EXPECT_FALSE(COREY_FD_IS_TAGGED(ret)) TH_LOG("worker open: %#lx", ret);
	worker_stop(&w);

	/* back to share 0 */
	ASSERT_EQ(0, corey_set_alloc_share_raw(0));
	x = open("/dev/null", O_RDONLY | O_CLOEXEC);
	ASSERT_LE(0, x);
	EXPECT_FALSE(COREY_FD_IS_TAGGED(x));
	EXPECT_EQ(COREY_FD(p, expect), fcntl(a, F_DUPFD, COREY_FD(p, 0)));
}

COREY_SHARES_TEST_MAIN
