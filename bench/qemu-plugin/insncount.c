// SPDX-License-Identifier: GPL-2.0
/*
 * insncount: a QEMU TCG plugin that counts the guest instructions a
 * one-vCPU VM retires, split into user and kernel mode, and the locked
 * (atomic read-modify-write) ones among them.
 *
 * Timing under TCG resolves no better than a few percent between boots;
 * instruction counts are exact and the same on every host, so they are how
 * this project compares two code paths (a descriptor share's dup/close
 * against share 0's) or two kernels (corey against stock) to within 1%.
 * They are a proxy, not a time: they do not see cache misses or the cost
 * of an atomic, which is why locked instructions are counted apart.
 *
 * The guest brackets what it measures with a marker, the user-mode
 * instruction `xchg %bx,%bx` (66 87 db), which changes nothing.  Each time
 * it runs, the plugin logs the counters so far:
 *
 *   insncount: mark N user U kernel K locked-user LU locked-kernel LK
 *
 * to QEMU's log (-d plugin -D FILE).  The difference between two marks is
 * what ran in between, interrupts and other tasks included, so the guest
 * repeats an operation many times and the host takes medians.
 *
 * With one vCPU the counters are bumped by inline TCG ops, which cost
 * almost nothing.  With more (up to MAX_VCPUS), inline ops would race, so
 * each block's run calls back into the plugin to add to its vCPU's own
 * counters instead (several times slower, still exact), and a mark logs one
 * line per vCPU:
 *
 *   insncount: mark N vcpu V user U kernel K locked-user LU locked-kernel LK
 *
 * That is how the work a kernel core does for a client on another CPU is
 * counted apart from the client's.
 *
 * With the argument profile=MIN, each mark is also followed by one line
 *
 *   insncount: block 0xADDRESS insns I            (one vCPU)
 *   insncount: block 0xADDRESS vcpu V insns I     (several)
 *
 * per translated block start that retired at least MIN instructions since
 * the previous mark, for the host to attribute to kernel functions with
 * System.map (make insns PROFILE=1).
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "qemu_plugin_abi.h"

QEMU_PLUGIN_EXPORT int qemu_plugin_version = QEMU_PLUGIN_VERSION;

#define MAX_VCPUS 16

struct vcpu_counts {
	uint64_t user, kernel, locked_user, locked_kernel;
};

/*
 * counts[0] is bumped by inline TCG ops with one vCPU; with several, each
 * vCPU's thread adds to its own entry from callbacks.  A mark on one vCPU
 * reads the others' entries as they are at that moment.
 */
static struct vcpu_counts counts[MAX_VCPUS];
static unsigned int nr_vcpus = 1;
static unsigned int marks;

static const uint8_t marker[] = { 0x66, 0x87, 0xdb };

/*
 * profile=MIN: one counter per translation and vCPU (a block translated
 * again gets a second one; the host adds them up), bumped as it runs.
 */
struct block_count {
	uint64_t vaddr;
	uint64_t insns;
	uint64_t runs[MAX_VCPUS];
	struct block_count *next;
};

static uint64_t profile_min;
static struct block_count *blocks;

static uint64_t read_counter(const uint64_t *p)
{
	return __atomic_load_n(p, __ATOMIC_RELAXED);
}

static void print_profile(void)
{
	char line[96];

	for (struct block_count *b = blocks; b; b = b->next) {
		for (unsigned int v = 0; v < nr_vcpus; v++) {
			uint64_t insns = read_counter(&b->runs[v]) * b->insns;

			__atomic_store_n(&b->runs[v], 0, __ATOMIC_RELAXED);
			if (!insns || insns < profile_min)
				continue;
			if (nr_vcpus == 1)
				snprintf(line, sizeof(line), "insncount: block 0x%"
					 PRIx64 " insns %" PRIu64 "\n",
					 b->vaddr, insns);
			else
				snprintf(line, sizeof(line), "insncount: block 0x%"
					 PRIx64 " vcpu %u insns %" PRIu64 "\n",
					 b->vaddr, v, insns);
			qemu_plugin_outs(line);
		}
	}
}

/* x86-64 kernel addresses have the top bit set, user ones do not. */
static bool is_kernel_address(uint64_t vaddr)
{
	return vaddr >> 63;
}

