// SPDX-License-Identifier: GPL-2.0
/*
 * Address ranges: the same pages at different virtual addresses in
 * separate processes, through page tables they share.  A second process
 * (or a forked child, or an exec'd image) reads and writes pages another
 * process touched without one minor fault; a page nobody touched costs
 * one fault in whoever touches it first and none in the others; and every
 * ordering of unmap, exit, exec and fork leaves the survivors sharing and
 * the content intact.  Each test ends with the debugfs table and link
 * counts back where they were and no splat in the kernel log (AR_FIXTURE).
 */
#include <fcntl.h>
#include <sys/prctl.h>
#include <sys/wait.h>

#include "ar_test.h"

#define MIB (1UL << 20)

/* generous: TCG with a debug kernel is slow; children are bounded anyway */
#define AR_TEST_S 180

AR_FIXTURE(ar)

/* What a child needs to know about the object its parent made. */
struct obj {
	unsigned long linked;	/* granules the parent still maps (bit mask) */
	int fd;
	size_t size;
	uint64_t seed;
	char *parent_va;	/* the parent's mapping, to be avoided */
	int up[2], down[2];	/* child -> parent, parent -> child */
	int adown[2];		/* parent -> a second child */
};

/*
 * Once the children are forked, the parent lets go of the ends it does
 * not use, so a child that dies shows up as EOF rather than a timeout.
 */
static void obj_spawned(struct obj *o)
{
	close(o->up[1]);
	close(o->down[0]);
}

static int obj_init(struct obj *o, size_t size, uint64_t seed)
{
	memset(o, 0, sizeof(*o));
	o->size = size;
	o->seed = seed;
	o->fd = ar_memfd(size, 0);
	if (o->fd < 0)
		return -1;
	if (pipe(o->up) || pipe(o->down) || pipe(o->adown))
		return -1;
	return 0;
}

/* Does touching @addr kill a child with SIGSEGV? */
static bool segv_at(volatile char *addr)
{
	pid_t pid;
	int st;

	fflush(stdout);
	pid = fork();
	if (pid == 0) {
		(void)*addr;
		_exit(0);
	}
	if (pid < 0 || waitpid_timeout(pid, &st, AR_CHILD_MS))
		return false;
	return WIFSIGNALED(st) && WTERMSIG(st) == SIGSEGV;
}

/* Map at another address than the parent, check it is aligned and ours. */
static char *child_map(struct child_report *rep, struct obj *o)
{
	char *p = ar_mmap_elsewhere(o->size, o->fd, 0, o->parent_va);

	CHILD_CHECK(rep, p != MAP_FAILED, "mapping the object");
	CHILD_CHECK(rep, ((uintptr_t)p & (AR_GRANULE - 1)) == 0, "at %p", p);
	CHILD_CHECK(rep, p != o->parent_va, "same address as the parent");
	return p;
}

/* B: the pages A filled, read and written at B's address, 0 faults. */
static int reader_child(struct child_report *rep, void *arg)
{
	struct obj *o = arg;
	struct ar_smaps sm;
	long faults, bad;
	char *p;
	size_t i;

	if (other_cpu(0) >= 0)
		pin_self(other_cpu(0));
	p = child_map(rep, o);
	faults = ar_faults_reading(p, o->size);
	CHILD_CHECK(rep, faults == 0, "%ld minor faults reading %zu pages A touched",
		    faults, o->size / AR_PAGE);
	faults = ar_faults_writing(p, o->size);
	CHILD_CHECK(rep, faults == 0, "%ld minor faults writing them", faults);
	bad = ar_check(p, o->size, o->seed);
	CHILD_CHECK(rep, bad < 0, "page %ld lacks A's tag", bad);
	CHILD_CHECK(rep, ar_smaps_read(0, p, &sm) == 0, "smaps");
	CHILD_CHECK(rep, sm.ar_flag, "VmFlags '%s' lacks ar", sm.vmflags);
	/* a value for A to find at its own address */
	for (i = 0; i < o->size; i += AR_PAGE)
		*(volatile uint64_t *)(p + i + 16) = ~ar_tag(o->seed, i / AR_PAGE);
	return 0;
}

TEST_F_TIMEOUT(ar, different_va_zero_faults, AR_TEST_S)
{
	struct child_report *rep = child_report_new();
	struct ar_smaps sm;
	struct obj o;
	int ret, status;
	size_t i;
	char *p;

	ASSERT_NE(NULL, rep);
	ASSERT_EQ(0, obj_init(&o, 16 * MIB, 1));
	pin_self(0);
	p = ar_mmap(NULL, o.size, o.fd, 0, 0);
	ASSERT_NE(MAP_FAILED, p) TH_LOG("mmap: %s", strerrorname_np(errno));
	EXPECT_EQ(0, (uintptr_t)p & (AR_GRANULE - 1))
		TH_LOG("the kernel picked %p, not 2 MiB aligned", p);
	ASSERT_EQ(0, ar_smaps_read(0, p, &sm));
	EXPECT_TRUE(sm.ar_flag) TH_LOG("VmFlags '%s' lacks ar", sm.vmflags);
	ar_fill(p, o.size, o.seed);
	o.parent_va = p;

	ret = run_in_child(reader_child, &o, rep, AR_CHILD_MS, &status);
	ASSERT_CHILD_OK(ret, status, rep);
	for (i = 0; i < o.size; i += AR_PAGE)
		ASSERT_EQ(~ar_tag(o.seed, i / AR_PAGE),
			  *(volatile uint64_t *)(p + i + 16))
			TH_LOG("B's write to page %zu not seen at A's address", i / AR_PAGE);
	/* and the file says the same as the mapping */
	{
		uint64_t v;

		ASSERT_EQ(8, pread(o.fd, &v, 8, 5 * AR_PAGE + 16));
		EXPECT_EQ(~ar_tag(o.seed, 5), v);
		v = 12345;
		ASSERT_EQ(8, pwrite(o.fd, &v, 8, 7 * AR_PAGE + 24));
		EXPECT_EQ(12345, *(volatile uint64_t *)(p + 7 * AR_PAGE + 24));
	}
}

