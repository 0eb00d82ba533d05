/* SPDX-License-Identifier: GPL-2.0 */
/*
 * What the kernel-core selftests read about threads and CPUs: a thread's
 * stat line (state, utime + stime, the CPU it last ran on), its comm, the
 * kcore/<cpu> threads left in the system, CPUs and their hotplug switch,
 * and waiting for a child with a bound.
 */
#ifndef SELFTESTS_KCORE_PROC_H
#define SELFTESTS_KCORE_PROC_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

struct task_stat {
	char state;			/* field 3 */
	unsigned long long utime;	/* field 14, in clock ticks */
	unsigned long long stime;	/* field 15 */
	int processor;			/* field 39 */
};

/*
 * Parse /proc/<pid>/task/<tid>/stat (pid 0: /proc/self/task/<tid>/stat).
 * Returns 0 or -errno (-ENOENT: no such thread in that process).
 */
int task_stat_read(pid_t pid, pid_t tid, struct task_stat *st);

/* /proc/<pid>/task/<tid>/comm without the newline (pid 0: self). */
int task_comm_read(pid_t pid, pid_t tid, char *buf, size_t size);

/* "Tgid:" of /proc/<tid>/status, or -errno. */
pid_t task_tgid(pid_t tid);

/*
 * Threads whose comm starts with "kcore/": in process @tgid, or in the
 * whole system when @tgid is 0.  With @list, a description of each
 * ("pid/tid comm state", space separated) is written there.
 */
int kcore_threads_count(pid_t tgid, char *list, size_t size);

/*
 * Wait up to @timeout_ms for kcore_threads_count(@tgid) to reach 0.
 * Returns 0, or the count left (described in @list) at the deadline.
 */
int kcore_threads_wait_gone(pid_t tgid, int timeout_ms, char *list,
			    size_t size);

/* Threads in /proc/self/task. */
int self_threads_count(void);

/*
 * A CPU for a kernel core: the highest CPU in this thread's affinity mask,
 * so that with two or more CPUs the test's own threads can stay off it.
 * -1 if none.
 */
int kcore_pick_cpu(void);
/* Another CPU of the affinity mask than @cpu, or -1. */
int other_cpu(int cpu);

/* nr_cpu_ids: 1 + the highest CPU in /sys/devices/system/cpu/possible. */
int possible_cpus(void);

/* Can @cpu be taken offline (cpuN/online exists and is writable)? */
bool cpu_hotpluggable(int cpu);
/* Write 0/1 to /sys/devices/system/cpu/cpuN/online: 0 or -errno. */
int cpu_set_online(int cpu, bool online);
/* 1 online, 0 offline, -errno. */
int cpu_is_online(int cpu);

/* Pin the calling thread to @cpu: 0 or -errno. */
int pin_self(int cpu);

/*
 * waitpid(@pid) for at most @timeout_ms.  Returns 0 with *status, or
 * -ETIMEDOUT (the child is then still there: kill and reap it), or -errno.
 */
int waitpid_timeout(pid_t pid, int *status, int timeout_ms);

/* Kill @pid with SIGKILL and reap it (bounded by @timeout_ms). */
int kill_and_reap(pid_t pid, int timeout_ms, int *status);

/* A description of a wait status ("exited 3", "killed by SIGSEGV"). */
const char *wstatus_str(int status, char *buf, size_t size);

/* An integer from the environment, or @def if unset or not a number. */
long env_long(const char *name, long def);

#endif /* SELFTESTS_KCORE_PROC_H */
