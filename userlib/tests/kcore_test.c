// SPDX-License-Identifier: GPL-2.0
/*
 * kcore_test CASE: one check of libcorey's kernel-core API; exit status 0
 * if it passed, 1 if it failed, 4 (kselftest's skip) if it needs
 * /dev/corey_kcore and there is none.  "kcore_test --list" prints the
 * cases, "kcore_test --supported" exits 0 if the device opens.  Without an
 * argument it runs every case, each in a child process, and prints TAP
 * (for the VM, where nothing else drives it).
 *
 * Without the module only argument checking and the error message can be
 * checked; with it, everything is a real round trip through a kernel core
 * on the last CPU the test may run on.
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>

#include <corey.h>

#include "expect.h"
#include "cases.h"

static const char missing_message[] =
	"no kernel cores: /dev/corey_kcore is missing; load the corey_kcore "
	"module (insmod corey_kcore.ko) on a kernel with "
	"CONFIG_COREY_USER_WORKER";

/* The case cannot run here: say why on stdout and exit with skip. */
static void need_device(void)
{
	if (corey_kcore_supported())
		return;
	if (!quiet_skip)
		printf("no %s\n", COREY_KCORE_DEVICE);
	exit(KSFT_SKIP);
}

/* The highest CPU this thread may run on: the kernel core's home. */
static int last_cpu(void)
{
	cpu_set_t set;
	int cpu;

	if (sched_getaffinity(0, sizeof(set), &set) < 0)
		return 0;
	for (cpu = CPU_SETSIZE - 1; cpu > 0; cpu--)
		if (CPU_ISSET(cpu, &set))
			break;
	return cpu;
}

static struct corey_kcore *open_kcore(unsigned int nr_rings,
				      unsigned int idle_us)
{
	struct corey_kcore *kc = corey_kcore_open(last_cpu(), nr_rings,
						  idle_us);

	if (!kc) {
		fprintf(stderr, "corey_kcore_open: %s\n",
			corey_strerror(errno));
		failed = true;
	}
	return kc;
}

static struct corey_kcore_ring *attach(struct corey_kcore *kc,
				       unsigned int ring)
{
	struct corey_kcore_ring *r = corey_kcore_attach(kc, ring);

	if (!r) {
		fprintf(stderr, "corey_kcore_attach(%u): %s\n", ring,
			strerror(errno));
		failed = true;
	}
	return r;
}

static bool nop(struct corey_kcore_ring *r)
{
	return corey_kcore_syscall(r, COREY_KCORE_OP_NOP) == 0;
}

static void sleep_ms(long ms)
{
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };

	while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
		;
}

/* Without the device: ENODEV, and a message that says what to load. */
static void missing(void)
{
	if (corey_kcore_supported()) {
		EXPECT(strcmp(corey_strerror(ENODEV), strerror(ENODEV)) == 0);
		return;
	}
	errno = 0;
	EXPECT(corey_kcore_supported() == 0 && errno == ENODEV);
	EXPECT_NULL_ERRNO(corey_kcore_open(0, 1, 0), ENODEV);
	EXPECT(strcmp(corey_strerror(ENODEV), missing_message) == 0);
	/* Other errors keep their usual text. */
	EXPECT(strcmp(corey_strerror(ENOENT), strerror(ENOENT)) == 0);
	EXPECT(strcmp(corey_strerror(EOWNERDEAD), strerror(EOWNERDEAD)) == 0);
	/* corey_strerror() leaves errno alone. */
	errno = EBADF;
	corey_strerror(ENODEV);
	EXPECT(errno == EBADF);
}

