// SPDX-License-Identifier: GPL-2.0
/*
 * Run libcorey's own test programs inside the VM, on the kernel under
 * test.  (api_test, which takes one case per invocation, is left to the
 * host's make -C userlib check.)  On the host they can only check what a stock kernel allows; the
 * cases that need shares, kernel cores or address ranges skip there.  The
 * initramfs installs them in /usr/lib/corey (scripts/mkinitramfs.sh).
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "kselftest_harness.h"

#define LIBCOREY_TESTS "/usr/lib/corey/"

/* kselftest's "could not run here". */
#define EXIT_SKIP 4

/* Run PROG, its TAP output going to ours; returns its wait status. */
static int run_program(const char *prog)
{
	int status;
	pid_t pid;

	fflush(stdout);
	pid = fork();
	if (pid < 0)
		return -1;
	if (pid == 0) {
		execl(prog, prog, (char *)NULL);
		fprintf(stderr, "%s: %s\n", prog, strerror(errno));
		_exit(127);
	}
	while (waitpid(pid, &status, 0) < 0)
		if (errno != EINTR)
			return -1;
	return status;
}

static void check_program(struct __test_metadata *_metadata, const char *name)
{
	char prog[128];
	int status;

	snprintf(prog, sizeof(prog), LIBCOREY_TESTS "%s", name);
	if (access(prog, X_OK) != 0)
		SKIP(return, "%s is not in this initramfs", prog);
	status = run_program(prog);
	ASSERT_NE(-1, status);
	ASSERT_TRUE(WIFEXITED(status)) TH_LOG("%s was killed by signal %d",
					       prog, WTERMSIG(status));
	if (WEXITSTATUS(status) == EXIT_SKIP)
		SKIP(return, "%s skipped: the kernel lacks its feature", prog);
	EXPECT_EQ(0, WEXITSTATUS(status)) TH_LOG("%s failed", prog);
}

TEST(kcore_test)
{
	check_program(_metadata, "kcore_test");
}

TEST(ar_test)
{
	check_program(_metadata, "ar_test");
}

TEST_HARNESS_MAIN
