// SPDX-License-Identifier: GPL-2.0
/*
 * Descriptor shares and io_uring (docs/shares.md, "Who can see what").
 * A request that runs in the submitting task (the inline path) resolves
 * the submitter's private shares; one the ring runs elsewhere (the SQPOLL
 * thread, an io-wq worker) sees share 0 and the shared shares only and
 * gets -EBADF for a private descriptor; a fixed file
 * registered from the owning thread works everywhere.  io_uring's
 * descriptor-allocating operations ignore the default share.
 *
 * Every READ here has its data already in the pipe, so a kernel that
 * wrongly resolves a descriptor completes the request instead of hanging.
 */
#include <fcntl.h>
#include <liburing.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "shares_test.h"

#define MSG "hello"
#define MSG_LEN 5

static int open_null(void)
{
	return open("/dev/null", O_RDONLY | O_CLOEXEC);
}

/* Submit @sqe's request (already prepared) and return its cqe's res. */
static int submit_and_wait(struct io_uring *ring, int *res)
{
	struct io_uring_cqe *cqe;
	int ret;

	/*
	 * With SQPOLL, io_uring_submit() counts the entries the SQ thread
	 * has not yet marked consumed: 0 if it was fast, 2 if it has not
	 * yet moved the head past the previous entry (whose completion we
	 * already saw).  Only the completion tells.
	 */
	ret = io_uring_submit(ring);
	if (ret < 0)
		return ret;
	if (ret != 1 && !(ring->flags & IORING_SETUP_SQPOLL))
		return -EIO;
	ret = io_uring_wait_cqe(ring, &cqe);
	if (ret)
		return ret;
	*res = cqe->res;
	io_uring_cqe_seen(ring, cqe);
	return 0;
}

/* READ @len bytes from @fd (fixed-file index with IOSQE_FIXED_FILE). */
static int ring_read(struct io_uring *ring, int fd, unsigned int sqe_flags,
		     char *buf, unsigned int len, int *res)
{
	struct io_uring_sqe *sqe = io_uring_get_sqe(ring);

	if (!sqe)
		return -EBUSY;
	io_uring_prep_read(sqe, fd, buf, len, 0);
	sqe->flags |= sqe_flags;
	return submit_and_wait(ring, res);
}

/*
 * A pipe whose read end is at @rd (a tagged number) and share-0 write
 * end in *@wr, with MSG already in it.
 */
static int tagged_pipe(int rd, int *wr)
{
	int pfd[2];

	if (pipe2(pfd, O_CLOEXEC))
		return -1;
	if (dup3(pfd[0], rd, 0) != rd)
		return -1;
	close(pfd[0]);
	*wr = pfd[1];
	return write(pfd[1], MSG, MSG_LEN) == MSG_LEN ? 0 : -1;
}

/* Refill the pipe after a read took MSG out. */
static int refill(int wr)
{
	return write(wr, MSG, MSG_LEN) == MSG_LEN ? 0 : -1;
}