/* What is refused before the kernel is asked: the same with or without it. */
static void bad_args(void)
{
	unsigned long args[6] = { 0 };
	struct corey_kcore_result res;

	EXPECT_NULL_ERRNO(corey_kcore_open(-1, 1, 0), EINVAL);
	EXPECT_NULL_ERRNO(corey_kcore_open(0, 0, 0), EINVAL);
	EXPECT_NULL_ERRNO(corey_kcore_open(0, COREY_KCORE_RINGS_MAX + 1, 0),
			  EINVAL);
	EXPECT_ERRNO(corey_kcore_close(NULL), EINVAL);
	EXPECT_ERRNO(corey_kcore_tid(NULL), EINVAL);
	EXPECT_NULL_ERRNO(corey_kcore_attach(NULL, 0), EINVAL);
	EXPECT_ERRNO(corey_kcore_detach(NULL), EINVAL);
	EXPECT_ERRNO(corey_kcore_set_wait(NULL, COREY_KCORE_SPIN), EINVAL);
	EXPECT_ERRNO(corey_kcore_submit(NULL, COREY_KCORE_OP_NOP, args, 0),
		     EINVAL);
	EXPECT_ERRNO(corey_kcore_reap(NULL, &res, 0), EINVAL);
	EXPECT_ERRNO(corey_kcore_syscall(NULL, COREY_KCORE_OP_NOP), EINVAL);
}

/*
 * What the kernel refuses: a CPU that does not exist.  (One outside the
 * caller's cpuset would need a cgroup set up; the affinity mask is not
 * what counts, as for io_uring's SQPOLL.)
 */
static void open_errors(void)
{
	struct corey_kcore *kc;

	need_device();
	EXPECT_NULL_ERRNO(corey_kcore_open(1 << 20, 1, 0), EINVAL);
	kc = open_kcore(COREY_KCORE_RINGS_MAX, 0);
	if (kc)
		EXPECT(corey_kcore_close(kc) == 0);
}

static void *detach_elsewhere(void *r)
{
	return (void *)(long)(corey_kcore_detach(r) == -1 && errno == EINVAL);
}

static void ring_errors(void)
{
	struct corey_kcore_result res;
	struct corey_kcore *kc;
	struct corey_kcore_ring *r;
	pthread_t t;
	void *ok;

	need_device();
	kc = open_kcore(2, 0);
	if (!kc)
		return;
	EXPECT_NULL_ERRNO(corey_kcore_attach(kc, 2), EINVAL);
	r = attach(kc, 0);
	if (!r)
		goto out;
	/* A second handle would post over the first one's slots. */
	EXPECT_NULL_ERRNO(corey_kcore_attach(kc, 0), EBUSY);
	EXPECT_ERRNO(corey_kcore_set_wait(r, 2), EINVAL);
	EXPECT_ERRNO(corey_kcore_reap(r, &res, 2), EINVAL);
	EXPECT_ERRNO(corey_kcore_reap(r, &res, 0), ENOENT);
	EXPECT_ERRNO(corey_kcore_reap(r, &res, COREY_KCORE_NOWAIT), ENOENT);
	/* Numbers that do not fit in op are not truncated into another. */
	EXPECT_ERRNO(corey_kcore_syscall(r, -1L), ENOSYS);
	EXPECT_ERRNO(corey_kcore_syscall(r, 0x10000L + SYS_write, 1, "", 0L),
		     ENOSYS);
	EXPECT(corey_kcore_submit(r, COREY_KCORE_OP_NOP, NULL, 0) == 0);
	EXPECT_ERRNO(corey_kcore_syscall(r, COREY_KCORE_OP_NOP), EBUSY);
	EXPECT(corey_kcore_reap(r, NULL, 0) == 0);
	/* Only the producer may detach; r survives the attempt. */
	EXPECT(pthread_create(&t, NULL, detach_elsewhere, r) == 0);
	EXPECT(pthread_join(t, &ok) == 0 && ok);
	EXPECT(nop(r));
	EXPECT(corey_kcore_detach(r) == 0);
out:
	EXPECT(corey_kcore_close(kc) == 0);
}

static bool proc_comm_is(int tid, int cpu)
{
	char path[64], comm[32], want[32];
	FILE *f;
	bool same;

	snprintf(path, sizeof(path), "/proc/self/task/%d/comm", tid);
	snprintf(want, sizeof(want), "kcore/%d\n", cpu);
	f = fopen(path, "re");
	if (!f)
		return false;
	same = fgets(comm, sizeof(comm), f) && strcmp(comm, want) == 0;
	fclose(f);
	return same;
}

