// SPDX-License-Identifier: GPL-2.0
/*
 * Threads, CPUs and children for the kernel-core selftests; see
 * kcore_proc.h.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "corey_shares.h"	/* read_proc_file() */
#include "kcore_proc.h"

static void task_path(char *buf, size_t size, pid_t pid, pid_t tid,
		      const char *file)
{
	if (pid)
		snprintf(buf, size, "/proc/%d/task/%d/%s", pid, tid, file);
	else
		snprintf(buf, size, "/proc/self/task/%d/%s", tid, file);
}

int task_stat_read(pid_t pid, pid_t tid, struct task_stat *st)
{
	char path[64], buf[1024], *p, *save = NULL;
	ssize_t n;
	int field;

	task_path(path, sizeof(path), pid, tid, "stat");
	n = read_proc_file(path, buf, sizeof(buf));
	if (n < 0)
		return n;
	/* comm may hold spaces and parentheses: fields start after the last ')' */
	p = strrchr(buf, ')');
	if (!p || p[1] != ' ')
		return -EPROTO;
	memset(st, 0, sizeof(*st));
	st->processor = -1;
	field = 3;
	for (p = strtok_r(p + 2, " ", &save); p; p = strtok_r(NULL, " ", &save)) {
		switch (field) {
		case 3:
			st->state = p[0];
			break;
		case 14:
			st->utime = strtoull(p, NULL, 10);
			break;
		case 15:
			st->stime = strtoull(p, NULL, 10);
			break;
		case 39:
			st->processor = atoi(p);
			break;
		}
		field++;
	}
	return field > 39 ? 0 : -EPROTO;
}

int task_comm_read(pid_t pid, pid_t tid, char *buf, size_t size)
{
	char path[64];
	ssize_t n;

	task_path(path, sizeof(path), pid, tid, "comm");
	n = read_proc_file(path, buf, size);
	if (n < 0)
		return n;
	if (n > 0 && buf[n - 1] == '\n')
		buf[n - 1] = '\0';
	return 0;
}

pid_t task_tgid(pid_t tid)
{
	char path[64], buf[4096], *p;
	ssize_t n;

	snprintf(path, sizeof(path), "/proc/%d/status", tid);
	n = read_proc_file(path, buf, sizeof(buf));
	if (n < 0)
		return n;
	p = strstr(buf, "\nTgid:");
	if (!p)
		return -EPROTO;
	return atoi(p + 6);
}

static bool all_digits(const char *s)
{
	if (!*s)
		return false;
	for (; *s; s++)
		if (*s < '0' || *s > '9')
			return false;
	return true;
}

/* Count kcore/ threads of one process; append descriptions to list. */
static int count_in(pid_t pid, char *list, size_t size)
{
	char path[64], comm[64];
	struct task_stat st;
	struct dirent *de;
	int n = 0;
	DIR *d;

	snprintf(path, sizeof(path), "/proc/%d/task", pid);
	d = opendir(path);
	if (!d)
		return 0;	/* gone meanwhile */
	while ((de = readdir(d))) {
		pid_t tid;

		if (!all_digits(de->d_name))
			continue;
		tid = atoi(de->d_name);
		if (task_comm_read(pid, tid, comm, sizeof(comm)))
			continue;
		if (strncmp(comm, "kcore/", 6))
			continue;
		n++;
		if (list) {
			size_t len = strlen(list);

			if (task_stat_read(pid, tid, &st))
				st.state = '?';
			snprintf(list + len, size - len, "%s%d/%d %s %c",
				 len ? " " : "", pid, tid, comm, st.state);
		}
	}
	closedir(d);
	return n;
}

int kcore_threads_count(pid_t tgid, char *list, size_t size)
{
	struct dirent *de;
	int n = 0;
	DIR *d;

	if (list && size)
		list[0] = '\0';
	if (tgid)
		return count_in(tgid, list, size);
	d = opendir("/proc");
	if (!d)
		return -errno;
	while ((de = readdir(d)))
		if (all_digits(de->d_name))
			n += count_in(atoi(de->d_name), list, size);
	closedir(d);
	return n;
}

