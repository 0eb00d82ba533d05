// SPDX-License-Identifier: GPL-2.0
/*
 * Kernel cores: the device's rules (kcore-spec, "Set-up", "mmap", "Rings").
 * COREY_KCORE_SETUP with every bad argument and its exact errno, the other
 * ioctls before SETUP and with bad arguments, mmap of the control page and
 * the rings (MAP_PRIVATE, PROT_EXEC, writing the control page, offsets and
 * lengths), ATTACH/DETACH ownership across threads, WAIT's checks, what a
 * forked child may do (nothing: EPERM, and the rings are not inherited),
 * and the kernel core's thread (ours, named kcore/<cpu>, pinned there).
 *
 * Raw ABI only (lib/kcore_raw.h): no libcorey here.
 */
#include <fcntl.h>
#include <limits.h>
#include <setjmp.h>
#include <stdlib.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <termios.h>

#include "kcore_test.h"

_Static_assert(sizeof(struct corey_kcore_setup) == COREY_KCORE_SETUP_SIZE_VER0,
	       "struct corey_kcore_setup is the VER0 layout");
_Static_assert(sizeof(struct corey_kcore_slot) == 64, "one slot, 64 bytes");
_Static_assert(sizeof(struct corey_kcore_ctl) == 64, "one ctl line, 64 bytes");

#define IDLE_US 20000

/* A setup struct followed by a tail, for sizes beyond the struct. */
struct big_setup {
	struct corey_kcore_setup s;
	unsigned char tail[4096];
};

static void setup_init(struct corey_kcore_setup *s, int cpu)
{
	memset(s, 0, sizeof(*s));
	s->size = sizeof(*s);
	s->cpu = cpu;
	s->nr_rings = 1;
	s->idle_us = IDLE_US;
}

static int setup_ioctl(int fd, void *arg)
{
	return ioctl(fd, COREY_KCORE_SETUP, arg);
}

/* Is @tid a thread of this process? */
static bool our_thread(pid_t tid)
{
	char path[64];

	snprintf(path, sizeof(path), "/proc/self/task/%d", tid);
	return access(path, F_OK) == 0;
}

/* Has a posted slot been left alone (no completion) for @ms? */
static bool slot_untouched_for(struct corey_kcore_slot *s, uint32_t seq, int ms)
{
	int64_t end = kcore_now_ms() + ms;

	while (kcore_now_ms() < end) {
		if (__atomic_load_n(&s->seq, __ATOMIC_ACQUIRE) != seq)
			return false;
		usleep(2000);
	}
	return true;
}

/* ---- COREY_KCORE_SETUP ---- */

