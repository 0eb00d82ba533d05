// SPDX-License-Identifier: GPL-2.0
/*
 * Descriptor shares: lifetime (docs/shares.md, "Lifetime").  Thread exit
 * and destroy close a share's descriptors; fork copies the visible shares
 * under the same indexes; execve honours close-on-exec in every share,
 * destroys COREY_SHARE_CLOEXEC shares and other threads' private shares
 * and resets the default share; unshare(CLONE_FILES) and
 * close_range(CLOSE_RANGE_UNSHARE) copy the visible shares and destroy
 * the caller's private ones in the old table; a CLONE_FILES child process
 * shares the registry.
 *
 * Closing is observed through pipes: when the only write end of a pipe
 * lives in a share, the reader sees EOF exactly when the share's
 * descriptors were really closed.  Where the kernel may finish the close
 * asynchronously (another thread's exit), the read blocks, so a kernel
 * that never closes fails by the harness's timeout, not by a guess.
 *
 * The exec tests re-execute this binary (/proc/self/exe) with
 * EXEC_HELPER as argv[1]; the helper checks what survived and exits 0.
 */
#include <fcntl.h>
#include <pthread.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "shares_test.h"

#define EXEC_HELPER "--shares-exec-helper"

#ifndef CLOSE_RANGE_UNSHARE
#define CLOSE_RANGE_UNSHARE (1U << 1)
#endif
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

/*
 * A pipe whose only write end is @to (a tagged number, through dup3 with
 * @flags); returns the read end (with @rflags) or -1.
 */
static int pipe_into(int to, int dup_flags, int rflags)
{
	int pfd[2];

	if (pipe2(pfd, rflags))
		return -1;
	if (dup3(pfd[1], to, dup_flags) != to) {
		close(pfd[0]);
		close(pfd[1]);
		return -1;
	}
	close(pfd[1]);
	return pfd[0];
}

/* 0 at EOF, -EAGAIN while a writer exists (for O_NONBLOCK read ends). */
static int at_eof(int r)
{
	char c;
	ssize_t n = read(r, &c, 1);

	return n == 0 ? 0 : n < 0 ? -errno : -EEXIST;
}

/* Block until @r reaches EOF; 0, or -errno / -EEXIST if data came. */
static int wait_eof(int r)
{
	char c;
	ssize_t n;

	do {
		n = read(r, &c, 1);
	} while (n < 0 && errno == EINTR);
	return n == 0 ? 0 : n < 0 ? -errno : -EEXIST;
}

/* The exit code of @pid, or 128 + signal. */
static int wait_child(pid_t pid)
{
	int status;

	if (waitpid(pid, &status, 0) != pid)
		return -errno;
	return WIFEXITED(status) ? WEXITSTATUS(status) :
				   128 + WTERMSIG(status);
}

/* In children and in the exec helper: no harness, report and exit. */
#define CHILD_CHECK(cond) do {						\
	if (!(cond)) {							\
		dprintf(2, "# %s:%d: child: %s failed (errno %s)\n",	\
			__FILE__, __LINE__, #cond,			\
			strerrorname_np(errno) ?: "0");			\
		_exit(1);						\
	}								\
} while (0)

static void *thread_getfd(void *arg)
{
	long fd = (long)arg;

	return (void *)(long)(fcntl(fd, F_GETFD) < 0 ? errno : 0);
}

/* F_GETFD on @fd in a new thread: 0 or its errno (-1: no thread). */
static int getfd_in_new_thread(int fd)
{
	pthread_t t;
	void *ret;

	if (pthread_create(&t, NULL, thread_getfd, (void *)(long)fd))
		return -1;
	pthread_join(t, &ret);
	return (int)(long)ret;
}

/* ---- thread exit and destroy ---- */

