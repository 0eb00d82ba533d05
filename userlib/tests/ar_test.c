// SPDX-License-Identifier: GPL-2.0
/*
 * ar_test CASE: one check of libcorey's address ranges and cfork; exit
 * status 0 if it passed, 1 if it failed, 4 (kselftest's skip) if it needs
 * address ranges and the kernel has none.  "ar_test --list" prints the
 * cases, "ar_test --supported" exits 0 if the kernel has address ranges.
 * Without an argument it runs every case, each in a child process, and
 * prints TAP (for the VM, where nothing else drives it).
 *
 * cfork needs no address ranges: its cases (cfork_*, cwait_*) run on
 * every kernel.  The ar_* cases need CONFIG_COREY_ADDR_RANGE, except for
 * argument checks the library makes before asking the kernel.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/wait.h>

#include <corey.h>

#include "expect.h"
#include "cases.h"
#define G COREY_ADDR_RANGE_GRANULE

#ifndef SYS_pidfd_open
#define SYS_pidfd_open 434
#endif

static const char missing_message[] =
	"this kernel has no address ranges (CONFIG_COREY_ADDR_RANGE); "
	"apply the Corey series";

static long page_size;

/* The case needs address ranges: say why not on stdout and skip. */
static void need_ar(void)
{
	if (corey_ar_supported() == 1)
		return;
	if (!quiet_skip)
		printf("no address ranges (CONFIG_COREY_ADDR_RANGE)\n");
	exit(KSFT_SKIP);
}

/* The call returned MAP_FAILED with exactly this errno. */
#define EXPECT_MAP_ERRNO(call, err)					\
	do {								\
		void *p_;						\
		errno = 0;						\
		p_ = (call);						\
		if (p_ != MAP_FAILED || errno != (err)) {		\
			fprintf(stderr, "%s:%d: %s returned %p (%s), "	\
				"expected MAP_FAILED (%s)\n", __FILE__,	\
				__LINE__, #call, p_, strerror(errno),	\
				strerror(err));				\
			failed = true;					\
		}							\
	} while (0)

/* Whether every page of [p, p + bytes) is mapped (mincore: ENOMEM if not). */
static bool mapped(const void *p, size_t bytes)
{
	unsigned char vec[G / 4096];
	size_t off;

	for (off = 0; off < bytes; off += G) {
		size_t len = bytes - off < G ? bytes - off : G;

		if (mincore((void *)((uintptr_t)p + off), len, vec) < 0)
			return false;
	}
	return true;
}

/*
 * A free, 2 MiB aligned stretch of address space of bytes, held by a
 * PROT_NONE mapping until corey_ar_map(MAP_FIXED) takes it over.
 */
static void *reserve(size_t bytes)
{
	char *p = mmap(NULL, bytes + G, PROT_NONE,
		       MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	uintptr_t aligned;

	if (p == MAP_FAILED) {
		perror("mmap");
		exit(1);
	}
	aligned = ((uintptr_t)p + G - 1) & ~(uintptr_t)(G - 1);
	return (void *)aligned;
}

static int create(size_t bytes)
{
	int fd = corey_ar_create("ar_test", bytes, 0);

	if (fd < 0) {
		fprintf(stderr, "corey_ar_create: %s\n", corey_strerror(errno));
		exit(1);
	}
	return fd;
}

static void *map(int fd, void *addr, size_t bytes, off_t offset)
{
	void *p = corey_ar_map(fd, addr, bytes, offset);

	if (p == MAP_FAILED) {
		fprintf(stderr, "corey_ar_map(%p, %zu, %lld): %s\n", addr, bytes,
			(long long)offset, corey_strerror(errno));
		exit(1);
	}
	return p;
}

/* cfork, then cwait: the child's wait status, or -1. */
static int run(const struct corey_cfork_attr *attr, int (*fn)(void *),
	       void *arg)
{
	int pidfd = corey_cfork(attr, fn, arg), status;

	if (pidfd < 0) {
		/*
		 * strerror: on a kernel without descriptor shares,
		 * corey_strerror(EINVAL) blames them.
		 */
		fprintf(stderr, "corey_cfork: %s\n", strerror(errno));
		return -1;
	}
	if (corey_cwait(pidfd, &status) < 0) {
		fprintf(stderr, "corey_cwait: %s\n", strerror(errno));
		return -1;
	}
	return status;
}

static bool exited_0(int status)
{
	return status != -1 && WIFEXITED(status) && WEXITSTATUS(status) == 0;
}

/* No child is left, not even a zombie. */
static bool no_children(void)
{
	return waitpid(-1, NULL, WNOHANG) < 0 && errno == ECHILD;
}

/* The pid behind a pidfd, from /proc/self/fdinfo. */
static pid_t pidfd_pid(int pidfd)
{
	char path[64], line[128];
	FILE *f;
	int pid = -1;

	snprintf(path, sizeof(path), "/proc/self/fdinfo/%d", pidfd);
	f = fopen(path, "r");
	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "Pid: %d", &pid) == 1)
			break;
	fclose(f);
	return pid;
}