/* Descriptors and memory: calls whose results are not all small numbers. */
static void round_trip_files(struct corey_kcore_ring *r)
{
	char buf[16];
	struct stat st;
	long fd, fd2, addr;
	int memfd;

	fd = corey_kcore_syscall(r, SYS_openat, (long)AT_FDCWD, "/dev/zero",
				 (long)(O_RDONLY | O_CLOEXEC), 0L);
	EXPECT(fd >= 0);
	EXPECT(corey_kcore_syscall(r, SYS_fstat, fd, &st) == 0 &&
	       S_ISCHR(st.st_mode));
	EXPECT_ERRNO(corey_kcore_syscall(r, SYS_read, fd, NULL, 1L), EFAULT);
	fd2 = corey_kcore_syscall(r, SYS_dup, fd);
	EXPECT(fd2 >= 0 && fd2 != fd && fcntl((int)fd2, F_GETFD) == 0);
	EXPECT(corey_kcore_syscall(r, SYS_dup3, fd, fd2, (long)O_CLOEXEC) ==
	       fd2 && fcntl((int)fd2, F_GETFD) == FD_CLOEXEC);
	EXPECT(corey_kcore_syscall(r, SYS_close, fd2) == 0);
	EXPECT(corey_kcore_syscall(r, SYS_close, fd) == 0);
	EXPECT_ERRNO(corey_kcore_syscall(r, SYS_close, fd), EBADF);

	addr = corey_kcore_syscall(r, SYS_mmap, 0L, 4096L,
				   (long)(PROT_READ | PROT_WRITE),
				   (long)(MAP_PRIVATE | MAP_ANONYMOUS), -1L, 0L);
	EXPECT(addr != -1 && addr % 4096 == 0);
	if (addr != -1) {
		*(volatile char *)addr = 1;
		EXPECT(corey_kcore_syscall(r, SYS_munmap, addr, 4096L) == 0);
	}

	memfd = memfd_create("kcore_test", MFD_CLOEXEC);
	EXPECT(memfd >= 0);
	EXPECT(corey_kcore_syscall(r, SYS_pwrite64, (long)memfd, "abc", 3L,
				   100L) == 3);
	EXPECT(corey_kcore_syscall(r, SYS_lseek, (long)memfd, 0L,
				   (long)SEEK_END) == 103);
	EXPECT(corey_kcore_syscall(r, SYS_pread64, (long)memfd, buf, 3L,
				   100L) == 3 && memcmp(buf, "abc", 3) == 0);
	close(memfd);
}

static void round_trip(void)
{
	struct corey_kcore_result res;
	struct corey_kcore *kc;
	struct corey_kcore_ring *r;
	int p[2], tid, cpu = last_cpu();
	char buf[16];

	need_device();
	kc = open_kcore(1, 0);
	if (!kc)
		return;
	tid = corey_kcore_tid(kc);
	EXPECT(tid > 0 && tid != gettid());
	EXPECT(proc_comm_is(tid, cpu));
	r = attach(kc, 0);
	if (!r)
		goto out;

	EXPECT(corey_kcore_submit(r, COREY_KCORE_OP_NOP, NULL, 42) == 0);
	memset(&res, 0xff, sizeof(res));
	EXPECT(corey_kcore_reap(r, &res, 0) == 0);
	EXPECT(res.status == COREY_KCORE_DONE && res.ret == 0 &&
	       res.err == 0 && res.user_data == 42);

	EXPECT(pipe2(p, O_CLOEXEC) == 0);
	EXPECT(corey_kcore_syscall(r, SYS_write, (long)p[1], "hello", 5L) == 5);
	EXPECT(read(p[0], buf, sizeof(buf)) == 5 &&
	       memcmp(buf, "hello", 5) == 0);
	EXPECT(write(p[1], "world", 5) == 5);
	EXPECT(corey_kcore_syscall(r, SYS_read, (long)p[0], buf,
				   (long)sizeof(buf)) == 5 &&
	       memcmp(buf, "world", 5) == 0);
	EXPECT(corey_kcore_syscall(r, SYS_close, (long)p[1]) == 0);
	/* Really closed in the process's table: end of file. */
	EXPECT(read(p[0], buf, 1) == 0);
	close(p[0]);

	/* Off the allowlist: not made, ENOSYS, whichever way it is asked. */
	EXPECT_ERRNO(corey_kcore_syscall(r, SYS_getppid), ENOSYS);
	EXPECT(corey_kcore_submit(r, SYS_getppid, NULL, 7) == 0);
	EXPECT(corey_kcore_reap(r, &res, 0) == 0);
	EXPECT(res.status == COREY_KCORE_BADOP && res.ret == -1 &&
	       res.err == ENOSYS && res.user_data == 7);

	round_trip_files(r);
	EXPECT(corey_kcore_detach(r) == 0);
out:
	EXPECT(corey_kcore_close(kc) == 0);
}

