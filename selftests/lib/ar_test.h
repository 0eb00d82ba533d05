/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Common ground of the ar_*_test.c selftests (address ranges,
 * CONFIG_COREY_ADDR_RANGE): creating and freezing an AR memfd, mapping it,
 * reading the counters the contract names (minor faults, /proc/meminfo,
 * /proc/PID/status and smaps, the debugfs table/link counts), the kernel
 * log since a test began, and a main() that skips the whole binary on a
 * kernel without address ranges.
 *
 * Include this instead of kselftest_harness.h.  It brings kcore_test.h for
 * what the kernel-core tests already had and these need too: the errno
 * asserts, children that report through a shared page with a bound
 * (run_in_child, CHILD_CHECK), pinning and bounded waits.
 */
#ifndef SELFTESTS_AR_TEST_H
#define SELFTESTS_AR_TEST_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/mman.h>
#include <sys/types.h>

#include <linux/corey.h>

/*
 * ar_test.c is built into lib/ without the harness (kselftest_harness.h
 * defines symbols, so only a test may include it): it defines
 * AR_LIB_ONLY and sees the plain helpers only.
 */
#ifndef AR_LIB_ONLY
#include "kcore_test.h"
#endif

#define AR_GRANULE	COREY_ADDR_RANGE_GRANULE
#define AR_PAGE		4096UL
#define AR_PAGES_PER_GRANULE	(AR_GRANULE / AR_PAGE)
#define AR_RW		(PROT_READ | PROT_WRITE)
#define AR_MAP_FLAGS	(MAP_SHARED_VALIDATE | MAP_ADDR_RANGE)

#ifndef MFD_HUGETLB
#define MFD_HUGETLB	0x0004U
#endif
#ifndef MADV_DONTNEED_LOCKED
#define MADV_DONTNEED_LOCKED	24
#endif
#ifndef MADV_COLLAPSE
#define MADV_COLLAPSE	25
#endif
#ifndef MADV_POPULATE_READ
#define MADV_POPULATE_READ	22
#define MADV_POPULATE_WRITE	23
#endif

/* Where the kernel publishes its shared-table counts (debugfs). */
#define AR_DEBUGFS	"/sys/kernel/debug/corey_addr_range"

/*
 * Is the feature there?  memfd_create(MFD_ADDR_RANGE) succeeding means
 * yes (1), EINVAL means a kernel without it (0, *why says so); any other
 * answer is -errno.
 */
int ar_probe(const char **why);

/* memfd_create(name, MFD_ADDR_RANGE | flags) + ftruncate(size): fd or -1. */
int ar_memfd(size_t size, unsigned int flags);

/* mmap(addr, len, RW, MAP_SHARED_VALIDATE | MAP_ADDR_RANGE | flags, fd, off). */
void *ar_mmap(void *addr, size_t len, int fd, off_t off, int flags);

/*
 * An AR mapping at an address that is not @avoid (nor anywhere in
 * [avoid, avoid + len)): a 2 MiB-aligned window of a fresh reservation,
 * mapped with MAP_FIXED.  For "the same pages at different virtual
 * addresses" without relying on where the kernel would put it.
 */
void *ar_mmap_elsewhere(size_t len, int fd, off_t off, const void *avoid);

/*
 * The word every test writes at the start of page @i of an object, so
 * that content can be checked from any mapping of it.
 */
static inline uint64_t ar_tag(uint64_t seed, size_t page)
{
	return (seed << 32) ^ (page * 0x9e3779b97f4a7c15ULL) ^ 0xa5a5;
}

/*
 * Write ar_tag(seed, first + i) at the start of page i of [p, p + len):
 * @first is the object page that p maps.
 */
void ar_fill_from(void *p, size_t len, uint64_t seed, size_t first);
/* Index (from p) of the first page that lacks its tag, or -1. */
long ar_check_from(const void *p, size_t len, uint64_t seed, size_t first);
/* The object page, below @pages, whose tag @v is, or -1: whose page was read. */
static inline long ar_tag_page(uint64_t seed, size_t pages, uint64_t v)
{
	size_t i;

	for (i = 0; i < pages; i++)
		if (v == ar_tag(seed, i))
			return (long)i;
	return -1;
}
static inline void ar_fill(void *p, size_t len, uint64_t seed)
{
	ar_fill_from(p, len, seed, 0);
}
static inline long ar_check(const void *p, size_t len, uint64_t seed)
{
	return ar_check_from(p, len, seed, 0);
}

/* Minor faults of the calling process so far (getrusage RUSAGE_SELF). */
long ar_minflt(void);

/*
 * Read (and write) one word of every page of [p, p + len) and return the
 * minor faults that took.  Touching nothing else between the two counts:
 * everything it uses was written before the first (a forked child pays
 * copy-on-write faults for the first write to each stack or data page).
 */
long ar_faults_reading(const volatile void *p, size_t len);
long ar_faults_writing(volatile void *p, size_t len);

/* "Key:  N kB" of /proc/meminfo, in kB, after folding the per-CPU counts. */
long ar_meminfo_kb(const char *key);
/* "Key:  N kB" of /proc/PID/status (0: self), in kB; -1 if absent. */
long ar_status_kb(pid_t pid, const char *key);

/*
 * The smaps entry of the VMA that contains @addr in /proc/PID/smaps (0:
 * self): its fields in kB and whether VmFlags holds the "as" mnemonic.
 */
struct ar_smaps {
	long rss, pss, shared_clean, shared_dirty, private_clean,
	     private_dirty, locked;
	bool ar_flag;
	char vmflags[160];
};
int ar_smaps_read(pid_t pid, const void *addr, struct ar_smaps *s);

