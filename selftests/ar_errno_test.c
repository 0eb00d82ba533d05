// SPDX-License-Identifier: GPL-2.0
/*
 * Address ranges: every refusal in the contract with its exact errno, and
 * the neighbouring cases that must succeed (so that a refusal is not just
 * "everything fails").  Table-driven where the cases are alike: each row
 * names itself in the log when it fails, and every row runs even after
 * one failed, so one run lists all the differences.
 *
 * After the operations on a live mapping are refused, the mapping must
 * still be intact and shared: the content is checked and a second
 * process reads it without a fault.
 */
#include <fcntl.h>
#include <linux/falloc.h>
#include <linux/mempolicy.h>
#include <linux/userfaultfd.h>
#include <sys/ioctl.h>
#include <sys/personality.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/wait.h>

#include "ar_test.h"

#define MIB (1UL << 20)
#define SV MAP_SHARED_VALIDATE
#define ARF MAP_ADDR_RANGE

/* generous: TCG with a debug kernel is slow; children are bounded anyway */
#define AR_TEST_S 180

AR_FIXTURE(ar)

/* One expectation: @err 0 means success (ret >= 0 or not MAP_FAILED). */
#define WANT(_what, _ret, _err) do {					\
	long __r = (long)(_ret);					\
	int __e = errno;						\
									\
	if ((_err) == 0) {						\
		EXPECT_LE(0, __r) TH_LOG("%s: failed with %s, want success", \
					 (_what), strerrorname_np(__e) ?: "?"); \
	} else if (__r != -1) {						\
		EXPECT_EQ(-1, __r) TH_LOG("%s: returned %ld, want %s",	\
					  (_what), __r,			\
					  strerrorname_np(_err));	\
	} else {							\
		EXPECT_EQ((_err), __e) TH_LOG("%s: %s, want %s", (_what), \
					      strerrorname_np(__e) ?: "?", \
					      strerrorname_np(_err));	\
	}								\
} while (0)

/* ---- memfd_create and sizing before the freeze ---- */

TEST_F_TIMEOUT(ar, memfd_create_flags, AR_TEST_S)
{
	int fd;

	errno = 0;
	fd = memfd_create("ar", MFD_ADDR_RANGE | MFD_HUGETLB);
	WANT("MFD_ADDR_RANGE|MFD_HUGETLB", fd, EINVAL);
	if (fd >= 0)
		close(fd);
	fd = memfd_create("ar", MFD_ADDR_RANGE | MFD_HUGETLB | (21 << 26));
	WANT("MFD_ADDR_RANGE|MFD_HUGETLB|MFD_HUGE_2MB", fd, EINVAL);
	if (fd >= 0)
		close(fd);
	fd = memfd_create("ar", MFD_ADDR_RANGE | MFD_CLOEXEC | MFD_ALLOW_SEALING);
	WANT("MFD_ADDR_RANGE|MFD_CLOEXEC|MFD_ALLOW_SEALING", fd, 0);
	if (fd >= 0) {
		EXPECT_EQ(FD_CLOEXEC, fcntl(fd, F_GETFD));
		/* any size before the first AR mmap, shrinking too */
		WANT("ftruncate 3 MiB before the freeze", ftruncate(fd, 3 * MIB), 0);
		WANT("ftruncate 4097 before the freeze", ftruncate(fd, 4097), 0);
		WANT("ftruncate 0 before the freeze", ftruncate(fd, 0), 0);
		WANT("ftruncate 8 MiB before the freeze", ftruncate(fd, 8 * MIB), 0);
		WANT("fallocate punch before the freeze",
		     fallocate(fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, 0, 4096), 0);
		close(fd);
	}
}

/* ---- mmap: the table ---- */

enum obj_kind { AR, PLAIN, DEVZERO, TMPFS, ANON, AR_RDONLY, AR_WRONLY };

struct mmap_case {
	const char *name;
	enum obj_kind obj;
	size_t size;		/* object size (AR, PLAIN, TMPFS) */
	size_t len;
	off_t off;
	int prot;
	int flags;
	long fixed_off;		/* with MAP_FIXED*: offset from an aligned address */
	int err;		/* 0: must succeed */
};

#define RW AR_RW
#define G AR_GRANULE

