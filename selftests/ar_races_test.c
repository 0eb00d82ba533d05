// SPDX-License-Identifier: GPL-2.0
/*
 * Address ranges under stress, for AR_RACE_SECONDS (default 20: about
 * right for a 2-vCPU TCG debug guest).  Against one 32 MiB object that
 * the test keeps mapped and whose every page carries a tag, processes
 * loop over:
 *   - mappers: map a random aligned window (anywhere, or MAP_FIXED), read
 *     and write random pages, unmap an aligned middle granule, unmap; and
 *     make, freeze, touch and drop small objects of their own;
 *   - a forker: fork, the child reads every tag without a fault, then
 *     exits mapped or unmaps first;
 *   - an execer: a child maps, then execs this binary as a helper that
 *     maps again and reads every tag without a fault;
 *   - a refuser: every refused operation with its errno (DONTNEED,
 *     PAGEOUT, COLD, mprotect, mremap, ftruncate, punch hole, mbind,
 *     move_pages), the mapping intact after each;
 *   - /proc readers: smaps, smaps_rollup, numa_maps and pagemap of every
 *     worker, meminfo and the debugfs counts;
 *   - compaction and drop_caches, khugepaged scanning without sleeping,
 *     and a memory hog.
 * Faults are counted where the contract says there are none: AR pages
 * cannot be reclaimed, migrated or collapsed, so whatever else happens a
 * page someone touched stays mapped in every process linking its table.
 * At the end every worker must have exited cleanly, every tag must be
 * intact, Unevictable must be back, and (fixture) the debugfs counts are
 * back at their baseline and the kernel log has no splat.
 */
#include <fcntl.h>
#include <linux/falloc.h>
#include <linux/mempolicy.h>
#include <sys/syscall.h>
#include <sys/wait.h>

#include "ar_test.h"

#define MIB (1UL << 20)
#define OBJ (32 * MIB)
#define SEED 0x5eed
#define KHUGE_SLEEP "/sys/kernel/mm/transparent_hugepage/khugepaged/scan_sleep_millisecs"

FIXTURE(ar) {
	struct ar_baseline base;
	char khuge_sleep[32];	/* to put back, or "" */
};

FIXTURE_SETUP(ar)
{
	ar_baseline_take(&self->base);
}

FIXTURE_TEARDOWN_PARENT(ar)
{
	char msg[2048];

	if (self->khuge_sleep[0])
		ar_write_file(KHUGE_SLEEP, self->khuge_sleep);
	if (ar_baseline_check(&self->base, msg, sizeof(msg))) {
		EXPECT_TRUE(false) TH_LOG("after the test: %s", msg);
	}
}

enum { MAPPER0, MAPPER1, FORKER, EXECER, REFUSER, READER, COMPACTOR, HOG, NR_WORKERS };
static const char *const worker_name[NR_WORKERS] = {
	"mapper", "mapper", "forker", "execer", "refuser", "reader",
	"compactor", "hog",
};

struct shared {
	bool stop;
	pid_t pid[NR_WORKERS];
	long loops[NR_WORKERS];
	char msg[NR_WORKERS][256];
};

static struct shared *sh;
static int obj_fd;

static bool stopping(void)
{
	return __atomic_load_n(&sh->stop, __ATOMIC_ACQUIRE);
}

#define WFAIL(w, fmt, ...) do {						\
	snprintf(sh->msg[w], sizeof(sh->msg[w]), "line %d: " fmt,	\
		 __LINE__, ##__VA_ARGS__);				\
	_exit(1);							\
} while (0)
#define WCHECK(w, cond, fmt, ...) do {					\
	if (!(cond)) {							\
		int __e = errno;					\
		WFAIL(w, "%s (errno %s): " fmt, #cond,			\
		      strerrorname_np(__e) ?: "0", ##__VA_ARGS__);	\
	}								\
} while (0)