static int blocked_read_fd = -1;

/* Feed the kernel core's blocked read() after the signal below. */
static void *write_later(void *arg)
{
	(void)arg;
	sleep_ms(150);
	return (void *)(long)(write(blocked_read_fd, "x", 1) == 1);
}

static atomic_bool stop_signals;

/*
 * Keep signalling: one that arrives just before the thread goes to sleep
 * in the kernel runs its handler without interrupting anything.
 */
static void *signal_later(void *thread)
{
	while (!stop_signals) {
		sleep_ms(50);
		pthread_kill(*(pthread_t *)thread, SIGUSR1);
	}
	return NULL;
}

static void on_signal(int sig)
{
	(void)sig;
}

static void block(void)
{
	unsigned long args[6] = { 0 };
	struct corey_kcore_result res;
	struct sigaction sa = { .sa_handler = on_signal };
	struct corey_kcore *kc;
	struct corey_kcore_ring *r;
	pthread_t t, w, self = pthread_self();
	char buf[4];
	void *ok;
	int p[2];

	need_device();
	kc = open_kcore(1, 0);
	if (!kc)
		return;
	r = attach(kc, 0);
	if (!r)
		goto out;
	EXPECT(corey_kcore_set_wait(r, COREY_KCORE_BLOCK) == 0);
	EXPECT(nop(r));
	EXPECT(pipe2(p, O_CLOEXEC) == 0);
	EXPECT(corey_kcore_syscall(r, SYS_write, (long)p[1], "ab", 2L) == 2);
	EXPECT(corey_kcore_syscall(r, SYS_read, (long)p[0], buf, 2L) == 2);

	/* The kernel core blocks in read(); we sleep until it returns. */
	args[0] = (unsigned long)p[0];
	args[1] = (unsigned long)buf;
	args[2] = 1;
	blocked_read_fd = p[1];
	EXPECT(corey_kcore_submit(r, SYS_read, args, 1) == 0);
	EXPECT(pthread_create(&t, NULL, write_later, NULL) == 0);
	EXPECT(corey_kcore_reap(r, &res, 0) == 0);
	EXPECT(res.ret == 1 && res.user_data == 1);
	EXPECT(pthread_join(t, &ok) == 0 && ok);

	/* A signal ends a blocking reap with EINTR; the request stays. */
	EXPECT(sigaction(SIGUSR1, &sa, NULL) == 0);
	EXPECT(corey_kcore_submit(r, SYS_read, args, 2) == 0);
	stop_signals = false;
	EXPECT(pthread_create(&t, NULL, signal_later, &self) == 0);
	EXPECT_ERRNO(corey_kcore_reap(r, &res, 0), EINTR);
	stop_signals = true;
	EXPECT(pthread_join(t, NULL) == 0);
	EXPECT_ERRNO(corey_kcore_reap(r, &res, COREY_KCORE_NOWAIT), EAGAIN);
	EXPECT(write(p[1], "y", 1) == 1);
	EXPECT(corey_kcore_reap(r, &res, 0) == 0);
	EXPECT(res.ret == 1 && res.user_data == 2 && buf[0] == 'y');

	/* ... but not a synchronous call, which is made anyway. */
	stop_signals = false;
	EXPECT(pthread_create(&t, NULL, signal_later, &self) == 0);
	EXPECT(pthread_create(&w, NULL, write_later, NULL) == 0);
	EXPECT(corey_kcore_syscall(r, SYS_read, (long)p[0], buf, 1L) == 1);
	stop_signals = true;
	EXPECT(pthread_join(w, &ok) == 0 && ok);
	EXPECT(pthread_join(t, NULL) == 0);
	close(p[0]);
	close(p[1]);
	EXPECT(corey_kcore_detach(r) == 0);
out:
	EXPECT(corey_kcore_close(kc) == 0);
}

