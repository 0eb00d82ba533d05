// SPDX-License-Identifier: GPL-2.0
#include "bench_team.h"

#include <corey.h>
#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include "bench_cpu.h"
#include "bench_err.h"
#include "bench_mem.h"
#include "bench_sync.h"
#include "bench_time.h"

#define CACHE_LINE	64

/*
 * One line per counter: workers store to their own counter after every
 * operation, and sharing a line would turn that into cache-line bouncing
 * that the benchmarks would then measure.
 */
struct bench_counter {
	_Alignas(CACHE_LINE) _Atomic uint64_t total;
};

/* Everything workers write, mapped MAP_SHARED so forked workers share it. */
struct team_shared {
	struct bench_barrier barrier;
	/* Read by every worker on every operation: keep off the barrier's line. */
	_Alignas(CACHE_LINE) atomic_int stop;
	atomic_int failed;
	struct bench_counter counters[];
};

struct bench_worker {
	struct bench_team *team;
	int index;
};

struct bench_team {
	const struct bench_args *args;
	enum bench_team_kind kind;
	struct team_shared *shared;
	size_t shared_len;
	bench_worker_fn fn;
	void *ctx;
	int nr_started;
	struct bench_worker *workers;
	pthread_t *threads;
	pid_t *pids;
	int *pidfds;		/* BENCH_TEAM_COREY: from corey_cfork() */
	pid_t parent;		/* the process that started the workers */
};

static const char *bench_name(const struct bench_team *team)
{
	return team->args->spec->name;
}

struct bench_team *bench_team_create(const struct bench_args *args,
				     enum bench_team_kind kind,
				     bool main_in_barrier)
{
	int n = args->cpus;
	struct bench_team *team = calloc(1, sizeof(*team));

	if (!team)
		goto nomem;
	team->args = args;
	team->kind = kind;
	team->workers = calloc(n, sizeof(*team->workers));
	team->threads = calloc(n, sizeof(*team->threads));
	team->pids = calloc(n, sizeof(*team->pids));
	team->pidfds = calloc(n, sizeof(*team->pidfds));
	if (!team->workers || !team->threads || !team->pids || !team->pidfds)
		goto nomem;

	team->shared_len = sizeof(*team->shared) +
			   n * sizeof(team->shared->counters[0]);
	team->shared = bench_alloc_shared(team->shared_len);
	if (!team->shared) {
		bench_error(bench_name(team), "mmap", errno);
		bench_team_destroy(team);
		return NULL;
	}
	bench_barrier_init(&team->shared->barrier, n + (main_in_barrier ? 1 : 0),
			   &team->shared->failed);
	for (int i = 0; i < n; i++) {
		team->workers[i].team = team;
		team->workers[i].index = i;
	}
	return team;

nomem:
	bench_error(args->spec->name, "malloc", ENOMEM);
	bench_team_destroy(team);
	return NULL;
}

void bench_team_destroy(struct bench_team *team)
{
	if (!team)
		return;
	bench_free_shared(team->shared, team->shared_len);
	free(team->workers);
	free(team->threads);
	free(team->pids);
	free(team->pidfds);
	free(team);
}

void bench_team_abort(struct bench_team *team)
{
	atomic_store(&team->shared->failed, 1);
	atomic_store(&team->shared->stop, 1);
	bench_barrier_wake(&team->shared->barrier);
}

static int run_worker(struct bench_worker *w)
{
	struct bench_team *team = w->team;
	int err = bench_pin_self(team->args->cpu_ids[w->index]);

	if (err)
		return bench_worker_fail(w, "sched_setaffinity", -err);
	/*
	 * The first clock read of a process faults the vDSO pages in; do it
	 * here so it never lands inside a benchmark's fault count.
	 */
	(void)bench_now_ns();
	return team->fn(w, team->ctx);
}

static void *thread_main(void *arg)
{
	return (void *)(intptr_t)run_worker(arg);
}

/*
 * Do not outlive a main process that was killed: orphaned workers
 * spinning on every CPU would wreck whatever runs next in the VM.
 * Returns 0, or -1 if the worker must not run.
 */
static int die_with_parent(struct bench_worker *w)
{
	if (prctl(PR_SET_PDEATHSIG, SIGKILL) == -1)
		return bench_worker_fail(w, "prctl", errno);
	return getppid() == w->team->parent ? 0 : -1;
}