static const struct mmap_case mmap_cases[] = {
	/* the flag where it does not belong */
	{ "flag on a plain memfd", PLAIN, 8 * MIB, G, 0, RW, SV | ARF, 0, EOPNOTSUPP },
	{ "flag on /dev/zero", DEVZERO, 0, G, 0, RW, SV | ARF, 0, EOPNOTSUPP },
	{ "flag on a tmpfs file", TMPFS, 8 * MIB, G, 0, RW, SV | ARF, 0, EOPNOTSUPP },
	{ "MAP_PRIVATE|flag on an AR memfd", AR, 8 * MIB, G, 0, RW, MAP_PRIVATE | ARF, 0, EINVAL },
	{ "MAP_PRIVATE|flag on a plain memfd", PLAIN, 8 * MIB, G, 0, RW, MAP_PRIVATE | ARF, 0, EINVAL },
	{ "MAP_PRIVATE|flag on /dev/zero", DEVZERO, 0, G, 0, RW, MAP_PRIVATE | ARF, 0, EINVAL },
	{ "MAP_PRIVATE|MAP_ANONYMOUS|flag", ANON, 0, G, 0, RW, MAP_PRIVATE | MAP_ANONYMOUS | ARF, 0, EINVAL },
	{ "MAP_SHARED_VALIDATE|MAP_ANONYMOUS|flag", ANON, 0, G, 0, RW, SV | MAP_ANONYMOUS | ARF, 0, EINVAL },
	/* an AR memfd without the flag */
	{ "AR memfd, MAP_SHARED", AR, 8 * MIB, G, 0, RW, MAP_SHARED, 0, EINVAL },
	{ "AR memfd, MAP_PRIVATE", AR, 8 * MIB, G, 0, RW, MAP_PRIVATE, 0, EINVAL },
	{ "AR memfd, MAP_SHARED_VALIDATE", AR, 8 * MIB, G, 0, RW, SV, 0, EINVAL },
	{ "AR memfd, MAP_SHARED|flag (legacy strips it)", AR, 8 * MIB, G, 0, RW, MAP_SHARED | ARF, 0, EINVAL },
	{ "plain memfd, MAP_SHARED|flag (legacy strips it)", PLAIN, 8 * MIB, G, 0, RW, MAP_SHARED | ARF, 0, 0 },
	/* granule alignment */
	{ "len 4 KiB", AR, 8 * MIB, 4096, 0, RW, SV | ARF, 0, EINVAL },
	{ "len 1 MiB", AR, 8 * MIB, MIB, 0, RW, SV | ARF, 0, EINVAL },
	{ "len 2 MiB + 4 KiB", AR, 8 * MIB, G + 4096, 0, RW, SV | ARF, 0, EINVAL },
	{ "len 3 MiB", AR, 8 * MIB, 3 * MIB, 0, RW, SV | ARF, 0, EINVAL },
	{ "off 4 KiB", AR, 8 * MIB, G, 4096, RW, SV | ARF, 0, EINVAL },
	{ "off 1 MiB", AR, 8 * MIB, G, MIB, RW, SV | ARF, 0, EINVAL },
	{ "MAP_FIXED at +4 KiB", AR, 8 * MIB, G, 0, RW, SV | ARF | MAP_FIXED, 4096, EINVAL },
	{ "MAP_FIXED at +1 MiB", AR, 8 * MIB, G, 0, RW, SV | ARF | MAP_FIXED, MIB, EINVAL },
	/* 6.12's MAP_SHARED_VALIDATE refuses MAP_FIXED_NOREPLACE on any file */
	{ "MAP_FIXED_NOREPLACE at +4 KiB", AR, 8 * MIB, G, 0, RW, SV | ARF | MAP_FIXED_NOREPLACE, 4096, EOPNOTSUPP },
	/* the object's size */
	{ "off + len > size", AR, 8 * MIB, 4 * MIB, 6 * MIB, RW, SV | ARF, 0, EINVAL },
	{ "len > size", AR, 8 * MIB, 10 * MIB, 0, RW, SV | ARF, 0, EINVAL },
	{ "off = size", AR, 8 * MIB, G, 8 * MIB, RW, SV | ARF, 0, EINVAL },
	{ "size 0", AR, 0, G, 0, RW, SV | ARF, 0, EINVAL },
	{ "size 3 MiB", AR, 3 * MIB, G, 0, RW, SV | ARF, 0, EINVAL },
	{ "size 2 MiB + 4 KiB", AR, G + 4096, G, 0, RW, SV | ARF, 0, EINVAL },
	{ "size 4 KiB", AR, 4096, G, 0, RW, SV | ARF, 0, EINVAL },
	/* protections */
	{ "PROT_READ", AR, 8 * MIB, G, 0, PROT_READ, SV | ARF, 0, EINVAL },
	{ "PROT_WRITE", AR, 8 * MIB, G, 0, PROT_WRITE, SV | ARF, 0, EINVAL },
	{ "PROT_NONE", AR, 8 * MIB, G, 0, PROT_NONE, SV | ARF, 0, EINVAL },
	{ "PROT_READ|PROT_EXEC", AR, 8 * MIB, G, 0, PROT_READ | PROT_EXEC, SV | ARF, 0, EINVAL },
	{ "PROT_READ|PROT_WRITE|PROT_EXEC", AR, 8 * MIB, G, 0, RW | PROT_EXEC, SV | ARF, 0, EINVAL },
	/* access mode of the descriptor */
	{ "O_RDONLY descriptor", AR_RDONLY, 8 * MIB, G, 0, RW, SV | ARF, 0, EACCES },
	{ "O_WRONLY descriptor", AR_WRONLY, 8 * MIB, G, 0, RW, SV | ARF, 0, EACCES },
	/* what must work */
	{ "whole object", AR, 8 * MIB, 8 * MIB, 0, RW, SV | ARF, 0, 0 },
	{ "granules 1-2", AR, 8 * MIB, 4 * MIB, 2 * MIB, RW, SV | ARF, 0, 0 },
	{ "last granule", AR, 8 * MIB, G, 6 * MIB, RW, SV | ARF, 0, 0 },
	{ "MAP_FIXED aligned", AR, 8 * MIB, 4 * MIB, 0, RW, SV | ARF | MAP_FIXED, 0, 0 },
	{ "MAP_FIXED_NOREPLACE aligned", AR, 8 * MIB, 4 * MIB, 0, RW, SV | ARF | MAP_FIXED_NOREPLACE, 0, EOPNOTSUPP },
	{ "MAP_POPULATE", AR, 8 * MIB, 8 * MIB, 0, RW, SV | ARF | MAP_POPULATE, 0, 0 },
	{ "MAP_FIXED|MAP_POPULATE", AR, 8 * MIB, 2 * G, 2 * G, RW, SV | ARF | MAP_FIXED | MAP_POPULATE, 0, 0 },
};

