// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * Kernel cores: what a completed request means to the caller, and the
 * synchronous call.  A result must be what syscall(2) in the calling thread
 * would have given, whoever made the call: the kernel core (DONE) or, when
 * it handed the request back (FALLBACK), this thread.
 */
#include <errno.h>
#include <signal.h>
#include <stdarg.h>
#include <unistd.h>
#include <sys/resource.h>
#include <sys/syscall.h>

#include <corey.h>
#include "internal.h"

/*
 * The signal a call made in this thread would have sent this thread.  The
 * kernel core blocks it, so it is raised here; raise(3) goes through the
 * same kernel path (a thread-directed signal), so an ignored signal is
 * dropped and a blocked one left pending just as the original would be.
 * Only write and pwrite64 on the allowlist raise signals.
 */
static void reraise(unsigned int op, int err)
{
	struct rlimit fsize;

	if (op != __NR_write && op != __NR_pwrite64)
		return;
	if (err == EPIPE) {
		raise(SIGPIPE);
	} else if (err == EFBIG) {
		/*
		 * SIGXFSZ comes with EFBIG only from RLIMIT_FSIZE (shared by
		 * every thread); a file system's own size limit gives EFBIG
		 * alone.
		 */
		if (getrlimit(RLIMIT_FSIZE, &fsize) == 0 &&
		    fsize.rlim_cur != RLIM_INFINITY)
			raise(SIGXFSZ);
	}
}

void corey_kcore_finish(const struct corey_kcore_done *done,
			struct corey_kcore_result *res)
{
	int saved_errno;

	if (corey_kcore_done_ok(done, res))
		return;
	saved_errno = errno;
	res->user_data = done->user_data;
	res->status = done->status;
	res->err = 0;
	switch (done->status) {
	case COREY_KCORE_DONE:
		res->ret = (long)done->result;
		if (done->result >= -MAX_ERRNO) {
			res->ret = -1;
			res->err = (int)-done->result;
			reraise(done->op, res->err);
		}
		break;
	case COREY_KCORE_FALLBACK:
		/* The ring no-op never falls back; if it did, it did nothing. */
		if (done->op == COREY_KCORE_OP_NOP) {
			res->ret = 0;
			break;
		}
		res->ret = syscall((long)done->op, done->args[0], done->args[1],
				   done->args[2], done->args[3], done->args[4],
				   done->args[5]);
		if (res->ret == -1)
			res->err = errno;
		break;
	default:
		/* BADOP, and any status this library does not know. */
		res->ret = -1;
		res->err = ENOSYS;
		break;
	}
	errno = saved_errno;
}

long corey_kcore_syscall(struct corey_kcore_ring *r, long nr, ...)
{
	struct corey_kcore_result res;
	unsigned long args[6];
	va_list ap;
	int i;

	/*
	 * Six arguments whatever the call takes, like syscall(2): the unused
	 * ones are never looked at by the call.
	 */
	va_start(ap, nr);
	for (i = 0; i < 6; i++)
		args[i] = va_arg(ap, unsigned long);
	va_end(ap);

	if (!r) {
		errno = EINVAL;
		return -1;
	}
	/* Its result would come back after theirs, to someone else. */
	if (r->head != r->tail) {
		errno = EBUSY;
		return -1;
	}
	/*
	 * What the kernel core answers for a number off the allowlist; but
	 * one that does not fit in op would be truncated into another call.
	 */
	if (nr < 0 || nr > (long)COREY_KCORE_OP_MASK) {
		errno = ENOSYS;
		return -1;
	}
	if (corey_kcore_post(r, (unsigned int)nr, args, 0) < 0)
		return -1;
	/*
	 * The request is posted and will be made whatever happens here, so a
	 * signal cannot make it fail with EINTR: wait on.
	 */
	if (corey_kcore_complete(r, &res, 0, true) < 0)
		return -1;
	if (res.ret == -1)
		errno = res.err;
	return res.ret;
}
