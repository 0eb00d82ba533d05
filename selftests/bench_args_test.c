// SPDX-License-Identifier: GPL-2.0
/*
 * Check the benchmark binaries' command-line contract: --help, the usage
 * errors (exit 2, "NAME: ..." then "Try 'NAME --help'." on stderr, nothing
 * on stdout) and the CSV a minimal valid run prints.
 *
 * The binaries are looked up in $COREY_BENCH_DIR (default /bench).  A
 * missing directory or binary is a failure, not a skip: the VM image is
 * supposed to ship them.
 */
#include <errno.h>
#include <limits.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "kselftest_harness.h"
#include "bench_csv.h"
#include "run_capture.h"

#define BENCH_DIR_DEFAULT "/bench"
/* A minimal run takes well under a second; leave room for slow emulation. */
#define RUN_TIMEOUT_MS 20000
#define EXIT_USAGE 2
#define MAX_ARGS 24

static const struct bench_metric dupclose_metrics[] = {
	{ "ops_per_sec", true },
	{ NULL },
};

static const struct bench_metric memclone_metrics[] = {
	{ "ns_per_page", true },
	{ "minflt_per_page", false },
	{ NULL },
};

static const struct bench_metric mempass_metrics[] = {
	{ "seconds", true },
	{ "minflt_per_page", false },
	{ "minflt_per_page_worst", false },
	{ NULL },
};

static const struct bench_metric pfchurn_metrics[] = {
	{ "pages_per_sec", true },
	{ NULL },
};

/* The options of one invocation; a NULL value leaves the option out. */
struct bench_opts {
	const char *mode;
	const char *cpus;
	const char *intervals;
	const char *interval_ms;
	const char *warmup_ms;
	const char *mb;
	const char *extra;	/* one more argument, appended last */
};

struct bench_result {
	struct captured_run run;
	char cmd[512];		/* the command line, for messages */
};

static int available_cpus(void)
{
	cpu_set_t set;

	if (sched_getaffinity(0, sizeof(set), &set))
		return -errno;
	return CPU_COUNT(&set);
}

/* Fill @path with the benchmark's location; fail the test if it is missing. */
static void find_bench(struct __test_metadata *_metadata, const char *name,
		       char *path, size_t size)
{
	const char *dir = getenv("COREY_BENCH_DIR");
	int err;

	if (!dir || !*dir)
		dir = BENCH_DIR_DEFAULT;
	err = access(dir, F_OK) ? errno : 0;
	ASSERT_EQ(0, err) TH_LOG("benchmark directory %s: %s", dir,
				 strerror(err));
	ASSERT_GT((int)size, snprintf(path, size, "%s/%s", dir, name));
	err = access(path, X_OK) ? errno : 0;
	ASSERT_EQ(0, err) TH_LOG("benchmark binary %s: %s", path,
				 strerror(err));
}

static void add_option(const char **argv, int *argc, const char *option,
		       const char *value)
{
	if (!value)
		return;
	argv[(*argc)++] = option;
	argv[(*argc)++] = value;
}

static void format_cmd(const char *const *argv, char *buf, size_t size)
{
	size_t len = 0;
	int i;

	buf[0] = '\0';
	for (i = 0; argv[i] && len < size; i++)
		len += snprintf(buf + len, size - len, "%s%s", i ? " " : "",
				argv[i]);
}

/* Print a captured stream line by line so that it stays TAP comments. */
static void log_stream(const char *label, const char *text)
{
	const char *end;

	if (!*text) {
		fprintf(stderr, "#   %s: (empty)\n", label);
		return;
	}
	for (; *text; text = *end ? end + 1 : end) {
		end = strchrnul(text, '\n');
		fprintf(stderr, "#   %s| %.*s\n", label, (int)(end - text), text);
	}
}

static void log_result(const struct bench_result *res)
{
	fprintf(stderr, "#   `%s`: exit %d\n", res->cmd, res->run.exit_code);
	log_stream("stdout", res->run.out);
	log_stream("stderr", res->run.err);
}

/* Run @path with @opts; argv[0] is the full path, as a shell would pass it. */
static void run_bench(struct __test_metadata *_metadata, const char *path,
		      const struct bench_opts *opts, struct bench_result *res)
{
	const char *argv[MAX_ARGS];
	int argc = 0, ret;

	argv[argc++] = path;
	add_option(argv, &argc, "--mode", opts->mode);
	add_option(argv, &argc, "--cpus", opts->cpus);
	add_option(argv, &argc, "--intervals", opts->intervals);
	add_option(argv, &argc, "--interval-ms", opts->interval_ms);
	add_option(argv, &argc, "--warmup-ms", opts->warmup_ms);
	add_option(argv, &argc, "--mb", opts->mb);
	if (opts->extra)
		argv[argc++] = opts->extra;
	argv[argc] = NULL;
	format_cmd(argv, res->cmd, sizeof(res->cmd));

	ret = run_capture(path, (char *const *)argv, RUN_TIMEOUT_MS, &res->run);
	ASSERT_EQ(0, ret) TH_LOG("`%s`: %s", res->cmd, strerror(-ret));
	if (res->run.timed_out)
		log_result(res);
	ASSERT_FALSE(res->run.timed_out)
		TH_LOG("`%s` still running after %d ms, killed", res->cmd,
		       RUN_TIMEOUT_MS);
	EXPECT_EQ(0, res->run.term_signal)
		TH_LOG("`%s` killed by signal %d", res->cmd,
		       res->run.term_signal);
}