TEST(setup_size)
{
	struct big_setup b;
	int fd, cpu = kcore_pick_cpu();
	unsigned int i;

	ASSERT_LE(0, cpu);
	fd = ASSERT_OK(kcore_raw_open());

	memset(&b, 0, sizeof(b));
	setup_init(&b.s, cpu);
	b.s.size = 0;
	EXPECT_ERRNO(EINVAL, setup_ioctl(fd, &b));
	b.s.size = 8;
	EXPECT_ERRNO(EINVAL, setup_ioctl(fd, &b));
	b.s.size = COREY_KCORE_SETUP_SIZE_VER0 - 1;
	EXPECT_ERRNO(EINVAL, setup_ioctl(fd, &b));

	/* a larger struct with a nonzero byte beyond what the kernel knows */
	b.s.size = sizeof(b.s) + 1;
	b.tail[0] = 1;
	EXPECT_ERRNO(E2BIG, setup_ioctl(fd, &b));
	b.tail[0] = 0;
	b.s.size = sizeof(b.s) + 64;
	b.tail[63] = 0x80;
	EXPECT_ERRNO(E2BIG, setup_ioctl(fd, &b));
	b.tail[63] = 0;
	b.s.size = sizeof(b);
	b.tail[sizeof(b.tail) - 1] = 1;
	EXPECT_ERRNO(E2BIG, setup_ioctl(fd, &b));
	b.tail[sizeof(b.tail) - 1] = 0;
	/* a larger size that reaches an unmapped page */
	{
		char *pg = mmap(NULL, 8192, PROT_READ | PROT_WRITE,
				MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		struct corey_kcore_setup *end;

		ASSERT_NE(MAP_FAILED, pg);
		ASSERT_EQ(0, munmap(pg + 4096, 4096));
		end = (void *)(pg + 4096 - sizeof(*end));
		setup_init(end, cpu);
		end->size = sizeof(*end) + 8;
		EXPECT_ERRNO(EFAULT, setup_ioctl(fd, end));
		munmap(pg, 4096);
	}

	/* none of that gave this file a kernel core; zeroes beyond are fine */
	b.s.size = sizeof(b);
	b.s.tid = 0;
	ASSERT_EQ(0, setup_ioctl(fd, &b));
	EXPECT_LT(0, (int)b.s.tid);
	EXPECT_TRUE(our_thread(b.s.tid));
	/* the kernel wrote nothing beyond its struct */
	for (i = 0; i < sizeof(b.tail); i++)
		ASSERT_EQ(0, b.tail[i]) TH_LOG("tail byte %u written", i);
	close(fd);
}

TEST(setup_efault)
{
	struct corey_kcore_setup s;
	int fd, cpu = kcore_pick_cpu();

	fd = ASSERT_OK(kcore_raw_open());
	EXPECT_ERRNO(EFAULT, setup_ioctl(fd, NULL));
	EXPECT_ERRNO(EFAULT, setup_ioctl(fd, kcore_unmapped_page()));
	EXPECT_ERRNO(EFAULT, setup_ioctl(fd, (void *)KCORE_KERNEL_ADDR));
	setup_init(&s, cpu);
	EXPECT_EQ(0, setup_ioctl(fd, &s));
	close(fd);
}

TEST(setup_flags_and_reserved)
{
	static const uint32_t bad_flags[] = { 1, 2, 0x80000000, ~0U };
	struct corey_kcore_setup s;
	int fd, cpu = kcore_pick_cpu();
	unsigned int i;

	fd = ASSERT_OK(kcore_raw_open());
	for (i = 0; i < ARRAY_SIZE(bad_flags); i++) {
		setup_init(&s, cpu);
		s.flags = bad_flags[i];
		EXPECT_ERRNO(EINVAL, setup_ioctl(fd, &s));
	}
	setup_init(&s, cpu);
	s.__reserved[0] = 1;
	EXPECT_ERRNO(EINVAL, setup_ioctl(fd, &s));
	setup_init(&s, cpu);
	s.__reserved[1] = 1ULL << 63;
	EXPECT_ERRNO(EINVAL, setup_ioctl(fd, &s));
	setup_init(&s, cpu);
	EXPECT_EQ(0, setup_ioctl(fd, &s));
	close(fd);
}

TEST(setup_nr_rings)
{
	static const uint32_t bad[] = { 0, COREY_KCORE_RINGS_MAX + 1, 1000,
					UINT_MAX };
	struct corey_kcore_setup s;
	int fd, cpu = kcore_pick_cpu();
	unsigned int i;
	void *p;

	fd = ASSERT_OK(kcore_raw_open());
	for (i = 0; i < ARRAY_SIZE(bad); i++) {
		setup_init(&s, cpu);
		s.nr_rings = bad[i];
		EXPECT_ERRNO(EINVAL, setup_ioctl(fd, &s));
	}
	/* the maximum, and every ring of it can be mapped */
	setup_init(&s, cpu);
	s.nr_rings = COREY_KCORE_RINGS_MAX;
	ASSERT_EQ(0, setup_ioctl(fd, &s));
	p = kcore_raw_mmap(fd, COREY_KCORE_OFF_RING(0),
			   COREY_KCORE_RINGS_MAX * COREY_KCORE_PAGE_SIZE,
			   PROT_READ | PROT_WRITE);
	ASSERT_NE(MAP_FAILED, p);
	munmap(p, COREY_KCORE_RINGS_MAX * COREY_KCORE_PAGE_SIZE);
	EXPECT_EQ(MAP_FAILED, kcore_raw_mmap(fd,
		  COREY_KCORE_OFF_RING(COREY_KCORE_RINGS_MAX),
		  COREY_KCORE_PAGE_SIZE, PROT_READ | PROT_WRITE));
	EXPECT_EQ(EINVAL, errno);
	EXPECT_EQ(0, kcore_raw_attach(fd, COREY_KCORE_RINGS_MAX - 1));
	EXPECT_ERRNO(EINVAL, kcore_raw_attach(fd, COREY_KCORE_RINGS_MAX));
	close(fd);

	/* and the minimum */
	fd = ASSERT_OK(kcore_raw_open());
	EXPECT_EQ(0, kcore_raw_setup(fd, cpu, 1, IDLE_US, NULL));
	close(fd);
}

TEST(setup_cpu_out_of_range)
{
	int bad[] = { -1, -2, INT_MIN, possible_cpus(), possible_cpus() + 1,
		      4096, INT_MAX };
	struct corey_kcore_setup s;
	unsigned int i;
	int fd;

	ASSERT_LT(0, possible_cpus());
	fd = ASSERT_OK(kcore_raw_open());
	for (i = 0; i < ARRAY_SIZE(bad); i++) {
		int ret, err;

		setup_init(&s, bad[i]);
		ret = setup_ioctl(fd, &s);
		err = errno;
		EXPECT_EQ(-1, ret) TH_LOG("cpu %d accepted", bad[i]);
		EXPECT_EQ(EINVAL, err) TH_LOG("cpu %d: %s", bad[i],
					      strerrorname_np(err) ?: "?");
	}
	setup_init(&s, kcore_pick_cpu());
	EXPECT_EQ(0, setup_ioctl(fd, &s));
	close(fd);
}

/*
 * "Outside the caller's allowed CPUs" is the cpuset (as for io_uring's
 * SQPOLL), not the sched affinity mask, which a thread may change at
 * will.  Needs cgroup v2 with the cpuset controller; skipped without.
 */
static int write_file(const char *path, const char *s)
{
	int fd = open(path, O_WRONLY | O_CLOEXEC), ret = 0;

	if (fd < 0)
		return -errno;
	if (write(fd, s, strlen(s)) < 0)
		ret = -errno;
	close(fd);
	return ret;
}

FIXTURE(cpuset) {
	char root[64];		/* the cgroup2 mount */
	char group[128];	/* our cgroup, "" if none */
	bool mounted;		/* we mounted root */
};

FIXTURE_SETUP(cpuset)
{
	self->group[0] = '\0';
	self->mounted = false;
	strcpy(self->root, "/sys/fs/cgroup");
}

FIXTURE_TEARDOWN(cpuset)
{
	char path[192], pid[16];

	if (self->group[0]) {
		snprintf(path, sizeof(path), "%s/cgroup.procs", self->root);
		snprintf(pid, sizeof(pid), "%d", getpid());
		EXPECT_EQ(0, write_file(path, pid));
		EXPECT_EQ(0, rmdir(self->group));
	}
	if (self->mounted) {
		umount(self->root);
		rmdir(self->root);
	}
}

TEST_F(cpuset, setup_cpu_outside_the_cpuset)
{
	int fd, cpu = kcore_pick_cpu(), other = other_cpu(cpu);
	char path[192], buf[256], val[16];

	if (other < 0)
		SKIP(return, "one CPU: none outside a cpuset to try");
	snprintf(path, sizeof(path), "%s/cgroup.controllers", self->root);
	if (read_proc_file(path, buf, sizeof(buf)) < 0) {
		strcpy(self->root, "/tmp/kcore_cgroup");
		mkdir(self->root, 0755);
		if (mount("none", self->root, "cgroup2", 0, NULL)) {
			rmdir(self->root);
			SKIP(return, "no cgroup v2 here (%s)",
			     strerrorname_np(errno) ?: "?");
		}
		self->mounted = true;
		snprintf(path, sizeof(path), "%s/cgroup.controllers",
			 self->root);
		ASSERT_LE(0, read_proc_file(path, buf, sizeof(buf)));
	}
	if (!strstr(buf, "cpuset"))
		SKIP(return, "cgroup v2 without the cpuset controller");
	snprintf(path, sizeof(path), "%s/cgroup.subtree_control", self->root);
	ASSERT_EQ(0, write_file(path, "+cpuset"));
	snprintf(self->group, sizeof(self->group), "%s/kcore_api_%d",
		 self->root, getpid());
	ASSERT_EQ(0, mkdir(self->group, 0755));
	snprintf(path, sizeof(path), "%s/cpuset.cpus", self->group);
	snprintf(val, sizeof(val), "%d", other);
	ASSERT_EQ(0, write_file(path, val));
	snprintf(path, sizeof(path), "%s/cgroup.procs", self->group);
	snprintf(val, sizeof(val), "%d", getpid());
	ASSERT_EQ(0, write_file(path, val));

	fd = ASSERT_OK(kcore_raw_open());
	EXPECT_ERRNO(EINVAL, kcore_raw_setup(fd, cpu, 1, IDLE_US, NULL));
	close(fd);
	fd = ASSERT_OK(kcore_raw_open());
	EXPECT_EQ(0, kcore_raw_setup(fd, other, 1, IDLE_US, NULL));
	close(fd);
	/* the kernel core leaves the cgroup before the teardown's rmdir */
	ASSERT_EQ(0, kcore_threads_wait_gone(getpid(), KCORE_BOUND_MS, NULL, 0));
}

FIXTURE(offline) {
	int cpu;	/* the CPU taken offline, -1 if none */
};

FIXTURE_SETUP(offline)
{
	self->cpu = -1;
}

FIXTURE_TEARDOWN(offline)
{
	if (self->cpu >= 0)
		EXPECT_EQ(0, cpu_set_online(self->cpu, true));
}

TEST_F_TIMEOUT(offline, setup_cpu_offline, 180)
{
	int fd, cpu = kcore_pick_cpu();

	if (other_cpu(cpu) < 0 || !cpu_hotpluggable(cpu))
		SKIP(return, "CPU %d cannot be taken offline here", cpu);
	fd = ASSERT_OK(kcore_raw_open());
	ASSERT_EQ(0, cpu_set_online(cpu, false));
	self->cpu = cpu;
	EXPECT_ERRNO(EINVAL, kcore_raw_setup(fd, cpu, 1, IDLE_US, NULL));
	ASSERT_EQ(0, cpu_set_online(cpu, true));
	self->cpu = -1;
	EXPECT_EQ(0, kcore_raw_setup(fd, cpu, 1, IDLE_US, NULL));
	close(fd);
}

TEST(setup_twice)
{
	int fd, fd2, cpu = kcore_pick_cpu();
	pid_t tid, tid2;

	fd = ASSERT_OK(kcore_raw_open());
	ASSERT_EQ(0, kcore_raw_setup(fd, cpu, 1, IDLE_US, &tid));
	EXPECT_ERRNO(EBUSY, kcore_raw_setup(fd, cpu, 1, IDLE_US, NULL));
	EXPECT_ERRNO(EBUSY, kcore_raw_setup(fd, cpu, 2, 0, NULL));
	/* another open file of the same process gets its own kernel core */
	fd2 = ASSERT_OK(kcore_raw_open());
	ASSERT_EQ(0, kcore_raw_setup(fd2, cpu, 1, IDLE_US, &tid2));
	EXPECT_NE(tid, tid2);
	EXPECT_TRUE(our_thread(tid));
	EXPECT_TRUE(our_thread(tid2));
	EXPECT_EQ(2, kcore_threads_count(getpid(), NULL, 0));
	close(fd2);
	close(fd);
	/* closing the last reference ends each of them */
	EXPECT_TRUE(kcore_thread_gone(tid, KCORE_BOUND_MS));
	EXPECT_TRUE(kcore_thread_gone(tid2, KCORE_BOUND_MS));
}

/* ---- before SETUP ---- */

TEST(ioctls_and_mmap_before_setup)
{
	struct corey_kcore_attach a = { 0, 0 };
	struct corey_kcore_wait w = { 0, 0, 1, 0 };
	int fd;

	fd = ASSERT_OK(kcore_raw_open());
	EXPECT_ERRNO(EINVAL, ioctl(fd, COREY_KCORE_ATTACH, &a));
	EXPECT_ERRNO(EINVAL, ioctl(fd, COREY_KCORE_DETACH, &a));
	EXPECT_ERRNO(EINVAL, ioctl(fd, COREY_KCORE_WAKE));
	EXPECT_ERRNO(EINVAL, ioctl(fd, COREY_KCORE_WAIT, &w));
	EXPECT_EQ(MAP_FAILED, kcore_raw_mmap(fd, COREY_KCORE_OFF_CTL,
					     COREY_KCORE_PAGE_SIZE, PROT_READ));
	EXPECT_EQ(EINVAL, errno);
	EXPECT_EQ(MAP_FAILED, kcore_raw_mmap(fd, COREY_KCORE_OFF_RING(0),
					     COREY_KCORE_PAGE_SIZE,
					     PROT_READ | PROT_WRITE));
	EXPECT_EQ(EINVAL, errno);
	/* and none of that set anything up */
	EXPECT_EQ(0, kcore_raw_setup(fd, kcore_pick_cpu(), 1, IDLE_US, NULL));
	close(fd);
}

TEST(unknown_ioctls)
{
	struct termios t;
	int fd;

	fd = ASSERT_OK(kcore_raw_open());
	ASSERT_EQ(0, kcore_raw_setup(fd, kcore_pick_cpu(), 1, IDLE_US, NULL));
	EXPECT_ERRNO(ENOTTY, ioctl(fd, _IO(COREY_KCORE_IOC_MAGIC, 5)));
	EXPECT_ERRNO(ENOTTY, ioctl(fd, _IO(COREY_KCORE_IOC_MAGIC, 0xff)));
	/* a known number with another size is another command */
	EXPECT_ERRNO(ENOTTY, ioctl(fd, _IOWR(COREY_KCORE_IOC_MAGIC, 0, int), &t));
	EXPECT_ERRNO(ENOTTY, ioctl(fd, _IOW(COREY_KCORE_IOC_MAGIC, 1, int), &t));
	EXPECT_ERRNO(ENOTTY, ioctl(fd, _IOR(COREY_KCORE_IOC_MAGIC, 3,
					    struct corey_kcore_wait), &t));
	EXPECT_ERRNO(ENOTTY, ioctl(fd, 0));
	EXPECT_ERRNO(ENOTTY, ioctl(fd, TCGETS, &t));
	close(fd);
}

/* ---- mmap ---- */

static sigjmp_buf segv_env;
static volatile void *segv_addr;
static volatile int segv_code;

static void segv_handler(int sig, siginfo_t *si, void *uc)
{
	(void)sig;
	(void)uc;
	segv_addr = si->si_addr;
	segv_code = si->si_code;
	siglongjmp(segv_env, 1);
}

/* Store to @p; true if that raised SIGSEGV (si_addr == p). */
static bool store_faults(volatile uint32_t *p, uint32_t v)
{
	struct sigaction sa = { .sa_sigaction = segv_handler,
				.sa_flags = SA_SIGINFO }, old;
	bool faulted = false;

	segv_addr = NULL;
	sigaction(SIGSEGV, &sa, &old);
	if (sigsetjmp(segv_env, 1) == 0)
		*p = v;
	else
		faulted = segv_addr == (void *)p;
	sigaction(SIGSEGV, &old, NULL);
	return faulted;
}

TEST(mmap_control_page)
{
	static const int bad_prot[] = {
		PROT_READ | PROT_WRITE, PROT_WRITE, PROT_READ | PROT_EXEC,
		PROT_EXEC, PROT_READ | PROT_WRITE | PROT_EXEC,
	};
	int fd, cpu = kcore_pick_cpu();
	struct corey_kcore_ctl *ctl;
	unsigned int i;
	void *p;

	fd = ASSERT_OK(kcore_raw_open());
	ASSERT_EQ(0, kcore_raw_setup(fd, cpu, 2, IDLE_US, NULL));

	p = mmap(NULL, COREY_KCORE_PAGE_SIZE, PROT_READ, MAP_PRIVATE, fd,
		 COREY_KCORE_OFF_CTL);
	EXPECT_EQ(MAP_FAILED, p);
	EXPECT_EQ(EINVAL, errno);
	for (i = 0; i < ARRAY_SIZE(bad_prot); i++) {
		p = kcore_raw_mmap(fd, COREY_KCORE_OFF_CTL,
				   COREY_KCORE_PAGE_SIZE, bad_prot[i]);
		EXPECT_EQ(MAP_FAILED, p) TH_LOG("prot %#x", bad_prot[i]);
		EXPECT_EQ(EPERM, errno) TH_LOG("prot %#x: %s", bad_prot[i],
					       strerrorname_np(errno) ?: "?");
	}
	/* the control page is one page: two would reach ring 0 */
	p = kcore_raw_mmap(fd, COREY_KCORE_OFF_CTL, 2 * COREY_KCORE_PAGE_SIZE,
			   PROT_READ);
	EXPECT_EQ(MAP_FAILED, p);
	EXPECT_EQ(EINVAL, errno);

	ctl = kcore_raw_mmap(fd, COREY_KCORE_OFF_CTL, COREY_KCORE_PAGE_SIZE,
			     PROT_READ);
	ASSERT_NE(MAP_FAILED, ctl);
	EXPECT_EQ(0, ctl[0].flags & COREY_KCORE_DEAD);
	EXPECT_EQ(0, ctl[1].flags & COREY_KCORE_DEAD);
	/* it can never become writable or executable */
	EXPECT_ERRNO(EACCES, mprotect(ctl, COREY_KCORE_PAGE_SIZE,
				      PROT_READ | PROT_WRITE));
	EXPECT_ERRNO(EACCES, mprotect(ctl, COREY_KCORE_PAGE_SIZE,
				      PROT_READ | PROT_EXEC));
	/* and a store to it is a SIGSEGV (access error, not a missing page) */
	EXPECT_TRUE(store_faults(&ctl[0].flags, COREY_KCORE_DEAD));
	EXPECT_EQ(SEGV_ACCERR, segv_code);
	EXPECT_EQ(0, ctl[0].flags & COREY_KCORE_DEAD);
	munmap(ctl, COREY_KCORE_PAGE_SIZE);
	close(fd);
}

TEST(mmap_rings)
{
	const size_t pg = COREY_KCORE_PAGE_SIZE;
	struct corey_kcore_slot *a, *b;
	int fd, cpu = kcore_pick_cpu();
	void *p;

	fd = ASSERT_OK(kcore_raw_open());
	ASSERT_EQ(0, kcore_raw_setup(fd, cpu, 4, IDLE_US, NULL));

	p = mmap(NULL, pg, PROT_READ | PROT_WRITE, MAP_PRIVATE, fd,
		 COREY_KCORE_OFF_RING(0));
	EXPECT_EQ(MAP_FAILED, p);
	EXPECT_EQ(EINVAL, errno);
	p = kcore_raw_mmap(fd, COREY_KCORE_OFF_RING(0), pg,
			   PROT_READ | PROT_WRITE | PROT_EXEC);
	EXPECT_EQ(MAP_FAILED, p);
	EXPECT_EQ(EPERM, errno);
	p = kcore_raw_mmap(fd, COREY_KCORE_OFF_RING(0), pg, PROT_READ | PROT_EXEC);
	EXPECT_EQ(MAP_FAILED, p);
	EXPECT_EQ(EPERM, errno);

	/* ranges past nr_rings */
	p = kcore_raw_mmap(fd, COREY_KCORE_OFF_RING(4), pg, PROT_READ | PROT_WRITE);
	EXPECT_EQ(MAP_FAILED, p);
	EXPECT_EQ(EINVAL, errno);
	p = kcore_raw_mmap(fd, COREY_KCORE_OFF_RING(3), 2 * pg,
			   PROT_READ | PROT_WRITE);
	EXPECT_EQ(MAP_FAILED, p);
	EXPECT_EQ(EINVAL, errno);
	p = kcore_raw_mmap(fd, COREY_KCORE_OFF_RING(0), 5 * pg,
			   PROT_READ | PROT_WRITE);
	EXPECT_EQ(MAP_FAILED, p);
	EXPECT_EQ(EINVAL, errno);
	p = kcore_raw_mmap(fd, COREY_KCORE_OFF_RING(COREY_KCORE_RINGS_MAX), pg,
			   PROT_READ | PROT_WRITE);
	EXPECT_EQ(MAP_FAILED, p);
	EXPECT_EQ(EINVAL, errno);
	p = kcore_raw_mmap(fd, 1ULL << 40, pg, PROT_READ | PROT_WRITE);
	EXPECT_EQ(MAP_FAILED, p);
	EXPECT_EQ(EINVAL, errno);

	/* every ring at once, and one of them alone */
	a = kcore_raw_mmap(fd, COREY_KCORE_OFF_RING(0), 4 * pg,
			   PROT_READ | PROT_WRITE);
	ASSERT_NE(MAP_FAILED, a);
	b = kcore_raw_mmap(fd, COREY_KCORE_OFF_RING(3), pg, PROT_READ | PROT_WRITE);
	ASSERT_NE(MAP_FAILED, b);
	/* fresh rings are zero; both mappings are the same memory */
	EXPECT_EQ(0, a[3 * COREY_KCORE_RING_SLOTS + 5].seq);
	a[3 * COREY_KCORE_RING_SLOTS + 5].user_data = 0x1234567890abcdefULL;
	EXPECT_EQ(0x1234567890abcdefULL, b[5].user_data);
	b[63].user_data = 42;
	EXPECT_EQ(42, a[3 * COREY_KCORE_RING_SLOTS + 63].user_data);
	/* never executable */
	EXPECT_ERRNO(EACCES, mprotect(b, pg, PROT_READ | PROT_WRITE | PROT_EXEC));
	munmap(b, pg);
	munmap(a, 4 * pg);
	close(fd);
}

/* ---- ATTACH, DETACH, WAIT ---- */

static long attach_in_worker(void *arg)
{
	struct kcore_raw *kc = ((void **)arg)[0];
	unsigned int ring = (unsigned int)(uintptr_t)((void **)arg)[1];

	return kcore_raw_attach(kc->fd, ring);
}

static long detach_in_worker(void *arg)
{
	struct kcore_raw *kc = ((void **)arg)[0];
	unsigned int ring = (unsigned int)(uintptr_t)((void **)arg)[1];

	return kcore_raw_detach(kc->fd, ring);
}

TEST(attach_and_detach)
{
	struct corey_kcore_attach a;
	struct kcore_raw kc;
	struct worker w;
	void *args[2];
	int err;

	ASSERT_EQ(0, kcore_raw_create(&kc, kcore_pick_cpu(), 2, IDLE_US));
	EXPECT_ERRNO(EINVAL, kcore_raw_attach(kc.fd, 2));
	EXPECT_ERRNO(EINVAL, kcore_raw_attach(kc.fd, UINT_MAX));
	a = (struct corey_kcore_attach){ .ring = 0, .flags = 1 };
	EXPECT_ERRNO(EINVAL, ioctl(kc.fd, COREY_KCORE_ATTACH, &a));
	a.flags = 0x80000000;
	EXPECT_ERRNO(EINVAL, ioctl(kc.fd, COREY_KCORE_ATTACH, &a));
	EXPECT_ERRNO(EFAULT, ioctl(kc.fd, COREY_KCORE_ATTACH, NULL));
	EXPECT_ERRNO(EFAULT, ioctl(kc.fd, COREY_KCORE_ATTACH,
				   (void *)KCORE_KERNEL_ADDR));

	ASSERT_EQ(0, kcore_raw_attach(kc.fd, 0));
	/* attaching one's own ring again is fine */
	EXPECT_EQ(0, kcore_raw_attach(kc.fd, 0));

	ASSERT_EQ(0, worker_start(&w));
	args[0] = &kc;
	args[1] = (void *)0;
	EXPECT_EQ(-1, worker_call(&w, attach_in_worker, args, &err));
	EXPECT_EQ(EBUSY, err);
	EXPECT_EQ(-1, worker_call(&w, detach_in_worker, args, &err));
	EXPECT_EQ(EINVAL, err);
	args[1] = (void *)1;
	EXPECT_EQ(0, worker_call(&w, attach_in_worker, args, &err));
	/* the worker owns ring 1 now */
	EXPECT_ERRNO(EBUSY, kcore_raw_attach(kc.fd, 1));
	EXPECT_ERRNO(EINVAL, kcore_raw_detach(kc.fd, 1));

	/* DETACH's own checks */
	EXPECT_ERRNO(EINVAL, kcore_raw_detach(kc.fd, 2));
	a = (struct corey_kcore_attach){ .ring = 0, .flags = 1 };
	EXPECT_ERRNO(EINVAL, ioctl(kc.fd, COREY_KCORE_DETACH, &a));
	EXPECT_ERRNO(EFAULT, ioctl(kc.fd, COREY_KCORE_DETACH, NULL));
	EXPECT_EQ(0, kcore_raw_detach(kc.fd, 0));
	EXPECT_ERRNO(EINVAL, kcore_raw_detach(kc.fd, 0));

	/* a detached ring is free for anyone */
	args[1] = (void *)0;
	EXPECT_EQ(0, worker_call(&w, attach_in_worker, args, &err));
	EXPECT_ERRNO(EBUSY, kcore_raw_attach(kc.fd, 0));
	EXPECT_EQ(0, worker_call(&w, detach_in_worker, args, &err));
	EXPECT_EQ(0, kcore_raw_attach(kc.fd, 0));

	/* the producer of ring 1 exits: the ring can be attached again */
	worker_stop(&w);
	EXPECT_EQ(0, kcore_raw_attach(kc.fd, 1));
	kcore_raw_destroy(&kc);
}

TEST(only_attached_rings_are_served)
{
	struct kcore_raw_client c;
	struct kcore_raw_req req;
	struct kcore_raw kc;
	const uint64_t none[6] = { 0 };

	ASSERT_EQ(0, kcore_raw_create(&kc, kcore_pick_cpu(), 1, IDLE_US));
	c = (struct kcore_raw_client){ .kc = &kc, .ring = 0 };

	/* not attached: posted, never served */
	kcore_raw_post(&c, COREY_KCORE_OP_NOP, none, &req);
	EXPECT_TRUE(slot_untouched_for(&kcore_raw_ring(&kc, 0)[req.slot],
				       req.seq, 200));
	/* attached: served, with the expected completion value */
	ASSERT_EQ(0, kcore_raw_attach(kc.fd, 0));
	kcore_raw_kick(&kc, 0);
	ASSERT_EQ(0, kcore_raw_wait_done(&kc, 0, &req, KCORE_BOUND_MS));
	EXPECT_EQ(2, kcore_raw_ring(&kc, 0)[0].seq);
	EXPECT_EQ(COREY_KCORE_DONE, kcore_status(req.op));
	EXPECT_EQ(COREY_KCORE_OP_NOP, req.op & COREY_KCORE_OP_MASK);
	EXPECT_EQ(0, req.arg[0]);
	/* user_data is never touched */
	EXPECT_EQ(0, kcore_raw_ring(&kc, 0)[0].user_data);

	/* detached again: the ring stops being served */
	ASSERT_EQ(0, kcore_raw_detach(kc.fd, 0));
	kcore_raw_post(&c, COREY_KCORE_OP_NOP, none, &req);
	EXPECT_TRUE(slot_untouched_for(&kcore_raw_ring(&kc, 0)[req.slot],
				       req.seq, 200));
	ASSERT_EQ(0, kcore_raw_attach(kc.fd, 0));
	kcore_raw_kick(&kc, 0);
	ASSERT_EQ(0, kcore_raw_wait_done(&kc, 0, &req, KCORE_BOUND_MS));
	EXPECT_EQ(COREY_KCORE_DONE, kcore_status(req.op));
	kcore_raw_destroy(&kc);
}

TEST(wait_and_wake)
{
	struct corey_kcore_wait w;
	struct corey_kcore_slot *s;
	struct kcore_raw kc;

	ASSERT_EQ(0, kcore_raw_create(&kc, kcore_pick_cpu(), 2, IDLE_US));
	EXPECT_EQ(0, kcore_raw_wake(kc.fd));

	EXPECT_ERRNO(EINVAL, kcore_raw_wait(kc.fd, 2, 0, 1));
	EXPECT_ERRNO(EINVAL, kcore_raw_wait(kc.fd, UINT_MAX, 0, 1));
	EXPECT_ERRNO(EINVAL, kcore_raw_wait(kc.fd, 0, COREY_KCORE_RING_SLOTS, 1));
	EXPECT_ERRNO(EINVAL, kcore_raw_wait(kc.fd, 0, UINT_MAX, 1));
	w = (struct corey_kcore_wait){ .ring = 0, .slot = 0, .seq = 1,
				       .flags = 1 };
	EXPECT_ERRNO(EINVAL, ioctl(kc.fd, COREY_KCORE_WAIT, &w));
	EXPECT_ERRNO(EFAULT, ioctl(kc.fd, COREY_KCORE_WAIT, NULL));
	/* the slot's seq (0) already differs from the one given: no wait */
	EXPECT_EQ(0, kcore_raw_wait(kc.fd, 1, 63, 1));
	EXPECT_EQ(0, kcore_raw_wait(kc.fd, 1, 0, 0x12345));

	/* post by hand without any wake-up, then WAIT for it */
	ASSERT_EQ(0, kcore_raw_attach(kc.fd, 0));
	s = &kcore_raw_ring(&kc, 0)[0];
	s->op = COREY_KCORE_OP_NOP;
	s->arg[0] = 77;
	__atomic_store_n(&s->seq, 1, __ATOMIC_RELEASE);
	EXPECT_EQ(0, kcore_raw_wait(kc.fd, 0, 0, 1));
	EXPECT_EQ(2, __atomic_load_n(&s->seq, __ATOMIC_ACQUIRE));
	EXPECT_EQ(COREY_KCORE_DONE, kcore_status(s->op));
	EXPECT_EQ(0, s->arg[0]);
	kcore_raw_destroy(&kc);
}

/* ---- a forked child ---- */

/*
 * What a forked child checks on the parent's descriptor: every failed
 * step is noted in @rep, then touching the parent's ring must kill it.
 */
static void forked_child(struct kcore_raw *kc, struct child_report *rep)
{
	struct corey_kcore_attach a = { 0, 0 };
	struct corey_kcore_wait w = { 0, 0, 1, 0 };
	struct corey_kcore_setup s;
	volatile uint32_t *seq;
	size_t len;

#define STEP(what, expr) do {						\
	errno = 0;							\
	if ((expr) || errno != EPERM) {					\
		len = strlen(rep->msg);					\
		snprintf(rep->msg + len, sizeof(rep->msg) - len,	\
			 "%s: %s, want EPERM; ", what,			\
			 errno ? strerrorname_np(errno) : "success");	\
	}								\
} while (0)
	setup_init(&s, kc->cpu);
	STEP("ATTACH", ioctl(kc->fd, COREY_KCORE_ATTACH, &a) != -1);
	STEP("DETACH", ioctl(kc->fd, COREY_KCORE_DETACH, &a) != -1);
	STEP("WAKE", ioctl(kc->fd, COREY_KCORE_WAKE) != -1);
	STEP("WAIT", ioctl(kc->fd, COREY_KCORE_WAIT, &w) != -1);
	STEP("SETUP", ioctl(kc->fd, COREY_KCORE_SETUP, &s) != -1);
	STEP("mmap ctl", kcore_raw_mmap(kc->fd, COREY_KCORE_OFF_CTL,
					COREY_KCORE_PAGE_SIZE,
					PROT_READ) != MAP_FAILED);
	STEP("mmap ring", kcore_raw_mmap(kc->fd, COREY_KCORE_OFF_RING(0),
					 COREY_KCORE_PAGE_SIZE,
					 PROT_READ | PROT_WRITE) != MAP_FAILED);
#undef STEP
	/* the rings are VM_DONTCOPY: this must kill us with SIGSEGV */
	seq = &kc->rings[0].seq;
	*seq = 1;
	len = strlen(rep->msg);
	snprintf(rep->msg + len, sizeof(rep->msg) - len,
		 "the parent's ring is mapped in the child");
}

