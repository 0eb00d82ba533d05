// SPDX-License-Identifier: GPL-2.0
/*
 * corey-run [--allow-missing] [--main] [--] PROGRAM [ARGUMENT...]
 *
 * Runs an unmodified, dynamically linked program with libcorey-run.so
 * preloaded, so each of its threads allocates descriptors in a private
 * share.  Refuses, before exec, on a kernel without shares unless
 * --allow-missing.  Exit status as env(1): 125 if corey-run itself failed,
 * 126 if PROGRAM could not be executed, 127 if it was not found; otherwise
 * PROGRAM's.
 */
#include <errno.h>
#include <getopt.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <corey.h>
#include "preload_path.h"

enum {
	EXIT_RUN_FAILED = 125,
	EXIT_CANNOT_EXEC = 126,
	EXIT_NOT_FOUND = 127,
};

static void usage(FILE *out)
{
	fputs(
"Usage: corey-run [OPTION]... [--] PROGRAM [ARGUMENT]...\n"
"Run PROGRAM so that every thread it creates allocates its file descriptors\n"
"in a private descriptor share (Corey), instead of the process's table.\n"
"\n"
"  --allow-missing  run PROGRAM even if the kernel has no descriptor shares;\n"
"                   its threads then use the process's table, with one\n"
"                   warning\n"
"  --main           give the main thread a private share too (by default it\n"
"                   keeps the process's table, so stdio and startup code keep\n"
"                   POSIX numbers)\n"
"  -h, --help       print this help and exit\n"
"\n"
"A descriptor one thread opens is then invisible to the others (EBADF), and\n"
"its number is 2^30 or more: select/FD_SET, posix_spawn file actions and\n"
"fd-indexed event loops (libuv, libevent) break.  Programs that use poll or\n"
"epoll and keep each descriptor in the thread that opened it work.  PROGRAM\n"
"must be dynamically linked (the hook is an LD_PRELOAD library).\n"
"\n"
"Environment: COREY_RUN_PRELOAD names the library to preload instead of\n"
"the one installed with corey-run.\n"
"\n"
"Exit status: PROGRAM's; 125 if corey-run failed (no shares, no library,\n"
"bad usage), 126 if PROGRAM cannot be executed, 127 if it is not found.\n"
"See corey-run(1).\n", out);
}

static bool kernel_ready(bool allow_missing)
{
	int err;

	if (corey_shares_supported())
		return true;
	err = errno;
	if (allow_missing)
		return true;
	if (err == ENOSYS)
		fprintf(stderr, "corey-run: %s\n", corey_strerror(err));
	else
		fprintf(stderr, "corey-run: cannot use descriptor shares: %s\n",
			corey_strerror(err));
	fputs("corey-run: --allow-missing runs the program anyway, "
	      "with every thread on the process's table\n", stderr);
	return false;
}

/* Put our library first in LD_PRELOAD, keeping whatever was there. */
static bool set_preload(void)
{
	char *lib = find_preload();
	const char *old = getenv("LD_PRELOAD");
	char *value;
	int rc;

	if (!lib)
		return false;
	/* ld.so splits LD_PRELOAD at both. */
	if (strpbrk(lib, ": ")) {
		fprintf(stderr, "corey-run: %s: LD_PRELOAD cannot carry a path "
			"with a colon or a space\n", lib);
		free(lib);
		return false;
	}
	if (old && *old)
		rc = asprintf(&value, "%s:%s", lib, old);
	else
		rc = asprintf(&value, "%s", lib);
	free(lib);
	if (rc < 0 || setenv("LD_PRELOAD", value, 1) != 0) {
		perror("corey-run: LD_PRELOAD");
		return false;
	}
	free(value);
	return true;
}

int main(int argc, char **argv)
{
	static const struct option options[] = {
		{ "allow-missing", no_argument, NULL, 'a' },
		{ "main", no_argument, NULL, 'm' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	bool allow_missing = false;
	int opt, err;

	/* "+": options end at PROGRAM, whose own options are its business. */
	while ((opt = getopt_long(argc, argv, "+h", options, NULL)) != -1) {
		switch (opt) {
		case 'a':
			allow_missing = true;
			break;
		case 'm':
			if (setenv("COREY_RUN_MAIN", "1", 1) != 0) {
				perror("corey-run: COREY_RUN_MAIN");
				return EXIT_RUN_FAILED;
			}
			break;
		case 'h':
			usage(stdout);
			return EXIT_SUCCESS;
		default:
			usage(stderr);
			return EXIT_RUN_FAILED;
		}
	}
	if (optind == argc) {
		fputs("corey-run: no program to run\n", stderr);
		usage(stderr);
		return EXIT_RUN_FAILED;
	}
	if (!kernel_ready(allow_missing) || !set_preload())
		return EXIT_RUN_FAILED;
	execvp(argv[optind], &argv[optind]);
	err = errno;
	fprintf(stderr, "corey-run: %s: %s\n", argv[optind], strerror(err));
	return err == ENOENT ? EXIT_NOT_FOUND : EXIT_CANNOT_EXEC;
}