/* Reap whatever is done, in order; false if user_data came out of order. */
static bool reap_all(struct corey_kcore_ring *r, unsigned long *next,
		     unsigned long end)
{
	struct corey_kcore_result res;

	while (*next < end) {
		if (corey_kcore_reap(r, &res, COREY_KCORE_NOWAIT) < 0) {
			if (errno != EAGAIN)
				return false;
			continue;
		}
		if (res.user_data != *next || res.ret != 0 ||
		    res.status != COREY_KCORE_DONE)
			return false;
		++*next;
	}
	return true;
}

static void batch(void)
{
	struct corey_kcore_result res;
	struct corey_kcore *kc;
	struct corey_kcore_ring *r;
	unsigned long i, posted, reaped, round, n;
	char buf[COREY_KCORE_RING_SLOTS], want[COREY_KCORE_RING_SLOTS];
	unsigned long args[6] = { 0 };
	int p[2];
	bool in_order = true;

	need_device();
	kc = open_kcore(1, 0);
	if (!kc)
		return;
	r = attach(kc, 0);
	if (!r)
		goto out;
	for (i = 0; i < COREY_KCORE_RING_SLOTS; i++)
		EXPECT(corey_kcore_submit(r, COREY_KCORE_OP_NOP, NULL, i) == 0);
	EXPECT_ERRNO(corey_kcore_submit(r, COREY_KCORE_OP_NOP, NULL, i),
		     EAGAIN);
	for (i = 0; i < COREY_KCORE_RING_SLOTS; i++) {
		EXPECT(corey_kcore_reap(r, &res, 0) == 0);
		in_order &= res.user_data == i && res.ret == 0;
	}
	EXPECT(in_order);
	EXPECT_ERRNO(corey_kcore_reap(r, &res, 0), ENOENT);

	/* Batches of every size, so that laps end all over the ring. */
	posted = reaped = 0;
	for (round = 0; round < 200; round++) {
		n = 1 + (round * 37) % COREY_KCORE_RING_SLOTS;
		for (i = 0; i < n; i++)
			EXPECT(corey_kcore_submit(r, COREY_KCORE_OP_NOP, NULL,
						  posted++) == 0);
		EXPECT(reap_all(r, &reaped, posted));
	}

	/* Served in posting order: 64 one-byte writes arrive in order. */
	EXPECT(pipe2(p, O_CLOEXEC) == 0);
	for (i = 0; i < COREY_KCORE_RING_SLOTS; i++) {
		want[i] = (char)('a' + i % 26);
		args[0] = (unsigned long)p[1];
		args[1] = (unsigned long)&want[i];
		args[2] = 1;
		EXPECT(corey_kcore_submit(r, SYS_write, args, i) == 0);
	}
	for (i = 0; i < COREY_KCORE_RING_SLOTS; i++)
		EXPECT(corey_kcore_reap(r, &res, 0) == 0 && res.ret == 1);
	EXPECT(read(p[0], buf, sizeof(buf)) == (ssize_t)sizeof(buf) &&
	       memcmp(buf, want, sizeof(buf)) == 0);
	close(p[0]);
	close(p[1]);
	EXPECT(corey_kcore_detach(r) == 0);
out:
	EXPECT(corey_kcore_close(kc) == 0);
}

struct producer {
	struct corey_kcore *kc;
	unsigned int ring;
	unsigned long calls;
	/*
	 * -1: detach at the end.  Else exit leaving requests posted: a read
	 * of this descriptor, which holds the kernel core until someone
	 * writes to it, and NOPs behind it.
	 */
	int leave_fd;
	bool ok;
};