static const struct corey_cfork_attr any_cpu = { .cpu = -1 };

/* ---- cfork, on every kernel ---- */

static int return_arg(void *arg)
{
	return (int)(intptr_t)arg;
}

static int raise_arg(void *arg)
{
	raise((int)(intptr_t)arg);
	return 99;
}

/* The child's return value (its low byte) and its death by signal. */
static void cfork_exit(void)
{
	int pidfd, status;

	status = run(&any_cpu, return_arg, (void *)(intptr_t)42);
	EXPECT(status != -1 && WIFEXITED(status) && WEXITSTATUS(status) == 42);
	status = run(&any_cpu, return_arg, (void *)(intptr_t)(256 + 7));
	EXPECT(status != -1 && WIFEXITED(status) && WEXITSTATUS(status) == 7);
	status = run(&any_cpu, return_arg, (void *)(intptr_t)-1);
	EXPECT(status != -1 && WIFEXITED(status) &&
	       WEXITSTATUS(status) == 255);
	status = run(&any_cpu, raise_arg, (void *)(intptr_t)SIGTERM);
	EXPECT(status != -1 && WIFSIGNALED(status) &&
	       WTERMSIG(status) == SIGTERM && !WCOREDUMP(status));
	/* status may be NULL. */
	pidfd = corey_cfork(&any_cpu, return_arg, NULL);
	EXPECT(pidfd >= 0);
	if (pidfd >= 0)
		EXPECT(corey_cwait(pidfd, NULL) == 0);
	EXPECT(no_children());
}

static int check_cpu(void *arg)
{
	int cpu = (int)(intptr_t)arg;
	cpu_set_t set;

	EXPECT(sched_getcpu() == cpu);
	EXPECT(sched_getaffinity(0, sizeof(set), &set) == 0);
	EXPECT(CPU_COUNT(&set) == 1 && CPU_ISSET(cpu, &set));
	return failed;
}

static int check_mask(void *arg)
{
	const cpu_set_t *parent = arg;
	cpu_set_t set;

	EXPECT(sched_getaffinity(0, sizeof(set), &set) == 0);
	EXPECT(CPU_EQUAL(&set, parent));
	return failed;
}

/* The child runs on the CPU it was given; with -1, where the caller may. */
static void cfork_cpu(void)
{
	struct corey_cfork_attr attr = { .cpu = -1 };
	cpu_set_t set;
	int cpu, tried = 0;

	EXPECT(sched_getaffinity(0, sizeof(set), &set) == 0);
	for (cpu = 0; cpu < CPU_SETSIZE && tried < 8; cpu++) {
		if (!CPU_ISSET(cpu, &set))
			continue;
		attr.cpu = cpu;
		EXPECT(exited_0(run(&attr, check_cpu, (void *)(intptr_t)cpu)));
		tried++;
	}
	EXPECT(tried > 0);
	attr.cpu = -1;
	EXPECT(exited_0(run(&attr, check_mask, &set)));
}

static int never_run(void *arg)
{
	(void)arg;
	_exit(66);
}

/* A CPU the caller may not run on, or -1 if it may run on all of them. */
/* A CPU number the machine does not have: the child cannot run there. */
static int absent_cpu(void)
{
	long n = sysconf(_SC_NPROCESSORS_CONF);

	return n > 0 && n < CPU_SETSIZE ? (int)n : -1;
}

