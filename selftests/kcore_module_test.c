// SPDX-License-Identifier: GPL-2.0
/*
 * Kernel cores: the module's lifetime and CPU hotplug (kcore-spec,
 * "Teardown": rmmod; "Its CPU going offline").
 *
 *  - delete_module("corey_kcore") is refused while a device file is open
 *    (here or in another process), and while a kernel core lives on a
 *    mapping after its fd was closed; it succeeds once all of that is gone,
 *    the device node goes with it, and finit_module brings back a working
 *    device.  The spec says "EBUSY"; the system call in 6.12 answers a
 *    module whose reference count is held with EWOULDBLOCK (try_stop_module,
 *    with or without O_NONBLOCK; kmod's rmmod prints "is in use" before
 *    even asking), so that is what is asserted.
 *  - Offlining the kernel core's CPU under load: requests still complete,
 *    HOMELESS is set; back online it is pinned there again (stat field 39,
 *    ctl.cpu) with HOMELESS and MIGRATED clear.  Also while it sleeps.
 *
 * The runner goes through the binaries in name order and every kcore test
 * loads the module itself when /dev/corey_kcore is missing, so this one
 * may unload it; it still leaves it loaded (the fixture's teardown reloads
 * it whatever happened).
 */
#include <fcntl.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/wait.h>

#include "kcore_test.h"

#define IDLE_US		20000
#define SPIN_LONG_US	10000000

static const uint64_t no_args[6];

/* delete_module, retried while EWOULDBLOCK for at most @timeout_ms. */
static int unload_within(int timeout_ms, int *tries)
{
	int64_t deadline = kcore_now_ms() + timeout_ms;
	int ret;

	*tries = 0;
	while ((ret = kcore_unload_module()) == -EWOULDBLOCK &&
	       kcore_now_ms() < deadline) {
		(*tries)++;
		usleep(5000);
	}
	return ret;
}

/* The device works: a kernel core serves a NOP. */
static int device_works(void)
{
	struct kcore_raw_client c;
	struct kcore_raw_req req;
	struct kcore_raw kc;
	int ret;

	if (kcore_raw_create(&kc, kcore_pick_cpu(), 1, IDLE_US))
		return -errno;
	if (kcore_raw_attach(kc.fd, 0)) {
		ret = -errno;
		kcore_raw_destroy(&kc);
		return ret;
	}
	c = (struct kcore_raw_client){ .kc = &kc, .ring = 0 };
	ret = kcore_raw_call(&c, COREY_KCORE_OP_NOP, no_args, &req);
	if (!ret && kcore_status(req.op) != COREY_KCORE_DONE)
		ret = -EPROTO;
	kcore_raw_destroy(&kc);
	return ret;
}

FIXTURE(module) {
	int unused;
};

FIXTURE_SETUP(module)
{
	self->unused = 0;
	if (!kcore_module_loaded())
		ASSERT_EQ(0, kcore_load_module());
}

FIXTURE_TEARDOWN(module)
{
	/* whatever happened, later tests find the module loaded */
	if (!kcore_module_loaded())
		EXPECT_EQ(0, kcore_load_module());
}

/* Unload now (nothing holds it), check it is gone, load it again. */
static void unload_and_reload(struct __test_metadata *_metadata)
{
	int tries;

	ASSERT_EQ(0, unload_within(KCORE_BOUND_MS, &tries))
		TH_LOG("delete_module still refused after %d ms", KCORE_BOUND_MS);
	if (tries)
		TH_LOG("delete_module was EWOULDBLOCK %d times first", tries);
	EXPECT_FALSE(kcore_module_loaded());
	EXPECT_NE(0, access(COREY_KCORE_DEVICE, F_OK));
	EXPECT_ERRNO(ENOENT, kcore_raw_open());
	ASSERT_EQ(0, kcore_load_module());
	ASSERT_TRUE(kcore_module_loaded());
	EXPECT_EQ(0, device_works());
}