/* A child that writes @n pages nobody touched: exactly n faults. */
struct first_touch {
	struct obj *o;
	size_t first, n;	/* pages */
	bool expect_zero;	/* already touched by someone: 0 faults */
};

static int toucher_child(struct child_report *rep, void *arg)
{
	struct first_touch *ft = arg;
	long faults;
	char *p = child_map(rep, ft->o);

	faults = ar_faults_writing(p + ft->first * AR_PAGE, ft->n * AR_PAGE);
	if (ft->expect_zero)
		CHILD_CHECK(rep, faults == 0, "%ld faults on pages already touched",
			    faults);
	else
		CHILD_CHECK(rep, faults == (long)ft->n,
			    "%ld faults writing %zu untouched pages (want one each)",
			    faults, ft->n);
	return 0;
}

TEST_F_TIMEOUT(ar, first_touch_faults_once, AR_TEST_S)
{
	struct child_report *rep = child_report_new();
	struct first_touch ft;
	struct obj o;
	int ret, status;
	long faults;
	char *p;

	ASSERT_NE(NULL, rep);
	ASSERT_EQ(0, obj_init(&o, 8 * MIB, 2));
	p = ar_mmap(NULL, o.size, o.fd, 0, 0);
	ASSERT_NE(MAP_FAILED, p);
	o.parent_va = p;

	/* B touches 16 pages first: 16 faults in B ... */
	ft = (struct first_touch){ .o = &o, .first = 100, .n = 16 };
	ret = run_in_child(toucher_child, &ft, rep, AR_CHILD_MS, &status);
	ASSERT_CHILD_OK(ret, status, rep);
	/* ... none here, although B is gone: the table is ours too */
	faults = ar_faults_reading(p + 100 * AR_PAGE, 16 * AR_PAGE);
	EXPECT_EQ(0, faults) TH_LOG("pages B touched cost A %ld faults", faults);
	/* the other way: A first (one each, in another granule) ... */
	faults = ar_faults_writing(p + 3 * AR_PAGES_PER_GRANULE * AR_PAGE,
				   16 * AR_PAGE);
	EXPECT_EQ(16, faults) TH_LOG("A's first touches of 16 pages: %ld faults", faults);
	/* ... then a new B: none */
	ft = (struct first_touch){ .o = &o, .first = 3 * AR_PAGES_PER_GRANULE,
				   .n = 16, .expect_zero = true };
	ret = run_in_child(toucher_child, &ft, rep, AR_CHILD_MS, &status);
	ASSERT_CHILD_OK(ret, status, rep);
}

/* Fork: the child links the parent's tables, so no fault on anything. */
static int fork_reader(struct child_report *rep, void *arg)
{
	struct obj *o = arg;
	long faults, bad;
	pid_t pid;
	int st;

	faults = ar_faults_reading(o->parent_va, o->size);
	CHILD_CHECK(rep, faults == 0, "forked child: %ld faults reading", faults);
	bad = ar_check(o->parent_va, o->size, o->seed);
	CHILD_CHECK(rep, bad < 0, "page %ld lacks its tag in the child", bad);
	/* and its own child (a second fork generation) */
	pid = fork();
	CHILD_CHECK(rep, pid >= 0, "fork");
	if (pid == 0)
		_exit(ar_faults_writing(o->parent_va, o->size) ? 3 : 0);
	CHILD_CHECK(rep, waitpid_timeout(pid, &st, AR_CHILD_MS) == 0, "grandchild hung");
	CHILD_CHECK(rep, WIFEXITED(st) && WEXITSTATUS(st) == 0,
		    "grandchild took faults writing (status %#x)", st);
	*(volatile uint64_t *)(o->parent_va + 24) = 0xf00d;
	return 0;
}

TEST_F_TIMEOUT(ar, fork_inherits_without_faults, AR_TEST_S)
{
	struct child_report *rep = child_report_new();
	struct obj o;
	int ret, status;
	char *p;

	ASSERT_NE(NULL, rep);
	ASSERT_EQ(0, obj_init(&o, 8 * MIB, 3));
	p = ar_mmap(NULL, o.size, o.fd, 0, 0);
	ASSERT_NE(MAP_FAILED, p);
	ar_fill(p, o.size, o.seed);
	o.parent_va = p;
	ret = run_in_child(fork_reader, &o, rep, AR_CHILD_MS, &status);
	ASSERT_CHILD_OK(ret, status, rep);
	EXPECT_EQ(0xf00d, *(volatile uint64_t *)(p + 24));
}

/*
 * Orderings of two processes A (the test) and B (a child) that both map
 * the object.  B maps, says 'm', then waits for 'g' and does what the
 * variant asks: check it still reads A's data (and A's later writes) with
 * no fault, then say 'd'.
 */
