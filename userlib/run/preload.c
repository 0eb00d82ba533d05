// SPDX-License-Identifier: GPL-2.0
/*
 * libcorey-run.so, which corey-run preloads into an unmodified program:
 * every thread the program creates allocates its descriptors in a private
 * share, so threads that keep to their own descriptors never write the same
 * descriptor table (dup/close then scales with cores).
 *
 * The hook wraps the start routine given to pthread_create (and C11
 * thrd_create, which glibc does not route through the public
 * pthread_create): the new thread creates a share, makes it its default
 * allocation share, then runs the routine.  The kernel destroys the share
 * when the thread exits.  The main thread stays on share 0 unless
 * COREY_RUN_MAIN=1, so that startup code and stdio keep POSIX numbers.
 *
 * When a share cannot be created (no kernel support, no free index, no
 * memory), the thread runs on share 0 and the first such failure in the
 * process prints one warning: the program still works, it just does not
 * get the scaling.
 *
 * Only pthread_create and thrd_create are exported (corey-run.map); the
 * libcorey calls are linked in privately so the program's own libcorey, if
 * any, cannot clash.  dlsym lives in libc since glibc 2.34, so no -ldl.
 */
#include <dlfcn.h>
#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <threads.h>

#include <corey.h>

typedef int pthread_create_fn(pthread_t *, const pthread_attr_t *,
			      void *(*)(void *), void *);
typedef int thrd_create_fn(thrd_t *, thrd_start_t, void *);

struct pthread_start {
	void *(*routine)(void *);
	void *arg;
};

struct thrd_start {
	thrd_start_t routine;
	void *arg;
};

static atomic_flag warned = ATOMIC_FLAG_INIT;

static void warn_once(const char *who, int err)
{
	if (atomic_flag_test_and_set(&warned))
		return;
	fprintf(stderr,
		"corey-run: warning: %s could not get a private descriptor "
		"share and runs on share 0 (later ones are not reported): %s\n",
		who, corey_strerror(err));
}

/* Failures are not fatal: the thread then simply stays on share 0. */
static void use_private_share(const char *who)
{
	int share = corey_share_create(0, 0);
	int err;

	if (share < 0) {
		warn_once(who, errno);
		return;
	}
	if (corey_set_alloc_share((unsigned int)share) == 0)
		return;
	err = errno;
	corey_share_destroy((unsigned int)share, 0);
	warn_once(who, err);
}

/* The next definition in lookup order, i.e. libc's; NULL if none. */
static void *next_symbol(const char *name)
{
	void *sym = dlsym(RTLD_NEXT, name);

	if (!sym)
		fprintf(stderr, "corey-run: cannot find the real %s: %s\n",
			name, dlerror());
	return sym;
}

static void *pthread_start_on_private_share(void *p)
{
	struct pthread_start start = *(struct pthread_start *)p;

	free(p);
	use_private_share("a thread");
	return start.routine(start.arg);
}

int pthread_create(pthread_t *thread, const pthread_attr_t *attr,
		   void *(*routine)(void *), void *arg)
{
	/* Racing first calls resolve the same pointer; any one will do. */
	static _Atomic(pthread_create_fn *) real;
	pthread_create_fn *next = atomic_load_explicit(&real,
						       memory_order_relaxed);
	struct pthread_start *start;
	int rc;

	if (!next) {
		next = (pthread_create_fn *)next_symbol("pthread_create");
		if (!next)
			return EAGAIN;
		atomic_store_explicit(&real, next, memory_order_relaxed);
	}
	start = malloc(sizeof(*start));
	if (!start)
		return EAGAIN;
	start->routine = routine;
	start->arg = arg;
	rc = next(thread, attr, pthread_start_on_private_share, start);
	if (rc)
		free(start);
	return rc;
}

static int thrd_start_on_private_share(void *p)
{
	struct thrd_start start = *(struct thrd_start *)p;

	free(p);
	use_private_share("a thread");
	return start.routine(start.arg);
}

int thrd_create(thrd_t *thread, thrd_start_t routine, void *arg)
{
	static _Atomic(thrd_create_fn *) real;
	thrd_create_fn *next = atomic_load_explicit(&real,
						    memory_order_relaxed);
	struct thrd_start *start;
	int rc;

	if (!next) {
		next = (thrd_create_fn *)next_symbol("thrd_create");
		if (!next)
			return thrd_error;
		atomic_store_explicit(&real, next, memory_order_relaxed);
	}
	start = malloc(sizeof(*start));
	if (!start)
		return thrd_nomem;
	start->routine = routine;
	start->arg = arg;
	rc = next(thread, thrd_start_on_private_share, start);
	if (rc != thrd_success)
		free(start);
	return rc;
}

__attribute__((constructor))
static void main_thread_on_private_share(void)
{
	const char *main_too = getenv("COREY_RUN_MAIN");

	if (main_too && strcmp(main_too, "1") == 0)
		use_private_share("the main thread");
}