static _Noreturn void process_main(struct bench_worker *w)
{
	if (die_with_parent(w))
		_exit(1);
	/* _exit: atexit handlers and stdio buffers belong to the parent. */
	_exit(run_worker(w) == 0 ? 0 : 1);
}

/* corey_cfork()'s child runs this and exits with what it returns. */
static int cfork_main(void *arg)
{
	struct bench_worker *w = arg;

	if (die_with_parent(w))
		return 1;
	return run_worker(w) == 0 ? 0 : 1;
}

/*
 * cfork pins the child to its CPU before it runs anything, as Corey starts
 * work on a chosen core; run_worker() pins again, which changes nothing.
 */
static int start_cfork(struct bench_team *team, struct bench_worker *w)
{
	struct corey_cfork_attr attr = {
		.cpu = team->args->cpu_ids[w->index],
	};
	int pidfd = corey_cfork(&attr, cfork_main, w);

	if (pidfd == -1) {
		bench_errorf(bench_name(team), "corey_cfork(cpu %d): %s",
			     attr.cpu, corey_strerror(errno));
		return -1;
	}
	team->pidfds[w->index] = pidfd;
	return 0;
}

int bench_team_start(struct bench_team *team, bench_worker_fn fn, void *ctx)
{
	team->parent = getpid();
	team->fn = fn;
	team->ctx = ctx;
	/* Unflushed output would otherwise be printed once per child too. */
	fflush(NULL);

	for (int i = 0; i < team->args->cpus; i++) {
		struct bench_worker *w = &team->workers[i];

		if (team->kind == BENCH_TEAM_THREADS) {
			int err = pthread_create(&team->threads[i], NULL,
						 thread_main, w);

			if (err) {
				bench_error(bench_name(team), "pthread_create",
					    err);
				goto fail;
			}
		} else if (team->kind == BENCH_TEAM_COREY) {
			if (start_cfork(team, w))
				goto fail;
		} else {
			pid_t pid = fork();

			if (pid == -1) {
				bench_error(bench_name(team), "fork", errno);
				goto fail;
			}
			if (pid == 0)
				process_main(w);
			team->pids[i] = pid;
		}
		team->nr_started++;
	}
	return 0;

fail:
	bench_team_abort(team);
	bench_team_wait(team);
	return -1;
}

static int wait_threads(struct bench_team *team)
{
	int status = 0;

	for (int i = 0; i < team->nr_started; i++) {
		void *ret;
		int err = pthread_join(team->threads[i], &ret);

		if (err) {
			bench_error(bench_name(team), "pthread_join", err);
			status = -1;
		} else if (ret) {
			status = -1;
		}
	}
	team->nr_started = 0;
	return status;
}

static int worker_of_pid(const struct bench_team *team, pid_t pid)
{
	for (int i = 0; i < team->nr_started; i++)
		if (team->pids[i] == pid)
			return i;
	return -1;
}

/* Whether a worker's wait status is a success; reports a deadly signal. */
static bool worker_succeeded(struct bench_team *team, int i, int wstatus)
{
	if (WIFEXITED(wstatus) && WEXITSTATUS(wstatus) == 0)
		return true;
	if (WIFSIGNALED(wstatus))
		bench_errorf(bench_name(team),
			     "worker %d killed by signal %d (%s)", i,
			     WTERMSIG(wstatus), strsignal(WTERMSIG(wstatus)));
	return false;
}

/*
 * Reap children in whatever order they exit: a worker that crashed
 * without setting the failure flag must still release the others, or
 * they would wait at the next barrier forever.
 */
static int wait_processes(struct bench_team *team)
{
	int status = 0;

	for (int left = team->nr_started; left > 0;) {
		int wstatus, i;
		pid_t pid = waitpid(-1, &wstatus, 0);

		if (pid == -1) {
			if (errno == EINTR)
				continue;
			bench_error(bench_name(team), "waitpid", errno);
			bench_team_abort(team);
			return -1;
		}
		i = worker_of_pid(team, pid);
		if (i < 0)
			continue;
		left--;
		if (worker_succeeded(team, i, wstatus))
			continue;
		status = -1;
		bench_team_abort(team);
	}
	team->nr_started = 0;
	return status;
}

