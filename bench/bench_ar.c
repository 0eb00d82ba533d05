// SPDX-License-Identifier: GPL-2.0
#include "bench_ar.h"

#include <corey.h>
#include <errno.h>

#include "bench_err.h"
#include "bench_mem.h"

int bench_ar_probe(const struct bench_args *args, size_t bytes)
{
	const char *name = args->spec->name;
	int ret;

	/*
	 * A usage error, not a rounding: a range of another size than the
	 * one asked for would change what is measured.  Checked first, as it
	 * does not depend on the kernel.
	 */
	if (bytes % COREY_ADDR_RANGE_GRANULE) {
		bench_errorf(name, "mode %s: --mb must be a multiple of %lu: "
			     "address ranges come in 2 MiB pieces",
			     args->mode->name,
			     COREY_ADDR_RANGE_GRANULE / BENCH_MIB);
		return BENCH_EXIT_USAGE;
	}
	ret = corey_ar_supported();
	if (ret == -1) {
		bench_errorf(name, "mode %s: corey_ar_supported: %s",
			     args->mode->name, corey_strerror(errno));
		return 1;
	}
	if (ret == 0) {
		bench_errorf(name, "mode %s needs a kernel with address ranges "
			     "(CONFIG_COREY_ADDR_RANGE)", args->mode->name);
		return BENCH_EXIT_UNSUPPORTED;
	}
	return 0;
}
