// SPDX-License-Identifier: GPL-2.0
#include "bench_kcore.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bench_cpu.h"
#include "bench_err.h"

int bench_kcore_probe(const struct bench_args *args)
{
	const char *name = args->spec->name;
	int err;

	if (corey_kcore_supported())
		return 0;
	err = errno;
	/*
	 * libcorey says ENODEV for a missing device node or one without its
	 * driver, and corey_strerror() names what is missing; ENOENT and ENXIO
	 * are the same thing should it pass open()'s errno through.
	 */
	if (err == ENODEV || err == ENOENT || err == ENXIO) {
		bench_errorf(name, "mode %s: %s", args->mode->name,
			     corey_strerror(err));
		return BENCH_EXIT_UNSUPPORTED;
	}
	bench_error(name, COREY_KCORE_DEVICE, err);
	return 1;
}

int bench_kcore_team_cpu(const struct bench_args *args)
{
	int *ids, n = bench_cpu_list(&ids), cpu;

	if (n < 0) {
		bench_error(args->spec->name, "sched_getaffinity", -n);
		return -1;
	}
	cpu = ids[n - 1];
	free(ids);
	return cpu;
}

struct corey_kcore *bench_kcore_open(const struct bench_args *args, int cpu,
				     unsigned int nr_rings,
				     unsigned int idle_us)
{
	struct corey_kcore *kc = corey_kcore_open(cpu, nr_rings, idle_us);

	if (!kc)
		bench_errorf(args->spec->name, "corey_kcore_open(cpu %d): %s",
			     cpu, corey_strerror(errno));
	return kc;
}

int bench_kcore_call(struct corey_kcore_ring *r, unsigned int op,
		     const unsigned long args[6],
		     struct corey_kcore_result *res)
{
	if (corey_kcore_submit(r, op, args, 0) == -1)
		return -errno;
	/* EINTR: only a blocking wait can be interrupted; wait again. */
	while (corey_kcore_reap(r, res, 0) == -1)
		if (errno != EINTR)
			return -errno;
	return 0;
}

static const char *status_name(unsigned int status)
{
	switch (status) {
	case COREY_KCORE_DONE:
		return "DONE";
	case COREY_KCORE_FALLBACK:
		return "FALLBACK (the client made the call itself)";
	case COREY_KCORE_BADOP:
		return "BADOP (not on the allowlist)";
	}
	return "unknown";
}

int bench_kcore_check_done(const char *who, const char *call,
			   const struct corey_kcore_result *res)
{
	if (res->status == COREY_KCORE_DONE)
		return 0;
	bench_errorf(who, "%s through the kernel core completed with status "
		     "%u, %s, not DONE", call, res->status,
		     status_name(res->status));
	return -1;
}

struct corey_kcore_ring *bench_kcore_attach(const char *who,
					    struct corey_kcore *kc,
					    unsigned int ring, bool share_cpu)
{
	static const unsigned long none[6];
	struct corey_kcore_ring *r = corey_kcore_attach(kc, ring);
	struct corey_kcore_result res;
	int err;

	if (!r) {
		bench_errorf(who, "corey_kcore_attach(ring %u): %s", ring,
			     corey_strerror(errno));
		return NULL;
	}
	if (share_cpu && corey_kcore_set_wait(r, COREY_KCORE_BLOCK) == -1) {
		bench_errorf(who, "corey_kcore_set_wait: %s",
			     corey_strerror(errno));
		goto fail;
	}
	err = bench_kcore_call(r, COREY_KCORE_OP_NOP, none, &res);
	if (err) {
		bench_errorf(who, "first NOP through the kernel core: %s",
			     corey_strerror(-err));
		goto fail;
	}
	if (bench_kcore_check_done(who, "NOP", &res))
		goto fail;
	if (res.ret != 0) {
		bench_errorf(who, "NOP through the kernel core returned %ld",
			     res.ret);
		goto fail;
	}
	return r;
fail:
	(void)corey_kcore_detach(r);
	return NULL;
}

/* "<benchmark>: worker <i>", how a worker's messages name it. */
static void worker_name(struct bench_worker *w, char *buf, size_t size)
{
	snprintf(buf, size, "%s: worker %d", bench_worker_args(w)->spec->name,
		 bench_worker_index(w));
}

int bench_kcore_worker_check_done(struct bench_worker *w, const char *call,
				  const struct corey_kcore_result *res)
{
	char who[64];

	if (res->status == COREY_KCORE_DONE)
		return 0;
	worker_name(w, who, sizeof(who));
	bench_kcore_check_done(who, call, res);
	return bench_worker_abort(w);
}

struct corey_kcore_ring *bench_kcore_worker_attach(struct bench_worker *w,
						   struct corey_kcore *kc,
						   int kc_cpu)
{
	const struct bench_args *args = bench_worker_args(w);
	int i = bench_worker_index(w);
	struct corey_kcore_ring *r;
	char who[64];

	worker_name(w, who, sizeof(who));
	r = bench_kcore_attach(who, kc, i, args->cpu_ids[i] == kc_cpu);
	if (!r)
		bench_worker_abort(w);
	return r;
}

int bench_kcore_worker_detach(struct bench_worker *w,
			      struct corey_kcore_ring *r)
{
	if (corey_kcore_detach(r) == -1)
		return bench_worker_fail(w, "corey_kcore_detach", errno);
	return 0;
}
