// SPDX-License-Identifier: GPL-2.0
/*
 * Address ranges: what the kernel counts.  Shared tables are page-table
 * memory once system-wide (/proc/meminfo PageTables) but a link in every
 * process (VmPTE); AR pages are shared in smaps (Shared_*, Pss split
 * between the processes that link them), not in VmRSS/RssShmem, and
 * unevictable while the object lives; the object is charged to
 * RLIMIT_MEMLOCK and the charge goes with the last fd and mapping.  And
 * many fork/exit cycles leave check_mm silent (the fixture scans the log
 * for "Bad rss-counter" and "pgtables_bytes").
 */
#include <fcntl.h>
#include <sys/resource.h>
#include <sys/wait.h>

#include "ar_test.h"

#define MIB (1UL << 20)
#define KIB_PER_TABLE 4

/* generous: TCG with a debug kernel is slow; children are bounded anyway */
#define AR_TEST_S 180

AR_FIXTURE(ar)

/* Children that map (or not) an object and wait until told to go. */
struct group {
	int n;
	pid_t pid[16];
	int ready[2];		/* each child writes one byte when set up */
	int release[2];		/* closed by the parent: the children exit */
};

static int group_start(struct group *g, int n, int fd, size_t len, bool map)
{
	int i;

	g->n = 0;
	if (pipe(g->ready) || pipe(g->release))
		return -1;
	fflush(stdout);
	for (i = 0; i < n; i++) {
		pid_t pid = fork();

		if (pid < 0)
			return -1;
		if (pid == 0) {
			char c;

			close(g->release[1]);
			if (map && ar_mmap(NULL, len, fd, 0, 0) == MAP_FAILED)
				_exit(1);
			ar_send(g->ready[1], 'r');
			/* EOF when the parent closes its end */
			while (read(g->release[0], &c, 1) > 0)
				;
			_exit(0);
		}
		g->pid[g->n++] = pid;
	}
	/* a child that fails before saying 'r' is then EOF, not a timeout */
	close(g->ready[1]);
	g->ready[1] = -1;
	for (i = 0; i < n; i++)
		if (ar_recv(g->ready[0], AR_CHILD_MS) != 'r')
			return -1;
	return 0;
}

static int group_stop(struct group *g)
{
	int i, st, bad = 0;

	close(g->release[1]);
	close(g->release[0]);
	close(g->ready[0]);
	for (i = 0; i < g->n; i++) {
		if (waitpid_timeout(g->pid[i], &st, AR_CHILD_MS))
			kill_and_reap(g->pid[i], 10000, &st), bad++;
		else if (!WIFEXITED(st) || WEXITSTATUS(st))
			bad++;
	}
	return bad;
}

/*
 * Ten processes link 32 tables each: PageTables grows by 32 tables (plus
 * the few upper-level tables each process may need for the new region),
 * not by 320; each process's VmPTE grows by 32 tables.
 */
TEST_F_TIMEOUT(ar, pagetables_once, AR_TEST_S)
{
	const size_t len = 64 * MIB;
	const long tables_kb = len / AR_GRANULE * KIB_PER_TABLE;	/* 128 */
	long base, idle, mapped, pte_idle, pte_mapped;
	struct group g;
	int fd = ar_memfd(len, 0);

	ASSERT_LE(0, fd);
	/* freeze it here: the children only link */
	{
		void *p = ar_mmap(NULL, len, fd, 0, 0);

		ASSERT_NE(MAP_FAILED, p);
		munmap(p, len);
	}
	base = ar_meminfo_kb("PageTables");
	ASSERT_LT(0, base);
	/* what ten processes cost without the mapping */
	ASSERT_EQ(0, group_start(&g, 10, fd, len, false));
	idle = ar_meminfo_kb("PageTables") - base;
	pte_idle = ar_status_kb(g.pid[0], "VmPTE");
	ASSERT_EQ(0, group_stop(&g));
	/* and with it */
	base = ar_meminfo_kb("PageTables");
	ASSERT_EQ(0, group_start(&g, 10, fd, len, true));
	mapped = ar_meminfo_kb("PageTables") - base;
	pte_mapped = ar_status_kb(g.pid[0], "VmPTE");
	ASSERT_EQ(0, group_stop(&g));
	TH_LOG("10 processes: PageTables +%ld kB idle, +%ld kB mapping 64 MiB "
	       "(one set of tables: %ld kB; one per process: %ld kB); "
	       "VmPTE %ld kB idle, %ld kB mapping",
	       idle, mapped, tables_kb, 10 * tables_kb, pte_idle, pte_mapped);
	/* at least the shared tables, once */
	EXPECT_LE(tables_kb - 16, mapped - idle);
	/* at most those plus three upper-level tables per process */
	EXPECT_GE(tables_kb + 10 * 3 * KIB_PER_TABLE + 32, mapped - idle)
		TH_LOG("page tables are not shared (or not counted once)");
	/* VmPTE counts each link in each process */
	EXPECT_LE(tables_kb, pte_mapped - pte_idle);
	EXPECT_GE(tables_kb + 3 * KIB_PER_TABLE, pte_mapped - pte_idle);
	close(fd);
}