TEST(thread_exit_destroys_its_private_shares)
{
	int r, rs, pfd[2], sfd[2], q, t, err;
	struct worker w;
	long ret;

	ASSERT_EQ(0, pipe2(pfd, O_CLOEXEC));
	ASSERT_EQ(0, pipe2(sfd, O_CLOEXEC | O_NONBLOCK));
	r = pfd[0];
	rs = sfd[0];
	ASSERT_EQ(0, worker_start(&w));
	q = WORKER_SYSCALL(&w, &err, __NR_corey_share_create, 0, 0);
	ASSERT_LT(0, q);
	ret = WORKER_SYSCALL(&w, &err, SYS_dup3, pfd[1], COREY_FD(q, 0), 0);
	ASSERT_EQ(COREY_FD(q, 0), ret);
	/* a shared share the thread creates outlives it */
	t = WORKER_SYSCALL(&w, &err, __NR_corey_share_create, 0,
			   COREY_SHARE_SHARED);
	ASSERT_LT(0, t);
	ret = WORKER_SYSCALL(&w, &err, SYS_dup3, sfd[1], COREY_FD(t, 0), 0);
	ASSERT_EQ(COREY_FD(t, 0), ret);
	ASSERT_EQ(0, close(pfd[1]));
	ASSERT_EQ(0, close(sfd[1]));

	worker_stop(&w);
	/* blocks until the thread's private share is gone */
	EXPECT_EQ(0, wait_eof(r));

	EXPECT_EQ(-EAGAIN, at_eof(rs));
	ASSERT_EQ(1, write(COREY_FD(t, 0), "t", 1));
	ASSERT_EQ(0, corey_share_destroy_raw(t, 0));
	EXPECT_EQ(-EEXIST, at_eof(rs));
	EXPECT_EQ(0, at_eof(rs));
}

TEST(destroy_closes_a_pipes_only_write_end)
{
	struct worker w;
	int p, s, r, rs, err;
	long ret;

	p = corey_share_create_raw(0, 0);
	ASSERT_LT(0, p);
	r = pipe_into(COREY_FD(p, 0), 0, O_CLOEXEC | O_NONBLOCK);
	ASSERT_LE(0, r);
	EXPECT_EQ(-EAGAIN, at_eof(r));
	ASSERT_EQ(0, corey_share_destroy_raw(p, 0));
	EXPECT_EQ(0, at_eof(r));

	/* a shared share destroyed by another thread */
	s = corey_share_create_raw(0, COREY_SHARE_SHARED);
	ASSERT_LT(0, s);
	rs = pipe_into(COREY_FD(s, 3), 0, O_CLOEXEC);
	ASSERT_LE(0, rs);
	ASSERT_EQ(0, worker_start(&w));
	ret = WORKER_SYSCALL(&w, &err, __NR_corey_share_destroy, s, 0);
	ASSERT_EQ(0, ret) TH_LOG("worker destroy: %s", strerrorname_np(err));
	worker_stop(&w);
	EXPECT_EQ(0, wait_eof(rs));
	EXPECT_ERRNO(EBADF, fcntl(COREY_FD(s, 3), F_GETFD));
}

TEST(destroyed_shared_default_falls_back_to_share_0)
{
	struct worker w;
	int s, fd, err;
	long ret;

	s = corey_share_create_raw(0, COREY_SHARE_SHARED);
	ASSERT_LT(0, s);
	ASSERT_EQ(0, corey_set_alloc_share_raw(s));
	fd = open_null();
	ASSERT_EQ(COREY_FD(s, 0), fd);

	ASSERT_EQ(0, worker_start(&w));
	ret = WORKER_SYSCALL(&w, &err, __NR_corey_share_destroy, s, 0);
	ASSERT_EQ(0, ret);
	worker_stop(&w);

	fd = open_null();
	ASSERT_LE(0, fd);
	EXPECT_FALSE(COREY_FD_IS_TAGGED(fd)) TH_LOG("open gave %#x", fd);
	EXPECT_EQ(0, corey_get_alloc_share_raw());
}

TEST(last_task_takes_every_share_with_it)
{
	int r, status_pipe[2];
	pid_t pid;

	ASSERT_EQ(0, pipe2(status_pipe, O_CLOEXEC));
	r = status_pipe[0];
	pid = fork();
	ASSERT_LE(0, pid);
	if (pid == 0) {
		int p = corey_share_create_raw(0, 0);
		int s = corey_share_create_raw(0, COREY_SHARE_SHARED);

		CHILD_CHECK(p > 0 && s > 0);
		CHILD_CHECK(dup3(status_pipe[1], COREY_FD(p, 0), 0) ==
			    COREY_FD(p, 0));
		CHILD_CHECK(dup3(status_pipe[1], COREY_FD(s, 5), 0) ==
			    COREY_FD(s, 5));
		CHILD_CHECK(corey_set_alloc_share_raw(p) == 0);
		CHILD_CHECK(dup(status_pipe[1]) == COREY_FD(p, 1));
		close(status_pipe[1]);
		_exit(0);
	}
	close(status_pipe[1]);
	ASSERT_EQ(0, wait_child(pid));
	EXPECT_EQ(0, wait_eof(r));
}