TEST_F_TIMEOUT(module, rmmod_refused_while_a_device_file_is_open, 120)
{
	int fd;

	/* an open file, not even set up */
	fd = ASSERT_OK(kcore_raw_open());
	EXPECT_EQ(-EWOULDBLOCK, kcore_unload_module());
	EXPECT_EQ(-EWOULDBLOCK,
		  syscall(SYS_delete_module, KCORE_MODULE_NAME, 0) ? -errno : 0);
	EXPECT_TRUE(kcore_module_loaded());
	/* set up, with a kernel core */
	ASSERT_EQ(0, kcore_raw_setup(fd, kcore_pick_cpu(), 1, IDLE_US, NULL));
	EXPECT_EQ(-EWOULDBLOCK, kcore_unload_module());
	close(fd);
	unload_and_reload(_metadata);
}

TEST_F_TIMEOUT(module, rmmod_refused_while_a_kernel_core_lives_on_a_mapping, 120)
{
	struct kcore_raw_client c;
	struct kcore_raw_req req;
	struct kcore_raw kc;

	/* spinning: with the fd closed nothing could wake it */
	ASSERT_EQ(0, kcore_raw_create(&kc, kcore_pick_cpu(), 1, SPIN_LONG_US));
	ASSERT_EQ(0, kcore_raw_attach(kc.fd, 0));
	close(kc.fd);
	kc.fd = -1;
	EXPECT_EQ(-EWOULDBLOCK, kcore_unload_module());
	c = (struct kcore_raw_client){ .kc = &kc, .ring = 0 };
	ASSERT_EQ(0, kcore_raw_call(&c, COREY_KCORE_OP_NOP, no_args, &req));
	EXPECT_EQ(-EWOULDBLOCK, kcore_unload_module());
	/* only the ring mapped: still held */
	munmap(kc.ctl, COREY_KCORE_PAGE_SIZE);
	kc.ctl = NULL;
	EXPECT_EQ(-EWOULDBLOCK, kcore_unload_module());
	/* the last reference: the kernel core goes, then the module can */
	kcore_raw_destroy(&kc);
	EXPECT_TRUE(kcore_thread_gone(kc.tid, KCORE_BOUND_MS));
	unload_and_reload(_metadata);
}

TEST_F_TIMEOUT(module, rmmod_refused_while_another_process_holds_it, 120)
{
	int p[2], status;
	char c;
	pid_t pid;

	ASSERT_EQ(0, pipe2(p, O_CLOEXEC));
	pid = fork();
	ASSERT_LE(0, pid);
	if (pid == 0) {
		int fd = kcore_raw_open();

		if (fd < 0 || kcore_raw_setup(fd, kcore_pick_cpu(), 1,
					      IDLE_US, NULL))
			_exit(1);
		if (write(p[1], "s", 1) != 1)
			_exit(2);
		for (;;)
			pause();
	}
	close(p[1]);
	ASSERT_EQ(1, read(p[0], &c, 1));
	close(p[0]);
	EXPECT_EQ(-EWOULDBLOCK, kcore_unload_module());
	ASSERT_EQ(0, kill_and_reap(pid, 10000, &status));
	EXPECT_TRUE(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL);
	unload_and_reload(_metadata);
}

/* ---- CPU hotplug ---- */

struct hotplug_load {
	struct kcore_raw *kc;
	int client_cpu;
	long done;		/* requests completed */
	int stop;
	int failed;		/* -errno of the first failure */
	long bad_result;
};

static void *hotplug_client(void *arg)
{
	struct hotplug_load *l = arg;
	struct kcore_raw_client c = { .kc = l->kc, .ring = 0 };
	struct kcore_raw_req req;
	int ret;

	if (pin_self(l->client_cpu) || kcore_raw_attach(l->kc->fd, 0)) {
		l->failed = -errno;
		return NULL;
	}
	while (!__atomic_load_n(&l->stop, __ATOMIC_ACQUIRE)) {
		ret = kcore_raw_call(&c, SYS_close, (const uint64_t[6]){ -1ULL },
				     &req);
		if (ret) {
			l->failed = ret;
			return NULL;
		}
		/* run by the kernel core wherever it is: DONE, EBADF */
		if (kcore_status(req.op) != COREY_KCORE_DONE ||
		    (long)req.arg[0] != -EBADF) {
			l->bad_result = (long)req.op << 32 | (uint32_t)req.arg[0];
			l->failed = -EPROTO;
			return NULL;
		}
		__atomic_add_fetch(&l->done, 1, __ATOMIC_RELEASE);
	}
	return NULL;
}