/*
 * The debugfs counts: one table per granule however many processes map
 * it, one link per granule per process; both go back when they unmap.
 */
static char *inherited;	/* the parent's mapping: a child drops it first */

static int link_child(struct child_report *rep, void *arg)
{
	int *a = arg;	/* fd, ready write end, go read end */
	char *p;

	/* fork linked the parent's mapping: one mapping per process here */
	CHILD_CHECK(rep, munmap(inherited, 8 * MIB) == 0, "munmap inherited");
	p = ar_mmap(NULL, 8 * MIB, a[0], 0, 0);

	CHILD_CHECK(rep, p != MAP_FAILED, "mmap");
	ar_send(a[1], 'm');
	ar_recv(a[2], AR_CHILD_MS);
	return 0;
}

TEST_F_TIMEOUT(ar, debugfs_counts, AR_TEST_S)
{
	struct child_report *rep = child_report_new();
	long t0, l0, t1, l1, t2, l2, t3, l3;
	int fd = ar_memfd(8 * MIB, 0), up[2], down[2], a[3];
	pid_t pid;
	char *p;

	ASSERT_NE(NULL, rep);
	ASSERT_LE(0, fd);
	ASSERT_EQ(0, ar_counters_read(&t0, &l0))
		TH_LOG("%s/tables and links must exist with the feature", AR_DEBUGFS);
	p = ar_mmap(NULL, 8 * MIB, fd, 0, 0);
	ASSERT_NE(MAP_FAILED, p);
	inherited = p;
	ASSERT_EQ(0, ar_counters_read(&t1, &l1));
	ASSERT_EQ(0, pipe(up));
	ASSERT_EQ(0, pipe(down));
	a[0] = fd;
	a[1] = up[1];
	a[2] = down[0];
	pid = ar_spawn(link_child, a, rep);
	ASSERT_LT(0, pid);
	close(up[1]);
	ASSERT_EQ('m', ar_recv(up[0], AR_CHILD_MS)) {
		AR_REAP_LOG(pid, rep);
	}
	ASSERT_EQ(0, ar_counters_read(&t2, &l2));
	ASSERT_EQ(0, ar_send(down[1], 'g'));
	AR_REAP_OK(pid, rep);
	ASSERT_EQ(0, ar_counters_read(&t3, &l3));
	TH_LOG("tables/links: %ld/%ld, one process %ld/%ld, two %ld/%ld, one again %ld/%ld",
	       t0, l0, t1, l1, t2, l2, t3, l3);
	EXPECT_EQ(t0 + 4, t1);
	EXPECT_EQ(l0 + 4, l1);
	EXPECT_EQ(t1, t2) TH_LOG("a second process made tables of its own");
	EXPECT_EQ(l1 + 4, l2);
	EXPECT_EQ(t1, t3);
	EXPECT_EQ(l1, l3);
	ASSERT_EQ(0, munmap(p, 8 * MIB));
	close(fd);
}

/* VmPTE follows mmap and munmap in one process. */
TEST_F_TIMEOUT(ar, vmpte_per_link, AR_TEST_S)
{
	const size_t len = 32 * MIB;
	long before, mapped, after;
	int fd = ar_memfd(len, 0);
	char *p;

	ASSERT_LE(0, fd);
	before = ar_status_kb(0, "VmPTE");
	p = ar_mmap(NULL, len, fd, 0, 0);
	ASSERT_NE(MAP_FAILED, p);
	mapped = ar_status_kb(0, "VmPTE");
	ASSERT_EQ(0, munmap(p, len));
	after = ar_status_kb(0, "VmPTE");
	TH_LOG("VmPTE %ld -> %ld -> %ld kB", before, mapped, after);
	/* prelinked at mmap: every granule's table, before any touch */
	EXPECT_LE((long)(len / AR_GRANULE * KIB_PER_TABLE), mapped - before);
	EXPECT_GE((long)(len / AR_GRANULE * KIB_PER_TABLE + 3 * KIB_PER_TABLE),
		  mapped - before);
	EXPECT_GE(before + 3 * KIB_PER_TABLE, after);
	close(fd);
}