/*
 * The debugfs counts of live shared tables and of links to them, system
 * wide.  0, or -errno (-ENOENT: no such file).
 */
int ar_counters_read(long *tables, long *links);

/* The kernel log since a sequence number: lines that look like a splat. */
#define AR_KMSG_BAD "BUG|WARNING|KASAN|lockdep|Bad rss-counter|pgtables_bytes|Bad page"
/* The sequence number the next kernel log record will get (-errno). */
long long ar_kmsg_next_seq(void);
/*
 * Splat-looking records with seq >= @from: their count, the first few
 * copied to @out (NUL-terminated).  -errno if /dev/kmsg cannot be read.
 */
int ar_kmsg_bad_since(long long from, char *out, size_t size);

/*
 * What every test leaves as it found: the debugfs counts (waiting a
 * little for exiting children's mms to go) and a kernel log without a
 * splat.
 */
struct ar_baseline {
	long long kmsg_seq;
	long tables, links;
	bool have_counters;
};
void ar_baseline_take(struct ar_baseline *b);
/* 0, or -1 with what differs in @msg. */
int ar_baseline_check(const struct ar_baseline *b, char *msg, size_t size);

#ifndef AR_LIB_ONLY
/*
 * A fixture named @name whose only job is the baseline: taken in setup,
 * checked after the test's process is gone (in the harness's parent, so
 * every mapping the test made has been torn down by then).
 */
#define AR_FIXTURE(name)						\
	FIXTURE(name) {							\
		struct ar_baseline base;				\
	};								\
	FIXTURE_SETUP(name)						\
	{								\
		ar_baseline_take(&self->base);				\
	}								\
	FIXTURE_TEARDOWN_PARENT(name)					\
	{								\
		char __msg[2048];					\
									\
		/* (a braced if: TH_LOG would also fire on an earlier	\
		 * failure's trigger) */				\
		if (ar_baseline_check(&self->base, __msg, sizeof(__msg))) { \
			EXPECT_TRUE(false)				\
				TH_LOG("after the test: %s", __msg);	\
		}							\
	}

#endif

/*
 * Two processes in step: one byte down a pipe, waited for with a bound.
 * ar_recv() returns the byte, or -1 (timeout, EOF: the peer died).
 */
int ar_send(int fd, char c);
int ar_recv(int fd, int timeout_ms);

/*
 * A child running @fn(@rep, @arg) concurrently with the caller: its pid,
 * or -1.  Reap it with AR_REAP_OK (bounded, kills a hung child).
 */
#ifndef AR_LIB_ONLY
static inline pid_t ar_spawn(int (*fn)(struct child_report *, void *),
			     void *arg, struct child_report *rep)
{
	pid_t pid;

	rep->msg[0] = '\0';
	fflush(stdout);
	fflush(stderr);
	pid = fork();
	if (pid == 0)
		_exit(fn(rep, arg));
	return pid;
}

#define AR_CHILD_MS	60000
#define AR_REAP_OK(_pid, _rep) do {					\
	int __st = 0, __r = waitpid_timeout((_pid), &__st, AR_CHILD_MS); \
									\
	if (__r == -ETIMEDOUT)						\
		kill_and_reap((_pid), 10000, &__st);			\
	ASSERT_CHILD_OK(__r, __st, (_rep));				\
} while (0)
/*
 * In the block after a failed ASSERT (where no other ASSERT may run): wait
 * a little for the child, kill it if need be, and log its report.
 */
#define AR_REAP_LOG(_pid, _rep) do {						int __st2 = 0;																	if (waitpid_timeout((_pid), &__st2, 5000))					kill_and_reap((_pid), 10000, &__st2);				TH_LOG("child: %s", (_rep)->msg[0] ? (_rep)->msg : "(no message)"); } while (0)
#endif

/* Write @val to the file at @path (sysctls, debugfs knobs): 0 or -errno. */
int ar_write_file(const char *path, const char *val);

/*
 * This binary re-executed as a helper (exec orderings):
 *   <self> --ar-exec-helper FD OFF LEN SEED
 * maps FD at OFF for LEN, checks every page's tag and that reading them
 * took no minor fault, and exits 0 (2: tags wrong, 3: faults, 1: other).
 */
#define AR_EXEC_HELPER	"--ar-exec-helper"
int ar_exec_helper(int argc, char **argv);
/* argv for it, in @buf (the strings live there too). */
struct ar_exec_args {
	char *argv[7];
	char s[5][32];
};
void ar_exec_args(struct ar_exec_args *a, int fd, off_t off, size_t len,
		  uint64_t seed);

#ifndef AR_LIB_ONLY
/*
 * Run once in main(), before the harness: exits KSFT_SKIP without
 * address ranges, bails out on an unexpected probe answer.
 */
static inline void ar_require(void)
{
	const char *why = NULL;
	int ret = ar_probe(&why);

	if (ret == 1)
		return;
	ksft_print_header();
	if (ret == 0)
		ksft_exit_skip("%s\n", why);
	ksft_exit_fail_msg("memfd_create(MFD_ADDR_RANGE) answered %s; want success or EINVAL\n",
			   strerrorname_np(-ret) ?: "?");
}

#define COREY_AR_TEST_MAIN						\
	int main(int argc, char **argv)					\
	{								\
		if (argc > 1 && !strcmp(argv[1], AR_EXEC_HELPER))	\
			return ar_exec_helper(argc, argv);		\
		/* a peer that died must not kill us with SIGPIPE */	\
		signal(SIGPIPE, SIG_IGN);				\
		ar_require();						\
		return test_harness_run(argc, argv);			\
	}

#endif

#endif /* SELFTESTS_AR_TEST_H */