/* Every bad argument is EINVAL, and no child is started for it. */
static void cfork_einval(void)
{
	struct corey_cfork_attr attr = { .cpu = -1 };
	struct corey_cfork_range range;
	int local, cpu;

	EXPECT_ERRNO(corey_cfork(NULL, never_run, NULL), EINVAL);
	EXPECT_ERRNO(corey_cfork(&attr, NULL, NULL), EINVAL);
	attr.flags = 1;
	EXPECT_ERRNO(corey_cfork(&attr, never_run, NULL), EINVAL);
	attr.flags = 0;
	attr.cpu = -2;
	EXPECT_ERRNO(corey_cfork(&attr, never_run, NULL), EINVAL);
	attr.cpu = INT_MAX;
	EXPECT_ERRNO(corey_cfork(&attr, never_run, NULL), EINVAL);
	attr.cpu = 1 << 20;
	EXPECT_ERRNO(corey_cfork(&attr, never_run, NULL), EINVAL);
	/* sched_setaffinity() refuses it in the child, which is reaped. */
	cpu = absent_cpu();
	if (cpu >= 0) {
		attr.cpu = cpu;
		EXPECT_ERRNO(corey_cfork(&attr, never_run, NULL), EINVAL);
	}
	attr.cpu = -1;
	attr.nr_ranges = 1;
	EXPECT_ERRNO(corey_cfork(&attr, never_run, NULL), EINVAL);
	/* Ranges that corey_ar_map() did not map. */
	attr.ranges = &range;
	range.addr = (void *)((uintptr_t)&local & ~(uintptr_t)(G - 1));
	range.bytes = G;
	EXPECT_ERRNO(corey_cfork(&attr, never_run, NULL), EINVAL);
	range.bytes = 0;
	EXPECT_ERRNO(corey_cfork(&attr, never_run, NULL), EINVAL);
	range.addr = (void *)((uintptr_t)range.addr + 4096);
	range.bytes = G;
	EXPECT_ERRNO(corey_cfork(&attr, never_run, NULL), EINVAL);
	EXPECT(no_children());
}

static int report_pid(void *arg)
{
	int fd = *(int *)arg;
	pid_t pid = getpid();

	return write(fd, &pid, sizeof(pid)) == sizeof(pid) ? 0 : 1;
}

/*
 * The pidfd is close-on-exec and names the child; the child has the
 * caller's descriptors (it wrote its pid on the caller's pipe).
 */
static void cfork_pidfd(void)
{
	int p[2], pidfd, status, flags;
	pid_t pid = 0;

	EXPECT(pipe(p) == 0);
	pidfd = corey_cfork(&any_cpu, report_pid, &p[1]);
	EXPECT(pidfd >= 0);
	if (pidfd < 0)
		return;
	flags = fcntl(pidfd, F_GETFD);
	EXPECT(flags >= 0 && (flags & FD_CLOEXEC));
	EXPECT(read(p[0], &pid, sizeof(pid)) == sizeof(pid));
	EXPECT(pid > 0 && pidfd_pid(pidfd) == pid);
	EXPECT(corey_cwait(pidfd, &status) == 0 && exited_0(status));
	/* corey_cwait() closed it. */
	EXPECT_ERRNO(fcntl(pidfd, F_GETFD), EBADF);
	close(p[0]);
	close(p[1]);
}

static int value = 1;

static int write_global(void *arg)
{
	(void)arg;
	value = 2;
	return value == 2 ? 0 : 1;
}

/* The child's memory is its own, as fork(2) gives it. */
static void cfork_private(void)
{
	EXPECT(exited_0(run(&any_cpu, write_global, NULL)));
	EXPECT(value == 1);
}

/* Until killed (pause() returns only after a handled signal). */
static int block(void *arg)
{
	(void)arg;
	while (pause() < 0)
		;
	return 1;
}

/*
 * When pidfd_open(2) fails after the fork (here a seccomp filter makes it
 * EMFILE), the error comes back and the child is killed and reaped.
 */
