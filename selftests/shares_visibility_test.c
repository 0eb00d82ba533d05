// SPDX-License-Identifier: GPL-2.0
/*
 * Descriptor shares: who can see what (docs/shares.md, "Model", "Who can
 * see what" and "/proc").  A private share resolves only in the thread
 * that created it and fails everywhere else exactly as a closed
 * descriptor does (EBADF); a shared share resolves in every thread;
 * /proc's per-thread fd/, fdinfo/ and fdshares show each thread's view
 * and /proc/<pid>/fd the leader's; pidfd_getfd takes the view of the
 * thread its pidfd names.
 *
 * The harness runs every TEST in a fresh fork, so the test's main thread
 * is its process's leader.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/epoll.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "shares_test.h"

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

/* 1 if directory @dir (a /proc fd/ or fdinfo/) has an entry for @fd. */
static int dir_lists_fd(const char *dir, int fd)
{
	char name[16];
	struct dirent *de;
	int found = 0;
	DIR *d;

	snprintf(name, sizeof(name), "%d", fd);
	d = opendir(dir);
	if (!d)
		return -errno;
	errno = 0;
	while ((de = readdir(d)) != NULL)
		if (!strcmp(de->d_name, name))
			found = 1;
	if (errno)
		found = -errno;
	closedir(d);
	return found;
}

struct lists_fd_arg {
	const char *dir;
	int fd;
};

/* dir_lists_fd() for the worker. */
static long worker_dir_lists_fd(void *data)
{
	struct lists_fd_arg *a = data;

	return dir_lists_fd(a->dir, a->fd);
}

/* readlink(@dir/@fd) into @buf; returns the length or -errno. */
static ssize_t fd_link(const char *dir, int fd, char *buf, size_t size)
{
	char path[128];
	ssize_t n;

	snprintf(path, sizeof(path), "%s/%d", dir, fd);
	n = readlink(path, buf, size - 1);
	if (n < 0)
		return -errno;
	buf[n] = '\0';
	return n;
}

/* The "flags:" field of @dir/@fd (an fdinfo file), or -errno. */
static long fdinfo_flags(const char *dir, int fd)
{
	char path[128], buf[4096], *p;
	ssize_t n;

	snprintf(path, sizeof(path), "%s/%d", dir, fd);
	n = read_proc_file(path, buf, sizeof(buf));
	if (n < 0)
		return n;
	p = strstr(buf, "flags:");
	if (!p)
		return -EPROTO;
	return strtol(p + strlen("flags:"), NULL, 8);
}

/* ---- private and shared shares across threads ---- */

