// SPDX-License-Identifier: GPL-2.0
/*
 * Kernel cores: a request runs in the kernel core's context only when that
 * context is the producer's (kcore-spec, "FALLBACK whenever...").  Through
 * libcorey, which makes a FALLBACK request itself, so the result is always
 * the producer's own:
 *  - seccomp: any filter, even allow-all, installed before or after SETUP,
 *    with or without TSYNC, makes every system-call request FALLBACK; a
 *    filter that fails read-only openat with EACCES still fails it through
 *    the library (a filter cannot be escaped through a kernel core);
 *  - credentials: after setresuid(65534) (glibc: every pthread, not the
 *    kernel core; or the raw call: this thread only) or dropping
 *    CAP_DAC_OVERRIDE in this thread, requests are FALLBACK and a 0600 file
 *    the kernel core could open gives EACCES;
 *  - unshare(CLONE_FILES), unshare(CLONE_FS) in the producer: FALLBACK, and
 *    the producer's own new table is the one used;
 *  - a descriptor in the producer's thread-private corey share
 *    (CONFIG_COREY_SHARES) is EBADF through the kernel core: the kernel core
 *    is another thread, and a private share is visible to its thread only
 *    (shares_visibility_test); a shared share works.
 */
#include <fcntl.h>
#include <linux/audit.h>
#include <linux/capability.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <sched.h>
#include <stddef.h>
#include <sys/prctl.h>
#include <sys/stat.h>

#include "kcore_libcorey.h"

#define IDLE_US 20000
#define NOBODY 65534

/* A directory anyone can enter with one 0600 file in it. */
struct scratch {
	char dir[64];
	char path[96];
};

