/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Command-line interface shared by all benchmarks.
 *
 * A benchmark describes itself with a struct bench_spec (modes, extra
 * numeric options, metrics) and calls bench_main(), which parses the
 * common options, validates them against the CPUs this process may use
 * and dispatches to the selected mode's run function.  Adding a mode is
 * one more row in the benchmark's mode table.
 */
#ifndef BENCH_CLI_H
#define BENCH_CLI_H

#include <stdbool.h>

/* Exit status for a malformed command line, as distinct from a failed run. */
#define BENCH_EXIT_USAGE 2
/*
 * Exit status of a mode that needs a kernel feature the running kernel
 * lacks (kselftest's skip code), so that scripts running one matrix on
 * stock and Corey kernels can tell "not here" from "broken".
 */
#define BENCH_EXIT_UNSUPPORTED 4

#define BENCH_DEFAULT_INTERVALS		5
#define BENCH_DEFAULT_INTERVAL_MS	500
#define BENCH_DEFAULT_WARMUP_MS		200

#define BENCH_ARRAY_SIZE(a) ((int)(sizeof(a) / sizeof((a)[0])))

struct bench_args;

struct bench_mode {
	const char *name;
	const char *help;		/* one line for --help */
	int (*run)(const struct bench_args *args);	/* returns exit status */
};

/* A benchmark-specific option taking a positive integer, e.g. --mb. */
struct bench_option {
	const char *name;		/* without the leading "--" */
	const char *metavar;
	const char *help;
	long def;
	long max;
};

struct bench_metric {
	const char *name;
	const char *definition;
};

struct bench_spec {
	const char *name;
	const char *purpose;
	const struct bench_mode *modes;
	int nr_modes;
	const struct bench_option *options;
	int nr_options;
	const struct bench_metric *metrics;
	int nr_metrics;
	/*
	 * True for benchmarks that run their workers continuously and sample
	 * throughput over --intervals; false for those that repeat a fixed
	 * amount of work --intervals times and ignore the timing options.
	 */
	bool sampled;
	/*
	 * Optional paragraphs for --help, NULL-terminated: what the numbers
	 * mean and do not mean, where a mode's threads run, a model's limits.
	 */
	const char *const *notes;
	/* --help's text for --cpus, if it is not the number of workers. */
	const char *cpus_help;
};

#define BENCH_MAX_OPTIONS 4

struct bench_args {
	const struct bench_spec *spec;
	const struct bench_mode *mode;
	int cpus;			/* number of workers */
	int *cpu_ids;			/* worker i runs on cpu_ids[i] */
	int intervals;			/* samples or repetitions */
	long interval_ms;
	long warmup_ms;
	long option[BENCH_MAX_OPTIONS];	/* indexed like spec->options */
	/*
	 * --ops-file (sampled benchmarks only): where to write the number of
	 * operations done over the whole run, or NULL.
	 */
	const char *ops_file;
	/* The command line as given, for modes that re-run it elsewhere. */
	int argc;
	char **argv;
};

/* Parse argv, run the selected mode and return the process exit status. */
int bench_main(const struct bench_spec *spec, int argc, char **argv);

#endif /* BENCH_CLI_H */