TEST(inline_requests_resolve_private_fds)
{
	struct io_uring ring;
	struct io_uring_sqe *sqe;
	int p, s, wr, wr2, null, res, err;
	struct worker w;
	char buf[16];
	long ret;

	p = corey_share_create_raw(0, 0);
	ASSERT_LT(0, p);
	s = corey_share_create_raw(0, COREY_SHARE_SHARED);
	ASSERT_LT(0, s);
	ASSERT_EQ(0, tagged_pipe(COREY_FD(p, 0), &wr));
	ASSERT_EQ(0, tagged_pipe(COREY_FD(s, 0), &wr2));
	ASSERT_EQ(0, io_uring_queue_init(8, &ring, 0));

	/* READ on our private descriptor, issued inline */
	memset(buf, 0, sizeof(buf));
	ASSERT_EQ(0, ring_read(&ring, COREY_FD(p, 0), 0, buf, sizeof(buf), &res));
	ASSERT_EQ(MSG_LEN, res) TH_LOG("READ on a private fd: %s",
				       res < 0 ? strerrorname_np(-res) : "short");
	EXPECT_STREQ(MSG, buf);

	/* ... and on a shared one */
	memset(buf, 0, sizeof(buf));
	ASSERT_EQ(0, ring_read(&ring, COREY_FD(s, 0), 0, buf, sizeof(buf), &res));
	ASSERT_EQ(MSG_LEN, res);
	EXPECT_STREQ(MSG, buf);

	/* WRITE through a private write end */
	ASSERT_EQ(COREY_FD(p, 1), dup3(wr, COREY_FD(p, 1), 0));
	sqe = io_uring_get_sqe(&ring);
	ASSERT_NE(NULL, sqe);
	io_uring_prep_write(sqe, COREY_FD(p, 1), "xyz", 3, 0);
	ASSERT_EQ(0, submit_and_wait(&ring, &res));
	ASSERT_EQ(3, res);
	ASSERT_EQ(3, read(COREY_FD(p, 0), buf, sizeof(buf)));

	/* CLOSE of a private descriptor (no ->flush: not punted) */
	null = open_null();
	ASSERT_LE(0, null);
	ASSERT_EQ(COREY_FD(p, 2), dup3(null, COREY_FD(p, 2), 0));
	sqe = io_uring_get_sqe(&ring);
	ASSERT_NE(NULL, sqe);
	io_uring_prep_close(sqe, COREY_FD(p, 2));
	ASSERT_EQ(0, submit_and_wait(&ring, &res));
	ASSERT_EQ(0, res) TH_LOG("CLOSE: %s", strerrorname_np(-res));
	EXPECT_ERRNO(EBADF, fcntl(COREY_FD(p, 2), F_GETFD));

	/* another thread's private descriptor is not ours to use or close */
	ASSERT_EQ(0, worker_start(&w));
	ret = WORKER_SYSCALL(&w, &err, __NR_corey_share_create, 0, 0);
	ASSERT_LT(0, ret);
	ret = WORKER_SYSCALL(&w, &err, SYS_dup3, null, COREY_FD(ret, 0), 0);
	ASSERT_LT(0, ret);
	sqe = io_uring_get_sqe(&ring);
	ASSERT_NE(NULL, sqe);
	io_uring_prep_close(sqe, ret);
	ASSERT_EQ(0, submit_and_wait(&ring, &res));
	EXPECT_EQ(-EBADF, res);
	ASSERT_EQ(0, ring_read(&ring, ret, 0, buf, sizeof(buf), &res));
	EXPECT_EQ(-EBADF, res);
	ret = WORKER_SYSCALL(&w, &err, SYS_fcntl, ret, F_GETFD);
	EXPECT_EQ(0, ret) TH_LOG("the worker's fd after our CLOSE: %s",
				 strerrorname_np(err));
	worker_stop(&w);
	io_uring_queue_exit(&ring);
}

/*
 * IOSQE_ASYNC sends a request to an io-wq worker.  For a request that
 * needs a file (READ, ...) 6.12 looks the file up in the submitter before
 * punting, so only requests that resolve descriptors themselves show the
 * worker's view: CLOSE, and OPENAT's dirfd.  (A READ linked behind such a
 * request may be issued in the worker or in the submitter, so it is not
 * tested.)
 */
