/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Raw access to descriptor shares (docs/shares.md) for the selftests:
 * the two system calls and the prctl through syscall(2), the probe that
 * tells a kernel without shares apart, and a parser for the fdshares
 * file in /proc.  Deliberately independent of userlib/: the tests check
 * the kernel, not libcorey.
 *
 * Every wrapper returns what the system call returns (-1 and errno on
 * failure), so the tests can assert exact errnos.
 */
#ifndef SELFTESTS_COREY_SHARES_H
#define SELFTESTS_COREY_SHARES_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include <linux/corey.h>

/* Only x86_64 wires the calls; elsewhere syscall(-1) fails with ENOSYS. */
#ifndef __NR_corey_share_create
#define __NR_corey_share_create (-1)
#endif
#ifndef __NR_corey_share_destroy
#define __NR_corey_share_destroy (-1)
#endif

int corey_share_create_raw(unsigned int share, unsigned int flags);
int corey_share_destroy_raw(unsigned int share, unsigned int flags);

/* prctl(PR_COREY, PR_COREY_{SET,GET}_ALLOC_SHARE, ...), unused args 0. */
int corey_set_alloc_share_raw(unsigned long share);
int corey_get_alloc_share_raw(void);

/*
 * Does the running kernel have descriptor shares?  Asks
 * corey_share_destroy(0, 0): a kernel with shares rejects share 0 with
 * EINVAL, one without answers ENOSYS.
 *
 * Returns 1 (shares), 0 (no shares; *why says why) or a negative errno
 * if the probe got an answer that is neither (a kernel to distrust).
 */
int corey_shares_probe(const char **why);

/* One line of /proc/<pid>/task/<tid>/fdshares. */
enum fdshares_kind { FDSHARES_PROCESS, FDSHARES_PRIVATE, FDSHARES_SHARED };

struct fdshares_line {
	unsigned int id;
	enum fdshares_kind kind;
	unsigned long open;
	unsigned long size;
	bool is_default;
};

/*
 * Parse the fdshares text in @buf (NUL-terminated) strictly: the header
 * "id kind open size default", then one line per share with exactly five
 * whitespace-separated fields, kind process/private/shared (process iff
 * id 0), id 0..1022 in no repeated order, default "*" or "-", at most one
 * "*", and open <= size.
 *
 * Returns the number of lines stored in @lines (at most @max; more is an
 * error), or -1 with the first problem described in @why.
 */
int fdshares_parse(const char *buf, struct fdshares_line *lines, int max,
		   char *why, size_t why_len);

/* The line for share @id, or NULL. */
const struct fdshares_line *fdshares_find(const struct fdshares_line *lines,
					  int n, unsigned int id);

/*
 * Read a whole small file (a /proc file) into @buf, NUL-terminated; the
 * _fd variant reads an already open descriptor from where it is to EOF.
 * Returns the length, or -errno (-EFBIG if it does not fit).
 */
ssize_t read_proc_file(const char *path, char *buf, size_t size);
ssize_t read_fd_file(int fd, char *buf, size_t size);

/* Count the open descriptors of share 0 by probing 0..limit-1 with F_GETFD. */
int count_share0_fds(int limit);

#endif /* SELFTESTS_COREY_SHARES_H */