TEST(private_share_is_invisible_to_other_threads)
{
	struct epoll_event ev = { .events = EPOLLIN };
	struct pollfd pfd_poll;
	int p, pfd[2], null, epfd, err, nread;
	struct worker w;
	struct stat st;
	char buf[4];
	long ret;

	p = corey_share_create_raw(0, 0);
	ASSERT_LT(0, p);
	ASSERT_EQ(0, pipe2(pfd, O_CLOEXEC));
	ASSERT_EQ(COREY_FD(p, 0), dup3(pfd[0], COREY_FD(p, 0), 0));
	ASSERT_EQ(COREY_FD(p, 1), dup3(pfd[1], COREY_FD(p, 1), 0));
	ASSERT_EQ(1, write(COREY_FD(p, 1), "x", 1));
	null = open_null();
	ASSERT_LE(0, null);
	epfd = epoll_create1(EPOLL_CLOEXEC);
	ASSERT_LE(0, epfd);

	const int t = COREY_FD(p, 0);
	const struct {
		const char *what;
		long call[7];
		int err;
	} calls[] = {
		{ "read", { SYS_read, t, (long)buf, 1 }, EBADF },
		{ "write", { SYS_write, COREY_FD(p, 1), (long)"y", 1 }, EBADF },
		{ "fstat", { SYS_fstat, t, (long)&st }, EBADF },
		{ "lseek", { SYS_lseek, t, 0, SEEK_CUR }, EBADF },
		{ "ioctl(FIONREAD)", { SYS_ioctl, t, FIONREAD, (long)&nread },
		  EBADF },
		{ "fcntl(F_GETFD)", { SYS_fcntl, t, F_GETFD }, EBADF },
		{ "fcntl(F_SETFD)", { SYS_fcntl, t, F_SETFD, FD_CLOEXEC }, EBADF },
		{ "fcntl(F_GETFL)", { SYS_fcntl, t, F_GETFL }, EBADF },
		{ "fcntl(F_DUPFD)", { SYS_fcntl, t, F_DUPFD, 0 }, EBADF },
		{ "F_DUPFD floor in it", { SYS_fcntl, null, F_DUPFD, t }, EINVAL },
		{ "dup", { SYS_dup, t }, EBADF },
		{ "dup2 from it", { SYS_dup2, t, 50 }, EBADF },
		{ "dup3 from it", { SYS_dup3, t, 50, 0 }, EBADF },
		{ "dup2 onto it", { SYS_dup2, null, COREY_FD(p, 2) }, EBADF },
		{ "fchdir", { SYS_fchdir, t }, EBADF },
		{ "epoll_ctl(ADD)", { SYS_epoll_ctl, epfd, EPOLL_CTL_ADD, t,
				      (long)&ev }, EBADF },
		{ "close", { SYS_close, t }, EBADF },
		{ "corey_share_destroy", { __NR_corey_share_destroy, p, 0 },
		  EBADF },
		{ "PR_COREY_SET_ALLOC_SHARE", { SYS_prctl, PR_COREY,
						PR_COREY_SET_ALLOC_SHARE, p },
		  EBADF },
		{ "corey_share_create at its index",
		  { __NR_corey_share_create, p, 0 }, EEXIST },
	};
	int i;

	ASSERT_EQ(0, worker_start(&w));
	for (i = 0; i < (int)ARRAY_SIZE(calls); i++) {
		ret = worker_syscall(&w, &err, calls[i].call);
		ASSERT_WORKER_ERRNO(calls[i].err, ret, err, calls[i].what);
	}
	pfd_poll = (struct pollfd){ .fd = t, .events = POLLIN };
	ret = WORKER_SYSCALL(&w, &err, SYS_poll, (long)&pfd_poll, 1, 0);
	EXPECT_EQ(1, ret);
	EXPECT_EQ(POLLNVAL, pfd_poll.revents);
	/* the worker's failed dup2 did not leave a descriptor at 50 */
	EXPECT_ERRNO(EBADF, fcntl(50, F_GETFD));
	worker_stop(&w);

	/* all of that left the owner's descriptors as they were */
	EXPECT_EQ(0, fcntl(t, F_GETFD));
	EXPECT_EQ(O_RDONLY, fcntl(t, F_GETFL) & O_ACCMODE);
	ASSERT_EQ(1, read(t, buf, sizeof(buf)));
	EXPECT_EQ('x', buf[0]);
	EXPECT_ERRNO(EBADF, fcntl(COREY_FD(p, 2), F_GETFD));
	EXPECT_EQ(0, corey_share_destroy_raw(p, 0));
}