static void cfork_pidfd_fails(void)
{
	struct sock_filter insns[] = {
		BPF_STMT(BPF_LD | BPF_W | BPF_ABS,
			 offsetof(struct seccomp_data, nr)),
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, SYS_pidfd_open, 0, 1),
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | EMFILE),
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
	};
	struct sock_fprog prog = {
		.len = sizeof(insns) / sizeof(*insns),
		.filter = insns,
	};

	EXPECT(prctl(PR_SET_NO_NEW_PRIVS, 1L, 0L, 0L, 0L) == 0);
	EXPECT(syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, 0, &prog) == 0);
	EXPECT_ERRNO(corey_cfork(&any_cpu, block, NULL), EMFILE);
	EXPECT(no_children());
}

static int return_0(void *arg)
{
	(void)arg;
	return 0;
}

/*
 * corey_cwait()'s errors.  Only a pidfd is closed: one of a process that
 * cannot be waited for (ECHILD) is spent; anything else is left alone.
 */
static void cwait_errors(void)
{
	int fd, pidfd, status;
	pid_t pid;

	EXPECT_ERRNO(corey_cwait(-1, &status), EINVAL);
	EXPECT_ERRNO(corey_cwait(INT_MAX, &status), EBADF);
	fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
	EXPECT(fd >= 0);
	EXPECT_ERRNO(corey_cwait(fd, &status), EBADF);
	EXPECT(fcntl(fd, F_GETFD) >= 0);
	close(fd);

	/* A child reaped behind the library's back. */
	pidfd = corey_cfork(&any_cpu, return_0, NULL);
	EXPECT(pidfd >= 0);
	if (pidfd >= 0) {
		pid = pidfd_pid(pidfd);
		EXPECT(pid > 0 && waitpid(pid, &status, 0) == pid);
		EXPECT_ERRNO(corey_cwait(pidfd, &status), ECHILD);
		EXPECT_ERRNO(fcntl(pidfd, F_GETFD), EBADF);
	}

	/* A process that is not our child: ourselves. */
	pidfd = (int)syscall(SYS_pidfd_open, getpid(), 0U);
	EXPECT(pidfd >= 0);
	if (pidfd >= 0) {
		EXPECT_ERRNO(corey_cwait(pidfd, &status), ECHILD);
		EXPECT_ERRNO(fcntl(pidfd, F_GETFD), EBADF);
	}
}

#define CONCURRENT_THREADS 4
#define CONCURRENT_FORKS 20

static atomic_bool stop_churn;

static void *churn_malloc(void *arg)
{
	(void)arg;
	while (!atomic_load(&stop_churn))
		free(malloc(4096 + (size_t)(rand() & 4095)));
	return NULL;
}

static void *cfork_many(void *arg)
{
	intptr_t id = (intptr_t)arg, i;

	for (i = 0; i < CONCURRENT_FORKS; i++) {
		int status = run(&any_cpu, return_arg,
				 (void *)(id * CONCURRENT_FORKS + i));

		if (status == -1 || !WIFEXITED(status) ||
		    WEXITSTATUS(status) != ((id * CONCURRENT_FORKS + i) & 0xff))
			return (void *)1;
	}
	return NULL;
}

/*
 * Several threads cfork at once while another allocates: every child
 * runs (fork(2) leaves malloc usable and the library's lock free in it).
 */
static void cfork_threads(void)
{
	pthread_t threads[CONCURRENT_THREADS], churn;
	void *ret;
	intptr_t i;

	EXPECT(pthread_create(&churn, NULL, churn_malloc, NULL) == 0);
	for (i = 0; i < CONCURRENT_THREADS; i++)
		EXPECT(pthread_create(&threads[i], NULL, cfork_many,
				      (void *)i) == 0);
	for (i = 0; i < CONCURRENT_THREADS; i++) {
		EXPECT(pthread_join(threads[i], &ret) == 0);
		EXPECT(ret == NULL);
	}
	atomic_store(&stop_churn, true);
	EXPECT(pthread_join(churn, NULL) == 0);
	EXPECT(no_children());
}

/* ---- address ranges: what the library checks, on every kernel ---- */