static int reopen(int fd, int mode)
{
	char path[64];

	snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
	return open(path, mode | O_CLOEXEC);
}

/* The descriptor a row maps, or -1 with errno. */
static int case_fd(const struct mmap_case *c, int *extra)
{
	char path[] = "/tmp/ar-errno-XXXXXX";
	int fd = -1, fd2;

	*extra = -1;
	switch (c->obj) {
	case ANON:
		return -1;
	case DEVZERO:
		return open("/dev/zero", O_RDWR | O_CLOEXEC);
	case PLAIN:
		fd = memfd_create("plain", MFD_CLOEXEC);
		break;
	case TMPFS:
		fd = mkstemp(path);
		if (fd >= 0)
			unlink(path);
		break;
	case AR:
	case AR_RDONLY:
	case AR_WRONLY:
		fd = memfd_create("ar", MFD_ADDR_RANGE | MFD_CLOEXEC);
		break;
	}
	if (fd < 0 || ftruncate(fd, c->size))
		return -1;
	if (c->obj == AR_RDONLY || c->obj == AR_WRONLY) {
		fd2 = reopen(fd, c->obj == AR_RDONLY ? O_RDONLY : O_WRONLY);
		*extra = fd;
		return fd2;
	}
	return fd;
}

TEST_F_TIMEOUT(ar, mmap_table, AR_TEST_S)
{
	size_t i;

	for (i = 0; i < sizeof(mmap_cases) / sizeof(mmap_cases[0]); i++) {
		const struct mmap_case *c = &mmap_cases[i];
		char *addr = NULL, *res = NULL, *p;
		int fd, extra;

		fd = case_fd(c, &extra);
		if (c->obj != ANON) {
			ASSERT_LE(0, fd) TH_LOG("%s: setting up: %s", c->name,
						strerrorname_np(errno));
		}
		if (c->flags & (MAP_FIXED | MAP_FIXED_NOREPLACE)) {
			/* an aligned place with room on both sides */
			res = mmap(NULL, c->len + 2 * G, PROT_NONE,
				   MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
			ASSERT_NE(MAP_FAILED, res);
			addr = (char *)(((uintptr_t)res + G - 1) & ~(G - 1)) + c->fixed_off;
			if (c->flags & MAP_FIXED_NOREPLACE) {
				munmap(res, c->len + 2 * G);
				res = NULL;
			}
		}
		errno = 0;
		p = mmap(addr, c->len, c->prot, c->flags, fd, c->off);
		if (c->err) {
			EXPECT_EQ(MAP_FAILED, p) TH_LOG("%s: mapped at %p, want %s",
							c->name, p, strerrorname_np(c->err));
			if (p == MAP_FAILED) {
				EXPECT_EQ(c->err, errno) TH_LOG("%s: %s, want %s", c->name,
								strerrorname_np(errno) ?: "?",
								strerrorname_np(c->err));
			}
		} else {
			EXPECT_NE(MAP_FAILED, p) TH_LOG("%s: %s, want success", c->name,
							strerrorname_np(errno) ?: "?");
		}
		if (p != MAP_FAILED) {
			if (c->flags & MAP_ADDR_RANGE && c->obj == AR) {
				EXPECT_EQ(0, (uintptr_t)p & (G - 1))
					TH_LOG("%s: at %p, not 2 MiB aligned", c->name, p);
				if (addr) {
					EXPECT_EQ(addr, p) TH_LOG("%s", c->name);
				}
			}
			if (c->obj == PLAIN) {
				/* an ordinary mapping, not an AR one */
				struct ar_smaps sm;

				if (!ar_smaps_read(0, p, &sm)) {
					EXPECT_FALSE(sm.ar_flag) TH_LOG("%s: VmFlags%s", c->name,
									sm.vmflags);
				}
			}
			/* and it is usable */
			if (c->prot & PROT_WRITE)
				*(volatile char *)p = 1;
			munmap(p, c->len);
		}
		if (res)
			munmap(res, c->len + 2 * G);
		if (fd >= 0)
			close(fd);
		if (extra >= 0)
			close(extra);
	}
}

/* READ_IMPLIES_EXEC would make a read mapping executable: refused. */
static int rie_child(struct child_report *rep, void *arg)
{
	int fd = ar_memfd(4 * MIB, 0);
	void *p;

	(void)arg;
	CHILD_CHECK(rep, fd >= 0, "memfd");
	CHILD_CHECK(rep, personality(READ_IMPLIES_EXEC) != -1, "personality");
	p = ar_mmap(NULL, 4 * MIB, fd, 0, 0);
	CHILD_CHECK(rep, p == MAP_FAILED, "mapped at %p with READ_IMPLIES_EXEC", p);
	CHILD_CHECK(rep, errno == EINVAL, "errno %s, want EINVAL",
		    strerrorname_np(errno) ?: "?");
	return 0;
}

TEST_F_TIMEOUT(ar, read_implies_exec, AR_TEST_S)
{
	struct child_report *rep = child_report_new();
	int ret, status;

	ASSERT_NE(NULL, rep);
	ret = run_in_child(rie_child, NULL, rep, AR_CHILD_MS, &status);
	ASSERT_CHILD_OK(ret, status, rep);
}

/*
 * RLIMIT_MEMLOCK without CAP_IPC_LOCK: an unprivileged uid of its own (so
 * that nothing else the VM locked counts against the same user) with a
 * 4 MiB limit.
 */
static int memlock_child(struct child_report *rep, void *arg)
{
	struct rlimit rl = { 4 * MIB, 4 * MIB };
	uid_t uid = 43210;
	int fd, fd2;
	void *p;

	(void)arg;
	CHILD_CHECK(rep, setrlimit(RLIMIT_MEMLOCK, &rl) == 0, "setrlimit");
	CHILD_CHECK(rep, setresgid(uid, uid, uid) == 0, "setresgid");
	CHILD_CHECK(rep, setresuid(uid, uid, uid) == 0, "setresuid");
	fd = ar_memfd(8 * MIB, 0);
	CHILD_CHECK(rep, fd >= 0, "memfd");
	p = ar_mmap(NULL, 2 * MIB, fd, 0, 0);
	CHILD_CHECK(rep, p == MAP_FAILED, "8 MiB object frozen under a 4 MiB limit");
	CHILD_CHECK(rep, errno == EAGAIN, "errno %s, want EAGAIN",
		    strerrorname_np(errno) ?: "?");
	close(fd);
	fd = ar_memfd(4 * MIB, 0);
	CHILD_CHECK(rep, fd >= 0, "memfd");
	p = ar_mmap(NULL, 2 * MIB, fd, 0, 0);
	CHILD_CHECK(rep, p != MAP_FAILED, "4 MiB object under a 4 MiB limit");
	/* the limit is used up: the next object is refused */
	fd2 = ar_memfd(2 * MIB, 0);
	CHILD_CHECK(rep, fd2 >= 0, "memfd");
	p = ar_mmap(NULL, 2 * MIB, fd2, 0, 0);
	CHILD_CHECK(rep, p == MAP_FAILED, "2 MiB more beyond the limit");
	CHILD_CHECK(rep, errno == EAGAIN, "errno %s, want EAGAIN",
		    strerrorname_np(errno) ?: "?");
	return 0;
}

TEST_F_TIMEOUT(ar, memlock_limit, AR_TEST_S)
{
	struct child_report *rep = child_report_new();
	int ret, status;

	ASSERT_NE(NULL, rep);
	ret = run_in_child(memlock_child, NULL, rep, AR_CHILD_MS, &status);
	ASSERT_CHILD_OK(ret, status, rep);
}

/* ---- the frozen object ---- */

TEST_F_TIMEOUT(ar, frozen_object, AR_TEST_S)
{
	int fd = ar_memfd(8 * MIB, MFD_ALLOW_SEALING);
	char buf[16];
	char *p;
	int seals;

	ASSERT_LE(0, fd);
	p = ar_mmap(NULL, 8 * MIB, fd, 0, 0);
	ASSERT_NE(MAP_FAILED, p);
	memcpy(p + 4 * MIB, "frozen", 7);
	WANT("ftruncate larger", ftruncate(fd, 10 * MIB), EPERM);
	WANT("ftruncate smaller", ftruncate(fd, 6 * MIB), EPERM);
	WANT("ftruncate 0", ftruncate(fd, 0), EPERM);
	WANT("ftruncate same size", ftruncate(fd, 8 * MIB), 0);
	WANT("punch hole", fallocate(fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE,
				     4 * MIB, 4096), EPERM);
	WANT("fallocate past the size", fallocate(fd, 0, 8 * MIB, 2 * MIB), EPERM);
	WANT("fallocate straddling the size", fallocate(fd, 0, 7 * MIB, 2 * MIB), EPERM);
	seals = fcntl(fd, F_GET_SEALS);
	ASSERT_LE(0, seals);
	EXPECT_EQ(F_SEAL_SHRINK | F_SEAL_GROW, seals & (F_SEAL_SHRINK | F_SEAL_GROW))
		TH_LOG("seals %#x", seals);
	/* the punch and the truncations changed nothing */
	EXPECT_STREQ("frozen", p + 4 * MIB);
	ASSERT_EQ(7, pread(fd, buf, 7, 4 * MIB));
	EXPECT_STREQ("frozen", buf);
	/* still frozen once nothing maps it */
	ASSERT_EQ(0, munmap(p, 8 * MIB));
	WANT("ftruncate after the last munmap", ftruncate(fd, 2 * MIB), EPERM);
	WANT("punch after the last munmap",
	     fallocate(fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, 0, 4096), EPERM);
	ASSERT_EQ(7, pread(fd, buf, 7, 4 * MIB));
	EXPECT_STREQ("frozen", buf);
	close(fd);
}

/* ---- operations on a live mapping ---- */

#define LEN (8 * MIB)

struct mapped {
	int fd;
	char *p;
};

static void map_fill(struct __test_metadata *_metadata, struct mapped *m)
{
	m->fd = ar_memfd(LEN, 0);
	ASSERT_LE(0, m->fd);
	m->p = ar_mmap(NULL, LEN, m->fd, 0, 0);
	ASSERT_NE(MAP_FAILED, m->p);
	ar_fill(m->p, LEN, 99);
}

/* Another process maps the object and reads the tags without a fault. */
static int still_shared_child(struct child_report *rep, void *arg)
{
	struct mapped *m = arg;
	char *q = ar_mmap_elsewhere(LEN, m->fd, 0, m->p);
	long faults, bad;

	CHILD_CHECK(rep, q != MAP_FAILED, "mmap");
	faults = ar_faults_reading(q, LEN);
	CHILD_CHECK(rep, faults == 0, "%ld faults", faults);
	bad = ar_check(q, LEN, 99);
	CHILD_CHECK(rep, bad < 0, "page %ld lacks its tag", bad);
	return 0;
}

/* VMAs of AR objects in /proc/self/maps: a refused split leaves one. */
static int ar_vmas(void)
{
	char line[256];
	FILE *f = fopen("/proc/self/maps", "re");
	int n = 0;

	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f))
		n += strstr(line, "memfd:ar-test") != NULL;
	fclose(f);
	return n;
}

