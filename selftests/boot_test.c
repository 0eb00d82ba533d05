// SPDX-License-Identifier: GPL-2.0
/*
 * Check that the guest booted the way the project's VM launcher set it up:
 * the right kernel, the CPUs and fake NUMA nodes it asked for on the
 * command line, the pseudo filesystems mounted, and the kernel facilities
 * the benchmarks rely on (memfd, io_uring, modules).
 */
#include <dirent.h>
#include <errno.h>
#include <linux/io_uring.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <sys/utsname.h>
#include <unistd.h>

#include "kselftest_harness.h"
#include "kcmdline.h"

#define MEMFD_SIZE (2UL << 20)

static bool is_decimal(const char *s)
{
	if (!*s)
		return false;
	for (; *s; s++)
		if (*s < '0' || *s > '9')
			return false;
	return true;
}

/* Parse a plain decimal count > 0; returns -1 for anything else. */
static long parse_count(const char *s)
{
	long n;

	if (!is_decimal(s))
		return -1;
	errno = 0;
	n = strtol(s, NULL, 10);
	return (errno || n <= 0) ? -1 : n;
}

/* Count the CPUs in a sysfs cpu list file such as "0-3,5". */
static long count_cpulist(const char *path)
{
	char list[4096], *range, *save;
	long count = 0;
	FILE *f;

	f = fopen(path, "re");
	if (!f)
		return -errno;
	if (!fgets(list, sizeof(list), f)) {
		fclose(f);
		return -EIO;
	}
	fclose(f);

	for (range = strtok_r(list, ",\n", &save); range;
	     range = strtok_r(NULL, ",\n", &save)) {
		unsigned int first, last;
		int fields = sscanf(range, "%u-%u", &first, &last);

		if (fields == 1)
			last = first;
		else if (fields != 2 || last < first)
			return -EINVAL;
		count += last - first + 1;
	}
	return count;
}

/* Count the nodeN directories the kernel created for NUMA nodes. */
static long count_numa_nodes(void)
{
	struct dirent *de;
	long count = 0;
	DIR *dir;

	dir = opendir("/sys/devices/system/node");
	if (!dir)
		return -errno;
	while ((de = readdir(dir)) != NULL) {
		if (de->d_type == DT_DIR && !strncmp(de->d_name, "node", 4) &&
		    is_decimal(de->d_name + 4))
			count++;
	}
	closedir(dir);
	return count;
}

TEST(kernel_is_6_12)
{
	struct utsname u;

	ASSERT_EQ(0, uname(&u));
	EXPECT_EQ(0, strncmp(u.release, "6.12.", 5))
		TH_LOG("running kernel %s, want 6.12.*", u.release);
}

TEST(online_cpus_match_corey_smp)
{
	char param[32];
	long want;
	int found;

	found = kcmdline_param("corey.smp", param, sizeof(param));
	ASSERT_LE(0, found) TH_LOG("reading /proc/cmdline: %s",
				   strerror(-found));
	if (!found)
		SKIP(return, "no corey.smp= on the kernel command line");
	want = parse_count(param);
	ASSERT_LT(0, want) TH_LOG("corey.smp=%s is not a CPU count", param);

	EXPECT_EQ(want, sysconf(_SC_NPROCESSORS_ONLN));
	EXPECT_EQ(want, count_cpulist("/sys/devices/system/cpu/online"));
}

TEST(pseudo_filesystems_mounted)
{
	bool proc = false, sys = false, dev = false;
	char target[256], type[64];
	struct stat st;
	FILE *mounts;

	mounts = fopen("/proc/self/mounts", "re");
	ASSERT_NE(NULL, mounts) TH_LOG("/proc/self/mounts: %s",
				       strerror(errno));
	while (fscanf(mounts, "%*s %255s %63s %*[^\n]", target, type) == 2) {
		proc |= !strcmp(type, "proc") && !strcmp(target, "/proc");
		sys |= !strcmp(type, "sysfs") && !strcmp(target, "/sys");
		dev |= !strcmp(type, "devtmpfs") && !strcmp(target, "/dev");
	}
	fclose(mounts);
	EXPECT_TRUE(proc) TH_LOG("no proc mounted on /proc");
	EXPECT_TRUE(sys) TH_LOG("no sysfs mounted on /sys");
	EXPECT_TRUE(dev) TH_LOG("no devtmpfs mounted on /dev");

	ASSERT_EQ(0, stat("/dev/null", &st))
		TH_LOG("/dev/null: %s", strerror(errno));
	EXPECT_TRUE(S_ISCHR(st.st_mode));
	EXPECT_EQ(makedev(1, 3), st.st_rdev);
}

TEST(memfd_round_trip)
{
	unsigned char *map, *back;
	size_t i;
	int fd;

	fd = memfd_create("boot_test", MFD_CLOEXEC);
	ASSERT_LE(0, fd) TH_LOG("memfd_create: %s", strerror(errno));
	ASSERT_EQ(0, ftruncate(fd, MEMFD_SIZE));
	map = mmap(NULL, MEMFD_SIZE, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	ASSERT_NE(MAP_FAILED, map) TH_LOG("mmap: %s", strerror(errno));

	/* Differs from page to page, so a misplaced page would show. */
	for (i = 0; i < MEMFD_SIZE; i++)
		map[i] = (unsigned char)(i * 7 + i / 4096);

	/* Read through the file, not the mapping: both must see one page cache. */
	back = malloc(MEMFD_SIZE);
	ASSERT_NE(NULL, back);
	ASSERT_EQ((ssize_t)MEMFD_SIZE, pread(fd, back, MEMFD_SIZE, 0));
	EXPECT_EQ(0, memcmp(map, back, MEMFD_SIZE));

	free(back);
	munmap(map, MEMFD_SIZE);
	close(fd);
}

TEST(io_uring_setup)
{
	struct io_uring_params params = { 0 };
	int fd;

	/* Raw syscall: the initramfs has no liburing, and none is needed. */
	fd = syscall(__NR_io_uring_setup, 4, &params);
	ASSERT_LE(0, fd) TH_LOG("io_uring_setup: %s", strerror(errno));
	EXPECT_EQ(4U, params.sq_entries);
	close(fd);
}

TEST(numa_fake_nodes)
{
	char param[32];
	long want;
	int found;

	found = kcmdline_param("numa", param, sizeof(param));
	ASSERT_LE(0, found) TH_LOG("reading /proc/cmdline: %s",
				   strerror(-found));
	if (!found || strncmp(param, "fake=", 5))
		SKIP(return, "no numa=fake= on the kernel command line");
	want = parse_count(param + 5);
	if (want < 0)
		SKIP(return, "numa=%s: only a plain node count is checked",
		     param);

	EXPECT_EQ(want, count_numa_nodes());
}

TEST(modules_supported)
{
	struct stat st;

	EXPECT_EQ(0, stat("/proc/modules", &st))
		TH_LOG("/proc/modules: %s (kernel built without modules?)",
		       strerror(errno));
}

TEST_HARNESS_MAIN
