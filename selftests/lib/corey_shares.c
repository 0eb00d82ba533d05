// SPDX-License-Identifier: GPL-2.0
/*
 * Raw access to descriptor shares for the selftests; see corey_shares.h.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "corey_shares.h"

int corey_share_create_raw(unsigned int share, unsigned int flags)
{
	return syscall(__NR_corey_share_create, (unsigned long)share,
		       (unsigned long)flags);
}

int corey_share_destroy_raw(unsigned int share, unsigned int flags)
{
	return syscall(__NR_corey_share_destroy, (unsigned long)share,
		       (unsigned long)flags);
}

int corey_set_alloc_share_raw(unsigned long share)
{
	return prctl(PR_COREY, PR_COREY_SET_ALLOC_SHARE, share, 0UL, 0UL);
}

int corey_get_alloc_share_raw(void)
{
	return prctl(PR_COREY, PR_COREY_GET_ALLOC_SHARE, 0UL, 0UL, 0UL);
}

int corey_shares_probe(const char **why)
{
	int ret, err;

	errno = 0;
	ret = corey_share_destroy_raw(0, 0);
	err = errno;
	if (ret == -1 && err == ENOSYS) {
		if (why)
			*why = "kernel without descriptor shares (corey_share_destroy: ENOSYS)";
		return 0;
	}
	if (ret == -1 && err == EINVAL)
		return 1;
	/* Destroying share 0 must never succeed. */
	return ret == -1 ? -err : -EPROTO;
}

static int fail(char *why, size_t why_len, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(why, why_len, fmt, ap);
	va_end(ap);
	return -1;
}

static bool parse_ulong(const char *s, unsigned long *v)
{
	char *end;

	if (*s < '0' || *s > '9')
		return false;
	errno = 0;
	*v = strtoul(s, &end, 10);
	return !*end && !errno;
}

/* Split @line in place on blanks; returns the number of fields. */
static int split_blanks(char *line, char **fields, int max)
{
	char *save, *tok;
	int n = 0;

	for (tok = strtok_r(line, " \t", &save); tok;
	     tok = strtok_r(NULL, " \t", &save)) {
		if (n < max)
			fields[n] = tok;
		n++;
	}
	return n;
}

int fdshares_parse(const char *buf, struct fdshares_line *lines, int max,
		   char *why, size_t why_len)
{
	static const char *const header[] = { "id", "kind", "open", "size",
					      "default" };
	char *copy, *rest, *line, *f[5];
	int n = 0, line_no = 0, defaults = 0, i, ret = -1;

	copy = strdup(buf);
	if (!copy)
		return fail(why, why_len, "out of memory");
	rest = copy;
	while ((line = strsep(&rest, "\n")) != NULL) {
		struct fdshares_line l = { 0 };
		unsigned long id;
		int fields;

		line_no++;
		if (!*line && !rest)
			break;		/* the text's final newline */
		fields = split_blanks(line, f, 5);
		if (fields != 5) {
			fail(why, why_len, "line %d: %d fields, want 5",
			     line_no, fields);
			goto out;
		}
		if (line_no == 1) {
			for (i = 0; i < 5; i++) {
				if (strcmp(f[i], header[i])) {
					fail(why, why_len,
					     "header field %d is '%s', want '%s'",
					     i + 1, f[i], header[i]);
					goto out;
				}
			}
			continue;
		}
		if (!parse_ulong(f[0], &id) || id > COREY_SHARE_MAX) {
			fail(why, why_len, "line %d: id '%s'", line_no, f[0]);
			goto out;
		}
		l.id = id;
		if (!strcmp(f[1], "process"))
			l.kind = FDSHARES_PROCESS;
		else if (!strcmp(f[1], "private"))
			l.kind = FDSHARES_PRIVATE;
		else if (!strcmp(f[1], "shared"))
			l.kind = FDSHARES_SHARED;
		else {
			fail(why, why_len, "line %d: kind '%s'", line_no, f[1]);
			goto out;
		}
		if ((l.kind == FDSHARES_PROCESS) != (l.id == 0)) {
			fail(why, why_len, "line %d: share %u has kind '%s'",
			     line_no, l.id, f[1]);
			goto out;
		}
		if (!parse_ulong(f[2], &l.open) || !parse_ulong(f[3], &l.size) ||
		    l.open > l.size) {
			fail(why, why_len, "line %d: open '%s', size '%s'",
			     line_no, f[2], f[3]);
			goto out;
		}
		if (!strcmp(f[4], "*"))
			l.is_default = true;
		else if (strcmp(f[4], "-")) {
			fail(why, why_len, "line %d: default '%s'", line_no,
			     f[4]);
			goto out;
		}
		defaults += l.is_default;
		if (defaults > 1) {
			fail(why, why_len, "line %d: a second default share",
			     line_no);
			goto out;
		}
		if (fdshares_find(lines, n < max ? n : max, l.id)) {
			fail(why, why_len, "line %d: share %u listed twice",
			     line_no, l.id);
			goto out;
		}
		if (n == max) {
			fail(why, why_len, "more than %d shares", max);
			goto out;
		}
		lines[n++] = l;
	}
	if (line_no == 0 || (line_no == 1 && !*buf)) {
		fail(why, why_len, "empty");
		goto out;
	}
	ret = n;
out:
	free(copy);
	return ret;
}

const struct fdshares_line *fdshares_find(const struct fdshares_line *lines,
					  int n, unsigned int id)
{
	int i;

	for (i = 0; i < n; i++)
		if (lines[i].id == id)
			return &lines[i];
	return NULL;
}

ssize_t read_fd_file(int fd, char *buf, size_t size)
{
	size_t len = 0;
	ssize_t n;

	for (;;) {
		if (len == size - 1)
			return -EFBIG;
		n = read(fd, buf + len, size - 1 - len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -errno;
		if (n == 0)
			break;
		len += n;
	}
	buf[len] = '\0';
	return len;
}

ssize_t read_proc_file(const char *path, char *buf, size_t size)
{
	ssize_t ret;
	int fd;

	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	ret = read_fd_file(fd, buf, size);
	close(fd);
	return ret;
}

int count_share0_fds(int limit)
{
	int fd, n = 0;

	for (fd = 0; fd < limit; fd++)
		if (fcntl(fd, F_GETFD) >= 0)
			n++;
	return n;
}