static void check_intact(struct __test_metadata *_metadata, struct mapped *m)
{
	struct child_report *rep = child_report_new();
	struct ar_smaps sm;
	int ret, status;

	ASSERT_NE(NULL, rep);
	EXPECT_EQ(-1, ar_check(m->p, LEN, 99));
	EXPECT_EQ(0, ar_faults_writing(m->p, LEN));
	ASSERT_EQ(0, ar_smaps_read(0, m->p, &sm));
	EXPECT_TRUE(sm.ar_flag) TH_LOG("VmFlags '%s'", sm.vmflags);
	ret = run_in_child(still_shared_child, m, rep, AR_CHILD_MS, &status);
	ASSERT_CHILD_OK(ret, status, rep);
}

TEST_F_TIMEOUT(ar, mprotect, AR_TEST_S)
{
	struct mapped m;
	int pkey;

	map_fill(_metadata, &m);
	WANT("mprotect PROT_READ", mprotect(m.p, LEN, PROT_READ), EINVAL);
	WANT("mprotect PROT_NONE", mprotect(m.p, LEN, PROT_NONE), EINVAL);
	WANT("mprotect RWX", mprotect(m.p, LEN, RW | PROT_EXEC), EINVAL);
	WANT("mprotect one granule PROT_READ", mprotect(m.p + G, G, PROT_READ), EINVAL);
	WANT("mprotect one page PROT_READ", mprotect(m.p + 4096, 4096, PROT_READ), EINVAL);
	WANT("mprotect RW (no change)", mprotect(m.p, LEN, RW), 0);
	WANT("mprotect RW one granule", mprotect(m.p + 2 * G, G, RW), 0);
	WANT("pkey_mprotect PROT_READ, key -1", pkey_mprotect(m.p, LEN, PROT_READ, -1), EINVAL);
	WANT("pkey_mprotect RW, key -1", pkey_mprotect(m.p, LEN, RW, -1), 0);
	pkey = pkey_alloc(0, 0);
	if (pkey > 0) {
		/* a protection key is a protection change too */
		WANT("pkey_mprotect RW with a new key", pkey_mprotect(m.p, LEN, RW, pkey), EINVAL);
		pkey_free(pkey);
	} else {
		TH_LOG("no protection keys here (%s): that row skipped",
		       strerrorname_np(errno) ?: "?");
	}
	check_intact(_metadata, &m);
}