/*
 * Without the feature: EOPNOTSUPP and a message that names it.  With it:
 * EOPNOTSUPP is only strerror's.
 */
static void ar_missing(void)
{
	int supported = corey_ar_supported(), fd;

	EXPECT(supported == 0 || supported == 1);
	if (supported == 1) {
		EXPECT(strcmp(corey_strerror(EOPNOTSUPP),
			      strerror(EOPNOTSUPP)) == 0);
		return;
	}
	EXPECT_ERRNO(corey_ar_create("ar_test", G, 0), EOPNOTSUPP);
	EXPECT(strcmp(corey_strerror(EOPNOTSUPP), missing_message) == 0);
	/* MAP_SHARED_VALIDATE: the kernel refuses the unknown flag. */
	fd = memfd_create("ar_test_plain", MFD_CLOEXEC);
	EXPECT(fd >= 0 && ftruncate(fd, G) == 0);
	EXPECT_MAP_ERRNO(corey_ar_map(fd, NULL, G, 0), EOPNOTSUPP);
	close(fd);
}

static void ar_create_einval(void)
{
	char name[300];

	EXPECT_ERRNO(corey_ar_create("ar_test", G, 1), EINVAL);
	EXPECT_ERRNO(corey_ar_create("ar_test", 0, 0), EINVAL);
	EXPECT_ERRNO(corey_ar_create("ar_test", 4096, 0), EINVAL);
	EXPECT_ERRNO(corey_ar_create("ar_test", G + 4096, 0), EINVAL);
	EXPECT_ERRNO(corey_ar_create("ar_test", G / 2, 0), EINVAL);
	/* memfd_create(2)'s own EINVAL is not "no address ranges". */
	memset(name, 'x', sizeof(name) - 1);
	name[sizeof(name) - 1] = '\0';
	EXPECT_ERRNO(corey_ar_create(name, G, 0), EINVAL);
}

static void ar_map_einval(void)
{
	void *unaligned = (void *)(uintptr_t)(G + 4096);

	EXPECT_MAP_ERRNO(corey_ar_map(-1, NULL, 0, 0), EINVAL);
	EXPECT_MAP_ERRNO(corey_ar_map(-1, NULL, 4096, 0), EINVAL);
	EXPECT_MAP_ERRNO(corey_ar_map(-1, NULL, G + 4096, 0), EINVAL);
	EXPECT_MAP_ERRNO(corey_ar_map(-1, NULL, G, 4096), EINVAL);
	EXPECT_MAP_ERRNO(corey_ar_map(-1, NULL, G, -(off_t)G), EINVAL);
	EXPECT_MAP_ERRNO(corey_ar_map(-1, unaligned, G, 0), EINVAL);
	EXPECT_MAP_ERRNO(corey_ar_map(-1, (void *)(UINTPTR_MAX - G + 1),
				      2 * G, 0), EINVAL);
}

/* Only what corey_ar_map() mapped is unmapped, in whole granules. */
static void ar_unmap_einval(void)
{
	char *plain = reserve(2 * G);

	EXPECT_ERRNO(corey_ar_unmap(plain, 0), EINVAL);
	EXPECT_ERRNO(corey_ar_unmap(plain, 4096), EINVAL);
	EXPECT_ERRNO(corey_ar_unmap(plain + 4096, G), EINVAL);
	/* Aligned, but an ordinary mapping: refused and left alone. */
	EXPECT_ERRNO(corey_ar_unmap(plain, 2 * G), EINVAL);
	EXPECT(mapped(plain, 2 * G));
}

/* ---- address ranges: with the kernel's ---- */

struct share_arg {
	unsigned char *p;
	size_t half;		/* the parent touched [0, half) */
};

static unsigned char pattern(size_t off)
{
	return (unsigned char)(1 + (off / (size_t)page_size) % 251);
}

/* How many pages of [from, to) do not hold their pattern (or c). */
static size_t mismatches(const unsigned char *p, size_t from, size_t to,
			 int c)
{
	const volatile unsigned char *v = p;
	size_t off, bad = 0;

	for (off = from; off < to; off += (size_t)page_size)
		if (v[off] != (c < 0 ? pattern(off) : (unsigned char)c))
			bad++;
	return bad;
}