#define LEFT_BEHIND 4

/* Attach, make calls, and detach or leave the ring as a dead producer. */
static void *produce(void *arg)
{
	struct producer *p = arg;
	struct corey_kcore_ring *r = corey_kcore_attach(p->kc, p->ring);
	static char buf[1];
	unsigned long args[6] = { 0 }, i;

	if (!r)
		return NULL;
	p->ok = true;
	for (i = 0; i < p->calls; i++)
		p->ok &= nop(r);
	if (p->leave_fd < 0) {
		p->ok &= corey_kcore_detach(r) == 0;
		return NULL;
	}
	args[0] = (unsigned long)p->leave_fd;
	args[1] = (unsigned long)buf;
	args[2] = 1;
	p->ok &= corey_kcore_submit(r, SYS_read, args, 1000) == 0;
	for (i = 1; i < LEFT_BEHIND; i++)
		p->ok &= corey_kcore_submit(r, COREY_KCORE_OP_NOP, NULL,
					    1000 + i) == 0;
	return NULL;
}

/*
 * The kernel may still see an exited thread alive for a moment after
 * pthread_join(): retry EBUSY for a while.
 */
static struct corey_kcore_ring *take_over(struct corey_kcore *kc,
					  unsigned int ring)
{
	struct corey_kcore_ring *r = NULL;
	int tries;

	for (tries = 0; tries < 1000; tries++) {
		r = corey_kcore_attach(kc, ring);
		if (r || errno != EBUSY)
			break;
		sleep_ms(1);
	}
	if (!r) {
		fprintf(stderr, "taking ring %u over: %s\n", ring,
			strerror(errno));
		failed = true;
	}
	return r;
}

static void reattach(void)
{
	struct producer other = { .calls = 5, .leave_fd = -1 };
	struct corey_kcore_result res;
	struct corey_kcore *kc;
	struct corey_kcore_ring *r;
	unsigned long i, reaped;
	pthread_t t;
	int p[2];

	need_device();
	kc = open_kcore(2, 0);
	if (!kc)
		return;
	other.kc = kc;

	/* Detach and attach again: posting resumes where it stopped. */
	r = attach(kc, 0);
	if (!r)
		goto out;
	for (i = 0; i < 10; i++)
		EXPECT(nop(r));
	EXPECT(corey_kcore_detach(r) == 0);
	r = attach(kc, 0);
	if (!r)
		goto out;
	for (i = 0; i < 70; i++)
		EXPECT(nop(r));

	/* A ring with a live producer is not for the taking. */
	other.ring = 0;
	EXPECT(pthread_create(&t, NULL, produce, &other) == 0);
	EXPECT(pthread_join(t, NULL) == 0);
	EXPECT(!other.ok);
	EXPECT(corey_kcore_detach(r) == 0);

	/*
	 * A producer that exits leaves its ring to the next, and requests
	 * that the kernel core has not got to yet.
	 */
	EXPECT(pipe2(p, O_CLOEXEC) == 0);
	other.ring = 1;
	other.leave_fd = p[0];
	EXPECT(pthread_create(&t, NULL, produce, &other) == 0);
	EXPECT(pthread_join(t, NULL) == 0);
	EXPECT(other.ok);
	r = take_over(kc, 1);
	if (!r)
		goto out;
	/* Nothing of ours is outstanding... */
	EXPECT_ERRNO(corey_kcore_reap(r, &res, COREY_KCORE_NOWAIT), ENOENT);
	/*
	 * ... and there is room for all but theirs: the read holds the
	 * kernel core, and the NOPs wait behind it.  (Unless the kernel core
	 * got to the read only once its producer was exiting: then it handed
	 * all of them back at once, unmade, and the ring is free.)
	 */
	for (i = 0; i < COREY_KCORE_RING_SLOTS; i++)
		if (corey_kcore_submit(r, COREY_KCORE_OP_NOP, NULL, i) < 0)
			break;
	EXPECT(errno == EAGAIN || i == COREY_KCORE_RING_SLOTS);
	EXPECT(i == COREY_KCORE_RING_SLOTS - LEFT_BEHIND ||
	       i == COREY_KCORE_RING_SLOTS);
	/* Theirs are served first; their results are not ours to reap. */
	EXPECT(write(p[1], "z", 1) == 1);
	reaped = 0;
	for (; i < 3 * COREY_KCORE_RING_SLOTS; i++) {
		while (corey_kcore_submit(r, COREY_KCORE_OP_NOP, NULL, i) < 0) {
			EXPECT(errno == EAGAIN);
			EXPECT(corey_kcore_reap(r, &res, 0) == 0 &&
			       res.user_data == reaped++);
		}
	}
	while (corey_kcore_reap(r, &res, 0) == 0)
		EXPECT(res.user_data == reaped++);
	EXPECT(errno == ENOENT && reaped == i);
	EXPECT(corey_kcore_detach(r) == 0);
	close(p[0]);
	close(p[1]);
out:
	EXPECT(corey_kcore_close(kc) == 0);
}

