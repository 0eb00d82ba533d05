/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Raw access to kernel cores (the corey_kcore device, docs: kcore-spec) for
 * the selftests that check the ABI itself: loading the module, open, SETUP,
 * mmap of the control page and the rings, posting one slot and waiting for
 * it.  Deliberately minimal and independent of libcorey's ring client: the
 * functional tests go through libcorey, these helpers only make the raw
 * cases (garbage, errnos, mmap rules, the control page's flags) possible.
 *
 * Wrappers of system calls return what the call returns (-1 and errno), so
 * tests can assert exact errnos; the others say what they return.
 */
#ifndef SELFTESTS_KCORE_RAW_H
#define SELFTESTS_KCORE_RAW_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include <linux/corey.h>

#define KCORE_MODULE_NAME	"corey_kcore"
#define KCORE_MODULE_PATH	"/lib/modules/corey/corey_kcore.ko"

/*
 * How long a request may take before a test calls the kernel core stuck.
 * A liveness bound, not a timing threshold: a debug kernel under TCG serves
 * a request in well under a millisecond.
 */
#define KCORE_BOUND_MS		5000

/* The allowlist of the spec, x86_64 numbers. */
extern const unsigned int kcore_allowlist[];
extern const unsigned int kcore_allowlist_len;
bool kcore_op_allowed(uint32_t op);

/*
 * Make /dev/corey_kcore available: 1 if it exists or the module was loaded
 * now (finit_module of KCORE_MODULE_PATH), 0 if there is neither device nor
 * module (a kernel without kernel cores; *why says so), or a negative errno
 * if loading failed (*why says what failed).
 */
int kcore_probe(const char **why);

/* finit_module(KCORE_MODULE_PATH) / delete_module(O_NONBLOCK): 0 or -errno. */
int kcore_load_module(void);
int kcore_unload_module(void);
/* Is the module loaded (/sys/module/corey_kcore exists)? */
bool kcore_module_loaded(void);

/* open(COREY_KCORE_DEVICE, O_RDWR | O_CLOEXEC). */
int kcore_raw_open(void);

/*
 * COREY_KCORE_SETUP with sizeof(struct corey_kcore_setup) and everything
 * else 0.  *tid (may be NULL) gets the kernel core's thread id.
 */
int kcore_raw_setup(int fd, int cpu, unsigned int nr_rings,
		    unsigned int idle_us, pid_t *tid);

/* The other ioctls, with flags 0. */
int kcore_raw_attach(int fd, unsigned int ring);
int kcore_raw_detach(int fd, unsigned int ring);
int kcore_raw_wake(int fd);
int kcore_raw_wait(int fd, unsigned int ring, unsigned int slot, uint32_t seq);

/* mmap(NULL, len, prot, MAP_SHARED, fd, off). */
void *kcore_raw_mmap(int fd, uint64_t off, size_t len, int prot);

/* A set-up kernel core with its control page and all its rings mapped. */
struct kcore_raw {
	int fd;
	int cpu;
	pid_t tid;
	unsigned int nr_rings;
	struct corey_kcore_ctl *ctl;	/* PROT_READ */
	struct corey_kcore_slot *rings;	/* nr_rings rings, one mapping */
};

/*
 * open + SETUP + mmap of the control page and rings 0..nr_rings-1.
 * Returns 0, or -1 with errno (nothing left open).
 */
int kcore_raw_create(struct kcore_raw *kc, int cpu, unsigned int nr_rings,
		     unsigned int idle_us);
/* Unmap and close what is still there (fd < 0, NULL mappings skipped). */
void kcore_raw_destroy(struct kcore_raw *kc);

static inline struct corey_kcore_slot *kcore_raw_ring(const struct kcore_raw *kc,
						       unsigned int ring)
{
	return kc->rings + (size_t)ring * COREY_KCORE_RING_SLOTS;
}

static inline uint32_t kcore_raw_flags(const struct kcore_raw *kc,
				       unsigned int ring)
{
	return __atomic_load_n(&kc->ctl[ring].flags, __ATOMIC_ACQUIRE);
}

/* A producer's view of one ring: the thread that uses it must own it. */
struct kcore_raw_client {
	struct kcore_raw *kc;
	unsigned int ring;
	uint64_t head;			/* requests posted so far */
};

/* A request as posted and, once waited for, as completed. */
struct kcore_raw_req {
	unsigned int slot;		/* where it was posted */
	uint32_t seq;			/* the value posted (2t + 1) */
	uint32_t op;			/* completion: status << 16 | op */
	uint64_t arg[6];		/* completion: arg[0] = result */
};

static inline unsigned int kcore_status(uint32_t op)
{
	return op >> COREY_KCORE_STATUS_SHIFT;
}

/*
 * Post one slot: payload, then seq = 2 * (head / 64) + 1 with a release
 * store, head++, then the wake-up rule (seq_cst fence, NEED_WAKEUP ->
 * COREY_KCORE_WAKE).  Fills req->slot and req->seq.
 */
void kcore_raw_post(struct kcore_raw_client *c, uint32_t op,
		    const uint64_t arg[6], struct kcore_raw_req *req);

/* Only the wake-up rule (after posting by hand). */
void kcore_raw_kick(struct kcore_raw *kc, unsigned int ring);

/*
 * Spin (yielding) until the slot's seq differs from req->seq, then copy the
 * completion into req.  Returns 0, -EOWNERDEAD (DEAD set in the ring's ctl
 * line and the slot not completed) or -ETIMEDOUT after timeout_ms.
 */
int kcore_raw_wait_done(struct kcore_raw *kc, unsigned int ring,
			struct kcore_raw_req *req, int timeout_ms);

/*
 * Post and wait KCORE_BOUND_MS: 0 with the completion in *req, or the
 * negative errno of kcore_raw_wait_done().
 */
int kcore_raw_call(struct kcore_raw_client *c, uint32_t op,
		   const uint64_t arg[6], struct kcore_raw_req *req);

/* Milliseconds on CLOCK_MONOTONIC. */
int64_t kcore_now_ms(void);

#endif /* SELFTESTS_KCORE_RAW_H */