/* Does the line starting at @s equal @want? */
static bool line_is(const char *s, const char *want)
{
	size_t len = strlen(want);

	return !strncmp(s, want, len) && (s[len] == '\n' || s[len] == '\0');
}

static void expect_usage_error(struct __test_metadata *_metadata,
			       const char *path, const char *name,
			       const struct bench_opts *opts)
{
	int exit_code_before = _metadata->exit_code;
	char prefix[64], hint[96];
	struct bench_result res;
	const char *second_line;

	snprintf(prefix, sizeof(prefix), "%s: ", name);
	snprintf(hint, sizeof(hint), "Try '%s --help'.", name);
	run_bench(_metadata, path, opts, &res);

	EXPECT_EQ(EXIT_USAGE, res.run.exit_code);
	EXPECT_EQ(0, res.run.out_len) TH_LOG("usage error printed on stdout");
	EXPECT_EQ(0, strncmp(res.run.err, prefix, strlen(prefix)))
		TH_LOG("stderr does not start with '%s'", prefix);
	second_line = strchr(res.run.err, '\n');
	EXPECT_TRUE(second_line && line_is(second_line + 1, hint))
		TH_LOG("second stderr line is not \"%s\"", hint);

	if (_metadata->exit_code != exit_code_before)
		log_result(&res);
	captured_run_free(&res.run);
}

static void expect_valid_run(struct __test_metadata *_metadata,
			     const char *path, const char *name,
			     const struct bench_opts *opts,
			     const struct bench_metric *metrics)
{
	const struct bench_csv_expect expect = {
		.benchmark = name,
		.mode = opts->mode,
		.cpus = opts->cpus,
		.metrics = metrics,
	};
	int exit_code_before = _metadata->exit_code;
	struct bench_result res;
	char why[256];

	run_bench(_metadata, path, opts, &res);

	EXPECT_EQ(0, res.run.exit_code);
	EXPECT_TRUE(bench_csv_check(res.run.out, &expect, why, sizeof(why)))
		TH_LOG("bad CSV on stdout: %s", why);

	if (_metadata->exit_code != exit_code_before)
		log_result(&res);
	captured_run_free(&res.run);
}

/* The smallest run the contract accepts, quick even under emulation. */
static struct bench_opts minimal_opts(const char *mode, bool takes_mb)
{
	return (struct bench_opts){
		.mode = mode,
		.cpus = "1",
		.intervals = "2",
		.interval_ms = "50",
		.warmup_ms = "10",
		.mb = takes_mb ? "2" : NULL,
	};
}

/* One variant per benchmark and mode: usage errors may depend on the mode. */
FIXTURE(bench) {
	char path[PATH_MAX];
	struct bench_opts valid;
};

FIXTURE_VARIANT(bench) {
	const char *name;
	const char *mode;
	bool takes_mb;
	const struct bench_metric *metrics;
};

FIXTURE_VARIANT_ADD(bench, dupclose_threads) {
	.name = "dupclose", .mode = "threads", .metrics = dupclose_metrics,
};

FIXTURE_VARIANT_ADD(bench, dupclose_processes) {
	.name = "dupclose", .mode = "processes", .metrics = dupclose_metrics,
};

FIXTURE_VARIANT_ADD(bench, dupclose_uring) {
	.name = "dupclose", .mode = "uring", .metrics = dupclose_metrics,
};

FIXTURE_VARIANT_ADD(bench, memclone_threads) {
	.name = "memclone", .mode = "threads", .takes_mb = true,
	.metrics = memclone_metrics,
};

FIXTURE_VARIANT_ADD(bench, memclone_processes) {
	.name = "memclone", .mode = "processes", .takes_mb = true,
	.metrics = memclone_metrics,
};

FIXTURE_VARIANT_ADD(bench, memclone_threads_shm) {
	.name = "memclone", .mode = "threads-shm", .takes_mb = true,
	.metrics = memclone_metrics,
};

FIXTURE_VARIANT_ADD(bench, mempass_threads) {
	.name = "mempass", .mode = "threads", .takes_mb = true,
	.metrics = mempass_metrics,
};

FIXTURE_VARIANT_ADD(bench, mempass_processes) {
	.name = "mempass", .mode = "processes", .takes_mb = true,
	.metrics = mempass_metrics,
};

