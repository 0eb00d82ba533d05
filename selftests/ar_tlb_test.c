// SPDX-License-Identifier: GPL-2.0
/*
 * Address ranges: stale-TLB detectors.  A process that unlinks a shared
 * page table must flush its own TLB on every CPU before it returns to
 * user space, although the table (and the page under it) lives on in the
 * other processes that link it: a missed flush leaves a translation that
 * reads live memory the process no longer maps.
 *
 * The detector: this process (B) has T1 on one CPU and T2 on another.
 * T2 spins reading page P of B's AR mapping (so that CPU caches the
 * translation); T1 unmaps the range, then sets a flag in an ordinary
 * MAP_SHARED|MAP_ANONYMOUS page.  Once T2 sees the flag, its next read of
 * P must fault (SIGSEGV, caught with sigsetjmp/siglongjmp); completing
 * it is a stale TLB entry.  Process A keeps the range mapped so the table
 * and the page stay alive; a second variant has B as the last holder, a
 * third replaces the range with MAP_FIXED instead of unmapping it.
 *
 * The negative control (debug kernels only) proves the detector can see
 * what it looks for: with /sys/kernel/debug/corey_addr_range/
 * skip_unlink_flush at 1 the kernel skips exactly that flush, and the
 * detector must catch a stale read in at least one round.  QEMU TCG keeps
 * a soft TLB per vCPU that only guest flushes empty, so under TCG it
 * should catch one nearly every round.  The knob is put back to 0 on
 * every path (the fixture's teardown runs in the harness's parent).
 */
#include <pthread.h>
#include <sched.h>
#include <setjmp.h>
#include <signal.h>
#include <sys/syscall.h>
#include <sys/wait.h>

#include "ar_test.h"

#define KNOB AR_DEBUGFS "/skip_unlink_flush"
#define P_OFF (17 * AR_PAGE + 64)	/* P: somewhere inside the granule */
#define MARK 0x5741524e494e4721ULL	/* what P holds */

FIXTURE(tlb) {
	struct ar_baseline base;
};

FIXTURE_SETUP(tlb)
{
	ar_baseline_take(&self->base);
}

FIXTURE_TEARDOWN_PARENT(tlb)
{
	char msg[2048];

	/* whatever happened to the test, the knob goes back to 0 */
	if (access(KNOB, F_OK) == 0)
		EXPECT_EQ(0, ar_write_file(KNOB, "0"));
	if (ar_baseline_check(&self->base, msg, sizeof(msg))) {
		EXPECT_TRUE(false) TH_LOG("after the test: %s", msg);
	}
}

enum unlink_how { UNMAP, MAP_FIXED_ANON };

/* Shared between T1 and T2: an ordinary MAP_SHARED|MAP_ANONYMOUS page. */
struct ctl {
	volatile uint64_t *p;		/* P in this round's mapping */
	long armed, warm, flag, done;	/* round numbers */
	bool stop;
	enum unlink_how how;
	/* T2's findings */
	long stale, faulted, faulted_early, anon_zero;
	uint64_t stale_value;
	long first_stale_round;
	bool t2_ready;
	pid_t t2_tid;
};

static struct ctl *ctl;
static sigjmp_buf t2_env;
static volatile sig_atomic_t t2_probing;
static __thread sigjmp_buf probe_env;
static __thread volatile sig_atomic_t probing;

static void on_segv(int sig, siginfo_t *si, void *uc)
{
	(void)si;
	(void)uc;
	if (t2_probing && gettid() == ctl->t2_tid) {
		t2_probing = 0;
		siglongjmp(t2_env, 1);
	}
	if (probing) {
		probing = 0;
		siglongjmp(probe_env, 1);
	}
	/* not ours to catch: die of it */
	signal(sig, SIG_DFL);
}

/* Read *p in this thread: true with *v, or false if it faulted. */
static bool probe_read(volatile uint64_t *p, uint64_t *v)
{
	if (sigsetjmp(probe_env, 1))
		return false;
	probing = 1;
	*v = *p;
	probing = 0;
	return true;
}

static long load(volatile long *v)
{
	return __atomic_load_n(v, __ATOMIC_ACQUIRE);
}

static void store(volatile long *v, long val)
{
	__atomic_store_n(v, val, __ATOMIC_RELEASE);
}

