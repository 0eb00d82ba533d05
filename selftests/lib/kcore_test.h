/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Common ground of the kcore_*_test.c selftests: the harness with the
 * errno asserts of shares_test.h, the raw device helpers, the /proc and
 * CPU helpers, and a main() that makes /dev/corey_kcore available (loading
 * /lib/modules/corey/corey_kcore.ko if needed) or skips the whole binary on
 * a kernel without kernel cores.
 *
 * Include this instead of kselftest_harness.h.
 */
#ifndef SELFTESTS_KCORE_TEST_H
#define SELFTESTS_KCORE_TEST_H

#include <signal.h>
#include <stdio.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include "shares_test.h"	/* harness, ASSERT_ERRNO, ASSERT_OK, worker */
#include "kcore_proc.h"
#include "kcore_raw.h"

/* A user address that is never mapped here, and a kernel one. */
#define KCORE_KERNEL_ADDR	0xffffffff81000000UL

/* Status names for messages. */
static inline const char *kcore_status_name(unsigned int status)
{
	switch (status) {
	case 0: return "none";
	case COREY_KCORE_DONE: return "DONE";
	case COREY_KCORE_FALLBACK: return "FALLBACK";
	case COREY_KCORE_BADOP: return "BADOP";
	}
	return "?";
}

/*
 * Run once in main(), before the harness: exits KSFT_SKIP without kernel
 * cores, bails out if the module exists but cannot be loaded.
 */
static inline void kcore_require(void)
{
	const char *why = NULL;
	int ret = kcore_probe(&why);

	if (ret == 1)
		return;
	ksft_print_header();
	if (ret == 0)
		ksft_exit_skip("%s\n", why);
	ksft_exit_fail_msg("%s: %s\n", why, strerrorname_np(-ret) ?: "?");
}

#define COREY_KCORE_TEST_MAIN						\
	int main(int argc, char **argv)					\
	{								\
		kcore_require();					\
		return test_harness_run(argc, argv);			\
	}

/*
 * A user page nothing can be read from or written to: PROT_NONE, and kept
 * mapped so that no later mmap (a thread's stack, a ring) can land there,
 * as it could in a hole left by munmap.  For system calls it is what an
 * unmapped address is: EFAULT.
 */
static inline void *kcore_unmapped_page(void)
{
	static void *page;

	if (!page) {
		void *p = mmap(NULL, 4096, PROT_NONE,
			       MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE,
			       -1, 0);

		if (p == MAP_FAILED)
			return NULL;
		page = p;
	}
	return page;
}

/* Wait for the kernel core @tid of this process to be gone (bounded). */
static inline bool kcore_thread_gone(pid_t tid, int timeout_ms)
{
	int64_t deadline = kcore_now_ms() + timeout_ms;
	char path[64];

	snprintf(path, sizeof(path), "/proc/self/task/%d", tid);
	while (access(path, F_OK) == 0) {
		if (kcore_now_ms() > deadline)
			return false;
		usleep(5000);
	}
	return true;
}

/*
 * Running a case in a child process: the child writes what failed into a
 * shared page and exits 1; the parent waits with a bound, kills a child
 * that hangs, and logs the message.
 */
struct child_report {
	char msg[1024];
};

static inline struct child_report *child_report_new(void)
{
	struct child_report *rep = mmap(NULL, sizeof(*rep),
					PROT_READ | PROT_WRITE,
					MAP_SHARED | MAP_ANONYMOUS, -1, 0);

	if (rep == MAP_FAILED)
		return NULL;
	rep->msg[0] = '\0';
	return rep;
}

#define CHILD_FAIL(rep, fmt, ...) do {					\
	snprintf((rep)->msg, sizeof((rep)->msg), "line %d: " fmt,	\
		 __LINE__, ##__VA_ARGS__);				\
	_exit(1);							\
} while (0)

/* In a child: @cond must hold, else report it (and errno) and exit 1. */
#define CHILD_CHECK(rep, cond, fmt, ...) do {				\
	if (!(cond)) {							\
		int __e = errno;					\
		CHILD_FAIL(rep, "%s failed (errno %s): " fmt, #cond,	\
			   strerrorname_np(__e) ?: "0", ##__VA_ARGS__);	\
	}								\
} while (0)

/*
 * Fork, run @fn(@rep, @arg) in the child and _exit with its return; wait
 * at most @timeout_ms.  Returns 0 with *status, or -ETIMEDOUT (the child
 * was killed and reaped; *status is that of the kill) or -errno.
 */
static inline int run_in_child(int (*fn)(struct child_report *, void *),
			       void *arg, struct child_report *rep,
			       int timeout_ms, int *status)
{
	pid_t pid;
	int ret;

	rep->msg[0] = '\0';
	fflush(stdout);
	fflush(stderr);
	pid = fork();
	if (pid < 0)
		return -errno;
	if (pid == 0)
		_exit(fn(rep, arg));
	ret = waitpid_timeout(pid, status, timeout_ms);
	if (ret == -ETIMEDOUT)
		kill_and_reap(pid, 10000, status);
	return ret;
}

/* In a test: the child ran in time and exited 0. */
#define ASSERT_CHILD_OK(_ret, _status, _rep) do {			\
	char __ws[64];							\
									\
	ASSERT_EQ(0, (_ret)) TH_LOG("child: %s (hung: killed)",		\
				    strerrorname_np(-(_ret)) ?: "?");	\
	ASSERT_TRUE(WIFEXITED(_status) && WEXITSTATUS(_status) == 0)	\
		TH_LOG("child %s: %s",					\
		       wstatus_str((_status), __ws, sizeof(__ws)),	\
		       (_rep)->msg[0] ? (_rep)->msg : "(no message)");	\
} while (0)

#endif /* SELFTESTS_KCORE_TEST_H */
