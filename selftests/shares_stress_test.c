// SPDX-License-Identifier: GPL-2.0
/*
 * Descriptor shares under concurrency.  MUTATORS threads create and
 * destroy private shares, dup and close in them, let short-lived threads
 * exit holding private shares, fork, and race on a pool of shared shares
 * (create, publish, destroy, F_DUPFD into, allocate through a default
 * share another thread may destroy), while READERS threads walk
 * /proc/<pid>/task/<tid>/{fd,fdinfo,fdshares} of every thread.
 *
 * The work is a fixed number of iterations, not a duration.  Pass means
 * every call gave its result or one of the errors the race allows (each
 * call below names them), every fdshares text parsed, and afterwards the
 * process holds exactly the shares and share-0 descriptors it had
 * before.  The VM runner adds what this cannot see: a KASAN or lockdep
 * report fails the run, and kmemleak is scanned afterwards.
 */
#include <dirent.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "shares_test.h"

#define MUTATORS	4
#ifndef READERS
#define READERS		2
#endif
/*
 * The counts below take about 5 s in a 4-vCPU TCG guest of the debug
 * kernel on a 2-CPU host (thread creation and exit dominate: each costs
 * TLB-shootdown IPIs, slow under TCG).  -D overrides them for tuning.
 */
#ifndef ITERATIONS
#define ITERATIONS	100	/* per mutator */
#endif
#ifndef FORK_EVERY
#define FORK_EVERY	32	/* iterations between forks */
#endif
#ifndef THREAD_EVERY
#define THREAD_EVERY	32	/* iterations between short-lived threads */
#endif
#define READER_PASSES	400	/* upper bound per reader */
#define POOL		6	/* published shared shares */
#define KEEP		3	/* private shares a mutator keeps alive */
#define FD_LIMIT	1024	/* share-0 descriptors counted at the end */

static int base_fd;				/* /dev/null in share 0 */
static _Atomic int pool[POOL];			/* shared share indexes */
static atomic_bool mutators_done;
static atomic_int unexpected;
static atomic_long reader_passes;
static pthread_mutex_t log_lock = PTHREAD_MUTEX_INITIALIZER;
static char log_buf[2048];

/* Record a result no interleaving allows; the test fails at the end. */
static void bad(const char *what, long ret, int err)
{
	size_t len;

	if (atomic_fetch_add(&unexpected, 1) >= 8)
		return;
	pthread_mutex_lock(&log_lock);
	len = strlen(log_buf);
	snprintf(log_buf + len, sizeof(log_buf) - len,
		 "# tid %d: %s returned %ld (%s)\n", gettid(), what, ret,
		 ret < 0 ? strerrorname_np(err) ?: "?" : "-");
	pthread_mutex_unlock(&log_lock);
}

#define ANY_OK		(-2)	/* @want: any result >= 0 */

/*
 * Check that @call returns @want (or, for ANY_OK, anything >= 0), or
 * fails with one of the errnos listed after @want; else record it.
 * Evaluates to what @call returned.
 */
#define CHECK(_what, _call, _want, ...) ({				\
	long __r, __w = (_want);					\
	int __e;							\
									\
	errno = 0;							\
	__r = (long)(_call);						\
	__e = errno;							\
	if (!(__w == ANY_OK ? __r >= 0 : __r == __w) &&			\
	    !(__r == -1 &&						\
	      errno_in(__e, (const int[]){ __VA_ARGS__ __VA_OPT__(,) 0 })))\
		bad(_what, __r, __e);					\
	errno = __e;							\
	__r;								\
})

static bool errno_in(int err, const int *ok)
{
	for (; *ok; ok++)
		if (err == *ok)
			return true;
	return false;
}

static unsigned int rnd(unsigned int *state)
{
	unsigned int x = *state;

	x ^= x << 13;
	x ^= x >> 17;
	x ^= x << 5;
	return *state = x;
}

/* ---- mutators ---- */

/* A thread that exits holding a private share with descriptors. */
static void *short_lived(void *arg)
{
	int p, fd;

	(void)arg;
	p = CHECK("short-lived create", corey_share_create_raw(0, 0), ANY_OK);
	if (p <= 0)
		return NULL;
	CHECK("short-lived F_DUPFD", fcntl(base_fd, F_DUPFD, COREY_FD(p, 0)),
	      COREY_FD(p, 0));
	CHECK("short-lived dup2", dup2(base_fd, COREY_FD(p, 7)), COREY_FD(p, 7));
	CHECK("short-lived set default", corey_set_alloc_share_raw(p), 0);
	fd = CHECK("short-lived open", open("/dev/null", O_RDONLY | O_CLOEXEC),
		   COREY_FD(p, 1));
	(void)fd;
	return NULL;
}