/* Two producers at once, each on its own ring. */
static void two_rings(void)
{
	struct producer p[2] = {
		{ .ring = 0, .calls = 20000, .leave_fd = -1 },
		{ .ring = 1, .calls = 20000, .leave_fd = -1 },
	};
	struct corey_kcore *kc;
	pthread_t t[2];
	int i;

	need_device();
	kc = open_kcore(2, 0);
	if (!kc)
		return;
	for (i = 0; i < 2; i++) {
		p[i].kc = kc;
		EXPECT(pthread_create(&t[i], NULL, produce, &p[i]) == 0);
	}
	for (i = 0; i < 2; i++) {
		EXPECT(pthread_join(t[i], NULL) == 0);
		EXPECT(p[i].ok);
	}
	EXPECT(corey_kcore_close(kc) == 0);
}

static volatile sig_atomic_t sigpipes;

static void count_sigpipe(int sig)
{
	(void)sig;
	sigpipes++;
}

/* A write to a pipe nobody reads: EPIPE, and SIGPIPE in this thread. */
static void check_sigpipe(struct corey_kcore_ring *r)
{
	struct sigaction sa = { .sa_handler = count_sigpipe };
	int p[2];

	EXPECT(pipe2(p, O_CLOEXEC) == 0);
	close(p[0]);
	EXPECT(sigaction(SIGPIPE, &sa, NULL) == 0);
	sigpipes = 0;
	EXPECT_ERRNO(corey_kcore_syscall(r, SYS_write, (long)p[1], "x", 1L),
		     EPIPE);
	EXPECT(sigpipes == 1);
	sa.sa_handler = SIG_IGN;
	EXPECT(sigaction(SIGPIPE, &sa, NULL) == 0);
	EXPECT_ERRNO(corey_kcore_syscall(r, SYS_write, (long)p[1], "x", 1L),
		     EPIPE);
	EXPECT(sigpipes == 1);
	close(p[1]);
}

static void sigpipe(void)
{
	struct corey_kcore *kc;
	struct corey_kcore_ring *r;

	need_device();
	kc = open_kcore(1, 0);
	if (!kc)
		return;
	r = attach(kc, 0);
	if (r) {
		check_sigpipe(r);
		EXPECT(corey_kcore_detach(r) == 0);
	}
	EXPECT(corey_kcore_close(kc) == 0);
}

/* The kernel core sleeps after idle_us; every post must wake it. */
static void idle_wake(void)
{
	struct corey_kcore *kc;
	struct corey_kcore_ring *r;
	int i;

	need_device();
	kc = open_kcore(1, 1000);
	if (!kc)
		return;
	r = attach(kc, 0);
	if (r) {
		for (i = 0; i < 20; i++) {
			sleep_ms(5);
			EXPECT(nop(r));
		}
		EXPECT(corey_kcore_set_wait(r, COREY_KCORE_BLOCK) == 0);
		for (i = 0; i < 5; i++) {
			sleep_ms(5);
			EXPECT(nop(r));
		}
		EXPECT(corey_kcore_detach(r) == 0);
	}
	EXPECT(corey_kcore_close(kc) == 0);
}