struct peer_args {
	struct obj *o;
	bool b_unmaps;		/* B munmaps before A looks */
	bool b_touches_new;	/* B first-touches granule 2 before exiting */
};

static int peer_child(struct child_report *rep, void *arg)
{
	struct peer_args *pa = arg;
	struct obj *o = pa->o;
	long faults, bad;
	char *p = child_map(rep, o);

	if (pa->b_touches_new)
		ar_fill_from(p + 2 * AR_GRANULE, AR_GRANULE, o->seed + 1,
			     2 * AR_PAGES_PER_GRANULE);
	if (pa->b_unmaps)
		CHILD_CHECK(rep, munmap(p, o->size) == 0, "munmap");
	ar_send(o->up[1], 'm');
	CHILD_CHECK(rep, ar_recv(o->down[0], AR_CHILD_MS) == 'g', "no go");
	if (!pa->b_unmaps) {
		/* A has unmapped (or not): B reads what A wrote, fault-free */
		faults = ar_faults_reading(p, AR_GRANULE);
		CHILD_CHECK(rep, faults == 0, "%ld faults after A's unmap", faults);
		bad = ar_check(p, AR_GRANULE, o->seed + 7);
		CHILD_CHECK(rep, bad < 0, "page %ld lacks A's late tag", bad);
	}
	ar_send(o->up[1], 'd');
	return 0;
}

static void run_peer(struct __test_metadata *_metadata, bool a_unmaps,
		     bool b_unmaps, bool b_touches_new)
{
	struct child_report *rep = child_report_new();
	struct peer_args pa;
	struct obj o;
	long faults, bad;
	char *p;
	pid_t pid;

	ASSERT_NE(NULL, rep);
	ASSERT_EQ(0, obj_init(&o, 6 * MIB, 4));
	p = ar_mmap(NULL, o.size, o.fd, 0, 0);
	ASSERT_NE(MAP_FAILED, p);
	ar_fill(p, 2 * AR_GRANULE, o.seed);
	o.parent_va = p;
	pa = (struct peer_args){ .o = &o, .b_unmaps = b_unmaps,
				 .b_touches_new = b_touches_new };
	pid = ar_spawn(peer_child, &pa, rep);
	ASSERT_LT(0, pid);
	obj_spawned(&o);
	ASSERT_EQ('m', ar_recv(o.up[0], AR_CHILD_MS)) {
		AR_REAP_LOG(pid, rep);
	}
	/* the late tag, written while B maps: B must see it */
	ar_fill(p, AR_GRANULE, o.seed + 7);
	if (b_touches_new) {
		/* B first-touched granule 2: A has it without a fault */
		faults = ar_faults_reading(p + 2 * AR_GRANULE, AR_GRANULE);
		EXPECT_EQ(0, faults) TH_LOG("%ld faults on what B touched", faults);
		bad = ar_check_from(p + 2 * AR_GRANULE, AR_GRANULE, o.seed + 1,
				    2 * AR_PAGES_PER_GRANULE);
		EXPECT_GT(0, bad) TH_LOG("page %ld of granule 2 lacks B's tag", bad);
	}
	if (a_unmaps) {
		ASSERT_EQ(0, munmap(p, o.size));
	}
	ASSERT_EQ(0, ar_send(o.down[1], 'g'));
	ASSERT_EQ('d', ar_recv(o.up[0], AR_CHILD_MS)) {
		AR_REAP_LOG(pid, rep);
	}
	AR_REAP_OK(pid, rep);
	if (a_unmaps) {
		/* A maps again after B exited: the pages are all still there */
		p = ar_mmap(NULL, o.size, o.fd, 0, 0);
		ASSERT_NE(MAP_FAILED, p);
	}
	bad = ar_check(p, AR_GRANULE, o.seed + 7);
	EXPECT_GT(0, bad) TH_LOG("page %ld lost its late tag", bad);
	bad = ar_check_from(p + AR_GRANULE, AR_GRANULE, o.seed, AR_PAGES_PER_GRANULE);
	EXPECT_GT(0, bad) TH_LOG("page %ld lost its tag", bad);
	if (!a_unmaps) {
		/* A's table was never let go: its entries are all there */
		faults = ar_faults_reading(p, 2 * AR_GRANULE);
		EXPECT_EQ(0, faults) TH_LOG("%ld faults on A's own pages", faults);
	}
	ASSERT_EQ(0, munmap(p, o.size));
	close(o.fd);
}

TEST_F_TIMEOUT(ar, order_a_unmaps_first, AR_TEST_S)
{
	run_peer(_metadata, true, false, false);
}

TEST_F_TIMEOUT(ar, order_b_unmaps_first, AR_TEST_S)
{
	run_peer(_metadata, false, true, false);
}

TEST_F_TIMEOUT(ar, order_b_exits_mapped, AR_TEST_S)
{
	run_peer(_metadata, false, false, true);
}

/*
 * A and B are both children of the test (which maps nothing): A maps and
 * fills, B maps, A exits, and B still reads everything without a fault;
 * then B exits and nothing may be left (the fixture checks).
 */
static int a_child(struct child_report *rep, void *arg)
{
	struct obj *o = arg;
	char *p = ar_mmap(NULL, o->size, o->fd, 0, 0);

	CHILD_CHECK(rep, p != MAP_FAILED, "A's mmap");
	ar_fill(p, o->size, o->seed);
	ar_send(o->up[1], 'f');
	/* exit mapped, once B maps too: the exit path unlinks */
	CHILD_CHECK(rep, ar_recv(o->adown[0], AR_CHILD_MS) == 'x', "no exit order");
	return 0;
}