/* ---- fork ---- */

TEST(fork_copies_the_callers_visible_shares)
{
	int p, s, q, null, r, err;
	struct worker w;
	char buf[4];
	pid_t pid;
	long ret;

	null = open_null();
	ASSERT_LE(0, null);
	p = corey_share_create_raw(0, 0);
	ASSERT_LT(0, p);
	s = corey_share_create_raw(0, COREY_SHARE_SHARED);
	ASSERT_LT(0, s);
	r = pipe_into(COREY_FD(p, 0), 0, O_CLOEXEC | O_NONBLOCK);
	ASSERT_LE(0, r);
	ASSERT_EQ(COREY_FD(p, 1), dup3(null, COREY_FD(p, 1), 0));
	ASSERT_EQ(COREY_FD(s, 0), dup3(null, COREY_FD(s, 0), 0));
	ASSERT_EQ(0, worker_start(&w));
	q = WORKER_SYSCALL(&w, &err, __NR_corey_share_create, 0, 0);
	ASSERT_LT(0, q);
	ret = WORKER_SYSCALL(&w, &err, SYS_dup3, null, COREY_FD(q, 0), 0);
	ASSERT_EQ(COREY_FD(q, 0), ret);
	ASSERT_EQ(0, corey_set_alloc_share_raw(p));

	fflush(stdout);
	fflush(stderr);
	pid = fork();
	ASSERT_LE(0, pid);
	if (pid == 0) {
		int fd;

		/* a new process starts with default share 0 */
		CHILD_CHECK(corey_get_alloc_share_raw() == 0);
		fd = open_null();
		CHILD_CHECK(fd >= 0 && !COREY_FD_IS_TAGGED(fd));
		/* the parent thread's private share came along */
		CHILD_CHECK(fcntl(COREY_FD(p, 0), F_GETFD) == 0);
		CHILD_CHECK(write(COREY_FD(p, 0), "c", 1) == 1);
		CHILD_CHECK(same_file(COREY_FD(p, 1), null));
		CHILD_CHECK(fcntl(COREY_FD(s, 0), F_GETFD) == 0);
		CHILD_CHECK(same_file(COREY_FD(s, 0), null));
		/* another thread's private share did not */
		CHILD_CHECK(fcntl(COREY_FD(q, 0), F_GETFD) < 0 && errno == EBADF);
		CHILD_CHECK(corey_share_destroy_raw(q, 0) < 0 && errno == EBADF);
		CHILD_CHECK(corey_share_create_raw(q, 0) == (int)q);
		/* the copy of p is private to this thread, s stays shared */
		CHILD_CHECK(getfd_in_new_thread(COREY_FD(p, 1)) == EBADF);
		CHILD_CHECK(getfd_in_new_thread(COREY_FD(s, 0)) == 0);
		/* the copies are the child's own */
		CHILD_CHECK(close(COREY_FD(p, 1)) == 0);
		CHILD_CHECK(close(COREY_FD(s, 0)) == 0);
		CHILD_CHECK(corey_share_destroy_raw(p, 0) == 0);
		CHILD_CHECK(corey_share_destroy_raw(s, 0) == 0);
		_exit(0);
	}
	ASSERT_EQ(0, wait_child(pid));

	ASSERT_EQ(1, read(r, buf, sizeof(buf)));
	EXPECT_EQ('c', buf[0]);
	/* the child's exit closed its copy of the write end, not ours */
	EXPECT_EQ(-EAGAIN, at_eof(r));
	EXPECT_EQ(0, fcntl(COREY_FD(p, 1), F_GETFD));
	EXPECT_EQ(0, fcntl(COREY_FD(s, 0), F_GETFD));
	EXPECT_EQ(p, corey_get_alloc_share_raw());
	ret = WORKER_SYSCALL(&w, &err, SYS_fcntl, COREY_FD(q, 0), F_GETFD);
	EXPECT_EQ(0, ret);
	worker_stop(&w);
}