static int scratch_make(struct scratch *s, uid_t owner)
{
	int fd;

	strcpy(s->dir, "/tmp/kcore_ctx_XXXXXX");
	if (!mkdtemp(s->dir) || chmod(s->dir, 0755))
		return -1;
	snprintf(s->path, sizeof(s->path), "%s/secret", s->dir);
	fd = open(s->path, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	if (fd < 0)
		return -1;
	if (write(fd, "secret", 6) != 6 || fchown(fd, owner, owner)) {
		close(fd);
		return -1;
	}
	close(fd);
	return 0;
}

static void scratch_remove(struct scratch *s)
{
	unlink(s->path);
	rmdir(s->dir);
}

/*
 * Every allowlisted call with arguments that do no harm, each compared
 * with the direct call: all must be @status.  @fd is open on a file of at
 * least 6 bytes.
 */
static void every_op(struct __test_metadata *_metadata,
		     struct corey_kcore_ring *r, int fd, unsigned int status)
{
	char buf[8];
	struct stat st;
	const struct {
		const char *what;
		long nr;
		unsigned long a[6];
	} c[] = {
		{ "read", SYS_read, { -1UL, (unsigned long)buf, 1 } },
		{ "write", SYS_write, { -1UL, (unsigned long)buf, 1 } },
		{ "close", SYS_close, { -1UL } },
		{ "fstat", SYS_fstat, { fd, (unsigned long)&st } },
		{ "lseek", SYS_lseek, { fd, 0, SEEK_END } },
		{ "mmap", SYS_mmap, { 0, 0, PROT_READ, MAP_PRIVATE, fd, 0 } },
		{ "munmap", SYS_munmap, { 1, 4096 } },
		{ "pread64", SYS_pread64, { fd, (unsigned long)buf, 6, 0 } },
		{ "pwrite64", SYS_pwrite64, { -1UL, (unsigned long)buf, 1, 0 } },
		{ "dup", SYS_dup, { -1UL } },
		{ "openat", SYS_openat,
		  { AT_FDCWD, (unsigned long)"/nonexistent", O_RDONLY } },
		{ "dup3", SYS_dup3, { -1UL, 300, 0 } },
	};
	unsigned int i;

	_Static_assert(ARRAY_SIZE(c) == 12, "the whole allowlist");
	for (i = 0; i < ARRAY_SIZE(c); i++)
		same_as_direct(_metadata, r, c[i].what, c[i].nr, c[i].a, status);
}

/* ---- seccomp ---- */

FIXTURE(seccomp) {
	struct scratch s;
};

FIXTURE_VARIANT(seccomp) {
	bool before_setup;	/* filter first, then the kernel core */
	bool tsync;		/* SECCOMP_FILTER_FLAG_TSYNC */
	bool deny_openat;	/* openat -> ERRNO(EACCES), else allow all */
};

FIXTURE_VARIANT_ADD(seccomp, allow_all_before) {
	.before_setup = true,
};
FIXTURE_VARIANT_ADD(seccomp, allow_all_after) {
	.before_setup = false,
};
FIXTURE_VARIANT_ADD(seccomp, allow_all_before_tsync) {
	.before_setup = true, .tsync = true,
};
FIXTURE_VARIANT_ADD(seccomp, allow_all_after_tsync) {
	.before_setup = false, .tsync = true,
};
FIXTURE_VARIANT_ADD(seccomp, deny_openat_before) {
	.before_setup = true, .deny_openat = true,
};
FIXTURE_VARIANT_ADD(seccomp, deny_openat_after) {
	.before_setup = false, .deny_openat = true,
};
FIXTURE_VARIANT_ADD(seccomp, deny_openat_after_tsync) {
	.before_setup = false, .tsync = true, .deny_openat = true,
};

FIXTURE_SETUP(seccomp)
{
	ASSERT_EQ(0, scratch_make(&self->s, getuid()));
}

FIXTURE_TEARDOWN(seccomp)
{
	scratch_remove(&self->s);
}

static long install_filter(bool deny_openat, bool tsync)
{
	struct sock_filter allow[] = {
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
	};
	struct sock_filter deny[] = {
		BPF_STMT(BPF_LD | BPF_W | BPF_ABS,
			 offsetof(struct seccomp_data, arch)),
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, AUDIT_ARCH_X86_64, 1, 0),
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_KILL_PROCESS),
		BPF_STMT(BPF_LD | BPF_W | BPF_ABS,
			 offsetof(struct seccomp_data, nr)),
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, SYS_openat, 0, 4),
		/* read-only opens only: libcorey opens the device O_RDWR */
		BPF_STMT(BPF_LD | BPF_W | BPF_ABS,
			 offsetof(struct seccomp_data, args[2])),
		BPF_STMT(BPF_ALU | BPF_AND | BPF_K, O_ACCMODE),
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, O_RDONLY, 0, 1),
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | EACCES),
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
	};
	struct sock_fprog prog = {
		.len = deny_openat ? ARRAY_SIZE(deny) : ARRAY_SIZE(allow),
		.filter = deny_openat ? deny : allow,
	};

	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0))
		return -1;
	return syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER,
		       tsync ? SECCOMP_FILTER_FLAG_TSYNC : 0, &prog);
}