TEST(shared_share_is_visible_to_every_thread)
{
	int s, t, pfd[2], null, err;
	struct worker w;
	struct stat st;
	char buf[8];
	long ret;

	s = corey_share_create_raw(0, COREY_SHARE_SHARED);
	ASSERT_LT(0, s);
	ASSERT_EQ(0, pipe2(pfd, O_CLOEXEC));
	ASSERT_EQ(COREY_FD(s, 0), dup3(pfd[0], COREY_FD(s, 0), 0));
	ASSERT_EQ(COREY_FD(s, 1), dup3(pfd[1], COREY_FD(s, 1), 0));
	null = open_null();
	ASSERT_LE(0, null);
	ASSERT_EQ(0, worker_start(&w));

	/* the worker writes, the creator reads */
	ret = WORKER_SYSCALL(&w, &err, SYS_write, COREY_FD(s, 1), (long)"hi", 2);
	ASSERT_EQ(2, ret) TH_LOG("worker write: %s", strerrorname_np(err));
	ASSERT_EQ(2, read(COREY_FD(s, 0), buf, sizeof(buf)));
	EXPECT_EQ(0, memcmp(buf, "hi", 2));
	ret = WORKER_SYSCALL(&w, &err, SYS_fstat, COREY_FD(s, 0), (long)&st);
	ASSERT_EQ(0, ret);
	ASSERT_TRUE(same_file(pfd[0], COREY_FD(s, 0)));

	/* one table entry: flags set by one thread are seen by the other */
	ret = WORKER_SYSCALL(&w, &err, SYS_fcntl, COREY_FD(s, 0), F_SETFD,
			     FD_CLOEXEC);
	ASSERT_EQ(0, ret);
	EXPECT_EQ(FD_CLOEXEC, fcntl(COREY_FD(s, 0), F_GETFD));

	/* the worker adds and removes, the creator sees it */
	ret = WORKER_SYSCALL(&w, &err, SYS_fcntl, null, F_DUPFD, COREY_FD(s, 0));
	ASSERT_EQ(COREY_FD(s, 2), ret);
	EXPECT_TRUE(same_file(null, COREY_FD(s, 2)));
	ret = WORKER_SYSCALL(&w, &err, SYS_close, COREY_FD(s, 2));
	ASSERT_EQ(0, ret);
	EXPECT_ERRNO(EBADF, fcntl(COREY_FD(s, 2), F_GETFD));

	/* and a shared share the worker creates is ours too */
	t = WORKER_SYSCALL(&w, &err, __NR_corey_share_create, 0,
			   COREY_SHARE_SHARED);
	ASSERT_LT(0, t);
	ret = WORKER_SYSCALL(&w, &err, SYS_dup3, null, COREY_FD(t, 7), 0);
	ASSERT_EQ(COREY_FD(t, 7), ret);
	EXPECT_TRUE(same_file(null, COREY_FD(t, 7)));
	ASSERT_EQ(0, close(COREY_FD(t, 7)));
	ret = WORKER_SYSCALL(&w, &err, SYS_fcntl, COREY_FD(t, 7), F_GETFD);
	ASSERT_WORKER_ERRNO(EBADF, ret, err, "F_GETFD after the creator's close");
	worker_stop(&w);
	EXPECT_EQ(0, corey_share_destroy_raw(t, 0));
	EXPECT_EQ(0, corey_share_destroy_raw(s, 0));
}

/* ---- /proc/.../fd and fdinfo ---- */

