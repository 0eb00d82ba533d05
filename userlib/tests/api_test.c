// SPDX-License-Identifier: GPL-2.0
/*
 * api_test CASE: one check of libcorey's API, exit status 0 if it passed.
 * "api_test --list" prints the cases, "api_test --supported" exits 0 if the
 * kernel has descriptor shares.  Each case checks what the running kernel
 * should answer: ENOSYS everywhere on a kernel without shares, the
 * semantics of docs/shares.md on one with them.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <corey.h>

#include "expect.h"

static const char missing_message[] =
	"this kernel has no descriptor shares (CONFIG_COREY_SHARES); "
	"apply the Corey series";

static bool supported(void)
{
	return corey_shares_supported() == 1;
}

static void probe(void)
{
	if (supported()) {
		EXPECT(strcmp(corey_strerror(EINVAL), strerror(EINVAL)) == 0);
		return;
	}
	errno = 0;
	EXPECT(corey_shares_supported() == 0);
	EXPECT(errno == ENOSYS);
	/* The answer is cached; asking again must say the same. */
	EXPECT(corey_shares_supported() == 0 && errno == ENOSYS);
	EXPECT(strcmp(corey_strerror(ENOSYS), missing_message) == 0);
	EXPECT(strcmp(corey_strerror(EINVAL), missing_message) == 0);
	EXPECT(strcmp(corey_strerror(EBADF), strerror(EBADF)) == 0);
}

static void create_destroy(void)
{
	int share;

	if (!supported()) {
		EXPECT_ERRNO(corey_share_create(0, 0), ENOSYS);
		EXPECT_ERRNO(corey_share_create(1, COREY_SHARE_SHARED), ENOSYS);
		EXPECT_ERRNO(corey_share_destroy(1, 0), ENOSYS);
		EXPECT_ERRNO(corey_share_destroy(0, 0), ENOSYS);
		return;
	}
	share = corey_share_create(0, 0);
	EXPECT(share >= 1 && share <= COREY_SHARE_MAX);
	EXPECT_ERRNO(corey_share_create((unsigned int)share, 0), EEXIST);
	EXPECT_ERRNO(corey_share_create(0, ~COREY_SHARE_FLAGS), EINVAL);
	EXPECT_ERRNO(corey_share_create(COREY_SHARE_MAX + 1, 0), EINVAL);
	EXPECT(corey_share_destroy((unsigned int)share, 0) == 0);
	EXPECT_ERRNO(corey_share_destroy((unsigned int)share, 0), EBADF);
	EXPECT_ERRNO(corey_share_destroy(0, 0), EINVAL);
	EXPECT_ERRNO(corey_share_destroy(1, 1), EINVAL);
	EXPECT_ERRNO(corey_share_destroy(COREY_SHARE_MAX + 1, 0), EINVAL);
}

static void addobj(void)
{
	int share, fd, at;

	if (!supported()) {
		EXPECT_ERRNO(corey_share_addobj(STDIN_FILENO, 1), ENOSYS);
		EXPECT_ERRNO(corey_share_addobj_at(STDIN_FILENO, 1, 0, 0),
			     ENOSYS);
		/* Nothing was created under a tagged number either. */
		EXPECT_ERRNO(fcntl(COREY_FD(1, 0), F_GETFD), EBADF);
		return;
	}
	share = corey_share_create(0, 0);
	EXPECT(share > 0);
	if (share <= 0)
		return;
	fd = corey_share_addobj(STDIN_FILENO, (unsigned int)share);
	EXPECT(fd == COREY_FD(share, 0));
	at = corey_share_addobj_at(STDIN_FILENO, (unsigned int)share, 5,
				   O_CLOEXEC);
	EXPECT(at == COREY_FD(share, 5));
	EXPECT(fcntl(at, F_GETFD) == FD_CLOEXEC);
	EXPECT(corey_share_delobj(fd) == 0);
	EXPECT(corey_share_delobj(at) == 0);
	EXPECT_ERRNO(corey_share_delobj(at), EBADF);
	EXPECT_ERRNO(corey_share_addobj(STDIN_FILENO, 0), EINVAL);
	EXPECT_ERRNO(corey_share_addobj_at(STDIN_FILENO, 0, 0, 0), EBADF);
	/* Too wide for the tag's bits: never masked into share 1. */
	EXPECT_ERRNO(corey_share_addobj(STDIN_FILENO, 1025), EINVAL);
	EXPECT_ERRNO(corey_share_addobj_at(STDIN_FILENO, 1025, 0, 0), EBADF);
	EXPECT_ERRNO(corey_share_addobj_at(STDIN_FILENO, (unsigned int)share,
					   COREY_SHARE_SLOTS, 0), EBADF);
	EXPECT(corey_share_destroy((unsigned int)share, 0) == 0);
}