/* Minor faults the calling process has taken so far. */
static long minflt(void)
{
	struct rusage ru;

	memset(&ru, 0, sizeof(ru));
	getrusage(RUSAGE_SELF, &ru);
	return ru.ru_minflt;
}

/*
 * Fault in the code that reads and counts, and the stack under it, so
 * that a count around it is the faults of the pages read and nothing else.
 */
static void warm_up(void)
{
	unsigned char warm[64] = { 0 };

	mismatches(warm, 0, sizeof(warm), -1);
	mismatches(warm, 0, sizeof(warm), 0xa5);
	minflt();
}

/*
 * In the child: the parent's pages are there without a fault; then fault
 * in the other half, for the parent to see.
 */
static int share_child(void *arg)
{
	struct share_arg *a = arg;
	long before, after;
	size_t bad;

	warm_up();
	before = minflt();
	bad = mismatches(a->p, 0, a->half, -1);
	after = minflt();
	EXPECT(bad == 0);
	if (after != before) {
		fprintf(stderr, "child: %ld minor faults reading %zu pages "
			"the parent touched, expected 0\n", after - before,
			a->half / (size_t)page_size);
		failed = true;
	}
	memset(a->p + a->half, 0xa5, a->half);
	return failed;
}

/*
 * A parent and a cfork'd child share a range at the same address: each
 * sees the other's writes, and neither faults on a page the other
 * touched, since they link the same page tables.
 */
static void ar_share(void)
{
	struct share_arg a;
	struct corey_cfork_range range;
	struct corey_cfork_attr attr = {
		.cpu = -1, .ranges = &range, .nr_ranges = 1,
	};
	long before, after;
	size_t off;
	int fd;

	need_ar();
	fd = create(2 * G);
	a.p = map(fd, NULL, 2 * G, 0);
	a.half = G;
	EXPECT((uintptr_t)a.p % G == 0);
	for (off = 0; off < a.half; off += (size_t)page_size)
		a.p[off] = pattern(off);
	range.addr = a.p;
	range.bytes = 2 * G;
	EXPECT(exited_0(run(&attr, share_child, &a)));
	EXPECT(mismatches(a.p, 0, a.half, -1) == 0);
	warm_up();
	before = minflt();
	off = mismatches(a.p, a.half, 2 * a.half, 0xa5);
	after = minflt();
	EXPECT(off == 0);
	/*
	 * The child may have been first to touch that granule at all: a
	 * kernel that creates its page table then may need one fault here
	 * to link it, but never one per page.
	 */
	if (after - before > (long)(a.half / G)) {
		fprintf(stderr, "parent: %ld minor faults reading %zu pages "
			"the child touched, expected at most %zu\n",
			after - before, a.half / (size_t)page_size, a.half / G);
		failed = true;
	}
	EXPECT(corey_ar_unmap(a.p, 2 * G) == 0);
	close(fd);
}

struct drop_arg {
	unsigned char *kept;
	unsigned char *dropped;
};

static int drop_child(void *arg)
{
	struct drop_arg *a = arg;

	EXPECT(mapped(a->kept, G));
	EXPECT(a->kept[0] == 'k');
	EXPECT(!mapped(a->dropped, G));
	/* The child's record holds only what it kept. */
	EXPECT_ERRNO(corey_ar_unmap(a->dropped, G), EINVAL);
	EXPECT(corey_ar_unmap(a->kept, G) == 0);
	EXPECT(!mapped(a->kept, G));
	return failed;
}

/* A child keeps the ranges it was given and no other. */
static void ar_drop(void)
{
	struct drop_arg a;
	struct corey_cfork_range range;
	struct corey_cfork_attr attr = {
		.cpu = -1, .ranges = &range, .nr_ranges = 1,
	};
	int fd1, fd2;

	need_ar();
	fd1 = create(G);
	fd2 = create(G);
	a.kept = map(fd1, NULL, G, 0);
	a.dropped = map(fd2, NULL, G, 0);
	a.kept[0] = 'k';
	a.dropped[0] = 'd';
	range.addr = a.kept;
	range.bytes = G;
	EXPECT(exited_0(run(&attr, drop_child, &a)));
	/* The parent still has both. */
	EXPECT(a.kept[0] == 'k' && a.dropped[0] == 'd');
	EXPECT(corey_ar_unmap(a.kept, G) == 0);
	EXPECT(corey_ar_unmap(a.dropped, G) == 0);
	close(fd1);
	close(fd2);
}