/* Two or three processes: Shared_*, not Private_*; Pss = Rss / linkers. */
static int smaps_child(struct child_report *rep, void *arg)
{
	int *fdp = arg;
	char *q;

	/* one link per process: drop the one fork gave us */
	CHILD_CHECK(rep, munmap(inherited, 16 * MIB) == 0, "munmap inherited");
	q = ar_mmap(NULL, 16 * MIB, *fdp, 0, 0);

	CHILD_CHECK(rep, q != MAP_FAILED, "mmap");
	CHILD_CHECK(rep, ar_faults_reading(q, 16 * MIB) == 0, "faults");
	ar_send(fdp[1], 'm');
	ar_recv(fdp[2], AR_CHILD_MS);
	return 0;
}

static void expect_smaps(struct __test_metadata *_metadata, pid_t pid,
			 void *addr, long rss_kb, int linkers)
{
	struct ar_smaps sm;

	ASSERT_EQ(0, ar_smaps_read(pid, addr, &sm));
	TH_LOG("pid %d, %d linkers: Rss %ld Pss %ld Shared %ld+%ld Private %ld+%ld Locked %ld VmFlags%s",
	       pid, linkers, sm.rss, sm.pss, sm.shared_clean, sm.shared_dirty,
	       sm.private_clean, sm.private_dirty, sm.locked, sm.vmflags);
	EXPECT_TRUE(sm.ar_flag);
	EXPECT_EQ(rss_kb, sm.rss);
	EXPECT_EQ(sm.rss, sm.shared_clean + sm.shared_dirty);
	EXPECT_EQ(0, sm.private_clean + sm.private_dirty);
	EXPECT_LE(rss_kb / linkers - rss_kb / 20, sm.pss);
	EXPECT_GE(rss_kb / linkers + rss_kb / 20, sm.pss);
}

TEST_F_TIMEOUT(ar, smaps_shared_pss, AR_TEST_S)
{
	struct child_report *r1 = child_report_new(), *r2 = child_report_new();
	int fd = ar_memfd(16 * MIB, 0), pipes[4], a1[3], a2[3];
	pid_t c1, c2;
	char *p;

	ASSERT_NE(NULL, r1);
	ASSERT_NE(NULL, r2);
	ASSERT_LE(0, fd);
	ASSERT_EQ(0, pipe(pipes));
	ASSERT_EQ(0, pipe(pipes + 2));
	p = ar_mmap(NULL, 16 * MIB, fd, 0, 0);
	ASSERT_NE(MAP_FAILED, p);
	inherited = p;
	ar_fill(p, 16 * MIB, 5);
	a1[0] = a2[0] = fd;
	a1[1] = a2[1] = pipes[1];
	a1[2] = a2[2] = pipes[2];
	c1 = ar_spawn(smaps_child, a1, r1);
	ASSERT_LT(0, c1);
	ASSERT_EQ('m', ar_recv(pipes[0], AR_CHILD_MS)) {
		AR_REAP_LOG(c1, r1);
	}
	expect_smaps(_metadata, 0, p, 16 * 1024, 2);
	c2 = ar_spawn(smaps_child, a2, r2);
	ASSERT_LT(0, c2);
	ASSERT_EQ('m', ar_recv(pipes[0], AR_CHILD_MS)) {
		AR_REAP_LOG(c2, r2);
	}
	expect_smaps(_metadata, 0, p, 16 * 1024, 3);
	{
		/* the children's view: find their mapping through their smaps */
		char path[64], line[256];
		unsigned long lo = 0, hi;
		FILE *f;

		snprintf(path, sizeof(path), "/proc/%d/maps", c2);
		f = fopen(path, "re");
		ASSERT_NE(NULL, f);
		while (fgets(line, sizeof(line), f))
			if (sscanf(line, "%lx-%lx", &lo, &hi) == 2 &&
			    hi - lo == 16 * MIB && strstr(line, "memfd:ar-test"))
				break;
		fclose(f);
		ASSERT_NE(0, lo);
		expect_smaps(_metadata, c2, (void *)lo, 16 * 1024, 3);
	}
	ASSERT_EQ(0, ar_send(pipes[3], 'g'));
	ASSERT_EQ(0, ar_send(pipes[3], 'g'));
	AR_REAP_OK(c1, r1);
	AR_REAP_OK(c2, r2);
	ASSERT_EQ(0, munmap(p, 16 * MIB));
	close(fd);
}

