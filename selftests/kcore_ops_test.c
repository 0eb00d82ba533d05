// SPDX-License-Identifier: GPL-2.0
/*
 * Kernel cores: every allowlisted request against the same system call made
 * directly (kcore-spec, "Rings": the allowlist, DONE/FALLBACK/BADOP, and
 * "results are exactly Linux's").  Through libcorey: each request must come
 * back DONE (run by the kernel core, not handed back) with the direct
 * call's result and errno, for bad descriptors, NULL, unmapped, read-only,
 * non-canonical and kernel pointers, and for the calls' side effects on the
 * shared descriptor table, file offsets and address space.  Off-allowlist
 * numbers are BADOP/-ENOSYS (also raw, with bits above the low 16).  A
 * dup3 or close that drops a file's last reference releases its flock
 * before the request completes; pipes work in both directions, a request
 * may block in the kernel core; 64 requests in flight, several laps; the
 * blocking wait mode; SIGPIPE and SIGXFSZ reach the caller.
 */
#include <fcntl.h>
#include <limits.h>
#include <stdlib.h>
#include <sys/file.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>

#include "kcore_libcorey.h"

#define IDLE_US 20000
#define NONCANONICAL 0x8000000000000000UL
#define FILE_SIZE 4096

FIXTURE(ops) {
	struct corey_kcore *kc;
	struct corey_kcore_ring *r;
	char dir[64];
	char path[96];		/* FILE_SIZE bytes: byte i is i * 7 */
	int fd;			/* O_RDWR on path */
};

