// SPDX-License-Identifier: GPL-2.0
/*
 * A worker thread that runs functions on request; see worker.h.
 */
#include <errno.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "worker.h"

static void *worker_main(void *data)
{
	struct worker *w = data;

	pthread_mutex_lock(&w->lock);
	w->tid = gettid();
	pthread_cond_broadcast(&w->cond);
	for (;;) {
		while (!w->fn && !w->stop)
			pthread_cond_wait(&w->cond, &w->lock);
		if (w->stop)
			break;
		pthread_mutex_unlock(&w->lock);
		errno = 0;
		w->ret = w->fn(w->arg);
		w->err = errno;
		pthread_mutex_lock(&w->lock);
		w->fn = NULL;
		w->done = true;
		pthread_cond_broadcast(&w->cond);
	}
	pthread_mutex_unlock(&w->lock);
	return NULL;
}

int worker_start(struct worker *w)
{
	int ret;

	memset(w, 0, sizeof(*w));
	pthread_mutex_init(&w->lock, NULL);
	pthread_cond_init(&w->cond, NULL);
	ret = pthread_create(&w->thread, NULL, worker_main, w);
	if (ret)
		return ret;
	pthread_mutex_lock(&w->lock);
	while (!w->tid)
		pthread_cond_wait(&w->cond, &w->lock);
	pthread_mutex_unlock(&w->lock);
	return 0;
}

long worker_call(struct worker *w, worker_fn fn, void *arg, int *err)
{
	long ret;

	pthread_mutex_lock(&w->lock);
	w->fn = fn;
	w->arg = arg;
	w->done = false;
	pthread_cond_broadcast(&w->cond);
	while (!w->done)
		pthread_cond_wait(&w->cond, &w->lock);
	ret = w->ret;
	if (err)
		*err = w->err;
	pthread_mutex_unlock(&w->lock);
	return ret;
}

static long run_syscall(void *arg)
{
	const long *c = arg;

	return syscall(c[0], c[1], c[2], c[3], c[4], c[5], c[6]);
}

long worker_syscall(struct worker *w, int *err, const long call[7])
{
	return worker_call(w, run_syscall, (void *)call, err);
}

void worker_stop(struct worker *w)
{
	pthread_mutex_lock(&w->lock);
	w->stop = true;
	pthread_cond_broadcast(&w->cond);
	pthread_mutex_unlock(&w->lock);
	pthread_join(w->thread, NULL);
}