TEST(forked_child_gets_eperm_and_no_rings)
{
	struct child_report *rep = child_report_new();
	struct kcore_raw_client c;
	struct kcore_raw_req req;
	const uint64_t none[6] = { 0 };
	struct kcore_raw kc;
	char buf[64];
	int status;
	pid_t pid;

	ASSERT_NE(NULL, rep);
	ASSERT_EQ(0, kcore_raw_create(&kc, kcore_pick_cpu(), 1, IDLE_US));
	ASSERT_EQ(0, kcore_raw_attach(kc.fd, 0));
	c = (struct kcore_raw_client){ .kc = &kc, .ring = 0 };
	ASSERT_EQ(0, kcore_raw_call(&c, COREY_KCORE_OP_NOP, none, &req));

	pid = fork();
	ASSERT_LE(0, pid);
	if (pid == 0) {
		forked_child(&kc, rep);
		_exit(0);
	}
	ASSERT_EQ(0, waitpid_timeout(pid, &status, 30000));
	EXPECT_EQ(0, rep->msg[0]) TH_LOG("child: %s", rep->msg);
	EXPECT_TRUE(WIFSIGNALED(status) && WTERMSIG(status) == SIGSEGV)
		TH_LOG("child %s", wstatus_str(status, buf, sizeof(buf)));

	/* the parent's kernel core is unaffected */
	ASSERT_EQ(0, kcore_raw_call(&c, COREY_KCORE_OP_NOP, none, &req));
	EXPECT_EQ(COREY_KCORE_DONE, kcore_status(req.op));
	kcore_raw_destroy(&kc);
}