/* Wait until @load has completed @more requests beyond now; bounded. */
static bool progresses(struct hotplug_load *l, long more, int timeout_ms)
{
	long target = __atomic_load_n(&l->done, __ATOMIC_ACQUIRE) + more;
	int64_t deadline = kcore_now_ms() + timeout_ms;

	while (__atomic_load_n(&l->done, __ATOMIC_ACQUIRE) < target) {
		if (l->failed || kcore_now_ms() > deadline)
			return false;
		usleep(1000);
	}
	return true;
}

static bool wait_flags(struct kcore_raw *kc, uint32_t mask, uint32_t want,
		       int timeout_ms, int64_t *took)
{
	int64_t start = kcore_now_ms(), deadline = start + timeout_ms;

	while ((kcore_raw_flags(kc, 0) & mask) != want) {
		if (kcore_now_ms() > deadline)
			return false;
		usleep(1000);
	}
	*took = kcore_now_ms() - start;
	return true;
}

/* Back home: stat field 39, ctl.cpu, no HOMELESS/MIGRATED; bounded. */
static bool rehomed(struct kcore_raw *kc, int cpu, int timeout_ms,
		    int64_t *took)
{
	int64_t start = kcore_now_ms(), deadline = start + timeout_ms;
	struct task_stat st;

	for (;;) {
		if (!task_stat_read(0, kc->tid, &st) && st.processor == cpu &&
		    (int)__atomic_load_n(&kc->ctl[0].cpu, __ATOMIC_ACQUIRE) == cpu &&
		    !(kcore_raw_flags(kc, 0) &
		      (COREY_KCORE_HOMELESS | COREY_KCORE_MIGRATED)))
			break;
		if (kcore_now_ms() > deadline)
			return false;
		usleep(1000);
	}
	*took = kcore_now_ms() - start;
	return true;
}

FIXTURE(hotplug) {
	int cpu;	/* offline now, to bring back; -1 if none */
};

FIXTURE_SETUP(hotplug)
{
	self->cpu = -1;
}

FIXTURE_TEARDOWN(hotplug)
{
	if (self->cpu >= 0)
		EXPECT_EQ(0, cpu_set_online(self->cpu, true));
}