/* ---- a CLONE_FILES child process ---- */

/*
 * A child process created with CLONE_FILES shares share 0, hence the
 * registry: it sees the shared shares, not our private ones, finds their
 * indexes taken, and its own private shares die with it.
 */
TEST(clone_files_child_shares_the_registry)
{
	int p, s, null, qp[2], r, code, q;
	pid_t pid;

	null = open_null();
	ASSERT_LE(0, null);
	p = corey_share_create_raw(0, 0);
	ASSERT_LT(0, p);
	s = corey_share_create_raw(0, COREY_SHARE_SHARED);
	ASSERT_LT(0, s);
	ASSERT_EQ(COREY_FD(p, 0), dup3(null, COREY_FD(p, 0), 0));
	ASSERT_EQ(COREY_FD(s, 0), dup3(null, COREY_FD(s, 0), 0));
	ASSERT_EQ(0, pipe2(qp, O_CLOEXEC));
	r = qp[0];
	ASSERT_EQ(0, corey_set_alloc_share_raw(p));

	fflush(stdout);
	fflush(stderr);
	pid = syscall(SYS_clone, CLONE_FILES | SIGCHLD, 0, NULL, NULL, 0);
	ASSERT_LE(0, pid);
	if (pid == 0) {
		CHILD_CHECK(corey_get_alloc_share_raw() == 0);
		CHILD_CHECK(fcntl(COREY_FD(s, 0), F_GETFD) == 0);
		CHILD_CHECK(fcntl(COREY_FD(p, 0), F_GETFD) < 0 && errno == EBADF);
		CHILD_CHECK(corey_share_destroy_raw(p, 0) < 0 && errno == EBADF);
		CHILD_CHECK(corey_share_create_raw(p, 0) < 0 && errno == EEXIST);
		q = corey_share_create_raw(0, 0);
		CHILD_CHECK(q > 0 && q < 100);
		CHILD_CHECK(dup3(qp[1], COREY_FD(q, 0), 0) == COREY_FD(q, 0));
		/* share 0 is shared: this closes the parent's copy too */
		CHILD_CHECK(close(qp[1]) == 0);
		CHILD_CHECK(dup3(null, COREY_FD(s, 1), 0) == COREY_FD(s, 1));
		_exit(100 + q);
	}
	code = wait_child(pid);
	ASSERT_LT(100, code) TH_LOG("child exit code %d", code);
	q = code - 100;

	/* the child's private share went with it */
	EXPECT_EQ(0, wait_eof(r));
	EXPECT_ERRNO(EBADF, corey_share_destroy_raw(q, 0));
	EXPECT_ERRNO(EBADF, fcntl(qp[1], F_GETFD));
	/* what it put in the shared share is ours too */
	EXPECT_TRUE(same_file(COREY_FD(s, 1), null));
	EXPECT_EQ(p, corey_get_alloc_share_raw());
	EXPECT_EQ(0, fcntl(COREY_FD(p, 0), F_GETFD));
}

/* ---- execve ---- */

static long exec_self(void *argv)
{
	execv("/proc/self/exe", argv);
	return -1;
}

static void fmt_args(char args[][16], int n, const int *vals)
{
	int i;

	for (i = 0; i < n; i++)
		snprintf(args[i], sizeof(args[i]), "%d", vals[i]);
}

/*
 * Exec from the leader.  Before: p private with a plain fd at slot 0, a
 * close-on-exec write end at slot 1, slots 2..6 marked close-on-exec
 * by close_range for 2..5 only; c a COREY_SHARE_CLOEXEC share holding
 * a write end; s shared with a plain and a close-on-exec fd; q another
 * thread's private share holding a write end; default share p.
 */