static void alloc_share(void)
{
	int share, fd;

	if (!supported()) {
		EXPECT_ERRNO(corey_set_alloc_share(1), ENOSYS);
		EXPECT_ERRNO(corey_set_alloc_share(0), ENOSYS);
		EXPECT_ERRNO(corey_get_alloc_share(), ENOSYS);
		return;
	}
	EXPECT(corey_get_alloc_share() == 0);
	share = corey_share_create(0, 0);
	EXPECT(share > 0);
	if (share <= 0)
		return;
	EXPECT(corey_set_alloc_share((unsigned int)share) == 0);
	EXPECT(corey_get_alloc_share() == share);
	fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
	EXPECT(COREY_FD_IS_TAGGED(fd) &&
	       COREY_FD_SHARE(fd) == (unsigned int)share);
	EXPECT(close(fd) == 0);
	EXPECT(corey_set_alloc_share(0) == 0);
	EXPECT(corey_get_alloc_share() == 0);
	EXPECT_ERRNO(corey_set_alloc_share(COREY_SHARE_MAX + 1), EINVAL);
	EXPECT(corey_share_destroy((unsigned int)share, 0) == 0);
	EXPECT_ERRNO(corey_set_alloc_share((unsigned int)share), EBADF);
}

/* delete-object is close(2) on every kernel. */
static void delobj(void)
{
	int fd = open("/dev/null", O_RDONLY | O_CLOEXEC);

	EXPECT(fd >= 0);
	EXPECT(corey_share_delobj(fd) == 0);
	EXPECT_ERRNO(corey_share_delobj(fd), EBADF);
	EXPECT_ERRNO(corey_share_delobj(-1), EBADF);
}

/* corey_perror writes "what: message" with the feature named. */
static void perror_message(void)
{
	char buf[256], expected[256];
	FILE *capture = tmpfile();
	int saved_stderr = dup(STDERR_FILENO);
	size_t len;

	EXPECT(capture && saved_stderr >= 0);
	if (!capture || saved_stderr < 0)
		return;
	fflush(stderr);
	dup2(fileno(capture), STDERR_FILENO);
	errno = ENOSYS;
	corey_perror("corey_share_create");
	errno = EBADF;
	corey_perror(NULL);
	fflush(stderr);
	dup2(saved_stderr, STDERR_FILENO);
	close(saved_stderr);

	rewind(capture);
	len = fread(buf, 1, sizeof(buf) - 1, capture);
	buf[len] = '\0';
	fclose(capture);
	snprintf(expected, sizeof(expected), "corey_share_create: %s\n%s\n",
		 supported() ? strerror(ENOSYS) : missing_message,
		 strerror(EBADF));
	if (strcmp(buf, expected) != 0) {
		fprintf(stderr, "corey_perror wrote \"%s\", expected \"%s\"\n",
			buf, expected);
		failed = true;
	}
}

static const struct {
	const char *name;
	void (*run)(void);
} cases[] = {
	{ "probe", probe },
	{ "create_destroy", create_destroy },
	{ "addobj", addobj },
	{ "alloc_share", alloc_share },
	{ "delobj", delobj },
	{ "perror", perror_message },
};

#define N_CASES (sizeof(cases) / sizeof(*cases))

int main(int argc, char **argv)
{
	size_t i;

	if (argc != 2) {
		fprintf(stderr, "usage: %s --list | --supported | CASE\n",
			argv[0]);
		return 2;
	}
	if (strcmp(argv[1], "--supported") == 0)
		return supported() ? 0 : 1;
	for (i = 0; i < N_CASES; i++) {
		if (strcmp(argv[1], "--list") == 0)
			puts(cases[i].name);
		else if (strcmp(argv[1], cases[i].name) == 0)
			break;
	}
	if (strcmp(argv[1], "--list") == 0)
		return 0;
	if (i == N_CASES) {
		fprintf(stderr, "%s: no case '%s' (--list)\n", argv[0], argv[1]);
		return 2;
	}
	cases[i].run();
	return failed ? 1 : 0;
}