TEST_F_TIMEOUT(hotplug, offline_under_load_then_back, 300)
{
	int cpu = kcore_pick_cpu(), other = other_cpu(cpu);
	struct hotplug_load l = { 0 };
	struct task_stat st;
	struct kcore_raw kc;
	int64_t took;
	pthread_t t;

	if (other < 0 || !cpu_hotpluggable(cpu))
		SKIP(return, "CPU %d cannot be taken offline here", cpu);
	ASSERT_EQ(0, kcore_raw_create(&kc, cpu, 1, IDLE_US));
	l = (struct hotplug_load){ .kc = &kc, .client_cpu = other };
	ASSERT_EQ(0, pthread_create(&t, NULL, hotplug_client, &l));
	ASSERT_TRUE(progresses(&l, 100, 30000)) TH_LOG("no load: %s",
						      strerrorname_np(-l.failed) ?: "?");

	ASSERT_EQ(0, cpu_set_online(cpu, false));
	self->cpu = cpu;
	/* requests still complete, and the kernel core says it is homeless */
	EXPECT_TRUE(progresses(&l, 200, 30000))
		TH_LOG("requests stopped with CPU %d offline: %s", cpu,
		       strerrorname_np(-l.failed) ?: "none failed");
	EXPECT_TRUE(wait_flags(&kc, COREY_KCORE_HOMELESS, COREY_KCORE_HOMELESS,
			       KCORE_BOUND_MS, &took))
		TH_LOG("no HOMELESS with CPU %d offline (flags %#x)", cpu,
		       kcore_raw_flags(&kc, 0));
	ASSERT_EQ(0, task_stat_read(0, kc.tid, &st));
	EXPECT_NE(cpu, st.processor);
	EXPECT_NE(cpu, (int)kc.ctl[0].cpu);

	ASSERT_EQ(0, cpu_set_online(cpu, true));
	self->cpu = -1;
	if (rehomed(&kc, cpu, KCORE_BOUND_MS, &took)) {
		TH_LOG("back on CPU %d %lld ms after it came online", cpu,
		       (long long)took);
	} else {
		ASSERT_EQ(0, task_stat_read(0, kc.tid, &st));
		EXPECT_TRUE(false)
			TH_LOG("not back on CPU %d after %d ms: flags %#x, "
			       "ctl.cpu %u, stat cpu %d", cpu, KCORE_BOUND_MS,
			       kcore_raw_flags(&kc, 0), kc.ctl[0].cpu,
			       st.processor);
	}
	EXPECT_TRUE(progresses(&l, 100, 30000));

	__atomic_store_n(&l.stop, 1, __ATOMIC_RELEASE);
	pthread_join(t, NULL);
	EXPECT_EQ(0, l.failed) TH_LOG("client: %s (op/result %#lx)",
				      strerrorname_np(-l.failed) ?: "?",
				      l.bad_result);
	kcore_raw_destroy(&kc);
}

TEST_F_TIMEOUT(hotplug, offline_while_asleep, 300)
{
	int cpu = kcore_pick_cpu(), other = other_cpu(cpu), i;
	struct kcore_raw_client c;
	struct kcore_raw_req req;
	struct kcore_raw kc;
	int64_t took, deadline;

	if (other < 0 || !cpu_hotpluggable(cpu))
		SKIP(return, "CPU %d cannot be taken offline here", cpu);
	ASSERT_EQ(0, pin_self(other));
	ASSERT_EQ(0, kcore_raw_create(&kc, cpu, 1, IDLE_US));
	ASSERT_EQ(0, kcore_raw_attach(kc.fd, 0));
	c = (struct kcore_raw_client){ .kc = &kc, .ring = 0 };
	ASSERT_EQ(0, kcore_raw_call(&c, COREY_KCORE_OP_NOP, no_args, &req));
	ASSERT_TRUE(wait_flags(&kc, COREY_KCORE_NEED_WAKEUP,
			       COREY_KCORE_NEED_WAKEUP, KCORE_BOUND_MS, &took));

	ASSERT_EQ(0, cpu_set_online(cpu, false));
	self->cpu = cpu;
	for (i = 0; i < 10; i++) {
		ASSERT_EQ(0, kcore_raw_call(&c, SYS_close,
					    (const uint64_t[6]){ -1ULL }, &req));
		EXPECT_EQ(-EBADF, (long)req.arg[0]);
	}
	EXPECT_TRUE(wait_flags(&kc, COREY_KCORE_HOMELESS, COREY_KCORE_HOMELESS,
			       KCORE_BOUND_MS, &took));

	ASSERT_EQ(0, cpu_set_online(cpu, true));
	self->cpu = -1;
	/* it may only notice when it runs: keep it busy until it is home */
	deadline = kcore_now_ms() + KCORE_BOUND_MS;
	while (!rehomed(&kc, cpu, 1, &took) && kcore_now_ms() < deadline)
		ASSERT_EQ(0, kcore_raw_call(&c, COREY_KCORE_OP_NOP, no_args, &req));
	EXPECT_TRUE(rehomed(&kc, cpu, 1, &took))
		TH_LOG("not back on CPU %d after %d ms: flags %#x ctl.cpu %u",
		       cpu, KCORE_BOUND_MS, kcore_raw_flags(&kc, 0),
		       kc.ctl[0].cpu);
	kcore_raw_destroy(&kc);
}

COREY_KCORE_TEST_MAIN
