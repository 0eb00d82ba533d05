// SPDX-License-Identifier: GPL-2.0
/*
 * Kernel cores: garbage from user space (kcore-spec, "Rings": "the kernel
 * never reads an index from the ring"; any other seq stalls that ring
 * only).  In a child process, for KCORE_FUZZ_SECONDS (default 10), with
 * KCORE_FUZZ_SEED (default: the time; logged) for the random choices:
 *
 *  - ring 0: a well-behaved client whose every request must complete,
 *    with the right result, within KCORE_BOUND_MS (a liveness bound);
 *  - ring 1: a scribbler writing random seq/op/args/user_data into random
 *    slots, seq often near the expected value (stale, ahead, even);
 *  - ring 2: valid-looking requests from the allowlist with bad
 *    descriptors and pointers (NULL, unmapped, read-only, kernel,
 *    non-canonical): each must complete DONE with its exact -errno;
 *  - ring 3: before each correct post, stale, ahead and completion-valued
 *    seq values that must leave the slot alone;
 *  - a thread throwing random ioctl commands and structs at the device
 *    (the set-up file and fresh ones), interrupted by a timer so a WAIT
 *    cannot hang it: only 0 or the documented errnos may come back.
 *
 * Then the kernel core's thread is sent SIGKILL and the process must be
 * reaped within 5 s, leaving no kcore thread behind.
 *
 * Ops the scribbler writes are never on the allowlist with a zero high
 * half (only BADOP or NOP may run from garbage): random arguments to
 * close or munmap would break the test process itself, not the kernel.
 */
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>

#include "kcore_test.h"

#define IDLE_US		2000
#define NR_RINGS	4
#define NOFILE		1024

/* Only for TEST_F_TIMEOUT: the run takes longer than the default 30 s. */
FIXTURE(kcore) {
	int unused;
};

FIXTURE_SETUP(kcore)
{
	self->unused = 0;
}

FIXTURE_TEARDOWN(kcore)
{
}

struct fuzz_report {
	struct child_report rep;
	pid_t kcore_tid;
	int finished;
	long client_done;
	long scribbles;
	long bad_args_done;
	long stale_checked;
	long ioctls;
};

struct fuzz {
	struct kcore_raw kc;
	struct fuzz_report *fr;
	uint64_t seed;
	/* resources for the valid-looking requests */
	int scratch;		/* a memfd with 4096 bytes */
	int pipe_w;
	uint64_t unmapped, readonly;
};

static uint64_t rnd(uint64_t *s)
{
	/* xorshift64* */
	*s ^= *s >> 12;
	*s ^= *s << 25;
	*s ^= *s >> 27;
	return *s * 0x2545F4914F6CDD1DULL;
}

/* ---- ring 0: the well-behaved client ---- */

static void *client(void *arg)
{
	struct fuzz *f = arg;
	struct child_report *rep = &f->fr->rep;
	struct kcore_raw_client c = { .kc = &f->kc, .ring = 0 };
	struct kcore_raw_req req;
	unsigned char buf[16];
	unsigned long i;
	int ret;

	CHILD_CHECK(rep, kcore_raw_attach(f->kc.fd, 0) == 0, "");
	for (i = 0;; i++) {
		uint64_t off = i % 4000;

		switch (i % 3) {
		case 0:
			ret = kcore_raw_call(&c, COREY_KCORE_OP_NOP,
					     (const uint64_t[6]){ 0 }, &req);
			CHILD_CHECK(rep, !ret, "client NOP %lu: %s", i,
				    strerrorname_np(-ret) ?: "?");
			CHILD_CHECK(rep, req.arg[0] == 0 &&
				    kcore_status(req.op) == COREY_KCORE_DONE, "");
			break;
		case 1:
			ret = kcore_raw_call(&c, SYS_pread64,
				(const uint64_t[6]){ f->scratch, (uint64_t)buf,
						     sizeof(buf), off }, &req);
			CHILD_CHECK(rep, !ret, "client pread64 %lu: %s", i,
				    strerrorname_np(-ret) ?: "?");
			CHILD_CHECK(rep, req.arg[0] == sizeof(buf) &&
				    buf[0] == (unsigned char)off &&
				    buf[15] == (unsigned char)(off + 15),
				    "pread64 at %llu: %lld",
				    (unsigned long long)off, (long long)req.arg[0]);
			break;
		case 2:
			ret = kcore_raw_call(&c, SYS_lseek,
				(const uint64_t[6]){ f->scratch, 0, SEEK_END },
				&req);
			CHILD_CHECK(rep, !ret && req.arg[0] == 4096,
				    "client lseek %lu: %s %lld", i,
				    strerrorname_np(-ret) ?: "-",
				    (long long)req.arg[0]);
			break;
		}
		__atomic_add_fetch(&f->fr->client_done, 1, __ATOMIC_RELAXED);
	}
	return NULL;
}