TEST(exec_from_the_leader)
{
	pid_t pid;

	fflush(stdout);
	fflush(stderr);
	pid = fork();
	ASSERT_LE(0, pid);
	if (pid == 0) {
		char args[7][16], *argv[11];
		int v[7], null, p, c, s, q, i, err;
		struct worker w;

		null = open_null();
		CHILD_CHECK(null >= 0);
		p = corey_share_create_raw(0, 0);
		c = corey_share_create_raw(0, COREY_SHARE_CLOEXEC);
		s = corey_share_create_raw(0, COREY_SHARE_SHARED);
		CHILD_CHECK(p > 0 && c > 0 && s > 0);
		CHILD_CHECK(dup3(null, COREY_FD(p, 0), 0) == COREY_FD(p, 0));
		v[6] = pipe_into(COREY_FD(p, 1), O_CLOEXEC, 0);
		CHILD_CHECK(v[6] >= 0);
		for (i = 2; i <= 6; i++)
			CHILD_CHECK(fcntl(null, F_DUPFD, COREY_FD(p, 0)) ==
				    COREY_FD(p, i));
		CHILD_CHECK(close_range(COREY_FD(p, 2), COREY_FD(p, 5),
					CLOSE_RANGE_CLOEXEC) == 0);
		v[5] = pipe_into(COREY_FD(c, 0), 0, 0);
		CHILD_CHECK(v[5] >= 0);
		CHILD_CHECK(dup3(null, COREY_FD(s, 0), 0) == COREY_FD(s, 0));
		CHILD_CHECK(dup3(null, COREY_FD(s, 1), O_CLOEXEC) ==
			    COREY_FD(s, 1));
		CHILD_CHECK(worker_start(&w) == 0);
		q = WORKER_SYSCALL(&w, &err, __NR_corey_share_create, 0, 0);
		CHILD_CHECK(q > 0);
		v[4] = pipe_into(COREY_FD(s, 2), 0, 0);
		CHILD_CHECK(v[4] >= 0);
		/* move the write end from s to q, in the worker */
		CHILD_CHECK(WORKER_SYSCALL(&w, &err, SYS_dup3, COREY_FD(s, 2),
					   COREY_FD(q, 0), 0) == COREY_FD(q, 0));
		CHILD_CHECK(close(COREY_FD(s, 2)) == 0);
		CHILD_CHECK(corey_set_alloc_share_raw(p) == 0);

		v[0] = p;
		v[1] = c;
		v[2] = s;
		v[3] = q;
		fmt_args(args, 7, v);
		argv[0] = "shares_lifetime_test";
		argv[1] = EXEC_HELPER;
		argv[2] = "leader";
		for (i = 0; i < 7; i++)
			argv[3 + i] = args[i];
		argv[10] = NULL;
		execv("/proc/self/exe", argv);
		CHILD_CHECK(!"execv");
	}
	ASSERT_EQ(0, wait_child(pid));
}

/*
 * Exec from a thread that is not the leader: it becomes the leader and
 * keeps its private share q; the old leader's private share p goes.
 */
TEST(exec_from_another_thread)
{
	pid_t pid;

	fflush(stdout);
	fflush(stderr);
	pid = fork();
	ASSERT_LE(0, pid);
	if (pid == 0) {
		char args[3][16], *argv[7];
		int v[3], null, p, q, i, err;
		struct worker w;

		null = open_null();
		CHILD_CHECK(null >= 0);
		p = corey_share_create_raw(0, 0);
		CHILD_CHECK(p > 0);
		v[2] = pipe_into(COREY_FD(p, 0), 0, 0);
		CHILD_CHECK(v[2] >= 0);
		CHILD_CHECK(worker_start(&w) == 0);
		q = WORKER_SYSCALL(&w, &err, __NR_corey_share_create, 0, 0);
		CHILD_CHECK(q > 0);
		CHILD_CHECK(WORKER_SYSCALL(&w, &err, SYS_dup3, null,
					   COREY_FD(q, 0), 0) == COREY_FD(q, 0));
		CHILD_CHECK(WORKER_SYSCALL(&w, &err, SYS_prctl, PR_COREY,
					   PR_COREY_SET_ALLOC_SHARE, q, 0, 0) == 0);

		v[0] = p;
		v[1] = q;
		fmt_args(args, 3, v);
		argv[0] = "shares_lifetime_test";
		argv[1] = EXEC_HELPER;
		argv[2] = "nonleader";
		for (i = 0; i < 3; i++)
			argv[3 + i] = args[i];
		argv[6] = NULL;
		worker_call(&w, exec_self, argv, &err);
		CHILD_CHECK(!"execv from the worker");
	}
	ASSERT_EQ(0, wait_child(pid));
}