static int b_child(struct child_report *rep, void *arg)
{
	struct obj *o = arg;
	long faults, bad;
	char *p;

	CHILD_CHECK(rep, ar_recv(o->down[0], AR_CHILD_MS) == 'f', "no fill");
	p = child_map(rep, o);
	ar_send(o->up[1], 'm');
	CHILD_CHECK(rep, ar_recv(o->down[0], AR_CHILD_MS) == 'x', "A did not exit");
	faults = ar_faults_reading(p, o->size);
	CHILD_CHECK(rep, faults == 0, "%ld faults after A exited", faults);
	bad = ar_check(p, o->size, o->seed);
	CHILD_CHECK(rep, bad < 0, "page %ld lacks its tag", bad);
	return 0;
}

TEST_F_TIMEOUT(ar, order_a_exits_first, AR_TEST_S)
{
	struct child_report *ra = child_report_new(), *rb = child_report_new();
	struct obj o;
	pid_t a, b;

	ASSERT_NE(NULL, ra);
	ASSERT_NE(NULL, rb);
	ASSERT_EQ(0, obj_init(&o, 8 * MIB, 5));
	b = ar_spawn(b_child, &o, rb);
	ASSERT_LT(0, b);
	a = ar_spawn(a_child, &o, ra);
	ASSERT_LT(0, a);
	obj_spawned(&o);
	ASSERT_EQ('f', ar_recv(o.up[0], AR_CHILD_MS)) {
		AR_REAP_LOG(a, ra);
	}
	ASSERT_EQ(0, ar_send(o.down[1], 'f'));
	ASSERT_EQ('m', ar_recv(o.up[0], AR_CHILD_MS)) {
		AR_REAP_LOG(b, rb);
	}
	/* both map it: now A exits with its mapping */
	ASSERT_EQ(0, ar_send(o.adown[1], 'x'));
	AR_REAP_OK(a, ra);
	ASSERT_EQ(0, ar_send(o.down[1], 'x'));
	AR_REAP_OK(b, rb);
}

/*
 * Exec: a process that maps the object execs (its mapping goes), and the
 * new image maps it again and reads every page without a fault, while
 * the test keeps its own mapping.  The fd survives exec (no CLOEXEC).
 */
static int exec_child(struct child_report *rep, void *arg)
{
	struct obj *o = arg;
	struct ar_exec_args ea;
	char *p = child_map(rep, o);

	/* touch through the mapping exec is about to drop */
	CHILD_CHECK(rep, ar_faults_reading(p, o->size) == 0, "faults before exec");
	ar_exec_args(&ea, o->fd, 0, o->size, o->seed);
	execv(ea.argv[0], ea.argv);
	CHILD_FAIL(rep, "execv: %s", strerrorname_np(errno));
}

TEST_F_TIMEOUT(ar, order_exec, AR_TEST_S)
{
	struct child_report *rep = child_report_new();
	struct obj o;
	int ret, status;
	char *p;

	ASSERT_NE(NULL, rep);
	ASSERT_EQ(0, obj_init(&o, 8 * MIB, 6));
	p = ar_mmap(NULL, o.size, o.fd, 0, 0);
	ASSERT_NE(MAP_FAILED, p);
	ar_fill(p, o.size, o.seed);
	o.parent_va = p;
	ret = run_in_child(exec_child, &o, rep, AR_CHILD_MS, &status);
	ASSERT_EQ(0, ret);
	EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0)
		TH_LOG("exec'd helper: status %#x (2: tags, 3: faults) %s",
		       status, rep->msg);
	/* and the test's own mapping is untouched by the exec */
	EXPECT_EQ(-1, ar_check(p, o.size, o.seed));
	EXPECT_EQ(0, ar_faults_reading(p, o.size));
}

/*
 * Fork orderings.  The test is a subreaper so that a grandchild whose
 * parent exited first is reparented to it and can be reaped here.
 */
struct fork_order {
	struct obj *o;
	int mode;	/* 0: parent unmaps first, 1: child unmaps first, 2: parent exits first */
	int gdown[2];	/* test -> grandchild (the child reads o->down) */
};

static int fork_order_child(struct child_report *rep, void *arg)
{
	struct fork_order *fo = arg;
	struct obj *o = fo->o;
	char *p = ar_mmap(NULL, o->size, o->fd, 0, 0);
	long faults, bad;
	pid_t pid;
	int st;

	CHILD_CHECK(rep, p != MAP_FAILED, "mmap");
	ar_fill(p, o->size, o->seed);
	pid = fork();
	CHILD_CHECK(rep, pid >= 0, "fork");
	if (pid == 0) {
		/* the grandchild: wait for its parent's move, then read */
		if (ar_recv(fo->gdown[0], AR_CHILD_MS) != 'g')
			_exit(10);
		if (fo->mode == 1 && munmap(p, o->size))
			_exit(11);
		if (fo->mode != 1) {
			if (ar_faults_reading(p, o->size))
				_exit(12);
			if (ar_check(p, o->size, o->seed) >= 0)
				_exit(13);
		}
		ar_send(o->up[1], 'd');
		_exit(0);
	}
	if (fo->mode == 0)
		CHILD_CHECK(rep, munmap(p, o->size) == 0, "munmap");
	if (fo->mode == 2)
		return 0;	/* exit first: the grandchild goes on alone */
	ar_send(o->up[1], 'r');
	CHILD_CHECK(rep, ar_recv(o->down[0], AR_CHILD_MS) == 'w', "no wait");
	CHILD_CHECK(rep, waitpid_timeout(pid, &st, AR_CHILD_MS) == 0, "grandchild hung");
	CHILD_CHECK(rep, WIFEXITED(st) && WEXITSTATUS(st) == 0,
		    "grandchild status %#x", st);
	if (fo->mode == 1) {
		faults = ar_faults_reading(p, o->size);
		CHILD_CHECK(rep, faults == 0, "%ld faults after the child unmapped", faults);
		bad = ar_check(p, o->size, o->seed);
		CHILD_CHECK(rep, bad < 0, "page %ld lacks its tag", bad);
	}
	return 0;
}