static int drop_all_child(void *arg)
{
	unsigned char *p = arg;

	EXPECT(!mapped(p, 3 * G));
	EXPECT(!mapped(p + 2 * G, G));
	return failed;
}

static int keep_first_child(void *arg)
{
	unsigned char *p = arg;

	EXPECT(mapped(p, G) && p[0] == 1);
	EXPECT(!mapped(p + 2 * G, G));
	return failed;
}

/*
 * Unmapping the middle granule of a mapping leaves the ends mapped and
 * recorded apart: a range over the hole is refused, one on an end is not.
 */
static void ar_unmap_middle(void)
{
	struct corey_cfork_range range;
	struct corey_cfork_attr attr = {
		.cpu = -1, .ranges = &range, .nr_ranges = 1,
	};
	unsigned char *p;
	int fd;

	need_ar();
	fd = create(3 * G);
	p = map(fd, NULL, 3 * G, 0);
	p[0] = 1;
	p[2 * G] = 3;
	EXPECT(corey_ar_unmap(p + G, G) == 0);
	EXPECT(mapped(p, G) && mapped(p + 2 * G, G));
	EXPECT(!mapped(p + G, G));
	EXPECT(p[0] == 1 && p[2 * G] == 3);
	EXPECT_ERRNO(corey_ar_unmap(p + G, G), EINVAL);
	EXPECT_ERRNO(corey_ar_unmap(p, 3 * G), EINVAL);
	range.addr = p;
	range.bytes = 3 * G;
	EXPECT_ERRNO(corey_cfork(&attr, never_run, NULL), EINVAL);
	range.bytes = 2 * G;
	EXPECT_ERRNO(corey_cfork(&attr, never_run, NULL), EINVAL);
	range.bytes = G;
	EXPECT(exited_0(run(&attr, keep_first_child, p)));
	attr.nr_ranges = 0;
	EXPECT(exited_0(run(&attr, drop_all_child, p)));
	EXPECT(corey_ar_unmap(p, G) == 0);
	EXPECT(corey_ar_unmap(p + 2 * G, G) == 0);
	EXPECT(!mapped(p, G) && !mapped(p + 2 * G, G));
	EXPECT(no_children());
	close(fd);
}

static int adjacent_child(void *arg)
{
	unsigned char *p = arg;

	EXPECT(mapped(p, 2 * G));
	EXPECT(p[0] == 'a' && p[G] == 'b');
	return failed;
}

/*
 * Two mappings placed side by side with MAP_FIXED: one range over both
 * is inside the mappings; ranges may overlap; one mapped over another
 * replaces it.
 */
static void ar_fixed(void)
{
	struct corey_cfork_range ranges[3];
	struct corey_cfork_attr attr = {
		.cpu = -1, .ranges = ranges, .nr_ranges = 1,
	};
	unsigned char *p = reserve(3 * G);
	int fd1, fd2;

	need_ar();
	fd1 = create(G);
	fd2 = create(2 * G);
	EXPECT(map(fd1, p, G, 0) == p);
	EXPECT(map(fd2, p + G, G, G) == p + G);
	p[0] = 'a';
	p[G] = 'b';
	ranges[0].addr = p;
	ranges[0].bytes = 2 * G;
	EXPECT(exited_0(run(&attr, adjacent_child, p)));
	ranges[1].addr = p + G;
	ranges[1].bytes = G;
	ranges[2] = ranges[0];
	attr.nr_ranges = 3;
	EXPECT(exited_0(run(&attr, adjacent_child, p)));
	/* Beyond the mappings (the rest of the reservation): refused. */
	ranges[0].bytes = 3 * G;
	EXPECT_ERRNO(corey_cfork(&attr, never_run, NULL), EINVAL);
	/* fd2's first granule over fd1's mapping. */
	EXPECT(map(fd2, p, G, 0) == p);
	EXPECT(p[0] == 0);
	EXPECT(corey_ar_unmap(p, 2 * G) == 0);
	EXPECT(no_children());
	close(fd1);
	close(fd2);
}