/* AR pages are charged to memlock, not to VmRSS or RssShmem. */
TEST_F_TIMEOUT(ar, rss_not_counted, AR_TEST_S)
{
	const size_t len = 32 * MIB;
	long rss0, shm0, rss1, shm1;
	int fd = ar_memfd(len, 0);
	char *p;

	ASSERT_LE(0, fd);
	rss0 = ar_status_kb(0, "VmRSS");
	shm0 = ar_status_kb(0, "RssShmem");
	p = ar_mmap(NULL, len, fd, 0, 0);
	ASSERT_NE(MAP_FAILED, p);
	ar_fill(p, len, 6);
	rss1 = ar_status_kb(0, "VmRSS");
	shm1 = ar_status_kb(0, "RssShmem");
	TH_LOG("after touching 32 MiB: VmRSS %ld -> %ld kB, RssShmem %ld -> %ld kB",
	       rss0, rss1, shm0, shm1);
	EXPECT_GT(1024, shm1 - shm0);
	EXPECT_GT(1024, rss1 - rss0);
	ASSERT_EQ(0, munmap(p, len));
	close(fd);
}

/* Unevictable and Shmem grow by the touched pages and come back. */
TEST_F_TIMEOUT(ar, unevictable_and_shmem, AR_TEST_S)
{
	const size_t len = 32 * MIB, touched = 16 * MIB;
	long unev0, shm0, unev1, shm1, unev2, shm2;
	int fd;
	char *p;

	unev0 = ar_meminfo_kb("Unevictable");
	shm0 = ar_meminfo_kb("Shmem");
	fd = ar_memfd(len, 0);
	ASSERT_LE(0, fd);
	p = ar_mmap(NULL, len, fd, 0, 0);
	ASSERT_NE(MAP_FAILED, p);
	ar_fill(p, touched, 7);
	unev1 = ar_meminfo_kb("Unevictable");
	shm1 = ar_meminfo_kb("Shmem");
	ASSERT_EQ(0, munmap(p, len));
	close(fd);
	unev2 = ar_meminfo_kb("Unevictable");
	shm2 = ar_meminfo_kb("Shmem");
	TH_LOG("touching 16 of 32 MiB: Unevictable %ld -> %ld -> %ld kB, Shmem %ld -> %ld -> %ld kB",
	       unev0, unev1, unev2, shm0, shm1, shm2);
	/* per-CPU LRU batches hold a few pages back: 1 MiB of slack */
	EXPECT_LE((long)(touched / 1024) - 1024, unev1 - unev0);
	EXPECT_GE((long)(touched / 1024) + 1024, unev1 - unev0);
	EXPECT_LE((long)(touched / 1024) - 1024, shm1 - shm0);
	EXPECT_GE(1024, labs(unev2 - unev0)) TH_LOG("Unevictable did not come back");
	EXPECT_GE(1024, labs(shm2 - shm0)) TH_LOG("Shmem did not come back");
}

/*
 * The memlock charge lives as long as the object: an fd or a mapping
 * keeps it, the last of them releases it.  An unprivileged uid of its own
 * with an 8 MiB limit.
 */