/* ---- ring 1: garbage ---- */

static uint32_t garbage_op(uint64_t *s)
{
	uint32_t op = (uint32_t)rnd(s);

	switch (rnd(s) % 4) {
	case 0:		/* a plausible number with a status in the high half */
		op = (op & 0xffff0000) | kcore_allowlist[rnd(s) %
							 kcore_allowlist_len];
		if (!(op >> 16))
			op |= 0x10000;
		break;
	case 1:
		op &= 0xffff;
		break;
	}
	/* never a runnable request with random arguments */
	if (!(op >> 16) && kcore_op_allowed(op) && op != COREY_KCORE_OP_NOP)
		op ^= 0x4000;
	return op;
}

static void *scribbler(void *arg)
{
	struct fuzz *f = arg;
	struct corey_kcore_slot *ring = kcore_raw_ring(&f->kc, 1);
	uint64_t s = f->seed ^ 0x5c41bb1e;
	unsigned long n = 0;

	if (kcore_raw_attach(f->kc.fd, 1))
		CHILD_FAIL(&f->fr->rep, "scribbler attach: %s",
			   strerrorname_np(errno) ?: "?");
	for (;;) {
		struct corey_kcore_slot *sl = &ring[rnd(&s) % 64];
		uint32_t cur = __atomic_load_n(&sl->seq, __ATOMIC_RELAXED);
		uint32_t seq;
		int i;

		sl->op = garbage_op(&s);
		for (i = 0; i < 6; i++)
			sl->arg[i] = rnd(&s);
		sl->user_data = rnd(&s);
		switch (rnd(&s) % 8) {
		case 0: seq = (uint32_t)rnd(&s); break;
		case 1: seq = cur + 1; break;
		case 2: seq = cur + 2; break;
		case 3: seq = cur - 1; break;
		case 4: seq = cur - 2; break;
		case 5: seq = 0; break;
		case 6: seq = ~0U; break;
		default: seq = (uint32_t)rnd(&s) % 8; break;
		}
		__atomic_store_n(&sl->seq, seq, __ATOMIC_RELEASE);
		if (!(++n % 16))
			kcore_raw_kick(&f->kc, 1);
		if (!(n % 256))
			sched_yield();
		__atomic_add_fetch(&f->fr->scribbles, 1, __ATOMIC_RELAXED);
	}
	return NULL;
}

/* ---- ring 2: valid-looking requests with bad arguments ---- */

static uint64_t bad_fd(uint64_t *s)
{
	static const int64_t fds[] = { -1, -2, INT_MIN, INT_MAX, NOFILE,
				       NOFILE + 1, 1 << 20 };

	return (uint64_t)fds[rnd(s) % ARRAY_SIZE(fds)];
}

/* A pointer nothing can be read from (and so nothing written to). */
static uint64_t bad_ptr(struct fuzz *f, uint64_t *s)
{
	const uint64_t p[] = {
		0, 1, f->unmapped, f->unmapped + 17, KCORE_KERNEL_ADDR,
		0xffff880000000000ULL, 0x8000000000000000ULL, ~0ULL - 15,
		0x0000800000000000ULL,
	};

	return p[rnd(s) % ARRAY_SIZE(p)];
}

/* Also not writable: the read-only page too. */
static uint64_t bad_wptr(struct fuzz *f, uint64_t *s)
{
	return rnd(s) % 5 ? bad_ptr(f, s) : f->readonly;
}