/* Reap cfork'd worker @i; returns 0 if it succeeded. */
static int reap_cforked(struct bench_team *team, int i)
{
	int wstatus;

	if (corey_cwait(team->pidfds[i], &wstatus) == -1) {
		bench_error(bench_name(team), "corey_cwait", errno);
		return -1;
	}
	return worker_succeeded(team, i, wstatus) ? 0 : -1;
}

/*
 * corey_cwait() waits for one given child, so poll the pidfds (readable
 * once their process has ended) to reap in exit order, for the same
 * reason as wait_processes().  Should poll() itself fail, the team is
 * aborted and the rest reaped in index order.
 */
static int wait_cforked(struct bench_team *team)
{
	int n = team->nr_started, left = n, status = 0;
	struct pollfd *pfds = calloc(n, sizeof(*pfds));
	bool polling = pfds != NULL;

	if (!pfds)
		bench_error(bench_name(team), "malloc", ENOMEM);
	for (int i = 0; i < n && pfds; i++)
		pfds[i] = (struct pollfd){ .fd = team->pidfds[i],
					   .events = POLLIN };
	while (polling && left > 0) {
		if (poll(pfds, n, -1) == -1) {
			if (errno == EINTR)
				continue;
			bench_error(bench_name(team), "poll", errno);
			polling = false;
			break;
		}
		for (int i = 0; i < n; i++) {
			if (pfds[i].fd < 0 || !pfds[i].revents)
				continue;
			/* A negative fd: poll() skips it from now on. */
			pfds[i].fd = -1;
			left--;
			if (reap_cforked(team, i)) {
				status = -1;
				bench_team_abort(team);
			}
		}
	}
	if (left > 0) {
		status = -1;
		bench_team_abort(team);
		for (int i = 0; i < n; i++)
			if ((!pfds || pfds[i].fd >= 0) && reap_cforked(team, i))
				status = -1;
	}
	free(pfds);
	team->nr_started = 0;
	return status;
}

int bench_team_wait(struct bench_team *team)
{
	int status;

	if (team->kind == BENCH_TEAM_THREADS)
		status = wait_threads(team);
	else if (team->kind == BENCH_TEAM_COREY)
		status = wait_cforked(team);
	else
		status = wait_processes(team);
	return bench_team_failed(team) ? -1 : status;
}

int bench_team_sync(struct bench_team *team)
{
	return bench_barrier_wait(&team->shared->barrier);
}

void bench_team_stop(struct bench_team *team)
{
	atomic_store_explicit(&team->shared->stop, 1, memory_order_release);
}

bool bench_team_failed(const struct bench_team *team)
{
	return atomic_load(&team->shared->failed);
}

uint64_t bench_team_total(const struct bench_team *team)
{
	uint64_t total = 0;

	for (int i = 0; i < team->args->cpus; i++)
		total += atomic_load_explicit(&team->shared->counters[i].total,
					      memory_order_relaxed);
	return total;
}

int bench_worker_index(const struct bench_worker *w)
{
	return w->index;
}

const struct bench_args *bench_worker_args(const struct bench_worker *w)
{
	return w->team->args;
}

int bench_worker_rusage_who(const struct bench_worker *w)
{
	return w->team->kind == BENCH_TEAM_THREADS ? RUSAGE_THREAD : RUSAGE_SELF;
}

int bench_worker_sync(struct bench_worker *w)
{
	return bench_barrier_wait(&w->team->shared->barrier);
}

bool bench_worker_stopping(const struct bench_worker *w)
{
	return atomic_load_explicit(&w->team->shared->stop,
				    memory_order_relaxed);
}

void bench_worker_publish(struct bench_worker *w, uint64_t total)
{
	/* Single writer per counter: a plain atomic store, no RMW needed. */
	atomic_store_explicit(&w->team->shared->counters[w->index].total,
			      total, memory_order_relaxed);
}

const atomic_int *bench_worker_abort_flag(const struct bench_worker *w)
{
	return &w->team->shared->failed;
}

int bench_worker_fail(struct bench_worker *w, const char *what, int err)
{
	bench_errorf(bench_name(w->team), "worker %d: %s: %s", w->index, what,
		     strerror(err));
	return bench_worker_abort(w);
}

int bench_worker_abort(struct bench_worker *w)
{
	bench_team_abort(w->team);
	return -1;
}
