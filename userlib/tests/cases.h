/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The case runner libcorey's VM test programs share (kcore_test, ar_test):
 * with no argument, every case in a process of its own, reported as TAP;
 * with a case's name, that case alone; --list names them; --supported
 * says whether the kernel has the feature.  Include after expect.h.
 */
#ifndef COREY_TESTS_CASES_H
#define COREY_TESTS_CASES_H

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

/* kselftest's "could not run here". */
#define KSFT_SKIP 4
/* Long enough for a loaded VM, short enough that a hang fails the case. */
#define CASE_TIMEOUT_S 60

/* Running every case (run_all()): it reports skips itself. */
static bool quiet_skip;

struct test_case {
	const char *name;
	void (*run)(void);
};

struct test_suite {
	const struct test_case *cases;
	size_t nr_cases;
	const char *skip_why;		/* after "# SKIP " when a case skips */
	bool (*supported)(void);	/* for --supported */
};

static int run_case(const struct test_suite *s, size_t i)
{
	alarm(CASE_TIMEOUT_S);
	s->cases[i].run();
	return failed ? 1 : 0;
}

/* Every case in its own process, as TAP. */
static int run_all(const struct test_suite *s)
{
	int status, nfailed = 0;
	size_t i;
	pid_t pid;

	quiet_skip = true;
	printf("TAP version 13\n");
	for (i = 0; i < s->nr_cases; i++) {
		fflush(stdout);
		pid = fork();
		if (pid < 0) {
			perror("fork");
			return 1;
		}
		if (pid == 0)
			exit(run_case(s, i));
		if (waitpid(pid, &status, 0) != pid)
			status = -1;
		if (WIFEXITED(status) && WEXITSTATUS(status) == 0) {
			printf("ok %zu %s\n", i + 1, s->cases[i].name);
		} else if (WIFEXITED(status) &&
			   WEXITSTATUS(status) == KSFT_SKIP) {
			printf("ok %zu %s # SKIP %s\n", i + 1,
			       s->cases[i].name, s->skip_why);
		} else {
			nfailed++;
			printf("not ok %zu %s", i + 1, s->cases[i].name);
			if (WIFSIGNALED(status))
				printf(" # killed by signal %d",
				       WTERMSIG(status));
			printf("\n");
		}
	}
	printf("1..%zu\n", s->nr_cases);
	return nfailed ? 1 : 0;
}

static int run_suite(const struct test_suite *s, int argc, char **argv)
{
	size_t i;

	if (argc == 1)
		return run_all(s);
	if (argc != 2) {
		fprintf(stderr, "usage: %s [--list | --supported | CASE]\n",
			argv[0]);
		return 2;
	}
	if (strcmp(argv[1], "--supported") == 0)
		return s->supported() ? 0 : 1;
	for (i = 0; i < s->nr_cases; i++) {
		if (strcmp(argv[1], "--list") == 0)
			puts(s->cases[i].name);
		else if (strcmp(argv[1], s->cases[i].name) == 0)
			break;
	}
	if (strcmp(argv[1], "--list") == 0)
		return 0;
	if (i == s->nr_cases) {
		fprintf(stderr, "%s: no case '%s' (--list)\n", argv[0], argv[1]);
		return 2;
	}
	return run_case(s, i);
}

#endif /* COREY_TESTS_CASES_H */
