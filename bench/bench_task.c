// SPDX-License-Identifier: GPL-2.0
#include "bench_task.h"

#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "bench_time.h"

#define POLL_NS		1000000LL

/*
 * The name field may hold spaces and parentheses, so the fields are taken
 * after its last ')': state is the 3rd field of the line, utime and stime
 * the 14th and 15th.
 */
int bench_task_stat(int tid, struct bench_task_stat *st)
{
	char path[64], line[1024], *p;
	unsigned long long utime, stime;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/self/task/%d/stat", tid);
	f = fopen(path, "re");
	if (!f)
		return -errno;
	p = fgets(line, sizeof(line), f);
	fclose(f);
	if (!p)
		return -EIO;
	p = strrchr(line, ')');
	if (!p || sscanf(p + 1, " %c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u "
			 "%llu %llu", &st->state, &utime, &stime) != 3)
		return -EPROTO;
	st->ticks = utime + stime;
	return 0;
}

/* What glibc's pthread_getcpuclockid() computes for a thread id. */
#define THREAD_CPUCLOCK(tid)	((clockid_t)((~(unsigned int)(tid) << 3) | 6))

int bench_task_cpu_ns(int tid, int64_t *ns)
{
	struct timespec ts;

	if (clock_gettime(THREAD_CPUCLOCK(tid), &ts) == -1)
		return -errno;
	*ns = (int64_t)ts.tv_sec * NSEC_PER_SEC + ts.tv_nsec;
	return 0;
}

/* Returns 1 if thread @tid's name starts with @prefix, 0 if not. */
static int name_matches(const char *tid, const char *prefix)
{
	/* A directory entry's name may be 255 bytes, as far as C knows. */
	char path[sizeof("/proc/self/task//comm") + 256], comm[64];
	FILE *f;
	int match = 0;

	snprintf(path, sizeof(path), "/proc/self/task/%s/comm", tid);
	f = fopen(path, "re");
	if (!f)
		return 0;	/* exited meanwhile */
	if (fgets(comm, sizeof(comm), f))
		match = strncmp(comm, prefix, strlen(prefix)) == 0;
	fclose(f);
	return match;
}

static int find_once(const char *prefix)
{
	DIR *dir = opendir("/proc/self/task");
	struct dirent *d;
	int tid = -ENOENT;

	if (!dir)
		return -errno;
	while ((d = readdir(dir)))
		if (d->d_name[0] != '.' && name_matches(d->d_name, prefix)) {
			tid = atoi(d->d_name);
			break;
		}
	closedir(dir);
	return tid;
}

int bench_task_find(const char *prefix, int64_t timeout_ns)
{
	int64_t deadline = bench_now_ns() + timeout_ns;

	for (;;) {
		int tid = find_once(prefix);

		if (tid != -ENOENT || bench_now_ns() >= deadline)
			return tid;
		bench_sleep_until(bench_now_ns() + POLL_NS);
	}
}

int bench_task_wait_asleep(int tid, int64_t timeout_ns)
{
	int64_t deadline = bench_now_ns() + timeout_ns;

	for (;;) {
		struct bench_task_stat st;
		int err = bench_task_stat(tid, &st);

		if (err)
			return err;
		if (st.state != 'R')
			return 0;
		if (bench_now_ns() >= deadline)
			return -ETIMEDOUT;
		bench_sleep_until(bench_now_ns() + POLL_NS);
	}
}

int bench_task_wait_gone(int tid, int64_t timeout_ns)
{
	int64_t deadline = bench_now_ns() + timeout_ns;
	char path[64];

	snprintf(path, sizeof(path), "/proc/self/task/%d", tid);
	for (;;) {
		struct stat st;

		if (stat(path, &st) == -1)
			return errno == ENOENT ? 0 : -errno;
		if (bench_now_ns() >= deadline)
			return -ETIMEDOUT;
		bench_sleep_until(bench_now_ns() + POLL_NS);
	}
}
