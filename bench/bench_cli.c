// SPDX-License-Identifier: GPL-2.0
#include "bench_cli.h"

#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bench_cpu.h"
#include "bench_err.h"
#include "bench_help.h"

#define MAX_INTERVALS		10000
#define MAX_MS			3600000	/* an hour: anything longer is a typo */

enum common_option {
	OPT_MODE,
	OPT_CPUS,
	OPT_INTERVALS,
	OPT_INTERVAL_MS,
	OPT_WARMUP_MS,
	OPT_OPS_FILE,
	OPT_HELP,
	NR_COMMON_OPTIONS,
};

static const char *const common_option_names[NR_COMMON_OPTIONS] = {
	[OPT_MODE] = "mode",
	[OPT_CPUS] = "cpus",
	[OPT_INTERVALS] = "intervals",
	[OPT_INTERVAL_MS] = "interval-ms",
	[OPT_WARMUP_MS] = "warmup-ms",
	[OPT_OPS_FILE] = "ops-file",
	[OPT_HELP] = "help",
};

static _Noreturn __attribute__((format(printf, 2, 3)))
void usage_error(const struct bench_spec *spec, const char *fmt, ...)
{
	char line[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	fprintf(stderr, "%s: %s\nTry '%s --help'.\n", spec->name, line,
		spec->name);
	exit(BENCH_EXIT_USAGE);
}

/*
 * strtol() alone would accept leading blanks, a sign and trailing junk;
 * the scripts driving us should get an error for any of those instead of
 * a silently different experiment.
 */
static long parse_number(const struct bench_spec *spec, const char *opt,
			 const char *text, long min, long max)
{
	const char *kind = min > 0 ? "positive" : "non-negative";
	char *end;
	long value;

	errno = 0;
	value = strtol(text, &end, 10);
	if (text[0] < '0' || text[0] > '9' || *end != '\0' || value < min)
		usage_error(spec, "--%s: '%s' is not a %s integer", opt, text,
			    kind);
	if (errno == ERANGE || value > max)
		usage_error(spec, "--%s: '%s' is out of range (at most %ld)",
			    opt, text, max);
	return value;
}

static const struct bench_mode *find_mode(const struct bench_spec *spec,
					  const char *name)
{
	for (int i = 0; i < spec->nr_modes; i++)
		if (strcmp(spec->modes[i].name, name) == 0)
			return &spec->modes[i];

	fprintf(stderr, "%s: unknown mode '%s' (expected ", spec->name, name);
	for (int i = 0; i < spec->nr_modes; i++)
		fprintf(stderr, "%s%s", i ? ", " : "", spec->modes[i].name);
	fprintf(stderr, ")\nTry '%s --help'.\n", spec->name);
	exit(BENCH_EXIT_USAGE);
}

/*
 * Options are identified by index: the common ones first, then the
 * benchmark's own.  Returns -1 for an unknown name.
 */
static int find_option(const struct bench_spec *spec, const char *name,
		       size_t len)
{
	for (int i = 0; i < NR_COMMON_OPTIONS; i++)
		if (strlen(common_option_names[i]) == len &&
		    strncmp(common_option_names[i], name, len) == 0)
			return i;
	for (int i = 0; i < spec->nr_options; i++)
		if (strlen(spec->options[i].name) == len &&
		    strncmp(spec->options[i].name, name, len) == 0)
			return NR_COMMON_OPTIONS + i;
	return -1;
}

static const char *option_name(const struct bench_spec *spec, int id)
{
	if (id < NR_COMMON_OPTIONS)
		return common_option_names[id];
	return spec->options[id - NR_COMMON_OPTIONS].name;
}

/*
 * Fills @args from argv; exits with status 2 on a usage error and with
 * status 1 if the CPU affinity cannot be read.  Arguments are checked in
 * order, so --help is honoured unless an earlier argument is already wrong.
 */
static void parse_args(const struct bench_spec *spec, int argc, char **argv,
		       struct bench_args *args)
{
	const char *mode_name = NULL;
	const char *cpus_text = NULL;
	int nr_available;
	long cpus;

	memset(args, 0, sizeof(*args));
	args->spec = spec;
	args->argc = argc;
	args->argv = argv;
	args->intervals = BENCH_DEFAULT_INTERVALS;
	args->interval_ms = BENCH_DEFAULT_INTERVAL_MS;
	args->warmup_ms = BENCH_DEFAULT_WARMUP_MS;
	for (int i = 0; i < spec->nr_options; i++)
		args->option[i] = spec->options[i].def;

	for (int i = 1; i < argc; i++) {
		const char *arg = argv[i];
		const char *value = NULL;
		const char *eq;
		size_t len;
		int id;

		if (strcmp(arg, "-h") == 0)
			arg = "--help";
		if (strncmp(arg, "--", 2) != 0 || arg[2] == '\0')
			usage_error(spec, "unexpected argument '%s'", arg);
		arg += 2;
		eq = strchr(arg, '=');
		len = eq ? (size_t)(eq - arg) : strlen(arg);
		id = find_option(spec, arg, len);
		if (id < 0)
			usage_error(spec, "unknown option '%s'", argv[i]);
		if (id == OPT_HELP) {
			if (eq)
				usage_error(spec, "option '--help' takes no argument");
			bench_print_help(spec);
			exit(0);
		}
		if (eq) {
			value = eq + 1;
		} else {
			/* "--mode --cpus 2" forgot the mode, it is not named "--cpus". */
			if (i + 1 >= argc || strncmp(argv[i + 1], "--", 2) == 0)
				usage_error(spec, "option '--%s' requires an argument",
					    option_name(spec, id));
			value = argv[++i];
		}

		switch (id) {
		case OPT_MODE:
			mode_name = value;
			break;
		case OPT_CPUS:
			cpus_text = value;
			break;
		case OPT_INTERVALS:
			args->intervals = parse_number(spec, "intervals", value,
						       1, MAX_INTERVALS);
			break;
		case OPT_INTERVAL_MS:
			args->interval_ms = parse_number(spec, "interval-ms",
							 value, 1, MAX_MS);
			break;
		case OPT_WARMUP_MS:
			args->warmup_ms = parse_number(spec, "warmup-ms", value,
						       0, MAX_MS);
			break;
		case OPT_OPS_FILE:
			/* Only a sampled run has one count of operations. */
			if (!spec->sampled)
				usage_error(spec, "option '--ops-file' is for "
					    "sampled benchmarks only");
			if (!*value)
				usage_error(spec, "--ops-file: empty path");
			args->ops_file = value;
			break;
		default: {
			const struct bench_option *opt =
				&spec->options[id - NR_COMMON_OPTIONS];

			args->option[id - NR_COMMON_OPTIONS] =
				parse_number(spec, opt->name, value, 1,
					     opt->max);
			break;
		}
		}
	}

	if (!mode_name)
		usage_error(spec, "missing --mode");
	args->mode = find_mode(spec, mode_name);
	if (!cpus_text)
		usage_error(spec, "missing --cpus");

	nr_available = bench_cpu_list(&args->cpu_ids);
	if (nr_available < 0) {
		bench_error(spec->name, "sched_getaffinity", -nr_available);
		exit(1);
	}
	/* No fixed bound: any count above what we may use gets this message. */
	cpus = parse_number(spec, "cpus", cpus_text, 1, LONG_MAX);
	if (cpus > nr_available)
		usage_error(spec, "--cpus %s exceeds the %d CPU%s available",
			    cpus_text, nr_available,
			    nr_available == 1 ? "" : "s");
	args->cpus = (int)cpus;
}

int bench_main(const struct bench_spec *spec, int argc, char **argv)
{
	struct bench_args args;
	int status;

	if (spec->nr_options > BENCH_MAX_OPTIONS) {
		bench_errorf(spec->name, "too many options in the spec");
		return 1;
	}
	parse_args(spec, argc, argv, &args);
	status = args.mode->run(&args);
	free(args.cpu_ids);
	return status;
}