static void run_fork_order(struct __test_metadata *_metadata, int mode)
{
	struct child_report *rep = child_report_new();
	struct fork_order fo;
	struct obj o;
	pid_t pid, w;
	int st;

	ASSERT_NE(NULL, rep);
	ASSERT_EQ(0, prctl(PR_SET_CHILD_SUBREAPER, 1));
	ASSERT_EQ(0, obj_init(&o, 4 * MIB, 10 + mode));
	fo = (struct fork_order){ .o = &o, .mode = mode };
	ASSERT_EQ(0, pipe(fo.gdown));
	pid = ar_spawn(fork_order_child, &fo, rep);
	ASSERT_LT(0, pid);
	obj_spawned(&o);
	close(fo.gdown[0]);
	if (mode == 2) {
		AR_REAP_OK(pid, rep);
		ASSERT_EQ(0, ar_send(fo.gdown[1], 'g'));
		ASSERT_EQ('d', ar_recv(o.up[0], AR_CHILD_MS))
			TH_LOG("the orphaned grandchild failed");
		/* the reparented grandchild */
		for (int i = 0; i < 1000; i++) {
			w = waitpid(-1, &st, WNOHANG);
			if (w > 0 || (w < 0 && errno == ECHILD))
				break;
			usleep(10000);
		}
		ASSERT_LT(0, w);
		EXPECT_TRUE(WIFEXITED(st) && WEXITSTATUS(st) == 0)
			TH_LOG("orphaned grandchild: status %#x", st);
		return;
	}
	ASSERT_EQ('r', ar_recv(o.up[0], AR_CHILD_MS)) {
		AR_REAP_LOG(pid, rep);
	}
	ASSERT_EQ(0, ar_send(fo.gdown[1], 'g'));
	ASSERT_EQ('d', ar_recv(o.up[0], AR_CHILD_MS)) {
		/* the child reports the grandchild's status */
		ar_send(o.down[1], 'w');
		AR_REAP_LOG(pid, rep);
	}
	ASSERT_EQ(0, ar_send(o.down[1], 'w'));
	AR_REAP_OK(pid, rep);
}

TEST_F_TIMEOUT(ar, fork_parent_unmaps_first, AR_TEST_S)
{
	run_fork_order(_metadata, 0);
}

TEST_F_TIMEOUT(ar, fork_child_unmaps_first, AR_TEST_S)
{
	run_fork_order(_metadata, 1);
}

TEST_F_TIMEOUT(ar, fork_parent_exits_first, AR_TEST_S)
{
	run_fork_order(_metadata, 2);
}


/* B writes a new tag in every page of the whole object. */
/*
 * B writes a new tag in every page of the whole object.  Granules the
 * parent still maps are read without a fault; the others lost their
 * table with the parent's last link (their pages stay in the object).
 */
static int rewrite_child(struct child_report *rep, void *arg)
{
	struct obj *o = arg;
	char *p = child_map(rep, o);
	size_t g;

	for (g = 0; g < o->size / AR_GRANULE; g++) {
		long faults;

		if (!(o->linked & (1UL << g)))
			continue;
		faults = ar_faults_reading(p + g * AR_GRANULE, AR_GRANULE);
		CHILD_CHECK(rep, faults == 0, "%ld faults in granule %zu, which A maps",
			    faults, g);
	}
	ar_fill(p, o->size, o->seed + 1);
	return 0;
}

TEST_F_TIMEOUT(ar, aligned_partial_munmap, AR_TEST_S)
{
	struct child_report *rep = child_report_new();
	struct obj o;
	int ret, status;
	char *p;

	ASSERT_NE(NULL, rep);
	ASSERT_EQ(0, obj_init(&o, 10 * MIB, 20));
	p = ar_mmap(NULL, o.size, o.fd, 0, 0);
	ASSERT_NE(MAP_FAILED, p);
	ar_fill(p, o.size, o.seed);
	o.parent_va = p;
	/* head, a middle granule and the tail: 1 and 3 and 4 of 0..4 */
	ASSERT_EQ(0, munmap(p + 1 * AR_GRANULE, AR_GRANULE));
	ASSERT_EQ(0, munmap(p + 3 * AR_GRANULE, 2 * AR_GRANULE));
	EXPECT_TRUE(segv_at(p + AR_GRANULE + 5 * AR_PAGE));
	EXPECT_TRUE(segv_at(p + 4 * AR_GRANULE));
	o.linked = 1UL << 0 | 1UL << 2;
	ret = run_in_child(rewrite_child, &o, rep, AR_CHILD_MS, &status);
	ASSERT_CHILD_OK(ret, status, rep);
	/* what stayed mapped is still shared: B's writes show, fault-free */
	EXPECT_EQ(0, ar_faults_reading(p, AR_GRANULE));
	EXPECT_EQ(0, ar_faults_reading(p + 2 * AR_GRANULE, AR_GRANULE));
	EXPECT_EQ(-1, ar_check(p, AR_GRANULE, o.seed + 1));
	EXPECT_EQ(-1, ar_check_from(p + 2 * AR_GRANULE, AR_GRANULE, o.seed + 1,
				    2 * AR_PAGES_PER_GRANULE));
	ASSERT_EQ(0, munmap(p, AR_GRANULE));
	ASSERT_EQ(0, munmap(p + 2 * AR_GRANULE, AR_GRANULE));
}