/*
 * A pool entry may be stale: its share destroyed and the index reused,
 * possibly for one of the caller's own private shares, which a pool
 * operation must then leave alone (others cannot see them anyway).
 */
static bool is_mine(int s, const int *mine, int n)
{
	int i;

	for (i = 0; i < n; i++)
		if (mine[i] == s)
			return true;
	return false;
}

/* Work on the pool of shared shares; every result here is racy. */
static void pool_op(unsigned int *seed, const int *mine, int n_mine)
{
	unsigned int j = rnd(seed) % POOL, op = rnd(seed) % 5;
	int s, n, old;
	struct stat st;

	switch (op) {
	case 0:	/* create and publish, evicting (destroying) the old one */
		s = CHECK("pool create", corey_share_create_raw(0,
				COREY_SHARE_SHARED), ANY_OK);
		if (s <= 0)
			return;
		/*
		 * Not yet published, but a stale pool entry naming this
		 * index may destroy it (EINVAL), and another thread may
		 * even have created a new shared share under it.  What is
		 * added stays there until that share is destroyed.
		 */
		n = fcntl(base_fd, F_DUPFD, COREY_FD(s, 0));
		if (n < 0 ? errno != EINVAL :
		    !COREY_FD_IS_TAGGED(n) || COREY_FD_SHARE(n) != (unsigned int)s)
			bad("F_DUPFD into a new shared share", n, errno);
		old = atomic_exchange(&pool[j], s);
		if (old && !is_mine(old, mine, n_mine))
			CHECK("evict", corey_share_destroy_raw(old, 0), 0, EBADF);
		return;
	case 1:	/* unpublish and destroy */
		old = atomic_exchange(&pool[j], 0);
		if (old && !is_mine(old, mine, n_mine))
			CHECK("pool destroy", corey_share_destroy_raw(old, 0), 0,
			      EBADF);
		return;
	case 2:	/* destroy without unpublishing: leaves a stale entry */
		old = atomic_load(&pool[j]);
		if (old && !is_mine(old, mine, n_mine))
			CHECK("stale destroy", corey_share_destroy_raw(old, 0), 0,
			      EBADF);
		return;
	case 3:	/* allocate through a default share that may vanish */
		s = atomic_load(&pool[j]);
		if (!s || is_mine(s, mine, n_mine))
			return;
		if (CHECK("set default to a pool share",
			  corey_set_alloc_share_raw(s), 0, EBADF))
			return;
		n = CHECK("open in a pool share",
			  open("/dev/null", O_RDONLY | O_CLOEXEC), ANY_OK);
		CHECK("reset default", corey_set_alloc_share_raw(0), 0);
		if (n < 0) {
			return;
		} else if (!COREY_FD_IS_TAGGED(n)) {
			/* the default was destroyed: fell back to share 0 */
			CHECK("close fallback fd", close(n), 0);
		} else if (COREY_FD_SHARE(n) != (unsigned int)s) {
			bad("open landed in another share", n, 0);
		} else {
			CHECK("close pool fd", close(n), 0, EBADF);
		}
		return;
	default: /* add an object, use it, delete it */
		s = atomic_load(&pool[j]);
		if (!s || is_mine(s, mine, n_mine))
			return;
		n = fcntl(base_fd, F_DUPFD, COREY_FD(s, 0));
		if (n < 0) {
			if (errno != EINVAL)
				bad("F_DUPFD into a pool share", n, errno);
			return;
		}
		if (!COREY_FD_IS_TAGGED(n) || COREY_FD_SHARE(n) != (unsigned int)s)
			bad("F_DUPFD landed elsewhere", n, 0);
		CHECK("fstat pool fd", fstat(n, &st), 0, EBADF);
		CHECK("close pool fd", close(n), 0, EBADF);
		return;
	}
}

