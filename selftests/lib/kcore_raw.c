// SPDX-License-Identifier: GPL-2.0
/*
 * Raw access to kernel cores; see kcore_raw.h.
 */
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "kcore_raw.h"

const unsigned int kcore_allowlist[] = {
	SYS_read, SYS_write, SYS_close, SYS_fstat, SYS_lseek, SYS_mmap,
	SYS_munmap, SYS_pread64, SYS_pwrite64, SYS_dup, SYS_openat, SYS_dup3,
};
const unsigned int kcore_allowlist_len =
	sizeof(kcore_allowlist) / sizeof(kcore_allowlist[0]);

bool kcore_op_allowed(uint32_t op)
{
	unsigned int i;

	if (op == COREY_KCORE_OP_NOP)
		return true;
	for (i = 0; i < kcore_allowlist_len; i++)
		if (op == kcore_allowlist[i])
			return true;
	return false;
}

int64_t kcore_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int kcore_load_module(void)
{
	int fd, ret = 0;

	fd = open(KCORE_MODULE_PATH, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	if (syscall(SYS_finit_module, fd, "", 0))
		ret = -errno;
	close(fd);
	return ret;
}

int kcore_unload_module(void)
{
	if (syscall(SYS_delete_module, KCORE_MODULE_NAME, O_NONBLOCK))
		return -errno;
	return 0;
}

bool kcore_module_loaded(void)
{
	return access("/sys/module/" KCORE_MODULE_NAME, F_OK) == 0;
}

int kcore_probe(const char **why)
{
	int ret;

	if (access(COREY_KCORE_DEVICE, F_OK) == 0)
		return 1;
	if (access(KCORE_MODULE_PATH, F_OK)) {
		*why = "no " COREY_KCORE_DEVICE " and no " KCORE_MODULE_PATH
		       ": a kernel without kernel cores";
		return 0;
	}
	ret = kcore_load_module();
	if (ret && ret != -EEXIST) {
		*why = "finit_module(" KCORE_MODULE_PATH ") failed";
		return ret;
	}
	/* devtmpfs has created the node by the time init returns. */
	if (access(COREY_KCORE_DEVICE, F_OK)) {
		*why = KCORE_MODULE_NAME " is loaded but " COREY_KCORE_DEVICE
		       " does not exist";
		return -ENODEV;
	}
	return 1;
}

int kcore_raw_open(void)
{
	return open(COREY_KCORE_DEVICE, O_RDWR | O_CLOEXEC);
}

int kcore_raw_setup(int fd, int cpu, unsigned int nr_rings,
		    unsigned int idle_us, pid_t *tid)
{
	struct corey_kcore_setup s;
	int ret;

	memset(&s, 0, sizeof(s));
	s.size = sizeof(s);
	s.cpu = cpu;
	s.nr_rings = nr_rings;
	s.idle_us = idle_us;
	ret = ioctl(fd, COREY_KCORE_SETUP, &s);
	if (!ret && tid)
		*tid = s.tid;
	return ret;
}

static int attach_ioctl(int fd, unsigned long cmd, unsigned int ring)
{
	struct corey_kcore_attach a = { .ring = ring, .flags = 0 };

	return ioctl(fd, cmd, &a);
}

int kcore_raw_attach(int fd, unsigned int ring)
{
	return attach_ioctl(fd, COREY_KCORE_ATTACH, ring);
}

int kcore_raw_detach(int fd, unsigned int ring)
{
	return attach_ioctl(fd, COREY_KCORE_DETACH, ring);
}

int kcore_raw_wake(int fd)
{
	return ioctl(fd, COREY_KCORE_WAKE);
}

int kcore_raw_wait(int fd, unsigned int ring, unsigned int slot, uint32_t seq)
{
	struct corey_kcore_wait w = {
		.ring = ring, .slot = slot, .seq = seq, .flags = 0,
	};

	return ioctl(fd, COREY_KCORE_WAIT, &w);
}

void *kcore_raw_mmap(int fd, uint64_t off, size_t len, int prot)
{
	return mmap(NULL, len, prot, MAP_SHARED, fd, (off_t)off);
}

void kcore_raw_destroy(struct kcore_raw *kc)
{
	int saved = errno;

	if (kc->rings)
		munmap(kc->rings, (size_t)kc->nr_rings * COREY_KCORE_PAGE_SIZE);
	if (kc->ctl)
		munmap(kc->ctl, COREY_KCORE_PAGE_SIZE);
	if (kc->fd >= 0)
		close(kc->fd);
	kc->rings = NULL;
	kc->ctl = NULL;
	kc->fd = -1;
	errno = saved;
}

int kcore_raw_create(struct kcore_raw *kc, int cpu, unsigned int nr_rings,
		     unsigned int idle_us)
{
	void *p;

	memset(kc, 0, sizeof(*kc));
	kc->cpu = cpu;
	kc->nr_rings = nr_rings;
	kc->fd = kcore_raw_open();
	if (kc->fd < 0)
		return -1;
	if (kcore_raw_setup(kc->fd, cpu, nr_rings, idle_us, &kc->tid))
		goto fail;
	p = kcore_raw_mmap(kc->fd, COREY_KCORE_OFF_CTL, COREY_KCORE_PAGE_SIZE,
			   PROT_READ);
	if (p == MAP_FAILED)
		goto fail;
	kc->ctl = p;
	p = kcore_raw_mmap(kc->fd, COREY_KCORE_OFF_RING(0),
			   (size_t)nr_rings * COREY_KCORE_PAGE_SIZE,
			   PROT_READ | PROT_WRITE);
	if (p == MAP_FAILED)
		goto fail;
	kc->rings = p;
	return 0;
fail:
	kcore_raw_destroy(kc);
	return -1;
}

void kcore_raw_kick(struct kcore_raw *kc, unsigned int ring)
{
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
	if (kcore_raw_flags(kc, ring) & COREY_KCORE_NEED_WAKEUP)
		kcore_raw_wake(kc->fd);
}

void kcore_raw_post(struct kcore_raw_client *c, uint32_t op,
		    const uint64_t arg[6], struct kcore_raw_req *req)
{
	struct corey_kcore_slot *s;

	req->slot = c->head % COREY_KCORE_RING_SLOTS;
	req->seq = 2 * (uint32_t)(c->head / COREY_KCORE_RING_SLOTS) + 1;
	s = &kcore_raw_ring(c->kc, c->ring)[req->slot];
	s->op = op;
	memcpy(s->arg, arg, sizeof(s->arg));
	s->user_data = c->head;
	__atomic_store_n(&s->seq, req->seq, __ATOMIC_RELEASE);
	c->head++;
	kcore_raw_kick(c->kc, c->ring);
}

int kcore_raw_wait_done(struct kcore_raw *kc, unsigned int ring,
			struct kcore_raw_req *req, int timeout_ms)
{
	struct corey_kcore_slot *s = &kcore_raw_ring(kc, ring)[req->slot];
	int64_t deadline = kcore_now_ms() + timeout_ms;
	unsigned long spins = 0;

	while (__atomic_load_n(&s->seq, __ATOMIC_ACQUIRE) == req->seq) {
		if (++spins % 64)
			continue;
		if (kcore_raw_flags(kc, ring) & COREY_KCORE_DEAD) {
			/* it may have completed just before dying */
			if (__atomic_load_n(&s->seq, __ATOMIC_ACQUIRE) != req->seq)
				break;
			return -EOWNERDEAD;
		}
		if (kcore_now_ms() > deadline)
			return -ETIMEDOUT;
		sched_yield();
	}
	req->op = s->op;
	memcpy(req->arg, s->arg, sizeof(req->arg));
	return 0;
}

int kcore_raw_call(struct kcore_raw_client *c, uint32_t op,
		   const uint64_t arg[6], struct kcore_raw_req *req)
{
	kcore_raw_post(c, op, arg, req);
	return kcore_raw_wait_done(c->kc, c->ring, req, KCORE_BOUND_MS);
}