/*
 * A LOCK prefix among the legacy prefixes, or XCHG with a memory operand,
 * which is locked without one.  Other implicitly atomic instructions
 * (e.g. those on descriptor tables) do not occur on the paths we measure.
 */
static bool insn_is_locked(const uint8_t *p, size_t size)
{
	size_t i = 0;

	for (; i < size; i++) {
		switch (p[i]) {
		case 0xf0:
			return true;
		case 0x66: case 0x67: case 0xf2: case 0xf3:
		case 0x26: case 0x2e: case 0x36: case 0x3e: case 0x64: case 0x65:
			continue;
		}
		break;
	}
	if (i < size && (p[i] & 0xf0) == 0x40)	/* REX */
		i++;
	if (i + 1 < size && (p[i] == 0x86 || p[i] == 0x87))
		return (p[i + 1] >> 6) != 3;	/* ModRM.mod 3: register */
	return false;
}

static void print_counts(unsigned int mark, int vcpu,
			 const struct vcpu_counts *c)
{
	char line[192], which[24] = "";

	if (vcpu >= 0)
		snprintf(which, sizeof(which), " vcpu %d", vcpu);
	snprintf(line, sizeof(line),
		 "insncount: mark %u%s user %" PRIu64 " kernel %" PRIu64
		 " locked-user %" PRIu64 " locked-kernel %" PRIu64 "\n",
		 mark, which, read_counter(&c->user), read_counter(&c->kernel),
		 read_counter(&c->locked_user),
		 read_counter(&c->locked_kernel));
	qemu_plugin_outs(line);
}

static void on_marker(unsigned int vcpu_index, void *userdata)
{
	unsigned int mark = __atomic_fetch_add(&marks, 1, __ATOMIC_RELAXED);

	(void)vcpu_index;
	(void)userdata;
	if (nr_vcpus == 1)
		print_counts(mark, -1, &counts[0]);
	else
		for (unsigned int v = 0; v < nr_vcpus; v++)
			print_counts(mark, (int)v, &counts[v]);
	if (profile_min)
		print_profile();
}

/* What a block's run adds, with several vCPUs. */
struct block_info {
	uint64_t insns;
	bool kernel;
	struct block_count *profile;	/* NULL unless profiling */
};

static void on_block_exec(unsigned int vcpu_index, void *userdata)
{
	const struct block_info *bi = userdata;
	struct vcpu_counts *c = &counts[vcpu_index];

	/* Only this vCPU's thread writes its entry; marks read it. */
	if (bi->kernel)
		__atomic_store_n(&c->kernel, c->kernel + bi->insns,
				 __ATOMIC_RELAXED);
	else
		__atomic_store_n(&c->user, c->user + bi->insns,
				 __ATOMIC_RELAXED);
	if (bi->profile)
		__atomic_store_n(&bi->profile->runs[vcpu_index],
				 bi->profile->runs[vcpu_index] + 1,
				 __ATOMIC_RELAXED);
}

static void on_locked_exec(unsigned int vcpu_index, void *userdata)
{
	struct vcpu_counts *c = &counts[vcpu_index];
	uint64_t *p = userdata ? &c->locked_kernel : &c->locked_user;

	__atomic_store_n(p, *p + 1, __ATOMIC_RELAXED);
}

/* Count the block's runs for the profile; NULL if out of memory. */
static struct block_count *profile_block(uint64_t vaddr, size_t n)
{
	struct block_count *b = calloc(1, sizeof(*b));

	if (!b)
		return NULL;
	b->vaddr = vaddr;
	b->insns = n;
	b->next = blocks;
	blocks = b;
	return b;
}

/* One vCPU: inline adds, no call out of the translated code. */
static void count_inline(struct qemu_plugin_tb *tb, size_t n, bool kernel,
			 struct block_count *b)
{
	struct vcpu_counts *c = &counts[0];

	if (b)
		qemu_plugin_register_vcpu_tb_exec_inline(tb,
			QEMU_PLUGIN_INLINE_ADD_U64, &b->runs[0], 1);
	/* A block never spans a privilege change: one count for all of it. */
	qemu_plugin_register_vcpu_tb_exec_inline(tb, QEMU_PLUGIN_INLINE_ADD_U64,
						 kernel ? &c->kernel : &c->user,
						 n);
}

