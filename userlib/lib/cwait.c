// SPDX-License-Identifier: LGPL-2.1-or-later
/* corey_cwait(): wait for a corey_cfork() child through its pidfd. */
#include <errno.h>
#include <signal.h>
#include <unistd.h>
#include <sys/wait.h>

#include <corey.h>

/* P_PIDFD (Linux 5.4) is an enum constant, and only from glibc 2.36. */
#define COREY_P_PIDFD ((idtype_t)3)

/* waitpid(2)'s encoding of how a child ended, from waitid(2)'s. */
static int wait_status(const siginfo_t *si)
{
	switch (si->si_code) {
	case CLD_EXITED:
		return (si->si_status & 0xff) << 8;
	case CLD_DUMPED:
		return (si->si_status & 0x7f) | 0x80;
	default:			/* CLD_KILLED: WEXITED reports nothing else */
		return si->si_status & 0x7f;
	}
}

int corey_cwait(int pidfd, int *status)
{
	siginfo_t si = { 0 };
	int ret;

	do
		ret = waitid(COREY_P_PIDFD, (id_t)pidfd, &si, WEXITED);
	while (ret < 0 && errno == EINTR);
	if (ret < 0) {
		/*
		 * ECHILD: a pidfd, but of a process that is not our child or
		 * was reaped already; it can never be waited for, so it is
		 * spent like one that was.  EBADF and EINVAL: not a pidfd at
		 * all, so not ours to close.
		 */
		if (errno == ECHILD) {
			close(pidfd);
			errno = ECHILD;
		}
		return -1;
	}
	if (status)
		*status = wait_status(&si);
	close(pidfd);
	return 0;
}