static void bad_request(struct fuzz *f, uint64_t *s, uint32_t *op,
			uint64_t a[6], int *err)
{
	memset(a, 0, 6 * sizeof(*a));
	switch (rnd(s) % 16) {
	case 0:
		*op = SYS_read; a[0] = bad_fd(s); a[1] = bad_wptr(f, s);
		a[2] = 1 + rnd(s) % 8192; *err = EBADF;
		break;
	case 1:
		*op = SYS_write; a[0] = bad_fd(s); a[1] = bad_ptr(f, s);
		a[2] = 1 + rnd(s) % 8192; *err = EBADF;
		break;
	case 2:
		*op = SYS_pread64; a[0] = f->scratch; a[1] = bad_wptr(f, s);
		a[2] = 1 + rnd(s) % 4096; a[3] = rnd(s) % 4000; *err = EFAULT;
		break;
	case 3:
		*op = SYS_pwrite64; a[0] = f->scratch; a[1] = bad_ptr(f, s);
		a[2] = 1 + rnd(s) % 4096; a[3] = rnd(s) % 4000; *err = EFAULT;
		break;
	case 4:
		*op = SYS_write; a[0] = f->pipe_w; a[1] = bad_ptr(f, s);
		a[2] = 1 + rnd(s) % 4096; *err = EFAULT;
		break;
	case 5:
		*op = SYS_close; a[0] = bad_fd(s); *err = EBADF;
		break;
	case 6:
		*op = SYS_fstat; a[0] = bad_fd(s); a[1] = bad_wptr(f, s);
		*err = EBADF;
		break;
	case 7:
		*op = SYS_fstat; a[0] = f->scratch; a[1] = bad_wptr(f, s);
		*err = EFAULT;
		break;
	case 8:
		*op = SYS_lseek; a[0] = bad_fd(s); *err = EBADF;
		break;
	case 9:
		*op = SYS_lseek; a[0] = f->scratch; a[2] = 5 + rnd(s) % 1000;
		*err = EINVAL;
		break;
	case 10:
		*op = SYS_openat; a[0] = (uint64_t)AT_FDCWD; a[1] = bad_ptr(f, s);
		a[2] = O_RDONLY; *err = EFAULT;
		break;
	case 11:
		*op = SYS_openat; a[0] = bad_fd(s);
		a[1] = (uint64_t)"relative"; a[2] = O_RDONLY; *err = EBADF;
		break;
	case 12:
		*op = SYS_dup; a[0] = bad_fd(s); *err = EBADF;
		break;
	case 13:
		*op = SYS_dup3; a[0] = f->scratch; a[1] = bad_fd(s);
		*err = EBADF;
		break;
	case 14:
		*op = SYS_mmap; a[1] = 4096; a[2] = PROT_READ;
		a[3] = MAP_PRIVATE; a[4] = bad_fd(s); *err = EBADF;
		break;
	default:
		*op = SYS_munmap; a[0] = rnd(s) % 2 ? KCORE_KERNEL_ADDR :
			f->unmapped + 1 + rnd(s) % 4095;
		a[1] = 4096; *err = EINVAL;
		break;
	}
}

static void *bad_args(void *arg)
{
	struct fuzz *f = arg;
	struct child_report *rep = &f->fr->rep;
	struct kcore_raw_client c = { .kc = &f->kc, .ring = 2 };
	uint64_t s = f->seed ^ 0xbadaf9;
	struct kcore_raw_req req;
	uint64_t a[6];
	uint32_t op;
	int err, ret;

	CHILD_CHECK(rep, kcore_raw_attach(f->kc.fd, 2) == 0, "");
	for (;;) {
		bad_request(f, &s, &op, a, &err);
		ret = kcore_raw_call(&c, op, a, &req);
		CHILD_CHECK(rep, !ret, "op %u not completed: %s", op,
			    strerrorname_np(-ret) ?: "?");
		CHILD_CHECK(rep, kcore_status(req.op) == COREY_KCORE_DONE &&
			    (long)req.arg[0] == -err,
			    "op %u (%#llx, %#llx, %#llx, %#llx): status %u, "
			    "result %lld, want -%s", op,
			    (unsigned long long)a[0], (unsigned long long)a[1],
			    (unsigned long long)a[2], (unsigned long long)a[3],
			    kcore_status(req.op), (long long)req.arg[0],
			    strerrorname_np(err));
		__atomic_add_fetch(&f->fr->bad_args_done, 1, __ATOMIC_RELAXED);
	}
	return NULL;
}