/* A child of a multi-threaded parent: its copy of @p must be whole. */
static void fork_check(int p)
{
	int status;
	pid_t pid;

	pid = fork();
	if (pid < 0) {
		bad("fork", pid, errno);
		return;
	}
	if (pid == 0) {
		int code = 0;

		if (corey_get_alloc_share_raw() != 0)
			code |= 1;
		if (fcntl(COREY_FD(p, 0), F_GETFD) != 0)
			code |= 2;
		if (fcntl(COREY_FD(p, 5), F_GETFD) != 0)
			code |= 4;
		if (corey_share_destroy_raw(p, 0))
			code |= 8;
		if (close_range(3, ~0U, 0))
			code |= 16;
		_exit(code);
	}
	if (waitpid(pid, &status, 0) != pid)
		bad("waitpid", -1, errno);
	else if (!WIFEXITED(status) || WEXITSTATUS(status))
		bad("forked child's checks (exit code bits)",
		    WIFEXITED(status) ? WEXITSTATUS(status) : -WTERMSIG(status),
		    0);
}

static void *mutator(void *arg)
{
	unsigned int seed = 0x9e3779b9u * ((unsigned int)(long)arg + 1);
	int keep[KEEP + 1] = { 0 }, i, k, p;	/* keep[KEEP]: the current p */
	pthread_t t;

	for (i = 0; i < ITERATIONS; i++) {
		p = CHECK("create private", corey_share_create_raw(0, 0), ANY_OK);
		if (p <= 0)
			break;
		for (k = 0; k < 4; k++)
			CHECK("F_DUPFD into own share",
			      fcntl(base_fd, F_DUPFD, COREY_FD(p, 0)),
			      COREY_FD(p, k));
		CHECK("dup2 within own share",
		      dup2(COREY_FD(p, 0), COREY_FD(p, 5)), COREY_FD(p, 5));
		CHECK("close in own share", close(COREY_FD(p, 1)), 0);
		CHECK("set default", corey_set_alloc_share_raw(p), 0);
		CHECK("open in default share",
		      open("/dev/null", O_RDONLY | O_CLOEXEC), COREY_FD(p, 1));
		CHECK("dup in default share", dup(base_fd), COREY_FD(p, 4));
		CHECK("reset default", corey_set_alloc_share_raw(0), 0);

		keep[KEEP] = p;
		pool_op(&seed, keep, KEEP + 1);
		pool_op(&seed, keep, KEEP + 1);

		if (i % THREAD_EVERY == THREAD_EVERY / 2 - 1) {
			if (pthread_create(&t, NULL, short_lived, NULL))
				bad("pthread_create", -1, errno);
			else
				pthread_join(t, NULL);
		}
		if (i % FORK_EVERY == FORK_EVERY / 2 - 3)
			fork_check(p);

		keep[KEEP] = 0;
		if (i % 4 == 0) {
			/* (the index may be reused by another thread at once) */
			CHECK("destroy own share", corey_share_destroy_raw(p, 0), 0);
			continue;
		}
		k = rnd(&seed) % KEEP;
		if (keep[k])
			CHECK("destroy kept share",
			      corey_share_destroy_raw(keep[k], 0), 0);
		keep[k] = p;
	}
	/* the rest go with the thread's exit */
	for (k = 0; k < KEEP; k++)
		if (keep[k] && rnd(&seed) % 2)
			CHECK("destroy kept share at the end",
			      corey_share_destroy_raw(keep[k], 0), 0);
	return NULL;
}

/* ---- readers ---- */

static const int proc_gone[] = { ENOENT, ESRCH, 0 };

/* Walk @dir (fd/ or fdinfo/ of one thread), touching up to 8 entries. */
static void walk_fd_dir(const char *dir, bool links)
{
	char path[600], buf[4096];
	struct dirent *de;
	int touched = 0;
	DIR *d;

	d = opendir(dir);
	if (!d) {
		if (!errno_in(errno, proc_gone))
			bad(dir, -1, errno);
		return;
	}
	for (;;) {
		errno = 0;
		de = readdir(d);
		if (!de) {
			if (errno && !errno_in(errno, proc_gone))
				bad("readdir", -1, errno);
			break;
		}
		if (de->d_name[0] == '.' || touched++ >= 8)
			continue;
		snprintf(path, sizeof(path), "%s/%s", dir, de->d_name);
		if (links) {
			if (readlink(path, buf, sizeof(buf)) < 0 &&
			    !errno_in(errno, proc_gone))
				bad("readlink fd/N", -1, errno);
		} else {
			ssize_t n = read_proc_file(path, buf, sizeof(buf));

			if (n < 0 && !errno_in(-n, proc_gone))
				bad("read fdinfo/N", -1, -n);
		}
	}
	closedir(d);
}

