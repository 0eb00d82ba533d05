// SPDX-License-Identifier: GPL-2.0
#include "bench_err.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

void bench_error(const char *bench, const char *what, int err)
{
	bench_errorf(bench, "%s: %s", what, strerror(err));
}

/*
 * The line is formatted into one buffer and written with a single call so
 * that messages from concurrent workers do not interleave mid-line.
 */
void bench_errorf(const char *bench, const char *fmt, ...)
{
	char line[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	fprintf(stderr, "%s: %s\n", bench, line);
}
