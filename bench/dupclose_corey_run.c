// SPDX-License-Identifier: GPL-2.0
/*
 * The corey-run mode of dupclose: the threads mode's worker, unmodified,
 * in a process started under corey-run, whose preloaded library gives
 * every new thread a private default allocation share.  This is the
 * "unmodified program" figure: what an application gains from shares
 * without a line changed.
 *
 * A preload cannot reach a static program, and the benchmarks are static
 * (the VM image had no libc).  So the static dupclose runs
 *
 *     corey-run -- DIR/dupclose-dyn ARGS...
 *
 * with its own arguments, where dupclose-dyn is the same program linked
 * dynamically, in the same directory; that copy, seeing it was loaded by
 * a dynamic loader, runs the workers.  Its CSV line names mode corey-run
 * because the arguments are passed on unchanged.
 */
#include <elf.h>
#include <errno.h>
#include <limits.h>
#include <link.h>
#include <linux/corey.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/prctl.h>
#include <unistd.h>

#include "bench_err.h"
#include "bench_sampler.h"
#include "dupclose.h"

#define COREY_RUN_DEFAULT	"/bin/corey-run"
#define DYN_SUFFIX		"-dyn"

/*
 * The first object dl_iterate_phdr() reports is the program itself; it
 * has a PT_INTERP header iff it was linked dynamically.  Asking the
 * program's headers rather than the auxiliary vector keeps the answer
 * right when the loader is run explicitly (ld.so PROGRAM).
 */
static int first_has_interp(struct dl_phdr_info *info, size_t size, void *data)
{
	(void)size;
	for (int i = 0; i < info->dlpi_phnum; i++)
		if (info->dlpi_phdr[i].p_type == PT_INTERP)
			*(bool *)data = true;
	return 1;
}

static bool dynamically_linked(void)
{
	bool interp = false;

	dl_iterate_phdr(first_has_interp, &interp);
	return interp;
}

/*
 * Once per worker, before the barrier and outside the measured loop: a
 * worker without a default share, or a kernel that ignores it, would make
 * this mode measure the threads mode under another name.
 */
static int check_corey_run(struct bench_worker *w)
{
	int share = prctl(PR_COREY, PR_COREY_GET_ALLOC_SHARE, 0, 0, 0);
	int fd, err;

	if (share == -1)
		return bench_worker_fail(w, "prctl(PR_COREY_GET_ALLOC_SHARE)",
					 errno);
	if (share == 0) {
		bench_errorf(bench_worker_args(w)->spec->name,
			     "worker %d: no default allocation share: corey-run's "
			     "preload (libcorey-run.so) is not active in this "
			     "process", bench_worker_index(w));
		return bench_worker_abort(w);
	}
	fd = eventfd(0, EFD_CLOEXEC);
	if (fd == -1)
		return bench_worker_fail(w, "eventfd", errno);
	err = dupclose_check_in_share(w, fd, share, "eventfd");
	if (close(fd) == -1 && !err)
		err = bench_worker_fail(w, "close", errno);
	return err;
}

static int corey_run_worker(struct bench_worker *w, void *ctx)
{
	if (check_corey_run(w))
		return -1;
	return dupclose_worker(w, ctx);
}

/* DIR/NAME-dyn, DIR being where this program is; NULL after reporting. */
static char *dynamic_copy(const struct bench_args *args)
{
	const char *name = args->spec->name;
	char exe[PATH_MAX], *slash, *path;
	ssize_t len = readlink("/proc/self/exe", exe, sizeof(exe) - 1);

	if (len == -1) {
		bench_error(name, "readlink /proc/self/exe", errno);
		return NULL;
	}
	exe[len] = '\0';
	slash = strrchr(exe, '/');
	if (slash)
		*slash = '\0';
	if (asprintf(&path, "%s/%s%s", slash ? exe : ".", name,
		     DYN_SUFFIX) == -1) {
		bench_error(name, "malloc", ENOMEM);
		return NULL;
	}
	if (access(path, X_OK) == -1) {
		bench_errorf(name, "mode %s needs %s, the dynamically linked "
			     "copy of %s (built beside it by bench/Makefile): %s",
			     args->mode->name, path, name, strerror(errno));
		free(path);
		return NULL;
	}
	return path;
}

/* Replace this process with corey-run -- DYN ARGS...; returns on failure. */
static int exec_under_corey_run(const struct bench_args *args)
{
	const char *name = args->spec->name;
	const char *corey_run = getenv("COREY_RUN");
	char *dyn, **argv;
	int n = 0;

	if (!corey_run || !*corey_run)
		corey_run = COREY_RUN_DEFAULT;
	if (access(corey_run, X_OK) == -1) {
		bench_errorf(name, "mode %s needs the corey-run launcher at %s "
			     "(COREY_RUN overrides the path): %s",
			     args->mode->name, corey_run, strerror(errno));
		return 1;
	}
	dyn = dynamic_copy(args);
	if (!dyn)
		return 1;
	argv = calloc(args->argc + 3, sizeof(*argv));
	if (!argv) {
		bench_error(name, "malloc", ENOMEM);
		free(dyn);
		return 1;
	}
	argv[n++] = (char *)corey_run;
	argv[n++] = "--";
	argv[n++] = dyn;
	for (int i = 1; i < args->argc; i++)
		argv[n++] = args->argv[i];
	argv[n] = NULL;

	fflush(NULL);
	execv(corey_run, argv);
	bench_error(name, corey_run, errno);
	free(argv);
	free(dyn);
	return 1;
}

int dupclose_run_corey_run(const struct bench_args *args)
{
	/* First, so that a stock kernel is a skip whatever else is missing. */
	int status = dupclose_shares_probe(args);

	if (status)
		return status;
	if (!dynamically_linked())
		return exec_under_corey_run(args);
	return bench_run_sampled(args, BENCH_TEAM_THREADS, corey_run_worker,
				 NULL, DUPCLOSE_METRIC);
}
