// SPDX-License-Identifier: GPL-2.0
/*
 * Helpers of the address-range selftests; see ar_test.h.
 */
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <poll.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <unistd.h>

#define AR_LIB_ONLY
#include "ar_test.h"
#include "kcore_proc.h"
#include "kcore_raw.h"		/* kcore_now_ms() */
#include "corey_shares.h"	/* read_proc_file() */

int ar_probe(const char **why)
{
	int fd = memfd_create("ar-probe", MFD_ADDR_RANGE);

	if (fd >= 0) {
		close(fd);
		return 1;
	}
	if (errno == EINVAL) {
		*why = "no address ranges: memfd_create(MFD_ADDR_RANGE) is EINVAL";
		return 0;
	}
	return -errno;
}

int ar_memfd(size_t size, unsigned int flags)
{
	int fd = memfd_create("ar-test", MFD_ADDR_RANGE | flags);

	if (fd < 0)
		return -1;
	if (ftruncate(fd, size)) {
		int e = errno;

		close(fd);
		errno = e;
		return -1;
	}
	return fd;
}

void *ar_mmap(void *addr, size_t len, int fd, off_t off, int flags)
{
	return mmap(addr, len, AR_RW, AR_MAP_FLAGS | flags, fd, off);
}

void *ar_mmap_elsewhere(size_t len, int fd, off_t off, const void *avoid)
{
	size_t span = len + AR_GRANULE;
	char *res, *win, *p;
	int tries;

	/*
	 * Reserve, and keep reserving, until a window does not overlap
	 * @avoid: the reservations stay mapped meanwhile, so each try gets
	 * a new place.
	 */
	char *held[8];
	int nheld = 0;

	for (tries = 0; tries < 8; tries++) {
		res = mmap(NULL, span, PROT_NONE,
			   MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
		if (res == MAP_FAILED)
			break;
		win = (char *)(((uintptr_t)res + AR_GRANULE - 1) &
			       ~(AR_GRANULE - 1));
		if (!avoid || win + len <= (const char *)avoid ||
		    win >= (const char *)avoid + len) {
			/* trim the reservation to the window, then replace it */
			if (win > res)
				munmap(res, win - res);
			if (res + span > win + len)
				munmap(win + len, res + span - (win + len));
			p = ar_mmap(win, len, fd, off, MAP_FIXED);
			if (p == MAP_FAILED) {
				int e = errno;

				munmap(win, len);
				errno = e;
			}
			while (nheld)
				munmap(held[--nheld], span);
			return p;
		}
		held[nheld++] = res;
	}
	while (nheld)
		munmap(held[--nheld], span);
	errno = ENOMEM;
	return MAP_FAILED;
}

void ar_fill_from(void *p, size_t len, uint64_t seed, size_t first)
{
	size_t i;

	for (i = 0; i < len / AR_PAGE; i++)
		*(volatile uint64_t *)((char *)p + i * AR_PAGE) =
			ar_tag(seed, first + i);
}

long ar_check_from(const void *p, size_t len, uint64_t seed, size_t first)
{
	size_t i;

	for (i = 0; i < len / AR_PAGE; i++)
		if (*(const volatile uint64_t *)((const char *)p + i * AR_PAGE) !=
		    ar_tag(seed, first + i))
			return i;
	return -1;
}

long ar_minflt(void)
{
	struct rusage ru;

	if (getrusage(RUSAGE_SELF, &ru))
		return -1;
	return ru.ru_minflt;
}

/*
 * noinline so that the two getrusage() calls bracket the loop and nothing
 * else; both rusage structs are written before the first call.
 */
__attribute__((noinline))
static long faults_touching(volatile char *p, size_t len, bool write)
{
	struct rusage r0, r1;
	size_t off;

	memset(&r0, 0, sizeof(r0));
	memset(&r1, 0, sizeof(r1));
	getrusage(RUSAGE_SELF, &r1);	/* fault in whatever getrusage uses */
	getrusage(RUSAGE_SELF, &r0);
	for (off = 0; off < len; off += AR_PAGE) {
		if (write)
			p[off + 8] = p[off + 8] + 1;
		else
			(void)p[off];
	}
	getrusage(RUSAGE_SELF, &r1);
	return r1.ru_minflt - r0.ru_minflt;
}

long ar_faults_reading(const volatile void *p, size_t len)
{
	return faults_touching((volatile char *)p, len, false);
}

long ar_faults_writing(volatile void *p, size_t len)
{
	return faults_touching(p, len, true);
}

static long kb_field(const char *buf, const char *key)
{
	size_t klen = strlen(key);
	const char *l = buf;

	while (l && *l) {
		if (!strncmp(l, key, klen) && l[klen] == ':')
			return strtol(l + klen + 1, NULL, 10);
		l = strchr(l, '\n');
		if (l)
			l++;
	}
	return -1;
}

long ar_meminfo_kb(const char *key)
{
	char buf[8192];

	/*
	 * /proc/meminfo adds up per-node counters whose per-CPU deltas are
	 * folded only now and then; vm.stat_refresh folds them now, so two
	 * readings differ by what happened, not by what was pending.
	 */
	ar_write_file("/proc/sys/vm/stat_refresh", "1");
	if (read_proc_file("/proc/meminfo", buf, sizeof(buf)) < 0)
		return -1;
	return kb_field(buf, key);
}

long ar_status_kb(pid_t pid, const char *key)
{
	char path[64], buf[4096];

	if (pid)
		snprintf(path, sizeof(path), "/proc/%d/status", pid);
	else
		snprintf(path, sizeof(path), "/proc/self/status");
	if (read_proc_file(path, buf, sizeof(buf)) < 0)
		return -1;
	return kb_field(buf, key);
}

int ar_smaps_read(pid_t pid, const void *addr, struct ar_smaps *s)
{
	char path[64], line[512];
	bool in = false, found = false;
	FILE *f;

	if (pid)
		snprintf(path, sizeof(path), "/proc/%d/smaps", pid);
	else
		snprintf(path, sizeof(path), "/proc/self/smaps");
	f = fopen(path, "re");
	if (!f)
		return -errno;
	memset(s, 0, sizeof(*s));
	while (fgets(line, sizeof(line), f)) {
		unsigned long lo, hi;
		char key[64];
		long val;

		/* a VMA header: "lo-hi perms ..." (its first field has a '-') */
		if (sscanf(line, "%lx-%lx ", &lo, &hi) == 2 &&
		    strchr(line, '-') < strchr(line, ' ')) {
			if (found)
				break;
			in = (uintptr_t)addr >= lo && (uintptr_t)addr < hi;
			found = in;
			continue;
		}
		if (!in)
			continue;
		if (!strncmp(line, "VmFlags:", 8)) {
			char *t, *save = NULL;

			snprintf(s->vmflags, sizeof(s->vmflags), "%.*s",
				 (int)sizeof(s->vmflags) - 1, line + 8);
			s->vmflags[strcspn(s->vmflags, "\n")] = '\0';
			for (t = strtok_r(line + 8, " \n", &save); t;
			     t = strtok_r(NULL, " \n", &save))
				if (!strcmp(t, "as"))
					s->ar_flag = true;
			continue;
		}
		if (sscanf(line, "%63[^:]: %ld kB", key, &val) != 2)
			continue;
		if (!strcmp(key, "Rss"))
			s->rss = val;
		else if (!strcmp(key, "Pss"))
			s->pss = val;
		else if (!strcmp(key, "Shared_Clean"))
			s->shared_clean = val;
		else if (!strcmp(key, "Shared_Dirty"))
			s->shared_dirty = val;
		else if (!strcmp(key, "Private_Clean"))
			s->private_clean = val;
		else if (!strcmp(key, "Private_Dirty"))
			s->private_dirty = val;
		else if (!strcmp(key, "Locked"))
			s->locked = val;
	}
	fclose(f);
	return found ? 0 : -ENOENT;
}

/* The first decimal number in a debugfs file. */
static int debugfs_long(const char *name, long *val)
{
	char path[128], buf[256], *p;
	ssize_t n;

	snprintf(path, sizeof(path), "%s/%s", AR_DEBUGFS, name);
	n = read_proc_file(path, buf, sizeof(buf));
	if (n < 0)
		return n;
	for (p = buf; *p && !isdigit((unsigned char)*p) && *p != '-'; p++)
		;
	if (!*p)
		return -EPROTO;
	*val = strtol(p, NULL, 10);
	return 0;
}

int ar_counters_read(long *tables, long *links)
{
	int ret = debugfs_long("tables", tables);

	return ret ? ret : debugfs_long("links", links);
}

/*
 * /dev/kmsg hands out one record per read: "prio,seq,usec,flags;text\n"
 * followed by " KEY=value" continuation lines.
 */
static int kmsg_open(void)
{
	return open("/dev/kmsg", O_RDONLY | O_NONBLOCK | O_CLOEXEC);
}

long long ar_kmsg_next_seq(void)
{
	char rec[8192];
	long long last = -1, seq;
	int fd = kmsg_open();
	ssize_t n;

	if (fd < 0)
		return -errno;
	for (;;) {
		n = read(fd, rec, sizeof(rec) - 1);
		if (n < 0 && errno == EPIPE)	/* overwritten: go on */
			continue;
		if (n <= 0)
			break;
		rec[n] = '\0';
		if (sscanf(rec, "%*d,%lld,", &seq) == 1)
			last = seq;
	}
	close(fd);
	return last + 1;
}

/* @word in @text, not as the tail of a longer word ("DEBUG") */
static bool has_word(const char *text, const char *word)
{
	const char *p;

	for (p = strstr(text, word); p; p = strstr(p + 1, word))
		if (p == text || !isalpha((unsigned char)p[-1]))
			return true;
	return false;
}

static bool kmsg_bad(const char *text)
{
	static const char *const bad[] = {
		"KASAN", "lockdep", "Bad rss-counter",
		"pgtables_bytes", "Bad page", "Oops", "general protection",
		"possible circular locking", "possible recursive locking",
		"inconsistent lock state",
	};
	size_t i;

	if (has_word(text, "BUG") || has_word(text, "WARNING"))
		return true;
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		if (strstr(text, bad[i]))
			return true;
	return false;
}

int ar_kmsg_bad_since(long long from, char *out, size_t size)
{
	char rec[8192];
	long long seq;
	size_t used = 0;
	int fd = kmsg_open(), count = 0;
	ssize_t n;

	if (out && size)
		out[0] = '\0';
	if (fd < 0)
		return -errno;
	for (;;) {
		char *text, *nl;

		n = read(fd, rec, sizeof(rec) - 1);
		if (n < 0 && errno == EPIPE)
			continue;
		if (n <= 0)
			break;
		rec[n] = '\0';
		if (sscanf(rec, "%*d,%lld,", &seq) != 1 || seq < from)
			continue;
		text = strchr(rec, ';');
		if (!text)
			continue;
		text++;
		nl = strchr(text, '\n');
		if (nl)
			*nl = '\0';
		if (!kmsg_bad(text))
			continue;
		count++;
		if (out && used + 2 < size) {
			int w = snprintf(out + used, size - used, "\n  %s", text);

			if (w > 0)
				used += (size_t)w < size - used ? (size_t)w : size - used - 1;
		}
	}
	close(fd);
	return count;
}

void ar_baseline_take(struct ar_baseline *b)
{
	memset(b, 0, sizeof(*b));
	b->kmsg_seq = ar_kmsg_next_seq();
	b->have_counters = ar_counters_read(&b->tables, &b->links) == 0;
}

int ar_baseline_check(const struct ar_baseline *b, char *msg, size_t size)
{
	int64_t deadline = kcore_now_ms() + 5000;
	long tables = -1, links = -1;
	char bad[1500];
	int ret = 0, n, c;

	msg[0] = '\0';
	if (b->have_counters) {
		/* an exiting child's mm may still be on its way out */
		for (;;) {
			c = ar_counters_read(&tables, &links);
			if (c == 0 && tables == b->tables && links == b->links)
				break;
			if (kcore_now_ms() > deadline) {
				snprintf(msg, size, "debugfs tables %ld links %ld, were %ld and %ld%s; ",
					 tables, links, b->tables, b->links,
					 c ? " (unreadable)" : "");
				ret = -1;
				break;
			}
			usleep(10000);
		}
	}
	if (b->kmsg_seq >= 0) {
		n = ar_kmsg_bad_since(b->kmsg_seq, bad, sizeof(bad));
		if (n > 0) {
			size_t l = strlen(msg);

			snprintf(msg + l, size - l, "%d kernel log line(s) like a splat (%s):%s",
				 n, AR_KMSG_BAD, bad);
			ret = -1;
		}
	}
	return ret;
}

int ar_send(int fd, char c)
{
	return write(fd, &c, 1) == 1 ? 0 : -1;
}

int ar_recv(int fd, int timeout_ms)
{
	struct pollfd pfd = { .fd = fd, .events = POLLIN };
	char c;

	if (poll(&pfd, 1, timeout_ms) != 1)
		return -1;
	return read(fd, &c, 1) == 1 ? (unsigned char)c : -1;
}

int ar_write_file(const char *path, const char *val)
{
	int fd = open(path, O_WRONLY | O_CLOEXEC);
	ssize_t n;
	int e;

	if (fd < 0)
		return -errno;
	n = write(fd, val, strlen(val));
	e = errno;
	close(fd);
	if (n < 0)
		return -e;
	return (size_t)n == strlen(val) ? 0 : -EIO;
}

void ar_exec_args(struct ar_exec_args *a, int fd, off_t off, size_t len,
		  uint64_t seed)
{
	snprintf(a->s[0], sizeof(a->s[0]), "%d", fd);
	snprintf(a->s[1], sizeof(a->s[1]), "%lld", (long long)off);
	snprintf(a->s[2], sizeof(a->s[2]), "%zu", len);
	snprintf(a->s[3], sizeof(a->s[3]), "%" PRIu64, seed);
	a->argv[0] = "/proc/self/exe";
	a->argv[1] = AR_EXEC_HELPER;
	a->argv[2] = a->s[0];
	a->argv[3] = a->s[1];
	a->argv[4] = a->s[2];
	a->argv[5] = a->s[3];
	a->argv[6] = NULL;
}

int ar_exec_helper(int argc, char **argv)
{
	int fd;
	off_t off;
	size_t len;
	uint64_t seed;
	void *p;
	long faults;

	if (argc != 6)
		return 1;
	fd = atoi(argv[2]);
	off = strtoll(argv[3], NULL, 0);
	len = strtoull(argv[4], NULL, 0);
	seed = strtoull(argv[5], NULL, 0);
	p = ar_mmap(NULL, len, fd, off, 0);
	if (p == MAP_FAILED) {
		fprintf(stderr, "exec helper: mmap: %s\n", strerrorname_np(errno));
		return 1;
	}
	/* a fresh image that links tables another process filled */
	faults = ar_faults_reading(p, len);
	if (ar_check_from(p, len, seed, off / AR_PAGE) >= 0) {
		fprintf(stderr, "exec helper: page %ld lacks its tag\n",
			ar_check_from(p, len, seed, off / AR_PAGE));
		return 2;
	}
	if (faults) {
		fprintf(stderr, "exec helper: %ld minor faults reading\n", faults);
		return 3;
	}
	return 0;
}