TEST_F_TIMEOUT(ar, map_fixed_over_whole_granules, AR_TEST_S)
{
	struct child_report *rep = child_report_new();
	struct obj o;
	int ret, status;
	char *p, *q;
	uint64_t v;

	ASSERT_NE(NULL, rep);
	ASSERT_EQ(0, obj_init(&o, 8 * MIB, 21));
	p = ar_mmap(NULL, o.size, o.fd, 0, 0);
	ASSERT_NE(MAP_FAILED, p);
	ar_fill(p, o.size, o.seed);
	/* granule 0 of the mapping now shows the object's granule 3 */
	q = ar_mmap(p, AR_GRANULE, o.fd, 3 * AR_GRANULE, MAP_FIXED);
	ASSERT_EQ(p, q) TH_LOG("MAP_FIXED AR over granule 0: %s", strerrorname_np(errno));
	EXPECT_EQ(-1, ar_check_from(p, AR_GRANULE, o.seed, 3 * AR_PAGES_PER_GRANULE));
	EXPECT_EQ(0, ar_faults_reading(p, AR_GRANULE));
	/* an anonymous page over granule 2: zeroes, and the object keeps its data */
	q = mmap(p + 2 * AR_GRANULE, AR_GRANULE, AR_RW,
		 MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0);
	ASSERT_EQ(p + 2 * AR_GRANULE, q);
	EXPECT_EQ(0, *(volatile uint64_t *)q);
	*(volatile uint64_t *)q = 77;
	ASSERT_EQ(8, pread(o.fd, &v, 8, 2 * AR_GRANULE));
	EXPECT_EQ(ar_tag(o.seed, 2 * AR_PAGES_PER_GRANULE), v);
	/* granules 1 and 3 are still the shared ones (and 0, through granule 3) */
	o.parent_va = p;
	o.linked = 1UL << 1 | 1UL << 3;
	ret = run_in_child(rewrite_child, &o, rep, AR_CHILD_MS, &status);
	ASSERT_CHILD_OK(ret, status, rep);
	EXPECT_EQ(-1, ar_check_from(p + AR_GRANULE, AR_GRANULE, o.seed + 1,
				    AR_PAGES_PER_GRANULE));
	EXPECT_EQ(-1, ar_check_from(p + 3 * AR_GRANULE, AR_GRANULE, o.seed + 1,
				    3 * AR_PAGES_PER_GRANULE));
	EXPECT_EQ(-1, ar_check_from(p, AR_GRANULE, o.seed + 1, 3 * AR_PAGES_PER_GRANULE));
	EXPECT_EQ(77, *(volatile uint64_t *)q);
	ASSERT_EQ(0, munmap(p, o.size));
}


/*
 * A process that exits with its AR mapping split into several VMAs (by an
 * aligned munmap, by MAP_FIXED over whole granules) must drop every link:
 * the debugfs counts come back once it is reaped.
 */
static int split_exit_child(struct child_report *rep, void *arg)
{
	int mode = *(int *)arg;
	int fd = ar_memfd(10 * MIB, 0);
	char *p;

	CHILD_CHECK(rep, fd >= 0, "memfd");
	p = ar_mmap(NULL, 10 * MIB, fd, 0, 0);
	CHILD_CHECK(rep, p != MAP_FAILED, "mmap");
	ar_fill(p, 10 * MIB, 1);
	switch (mode) {
	case 0:	/* a hole in the middle */
		CHILD_CHECK(rep, munmap(p + 2 * AR_GRANULE, AR_GRANULE) == 0, "munmap");
		break;
	case 1:	/* another offset over the head */
		CHILD_CHECK(rep, ar_mmap(p, AR_GRANULE, fd, 4 * AR_GRANULE, MAP_FIXED) == p,
			    "MAP_FIXED AR");
		break;
	case 2:	/* anonymous memory over a middle granule */
		CHILD_CHECK(rep, mmap(p + AR_GRANULE, AR_GRANULE, AR_RW,
				      MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0) ==
			    p + AR_GRANULE, "MAP_FIXED anonymous");
		break;
	case 3:	/* the tail */
		CHILD_CHECK(rep, munmap(p + 4 * AR_GRANULE, AR_GRANULE) == 0, "munmap");
		break;
	}
	return 0;	/* exit with what is left mapped */
}