TEST(io_wq_requests_see_no_private_fds)
{
	struct io_uring_sqe *sqe;
	struct io_uring ring;
	int p, s, null, dir, res;

	p = corey_share_create_raw(0, 0);
	ASSERT_LT(0, p);
	s = corey_share_create_raw(0, COREY_SHARE_SHARED);
	ASSERT_LT(0, s);
	null = open_null();
	ASSERT_LE(0, null);
	dir = open("/dev", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	ASSERT_LE(0, dir);
	ASSERT_EQ(COREY_FD(p, 0), dup3(null, COREY_FD(p, 0), 0));
	ASSERT_EQ(COREY_FD(s, 0), dup3(null, COREY_FD(s, 0), 0));
	ASSERT_EQ(COREY_FD(p, 1), dup3(dir, COREY_FD(p, 1), 0));
	ASSERT_EQ(COREY_FD(s, 1), dup3(dir, COREY_FD(s, 1), 0));
	ASSERT_EQ(0, io_uring_queue_init(8, &ring, 0));

	/* CLOSE in a worker: our private descriptor is not its to close */
	sqe = io_uring_get_sqe(&ring);
	ASSERT_NE(NULL, sqe);
	io_uring_prep_close(sqe, COREY_FD(p, 0));
	sqe->flags |= IOSQE_ASYNC;
	ASSERT_EQ(0, submit_and_wait(&ring, &res));
	EXPECT_EQ(-EBADF, res) TH_LOG("res %d", res);
	EXPECT_EQ(0, fcntl(COREY_FD(p, 0), F_GETFD));
	/* a shared one is */
	sqe = io_uring_get_sqe(&ring);
	ASSERT_NE(NULL, sqe);
	io_uring_prep_close(sqe, COREY_FD(s, 0));
	sqe->flags |= IOSQE_ASYNC;
	ASSERT_EQ(0, submit_and_wait(&ring, &res));
	EXPECT_EQ(0, res) TH_LOG("CLOSE of a shared fd: %s",
				 strerrorname_np(-res));
	EXPECT_ERRNO(EBADF, fcntl(COREY_FD(s, 0), F_GETFD));

	/* OPENAT in a worker, relative to a private and a shared dirfd */
	sqe = io_uring_get_sqe(&ring);
	ASSERT_NE(NULL, sqe);
	io_uring_prep_openat(sqe, COREY_FD(p, 1), "null", O_RDONLY | O_CLOEXEC, 0);
	sqe->flags |= IOSQE_ASYNC;
	ASSERT_EQ(0, submit_and_wait(&ring, &res));
	EXPECT_EQ(-EBADF, res) TH_LOG("res %d", res);
	sqe = io_uring_get_sqe(&ring);
	ASSERT_NE(NULL, sqe);
	io_uring_prep_openat(sqe, COREY_FD(s, 1), "null", O_RDONLY | O_CLOEXEC, 0);
	sqe->flags |= IOSQE_ASYNC;
	ASSERT_EQ(0, submit_and_wait(&ring, &res));
	ASSERT_LE(0, res) TH_LOG("OPENAT at a shared dirfd: %s",
				 strerrorname_np(-res));
	EXPECT_EQ(FD_CLOEXEC, fcntl(res, F_GETFD));
	io_uring_queue_exit(&ring);
}

TEST(sqpoll_needs_a_fixed_file_for_private_fds)
{
	struct io_uring_params params = {
		.flags = IORING_SETUP_SQPOLL,
		.sq_thread_idle = 1000,
	};
	struct io_uring ring;
	int p, s, wr, wr2, res, ret, fixed;
	char buf[16];

	p = corey_share_create_raw(0, 0);
	ASSERT_LT(0, p);
	s = corey_share_create_raw(0, COREY_SHARE_SHARED);
	ASSERT_LT(0, s);
	ASSERT_EQ(0, tagged_pipe(COREY_FD(p, 0), &wr));
	ASSERT_EQ(0, tagged_pipe(COREY_FD(s, 0), &wr2));
	ret = io_uring_queue_init_params(8, &ring, &params);
	ASSERT_EQ(0, ret) TH_LOG("SQPOLL ring: %s", strerrorname_np(-ret));

	/* the SQPOLL thread cannot see our private share */
	ASSERT_EQ(0, ring_read(&ring, COREY_FD(p, 0), 0, buf, sizeof(buf), &res));
	EXPECT_EQ(-EBADF, res) TH_LOG("res %d", res);

	/* it sees the shared one */
	memset(buf, 0, sizeof(buf));
	ASSERT_EQ(0, ring_read(&ring, COREY_FD(s, 0), 0, buf, sizeof(buf), &res));
	EXPECT_EQ(MSG_LEN, res);
	EXPECT_STREQ(MSG, buf);

	/* a fixed file registered by the owner works */
	fixed = COREY_FD(p, 0);
	ret = io_uring_register_files(&ring, &fixed, 1);
	ASSERT_EQ(0, ret) TH_LOG("register_files: %s", strerrorname_np(-ret));
	memset(buf, 0, sizeof(buf));
	ASSERT_EQ(0, ring_read(&ring, 0, IOSQE_FIXED_FILE, buf, sizeof(buf),
			       &res));
	EXPECT_EQ(MSG_LEN, res) TH_LOG("res %d", res);
	EXPECT_STREQ(MSG, buf);

	/* and keeps working after the descriptor is closed */
	ASSERT_EQ(0, close(COREY_FD(p, 0)));
	ASSERT_EQ(0, refill(wr));
	memset(buf, 0, sizeof(buf));
	ASSERT_EQ(0, ring_read(&ring, 0, IOSQE_FIXED_FILE, buf, sizeof(buf),
			       &res));
	EXPECT_EQ(MSG_LEN, res);
	EXPECT_STREQ(MSG, buf);
	io_uring_queue_exit(&ring);
}

TEST(allocating_ops_ignore_the_default_share)
{
	struct io_uring ring;
	struct io_uring_sqe *sqe;
	int p, s, dir, res, ret;

	p = corey_share_create_raw(0, 0);
	ASSERT_LT(0, p);
	s = corey_share_create_raw(0, COREY_SHARE_SHARED);
	ASSERT_LT(0, s);
	dir = open("/dev", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	ASSERT_LE(0, dir);
	ASSERT_EQ(COREY_FD(s, 0), dup3(dir, COREY_FD(s, 0), 0));
	ASSERT_EQ(0, io_uring_queue_init(8, &ring, 0));
	ASSERT_EQ(0, corey_set_alloc_share_raw(p));

	sqe = io_uring_get_sqe(&ring);
	ASSERT_NE(NULL, sqe);
	io_uring_prep_openat(sqe, AT_FDCWD, "/dev/null", O_RDONLY | O_CLOEXEC, 0);
	ASSERT_EQ(0, submit_and_wait(&ring, &res));
	ASSERT_LE(0, res) TH_LOG("OPENAT: %s", strerrorname_np(-res));
	EXPECT_FALSE(COREY_FD_IS_TAGGED(res)) TH_LOG("OPENAT gave %#x", res);
	EXPECT_EQ(FD_CLOEXEC, fcntl(res, F_GETFD));

	/* relative to a tagged dirfd in a shared share (visible to io-wq) */
	sqe = io_uring_get_sqe(&ring);
	ASSERT_NE(NULL, sqe);
	io_uring_prep_openat(sqe, COREY_FD(s, 0), "null", O_RDONLY | O_CLOEXEC, 0);
	ASSERT_EQ(0, submit_and_wait(&ring, &res));
	ASSERT_LE(0, res) TH_LOG("OPENAT at a tagged dirfd: %s",
				 strerrorname_np(-res));
	EXPECT_FALSE(COREY_FD_IS_TAGGED(res)) TH_LOG("OPENAT gave %#x", res);

	sqe = io_uring_get_sqe(&ring);
	ASSERT_NE(NULL, sqe);
	io_uring_prep_socket(sqe, AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0, 0);
	ASSERT_EQ(0, submit_and_wait(&ring, &res));
	ASSERT_LE(0, res) TH_LOG("SOCKET: %s", strerrorname_np(-res));
	EXPECT_FALSE(COREY_FD_IS_TAGGED(res)) TH_LOG("SOCKET gave %#x", res);

	/* the same calls made directly do follow the default share */
	ret = open("/dev/null", O_RDONLY | O_CLOEXEC);
	EXPECT_EQ(COREY_FD(p, 0), ret);
	io_uring_queue_exit(&ring);
}

TEST(ring_entered_through_a_tagged_fd)
{
	struct io_uring_cqe *cqe;
	struct io_uring_sqe *sqe;
	struct io_uring ring;
	int p, t, ret, null, err;
	struct worker w;

	p = corey_share_create_raw(0, 0);
	ASSERT_LT(0, p);
	ASSERT_EQ(0, io_uring_queue_init(8, &ring, 0));
	/* move the ring's descriptor into our private share */
	t = COREY_FD(p, 0);
	ASSERT_EQ(t, dup3(ring.ring_fd, t, O_CLOEXEC));
	ASSERT_EQ(0, close(ring.ring_fd));
	ring.ring_fd = ring.enter_ring_fd = t;

	sqe = io_uring_get_sqe(&ring);
	ASSERT_NE(NULL, sqe);
	io_uring_prep_nop(sqe);
	sqe->user_data = 42;
	ASSERT_EQ(1, io_uring_submit(&ring));
	ASSERT_EQ(0, io_uring_wait_cqe(&ring, &cqe));
	EXPECT_EQ(42, cqe->user_data);
	EXPECT_EQ(0, cqe->res);
	io_uring_cqe_seen(&ring, cqe);
	null = open_null();
	ASSERT_LE(0, null);
	ret = io_uring_register_files(&ring, &null, 1);
	EXPECT_EQ(0, ret) TH_LOG("register_files: %s", strerrorname_np(-ret));

	/* another thread cannot enter it */
	ASSERT_EQ(0, worker_start(&w));
	ret = WORKER_SYSCALL(&w, &err, SYS_io_uring_enter, t, 0, 0, 0, 0, 0);
	ASSERT_WORKER_ERRNO(EBADF, ret, err, "io_uring_enter on our private ring fd");
	worker_stop(&w);

	io_uring_queue_exit(&ring);
	EXPECT_ERRNO(EBADF, fcntl(t, F_GETFD));
}

COREY_SHARES_TEST_MAIN