/* ---- ring 3: wrong seq values before the right one ---- */

static void *stale_seqs(void *arg)
{
	struct fuzz *f = arg;
	struct child_report *rep = &f->fr->rep;
	struct corey_kcore_slot *ring = kcore_raw_ring(&f->kc, 3);
	uint64_t head = 0, s = f->seed ^ 0x57a1e;
	struct kcore_raw_req req;
	int ret;

	CHILD_CHECK(rep, kcore_raw_attach(f->kc.fd, 3) == 0, "");
	for (;;) {
		unsigned int slot = head % 64;
		uint32_t want = 2 * (uint32_t)(head / 64) + 1;
		const uint32_t wrong[] = {
			want + 1,		/* a completion value */
			want + 2,		/* next lap's post */
			want + 128,
			want - 1,		/* last lap's completion */
			want >= 3 ? want - 2 : 0x80000001,	/* last lap's post */
			(uint32_t)rnd(&s) | 1,
		};
		struct corey_kcore_slot *sl = &ring[slot];
		unsigned int i;

		sl->op = COREY_KCORE_OP_NOP;
		sl->arg[0] = 0xdeadbeef;
		for (i = 0; i < ARRAY_SIZE(wrong); i++) {
			if (wrong[i] == want)
				continue;
			__atomic_store_n(&sl->seq, wrong[i], __ATOMIC_RELEASE);
			kcore_raw_kick(&f->kc, 3);
			usleep(500);
		}
		usleep(2000);
		/* nothing served: no status, the sentinel still there */
		CHILD_CHECK(rep, sl->op == COREY_KCORE_OP_NOP &&
			    sl->arg[0] == 0xdeadbeef,
			    "slot %u served with seq %u (want %u): op %#x",
			    slot, sl->seq, want, sl->op);
		req = (struct kcore_raw_req){ .slot = slot, .seq = want };
		__atomic_store_n(&sl->seq, want, __ATOMIC_RELEASE);
		kcore_raw_kick(&f->kc, 3);
		ret = kcore_raw_wait_done(&f->kc, 3, &req, KCORE_BOUND_MS);
		CHILD_CHECK(rep, !ret, "slot %u seq %u not served: %s", slot,
			    want, strerrorname_np(-ret) ?: "?");
		CHILD_CHECK(rep, sl->seq == want + 1 && req.arg[0] == 0 &&
			    kcore_status(req.op) == COREY_KCORE_DONE,
			    "slot %u: seq %u status %u", slot, sl->seq,
			    kcore_status(req.op));
		head++;
		__atomic_add_fetch(&f->fr->stale_checked, 1, __ATOMIC_RELAXED);
	}
	return NULL;
}

/* ---- random ioctls ---- */

static void on_timer(int sig)
{
	(void)sig;
}

static bool ioctl_errno_ok(int e)
{
	switch (e) {
	case ENOTTY: case EINVAL: case EFAULT: case EBUSY: case E2BIG:
	case EINTR: case EAGAIN: case ENOMEM:
		return true;
	}
	return false;
}

static unsigned long random_cmd(uint64_t *s)
{
	static const unsigned long real[] = {
		COREY_KCORE_SETUP, COREY_KCORE_ATTACH, COREY_KCORE_WAKE,
		COREY_KCORE_WAIT, COREY_KCORE_DETACH,
	};
	unsigned long cmd;
	unsigned int type;

	switch (rnd(s) % 3) {
	case 0:
		return real[rnd(s) % ARRAY_SIZE(real)];
	case 1:
		return _IOC(rnd(s) % 4, COREY_KCORE_IOC_MAGIC, rnd(s) % 16,
			    rnd(s) % 256);
	}
	cmd = (uint32_t)rnd(s);
	/* stay clear of the generic ioctls the VFS handles for any file */
	type = (cmd >> 8) & 0xff;
	if (type == 'T' || type == 'X' || type == 'f' || type == 0x94 ||
	    type == 0x15 || (cmd & 0xffff0000) == 0)
		cmd = (cmd & ~0xff00UL) | (COREY_KCORE_IOC_MAGIC << 8);
	return cmd;
}