static void *t2_main(void *arg)
{
	int cpu = (intptr_t)arg;
	volatile long r = 0;	/* lives across siglongjmp */

	ctl->t2_tid = gettid();
	pin_self(cpu);
	__atomic_store_n(&ctl->t2_ready, true, __ATOMIC_RELEASE);
	for (;;) {
		volatile uint64_t *volatile p;
		uint64_t v;

		while (load(&ctl->armed) == r && !__atomic_load_n(&ctl->stop, __ATOMIC_ACQUIRE))
			;
		if (__atomic_load_n(&ctl->stop, __ATOMIC_ACQUIRE))
			break;
		r = load(&ctl->armed);
		p = ctl->p;
		/* spin on P until the flag: this CPU caches its translation */
		if (sigsetjmp(t2_env, 1) == 0) {
			t2_probing = 1;
			do {
				v = *p;
				(void)v;
				store(&ctl->warm, r);
			} while (load(&ctl->flag) != r);
			t2_probing = 0;
		} else {
			/* the unmap's flush reached us first: fine */
			ctl->faulted_early++;
			while (load(&ctl->flag) != r)
				;
		}
		/* T1 has unmapped and its munmap has returned: P must be gone */
		if (sigsetjmp(t2_env, 1) == 0) {
			t2_probing = 1;
			v = *p;
			t2_probing = 0;
			if (ctl->how == UNMAP || v == MARK) {
				if (!ctl->stale++) {
					ctl->first_stale_round = r;
					ctl->stale_value = v;
				}
			} else {
				ctl->anon_zero += v == 0;
			}
		} else {
			ctl->faulted++;
		}
		store(&ctl->done, r);
	}
	return NULL;
}

/* Spin until *v == want, at most @ms: 0 or -1. */
static int wait_for(volatile long *v, long want, int ms)
{
	int64_t end = kcore_now_ms() + ms;
	unsigned long n = 0;

	while (load(v) != want) {
		if (!(++n & 0xffff) && kcore_now_ms() > end)
			return -1;
	}
	return 0;
}

/* A: maps the object, touches P, holds it until told to go. */
static int holder(struct child_report *rep, void *arg)
{
	int *a = arg;	/* fd, ready write end, release read end, its write end */
	char *p = ar_mmap(NULL, AR_GRANULE, a[0], 0, 0);

	/* EOF on release when the test dies: never outlive it */
	close(a[3]);
	CHILD_CHECK(rep, p != MAP_FAILED, "A's mmap");
	*(volatile uint64_t *)(p + P_OFF) = MARK;
	ar_send(a[1], 'h');
	ar_recv(a[2], 600000);
	return 0;
}

struct result {
	long rounds, stale, faulted, faulted_early, anon_zero, first_stale_round;
	uint64_t stale_value;
	double seconds;
	/* after the first stale read: what T1, on the unmapping CPU, reads */
	bool t1_probed, t1_read_ok;
	uint64_t t1_value;
	char knob[8];
};

/*
 * Run the detector: @holder_alive keeps A mapping the range meanwhile;
 * @stop_at_stale ends at the first stale read (the negative control).
 */
