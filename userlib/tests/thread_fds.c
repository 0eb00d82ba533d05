// SPDX-License-Identifier: GPL-2.0
/*
 * thread_fds: an ordinary threaded program for corey-run to run.  Each
 * thread opens a temporary file, a pipe and a dup, uses them and closes
 * them; the main thread opens one descriptor too.  It reports how many of
 * the descriptors were share-qualified (tagged) and can insist on it:
 *
 *   thread_fds [--threads N] [--api pthread|thrd|both]
 *              [--expect-threads tagged|untagged] [--expect-main tagged|untagged]
 *
 * --api picks how the threads are created (both: alternately), so each of
 * corey-run's hooks can be shown to run.  Exit status 0 if every call
 * worked and the expectations held.  It does not link libcorey.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <threads.h>
#include <unistd.h>

#include <linux/corey.h>

#define MAX_THREADS 64

enum expectation { ANY, TAGGED, UNTAGGED };

struct worker {
	int opened;		/* descriptors the thread got */
	int tagged;		/* of which share-qualified */
	bool ok;
};

static void count(struct worker *w, int fd)
{
	w->opened++;
	if (COREY_FD_IS_TAGGED(fd))
		w->tagged++;
}

static const char message[] = "corey";

static bool put(int fd, const char *what)
{
	if (write(fd, message, sizeof(message)) != (ssize_t)sizeof(message)) {
		fprintf(stderr, "thread_fds: %s: write: %s\n", what,
			strerror(errno));
		return false;
	}
	return true;
}

static bool get(int fd, const char *what)
{
	char buf[sizeof(message)];

	if (read(fd, buf, sizeof(buf)) != (ssize_t)sizeof(buf) ||
	    memcmp(buf, message, sizeof(message)) != 0) {
		fprintf(stderr, "thread_fds: %s: read back failed: %s\n", what,
			strerror(errno));
		return false;
	}
	return true;
}

static bool use_file(struct worker *w)
{
	const char *dir = getenv("TMPDIR");
	char path[4096];
	int fd, copy;
	bool ok;

	snprintf(path, sizeof(path), "%s/thread_fds.XXXXXX",
		 dir && *dir ? dir : "/tmp");
	fd = mkostemp(path, O_CLOEXEC);
	if (fd < 0) {
		fprintf(stderr, "thread_fds: mkostemp %s: %s\n", path,
			strerror(errno));
		return false;
	}
	unlink(path);
	count(w, fd);
	copy = dup(fd);
	if (copy < 0) {
		fprintf(stderr, "thread_fds: dup: %s\n", strerror(errno));
		close(fd);
		return false;
	}
	count(w, copy);
	/* Write through one, rewind and read through the other (they share
	 * the offset). */
	ok = put(fd, "file") && lseek(copy, 0, SEEK_SET) == 0 &&
	     get(copy, "file");
	ok = (close(copy) == 0) && ok;
	ok = (close(fd) == 0) && ok;
	return ok;
}

static bool use_pipe(struct worker *w)
{
	int p[2];
	bool ok;

	if (pipe2(p, O_CLOEXEC) != 0) {
		fprintf(stderr, "thread_fds: pipe2: %s\n", strerror(errno));
		return false;
	}
	count(w, p[0]);
	count(w, p[1]);
	ok = put(p[1], "pipe") && get(p[0], "pipe");
	ok = (close(p[0]) == 0) && ok;
	ok = (close(p[1]) == 0) && ok;
	return ok;
}

static void *pthread_worker(void *arg)
{
	struct worker *w = arg;

	w->ok = use_file(w) && use_pipe(w);
	return NULL;
}

static int thrd_worker(void *arg)
{
	pthread_worker(arg);
	return 0;
}

/* --api both alternates: even threads pthread, odd ones C11. */
static bool uses_thrd(const char *api, int i)
{
	return strcmp(api, "thrd") == 0 || (strcmp(api, "both") == 0 && i % 2);
}

static enum expectation parse_expectation(const char *s)
{
	if (strcmp(s, "tagged") == 0)
		return TAGGED;
	if (strcmp(s, "untagged") == 0)
		return UNTAGGED;
	fprintf(stderr, "thread_fds: expected 'tagged' or 'untagged', not '%s'\n", s);
	exit(2);
}

static bool meets(enum expectation e, int tagged, int opened, const char *who)
{
	if ((e == TAGGED && tagged != opened) || (e == UNTAGGED && tagged)) {
		fprintf(stderr, "thread_fds: %s: %d of %d descriptors tagged, "
			"expected %s\n", who, tagged, opened,
			e == TAGGED ? "all" : "none");
		return false;
	}
	return true;
}

int main(int argc, char **argv)
{
	static const struct option options[] = {
		{ "threads", required_argument, NULL, 'n' },
		{ "api", required_argument, NULL, 'a' },
		{ "expect-threads", required_argument, NULL, 't' },
		{ "expect-main", required_argument, NULL, 'm' },
		{ NULL, 0, NULL, 0 },
	};
	struct worker workers[MAX_THREADS] = { 0 };
	pthread_t pthreads[MAX_THREADS];
	thrd_t thrds[MAX_THREADS];
	enum expectation expect_threads = ANY, expect_main = ANY;
	const char *api = "both";
	int n = 4, opt, i, opened = 0, tagged = 0, main_fd;
	bool ok = true, main_tagged;

	while ((opt = getopt_long(argc, argv, "", options, NULL)) != -1) {
		switch (opt) {
		case 'n':
			n = atoi(optarg);
			break;
		case 'a':
			api = optarg;
			break;
		case 't':
			expect_threads = parse_expectation(optarg);
			break;
		case 'm':
			expect_main = parse_expectation(optarg);
			break;
		default:
			return 2;
		}
	}
	if (n < 1 || n > MAX_THREADS || optind != argc ||
	    (strcmp(api, "pthread") && strcmp(api, "thrd") && strcmp(api, "both"))) {
		fprintf(stderr, "usage: thread_fds [--threads 1..%d] "
			"[--api pthread|thrd|both] [--expect-threads tagged|untagged] "
			"[--expect-main tagged|untagged]\n", MAX_THREADS);
		return 2;
	}

	main_fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
	if (main_fd < 0) {
		perror("thread_fds: open /dev/null");
		return 1;
	}
	main_tagged = COREY_FD_IS_TAGGED(main_fd);
	close(main_fd);

	for (i = 0; i < n; i++) {
		int rc = uses_thrd(api, i) ?
			(thrd_create(&thrds[i], thrd_worker, &workers[i]) ==
			 thrd_success ? 0 : EAGAIN) :
			pthread_create(&pthreads[i], NULL, pthread_worker,
				       &workers[i]);

		if (rc) {
			fprintf(stderr, "thread_fds: creating thread %d: %s\n",
				i, strerror(rc));
			return 1;
		}
	}
	for (i = 0; i < n; i++) {
		if (uses_thrd(api, i))
			thrd_join(thrds[i], NULL);
		else
			pthread_join(pthreads[i], NULL);
		ok = ok && workers[i].ok;
		opened += workers[i].opened;
		tagged += workers[i].tagged;
	}
	printf("thread_fds: %d threads (%s), %d descriptors, %d tagged; "
	       "main thread's descriptor %s\n", n, api, opened, tagged,
	       main_tagged ? "tagged" : "untagged");
	ok = meets(expect_threads, tagged, opened, "threads") && ok;
	ok = meets(expect_main, main_tagged, 1, "main thread") && ok;
	return ok ? 0 : 1;
}