static void read_fdshares(const char *path)
{
	struct fdshares_line lines[64];
	char text[8192], why[160];
	ssize_t n;

	n = read_proc_file(path, text, sizeof(text));
	if (n < 0) {
		if (!errno_in(-n, proc_gone))
			bad("read fdshares", -1, -n);
		return;
	}
	/*
	 * A thread past exit_files() has no table, so its file may hold
	 * the header alone; anything else must parse.
	 */
	if (fdshares_parse(text, lines, 64, why, sizeof(why)) < 0) {
		pthread_mutex_lock(&log_lock);
		snprintf(log_buf + strlen(log_buf),
			 sizeof(log_buf) - strlen(log_buf),
			 "# %s: %s\n", path, why);
		pthread_mutex_unlock(&log_lock);
		atomic_fetch_add(&unexpected, 1);
	}
}

static void *reader(void *arg)
{
	char dir[300];
	struct dirent *de;
	int pass;
	DIR *tasks;

	(void)arg;
	for (pass = 0; pass < READER_PASSES && !atomic_load(&mutators_done);
	     pass++) {
		tasks = opendir("/proc/self/task");
		if (!tasks) {
			bad("opendir /proc/self/task", -1, errno);
			return NULL;
		}
		while ((de = readdir(tasks)) != NULL) {
			if (de->d_name[0] == '.')
				continue;
			snprintf(dir, sizeof(dir), "/proc/self/task/%s/fd",
				 de->d_name);
			walk_fd_dir(dir, true);
			snprintf(dir, sizeof(dir), "/proc/self/task/%s/fdinfo",
				 de->d_name);
			walk_fd_dir(dir, false);
			snprintf(dir, sizeof(dir), "/proc/self/task/%s/fdshares",
				 de->d_name);
			read_fdshares(dir);
		}
		closedir(tasks);
		read_fdshares("/proc/self/fdshares");
		atomic_fetch_add(&reader_passes, 1);
	}
	return NULL;
}

/* ---- the test ---- */

FIXTURE(stress) {};
FIXTURE_SETUP(stress) {}
FIXTURE_TEARDOWN(stress) {}

/* Designed to take seconds under TCG; the timeout only catches hangs. */
TEST_F_TIMEOUT(stress, create_destroy_dup_close_vs_proc_readers, 300)
{
	pthread_t m[MUTATORS], r[READERS];
	struct fdshares_line lines[8];
	char text[4096], why[160];
	struct timespec t0, t1;
	int i, before, s;

	clock_gettime(CLOCK_MONOTONIC, &t0);
	base_fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
	ASSERT_LE(0, base_fd);
	before = count_share0_fds(FD_LIMIT);

	for (i = 0; i < READERS; i++)
		ASSERT_EQ(0, pthread_create(&r[i], NULL, reader, NULL));
	for (i = 0; i < MUTATORS; i++)
		ASSERT_EQ(0, pthread_create(&m[i], NULL, mutator,
					    (void *)(long)i));
	for (i = 0; i < MUTATORS; i++)
		pthread_join(m[i], NULL);
	atomic_store(&mutators_done, true);
	for (i = 0; i < READERS; i++)
		pthread_join(r[i], NULL);

	clock_gettime(CLOCK_MONOTONIC, &t1);
	/* for whoever tunes ITERATIONS; nothing depends on it */
	TH_LOG("%d mutators x %d iterations, %ld reader passes, %.1f s",
	       MUTATORS, ITERATIONS, atomic_load(&reader_passes),
	       (t1.tv_sec - t0.tv_sec) + (t1.tv_nsec - t0.tv_nsec) / 1e9);
	EXPECT_EQ(0, atomic_load(&unexpected)) TH_LOG("\n%s", log_buf);

	/* clear whatever shared shares are left, then nothing may remain */
	for (s = 1; s <= COREY_SHARE_MAX; s++) {
		errno = 0;
		if (corey_share_destroy_raw(s, 0))
			ASSERT_EQ(EBADF, errno) TH_LOG("destroy(%d)", s);
	}
	ASSERT_LT(0, read_proc_file("/proc/thread-self/fdshares", text,
				    sizeof(text)));
	ASSERT_EQ(1, fdshares_parse(text, lines, 8, why, sizeof(why)))
		TH_LOG("%s\n%s", why, text);
	EXPECT_EQ(0U, lines[0].id);
	EXPECT_EQ(before, count_share0_fds(FD_LIMIT));
	EXPECT_EQ(0, corey_get_alloc_share_raw());
	s = corey_share_create_raw(0, 0);
	ASSERT_LT(0, s);
	EXPECT_EQ(0, corey_share_destroy_raw(s, 0));
}

COREY_SHARES_TEST_MAIN
