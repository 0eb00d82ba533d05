// SPDX-License-Identifier: GPL-2.0
/*
 * Where corey-run finds the library it preloads: $COREY_RUN_PRELOAD if set;
 * else next to the corey-run binary (a build directory), in ../lib/corey or
 * ../lib relative to it (an installed tree, wherever it was moved), and last
 * in the directory it was configured to be installed in.
 */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "preload_path.h"

#ifndef COREY_RUN_PKGLIBDIR
#error "COREY_RUN_PKGLIBDIR (where libcorey-run.so is installed) is not set"
#endif

#define PRELOAD_NAME "libcorey-run.so"

static const char *const beside_binary[] = {
	"",
	"/../lib/corey",
	"/../lib",
};

static char *resolve(const char *path)
{
	if (access(path, R_OK) != 0)
		return NULL;
	return realpath(path, NULL);
}

/* The directory holding the running binary, or "" if /proc is missing. */
static void binary_dir(char *dir, size_t size)
{
	ssize_t len = readlink("/proc/self/exe", dir, size - 1);
	char *slash;

	if (len < 0) {
		dir[0] = '\0';
		return;
	}
	dir[len] = '\0';
	slash = strrchr(dir, '/');
	if (slash)
		*slash = '\0';
}

char *find_preload(void)
{
	const char *forced = getenv("COREY_RUN_PRELOAD");
	char dir[PATH_MAX], path[PATH_MAX + 64];
	char *found;
	size_t i;

	if (forced && *forced) {
		found = resolve(forced);
		if (!found)
			fprintf(stderr, "corey-run: COREY_RUN_PRELOAD=%s: %s\n",
				forced, strerror(errno));
		return found;
	}
	binary_dir(dir, sizeof(dir));
	for (i = 0; dir[0] && i < sizeof(beside_binary) / sizeof(*beside_binary);
	     i++) {
		snprintf(path, sizeof(path), "%s%s/%s", dir, beside_binary[i],
			 PRELOAD_NAME);
		found = resolve(path);
		if (found)
			return found;
	}
	found = resolve(COREY_RUN_PKGLIBDIR "/" PRELOAD_NAME);
	if (!found)
		fprintf(stderr,
			"corey-run: cannot find %s beside %s, in ../lib/corey "
			"or ../lib from there, or in %s (set COREY_RUN_PRELOAD)\n",
			PRELOAD_NAME, dir[0] ? dir : "this program",
			COREY_RUN_PKGLIBDIR);
	return found;
}