TEST_F_TIMEOUT(seccomp, every_request_falls_back, 60)
{
	struct corey_kcore_ring *r;
	struct corey_kcore *kc;
	struct outcome k;
	int fd;

	fd = ASSERT_OK(open(self->s.path, O_RDONLY | O_CLOEXEC));
	if (variant->before_setup)
		ASSERT_EQ(0, install_filter(variant->deny_openat,
					    variant->tsync));
	kc = corey_kcore_open(kcore_pick_cpu(), 1, IDLE_US);
	ASSERT_NE(NULL, kc) TH_LOG("corey_kcore_open: %s",
				   corey_strerror(errno));
	r = corey_kcore_attach(kc, 0);
	ASSERT_NE(NULL, r);
	if (!variant->before_setup) {
		/* the control: without a filter the kernel core runs it */
		same_as_direct(_metadata, r, "pread64 before the filter",
			       SYS_pread64,
			       ARGS(fd, (unsigned long)&k, 6, 0),
			       COREY_KCORE_DONE);
		/* TSYNC must not be refused because of the kernel core */
		ASSERT_EQ(0, install_filter(variant->deny_openat,
					    variant->tsync));
	}

	every_op(_metadata, r, fd, COREY_KCORE_FALLBACK);

	/* the filter applies to what goes through the library */
	k = via_kcore(r, SYS_openat, ARGS(AT_FDCWD, (unsigned long)self->s.path,
					  O_RDONLY | O_CLOEXEC));
	EXPECT_EQ(COREY_KCORE_FALLBACK, k.status);
	if (variant->deny_openat) {
		EXPECT_EQ(-1, k.ret);
		EXPECT_EQ(EACCES, k.err);
		errno = 0;
		EXPECT_EQ(-1, corey_kcore_syscall(r, SYS_openat, AT_FDCWD,
						  self->s.path, O_RDONLY));
		EXPECT_EQ(EACCES, errno);
	} else {
		EXPECT_LE(0, k.ret);
		if (k.ret >= 0)
			close(k.ret);
	}
	/* NOP is not a system call: whatever it is, it returns 0 */
	k = via_kcore(r, COREY_KCORE_OP_NOP, ARGS(0));
	EXPECT_EQ(0, k.ret);
	EXPECT_EQ(0, corey_kcore_detach(r));
	EXPECT_EQ(0, corey_kcore_close(kc));
	close(fd);
}

/* ---- credentials ---- */

enum drop { DROP_GLIBC, DROP_RAW, DROP_CAPS };

struct creds_case {
	enum drop how;
	struct scratch *s;
};

/* Drop CAP_DAC_OVERRIDE and CAP_DAC_READ_SEARCH from this thread only. */
static int drop_dac_caps(void)
{
	struct __user_cap_header_struct h = {
		.version = _LINUX_CAPABILITY_VERSION_3, .pid = 0,
	};
	struct __user_cap_data_struct d[2];

	if (syscall(SYS_capget, &h, d))
		return -1;
	d[0].effective &= ~((1U << CAP_DAC_OVERRIDE) |
			    (1U << CAP_DAC_READ_SEARCH));
	return syscall(SYS_capset, &h, d);
}

