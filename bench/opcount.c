// SPDX-License-Identifier: GPL-2.0
/*
 * opcount [--ops N] [--rounds R] OP...: run each operation N times per
 * round between two insncount markers, R rounds interleaved, and say what
 * each bracket held, for the host to divide the plugin's counts by.
 * See opcount.h and bench/qemu-plugin/insncount.c.
 */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "bench_cli.h"
#include "opcount.h"

#define DEFAULT_OPS	100000
#define DEFAULT_ROUNDS	5

/* Every operation, in the order --help lists them and OPS defaults to. */
static const struct {
	const struct opcount_op *ops;
	const unsigned int *nr;
} tables[] = {
	{ opcount_fd_ops, &opcount_nr_fd_ops },
	{ opcount_mm_ops, &opcount_nr_mm_ops },
	{ opcount_kcore_ops, &opcount_nr_kcore_ops },
};
#define NR_TABLES (sizeof(tables) / sizeof(tables[0]))

/* The marker insncount recognizes: xchg %bx,%bx, which changes nothing. */
static inline void insncount_mark(void)
{
	__asm__ volatile(".byte 0x66, 0x87, 0xdb" ::: "memory");
}

int opcount_no_setup(void **ctx)
{
	*ctx = NULL;
	return 0;
}

void opcount_no_teardown(void *ctx)
{
	(void)ctx;
}

int opcount_fail(const char *op, const char *what)
{
	fprintf(stderr, "opcount: %s: %s: %s\n", op, what, strerror(errno));
	return -1;
}

static void usage(FILE *f)
{
	fprintf(f, "usage: opcount [--ops N] [--rounds R] OP...\n"
		"Runs each OP N times (default %d, rounded up to its unit) per "
		"round between two\ninsncount markers, R rounds (default %d) "
		"interleaved, and prints for each\nbracket "
		"\"insns-batch: ROUND,OP,OPS\" after it, or "
		"\"insns-skip: OP,REASON\"\nonce for an OP this kernel "
		"cannot run (exit status 0).  Operations:\n",
		DEFAULT_OPS, DEFAULT_ROUNDS);
	for (unsigned int t = 0; t < NR_TABLES; t++)
		for (unsigned int i = 0; i < *tables[t].nr; i++)
			fprintf(f, "  %-16s %s\n", tables[t].ops[i].name,
				tables[t].ops[i].help);
}

static const struct opcount_op *find_op(const char *name)
{
	for (unsigned int t = 0; t < NR_TABLES; t++)
		for (unsigned int i = 0; i < *tables[t].nr; i++)
			if (!strcmp(tables[t].ops[i].name, name))
				return &tables[t].ops[i];
	return NULL;
}

static int parse_count(const char *what, const char *s, uint64_t *out)
{
	char *end;

	errno = 0;
	*out = strtoull(s, &end, 10);
	if (errno || end == s || *end || *out == 0 || s[0] == '-') {
		fprintf(stderr, "opcount: %s '%s' is not a positive integer\n",
			what, s);
		return -1;
	}
	return 0;
}

/*
 * One bracket, in a child of its own so that no state carries from one
 * operation to the next (a parked thread leaves glibc in its multi-threaded
 * mode, whose cancellable close() costs 40 more user instructions): set
 * up, warm up outside the markers (first-touch costs of the code paths
 * are not the operation's), then count @ops operations.  Returns the
 * child's exit status: 0, 1, or BENCH_EXIT_UNSUPPORTED.
 */
static int run_batch_child(const struct opcount_op *op, unsigned int round,
			   uint64_t ops)
{
	void *ctx = NULL;
	int err = op->setup(&ctx);

	if (err == BENCH_EXIT_UNSUPPORTED)
		return err;
	if (err)
		return 1;
	err = op->run(ctx, op->unit);
	if (!err) {
		insncount_mark();
		err = op->run(ctx, ops);
		insncount_mark();
	}
	op->teardown(ctx);
	if (err)
		return 1;
	printf("insns-batch: %u,%s,%" PRIu64 "\n", round, op->name, ops);
	return 0;
}

static int run_batch(const struct opcount_op *op, unsigned int round,
		     uint64_t ops, int *skipped)
{
	int status;
	pid_t pid;

	fflush(stdout);
	pid = fork();
	if (pid == -1)
		return opcount_fail(op->name, "fork");
	if (pid == 0) {
		status = run_batch_child(op, round, ops);
		fflush(stdout);
		_exit(status);
	}
	if (waitpid(pid, &status, 0) != pid)
		return opcount_fail(op->name, "waitpid");
	if (WIFEXITED(status) && WEXITSTATUS(status) == BENCH_EXIT_UNSUPPORTED) {
		if (!*skipped)
			printf("insns-skip: %s,this kernel lacks the feature\n",
			       op->name);
		*skipped = 1;
		return 0;
	}
	if (!WIFEXITED(status) || WEXITSTATUS(status)) {
		fprintf(stderr, "opcount: %s: round %u failed (status %#x)\n",
			op->name, round, status);
		return -1;
	}
	return 0;
}

int main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "ops", required_argument, NULL, 'n' },
		{ "rounds", required_argument, NULL, 'r' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	uint64_t ops = DEFAULT_OPS, rounds = DEFAULT_ROUNDS;
	const struct opcount_op *sel[64];
	int skipped[64] = { 0 };
	unsigned int nsel = 0;
	int c;

	while ((c = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
		switch (c) {
		case 'n':
			if (parse_count("--ops", optarg, &ops))
				return 2;
			break;
		case 'r':
			if (parse_count("--rounds", optarg, &rounds))
				return 2;
			break;
		case 'h':
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return 2;
		}
	}
	if (optind == argc) {
		usage(stderr);
		return 2;
	}
	for (; optind < argc; optind++) {
		const struct opcount_op *op = find_op(argv[optind]);

		if (!op) {
			fprintf(stderr, "opcount: unknown operation '%s' "
				"(--help lists them)\n", argv[optind]);
			return 2;
		}
		if (nsel == sizeof(sel) / sizeof(sel[0])) {
			fprintf(stderr, "opcount: at most %zu operations\n",
				sizeof(sel) / sizeof(sel[0]));
			return 2;
		}
		sel[nsel++] = op;
	}
	setvbuf(stdout, NULL, _IOLBF, 0);
	for (unsigned int r = 0; r < rounds; r++) {
		for (unsigned int i = 0; i < nsel; i++) {
			uint64_t n = (ops + sel[i]->unit - 1) / sel[i]->unit *
				     sel[i]->unit;

			if (skipped[i])
				continue;
			if (run_batch(sel[i], r, n, &skipped[i]))
				return 1;
		}
	}
	return 0;
}