TEST_F_TIMEOUT(ar, mremap, AR_TEST_S)
{
	struct mapped m;
	char *res;

	map_fill(_metadata, &m);
	res = mmap(NULL, LEN + 2 * G, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(MAP_FAILED, res);
	res = (char *)(((uintptr_t)res + G - 1) & ~(G - 1));
	WANT("mremap move", mremap(m.p, LEN, LEN, MREMAP_MAYMOVE | MREMAP_FIXED, res) == MAP_FAILED ? -1 : 0, EINVAL);
	WANT("mremap grow in place", mremap(m.p, LEN, LEN + G, 0) == MAP_FAILED ? -1 : 0, EINVAL);
	WANT("mremap grow, may move", mremap(m.p, LEN, LEN + G, MREMAP_MAYMOVE) == MAP_FAILED ? -1 : 0, EINVAL);
	WANT("mremap shrink by a granule", mremap(m.p, LEN, LEN - G, 0) == MAP_FAILED ? -1 : 0, EINVAL);
	WANT("mremap shrink to a page", mremap(m.p, LEN, 4096, 0) == MAP_FAILED ? -1 : 0, EINVAL);
	WANT("mremap MREMAP_DONTUNMAP",
	     mremap(m.p, LEN, LEN, MREMAP_MAYMOVE | MREMAP_DONTUNMAP) == MAP_FAILED ? -1 : 0, EINVAL);
	WANT("mremap one granule away",
	     mremap(m.p + G, G, G, MREMAP_MAYMOVE | MREMAP_FIXED, res) == MAP_FAILED ? -1 : 0, EINVAL);
	check_intact(_metadata, &m);
}

TEST_F_TIMEOUT(ar, split_refused, AR_TEST_S)
{
	struct mapped m;
	void *q;

	map_fill(_metadata, &m);
	WANT("munmap from +4 KiB", munmap(m.p + 4096, G), EINVAL);
	WANT("munmap 2 MiB + 4 KiB", munmap(m.p, G + 4096), EINVAL);
	WANT("munmap one page", munmap(m.p, 4096), EINVAL);
	WANT("munmap from +1 MiB", munmap(m.p + MIB, G), EINVAL);
	WANT("munmap the last page", munmap(m.p + LEN - 4096, 4096), EINVAL);
	q = mmap(m.p + 4096, 4096, RW, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0);
	WANT("MAP_FIXED anonymous page inside", q == MAP_FAILED ? -1 : 0, EINVAL);
	q = mmap(m.p + G + 4096, G - 4096, RW, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0);
	WANT("MAP_FIXED anonymous, unaligned start", q == MAP_FAILED ? -1 : 0, EINVAL);
	q = ar_mmap(m.p + 4096, G, m.fd, 0, MAP_FIXED);
	WANT("MAP_FIXED AR at +4 KiB", q == MAP_FAILED ? -1 : 0, EINVAL);
	/*
	 * mlock() skips VM_SPECIAL mappings without splitting them (the pages
	 * are locked already): 0, and the check below proves nothing split.
	 */
	WANT("mlock one page", mlock(m.p + 4096, 4096), 0);
	WANT("mlock from +1 MiB", mlock(m.p + MIB, G), 0);
	WANT("madvise RANDOM one page", madvise(m.p + 4096, 4096, MADV_RANDOM), EINVAL);
	WANT("madvise DONTFORK from +4 KiB", madvise(m.p + 4096, G, MADV_DONTFORK), EINVAL);
	/* (not NOHUGEPAGE: the VMA has it already, so nothing would split) */
	WANT("madvise DONTDUMP the last page", madvise(m.p + LEN - 4096, 4096, MADV_DONTDUMP), EINVAL);
	/* whatever the answers were, nothing may have split the VMA */
	EXPECT_EQ(1, ar_vmas()) TH_LOG("an unaligned operation split the mapping");
	/* aligned: fine */
	WANT("mlock whole", mlock(m.p, LEN), 0);
	WANT("mlock one granule", mlock(m.p + G, G), 0);
	WANT("munlock whole", munlock(m.p, LEN), 0);
	WANT("madvise RANDOM one granule", madvise(m.p + G, G, MADV_RANDOM), 0);
	WANT("madvise NORMAL whole", madvise(m.p, LEN, MADV_NORMAL), 0);
	check_intact(_metadata, &m);
}

struct advice {
	const char *name;
	int advice;
	int err;
};

static const struct advice advices[] = {
	{ "MADV_DONTNEED", MADV_DONTNEED, EINVAL },
	{ "MADV_DONTNEED_LOCKED", MADV_DONTNEED_LOCKED, EINVAL },
	{ "MADV_FREE", MADV_FREE, EINVAL },
	{ "MADV_REMOVE", MADV_REMOVE, EINVAL },
	{ "MADV_COLD", MADV_COLD, EINVAL },
	{ "MADV_PAGEOUT", MADV_PAGEOUT, EINVAL },
	{ "MADV_MERGEABLE", MADV_MERGEABLE, EINVAL },
	{ "MADV_HUGEPAGE", MADV_HUGEPAGE, EINVAL },
	{ "MADV_COLLAPSE", MADV_COLLAPSE, EINVAL },
	{ "MADV_WIPEONFORK", MADV_WIPEONFORK, EINVAL },
	{ "MADV_NORMAL", MADV_NORMAL, 0 },
	{ "MADV_RANDOM", MADV_RANDOM, 0 },
	{ "MADV_SEQUENTIAL", MADV_SEQUENTIAL, 0 },
	{ "MADV_WILLNEED", MADV_WILLNEED, 0 },
	{ "MADV_DONTFORK", MADV_DONTFORK, 0 },
	{ "MADV_DOFORK", MADV_DOFORK, 0 },
	{ "MADV_NOHUGEPAGE", MADV_NOHUGEPAGE, 0 },
	{ "MADV_UNMERGEABLE", MADV_UNMERGEABLE, 0 },
	{ "MADV_POPULATE_READ", MADV_POPULATE_READ, 0 },
	{ "MADV_POPULATE_WRITE", MADV_POPULATE_WRITE, 0 },
	{ "MADV_NORMAL (again)", MADV_NORMAL, 0 },
	{ "MADV_DONTDUMP", MADV_DONTDUMP, 0 },
	{ "MADV_DODUMP", MADV_DODUMP, EINVAL },
};

TEST_F_TIMEOUT(ar, madvise_table, AR_TEST_S)
{
	struct mapped m;
	size_t i;

	map_fill(_metadata, &m);
	for (i = 0; i < sizeof(advices) / sizeof(advices[0]); i++) {
		errno = 0;
		WANT(advices[i].name, madvise(m.p, LEN, advices[i].advice), advices[i].err);
		/* and on one granule: same answer */
		errno = 0;
		WANT(advices[i].name, madvise(m.p + G, G, advices[i].advice), advices[i].err);
	}
	check_intact(_metadata, &m);
}

TEST_F_TIMEOUT(ar, userfaultfd_register, AR_TEST_S)
{
	struct uffdio_api api = { .api = UFFD_API };
	struct uffdio_register reg;
	struct mapped m;
	int uffd;

	map_fill(_metadata, &m);
	uffd = syscall(SYS_userfaultfd, O_CLOEXEC | O_NONBLOCK);
	if (uffd < 0)
		SKIP(return, "no userfaultfd here: %s", strerrorname_np(errno) ?: "?");
	ASSERT_EQ(0, ioctl(uffd, UFFDIO_API, &api));
	reg.range.start = (uintptr_t)m.p;
	reg.range.len = LEN;
	reg.mode = UFFDIO_REGISTER_MODE_MISSING;
	WANT("UFFDIO_REGISTER missing", ioctl(uffd, UFFDIO_REGISTER, &reg), EINVAL);
	reg.mode = UFFDIO_REGISTER_MODE_WP;
	WANT("UFFDIO_REGISTER wp", ioctl(uffd, UFFDIO_REGISTER, &reg), EINVAL);
	if (api.features & UFFD_FEATURE_MINOR_SHMEM) {
		reg.mode = UFFDIO_REGISTER_MODE_MINOR;
		WANT("UFFDIO_REGISTER minor", ioctl(uffd, UFFDIO_REGISTER, &reg), EINVAL);
	}
	close(uffd);
	check_intact(_metadata, &m);
}

/* ---- NUMA: the pages never move ---- */

static int page_node(void *addr)
{
	int node = -1;

	if (syscall(SYS_get_mempolicy, &node, NULL, 0, addr,
		    MPOL_F_NODE | MPOL_F_ADDR))
		return -1;
	return node;
}

static bool node_online(int node)
{
	char path[64];

	snprintf(path, sizeof(path), "/sys/devices/system/node/node%d", node);
	return access(path, F_OK) == 0;
}

/*
 * The contract's expectations for mbind (EIO) and move_pages (a negative
 * status, -EFAULT expected) come from what 6.12 does with a VMA it cannot
 * migrate; what the kernel answered is logged either way, and what must
 * hold whatever the answer is that the page stayed where it was.
 */
TEST_F_TIMEOUT(ar, numa_no_migration, AR_TEST_S)
{
	unsigned long mask;
	struct mapped m;
	int from, to, nodes[4], status[4], i;
	void *pages[4];
	long ret;

	map_fill(_metadata, &m);
	from = page_node(m.p);
	if (from < 0)
		SKIP(return, "get_mempolicy: %s", strerrorname_np(errno) ?: "?");
	to = !from;
	if (!node_online(to))
		SKIP(return, "one NUMA node (boot with numa=fake=2)");
	mask = 1UL << to;
	errno = 0;
	ret = syscall(SYS_mbind, m.p, LEN, MPOL_BIND, &mask, 8 * sizeof(mask),
		      MPOL_MF_MOVE | MPOL_MF_STRICT);
	TH_LOG("mbind(MPOL_BIND node %d, MOVE|STRICT) on pages of node %d: %ld (%s)",
	       to, from, ret, ret ? strerrorname_np(errno) : "ok");
	WANT("mbind MOVE|STRICT", ret, EIO);
	EXPECT_EQ(from, page_node(m.p)) TH_LOG("mbind moved the page");

	for (i = 0; i < 4; i++) {
		pages[i] = m.p + i * G + 4096 * i;
		nodes[i] = to;
		status[i] = 12345;
	}
	ret = syscall(SYS_move_pages, 0, 4, pages, nodes, status, MPOL_MF_MOVE);
	TH_LOG("move_pages to node %d: %ld (%s), status %d %d %d %d", to, ret,
	       ret < 0 ? strerrorname_np(errno) : "ok",
	       status[0], status[1], status[2], status[3]);
	for (i = 0; i < 4; i++) {
		EXPECT_GT(0, status[i]) TH_LOG("page %d: status %d, want a negative errno", i, status[i]);
		EXPECT_EQ(-EFAULT, status[i])
			TH_LOG("page %d: status %d (%s), the contract says -EFAULT",
			       i, status[i], strerrorname_np(-status[i]) ?: "?");
		EXPECT_EQ(from, page_node(pages[i])) TH_LOG("page %d moved", i);
	}
	check_intact(_metadata, &m);
}

COREY_AR_TEST_MAIN