static int helper_int(const char *s)
{
	return (int)strtol(s, NULL, 10);
}

/* After the exec of TEST(exec_from_the_leader). */
static int exec_helper_leader(char **args)
{
	int p = helper_int(args[0]), c = helper_int(args[1]);
	int s = helper_int(args[2]), q = helper_int(args[3]);
	int rq = helper_int(args[4]), rc = helper_int(args[5]);
	int rp1 = helper_int(args[6]);
	int i, fd;

	/* the default share is reset */
	CHILD_CHECK(corey_get_alloc_share_raw() == 0);
	fd = open_null();
	CHILD_CHECK(fd >= 0 && !COREY_FD_IS_TAGGED(fd));

	/* close-on-exec is honoured in every share */
	CHILD_CHECK(fcntl(COREY_FD(p, 0), F_GETFD) == 0);
	CHILD_CHECK(fcntl(COREY_FD(p, 1), F_GETFD) < 0 && errno == EBADF);
	CHILD_CHECK(wait_eof(rp1) == 0);
	for (i = 2; i <= 5; i++)
		CHILD_CHECK(fcntl(COREY_FD(p, i), F_GETFD) < 0 && errno == EBADF);
	CHILD_CHECK(fcntl(COREY_FD(p, 6), F_GETFD) == 0);
	CHILD_CHECK(fcntl(COREY_FD(s, 0), F_GETFD) == 0);
	CHILD_CHECK(fcntl(COREY_FD(s, 1), F_GETFD) < 0 && errno == EBADF);

	/* a COREY_SHARE_CLOEXEC share is destroyed */
	CHILD_CHECK(fcntl(COREY_FD(c, 0), F_GETFD) < 0 && errno == EBADF);
	CHILD_CHECK(corey_share_destroy_raw(c, 0) < 0 && errno == EBADF);
	CHILD_CHECK(wait_eof(rc) == 0);

	/* the other thread's private share went with the thread */
	CHILD_CHECK(fcntl(COREY_FD(q, 0), F_GETFD) < 0 && errno == EBADF);
	CHILD_CHECK(corey_share_destroy_raw(q, 0) < 0 && errno == EBADF);
	CHILD_CHECK(wait_eof(rq) == 0);

	/* we kept p, still private to us; s is still shared */
	CHILD_CHECK(getfd_in_new_thread(COREY_FD(p, 0)) == EBADF);
	CHILD_CHECK(getfd_in_new_thread(COREY_FD(s, 0)) == 0);
	CHILD_CHECK(corey_share_destroy_raw(p, 0) == 0);
	CHILD_CHECK(corey_share_destroy_raw(s, 0) == 0);
	return 0;
}

/* After the exec of TEST(exec_from_another_thread). */
static int exec_helper_nonleader(char **args)
{
	int p = helper_int(args[0]), q = helper_int(args[1]);
	int rp = helper_int(args[2]);

	CHILD_CHECK(getpid() == gettid());
	CHILD_CHECK(corey_get_alloc_share_raw() == 0);
	/* the exec'ing thread keeps its private share */
	CHILD_CHECK(fcntl(COREY_FD(q, 0), F_GETFD) == 0);
	/* the old leader's private share went with it */
	CHILD_CHECK(fcntl(COREY_FD(p, 0), F_GETFD) < 0 && errno == EBADF);
	CHILD_CHECK(corey_share_destroy_raw(p, 0) < 0 && errno == EBADF);
	CHILD_CHECK(wait_eof(rp) == 0);
	CHILD_CHECK(corey_share_destroy_raw(q, 0) == 0);
	CHILD_CHECK(fcntl(COREY_FD(q, 0), F_GETFD) < 0 && errno == EBADF);
	return 0;
}

static int exec_helper(int argc, char **argv)
{
	if (argc == 8 && !strcmp(argv[0], "leader"))
		return exec_helper_leader(argv + 1);
	if (argc == 4 && !strcmp(argv[0], "nonleader"))
		return exec_helper_nonleader(argv + 1);
	dprintf(2, "# exec helper: bad arguments\n");
	return 2;
}