static int creds_child(struct child_report *rep, void *arg)
{
	struct creds_case *cc = arg;
	struct corey_kcore_ring *r;
	struct corey_kcore *kc;
	struct outcome k;
	char buf[8];
	int fd;

	kc = corey_kcore_open(kcore_pick_cpu(), 1, IDLE_US);
	CHILD_CHECK(rep, kc, "corey_kcore_open");
	r = corey_kcore_attach(kc, 0);
	CHILD_CHECK(rep, r, "corey_kcore_attach");
	fd = open(cc->s->path, O_RDONLY | O_CLOEXEC);
	CHILD_CHECK(rep, fd >= 0, "open as root");

	/* the control: as root the kernel core opens the file */
	k = via_kcore(r, SYS_openat, ARGS(AT_FDCWD, (unsigned long)cc->s->path,
					  O_RDONLY | O_CLOEXEC));
	CHILD_CHECK(rep, k.status == COREY_KCORE_DONE && k.ret >= 0,
		    "openat as root: status %s ret %ld",
		    kcore_status_name(k.status), k.ret);
	close(k.ret);

	switch (cc->how) {
	case DROP_GLIBC:
		CHILD_CHECK(rep, setresuid(NOBODY, NOBODY, NOBODY) == 0, "");
		break;
	case DROP_RAW:
		CHILD_CHECK(rep, syscall(SYS_setresuid, NOBODY, NOBODY,
					 NOBODY) == 0, "");
		break;
	case DROP_CAPS:
		CHILD_CHECK(rep, drop_dac_caps() == 0, "");
		break;
	}
	/* directly: no access any more */
	CHILD_CHECK(rep, open(cc->s->path, O_RDONLY) == -1 && errno == EACCES,
		    "the direct open must fail with EACCES");

	/* every request is handed back */
	{
		const unsigned long a[6] = { fd, (unsigned long)buf, 6, 0 };

		k = via_kcore(r, SYS_pread64, a);
		CHILD_CHECK(rep, k.status == COREY_KCORE_FALLBACK && k.ret == 6,
			    "pread64: status %s ret %ld",
			    kcore_status_name(k.status), k.ret);
		k = via_kcore(r, SYS_close, ARGS(-1UL));
		CHILD_CHECK(rep, k.status == COREY_KCORE_FALLBACK &&
			    k.ret == -1 && k.err == EBADF,
			    "close(-1): status %s ret %ld",
			    kcore_status_name(k.status), k.ret);
	}
	/* and the 0600 file stays closed to us through the kernel core */
	k = via_kcore(r, SYS_openat, ARGS(AT_FDCWD, (unsigned long)cc->s->path,
					  O_RDONLY | O_CLOEXEC));
	CHILD_CHECK(rep, k.ret == -1 && k.err == EACCES,
		    "openat after the drop: status %s ret %ld err %s",
		    kcore_status_name(k.status), k.ret,
		    strerrorname_np(k.err) ?: "-");
	CHILD_CHECK(rep, k.status == COREY_KCORE_FALLBACK, "status %s",
		    kcore_status_name(k.status));
	errno = 0;
	CHILD_CHECK(rep, corey_kcore_syscall(r, SYS_openat, AT_FDCWD,
					     cc->s->path, O_RDONLY) == -1 &&
		    errno == EACCES, "corey_kcore_syscall(openat)");
	CHILD_CHECK(rep, corey_kcore_detach(r) == 0, "");
	CHILD_CHECK(rep, corey_kcore_close(kc) == 0, "");
	return 0;
}

static void creds_case(struct __test_metadata *_metadata, enum drop how)
{
	struct child_report *rep = child_report_new();
	struct scratch s;
	struct creds_case cc = { .how = how, .s = &s };
	int ret, status;

	if (geteuid() != 0)
		SKIP(return, "needs root to drop privileges");
	ASSERT_NE(NULL, rep);
	/* root's file for setresuid; nobody's file for the capability case */
	ASSERT_EQ(0, scratch_make(&s, how == DROP_CAPS ? NOBODY : 0));
	ret = run_in_child(creds_child, &cc, rep, 60000, &status);
	scratch_remove(&s);
	ASSERT_CHILD_OK(ret, status, rep);
}

TEST(setresuid_glibc_falls_back)
{
	creds_case(_metadata, DROP_GLIBC);
}

TEST(setresuid_raw_falls_back)
{
	creds_case(_metadata, DROP_RAW);
}

TEST(capability_drop_falls_back)
{
	creds_case(_metadata, DROP_CAPS);
}

/* ---- unshare ---- */

static void unshare_case(struct __test_metadata *_metadata, int flags)
{
	struct corey_kcore_ring *r;
	struct corey_kcore *kc;
	struct scratch s;
	struct outcome k;
	char buf[8];
	int fd;

	ASSERT_EQ(0, scratch_make(&s, getuid()));
	kc = corey_kcore_open(kcore_pick_cpu(), 1, IDLE_US);
	ASSERT_NE(NULL, kc);
	r = corey_kcore_attach(kc, 0);
	ASSERT_NE(NULL, r);
	same_as_direct(_metadata, r, "close(-1) before unshare", SYS_close,
		       ARGS(-1UL), COREY_KCORE_DONE);

	ASSERT_EQ(0, unshare(flags));
	fd = ASSERT_OK(open(s.path, O_RDONLY | O_CLOEXEC));
	every_op(_metadata, r, fd, COREY_KCORE_FALLBACK);
	/* the producer's own context is the one used */
	k = via_kcore(r, SYS_pread64, ARGS(fd, (unsigned long)buf, 6, 0));
	EXPECT_EQ(COREY_KCORE_FALLBACK, k.status);
	EXPECT_EQ(6, k.ret);
	if (flags & CLONE_FS) {
		/* a working directory only this thread has */
		ASSERT_EQ(0, chdir(s.dir));
		k = via_kcore(r, SYS_openat, ARGS(AT_FDCWD,
						  (unsigned long)"secret",
						  O_RDONLY | O_CLOEXEC));
		EXPECT_EQ(COREY_KCORE_FALLBACK, k.status);
		EXPECT_LE(0, k.ret);
		if (k.ret >= 0)
			close(k.ret);
		ASSERT_EQ(0, chdir("/"));
	}
	close(fd);
	EXPECT_EQ(0, corey_kcore_detach(r));
	EXPECT_EQ(0, corey_kcore_close(kc));
	scratch_remove(&s);
}