/* What the kernel refuses to map. */
static void ar_map_errors(void)
{
	int fd, plain;

	need_ar();
	fd = create(G);
	/* Beyond the end of the range. */
	EXPECT_MAP_ERRNO(corey_ar_map(fd, NULL, 2 * G, 0), EINVAL);
	EXPECT_MAP_ERRNO(corey_ar_map(fd, NULL, G, G), EINVAL);
	/* A memfd that is not an address range. */
	plain = memfd_create("ar_test_plain", MFD_CLOEXEC);
	EXPECT(plain >= 0 && ftruncate(plain, G) == 0);
	EXPECT_MAP_ERRNO(corey_ar_map(plain, NULL, G, 0), EOPNOTSUPP);
	EXPECT_MAP_ERRNO(corey_ar_map(-1, NULL, G, 0), EBADF);
	close(plain);
	close(fd);
}

#define MAP_THREADS 4
#define MAP_ROUNDS 50

static int ar_fd;

static void *map_unmap(void *arg)
{
	int i;

	(void)arg;
	for (i = 0; i < MAP_ROUNDS; i++) {
		unsigned char *p = corey_ar_map(ar_fd, NULL, G, 0);

		if (p == MAP_FAILED)
			return (void *)1;
		p[i] = 1;
		if (corey_ar_unmap(p, G) < 0)
			return (void *)1;
	}
	return NULL;
}

static void *cfork_loop(void *arg)
{
	int i;

	(void)arg;
	for (i = 0; i < MAP_ROUNDS / 5; i++)
		if (!exited_0(run(&any_cpu, return_0, NULL)))
			return (void *)1;
	return NULL;
}

/*
 * Threads map and unmap one range while another cforks children that keep
 * none of it: the record stays consistent and every child runs.
 */
static void ar_threads(void)
{
	pthread_t threads[MAP_THREADS], forker;
	void *ret;
	int i;

	need_ar();
	ar_fd = create(G);
	EXPECT(pthread_create(&forker, NULL, cfork_loop, NULL) == 0);
	for (i = 0; i < MAP_THREADS; i++)
		EXPECT(pthread_create(&threads[i], NULL, map_unmap, NULL) == 0);
	for (i = 0; i < MAP_THREADS; i++) {
		EXPECT(pthread_join(threads[i], &ret) == 0);
		EXPECT(ret == NULL);
	}
	EXPECT(pthread_join(forker, &ret) == 0);
	EXPECT(ret == NULL);
	EXPECT(no_children());
	close(ar_fd);
}

static const struct test_case cases[] = {
	{ "cfork_exit", cfork_exit },
	{ "cfork_cpu", cfork_cpu },
	{ "cfork_einval", cfork_einval },
	{ "cfork_pidfd", cfork_pidfd },
	{ "cfork_private", cfork_private },
	{ "cfork_pidfd_fails", cfork_pidfd_fails },
	{ "cfork_threads", cfork_threads },
	{ "cwait_errors", cwait_errors },
	{ "ar_missing", ar_missing },
	{ "ar_create_einval", ar_create_einval },
	{ "ar_map_einval", ar_map_einval },
	{ "ar_unmap_einval", ar_unmap_einval },
	{ "ar_share", ar_share },
	{ "ar_drop", ar_drop },
	{ "ar_unmap_middle", ar_unmap_middle },
	{ "ar_fixed", ar_fixed },
	{ "ar_map_errors", ar_map_errors },
	{ "ar_threads", ar_threads },
};

static bool supported(void)
{
	return corey_ar_supported() == 1;
}

int main(int argc, char **argv)
{
	const struct test_suite suite = {
		.cases = cases,
		.nr_cases = sizeof(cases) / sizeof(*cases),
		.skip_why = "no address ranges (CONFIG_COREY_ADDR_RANGE)",
		.supported = supported,
	};

	page_size = sysconf(_SC_PAGESIZE);
	return run_suite(&suite, argc, argv);
}