/* ---- unshare(CLONE_FILES) and close_range(CLOSE_RANGE_UNSHARE) ---- */

static void unshare_case(struct __test_metadata *_metadata, bool close_range_way)
{
	int p, s, q, null, r, err;
	struct worker w;
	long ret;

	null = open_null();
	ASSERT_LE(0, null);
	p = corey_share_create_raw(0, 0);
	ASSERT_LT(0, p);
	s = corey_share_create_raw(0, COREY_SHARE_SHARED);
	ASSERT_LT(0, s);
	r = pipe_into(COREY_FD(p, 0), 0, O_CLOEXEC | O_NONBLOCK);
	ASSERT_LE(0, r);
	ASSERT_EQ(COREY_FD(p, 1), dup3(null, COREY_FD(p, 1), 0));
	ASSERT_EQ(COREY_FD(s, 0), dup3(null, COREY_FD(s, 0), 0));
	/* a second user of the table, so that unsharing really copies */
	ASSERT_EQ(0, worker_start(&w));
	q = WORKER_SYSCALL(&w, &err, __NR_corey_share_create, 0, 0);
	ASSERT_LT(0, q);
	ret = WORKER_SYSCALL(&w, &err, SYS_dup3, null, COREY_FD(q, 0), 0);
	ASSERT_EQ(COREY_FD(q, 0), ret);

	if (close_range_way) {
		ASSERT_EQ(0, close_range(~0U, ~0U, CLOSE_RANGE_UNSHARE));
	} else {
		ASSERT_EQ(0, unshare(CLONE_FILES));
	}

	/* our tagged numbers still work: p and s were copied */
	EXPECT_TRUE(same_file(COREY_FD(p, 1), null));
	EXPECT_EQ(0, fcntl(COREY_FD(p, 0), F_GETFD));
	EXPECT_TRUE(same_file(COREY_FD(s, 0), null));
	/* q was not visible to us, so not copied */
	EXPECT_ERRNO(EBADF, fcntl(COREY_FD(q, 0), F_GETFD));

	/*
	 * p in the old table was destroyed: once our copy of the write end
	 * is closed, the pipe has no writer.
	 */
	EXPECT_EQ(-EAGAIN, at_eof(r));
	ASSERT_EQ(0, close(COREY_FD(p, 0)));
	ASSERT_EQ(0, fcntl(r, F_SETFL, 0));
	EXPECT_EQ(0, wait_eof(r));

	/* the worker keeps the old table: its q and the old s */
	ret = WORKER_SYSCALL(&w, &err, SYS_fcntl, COREY_FD(q, 0), F_GETFD);
	EXPECT_EQ(0, ret);
	ASSERT_EQ(0, close(COREY_FD(s, 0)));
	ret = WORKER_SYSCALL(&w, &err, SYS_fcntl, COREY_FD(s, 0), F_GETFD);
	EXPECT_EQ(0, ret) TH_LOG("old table's s after our close: %s",
				 strerrorname_np(err));
	/* the tables and their registries are separate from now on */
	ret = WORKER_SYSCALL(&w, &err, __NR_corey_share_create, 50,
			     COREY_SHARE_SHARED);
	ASSERT_EQ(50, ret);
	ret = WORKER_SYSCALL(&w, &err, SYS_dup3, null, COREY_FD(50, 0), 0);
	ASSERT_EQ(COREY_FD(50, 0), ret);
	EXPECT_ERRNO(EBADF, fcntl(COREY_FD(50, 0), F_GETFD));
	EXPECT_EQ(50, corey_share_create_raw(50, 0));
	ret = WORKER_SYSCALL(&w, &err, SYS_fcntl, COREY_FD(50, 0), F_GETFD);
	EXPECT_EQ(0, ret);
	worker_stop(&w);
}

TEST(unshare_files_keeps_tagged_numbers)
{
	unshare_case(_metadata, false);
}

TEST(close_range_unshare_keeps_tagged_numbers)
{
	unshare_case(_metadata, true);
}

int main(int argc, char **argv)
{
	if (argc > 1 && !strcmp(argv[1], EXEC_HELPER))
		return exec_helper(argc - 2, argv + 2);
	shares_require();
	return test_harness_run(argc, argv);
}
