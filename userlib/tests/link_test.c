// SPDX-License-Identifier: GPL-2.0
/*
 * A program built against an installed libcorey with nothing but
 * `pkg-config --cflags --libs corey`: run_tests.sh links it statically and
 * dynamically.  It uses a function, a macro of the uapi header that
 * <corey.h> pulls in, and the error text, so a missing header, library or
 * symbol fails the build or the run.
 */
#include <errno.h>
#include <stdio.h>

#include <corey.h>

int main(void)
{
	int fd = COREY_FD(3, 7);

	if (COREY_FD_SHARE(fd) != 3 || COREY_FD_SLOT(fd) != 7) {
		fputs("link_test: COREY_FD does not round-trip\n", stderr);
		return 1;
	}
	if (corey_shares_supported())
		puts("link_test: descriptor shares supported");
	else
		printf("link_test: %s\n", corey_strerror(errno));
	return 0;
}