static void *ioctls(void *arg)
{
	struct fuzz *f = arg;
	struct child_report *rep = &f->fr->rep;
	uint64_t s = f->seed ^ 0x10c71;
	struct sigaction sa = { .sa_handler = on_timer };	/* no SA_RESTART */
	struct sigevent sev = { 0 };
	struct itimerspec its = {
		.it_interval = { 0, 50 * 1000 * 1000 },
		.it_value = { 0, 50 * 1000 * 1000 },
	};
	static unsigned char buf[8192];
	timer_t timer;
	int fresh;

	CHILD_CHECK(rep, sigaction(SIGUSR1, &sa, NULL) == 0, "");
	sev.sigev_notify = SIGEV_THREAD_ID;
	sev.sigev_signo = SIGUSR1;
	sev._sigev_un._tid = gettid();
	CHILD_CHECK(rep, timer_create(CLOCK_MONOTONIC, &sev, &timer) == 0, "");
	CHILD_CHECK(rep, timer_settime(timer, 0, &its, NULL) == 0, "");
	fresh = kcore_raw_open();
	CHILD_CHECK(rep, fresh >= 0, "");

	for (;;) {
		bool on_fresh = rnd(&s) % 4 == 0;
		int fd = on_fresh ? fresh : f->kc.fd;
		unsigned long cmd = random_cmd(&s);
		unsigned long a;
		unsigned int i;
		long ret;

		for (i = 0; i < 64; i++)
			buf[i] = (unsigned char)rnd(&s);
		switch (rnd(&s) % 4) {
		case 0:	/* small values, so checks beyond flags are reached */
			buf[0] = rnd(&s) % 96;		/* size / ring */
			buf[1] = buf[2] = buf[3] = 0;
			if (rnd(&s) % 2)
				memset(buf + 4, 0, 60);
			break;
		case 1: {	/* a plausible SETUP */
			struct corey_kcore_setup su = {
				.size = sizeof(su),
				.cpu = (int)(rnd(&s) % 4) - 1,
				.nr_rings = rnd(&s) % 70,
				.idle_us = (uint32_t)rnd(&s) % 100000,
			};

			memcpy(buf, &su, sizeof(su));
			break;
		}
		}
		switch (rnd(&s) % 4) {
		case 0: a = (unsigned long)bad_ptr(f, &s); break;
		case 1: a = (unsigned long)rnd(&s); break;
		default: a = (unsigned long)buf; break;
		}
		errno = 0;
		ret = ioctl(fd, cmd, a);
		CHILD_CHECK(rep, ret == 0 || (ret == -1 && ioctl_errno_ok(errno)),
			    "ioctl(%s fd, %#lx, %#lx) = %ld", on_fresh ?
			    "a fresh" : "the set-up", cmd, a, ret);
		if (ret == 0 && on_fresh && cmd == COREY_KCORE_SETUP) {
			/* a random SETUP took: start over with a new file */
			close(fresh);
			fresh = kcore_raw_open();
			CHILD_CHECK(rep, fresh >= 0, "");
		}
		__atomic_add_fetch(&f->fr->ioctls, 1, __ATOMIC_RELAXED);
	}
	return NULL;
}

