/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Run a program and capture its stdout and stderr separately.
 *
 * Tests that check a program's command-line contract need to know which
 * stream each message went to, so the two streams are never merged.
 */
#ifndef SELFTESTS_RUN_CAPTURE_H
#define SELFTESTS_RUN_CAPTURE_H

#include <stdbool.h>
#include <stddef.h>

struct captured_run {
	int exit_code;		/* exit status, or -1 if killed by a signal */
	int term_signal;	/* signal that killed it, 0 if it exited */
	bool timed_out;		/* killed by us after timeout_ms */
	char *out;		/* NUL-terminated stdout */
	size_t out_len;
	char *err;		/* NUL-terminated stderr */
	size_t err_len;
};

/*
 * Fork and exec @path with @argv (argv[0] included, NULL-terminated), stdin
 * on /dev/null.  The child gets its own process group so that, after
 * @timeout_ms, it can be killed together with any children it forked.
 * An exec failure shows up as exit code 127 with a message on stderr.
 *
 * Returns 0 with @run filled in (release it with captured_run_free()), or a
 * negative errno if the child could not be started or waited for.
 */
int run_capture(const char *path, char *const argv[], int timeout_ms,
		struct captured_run *run);

void captured_run_free(struct captured_run *run);

#endif /* SELFTESTS_RUN_CAPTURE_H */