/* Several vCPUs: a callback per block; false if out of memory. */
static bool count_by_callback(struct qemu_plugin_tb *tb, size_t n,
			      bool kernel, struct block_count *b)
{
	struct block_info *bi = calloc(1, sizeof(*bi));

	if (!bi)
		return false;
	bi->insns = n;
	bi->kernel = kernel;
	bi->profile = b;
	qemu_plugin_register_vcpu_tb_exec_cb(tb, on_block_exec,
					     QEMU_PLUGIN_CB_NO_REGS, bi);
	return true;
}

static void on_translate(qemu_plugin_id_t id, struct qemu_plugin_tb *tb)
{
	uint64_t vaddr = qemu_plugin_tb_vaddr(tb);
	bool kernel = is_kernel_address(vaddr);
	size_t n = qemu_plugin_tb_n_insns(tb);
	struct block_count *b = NULL;

	(void)id;
	if (profile_min) {
		b = profile_block(vaddr, n);
		if (!b) {
			fprintf(stderr, "insncount: out of memory, profile "
				"stopped\n");
			profile_min = 0;
		}
	}
	if (nr_vcpus == 1) {
		count_inline(tb, n, kernel, b);
	} else if (!count_by_callback(tb, n, kernel, b)) {
		/* Counting on with a block missing would be a wrong count. */
		fprintf(stderr, "insncount: out of memory\n");
		abort();
	}
	for (size_t i = 0; i < n; i++) {
		struct qemu_plugin_insn *insn = qemu_plugin_tb_get_insn(tb, i);
		const uint8_t *data = qemu_plugin_insn_data(insn);
		size_t size = qemu_plugin_insn_size(insn);

		if (insn_is_locked(data, size)) {
			if (nr_vcpus == 1)
				qemu_plugin_register_vcpu_insn_exec_inline(insn,
					QEMU_PLUGIN_INLINE_ADD_U64,
					kernel ? &counts[0].locked_kernel :
						 &counts[0].locked_user, 1);
			else
				qemu_plugin_register_vcpu_insn_exec_cb(insn,
					on_locked_exec, QEMU_PLUGIN_CB_NO_REGS,
					kernel ? (void *)1 : NULL);
		}
		if (!kernel && size == sizeof(marker) &&
		    !memcmp(data, marker, sizeof(marker)))
			qemu_plugin_register_vcpu_insn_exec_cb(insn, on_marker,
				QEMU_PLUGIN_CB_NO_REGS, NULL);
	}
}

static void on_qemu_exit(qemu_plugin_id_t id, void *userdata)
{
	char line[96];

	(void)id;
	(void)userdata;
	snprintf(line, sizeof(line), "insncount: exit after %u marks\n", marks);
	qemu_plugin_outs(line);
}

QEMU_PLUGIN_EXPORT int qemu_plugin_install(qemu_plugin_id_t id,
					   const qemu_info_t *info,
					   int argc, char **argv)
{
	for (int i = 0; i < argc; i++) {
		char *end;

		if (strncmp(argv[i], "profile=", 8)) {
			fprintf(stderr, "insncount: unknown argument '%s' "
				"(the one it takes is profile=MIN)\n", argv[i]);
			return -1;
		}
		profile_min = strtoull(argv[i] + 8, &end, 10);
		if (end == argv[i] + 8 || *end || !profile_min) {
			fprintf(stderr, "insncount: profile=%s: MIN must be a "
				"positive number of instructions\n", argv[i] + 8);
			return -1;
		}
	}
	if (strcmp(info->target_name, "x86_64") || !info->system_emulation) {
		fprintf(stderr, "insncount: needs qemu-system-x86_64, not %s%s\n",
			info->target_name,
			info->system_emulation ? "" : " user mode");
		return -1;
	}
	if (info->system.max_vcpus < 1 || info->system.max_vcpus > MAX_VCPUS) {
		fprintf(stderr, "insncount: counts up to %d vCPUs, not %d\n",
			MAX_VCPUS, info->system.max_vcpus);
		return -1;
	}
	nr_vcpus = (unsigned int)info->system.max_vcpus;
	qemu_plugin_register_vcpu_tb_trans_cb(id, on_translate);
	qemu_plugin_register_atexit_cb(id, on_qemu_exit, NULL);
	return 0;
}