TEST_F_TIMEOUT(ar, exit_with_split_mapping, AR_TEST_S)
{
	static const char *const what[] = { "aligned hole", "MAP_FIXED AR over the head",
					    "MAP_FIXED anonymous in the middle", "unmapped tail" };
	struct child_report *rep = child_report_new();
	long t0, l0, t1, l1;
	int mode, ret, status;

	ASSERT_NE(NULL, rep);
	ASSERT_EQ(0, ar_counters_read(&t0, &l0));
	for (mode = 0; mode < 4; mode++) {
		ret = run_in_child(split_exit_child, &mode, rep, AR_CHILD_MS, &status);
		ASSERT_CHILD_OK(ret, status, rep);
		ASSERT_EQ(0, ar_counters_read(&t1, &l1));
		EXPECT_EQ(t0, t1) TH_LOG("%s, then exit: %ld tables left (were %ld)",
					 what[mode], t1, t0);
		EXPECT_EQ(l0, l1) TH_LOG("%s, then exit: %ld links left (were %ld)",
					 what[mode], l1, l0);
		t0 = t1;
		l0 = l1;
	}
}

/*
 * Every window of the object (every aligned offset and length), mapped
 * where the kernel likes and at an address of ours, reads its own pages:
 * a table linked for the wrong granule reads another page's tag.  Once
 * while the test maps the whole object (the tables exist), once while
 * nobody else does.
 */
static int windows_child(struct child_report *rep, void *arg)
{
	struct obj *o = arg;
	size_t granules = o->size / AR_GRANULE, g0, n;
	int how;

	for (how = 0; how < 2; how++)
		for (g0 = 0; g0 < granules; g0++)
			for (n = 1; g0 + n <= granules; n++) {
				size_t len = n * AR_GRANULE, first = g0 * AR_PAGES_PER_GRANULE;
				char *p = how ? ar_mmap_elsewhere(len, o->fd, g0 * AR_GRANULE, NULL)
					      : ar_mmap(NULL, len, o->fd, g0 * AR_GRANULE, 0);
				long bad;

				CHILD_CHECK(rep, p != MAP_FAILED, "window %zu+%zu", g0, n);
				bad = ar_check_from(p, len, o->seed, first);
				if (bad >= 0) {
					uint64_t v = *(volatile uint64_t *)(p + bad * AR_PAGE);
					long is = ar_tag_page(o->seed, o->size / AR_PAGE, v);

					CHILD_FAIL(rep, "window at granule %zu, %zu granules, %s: "
						   "object page %zu reads page %ld's tag (%#llx)",
						   g0, n, how ? "MAP_FIXED" : "kernel's address",
						   first + bad, is, (unsigned long long)v);
				}
				CHILD_CHECK(rep, munmap(p, len) == 0, "munmap");
			}
	return 0;
}

TEST_F_TIMEOUT(ar, every_window_reads_its_pages, AR_TEST_S)
{
	struct child_report *rep = child_report_new();
	struct obj o;
	int ret, status;
	char *p;

	ASSERT_NE(NULL, rep);
	ASSERT_EQ(0, obj_init(&o, 16 * MIB, 30));
	p = ar_mmap(NULL, o.size, o.fd, 0, 0);
	ASSERT_NE(MAP_FAILED, p);
	ar_fill(p, o.size, o.seed);
	o.parent_va = p;
	ret = run_in_child(windows_child, &o, rep, AR_CHILD_MS * 3, &status);
	ASSERT_CHILD_OK(ret, status, rep);
	ASSERT_EQ(0, munmap(p, o.size));
	/* nobody maps it: every window makes (and frees) its own tables */
	ret = run_in_child(windows_child, &o, rep, AR_CHILD_MS * 3, &status);
	ASSERT_CHILD_OK(ret, status, rep);
}

/*
 * The first run's leak, as it happened: a process with a split mapping
 * forks a child that maps the whole object and exits, then exits itself
 * still mapping two single-granule VMAs.
 */
static int fork_split_exit_child(struct child_report *rep, void *arg)
{
	int fd = ar_memfd(10 * MIB, 0), st;
	char *p;
	pid_t pid;

	(void)arg;
	CHILD_CHECK(rep, fd >= 0, "memfd");
	p = ar_mmap(NULL, 10 * MIB, fd, 0, 0);
	CHILD_CHECK(rep, p != MAP_FAILED, "mmap");
	ar_fill(p, 10 * MIB, 1);
	CHILD_CHECK(rep, munmap(p + AR_GRANULE, AR_GRANULE) == 0, "munmap 1");
	CHILD_CHECK(rep, munmap(p + 3 * AR_GRANULE, 2 * AR_GRANULE) == 0, "munmap 3-4");
	/* children killed by SIGSEGV (core dumps walk the mapping) */
	CHILD_CHECK(rep, segv_at(p + AR_GRANULE + 5 * AR_PAGE), "no SIGSEGV in the hole");
	CHILD_CHECK(rep, segv_at(p + 4 * AR_GRANULE), "no SIGSEGV past the end");
	fflush(stdout);
	pid = fork();
	CHILD_CHECK(rep, pid >= 0, "fork");
	if (pid == 0) {
		char *q = ar_mmap_elsewhere(10 * MIB, fd, 0, p);

		if (q == MAP_FAILED)
			_exit(2);
		ar_faults_reading(q, 10 * MIB);
		_exit(1);	/* as the failing child did */
	}
	CHILD_CHECK(rep, waitpid_timeout(pid, &st, AR_CHILD_MS) == 0, "child");
	return 0;	/* exit with granules 0 and 2 mapped */
}