int kcore_threads_wait_gone(pid_t tgid, int timeout_ms, char *list,
			    size_t size)
{
	int64_t deadline;
	struct timespec ts;
	int n;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	deadline = (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000 + timeout_ms;
	for (;;) {
		n = kcore_threads_count(tgid, list, size);
		if (n <= 0)
			return n;
		clock_gettime(CLOCK_MONOTONIC, &ts);
		if ((int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000 > deadline)
			return n;
		usleep(10000);
	}
}

int self_threads_count(void)
{
	struct dirent *de;
	int n = 0;
	DIR *d;

	d = opendir("/proc/self/task");
	if (!d)
		return -errno;
	while ((de = readdir(d)))
		if (all_digits(de->d_name))
			n++;
	closedir(d);
	return n;
}

int kcore_pick_cpu(void)
{
	cpu_set_t set;
	int cpu;

	if (sched_getaffinity(0, sizeof(set), &set))
		return -1;
	for (cpu = CPU_SETSIZE - 1; cpu >= 0; cpu--)
		if (CPU_ISSET(cpu, &set) && cpu_is_online(cpu) != 0)
			return cpu;
	return -1;
}

int other_cpu(int not)
{
	cpu_set_t set;
	int cpu;

	if (sched_getaffinity(0, sizeof(set), &set))
		return -1;
	for (cpu = 0; cpu < CPU_SETSIZE; cpu++)
		if (cpu != not && CPU_ISSET(cpu, &set) && cpu_is_online(cpu) != 0)
			return cpu;
	return -1;
}

int possible_cpus(void)
{
	char buf[256], *p;
	int max = -1;
	ssize_t n;

	n = read_proc_file("/sys/devices/system/cpu/possible", buf, sizeof(buf));
	if (n < 0)
		return n;
	/* "0-3" or "0,2-5": the highest number is the last one */
	for (p = buf; *p; p++) {
		if (*p >= '0' && *p <= '9') {
			int v = (int)strtol(p, &p, 10);

			if (v > max)
				max = v;
			p--;
		}
	}
	return max + 1;
}

static void online_path(char *buf, size_t size, int cpu)
{
	snprintf(buf, size, "/sys/devices/system/cpu/cpu%d/online", cpu);
}

bool cpu_hotpluggable(int cpu)
{
	char path[64];

	online_path(path, sizeof(path), cpu);
	return access(path, W_OK) == 0;
}

int cpu_set_online(int cpu, bool online)
{
	char path[64];
	int fd, ret = 0;

	online_path(path, sizeof(path), cpu);
	fd = open(path, O_WRONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	if (write(fd, online ? "1" : "0", 1) != 1)
		ret = -errno;
	close(fd);
	return ret;
}

int cpu_is_online(int cpu)
{
	char path[64], buf[16];
	ssize_t n;

	online_path(path, sizeof(path), cpu);
	n = read_proc_file(path, buf, sizeof(buf));
	if (n == -ENOENT) {
		/* no online file (cpu0 usually): online if it exists */
		snprintf(path, sizeof(path), "/sys/devices/system/cpu/cpu%d", cpu);
		return access(path, F_OK) ? -ENOENT : 1;
	}
	if (n < 0)
		return n;
	return buf[0] == '1';
}

int pin_self(int cpu)
{
	cpu_set_t set;

	CPU_ZERO(&set);
	CPU_SET(cpu, &set);
	return sched_setaffinity(0, sizeof(set), &set) ? -errno : 0;
}

int waitpid_timeout(pid_t pid, int *status, int timeout_ms)
{
	struct timespec ts;
	int64_t deadline, now;
	pid_t ret;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	deadline = (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000 + timeout_ms;
	for (;;) {
		ret = waitpid(pid, status, WNOHANG);
		if (ret == pid)
			return 0;
		if (ret < 0 && errno != EINTR)
			return -errno;
		clock_gettime(CLOCK_MONOTONIC, &ts);
		now = (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
		if (now > deadline)
			return -ETIMEDOUT;
		usleep(5000);
	}
}

int kill_and_reap(pid_t pid, int timeout_ms, int *status)
{
	int st;

	kill(pid, SIGKILL);
	return waitpid_timeout(pid, status ? status : &st, timeout_ms);
}

const char *wstatus_str(int status, char *buf, size_t size)
{
	if (WIFEXITED(status))
		snprintf(buf, size, "exited %d", WEXITSTATUS(status));
	else if (WIFSIGNALED(status))
		snprintf(buf, size, "killed by %s%s",
			 sigabbrev_np(WTERMSIG(status)) ?: "?",
			 WCOREDUMP(status) ? " (core)" : "");
	else
		snprintf(buf, size, "status %#x", status);
	return buf;
}

long env_long(const char *name, long def)
{
	const char *s = getenv(name);
	char *end;
	long v;

	if (!s || !*s)
		return def;
	v = strtol(s, &end, 0);
	return *end ? def : v;
}