static uint64_t rnd(uint64_t *s)
{
	*s ^= *s << 13;
	*s ^= *s >> 7;
	*s ^= *s << 17;
	return *s;
}

/* Page @pg of a window starting at object page @first still has its tag. */
static bool tag_ok(const char *p, size_t pg, size_t first)
{
	return *(const volatile uint64_t *)(p + pg * AR_PAGE) == ar_tag(SEED, first + pg);
}

/*
 * What a wrong value is: another page's tag of the object (a wrong table
 * or entry), a mapper's own small object's (a table of another object),
 * or neither.
 */
static const char *whose(uint64_t v, char *buf, size_t size)
{
	uint64_t seed;
	size_t i;

	for (i = 0; i < OBJ / AR_PAGE; i++)
		if (v == ar_tag(SEED, i)) {
			snprintf(buf, size, "the object's page %zu", i);
			return buf;
		}
	for (seed = 0; seed < 8; seed++)
		for (i = 0; i < 3 * AR_PAGES_PER_GRANULE; i++)
			if (v == ar_tag(seed, i)) {
				snprintf(buf, size, "page %zu of mapper %llu's own object",
					 i, (unsigned long long)seed);
				return buf;
			}
	snprintf(buf, size, "no tag we wrote");
	return buf;
}

#define CHECK_TAG(w, p, pg, first) do {						uint64_t __v = *(const volatile uint64_t *)((p) + (pg) * AR_PAGE); 	char __b[80];																	if (__v != ar_tag(SEED, (first) + (pg)))					WFAIL(w, "object page %zu at %p reads %#llx, want %#llx: %s", 		      (size_t)((first) + (pg)), (void *)((p) + (pg) * AR_PAGE), 		      (unsigned long long)__v,						      (unsigned long long)ar_tag(SEED, (first) + (pg)),			      whose(__v, __b, sizeof(__b)));			} while (0)

static void mapper(int w)
{
	uint64_t s = 0x9e3779b9 + w;
	size_t granules = OBJ / AR_GRANULE;

	while (!stopping()) {
		size_t g0 = rnd(&s) % granules;
		size_t n = 1 + rnd(&s) % (granules - g0);
		size_t len = n * AR_GRANULE, first = g0 * AR_PAGES_PER_GRANULE, i;
		char *p;

		if (rnd(&s) & 1)
			p = ar_mmap(NULL, len, obj_fd, g0 * AR_GRANULE, 0);
		else
			p = ar_mmap_elsewhere(len, obj_fd, g0 * AR_GRANULE, NULL);
		WCHECK(w, p != MAP_FAILED, "mmap %zu granules at %zu", n, g0);
		for (i = 0; i < 64; i++) {
			size_t pg = rnd(&s) % (len / AR_PAGE);

			CHECK_TAG(w, p, pg, first);
			*(volatile uint64_t *)(p + pg * AR_PAGE + 64 + 8 * w) = i;
		}
		if (n >= 3 && (rnd(&s) & 1)) {
			/* punch an aligned hole in the middle: the rest stays */
			WCHECK(w, munmap(p + AR_GRANULE, AR_GRANULE) == 0, "aligned munmap");
			WCHECK(w, tag_ok(p, 0, first) &&
				  tag_ok(p, 2 * AR_PAGES_PER_GRANULE, first), "around the hole");
			munmap(p, AR_GRANULE);
			munmap(p + 2 * AR_GRANULE, len - 2 * AR_GRANULE);
		} else {
			WCHECK(w, munmap(p, len) == 0, "munmap");
		}
		if (!(sh->loops[w] % 8)) {
			/* an object of our own: freeze, touch, drop */
			size_t sz = (1 + rnd(&s) % 3) * AR_GRANULE;
			int fd = ar_memfd(sz, 0);

			WCHECK(w, fd >= 0, "memfd");
			p = ar_mmap(NULL, sz, fd, 0, rnd(&s) & 1 ? MAP_POPULATE : 0);
			WCHECK(w, p != MAP_FAILED, "mmap own");
			ar_fill(p, sz, w);
			close(fd);
			WCHECK(w, ar_check(p, sz, w) < 0, "own object");
			munmap(p, sz);
		}
		sh->loops[w]++;
	}
}