TEST(unshare_files_falls_back)
{
	unshare_case(_metadata, CLONE_FILES);
}

TEST(unshare_fs_falls_back)
{
	unshare_case(_metadata, CLONE_FS);
}

/* ---- descriptor shares ---- */

TEST(private_share_fd_is_ebadf_through_the_kernel_core)
{
	const char *why = NULL;
	struct corey_kcore_ring *r;
	struct corey_kcore *kc;
	int p, sh, pfd[2], t;
	struct outcome k;
	char buf[8];

	if (corey_shares_probe(&why) != 1)
		SKIP(return, "no descriptor shares: %s", why ?: "?");
	kc = corey_kcore_open(kcore_pick_cpu(), 1, IDLE_US);
	ASSERT_NE(NULL, kc);
	r = corey_kcore_attach(kc, 0);
	ASSERT_NE(NULL, r);

	/* a pipe's read end in this thread's private share */
	p = corey_share_create_raw(0, 0);
	ASSERT_LT(0, p);
	ASSERT_EQ(0, pipe2(pfd, O_CLOEXEC));
	t = COREY_FD(p, 0);
	ASSERT_EQ(t, dup3(pfd[0], t, 0));
	ASSERT_EQ(2, write(pfd[1], "xy", 2));

	/*
	 * The kernel core is another thread of this process, and a private
	 * share is visible to the thread that made it only: the kernel core
	 * runs the call (DONE) and finds no such descriptor.
	 */
	k = via_kcore(r, SYS_read, ARGS(t, (unsigned long)buf, 1));
	EXPECT_EQ(COREY_KCORE_DONE, k.status);
	EXPECT_EQ(-1, k.ret);
	EXPECT_EQ(EBADF, k.err);
	k = via_kcore(r, SYS_close, ARGS(t));
	EXPECT_EQ(COREY_KCORE_DONE, k.status);
	EXPECT_EQ(EBADF, k.err);
	/* directly it is there, untouched */
	EXPECT_EQ(1, read(t, buf, 1));
	EXPECT_EQ('x', buf[0]);

	/* a shared share is visible to every thread, the kernel core too */
	sh = corey_share_create_raw(0, COREY_SHARE_SHARED);
	ASSERT_LT(0, sh);
	ASSERT_EQ(COREY_FD(sh, 0), dup3(pfd[0], COREY_FD(sh, 0), 0));
	k = via_kcore(r, SYS_read, ARGS(COREY_FD(sh, 0), (unsigned long)buf, 1));
	EXPECT_EQ(COREY_KCORE_DONE, k.status);
	EXPECT_EQ(1, k.ret);
	EXPECT_EQ('y', buf[0]);

	EXPECT_EQ(0, corey_kcore_detach(r));
	EXPECT_EQ(0, corey_kcore_close(kc));
	close(pfd[0]);
	close(pfd[1]);
	EXPECT_EQ(0, corey_share_destroy_raw(p, 0));
	EXPECT_EQ(0, corey_share_destroy_raw(sh, 0));
}

COREY_KCORE_TEST_MAIN