TEST(forked_child_can_have_its_own)
{
	int status, cpu = kcore_pick_cpu();
	char buf[64];
	pid_t pid;

	pid = fork();
	ASSERT_LE(0, pid);
	if (pid == 0) {
		struct kcore_raw_client c;
		struct kcore_raw_req req;
		const uint64_t none[6] = { 0 };
		struct kcore_raw kc;

		if (kcore_raw_create(&kc, cpu, 1, IDLE_US) ||
		    kcore_raw_attach(kc.fd, 0))
			_exit(1);
		c = (struct kcore_raw_client){ .kc = &kc, .ring = 0 };
		if (kcore_raw_call(&c, COREY_KCORE_OP_NOP, none, &req) ||
		    kcore_status(req.op) != COREY_KCORE_DONE)
			_exit(2);
		_exit(0);
	}
	ASSERT_EQ(0, waitpid_timeout(pid, &status, 30000));
	EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0)
		TH_LOG("child %s", wstatus_str(status, buf, sizeof(buf)));
}

/* ---- the kernel core's thread ---- */

TEST(setup_tid_is_our_pinned_kcore_thread)
{
	struct kcore_raw_client c;
	struct kcore_raw_req req;
	const uint64_t none[6] = { 0 };
	char comm[32], want[32];
	struct task_stat st;
	struct kcore_raw kc;
	cpu_set_t mine, set;
	int cpu, n = 0;

	ASSERT_EQ(0, sched_getaffinity(0, sizeof(mine), &mine));
	for (cpu = 0; cpu < CPU_SETSIZE; cpu++) {
		if (!CPU_ISSET(cpu, &mine) || cpu_is_online(cpu) != 1)
			continue;
		n++;
		ASSERT_EQ(0, kcore_raw_create(&kc, cpu, 1, IDLE_US));
		ASSERT_NE(getpid(), kc.tid);
		ASSERT_NE(gettid(), kc.tid);
		EXPECT_TRUE(our_thread(kc.tid));
		EXPECT_EQ(getpid(), task_tgid(kc.tid));
		ASSERT_EQ(0, task_comm_read(0, kc.tid, comm, sizeof(comm)));
		snprintf(want, sizeof(want), "kcore/%d", cpu);
		EXPECT_STREQ(want, comm);
		ASSERT_EQ(0, sched_getaffinity(kc.tid, sizeof(set), &set));
		EXPECT_EQ(1, CPU_COUNT(&set));
		EXPECT_TRUE(CPU_ISSET(cpu, &set));

		/* it has served from there */
		ASSERT_EQ(0, kcore_raw_attach(kc.fd, 0));
		c = (struct kcore_raw_client){ .kc = &kc, .ring = 0 };
		ASSERT_EQ(0, kcore_raw_call(&c, COREY_KCORE_OP_NOP, none, &req));
		ASSERT_EQ(0, task_stat_read(0, kc.tid, &st));
		EXPECT_EQ(cpu, st.processor);
		EXPECT_EQ(cpu, (int)kc.ctl[0].cpu);
		EXPECT_EQ(0, kcore_raw_flags(&kc, 0) &
			     (COREY_KCORE_DEAD | COREY_KCORE_HOMELESS |
			      COREY_KCORE_MIGRATED));
		kcore_raw_destroy(&kc);
		EXPECT_TRUE(kcore_thread_gone(kc.tid, KCORE_BOUND_MS));
	}
	ASSERT_LT(0, n);
}

COREY_KCORE_TEST_MAIN