/* The test's own mapping, inherited: must read everything fault-free. */
static char *holder_va;

static void forker(int w)
{
	uint64_t s = 77;

	while (!stopping()) {
		pid_t pid = fork();
		int st;

		WCHECK(w, pid >= 0, "fork");
		if (pid == 0) {
			long faults = ar_faults_reading(holder_va, OBJ);

			if (faults)
				WFAIL(w, "forked child: %ld faults reading what was touched", faults);
			if (ar_check(holder_va, OBJ, SEED) >= 0)
				WFAIL(w, "forked child: page %ld lacks its tag",
				      ar_check(holder_va, OBJ, SEED));
			if (rnd(&s) & 1)
				munmap(holder_va, OBJ);
			_exit(0);
		}
		WCHECK(w, waitpid_timeout(pid, &st, AR_CHILD_MS) == 0, "child hung");
		if (!WIFEXITED(st) || WEXITSTATUS(st)) {
			if (sh->msg[w][0])	/* the child said why */
				_exit(1);
			WFAIL(w, "child status %#x", st);
		}
		sh->loops[w]++;
	}
}

static void execer(int w)
{
	while (!stopping()) {
		struct ar_exec_args ea;
		pid_t pid;
		int st;

		ar_exec_args(&ea, obj_fd, 0, OBJ, SEED);
		pid = fork();
		WCHECK(w, pid >= 0, "fork");
		if (pid == 0) {
			/* exec while mapped (its own mapping and the inherited one) */
			if (ar_mmap(NULL, OBJ, obj_fd, 0, 0) == MAP_FAILED)
				_exit(20);
			execv(ea.argv[0], ea.argv);
			_exit(21);
		}
		WCHECK(w, waitpid_timeout(pid, &st, AR_CHILD_MS) == 0, "exec child hung");
		WCHECK(w, WIFEXITED(st) && WEXITSTATUS(st) == 0,
		       "exec child status %#x (2: tags, 3: faults, 20: mmap, 21: exec)", st);
		sh->loops[w]++;
	}
}

static void refuser(int w)
{
	char *p = ar_mmap(NULL, OBJ, obj_fd, 0, 0);
	bool numa = access("/sys/devices/system/node/node1", F_OK) == 0;
	uint64_t s = 5;

	WCHECK(w, p != MAP_FAILED, "mmap");
	while (!stopping()) {
		size_t g = rnd(&s) % (OBJ / AR_GRANULE), pg;
		char *q = p + g * AR_GRANULE;
		int from = -1, node, status = 0;
		unsigned long mask;
		void *page = q;

		errno = 0;
		WCHECK(w, madvise(q, AR_GRANULE, MADV_DONTNEED) == -1 && errno == EINVAL, "DONTNEED");
		WCHECK(w, madvise(q, AR_GRANULE, MADV_PAGEOUT) == -1 && errno == EINVAL, "PAGEOUT");
		WCHECK(w, madvise(q, AR_GRANULE, MADV_COLD) == -1 && errno == EINVAL, "COLD");
		WCHECK(w, mprotect(q, AR_GRANULE, PROT_READ) == -1 && errno == EINVAL, "mprotect");
		WCHECK(w, mremap(q, AR_GRANULE, 2 * AR_GRANULE, MREMAP_MAYMOVE) == MAP_FAILED &&
			  errno == EINVAL, "mremap");
		WCHECK(w, ftruncate(obj_fd, OBJ / 2) == -1 && errno == EPERM, "ftruncate");
		WCHECK(w, fallocate(obj_fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE,
				    g * AR_GRANULE, AR_PAGE) == -1 && errno == EPERM, "punch");
		if (numa && !syscall(SYS_get_mempolicy, &from, NULL, 0, q,
				     MPOL_F_NODE | MPOL_F_ADDR)) {
			/* refused one way or another; the page must not move */
			node = !from;
			mask = 1UL << node;
			syscall(SYS_mbind, q, AR_GRANULE, MPOL_BIND, &mask,
				8 * sizeof(mask), MPOL_MF_MOVE | MPOL_MF_STRICT);
			syscall(SYS_move_pages, 0, 1, &page, &node, &status, MPOL_MF_MOVE);
			WCHECK(w, status < 0, "move_pages moved a page (status %d)", status);
			node = -1;
			syscall(SYS_get_mempolicy, &node, NULL, 0, q, MPOL_F_NODE | MPOL_F_ADDR);
			WCHECK(w, node == from, "page moved from node %d to %d", from, node);
		}
		/* and the mapping is as it was */
		pg = rnd(&s) % AR_PAGES_PER_GRANULE;
		CHECK_TAG(w, q, pg, g * AR_PAGES_PER_GRANULE);
		WCHECK(w, ar_faults_reading(q, AR_GRANULE) == 0, "faults after refusals");
		sh->loops[w]++;
	}
}