TEST(proc_fd_shows_each_threads_view)
{
	char dir[64], wdir[64], wfdinfo[64], link[PATH_MAX];
	struct lists_fd_arg arg;
	int p, s, q, null, err;
	struct worker w;
	struct stat st;
	long ret;

	ASSERT_EQ(getpid(), gettid());
	null = open_null();
	ASSERT_LE(0, null);
	p = corey_share_create_raw(0, 0);
	ASSERT_LT(0, p);
	s = corey_share_create_raw(0, COREY_SHARE_SHARED);
	ASSERT_LT(0, s);
	ASSERT_EQ(COREY_FD(p, 3), dup3(null, COREY_FD(p, 3), 0));
	ASSERT_EQ(COREY_FD(s, 4), dup3(null, COREY_FD(s, 4), O_CLOEXEC));
	ASSERT_EQ(0, worker_start(&w));
	q = WORKER_SYSCALL(&w, &err, __NR_corey_share_create, 0, 0);
	ASSERT_LT(0, q);
	ret = WORKER_SYSCALL(&w, &err, SYS_dup3, null, COREY_FD(q, 5), 0);
	ASSERT_EQ(COREY_FD(q, 5), ret);

	/* the fd/ directory's size counts share 0 only */
	ASSERT_EQ(0, stat("/proc/thread-self/fd", &st));
	EXPECT_EQ(count_share0_fds(1024), st.st_size);

	/* our own view: share 0, shared shares, our private shares */
	EXPECT_EQ(1, dir_lists_fd("/proc/thread-self/fd", null));
	EXPECT_EQ(1, dir_lists_fd("/proc/thread-self/fd", COREY_FD(p, 3)));
	EXPECT_EQ(1, dir_lists_fd("/proc/thread-self/fd", COREY_FD(s, 4)));
	EXPECT_EQ(0, dir_lists_fd("/proc/thread-self/fd", COREY_FD(q, 5)));
	EXPECT_EQ(1, dir_lists_fd("/proc/thread-self/fdinfo", COREY_FD(p, 3)));
	EXPECT_EQ(0, dir_lists_fd("/proc/thread-self/fdinfo", COREY_FD(q, 5)));
	ASSERT_EQ((ssize_t)strlen("/dev/null"),
		  fd_link("/proc/thread-self/fd", COREY_FD(p, 3), link,
			  sizeof(link)));
	EXPECT_STREQ("/dev/null", link);
	ASSERT_LT(0, fd_link("/proc/thread-self/fd", COREY_FD(s, 4), link,
			     sizeof(link)));
	EXPECT_STREQ("/dev/null", link);
	EXPECT_EQ(-ENOENT, fd_link("/proc/thread-self/fd", COREY_FD(q, 5),
				   link, sizeof(link)));
	/* fdinfo reports each share's close-on-exec bit */
	EXPECT_EQ(0, fdinfo_flags("/proc/thread-self/fdinfo", COREY_FD(p, 3)) &
		     O_CLOEXEC);
	EXPECT_EQ(O_CLOEXEC, fdinfo_flags("/proc/thread-self/fdinfo",
					  COREY_FD(s, 4)) & O_CLOEXEC);
	EXPECT_EQ(-ENOENT, fdinfo_flags("/proc/thread-self/fdinfo",
					COREY_FD(q, 5)));

	/* the worker's view, as seen from here */
	snprintf(wdir, sizeof(wdir), "/proc/%d/task/%d/fd", getpid(), w.tid);
	snprintf(wfdinfo, sizeof(wfdinfo), "/proc/%d/task/%d/fdinfo", getpid(),
		 w.tid);
	EXPECT_EQ(1, dir_lists_fd(wdir, COREY_FD(q, 5)));
	EXPECT_EQ(1, dir_lists_fd(wdir, COREY_FD(s, 4)));
	EXPECT_EQ(0, dir_lists_fd(wdir, COREY_FD(p, 3)));
	ASSERT_LT(0, fd_link(wdir, COREY_FD(q, 5), link, sizeof(link)));
	EXPECT_STREQ("/dev/null", link);
	EXPECT_EQ(-ENOENT, fd_link(wdir, COREY_FD(p, 3), link, sizeof(link)));
	EXPECT_EQ(0, fdinfo_flags(wfdinfo, COREY_FD(q, 5)) & O_CLOEXEC);
	EXPECT_EQ(-ENOENT, fdinfo_flags(wfdinfo, COREY_FD(p, 3)));

	/* ... and from the worker itself */
	arg = (struct lists_fd_arg){ "/proc/thread-self/fd", COREY_FD(q, 5) };
	EXPECT_EQ(1, worker_call(&w, worker_dir_lists_fd, &arg, NULL));
	arg.fd = COREY_FD(p, 3);
	EXPECT_EQ(0, worker_call(&w, worker_dir_lists_fd, &arg, NULL));

	/* /proc/<pid>/fd and /proc/self/fd are the leader's (our) view */
	snprintf(dir, sizeof(dir), "/proc/%d/fd", getpid());
	EXPECT_EQ(1, dir_lists_fd(dir, COREY_FD(p, 3)));
	EXPECT_EQ(0, dir_lists_fd(dir, COREY_FD(q, 5)));
	arg = (struct lists_fd_arg){ "/proc/self/fd", COREY_FD(q, 5) };
	EXPECT_EQ(0, worker_call(&w, worker_dir_lists_fd, &arg, NULL));
	arg.fd = COREY_FD(p, 3);
	EXPECT_EQ(1, worker_call(&w, worker_dir_lists_fd, &arg, NULL));
	worker_stop(&w);
}

/* ---- /proc/.../fdshares ---- */

#define MAX_LINES 16

/* FDSize: of @status_path (share 0's capacity), or -errno. */
static long fdsize(const char *status_path)
{
	char buf[8192], *p;
	ssize_t n;

	n = read_proc_file(status_path, buf, sizeof(buf));
	if (n < 0)
		return n;
	p = strstr(buf, "\nFDSize:");
	if (!p)
		return -EPROTO;
	return strtol(p + strlen("\nFDSize:"), NULL, 10);
}

struct fdshares_view {
	struct fdshares_line lines[MAX_LINES];
	int n;
	char text[4096];
	char why[256];
};

