// SPDX-License-Identifier: GPL-2.0
#include "bench_stats.h"

#include <math.h>
#include <stdlib.h>

static int compare_doubles(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

struct bench_summary bench_summarize(double *values, int n)
{
	struct bench_summary s;
	double min, max;

	qsort(values, n, sizeof(*values), compare_doubles);
	min = values[0];
	max = values[n - 1];
	if (n % 2)
		s.median = values[n / 2];
	else
		s.median = (values[n / 2 - 1] + values[n / 2]) / 2;

	if (max == min)
		s.spread = 0;
	else if (s.median == 0)
		s.spread = NAN;
	else
		s.spread = (max - min) / fabs(s.median);
	return s;
}
