// SPDX-License-Identifier: GPL-2.0
#include "bench_report.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>

#include "bench_err.h"
#include "bench_stats.h"

#define SIGNIFICANT_DIGITS	6
#define MAX_DECIMALS		9

/*
 * Fixed-point with at least six significant digits: %g would switch to
 * exponents for large rates (1.23457e+07), which spreadsheets and awk
 * scripts handle less gracefully than plain decimals.  We never call
 * setlocale(), so the decimal point is always '.'.
 */
static void format_value(char *buf, size_t len, double v)
{
	int decimals = 1;

	if (!isfinite(v)) {
		snprintf(buf, len, "%s", isnan(v) ? "nan" : (v > 0 ? "inf" : "-inf"));
		return;
	}
	if (v != 0) {
		decimals = SIGNIFICANT_DIGITS - 1 - (int)floor(log10(fabs(v)));
		if (decimals < 1)
			decimals = 1;
		if (decimals > MAX_DECIMALS)
			decimals = MAX_DECIMALS;
	}
	snprintf(buf, len, "%.*f", decimals, v);
}

int bench_report(const struct bench_args *args, const char *metric,
		 double *values, int n)
{
	struct bench_summary s = bench_summarize(values, n);
	char value[64], spread[64];

	format_value(value, sizeof(value), s.median);
	format_value(spread, sizeof(spread), s.spread);
	printf("%s,%s,%d,%s,%s,%s\n", args->spec->name, args->mode->name,
	       args->cpus, metric, value, spread);
	/* The line is the result: a lost write must not look like success. */
	if (fflush(stdout) == EOF) {
		bench_error(args->spec->name, "write to stdout", errno);
		return -1;
	}
	return 0;
}