/* Read and parse the already open fdshares file @fd into @v. */
static int read_fdshares_fd(int fd, struct fdshares_view *v)
{
	ssize_t len = read_fd_file(fd, v->text, sizeof(v->text));

	if (len < 0) {
		snprintf(v->why, sizeof(v->why), "read: %s",
			 strerrorname_np(-len));
		return -1;
	}
	v->n = fdshares_parse(v->text, v->lines, MAX_LINES, v->why,
			      sizeof(v->why));
	return v->n;
}

static long worker_read_fdshares(void *data)
{
	struct fdshares_view *v = data;
	int fd, ret;

	fd = open("/proc/thread-self/fdshares", O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	ret = read_fdshares_fd(fd, v);
	close(fd);
	return ret;
}

TEST(fdshares_lists_each_threads_shares)
{
	struct fdshares_view *mine, *leader, *theirs, *own;
	const struct fdshares_line *l;
	int p, s, q, null, fd, err, share0, i;
	char path[64];
	struct worker w;
	long size0;

	ASSERT_EQ(getpid(), gettid());
	mine = calloc(4, sizeof(*mine));
	ASSERT_NE(NULL, mine);
	leader = mine + 1;
	theirs = mine + 2;
	own = mine + 3;
	null = open_null();
	ASSERT_LE(0, null);
	p = corey_share_create_raw(0, 0);
	ASSERT_LT(0, p);
	s = corey_share_create_raw(0, COREY_SHARE_SHARED);
	ASSERT_LT(0, s);
	for (i = 0; i < 3; i++)
		ASSERT_EQ(COREY_FD(p, i), fcntl(null, F_DUPFD, COREY_FD(p, 0)));
	ASSERT_EQ(COREY_FD(s, 9), dup2(null, COREY_FD(s, 9)));
	ASSERT_EQ(0, worker_start(&w));
	q = WORKER_SYSCALL(&w, &err, __NR_corey_share_create, 0, 0);
	ASSERT_LT(0, q);
	for (i = 0; i < 2; i++)
		ASSERT_EQ(COREY_FD(q, i),
			  WORKER_SYSCALL(&w, &err, SYS_fcntl, null, F_DUPFD,
					 COREY_FD(q, 0)));
	ASSERT_EQ(0, WORKER_SYSCALL(&w, &err, SYS_prctl, PR_COREY,
				    PR_COREY_SET_ALLOC_SHARE, q, 0, 0));

	size0 = fdsize("/proc/thread-self/status");
	ASSERT_LT(0, size0);

	/*
	 * Our view.  Open the file while our default is share 0, so the
	 * reading descriptor is counted there, then make p the default.
	 */
	fd = open("/proc/thread-self/fdshares", O_RDONLY | O_CLOEXEC);
	ASSERT_LE(0, fd) TH_LOG("/proc/thread-self/fdshares: %s",
				strerrorname_np(errno));
	ASSERT_EQ(0, corey_set_alloc_share_raw(p));
	share0 = count_share0_fds(size0);
	ASSERT_EQ(3, read_fdshares_fd(fd, mine))
		TH_LOG("%s\n%s", mine->why, mine->text);
	close(fd);
	l = fdshares_find(mine->lines, mine->n, 0);
	ASSERT_NE(NULL, l) TH_LOG("no share 0 in\n%s", mine->text);
	EXPECT_EQ(FDSHARES_PROCESS, l->kind);
	EXPECT_EQ((unsigned long)share0, l->open);
	EXPECT_EQ((unsigned long)size0, l->size);
	EXPECT_FALSE(l->is_default);
	l = fdshares_find(mine->lines, mine->n, p);
	ASSERT_NE(NULL, l) TH_LOG("no share %d in\n%s", p, mine->text);
	EXPECT_EQ(FDSHARES_PRIVATE, l->kind);
	EXPECT_EQ(3UL, l->open);
	EXPECT_LE(3UL, l->size);
	EXPECT_TRUE(l->is_default);
	l = fdshares_find(mine->lines, mine->n, s);
	ASSERT_NE(NULL, l) TH_LOG("no share %d in\n%s", s, mine->text);
	EXPECT_EQ(FDSHARES_SHARED, l->kind);
	EXPECT_EQ(1UL, l->open);
	EXPECT_LE(10UL, l->size);
	EXPECT_FALSE(l->is_default);
	ASSERT_EQ(0, corey_set_alloc_share_raw(0));

	/* /proc/<pid>/fdshares is the leader's view: ours */
	snprintf(path, sizeof(path), "/proc/%d/fdshares", getpid());
	fd = open(path, O_RDONLY | O_CLOEXEC);
	ASSERT_LE(0, fd);
	ASSERT_EQ(0, corey_set_alloc_share_raw(p));
	ASSERT_EQ(3, read_fdshares_fd(fd, leader)) TH_LOG("%s", leader->why);
	close(fd);
	ASSERT_EQ(0, corey_set_alloc_share_raw(0));
	EXPECT_STREQ(mine->text, leader->text);

	/* the worker's view, read from here */
	snprintf(path, sizeof(path), "/proc/%d/task/%d/fdshares", getpid(),
		 w.tid);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	ASSERT_LE(0, fd);
	share0 = count_share0_fds(size0);
	ASSERT_EQ(3, read_fdshares_fd(fd, theirs))
		TH_LOG("%s\n%s", theirs->why, theirs->text);
	close(fd);
	l = fdshares_find(theirs->lines, theirs->n, 0);
	ASSERT_NE(NULL, l);
	EXPECT_EQ((unsigned long)share0, l->open);
	EXPECT_FALSE(l->is_default);
	EXPECT_EQ(NULL, fdshares_find(theirs->lines, theirs->n, p));
	l = fdshares_find(theirs->lines, theirs->n, s);
	ASSERT_NE(NULL, l);
	EXPECT_EQ(FDSHARES_SHARED, l->kind);
	EXPECT_EQ(1UL, l->open);
	EXPECT_FALSE(l->is_default);
	l = fdshares_find(theirs->lines, theirs->n, q);
	ASSERT_NE(NULL, l) TH_LOG("no share %d in\n%s", q, theirs->text);
	EXPECT_EQ(FDSHARES_PRIVATE, l->kind);
	EXPECT_EQ(2UL, l->open);
	EXPECT_TRUE(l->is_default);

	/*
	 * The worker reading its own file: its default is q, so the
	 * descriptor it reads through is the third in q.
	 */
	ASSERT_EQ(3, worker_call(&w, worker_read_fdshares, own, &err))
		TH_LOG("%s (%s)\n%s", own->why, strerrorname_np(err), own->text);
	l = fdshares_find(own->lines, own->n, q);
	ASSERT_NE(NULL, l);
	EXPECT_EQ(3UL, l->open);
	EXPECT_TRUE(l->is_default);

	/* no default share: no line but share 0's may carry the mark */
	ASSERT_EQ(0, WORKER_SYSCALL(&w, &err, SYS_prctl, PR_COREY,
				    PR_COREY_SET_ALLOC_SHARE, 0, 0, 0));
	ASSERT_EQ(3, worker_call(&w, worker_read_fdshares, own, &err))
		TH_LOG("%s\n%s", own->why, own->text);
	for (i = 0; i < own->n; i++)
		if (own->lines[i].id)
			EXPECT_FALSE(own->lines[i].is_default)
				TH_LOG("share %u marked default", own->lines[i].id);
	l = fdshares_find(own->lines, own->n, q);
	ASSERT_NE(NULL, l);
	EXPECT_EQ(2UL, l->open);

	/* a destroyed share leaves the list */
	ASSERT_EQ(0, corey_share_destroy_raw(s, 0));
	ASSERT_EQ(2, worker_call(&w, worker_read_fdshares, own, &err))
		TH_LOG("%s\n%s", own->why, own->text);
	EXPECT_EQ(NULL, fdshares_find(own->lines, own->n, s));
	worker_stop(&w);
	free(mine);
}

/* ---- pidfd_getfd ---- */

TEST(pidfd_getfd_takes_the_pidfds_view)
{
	int p, s, q, pfd[2], null, tpidfd, ppidfd, n, err;
	struct worker w;
	char buf[4];
	long ret;

	ASSERT_EQ(getpid(), gettid());
	null = open_null();
	ASSERT_LE(0, null);
	ASSERT_EQ(0, pipe2(pfd, O_CLOEXEC));
	p = corey_share_create_raw(0, 0);
	ASSERT_LT(0, p);
	s = corey_share_create_raw(0, COREY_SHARE_SHARED);
	ASSERT_LT(0, s);
	ASSERT_EQ(COREY_FD(p, 0), dup3(null, COREY_FD(p, 0), 0));
	ASSERT_EQ(COREY_FD(s, 0), dup3(null, COREY_FD(s, 0), 0));
	ASSERT_EQ(0, worker_start(&w));
	q = WORKER_SYSCALL(&w, &err, __NR_corey_share_create, 0, 0);
	ASSERT_LT(0, q);
	ret = WORKER_SYSCALL(&w, &err, SYS_dup3, pfd[1], COREY_FD(q, 0), 0);
	ASSERT_EQ(COREY_FD(q, 0), ret);

	tpidfd = syscall(SYS_pidfd_open, w.tid, PIDFD_THREAD);
	ASSERT_LE(0, tpidfd) TH_LOG("pidfd_open(PIDFD_THREAD): %s",
				    strerrorname_np(errno));
	ppidfd = syscall(SYS_pidfd_open, getpid(), 0);
	ASSERT_LE(0, ppidfd);

	/* a thread pidfd sees that thread's private share */
	n = syscall(SYS_pidfd_getfd, tpidfd, COREY_FD(q, 0), 0);
	ASSERT_LE(0, n) TH_LOG("pidfd_getfd(thread, q): %s",
			       strerrorname_np(errno));
	EXPECT_FALSE(COREY_FD_IS_TAGGED(n));
	EXPECT_TRUE(same_file(n, pfd[1]));
	ASSERT_EQ(1, write(n, "z", 1));
	ASSERT_EQ(1, read(pfd[0], buf, sizeof(buf)));
	EXPECT_EQ('z', buf[0]);
	EXPECT_EQ(FD_CLOEXEC, fcntl(n, F_GETFD));
	close(n);
	/* ... and shared shares, but not our private one */
	n = syscall(SYS_pidfd_getfd, tpidfd, COREY_FD(s, 0), 0);
	ASSERT_LE(0, n);
	EXPECT_TRUE(same_file(n, null));
	close(n);
	EXPECT_ERRNO(EBADF, syscall(SYS_pidfd_getfd, tpidfd, COREY_FD(p, 0), 0));

	/* the process pidfd is the leader's view: ours */
	EXPECT_ERRNO(EBADF, syscall(SYS_pidfd_getfd, ppidfd, COREY_FD(q, 0), 0));
	n = syscall(SYS_pidfd_getfd, ppidfd, COREY_FD(p, 0), 0);
	ASSERT_LE(0, n) TH_LOG("pidfd_getfd(process, p): %s",
			       strerrorname_np(errno));
	EXPECT_TRUE(same_file(n, null));
	close(n);
	n = syscall(SYS_pidfd_getfd, ppidfd, COREY_FD(s, 0), 0);
	ASSERT_LE(0, n);
	close(n);
	worker_stop(&w);
}

/*
 * fdshares shows another task's descriptor layout, so it takes the ptrace
 * access fd/ takes: a child that dropped to another user must not read
 * ours (EACCES), while reading its own works.
 */
TEST(fdshares_needs_ptrace_access)
{
	char path[64], buf[256];
	pid_t parent = getpid(), child;
	int status;

	if (geteuid() != 0)
		SKIP(return, "needs root to switch to another user");
	child = fork();
	ASSERT_LE(0, child);
	if (child == 0) {
		int fd, rc = 0;
		ssize_t n;

		if (setresgid(65534, 65534, 65534) || setresuid(65534, 65534, 65534))
			_exit(10);
		snprintf(path, sizeof(path), "/proc/%d/fdshares", (int)parent);
		fd = open(path, O_RDONLY);
		if (fd >= 0) {
			/* ONE() files check access when read, not when opened */
			n = read(fd, buf, sizeof(buf));
			if (n != -1 || errno != EACCES)
				rc = 11;
			close(fd);
		} else if (errno != EACCES) {
			rc = 12;
		}
		fd = open("/proc/self/fdshares", O_RDONLY);
		if (fd < 0 || read(fd, buf, sizeof(buf)) <= 0)
			rc = 13;
		_exit(rc);
	}
	ASSERT_EQ(child, waitpid(child, &status, 0));
	ASSERT_TRUE(WIFEXITED(status));
	EXPECT_EQ(0, WEXITSTATUS(status));
}

COREY_SHARES_TEST_MAIN