/* Read a /proc file to the end, ignoring a process that is gone. */
static void slurp(const char *path)
{
	char buf[8192];
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	if (fd < 0)
		return;
	while (read(fd, buf, sizeof(buf)) > 0)
		;
	close(fd);
}

/* pagemap entries of every AR mapping (memfd:ar-*) of @pid. */
static void read_pagemap(pid_t pid)
{
	char path[64], line[256];
	FILE *maps;
	int pm;

	snprintf(path, sizeof(path), "/proc/%d/maps", pid);
	maps = fopen(path, "re");
	if (!maps)
		return;
	snprintf(path, sizeof(path), "/proc/%d/pagemap", pid);
	pm = open(path, O_RDONLY | O_CLOEXEC);
	while (pm >= 0 && fgets(line, sizeof(line), maps)) {
		unsigned long lo, hi;
		uint64_t ent[64];

		if (!strstr(line, "memfd:ar-") || sscanf(line, "%lx-%lx", &lo, &hi) != 2)
			continue;
		for (; lo < hi; lo += sizeof(ent) / 8 * AR_PAGE * 4)
			if (pread(pm, ent, sizeof(ent), lo / AR_PAGE * 8) <= 0)
				break;
	}
	if (pm >= 0)
		close(pm);
	fclose(maps);
}

static void reader(int w)
{
	static const char *const files[] = { "smaps", "smaps_rollup", "numa_maps", "status" };
	long t, l;

	while (!stopping()) {
		for (int i = 0; i < NR_WORKERS; i++) {
			char path[64];

			if (i == w || sh->pid[i] <= 0)
				continue;
			for (size_t f = 0; f < sizeof(files) / sizeof(files[0]); f++) {
				snprintf(path, sizeof(path), "/proc/%d/%s", sh->pid[i], files[f]);
				slurp(path);
			}
			read_pagemap(sh->pid[i]);
		}
		slurp("/proc/meminfo");
		ar_counters_read(&t, &l);
		sh->loops[w]++;
	}
}

static void compactor(int w)
{
	while (!stopping()) {
		ar_write_file("/proc/sys/vm/compact_memory", "1");
		ar_write_file("/proc/sys/vm/drop_caches", "3");
		usleep(100000);
		sh->loops[w]++;
	}
}