static int memlock_release_child(struct child_report *rep, void *arg)
{
	struct rlimit rl = { 8 * MIB, 8 * MIB };
	uid_t uid = 43211;
	int fd, fd2;
	char *p, *q;
	pid_t pid;
	int st;

	(void)arg;
	CHILD_CHECK(rep, setrlimit(RLIMIT_MEMLOCK, &rl) == 0, "setrlimit");
	CHILD_CHECK(rep, setresgid(uid, uid, uid) == 0, "setresgid");
	CHILD_CHECK(rep, setresuid(uid, uid, uid) == 0, "setresuid");
	fd = ar_memfd(8 * MIB, 0);
	CHILD_CHECK(rep, fd >= 0, "memfd");
	p = ar_mmap(NULL, 8 * MIB, fd, 0, 0);
	CHILD_CHECK(rep, p != MAP_FAILED, "the whole limit");
	fd2 = ar_memfd(2 * MIB, 0);
	CHILD_CHECK(rep, fd2 >= 0, "memfd");
	q = ar_mmap(NULL, 2 * MIB, fd2, 0, 0);
	CHILD_CHECK(rep, q == MAP_FAILED && errno == EAGAIN, "beyond the limit: %s",
		    q == MAP_FAILED ? strerrorname_np(errno) : "mapped");
	/* the mapping alone keeps the charge */
	close(fd);
	q = ar_mmap(NULL, 2 * MIB, fd2, 0, 0);
	CHILD_CHECK(rep, q == MAP_FAILED && errno == EAGAIN,
		    "fd closed, still mapped: %s",
		    q == MAP_FAILED ? strerrorname_np(errno) : "mapped");
	/* so does a forked child's mapping after ours is gone */
	pid = fork();
	CHILD_CHECK(rep, pid >= 0, "fork");
	if (pid == 0) {
		usleep(300000);
		_exit(0);
	}
	CHILD_CHECK(rep, munmap(p, 8 * MIB) == 0, "munmap");
	q = ar_mmap(NULL, 2 * MIB, fd2, 0, 0);
	CHILD_CHECK(rep, q == MAP_FAILED && errno == EAGAIN,
		    "only a child maps it: %s",
		    q == MAP_FAILED ? strerrorname_np(errno) : "mapped");
	CHILD_CHECK(rep, waitpid_timeout(pid, &st, AR_CHILD_MS) == 0, "child");
	/* nothing holds it now: the headroom is back, all of it */
	q = ar_mmap(NULL, 2 * MIB, fd2, 0, 0);
	CHILD_CHECK(rep, q != MAP_FAILED, "after the last mapping: %s",
		    strerrorname_np(errno) ?: "?");
	munmap(q, 2 * MIB);
	close(fd2);
	fd = ar_memfd(8 * MIB, 0);
	CHILD_CHECK(rep, fd >= 0, "memfd");
	p = ar_mmap(NULL, 8 * MIB, fd, 0, 0);
	CHILD_CHECK(rep, p != MAP_FAILED, "a full-size object again: %s",
		    strerrorname_np(errno) ?: "?");
	return 0;
}

TEST_F_TIMEOUT(ar, memlock_released, AR_TEST_S)
{
	struct child_report *rep = child_report_new();
	int ret, status;

	ASSERT_NE(NULL, rep);
	ret = run_in_child(memlock_release_child, NULL, rep, AR_CHILD_MS, &status);
	ASSERT_CHILD_OK(ret, status, rep);
}

/*
 * Fork/exit cycles with the mapping inherited and a page touched in each
 * child: any imbalance in rss or page-table accounting prints "Bad
 * rss-counter" or "pgtables_bytes" at the child's exit (the fixture
 * fails on it).  Bounded by time as well as by count.
 */
TEST_F_TIMEOUT(ar, fork_exit_cycles, 120)
{
	const size_t len = 8 * MIB;
	int fd = ar_memfd(len, 0), i, st, n = env_long("AR_FORK_CYCLES", 1000);
	int64_t end = kcore_now_ms() + 30000;
	char *p;

	ASSERT_LE(0, fd);
	p = ar_mmap(NULL, len, fd, 0, 0);
	ASSERT_NE(MAP_FAILED, p);
	ar_fill(p, len / 2, 8);
	for (i = 0; i < n && kcore_now_ms() < end; i++) {
		pid_t pid = fork();

		ASSERT_LE(0, pid);
		if (pid == 0) {
			/* an old page, a new page, and a write */
			size_t pg = (i * 7919) % (len / AR_PAGE);

			p[pg * AR_PAGE + 32] = (char)i;
			if (ar_check(p, AR_PAGE, 8) >= 0)
				_exit(2);
			_exit(0);
		}
		ASSERT_EQ(0, waitpid_timeout(pid, &st, AR_CHILD_MS));
		ASSERT_TRUE(WIFEXITED(st) && WEXITSTATUS(st) == 0)
			TH_LOG("cycle %d: status %#x", i, st);
	}
	TH_LOG("%d fork/exit cycles", i);
	ASSERT_EQ(-1, ar_check(p, len / 2, 8));
	ASSERT_EQ(0, munmap(p, len));
	close(fd);
}

COREY_AR_TEST_MAIN