static void detect(struct __test_metadata *_metadata, enum unlink_how how,
		   bool holder_alive, bool stop_at_stale, struct result *res)
{
	struct child_report *rep = child_report_new();
	long max_rounds = env_long("AR_TLB_ROUNDS", 10000);
	int64_t start, end;
	int cpu0 = 0, cpu1 = other_cpu(0), fd, pa[2], pr[2], a[4];
	struct sigaction sa = { .sa_sigaction = on_segv, .sa_flags = SA_SIGINFO };
	char *p;
	pthread_t t2;
	pid_t apid = -1;
	long r, completed = 0;

	ASSERT_NE(NULL, rep);
	memset(res, 0, sizeof(*res));
	if (cpu1 < 0)
		SKIP(return, "one CPU: the detector needs two");
	if (read_proc_file(KNOB, res->knob, sizeof(res->knob)) > 0)
		res->knob[strcspn(res->knob, "\n")] = '\0';
	else
		strcpy(res->knob, "absent");
	ctl = mmap(NULL, sizeof(*ctl), PROT_READ | PROT_WRITE,
		   MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(MAP_FAILED, ctl);
	ctl->how = how;
	fd = ar_memfd(AR_GRANULE, 0);
	ASSERT_LE(0, fd);
	ASSERT_EQ(0, pipe(pa));
	ASSERT_EQ(0, pipe(pr));
	a[0] = fd;
	a[1] = pa[1];
	a[2] = pr[0];
	a[3] = pr[1];
	apid = ar_spawn(holder, a, rep);
	ASSERT_LT(0, apid);
	ASSERT_EQ('h', ar_recv(pa[0], AR_CHILD_MS)) {
		AR_REAP_LOG(apid, rep);
	}
	if (!holder_alive) {
		/* A filled P and is gone: B is the last (only) holder */
		ASSERT_EQ(0, ar_send(pr[1], 'x'));
		AR_REAP_OK(apid, rep);
		apid = -1;
	}

	ASSERT_EQ(0, sigaction(SIGSEGV, &sa, NULL));
	ASSERT_EQ(0, pin_self(cpu0));
	ASSERT_EQ(0, pthread_create(&t2, NULL, t2_main, (void *)(intptr_t)cpu1));
	while (!__atomic_load_n(&ctl->t2_ready, __ATOMIC_ACQUIRE))
		sched_yield();

	start = kcore_now_ms();
	end = start + 1000 * env_long("AR_TLB_SECONDS", 8);
	for (r = 1; r <= max_rounds && kcore_now_ms() < end; r++) {
		unsigned long spin = (r * 2654435761UL) % 2048;

		/* wherever the kernel likes (usually the same place) */
		p = ar_mmap(NULL, AR_GRANULE, fd, 0, 0);
		ASSERT_NE(MAP_FAILED, p) TH_LOG("round %ld: mmap: %s", r,
						strerrorname_np(errno));
		ctl->p = (volatile uint64_t *)(p + P_OFF);
		store(&ctl->armed, r);
		ASSERT_EQ(0, wait_for(&ctl->warm, r, 10000))
			TH_LOG("round %ld: T2 never read P", r);
		/* let T2 read P a while longer, a different while each round */
		while (spin--)
			__asm__ volatile("" ::: "memory");
		if (how == UNMAP) {
			ASSERT_EQ(0, munmap(p, AR_GRANULE));
		} else {
			void *q = mmap(p, AR_GRANULE, AR_RW,
				       MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0);

			ASSERT_EQ(p, q);
		}
		store(&ctl->flag, r);
		ASSERT_EQ(0, wait_for(&ctl->done, r, 10000))
			TH_LOG("round %ld: T2 never finished", r);
		if (ctl->stale && !res->t1_probed) {
			/*
			 * Tell a missed remote flush (T1 faults here, on the
			 * CPU that unmapped) from a table left linked in our
			 * page tables (T1 reads it too).
			 */
			res->t1_probed = true;
			res->t1_read_ok = probe_read(ctl->p, &res->t1_value);
		}
		if (how == MAP_FIXED_ANON)
			ASSERT_EQ(0, munmap(p, AR_GRANULE));
		completed = r;
		if (stop_at_stale && ctl->stale)
			break;
	}
	res->rounds = completed;
	res->seconds = (kcore_now_ms() - start) / 1000.0;
	__atomic_store_n(&ctl->stop, true, __ATOMIC_RELEASE);
	pthread_join(t2, NULL);
	res->stale = ctl->stale;
	res->faulted = ctl->faulted;
	res->faulted_early = ctl->faulted_early;
	res->anon_zero = ctl->anon_zero;
	res->first_stale_round = ctl->first_stale_round;
	res->stale_value = ctl->stale_value;
	if (apid > 0) {
		ASSERT_EQ(0, ar_send(pr[1], 'x'));
		AR_REAP_OK(apid, rep);
	}
	close(fd);
	TH_LOG("%ld rounds in %.1f s (T1 on CPU %d, T2 on CPU %d, %s, skip_unlink_flush %s): "
	       "%ld stale reads, %ld faults after the flag (%ld already before it)%s",
	       res->rounds, res->seconds, cpu0, cpu1,
	       holder_alive ? "A holds the table" : "B is the last holder",
	       res->knob, res->stale, res->faulted, res->faulted_early,
	       how == MAP_FIXED_ANON ? ", MAP_FIXED anonymous replacement" : "");
	if (res->t1_probed && how == UNMAP)
		TH_LOG("after the first stale read, T1 on the unmapping CPU %s",
		       res->t1_read_ok ? "reads P too: the table is still linked in our page tables" :
		       "faults: the unlink flushed its own CPU but missed the other");
	if (res->t1_probed && how == MAP_FIXED_ANON)
		TH_LOG("after the first stale read, T1 on the unmapping CPU reads %#llx (%s)",
		       (unsigned long long)res->t1_value,
		       res->t1_value == MARK ? "the AR page: still linked under the new mapping" :
		       "the new mapping: the unlink missed the other CPU's flush");
}

TEST_F_TIMEOUT(tlb, unmap_while_another_holds, 120)
{
	struct result res;

	detect(_metadata, UNMAP, true, false, &res);
	EXPECT_EQ(0, res.stale)
		TH_LOG("stale TLB: a read of P completed after munmap returned "
		       "(first in round %ld, value %#llx)", res.first_stale_round,
		       (unsigned long long)res.stale_value);
	EXPECT_EQ(res.rounds, res.faulted);
	EXPECT_LT(0, res.rounds);
}

TEST_F_TIMEOUT(tlb, unmap_as_last_holder, 120)
{
	struct result res;

	detect(_metadata, UNMAP, false, false, &res);
	EXPECT_EQ(0, res.stale)
		TH_LOG("stale TLB after the last unlink: first in round %ld, value %#llx",
		       res.first_stale_round, (unsigned long long)res.stale_value);
	EXPECT_EQ(res.rounds, res.faulted);
	EXPECT_LT(0, res.rounds);
}

TEST_F_TIMEOUT(tlb, map_fixed_over_while_another_holds, 120)
{
	struct result res;

	detect(_metadata, MAP_FIXED_ANON, true, false, &res);
	EXPECT_EQ(0, res.stale)
		TH_LOG("stale TLB: P still read the AR page after MAP_FIXED "
		       "replaced it (first in round %ld)", res.first_stale_round);
	EXPECT_EQ(res.rounds, res.anon_zero)
		TH_LOG("the anonymous replacement did not read as zeroes");
}

/*
 * The same detector on one CPU, no thread and no other system call: read
 * page 1 of granule 2 through a one-granule mapping (the CPU caches the
 * translation), munmap it, map granule 5 at the same address, read page
 * 1 again.  Granule 2's value is the old translation, still in this
 * CPU's TLB: the unlink did not flush even locally.  With another
 * process's mapping keeping the tables (the unlink path) and without
 * (the last holder's zap).
 */
static void remap_same_address(struct __test_metadata *_metadata, bool holder)
{
	int fd = ar_memfd(8 * AR_GRANULE, 0), i, stale = 0;
	char *h, *p, *q;

	ASSERT_LE(0, fd);
	pin_self(0);
	h = ar_mmap(NULL, 8 * AR_GRANULE, fd, 0, 0);
	ASSERT_NE(MAP_FAILED, h);
	ar_fill(h, 8 * AR_GRANULE, 3);
	if (!holder)
		ASSERT_EQ(0, munmap(h, 8 * AR_GRANULE));	/* the pages stay */
	for (i = 0; i < 100; i++) {
		uint64_t v;

		p = ar_mmap(NULL, AR_GRANULE, fd, 2 * AR_GRANULE, 0);
		ASSERT_NE(MAP_FAILED, p);
		ASSERT_EQ(ar_tag(3, 2 * AR_PAGES_PER_GRANULE + 1),
			  *(volatile uint64_t *)(p + AR_PAGE));
		ASSERT_EQ(0, munmap(p, AR_GRANULE));
		q = ar_mmap(p, AR_GRANULE, fd, 5 * AR_GRANULE, MAP_FIXED);
		ASSERT_EQ(p, q);
		v = *(volatile uint64_t *)(q + AR_PAGE);
		if (v != ar_tag(3, 5 * AR_PAGES_PER_GRANULE + 1)) {
			stale++;
			EXPECT_EQ(ar_tag(3, 5 * AR_PAGES_PER_GRANULE + 1), v)
				TH_LOG("round %d: granule 5 mapped where granule 2 was reads %s",
				       i, v == ar_tag(3, 2 * AR_PAGES_PER_GRANULE + 1) ?
				       "granule 2's page: the unlink left the TLB entry" :
				       "neither page");
			break;
		}
		ASSERT_EQ(0, munmap(q, AR_GRANULE));
	}
	TH_LOG("%s: %d of %d rounds read a stale translation",
	       holder ? "another mapping holds the tables" : "last holder", stale, i);
	close(fd);
}

TEST_F_TIMEOUT(tlb, remap_same_address_while_another_holds, 120)
{
	remap_same_address(_metadata, true);
}

TEST_F_TIMEOUT(tlb, remap_same_address_as_last_holder, 120)
{
	remap_same_address(_metadata, false);
}

/* The negative control: with the flush skipped, the detector must fire. */
TEST_F_TIMEOUT(tlb, negative_control_skip_unlink_flush, 120)
{
	struct result res;
	int ret;

	if (access(KNOB, F_OK))
		SKIP(return, "%s absent: not a CONFIG_DEBUG_COREY_ADDR_RANGE kernel", KNOB);
	ret = ar_write_file(KNOB, "1");
	ASSERT_EQ(0, ret) TH_LOG("writing 1 to %s: %s", KNOB, strerrorname_np(-ret));
	detect(_metadata, UNMAP, true, true, &res);
	ret = ar_write_file(KNOB, "0");
	EXPECT_EQ(0, ret) TH_LOG("writing 0 to %s: %s", KNOB, strerrorname_np(-ret));
	EXPECT_LT(0, res.stale)
		TH_LOG("detector cannot see stale entries: %ld rounds with the "
		       "unlink flush skipped and no stale read", res.rounds);
	if (res.stale)
		TH_LOG("stale read caught in round %ld (value %#llx): the detector works",
		       res.first_stale_round, (unsigned long long)res.stale_value);
}

COREY_AR_TEST_MAIN