static void fuzz_child(struct fuzz_report *fr, uint64_t seed, long seconds)
{
	static struct fuzz f;
	void *(*fn[])(void *) = { client, scribbler, bad_args, stale_seqs,
				  ioctls };
	struct child_report *rep = &fr->rep;
	struct rlimit rl = { NOFILE, NOFILE };
	unsigned char data[4096];
	pthread_t t[ARRAY_SIZE(fn)];
	int p[2], i;
	void *ro;

	CHILD_CHECK(rep, setrlimit(RLIMIT_NOFILE, &rl) == 0, "");
	f.fr = fr;
	f.seed = seed;
	f.scratch = memfd_create("kcore_fuzz", MFD_CLOEXEC);
	CHILD_CHECK(rep, f.scratch >= 0, "");
	for (i = 0; i < 4096; i++)
		data[i] = (unsigned char)i;
	CHILD_CHECK(rep, pwrite(f.scratch, data, 4096, 0) == 4096, "");
	CHILD_CHECK(rep, pipe2(p, O_CLOEXEC) == 0, "");
	f.pipe_w = p[1];
	f.unmapped = (uint64_t)kcore_unmapped_page();
	ro = mmap(NULL, 4096, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	CHILD_CHECK(rep, ro != MAP_FAILED, "");
	f.readonly = (uint64_t)ro;
	CHILD_CHECK(rep, kcore_raw_create(&f.kc, kcore_pick_cpu(), NR_RINGS,
					  IDLE_US) == 0, "");
	fr->kcore_tid = f.kc.tid;

	for (i = 0; i < (int)ARRAY_SIZE(fn); i++)
		CHILD_CHECK(rep, pthread_create(&t[i], NULL, fn[i], &f) == 0, "");
	sleep(seconds);
	/* everything keeps running: the kill comes under load */
	__atomic_store_n(&fr->finished, 1, __ATOMIC_RELEASE);
	for (;;)
		pause();
}

TEST_F_TIMEOUT(kcore, garbage_rings_and_ioctls, 600)
{
	long seconds = env_long("KCORE_FUZZ_SECONDS", 10);
	long seed = env_long("KCORE_FUZZ_SEED", (long)time(NULL));
	struct fuzz_report *fr;
	int64_t deadline;
	int status, ret;
	char list[1024], ws[64];
	pid_t pid;

	fr = mmap(NULL, sizeof(*fr), PROT_READ | PROT_WRITE,
		  MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(MAP_FAILED, fr);
	memset(fr, 0, sizeof(*fr));
	TH_LOG("KCORE_FUZZ_SECONDS=%ld KCORE_FUZZ_SEED=%ld", seconds, seed);
	fflush(stdout);
	fflush(stderr);
	pid = fork();
	ASSERT_LE(0, pid);
	if (pid == 0)
		fuzz_child(fr, (uint64_t)seed * 0x9e3779b97f4a7c15ULL | 1, seconds);

	deadline = kcore_now_ms() + (seconds + 120) * 1000;
	while (!__atomic_load_n(&fr->finished, __ATOMIC_ACQUIRE)) {
		if (waitpid(pid, &status, WNOHANG) == pid)
			ASSERT_TRUE(false) TH_LOG("fuzz child %s: %s",
				wstatus_str(status, ws, sizeof(ws)),
				fr->rep.msg[0] ? fr->rep.msg : "(no message)");
		if (kcore_now_ms() > deadline) {
			kill_and_reap(pid, 10000, &status);
			ASSERT_TRUE(false) TH_LOG("fuzz child never finished");
		}
		usleep(20000);
	}
	TH_LOG("client %ld, scribbles %ld, bad-argument requests %ld, "
	       "stale checks %ld, ioctls %ld", fr->client_done, fr->scribbles,
	       fr->bad_args_done, fr->stale_checked, fr->ioctls);
	EXPECT_LT(0, fr->client_done);
	EXPECT_LT(0, fr->bad_args_done);
	EXPECT_LT(0, fr->stale_checked);
	EXPECT_LT(0, fr->ioctls);
	EXPECT_EQ(0, fr->rep.msg[0]) TH_LOG("%s", fr->rep.msg);

	/* kill the kernel core (and so the process) under load */
	ASSERT_LT(0, fr->kcore_tid);
	ASSERT_EQ(0, syscall(SYS_tgkill, pid, fr->kcore_tid, SIGKILL));
	ret = waitpid_timeout(pid, &status, 5000);
	if (ret)
		kill_and_reap(pid, 10000, &status);
	ASSERT_EQ(0, ret) TH_LOG("not reaped 5 s after SIGKILL to the kernel core");
	EXPECT_TRUE(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL)
		TH_LOG("child %s", wstatus_str(status, ws, sizeof(ws)));
	ASSERT_EQ(0, kcore_threads_wait_gone(0, 5000, list, sizeof(list)))
		TH_LOG("left: %s", list);
}

COREY_KCORE_TEST_MAIN