static void hog(int w)
{
	long avail = ar_meminfo_kb("MemAvailable");
	size_t len = avail > 0 ? (size_t)avail * 1024 / 3 : 64 * MIB;

	while (!stopping()) {
		char *p = mmap(NULL, len, PROT_READ | PROT_WRITE,
			       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

		if (p != MAP_FAILED) {
			for (size_t off = 0; off < len && !stopping(); off += AR_PAGE)
				p[off] = 1;
			munmap(p, len);
		}
		sh->loops[w]++;
	}
}

static void (*const race_fn[NR_WORKERS])(int) = {
	mapper, mapper, forker, execer, refuser, reader, compactor, hog,
};

TEST_F_TIMEOUT(ar, race_stress, 600)
{
	long seconds = env_long("AR_RACE_SECONDS", 20);
	long unev0, unev1;
	int64_t end;
	char *p;
	int i, st;

	unev0 = ar_meminfo_kb("Unevictable");
	sh = mmap(NULL, sizeof(*sh), PROT_READ | PROT_WRITE,
		  MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(MAP_FAILED, sh);
	obj_fd = ar_memfd(OBJ, 0);
	ASSERT_LE(0, obj_fd);
	p = ar_mmap(NULL, OBJ, obj_fd, 0, 0);
	ASSERT_NE(MAP_FAILED, p);
	ar_fill(p, OBJ, SEED);
	holder_va = p;

	/* khugepaged looking at AR memory all the time (it must leave it alone) */
	if (read_proc_file(KHUGE_SLEEP, self->khuge_sleep, sizeof(self->khuge_sleep)) > 0)
		ar_write_file(KHUGE_SLEEP, "0");
	else
		self->khuge_sleep[0] = '\0';

	fflush(stdout);
	for (i = 0; i < NR_WORKERS; i++) {
		pid_t pid = fork();

		ASSERT_LE(0, pid);
		if (pid == 0) {
			race_fn[i](i);
			_exit(0);
		}
		sh->pid[i] = pid;
	}
	end = kcore_now_ms() + 1000 * seconds;
	while (kcore_now_ms() < end) {
		/* a worker that died early ends the run */
		pid_t pid = waitpid(-1, &st, WNOHANG);

		if (pid > 0) {
			for (i = 0; i < NR_WORKERS; i++)
				if (sh->pid[i] == pid)
					break;
			if (i < NR_WORKERS) {
				sh->pid[i] = -pid;
				EXPECT_TRUE(WIFEXITED(st) && WEXITSTATUS(st) == 0)
					TH_LOG("%s %d died early (status %#x): %s", worker_name[i],
					       i, st, sh->msg[i]);
				break;
			}
		}
		usleep(100000);
	}
	__atomic_store_n(&sh->stop, true, __ATOMIC_RELEASE);
	for (i = 0; i < NR_WORKERS; i++) {
		int ret;

		if (sh->pid[i] <= 0)
			continue;
		ret = waitpid_timeout(sh->pid[i], &st, AR_CHILD_MS);
		if (ret)
			kill_and_reap(sh->pid[i], 10000, &st);
		EXPECT_EQ(0, ret) TH_LOG("%s %d did not stop", worker_name[i], i);
		EXPECT_TRUE(WIFEXITED(st) && WEXITSTATUS(st) == 0)
			TH_LOG("%s %d: status %#x: %s", worker_name[i], i, st, sh->msg[i]);
	}
	if (self->khuge_sleep[0])
		ar_write_file(KHUGE_SLEEP, self->khuge_sleep);
	for (i = 0; i < NR_WORKERS; i++)
		TH_LOG("%s %d: %ld loops", worker_name[i], i, sh->loops[i]);
	EXPECT_EQ(-1, ar_check(p, OBJ, SEED)) TH_LOG("a tag was lost");
	EXPECT_EQ(0, ar_faults_reading(p, OBJ)) TH_LOG("the holder's pages went away");
	ASSERT_EQ(0, munmap(p, OBJ));
	close(obj_fd);
	unev1 = ar_meminfo_kb("Unevictable");
	TH_LOG("Unevictable %ld -> %ld kB", unev0, unev1);
	EXPECT_GE(2048, labs(unev1 - unev0)) TH_LOG("Unevictable did not come back");
}

COREY_AR_TEST_MAIN