/* Body of fallback(), in a child: the filter stays there. */
static void fallback_child(void)
{
	struct sock_filter allow = BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW);
	struct sock_fprog prog = { .len = 1, .filter = &allow };
	unsigned long args[6] = { 0 };
	struct corey_kcore_result res;
	struct corey_kcore *kc;
	struct corey_kcore_ring *r;
	char buf[8];
	int p[2];

	kc = open_kcore(1, 0);
	if (!kc)
		return;
	r = attach(kc, 0);
	if (!r)
		goto out;
	/* Any filter on the producer alone: the kernel core hands back. */
	EXPECT(prctl(PR_SET_NO_NEW_PRIVS, 1L, 0L, 0L, 0L) == 0);
	EXPECT(syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, 0, &prog) == 0);
	EXPECT(pipe2(p, O_CLOEXEC) == 0);
	args[0] = (unsigned long)p[1];
	args[1] = (unsigned long)"hello";
	args[2] = 5;
	EXPECT(corey_kcore_submit(r, SYS_write, args, 9) == 0);
	EXPECT(corey_kcore_reap(r, &res, 0) == 0);
	EXPECT(res.status == COREY_KCORE_FALLBACK && res.ret == 5 &&
	       res.err == 0 && res.user_data == 9);
	EXPECT(read(p[0], buf, sizeof(buf)) == 5 &&
	       memcmp(buf, "hello", 5) == 0);
	EXPECT_ERRNO(corey_kcore_syscall(r, SYS_close, 1000000L), EBADF);
	EXPECT(nop(r));
	close(p[0]);
	close(p[1]);
	/* Made here, so the kernel itself raises SIGPIPE here. */
	check_sigpipe(r);
	EXPECT(corey_kcore_detach(r) == 0);
out:
	EXPECT(corey_kcore_close(kc) == 0);
}

static void fallback(void)
{
	int status;
	pid_t pid;

	need_device();
	pid = fork();
	if (pid == 0) {
		fallback_child();
		_exit(failed ? 1 : 0);
	}
	EXPECT(pid > 0 && waitpid(pid, &status, 0) == pid &&
	       WIFEXITED(status) && WEXITSTATUS(status) == 0);
}

/* A child of fork() has no rings; it frees its copies, the parent goes on. */
static void forked(void)
{
	struct corey_kcore *kc;
	struct corey_kcore_ring *r;
	int status;
	pid_t pid;

	need_device();
	kc = open_kcore(1, 0);
	if (!kc)
		return;
	r = attach(kc, 0);
	if (!r)
		goto out;
	EXPECT(nop(r));
	pid = fork();
	if (pid == 0)
		_exit(corey_kcore_detach(r) == 0 && corey_kcore_close(kc) == 0 ?
		      0 : 1);
	EXPECT(pid > 0 && waitpid(pid, &status, 0) == pid &&
	       WIFEXITED(status) && WEXITSTATUS(status) == 0);
	EXPECT(nop(r));
	EXPECT(corey_kcore_detach(r) == 0);
out:
	EXPECT(corey_kcore_close(kc) == 0);
}

static const struct test_case cases[] = {
	{ "missing", missing },
	{ "bad_args", bad_args },
	{ "open_errors", open_errors },
	{ "ring_errors", ring_errors },
	{ "round_trip", round_trip },
	{ "block", block },
	{ "batch", batch },
	{ "reattach", reattach },
	{ "two_rings", two_rings },
	{ "sigpipe", sigpipe },
	{ "idle_wake", idle_wake },
	{ "fallback", fallback },
	{ "fork", forked },
};

static bool supported(void)
{
	return corey_kcore_supported() == 1;
}

int main(int argc, char **argv)
{
	const struct test_suite suite = {
		.cases = cases,
		.nr_cases = sizeof(cases) / sizeof(*cases),
		.skip_why = "no " COREY_KCORE_DEVICE,
		.supported = supported,
	};

	return run_suite(&suite, argc, argv);
}