TEST_F_TIMEOUT(ar, exit_after_fork_of_split_mapping, AR_TEST_S)
{
	struct child_report *rep = child_report_new();
	long t0, l0, t1, l1;
	int ret, status;

	ASSERT_NE(NULL, rep);
	ASSERT_EQ(0, ar_counters_read(&t0, &l0));
	ret = run_in_child(fork_split_exit_child, NULL, rep, AR_CHILD_MS, &status);
	ASSERT_CHILD_OK(ret, status, rep);
	ASSERT_EQ(0, ar_counters_read(&t1, &l1));
	EXPECT_EQ(t0, t1) TH_LOG("%ld tables left (were %ld)", t1, t0);
	EXPECT_EQ(l0, l1) TH_LOG("%ld links left (were %ld)", l1, l0);
}

/*
 * One process, one object the parent holds, windows mapped and unmapped
 * in the order the race test's mappers use (anywhere or MAP_FIXED, some
 * unmapped as an aligned hole plus the two sides): every page read must
 * be its own.  The last few steps are in the failure message.
 */
static uint64_t xs(uint64_t *s)
{
	*s ^= *s << 13;
	*s ^= *s >> 7;
	*s ^= *s << 17;
	return *s;
}

static int sequence_child(struct child_report *rep, void *arg)
{
	struct obj *o = arg;
	size_t granules = o->size / AR_GRANULE;
	uint64_t s = 0x9e3779b9 + 1;
	char log[4][96] = { "", "", "", "" };
	int it;

	for (it = 0; it < 200; it++) {
		size_t g0 = xs(&s) % granules, n = 1 + xs(&s) % (granules - g0);
		size_t len = n * AR_GRANULE, first = g0 * AR_PAGES_PER_GRANULE;
		bool fixed = !(xs(&s) & 1), hole;
		char *p = fixed ? ar_mmap_elsewhere(len, o->fd, g0 * AR_GRANULE, NULL)
				: ar_mmap(NULL, len, o->fd, g0 * AR_GRANULE, 0);
		long bad;

		CHILD_CHECK(rep, p != MAP_FAILED, "mmap");
		bad = ar_check_from(p, len, o->seed, first);
		if (bad >= 0) {
			uint64_t v = *(volatile uint64_t *)(p + bad * AR_PAGE);
			long is = ar_tag_page(o->seed, o->size / AR_PAGE, v);

			CHILD_FAIL(rep, "step %d: window %zu+%zu at %p (%s): object page %zu "
				   "reads page %ld; before: [%s] [%s] [%s] [%s]", it, g0, n, p,
				   fixed ? "MAP_FIXED" : "anywhere", first + bad, is,
				   log[(it + 0) % 4], log[(it + 1) % 4], log[(it + 2) % 4],
				   log[(it + 3) % 4]);
		}
		hole = n >= 3 && (xs(&s) & 1);
		snprintf(log[it % 4], sizeof(log[0]), "%d: %zu+%zu at %p %s%s", it, g0, n, p,
			 fixed ? "fixed" : "any", hole ? " hole" : "");
		if (hole) {
			CHILD_CHECK(rep, munmap(p + AR_GRANULE, AR_GRANULE) == 0, "hole");
			CHILD_CHECK(rep, munmap(p, AR_GRANULE) == 0, "head");
			CHILD_CHECK(rep, munmap(p + 2 * AR_GRANULE, len - 2 * AR_GRANULE) == 0,
				    "rest");
		} else {
			CHILD_CHECK(rep, munmap(p, len) == 0, "munmap");
		}
	}
	return 0;
}

TEST_F_TIMEOUT(ar, map_unmap_sequence_reads_own_pages, AR_TEST_S)
{
	struct child_report *rep = child_report_new();
	struct obj o;
	int ret, status;
	char *p;

	ASSERT_NE(NULL, rep);
	ASSERT_EQ(0, obj_init(&o, 32 * MIB, 0x5eed));
	p = ar_mmap(NULL, o.size, o.fd, 0, 0);
	ASSERT_NE(MAP_FAILED, p);
	ar_fill(p, o.size, o.seed);
	/* one CPU: no TLB of another CPU can be involved */
	pin_self(0);
	ret = run_in_child(sequence_child, &o, rep, AR_CHILD_MS * 3, &status);
	ASSERT_CHILD_OK(ret, status, rep);
}

/* read()/write() on the fd and the mapping see the same bytes. */
TEST_F_TIMEOUT(ar, file_io_coherent, AR_TEST_S)
{
	char buf[64], *p;
	int fd = ar_memfd(4 * MIB, 0);

	ASSERT_LE(0, fd);
	p = ar_mmap(NULL, 4 * MIB, fd, 0, 0);
	ASSERT_NE(MAP_FAILED, p);
	memcpy(p + 3 * MIB, "through the mapping", 20);
	ASSERT_EQ(3 * MIB, lseek(fd, 3 * MIB, SEEK_SET));
	ASSERT_EQ(20, read(fd, buf, 20));
	EXPECT_STREQ("through the mapping", buf);
	ASSERT_EQ(100, lseek(fd, 100, SEEK_SET));
	ASSERT_EQ(11, write(fd, "through fd", 11));
	EXPECT_STREQ("through fd", p + 100);
	ASSERT_EQ(5, pwrite(fd, "pwrt", 5, 2 * MIB + 7));
	EXPECT_STREQ("pwrt", p + 2 * MIB + 7);
	ASSERT_EQ(0, munmap(p, 4 * MIB));
	close(fd);
}

COREY_AR_TEST_MAIN
