// SPDX-License-Identifier: GPL-2.0
/*
 * Look up kernel command-line parameters in /proc/cmdline.
 */
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <unistd.h>

#include "kcmdline.h"

/* COMMAND_LINE_SIZE is 2048 on x86 and arm64; leave room for the NUL. */
#define CMDLINE_MAX 4096

static int read_cmdline(char *buf, size_t size)
{
	size_t len = 0;
	ssize_t n;
	int fd, ret;

	fd = open("/proc/cmdline", O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	do {
		n = read(fd, buf + len, size - 1 - len);
		if (n > 0)
			len += n;
	} while ((n > 0 && len < size - 1) || (n < 0 && errno == EINTR));
	ret = n < 0 ? -errno : 0;
	close(fd);
	if (ret)
		return ret;
	buf[len] = '\0';
	return 0;
}

int kcmdline_param(const char *name, char *value, size_t size)
{
	char cmdline[CMDLINE_MAX];
	size_t name_len = strlen(name);
	char *word, *save;
	int found = 0, ret;

	ret = read_cmdline(cmdline, sizeof(cmdline));
	if (ret)
		return ret;

	for (word = strtok_r(cmdline, " \t\n", &save); word;
	     word = strtok_r(NULL, " \t\n", &save)) {
		const char *val;
		size_t len;

		if (!strcmp(word, "--"))
			break;
		if (strncmp(word, name, name_len) || word[name_len] != '=')
			continue;
		val = word + name_len + 1;
		len = strlen(val);
		if (len >= size)
			return -ENOSPC;
		memcpy(value, val, len + 1);
		found = 1;
	}
	return found;
}