FIXTURE_SETUP(ops)
{
	unsigned char data[FILE_SIZE];
	int i;

	self->kc = NULL;
	self->r = NULL;
	self->fd = -1;
	strcpy(self->dir, "/tmp/kcore_ops_XXXXXX");
	ASSERT_NE(NULL, mkdtemp(self->dir));
	snprintf(self->path, sizeof(self->path), "%s/file", self->dir);
	self->fd = open(self->path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	ASSERT_LE(0, self->fd);
	for (i = 0; i < FILE_SIZE; i++)
		data[i] = (unsigned char)(i * 7);
	ASSERT_EQ(FILE_SIZE, pwrite(self->fd, data, FILE_SIZE, 0));

	self->kc = corey_kcore_open(kcore_pick_cpu(), 1, IDLE_US);
	ASSERT_NE(NULL, self->kc) TH_LOG("corey_kcore_open: %s",
					 corey_strerror(errno));
	self->r = corey_kcore_attach(self->kc, 0);
	ASSERT_NE(NULL, self->r) TH_LOG("corey_kcore_attach: %s",
					corey_strerror(errno));
}

FIXTURE_TEARDOWN(ops)
{
	if (self->r)
		EXPECT_EQ(0, corey_kcore_detach(self->r));
	if (self->kc)
		EXPECT_EQ(0, corey_kcore_close(self->kc));
	if (self->fd >= 0)
		close(self->fd);
	unlink(self->path);
	rmdir(self->dir);
}

static bool same_file(int a, int b)
{
	struct stat sa, sb;

	return !fstat(a, &sa) && !fstat(b, &sb) && sa.st_dev == sb.st_dev &&
	       sa.st_ino == sb.st_ino;
}

/* ---- errors: the same errno for every bad argument ---- */

TEST_F_TIMEOUT(ops, errors_match_direct_calls, 120)
{
	int fd = self->fd, ro, wo, dirfd, zero, closed, p[2], pnb[2];
	unsigned long U = (unsigned long)kcore_unmapped_page();
	const unsigned long K = KCORE_KERNEL_ADDR, NC = NONCANONICAL;
	static char longname[6000];
	unsigned long rop;
	struct stat st;
	char buf[64];

	ASSERT_NE(0, U);
	ro = ASSERT_OK(open(self->path, O_RDONLY | O_CLOEXEC));
	wo = ASSERT_OK(open(self->path, O_WRONLY | O_CLOEXEC));
	dirfd = ASSERT_OK(open(self->dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC));
	zero = ASSERT_OK(open("/dev/zero", O_RDONLY | O_CLOEXEC));
	ASSERT_EQ(0, pipe2(p, O_CLOEXEC));
	ASSERT_EQ(0, pipe2(pnb, O_CLOEXEC | O_NONBLOCK));
	/* last: nothing opened after it may take its number */
	closed = ASSERT_OK(open("/dev/null", O_RDONLY | O_CLOEXEC));
	close(closed);
	rop = (unsigned long)mmap(NULL, 4096, PROT_READ,
				  MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(MAP_FAILED, (void *)rop);
	memset(longname, 'a', sizeof(longname) - 1);
	longname[0] = '/';

	const struct {
		const char *what;
		long nr;
		unsigned long a[6];
		int err;
	} c[] = {
		{ "read fd -1", SYS_read, { -1UL, (unsigned long)buf, 1 }, EBADF },
		{ "read closed fd", SYS_read, { closed, (unsigned long)buf, 1 }, EBADF },
		{ "read fd 1<<20", SYS_read, { 1 << 20, (unsigned long)buf, 1 }, EBADF },
		{ "read fd INT_MAX", SYS_read, { INT_MAX, (unsigned long)buf, 1 }, EBADF },
		{ "read O_WRONLY", SYS_read, { wo, (unsigned long)buf, 1 }, EBADF },
		{ "read a directory", SYS_read, { dirfd, (unsigned long)buf, 1 }, EISDIR },
		{ "read into NULL", SYS_read, { zero, 0, 1 }, EFAULT },
		{ "read into unmapped", SYS_read, { zero, U, 1 }, EFAULT },
		{ "read into kernel", SYS_read, { zero, K, 1 }, EFAULT },
		{ "read into non-canonical", SYS_read, { zero, NC, 1 }, EFAULT },
		{ "read into read-only", SYS_read, { zero, rop, 16 }, EFAULT },
		{ "read empty O_NONBLOCK pipe", SYS_read,
		  { pnb[0], (unsigned long)buf, 1 }, EAGAIN },

		{ "write fd -1", SYS_write, { -1UL, (unsigned long)buf, 1 }, EBADF },
		{ "write closed fd", SYS_write, { closed, (unsigned long)buf, 1 }, EBADF },
		{ "write O_RDONLY", SYS_write, { ro, (unsigned long)buf, 1 }, EBADF },
		{ "write from NULL to a pipe", SYS_write, { p[1], 0, 1 }, EFAULT },
		{ "write from unmapped to a pipe", SYS_write, { p[1], U, 1 }, EFAULT },
		{ "write from kernel to a pipe", SYS_write, { p[1], K, 1 }, EFAULT },
		{ "write from non-canonical", SYS_write, { p[1], NC, 1 }, EFAULT },

		{ "pread64 fd -1", SYS_pread64, { -1UL, (unsigned long)buf, 1, 0 }, EBADF },
		{ "pread64 negative offset", SYS_pread64,
		  { fd, (unsigned long)buf, 1, -1UL }, EINVAL },
		{ "pread64 a pipe", SYS_pread64, { p[0], (unsigned long)buf, 1, 0 }, ESPIPE },
		{ "pread64 into NULL", SYS_pread64, { fd, 0, 16, 0 }, EFAULT },
		{ "pread64 into kernel", SYS_pread64, { fd, K, 16, 0 }, EFAULT },
		{ "pread64 into read-only", SYS_pread64, { fd, rop, 16, 0 }, EFAULT },
		{ "pwrite64 fd -1", SYS_pwrite64, { -1UL, (unsigned long)buf, 1, 0 }, EBADF },
		{ "pwrite64 O_RDONLY", SYS_pwrite64, { ro, (unsigned long)buf, 1, 0 }, EBADF },
		{ "pwrite64 negative offset", SYS_pwrite64,
		  { fd, (unsigned long)buf, 1, -1UL }, EINVAL },
		{ "pwrite64 a pipe", SYS_pwrite64, { p[1], (unsigned long)buf, 1, 0 }, ESPIPE },
		{ "pwrite64 from unmapped", SYS_pwrite64, { fd, U, 16, 0 }, EFAULT },
		{ "pwrite64 from kernel", SYS_pwrite64, { fd, K, 16, 0 }, EFAULT },

		{ "lseek fd -1", SYS_lseek, { -1UL, 0, SEEK_SET }, EBADF },
		{ "lseek bad whence", SYS_lseek, { fd, 0, 42 }, EINVAL },
		{ "lseek to -1", SYS_lseek, { fd, -1UL, SEEK_SET }, EINVAL },
		{ "lseek a pipe", SYS_lseek, { p[0], 0, SEEK_CUR }, ESPIPE },

		{ "fstat fd -1", SYS_fstat, { -1UL, (unsigned long)&st }, EBADF },
		{ "fstat closed fd", SYS_fstat, { closed, (unsigned long)&st }, EBADF },
		{ "fstat into NULL", SYS_fstat, { fd, 0 }, EFAULT },
		{ "fstat into unmapped", SYS_fstat, { fd, U }, EFAULT },
		{ "fstat into kernel", SYS_fstat, { fd, K }, EFAULT },
		{ "fstat into read-only", SYS_fstat, { fd, rop }, EFAULT },

		{ "dup fd -1", SYS_dup, { -1UL }, EBADF },
		{ "dup closed fd", SYS_dup, { closed }, EBADF },
		{ "dup fd INT_MAX", SYS_dup, { INT_MAX }, EBADF },
		{ "dup3 onto itself", SYS_dup3, { fd, fd, 0 }, EINVAL },
		{ "dup3 bad flags", SYS_dup3, { fd, 200, 1 }, EINVAL },
		{ "dup3 bad oldfd", SYS_dup3, { -1UL, 200, 0 }, EBADF },
		{ "dup3 newfd -1", SYS_dup3, { fd, -1UL, 0 }, EBADF },
		{ "dup3 newfd INT_MAX", SYS_dup3, { fd, INT_MAX, 0 }, EBADF },

		{ "close fd -1", SYS_close, { -1UL }, EBADF },
		{ "close closed fd", SYS_close, { closed }, EBADF },
		{ "close fd INT_MAX", SYS_close, { INT_MAX }, EBADF },

		{ "openat NULL path", SYS_openat, { AT_FDCWD, 0, O_RDONLY }, EFAULT },
		{ "openat unmapped path", SYS_openat, { AT_FDCWD, U, O_RDONLY }, EFAULT },
		{ "openat kernel path", SYS_openat, { AT_FDCWD, K, O_RDONLY }, EFAULT },
		{ "openat missing file", SYS_openat,
		  { AT_FDCWD, (unsigned long)"/nonexistent/kcore", O_RDONLY }, ENOENT },
		{ "openat bad dirfd", SYS_openat,
		  { 9999, (unsigned long)"file", O_RDONLY }, EBADF },
		{ "openat dirfd not a directory", SYS_openat,
		  { fd, (unsigned long)"file", O_RDONLY }, ENOTDIR },
		{ "openat missing relative to dirfd", SYS_openat,
		  { dirfd, (unsigned long)"missing", O_RDONLY }, ENOENT },
		{ "openat O_DIRECTORY of a file", SYS_openat,
		  { AT_FDCWD, (unsigned long)self->path, O_RDONLY | O_DIRECTORY }, ENOTDIR },
		{ "openat O_CREAT|O_EXCL of an existing file", SYS_openat,
		  { AT_FDCWD, (unsigned long)self->path,
		    O_RDWR | O_CREAT | O_EXCL, 0600 }, EEXIST },
		{ "openat a directory for writing", SYS_openat,
		  { AT_FDCWD, (unsigned long)self->dir, O_WRONLY }, EISDIR },
		{ "openat too long a name", SYS_openat,
		  { AT_FDCWD, (unsigned long)longname, O_RDONLY }, ENAMETOOLONG },

		{ "mmap length 0", SYS_mmap,
		  { 0, 0, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1UL, 0 }, EINVAL },
		{ "mmap fd -1", SYS_mmap, { 0, 4096, PROT_READ, MAP_PRIVATE, -1UL, 0 }, EBADF },
		{ "mmap neither shared nor private", SYS_mmap,
		  { 0, 4096, PROT_READ, MAP_ANONYMOUS, -1UL, 0 }, EINVAL },
		{ "mmap shared writable of O_RDONLY", SYS_mmap,
		  { 0, 4096, PROT_READ | PROT_WRITE, MAP_SHARED, ro, 0 }, EACCES },
		{ "mmap of O_WRONLY", SYS_mmap,
		  { 0, 4096, PROT_READ, MAP_PRIVATE, wo, 0 }, EACCES },
		{ "mmap unaligned offset", SYS_mmap,
		  { 0, 4096, PROT_READ, MAP_PRIVATE, fd, 1 }, EINVAL },
		{ "mmap MAP_FIXED unaligned", SYS_mmap,
		  { 1, 4096, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED,
		    -1UL, 0 }, EINVAL },
		{ "mmap MAP_FIXED at a kernel address", SYS_mmap,
		  { K, 4096, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED,
		    -1UL, 0 }, ENOMEM },
		{ "mmap a pipe", SYS_mmap, { 0, 4096, PROT_READ, MAP_PRIVATE, p[0], 0 },
		  ENODEV },
		{ "munmap unaligned", SYS_munmap, { 1, 4096 }, EINVAL },
		{ "munmap length 0", SYS_munmap, { rop, 0 }, EINVAL },
		{ "munmap a kernel address", SYS_munmap, { K, 4096 }, EINVAL },
	};
	unsigned int i;

	for (i = 0; i < ARRAY_SIZE(c); i++)
		same_error(_metadata, self->r, c[i].what, c[i].nr, c[i].a,
			   c[i].err);

	/* nothing was written through the bad pointers, no offset moved */
	EXPECT_EQ(0, lseek(fd, 0, SEEK_CUR));
	EXPECT_EQ(FILE_SIZE, lseek(fd, 0, SEEK_END));
	close(ro);
	close(wo);
	close(dirfd);
	close(zero);
	close(p[0]);
	close(p[1]);
	close(pnb[0]);
	close(pnb[1]);
	munmap((void *)rop, 4096);
}

TEST_F(ops, rlimit_nofile_is_the_process_limit)
{
	struct rlimit saved, rl;
	int top;

	/* the lowest free descriptor, then a limit that leaves none */
	top = ASSERT_OK(dup(self->fd));
	close(top);
	ASSERT_EQ(0, getrlimit(RLIMIT_NOFILE, &saved));
	rl = saved;
	rl.rlim_cur = top;
	ASSERT_EQ(0, setrlimit(RLIMIT_NOFILE, &rl));
	same_error(_metadata, self->r, "dup at RLIMIT_NOFILE", SYS_dup,
		   ARGS(self->fd), EMFILE);
	same_error(_metadata, self->r, "openat at RLIMIT_NOFILE", SYS_openat,
		   ARGS(AT_FDCWD, (unsigned long)self->path, O_RDONLY), EMFILE);
	same_error(_metadata, self->r, "dup3 onto RLIMIT_NOFILE", SYS_dup3,
		   ARGS(self->fd, top, 0), EBADF);
	ASSERT_EQ(0, setrlimit(RLIMIT_NOFILE, &saved));
}

/* ---- successes: the calls act on this process ---- */

TEST_F(ops, nop)
{
	struct outcome k = via_kcore(self->r, COREY_KCORE_OP_NOP, ARGS(1, 2, 3));

	EXPECT_EQ(COREY_KCORE_DONE, k.status);
	EXPECT_EQ(0, k.ret);
}

TEST_F(ops, read_write_share_the_file_offset)
{
	char buf[64], want[64];
	struct stat sd, sk;
	int i;

	for (i = 0; i < 64; i++)
		want[i] = (char)(i * 7);
	/* read through the kernel core moves this process's offset */
	ASSERT_EQ(0, lseek(self->fd, 0, SEEK_SET));
	EXPECT_EQ(16, kcall(_metadata, self->r, "read", SYS_read,
			    ARGS(self->fd, (unsigned long)buf, 16)));
	EXPECT_EQ(0, memcmp(buf, want, 16));
	EXPECT_EQ(16, lseek(self->fd, 0, SEEK_CUR));
	EXPECT_EQ(16, read(self->fd, buf, 16));
	EXPECT_EQ(0, memcmp(buf, want + 16, 16));
	EXPECT_EQ(32, kcall(_metadata, self->r, "lseek SEEK_CUR", SYS_lseek,
			    ARGS(self->fd, 0, SEEK_CUR)));
	EXPECT_EQ(FILE_SIZE, kcall(_metadata, self->r, "lseek SEEK_END",
				   SYS_lseek, ARGS(self->fd, 0, SEEK_END)));
	EXPECT_EQ(FILE_SIZE, lseek(self->fd, 0, SEEK_CUR));

	/* write at the end through the kernel core, read it back directly */
	EXPECT_EQ(5, kcall(_metadata, self->r, "write", SYS_write,
			   ARGS(self->fd, (unsigned long)"hello", 5)));
	EXPECT_EQ(5, pread(self->fd, buf, 5, FILE_SIZE));
	EXPECT_EQ(0, memcmp(buf, "hello", 5));
	/* read at EOF is 0, count 0 is 0 */
	EXPECT_EQ(0, kcall(_metadata, self->r, "read at EOF", SYS_read,
			   ARGS(self->fd, (unsigned long)buf, 16)));
	EXPECT_EQ(0, kcall(_metadata, self->r, "read of 0 bytes", SYS_read,
			   ARGS(self->fd, 0, 0)));

	/* pread64/pwrite64 leave the offset alone */
	EXPECT_EQ(3, kcall(_metadata, self->r, "pwrite64", SYS_pwrite64,
			   ARGS(self->fd, (unsigned long)"abc", 3, 100)));
	EXPECT_EQ(3, pread(self->fd, buf, 3, 100));
	EXPECT_EQ(0, memcmp(buf, "abc", 3));
	ASSERT_EQ(4, pwrite(self->fd, "wxyz", 4, 200));
	memset(buf, 0, sizeof(buf));
	EXPECT_EQ(4, kcall(_metadata, self->r, "pread64", SYS_pread64,
			   ARGS(self->fd, (unsigned long)buf, 4, 200)));
	EXPECT_EQ(0, memcmp(buf, "wxyz", 4));
	EXPECT_EQ(FILE_SIZE + 5, lseek(self->fd, 0, SEEK_CUR));

	/* fstat fills in the same struct stat */
	ASSERT_EQ(0, fstat(self->fd, &sd));
	memset(&sk, 0xa5, sizeof(sk));
	EXPECT_EQ(0, kcall(_metadata, self->r, "fstat", SYS_fstat,
			   ARGS(self->fd, (unsigned long)&sk)));
	EXPECT_EQ(sd.st_dev, sk.st_dev);
	EXPECT_EQ(sd.st_ino, sk.st_ino);
	EXPECT_EQ(sd.st_mode, sk.st_mode);
	EXPECT_EQ(sd.st_nlink, sk.st_nlink);
	EXPECT_EQ(sd.st_uid, sk.st_uid);
	EXPECT_EQ(sd.st_size, sk.st_size);
	EXPECT_EQ(sd.st_blocks, sk.st_blocks);
}

TEST_F(ops, descriptors_are_the_process_table)
{
	char rel[] = "file";
	int lowest, fd, fd2;

	/* openat returns the lowest free number of this process's table */
	lowest = ASSERT_OK(dup(self->fd));
	close(lowest);
	fd = kcall(_metadata, self->r, "openat", SYS_openat,
		   ARGS(AT_FDCWD, (unsigned long)self->path,
			O_RDONLY | O_CLOEXEC));
	ASSERT_EQ(lowest, fd);
	EXPECT_TRUE(same_file(fd, self->fd));
	EXPECT_EQ(FD_CLOEXEC, fcntl(fd, F_GETFD));
	/* close through the kernel core */
	EXPECT_EQ(0, kcall(_metadata, self->r, "close", SYS_close, ARGS(fd)));
	EXPECT_ERRNO(EBADF, fcntl(fd, F_GETFD));

	/* the working directory is this process's too */
	ASSERT_EQ(0, chdir(self->dir));
	fd = kcall(_metadata, self->r, "openat relative", SYS_openat,
		   ARGS(AT_FDCWD, (unsigned long)rel, O_RDONLY));
	ASSERT_LE(0, fd);
	EXPECT_TRUE(same_file(fd, self->fd));
	EXPECT_EQ(0, fcntl(fd, F_GETFD));
	close(fd);
	ASSERT_EQ(0, chdir("/"));
	same_error(_metadata, self->r, "openat relative after chdir",
		   SYS_openat, ARGS(AT_FDCWD, (unsigned long)rel, O_RDONLY),
		   ENOENT);

	/* dup: lowest free number, same open file */
	fd = kcall(_metadata, self->r, "dup", SYS_dup, ARGS(self->fd));
	EXPECT_EQ(lowest, fd);
	EXPECT_TRUE(same_file(fd, self->fd));
	/* the same open file description: one offset */
	ASSERT_EQ(123, lseek(fd, 123, SEEK_SET));
	EXPECT_EQ(123, lseek(self->fd, 0, SEEK_CUR));
	close(fd);

	/* dup3 to a chosen number, with and without O_CLOEXEC */
	EXPECT_EQ(200, kcall(_metadata, self->r, "dup3", SYS_dup3,
			     ARGS(self->fd, 200, O_CLOEXEC)));
	EXPECT_EQ(FD_CLOEXEC, fcntl(200, F_GETFD));
	EXPECT_TRUE(same_file(200, self->fd));
	/* onto an open descriptor: replaced */
	fd2 = ASSERT_OK(open("/dev/null", O_RDONLY | O_CLOEXEC));
	EXPECT_EQ(200, kcall(_metadata, self->r, "dup3 onto an open fd",
			     SYS_dup3, ARGS(fd2, 200, 0)));
	EXPECT_EQ(0, fcntl(200, F_GETFD));
	EXPECT_TRUE(same_file(200, fd2));
	close(fd2);
	close(200);
}

TEST_F(ops, mmap_and_munmap_act_on_this_address_space)
{
	volatile char *anon;
	char *shared;
	long ret;

	ret = kcall(_metadata, self->r, "mmap anonymous", SYS_mmap,
		    ARGS(0, 8192, PROT_READ | PROT_WRITE,
			 MAP_PRIVATE | MAP_ANONYMOUS, -1UL, 0));
	ASSERT_GT(ret, 0);
	anon = (volatile char *)ret;
	anon[0] = 1;
	anon[8191] = 2;
	EXPECT_EQ(1, anon[0]);
	EXPECT_EQ(0, kcall(_metadata, self->r, "munmap", SYS_munmap,
			   ARGS((unsigned long)anon, 8192)));
	/* gone: msync of an unmapped range is ENOMEM */
	EXPECT_ERRNO(ENOMEM, msync((void *)anon, 8192, MS_ASYNC));

	/* a shared mapping of the file sees and makes its contents */
	ret = kcall(_metadata, self->r, "mmap of the file", SYS_mmap,
		    ARGS(0, FILE_SIZE, PROT_READ | PROT_WRITE, MAP_SHARED,
			 self->fd, 0));
	ASSERT_GT(ret, 0);
	shared = (char *)ret;
	EXPECT_EQ((char)(10 * 7), shared[10]);
	shared[11] = 'Q';
	{
		char c;

		EXPECT_EQ(1, pread(self->fd, &c, 1, 11));
		EXPECT_EQ('Q', c);
	}
	/* munmap directly of what the kernel core mapped */
	EXPECT_EQ(0, munmap(shared, FILE_SIZE));

	/* MAP_FIXED through the kernel core replaces a mapping of ours */
	anon = mmap(NULL, 4096, PROT_READ | PROT_WRITE,
		    MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(MAP_FAILED, (void *)anon);
	anon[0] = 9;
	ret = kcall(_metadata, self->r, "mmap MAP_FIXED", SYS_mmap,
		    ARGS((unsigned long)anon, 4096, PROT_READ,
			 MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1UL, 0));
	EXPECT_EQ((long)anon, ret);
	EXPECT_EQ(0, anon[0]);
	munmap((void *)anon, 4096);
}

/* ---- off the allowlist ---- */

TEST_F(ops, off_allowlist_is_badop)
{
	static const unsigned int ops[] = {
		SYS_getpid, SYS_exit, SYS_exit_group, SYS_execve, SYS_kill,
		SYS_clone, SYS_clone3, SYS_ioctl, SYS_open, SYS_mprotect,
		SYS_rt_sigreturn, SYS_fork, SYS_setuid, SYS_unshare,
		SYS_seccomp, SYS_io_uring_setup, 2000, 0x7fff, 0x8001, 0xffff,
	};
	unsigned int i;

	for (i = 0; i < ARRAY_SIZE(ops); i++) {
		struct outcome k = via_kcore(self->r, ops[i], ARGS(0, 0, 0));

		EXPECT_EQ(COREY_KCORE_BADOP, k.status)
			TH_LOG("op %#x: status %s", ops[i],
			       kcore_status_name(k.status));
		EXPECT_EQ(-1, k.ret) TH_LOG("op %#x returned %ld", ops[i], k.ret);
		EXPECT_EQ(ENOSYS, k.err) TH_LOG("op %#x: %s", ops[i],
						strerrorname_np(k.err) ?: "?");
	}
	/* and nothing of that ran: still here, the ring still works */
	EXPECT_EQ(COREY_KCORE_DONE,
		  via_kcore(self->r, COREY_KCORE_OP_NOP, ARGS(0)).status);
}

/* Raw, for what the library might refuse to post: bits above 0xffff. */
TEST(raw_badop_and_completion_format)
{
	static const uint32_t ops[] = {
		SYS_getpid, SYS_exit, SYS_exit_group, 0x7fff, 0xffff,
		0x10000 | SYS_read, 0x10000 | COREY_KCORE_OP_NOP,
		0x80000000 | SYS_close, 0xffff0000 | SYS_dup,
		(COREY_KCORE_DONE << 16) | SYS_getpid,
	};
	const uint64_t args[6] = { 0, 0, 0, 0, 0, 0 };
	struct kcore_raw_client c;
	struct kcore_raw_req req;
	struct kcore_raw kc;
	unsigned int i;

	ASSERT_EQ(0, kcore_raw_create(&kc, kcore_pick_cpu(), 1, IDLE_US));
	ASSERT_EQ(0, kcore_raw_attach(kc.fd, 0));
	c = (struct kcore_raw_client){ .kc = &kc, .ring = 0 };
	for (i = 0; i < ARRAY_SIZE(ops); i++) {
		ASSERT_EQ(0, kcore_raw_call(&c, ops[i], args, &req));
		EXPECT_EQ(req.seq + 1, kcore_raw_ring(&kc, 0)[req.slot].seq);
		EXPECT_EQ((uint32_t)(COREY_KCORE_BADOP << 16) |
			  (ops[i] & COREY_KCORE_OP_MASK), req.op)
			TH_LOG("op %#x completed as %#x", ops[i], req.op);
		EXPECT_EQ(-ENOSYS, (long)req.arg[0]);
	}
	/* a DONE completion: status, the low half kept, result in arg[0] */
	ASSERT_EQ(0, kcore_raw_call(&c, SYS_close, (const uint64_t[6]){ -1ULL },
				    &req));
	EXPECT_EQ((uint32_t)(COREY_KCORE_DONE << 16) | SYS_close, req.op);
	EXPECT_EQ(-EBADF, (long)req.arg[0]);
	/* the other arguments are left as posted */
	ASSERT_EQ(0, kcore_raw_call(&c, COREY_KCORE_OP_NOP,
				    (const uint64_t[6]){ 9, 1, 2, 3, 4, 5 }, &req));
	EXPECT_EQ((uint32_t)(COREY_KCORE_DONE << 16) | COREY_KCORE_OP_NOP, req.op);
	EXPECT_EQ(0, req.arg[0]);
	EXPECT_EQ(1, req.arg[1]);
	EXPECT_EQ(5, req.arg[5]);
	kcore_raw_destroy(&kc);
}

/* ---- flock: the last close happens before the request completes ---- */

static void flock_released_by(struct __test_metadata *_metadata,
			      struct corey_kcore_ring *r, const char *path,
			      bool use_dup3)
{
	int locked, other, repl;

	locked = open(path, O_RDWR | O_CLOEXEC);
	ASSERT_LE(0, locked);
	other = open(path, O_RDWR | O_CLOEXEC);
	ASSERT_LE(0, other);
	ASSERT_EQ(0, flock(locked, LOCK_EX));
	/* another open file description cannot have it meanwhile */
	EXPECT_ERRNO(EWOULDBLOCK, flock(other, LOCK_EX | LOCK_NB));
	if (use_dup3) {
		repl = open("/dev/null", O_RDONLY | O_CLOEXEC);
		ASSERT_LE(0, repl);
		EXPECT_EQ(locked, kcall(_metadata, r, "dup3 over a locked fd",
					SYS_dup3, ARGS(repl, locked, 0)));
		close(repl);
	} else {
		EXPECT_EQ(0, kcall(_metadata, r, "close of a locked fd",
				   SYS_close, ARGS(locked)));
	}
	/* the request has completed: the old file is released already */
	EXPECT_EQ(0, flock(other, LOCK_EX | LOCK_NB))
		TH_LOG("%s completed before the lock was released: %s",
		       use_dup3 ? "dup3" : "close",
		       strerrorname_np(errno) ?: "?");
	close(other);
	if (use_dup3)
		close(locked);
}

TEST_F(ops, dup3_over_a_locked_fd_releases_the_lock_first)
{
	int i;

	for (i = 0; i < 20; i++)
		flock_released_by(_metadata, self->r, self->path, true);
}

TEST_F(ops, close_of_a_locked_fd_releases_the_lock_first)
{
	int i;

	for (i = 0; i < 20; i++)
		flock_released_by(_metadata, self->r, self->path, false);
}

/* ---- pipes ---- */

TEST_F(ops, pipe_both_ways)
{
	char buf[32];
	int p[2];

	ASSERT_EQ(0, pipe2(p, O_CLOEXEC));
	/* written by the kernel core, read here */
	EXPECT_EQ(6, kcall(_metadata, self->r, "write to a pipe", SYS_write,
			   ARGS(p[1], (unsigned long)"kernel", 6)));
	EXPECT_EQ(6, read(p[0], buf, sizeof(buf)));
	EXPECT_EQ(0, memcmp(buf, "kernel", 6));
	/* written here, read by the kernel core */
	ASSERT_EQ(6, write(p[1], "client", 6));
	memset(buf, 0, sizeof(buf));
	EXPECT_EQ(6, kcall(_metadata, self->r, "read from a pipe", SYS_read,
			   ARGS(p[0], (unsigned long)buf, sizeof(buf))));
	EXPECT_EQ(0, memcmp(buf, "client", 6));

	/* the kernel core blocks in read until this thread writes */
	{
		const unsigned long a[6] = { p[0], (unsigned long)buf, 5 };
		struct corey_kcore_result res;

		memset(buf, 0, sizeof(buf));
		ASSERT_EQ(0, corey_kcore_submit(self->r, SYS_read, a, 7));
		usleep(100000);
		EXPECT_ERRNO(EAGAIN, corey_kcore_reap(self->r, &res,
						      COREY_KCORE_NOWAIT));
		ASSERT_EQ(5, write(p[1], "later", 5));
		ASSERT_EQ(0, corey_kcore_reap(self->r, &res, 0));
		EXPECT_EQ(COREY_KCORE_DONE, res.status);
		EXPECT_EQ(5, res.ret);
		EXPECT_EQ(7, res.user_data);
		EXPECT_EQ(0, memcmp(buf, "later", 5));
	}
	/* EOF once the write end is closed through the kernel core */
	EXPECT_EQ(0, kcall(_metadata, self->r, "close of the write end",
			   SYS_close, ARGS(p[1])));
	EXPECT_EQ(0, read(p[0], buf, sizeof(buf)));
	close(p[0]);
}

/* ---- many requests in flight ---- */

TEST_F_TIMEOUT(ops, batches_of_64, 120)
{
	struct corey_kcore_result res;
	unsigned char got[COREY_KCORE_RING_SLOTS];
	int lap, i;

	for (lap = 0; lap < 4; lap++) {
		for (i = 0; i < COREY_KCORE_RING_SLOTS; i++) {
			static unsigned char bytes[COREY_KCORE_RING_SLOTS];
			const unsigned long a[6] = {
				self->fd, (unsigned long)&bytes[i], 1, 1000 + i,
			};

			bytes[i] = (unsigned char)(lap * 64 + i);
			ASSERT_EQ(0, corey_kcore_submit(self->r, SYS_pwrite64, a,
							lap * 1000 + i))
				TH_LOG("submit %d of lap %d: %s", i, lap,
				       corey_strerror(errno));
		}
		/* the 65th has no slot until one is reaped */
		EXPECT_ERRNO(EAGAIN, corey_kcore_submit(self->r,
				COREY_KCORE_OP_NOP, ARGS(0), 0));
		for (i = 0; i < COREY_KCORE_RING_SLOTS; i++) {
			ASSERT_EQ(0, corey_kcore_reap(self->r, &res, 0));
			EXPECT_EQ(COREY_KCORE_DONE, res.status);
			EXPECT_EQ(1, res.ret);
			/* in posting order */
			EXPECT_EQ((unsigned long)(lap * 1000 + i), res.user_data);
		}
		EXPECT_ERRNO(ENOENT, corey_kcore_reap(self->r, &res,
						      COREY_KCORE_NOWAIT));
		ASSERT_EQ(COREY_KCORE_RING_SLOTS,
			  pread(self->fd, got, sizeof(got), 1000));
		for (i = 0; i < COREY_KCORE_RING_SLOTS; i++)
			EXPECT_EQ((unsigned char)(lap * 64 + i), got[i]);
	}
	/* mixed: NOPs, reads, writes, all in one batch */
	for (i = 0; i < COREY_KCORE_RING_SLOTS; i++) {
		static char buf[COREY_KCORE_RING_SLOTS];
		const unsigned long nop[6] = { 0 };
		const unsigned long rd[6] = { self->fd, (unsigned long)&buf[i],
					      1, i };

		ASSERT_EQ(0, corey_kcore_submit(self->r, i % 2 ?
						COREY_KCORE_OP_NOP : SYS_pread64,
						i % 2 ? nop : rd, i));
	}
	for (i = 0; i < COREY_KCORE_RING_SLOTS; i++) {
		ASSERT_EQ(0, corey_kcore_reap(self->r, &res, 0));
		EXPECT_EQ(i % 2 ? 0 : 1, res.ret);
		EXPECT_EQ((unsigned long)i, res.user_data);
	}
}

/* ---- the blocking wait mode ---- */

struct delayed_write {
	int fd;
	int delay_ms;
};

static void *write_later(void *arg)
{
	struct delayed_write *d = arg;

	usleep(d->delay_ms * 1000);
	if (write(d->fd, "wake", 4) != 4)
		return (void *)1;
	return NULL;
}

TEST_F(ops, blocking_wait_mode)
{
	struct delayed_write d;
	pthread_t t;
	char buf[8];
	void *tret;
	int p[2], i;

	ASSERT_EQ(0, corey_kcore_set_wait(self->r, COREY_KCORE_BLOCK));
	for (i = 0; i < 100; i++)
		ASSERT_EQ(0, kcall(_metadata, self->r, "NOP", COREY_KCORE_OP_NOP,
				   ARGS(0)));
	/* a request that blocks in the kernel core, done from elsewhere */
	ASSERT_EQ(0, pipe2(p, O_CLOEXEC));
	d = (struct delayed_write){ .fd = p[1], .delay_ms = 200 };
	ASSERT_EQ(0, pthread_create(&t, NULL, write_later, &d));
	EXPECT_EQ(4, kcall(_metadata, self->r, "blocking read", SYS_read,
			   ARGS(p[0], (unsigned long)buf, sizeof(buf))));
	EXPECT_EQ(0, memcmp(buf, "wake", 4));
	pthread_join(t, &tret);
	EXPECT_EQ(NULL, tret);
	/* after the kernel core went idle (idle_us) and slept */
	usleep(100000);
	EXPECT_EQ(FILE_SIZE, kcall(_metadata, self->r, "lseek after idle",
				   SYS_lseek, ARGS(self->fd, 0, SEEK_END)));
	/* back to spinning */
	ASSERT_EQ(0, corey_kcore_set_wait(self->r, COREY_KCORE_SPIN));
	usleep(100000);
	EXPECT_EQ(0, kcall(_metadata, self->r, "NOP after idle",
			   COREY_KCORE_OP_NOP, ARGS(0)));
	close(p[0]);
	close(p[1]);
}

TEST_F(ops, corey_kcore_syscall_is_syscall)
{
	char buf[4];
	long fd;

	fd = corey_kcore_syscall(self->r, SYS_openat, AT_FDCWD, self->path,
				 O_RDONLY | O_CLOEXEC);
	ASSERT_LE(0, fd);
	EXPECT_TRUE(same_file(fd, self->fd));
	EXPECT_EQ(4, corey_kcore_syscall(self->r, SYS_pread64, fd, buf, 4, 1));
	EXPECT_EQ(7, buf[0]);
	EXPECT_EQ(0, corey_kcore_syscall(self->r, SYS_close, fd));
	errno = 0;
	EXPECT_EQ(-1, corey_kcore_syscall(self->r, SYS_close, fd));
	EXPECT_EQ(EBADF, errno);
	errno = 0;
	EXPECT_EQ(-1, corey_kcore_syscall(self->r, SYS_getpid));
	EXPECT_EQ(ENOSYS, errno);
}

/* ---- signals a call raises reach the caller ---- */

static volatile sig_atomic_t got_sigpipe, got_sigxfsz;

static void count_signal(int sig)
{
	if (sig == SIGPIPE)
		got_sigpipe++;
	else if (sig == SIGXFSZ)
		got_sigxfsz++;
}

TEST_F(ops, sigpipe_and_sigxfsz_reach_the_caller)
{
	struct sigaction sa = { .sa_handler = count_signal }, old_pipe, old_xfsz;
	struct rlimit saved, rl;
	int p[2];

	ASSERT_EQ(0, sigaction(SIGPIPE, &sa, &old_pipe));
	ASSERT_EQ(0, sigaction(SIGXFSZ, &sa, &old_xfsz));
	ASSERT_EQ(0, pipe2(p, O_CLOEXEC));
	close(p[0]);

	got_sigpipe = 0;
	same_error(_metadata, self->r, "write to a pipe without readers",
		   SYS_write, ARGS(p[1], (unsigned long)"x", 1), EPIPE);
	/* one from the direct call, one re-raised by the library */
	EXPECT_EQ(2, got_sigpipe);

	ASSERT_EQ(0, getrlimit(RLIMIT_FSIZE, &saved));
	rl = saved;
	rl.rlim_cur = 100;
	ASSERT_EQ(0, setrlimit(RLIMIT_FSIZE, &rl));
	got_sigxfsz = 0;
	same_error(_metadata, self->r, "pwrite64 past RLIMIT_FSIZE",
		   SYS_pwrite64, ARGS(self->fd, (unsigned long)"x", 1, 5000),
		   EFBIG);
	EXPECT_EQ(2, got_sigxfsz);
	ASSERT_EQ(0, setrlimit(RLIMIT_FSIZE, &saved));

	/* the kernel core lives on */
	EXPECT_EQ(0, kcall(_metadata, self->r, "NOP", COREY_KCORE_OP_NOP,
			   ARGS(0)));
	close(p[1]);
	sigaction(SIGPIPE, &old_pipe, NULL);
	sigaction(SIGXFSZ, &old_xfsz, NULL);
}

COREY_KCORE_TEST_MAIN
