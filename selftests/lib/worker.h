/* SPDX-License-Identifier: GPL-2.0 */
/*
 * A worker thread that runs functions on request, for tests that need a
 * second thread of the same process to do one thing at a time in order
 * (create a private share, then later try to use someone else's).  The
 * calls are synchronous: worker_call() returns when the function has
 * run in the worker, with the errno it left.
 */
#ifndef SELFTESTS_WORKER_H
#define SELFTESTS_WORKER_H

#include <pthread.h>
#include <stdbool.h>
#include <sys/types.h>

typedef long (*worker_fn)(void *arg);

struct worker {
	pthread_t thread;
	pthread_mutex_t lock;
	pthread_cond_t cond;
	pid_t tid;		/* the worker's thread id, set by worker_start */
	worker_fn fn;		/* request; NULL when idle */
	void *arg;
	long ret;
	int err;
	bool done;		/* the request has run */
	bool stop;
};

/* Start @w; returns 0 or an errno value. */
int worker_start(struct worker *w);

/* Run @fn(@arg) in @w and return its result; *@err gets its errno. */
long worker_call(struct worker *w, worker_fn fn, void *arg, int *err);

/*
 * Run syscall(nr, args...) in @w: WORKER_SYSCALL(w, &err, SYS_close, fd).
 * Up to six arguments, each converted to long (cast pointers).
 */
long worker_syscall(struct worker *w, int *err, const long call[7]);
#define WORKER_SYSCALL(w, err, ...) \
	worker_syscall((w), (err), (const long[7]){ __VA_ARGS__ })

/* Let @w return from its thread function and join it. */
void worker_stop(struct worker *w);

#endif /* SELFTESTS_WORKER_H */
