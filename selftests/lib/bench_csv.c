// SPDX-License-Identifier: GPL-2.0
/*
 * Check a benchmark's stdout against the project's CSV result contract.
 */
#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bench_csv.h"

enum csv_field { F_BENCHMARK, F_MODE, F_CPUS, F_METRIC, F_VALUE, F_SPREAD,
		 NR_FIELDS };

#define MAX_METRICS 16

static bool fail(char *why, size_t why_len, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(why, why_len, fmt, ap);
	va_end(ap);
	return false;
}

/*
 * strtod() alone would accept leading blanks, "inf" and "nan"; the
 * contract wants a plain finite number filling the whole field.
 */
static bool parse_finite(const char *field, double *value)
{
	char *end;

	if (!*field || isspace((unsigned char)*field))
		return false;
	errno = 0;
	*value = strtod(field, &end);
	return !*end && !errno && isfinite(*value);
}

/* Split @line in place; returns the number of fields found. */
static int split_fields(char *line, char *fields[NR_FIELDS])
{
	int n = 0;
	char *field;

	while ((field = strsep(&line, ",")) != NULL) {
		if (n < NR_FIELDS)
			fields[n] = field;
		n++;
	}
	return n;
}

static int find_metric(const struct bench_metric *metrics, const char *name)
{
	int i;

	for (i = 0; metrics[i].name; i++)
		if (!strcmp(metrics[i].name, name))
			return i;
	return -1;
}

static bool check_line(char *line, int line_no,
		       const struct bench_csv_expect *expect,
		       int seen[MAX_METRICS], char *why, size_t why_len)
{
	char *f[NR_FIELDS];
	double value, spread;
	int n, metric;

	n = split_fields(line, f);
	if (n != NR_FIELDS)
		return fail(why, why_len, "line %d: %d fields, want %d",
			    line_no, n, NR_FIELDS);
	if (strcmp(f[F_BENCHMARK], expect->benchmark))
		return fail(why, why_len, "line %d: benchmark '%s', want '%s'",
			    line_no, f[F_BENCHMARK], expect->benchmark);
	if (strcmp(f[F_MODE], expect->mode))
		return fail(why, why_len, "line %d: mode '%s', want '%s'",
			    line_no, f[F_MODE], expect->mode);
	if (strcmp(f[F_CPUS], expect->cpus))
		return fail(why, why_len, "line %d: cpus '%s', want '%s'",
			    line_no, f[F_CPUS], expect->cpus);

	metric = find_metric(expect->metrics, f[F_METRIC]);
	if (metric < 0)
		return fail(why, why_len, "line %d: unexpected metric '%s'",
			    line_no, f[F_METRIC]);
	if (++seen[metric] > 1)
		return fail(why, why_len, "line %d: metric '%s' repeated",
			    line_no, f[F_METRIC]);

	if (!parse_finite(f[F_VALUE], &value))
		return fail(why, why_len, "line %d: value '%s' is not a finite number",
			    line_no, f[F_VALUE]);
	if (expect->metrics[metric].positive ? !(value > 0) : !(value >= 0))
		return fail(why, why_len, "line %d: %s value %s, want %s 0",
			    line_no, f[F_METRIC], f[F_VALUE],
			    expect->metrics[metric].positive ? ">" : ">=");
	if (!parse_finite(f[F_SPREAD], &spread) || !(spread >= 0))
		return fail(why, why_len, "line %d: spread '%s' is not a finite number >= 0",
			    line_no, f[F_SPREAD]);
	return true;
}

bool bench_csv_check(const char *out, const struct bench_csv_expect *expect,
		     char *why, size_t why_len)
{
	int seen[MAX_METRICS] = { 0 };
	char *copy, *rest, *line;
	int line_no = 0, i;
	bool ok = true;

	for (i = 0; expect->metrics[i].name; i++)
		if (i == MAX_METRICS)
			return fail(why, why_len, "more than %d metrics expected",
				    MAX_METRICS);
	if (!*out)
		return fail(why, why_len, "no output");

	copy = strdup(out);
	if (!copy)
		return fail(why, why_len, "out of memory");
	/* A final newline ends the last line; it does not start an empty one. */
	i = strlen(copy);
	if (copy[i - 1] == '\n')
		copy[i - 1] = '\0';

	rest = copy;
	while (ok && (line = strsep(&rest, "\n")) != NULL) {
		line_no++;
		ok = check_line(line, line_no, expect, seen, why, why_len);
	}
	free(copy);
	if (!ok)
		return false;

	for (i = 0; expect->metrics[i].name; i++)
		if (!seen[i])
			return fail(why, why_len, "metric '%s' missing",
				    expect->metrics[i].name);
	return true;
}