FIXTURE_VARIANT_ADD(bench, mempass_threads_shm) {
	.name = "mempass", .mode = "threads-shm", .takes_mb = true,
	.metrics = mempass_metrics,
};

FIXTURE_VARIANT_ADD(bench, pfchurn_threads) {
	.name = "pfchurn", .mode = "threads", .takes_mb = true,
	.metrics = pfchurn_metrics,
};

FIXTURE_VARIANT_ADD(bench, pfchurn_processes) {
	.name = "pfchurn", .mode = "processes", .takes_mb = true,
	.metrics = pfchurn_metrics,
};

FIXTURE_VARIANT_ADD(bench, pfchurn_threads_shm) {
	.name = "pfchurn", .mode = "threads-shm", .takes_mb = true,
	.metrics = pfchurn_metrics,
};

FIXTURE_SETUP(bench)
{
	find_bench(_metadata, variant->name, self->path, sizeof(self->path));
	self->valid = minimal_opts(variant->mode, variant->takes_mb);
}

FIXTURE_TEARDOWN(bench)
{
}

TEST_F(bench, help)
{
	const struct bench_opts opts = { .extra = "--help" };
	int exit_code_before = _metadata->exit_code;
	struct bench_result res;

	run_bench(_metadata, self->path, &opts, &res);
	EXPECT_EQ(0, res.run.exit_code);
	EXPECT_NE(NULL, strstr(res.run.out, variant->name))
		TH_LOG("usage on stdout does not mention %s", variant->name);
	if (_metadata->exit_code != exit_code_before)
		log_result(&res);
	captured_run_free(&res.run);
}

TEST_F(bench, no_arguments)
{
	const struct bench_opts opts = { 0 };

	expect_usage_error(_metadata, self->path, variant->name, &opts);
}

TEST_F(bench, unknown_option)
{
	struct bench_opts opts = self->valid;

	opts.extra = "--bogus";
	expect_usage_error(_metadata, self->path, variant->name, &opts);
}

TEST_F(bench, unknown_mode)
{
	struct bench_opts opts = self->valid;

	opts.mode = "nosuchmode";
	expect_usage_error(_metadata, self->path, variant->name, &opts);
}

TEST_F(bench, missing_mode)
{
	struct bench_opts opts = self->valid;

	opts.mode = NULL;
	expect_usage_error(_metadata, self->path, variant->name, &opts);
}

TEST_F(bench, missing_cpus)
{
	struct bench_opts opts = self->valid;

	opts.cpus = NULL;
	expect_usage_error(_metadata, self->path, variant->name, &opts);
}

TEST_F(bench, cpus_zero)
{
	struct bench_opts opts = self->valid;

	opts.cpus = "0";
	expect_usage_error(_metadata, self->path, variant->name, &opts);
}

TEST_F(bench, cpus_not_a_number)
{
	struct bench_opts opts = self->valid;

	opts.cpus = "abc";
	expect_usage_error(_metadata, self->path, variant->name, &opts);
}

TEST_F(bench, cpus_negative)
{
	struct bench_opts opts = self->valid;

	opts.cpus = "-1";
	expect_usage_error(_metadata, self->path, variant->name, &opts);
}

TEST_F(bench, cpus_beyond_affinity)
{
	struct bench_opts opts = self->valid;
	int cpus = available_cpus();
	char too_many[16];

	ASSERT_LT(0, cpus) TH_LOG("sched_getaffinity: %s", strerror(-cpus));
	snprintf(too_many, sizeof(too_many), "%d", cpus + 1);
	opts.cpus = too_many;
	expect_usage_error(_metadata, self->path, variant->name, &opts);
}

TEST_F(bench, intervals_zero)
{
	struct bench_opts opts = self->valid;

	opts.intervals = "0";
	expect_usage_error(_metadata, self->path, variant->name, &opts);
}

TEST_F(bench, mb_zero)
{
	struct bench_opts opts = self->valid;

	if (!variant->takes_mb)
		SKIP(return, "%s takes no --mb", variant->name);
	opts.mb = "0";
	expect_usage_error(_metadata, self->path, variant->name, &opts);
}

TEST_F(bench, minimal_run)
{
	expect_valid_run(_metadata, self->path, variant->name, &self->valid,
			 variant->metrics);
}

/* Scaling past one CPU must work too; dupclose threads is the cheapest. */
TEST(dupclose_threads_two_cpus)
{
	struct bench_opts opts = minimal_opts("threads", false);
	int cpus = available_cpus();
	char path[PATH_MAX];

	ASSERT_LT(0, cpus) TH_LOG("sched_getaffinity: %s", strerror(-cpus));
	if (cpus < 2)
		SKIP(return, "%d CPU available, 2 needed", cpus);
	find_bench(_metadata, "dupclose", path, sizeof(path));
	opts.cpus = "2";
	expect_valid_run(_metadata, path, "dupclose", &opts, dupclose_metrics);
}

TEST_HARNESS_MAIN
