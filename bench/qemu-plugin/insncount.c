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
 * repeats an operation many times and the host takes medians.  Counters
 * are per VM, not per vCPU: the plugin refuses to load with more than one.
 *
 * With the argument profile=MIN, each mark is also followed by one line
 *
 *   insncount: block 0xADDRESS insns I
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

/* Updated by inline TCG ops, from the one vCPU thread only. */
static uint64_t insns_user, insns_kernel, locked_user, locked_kernel;
static unsigned int marks;

static const uint8_t marker[] = { 0x66, 0x87, 0xdb };

/*
 * profile=MIN: one counter per translation (a block translated again gets
 * a second one; the host adds them up), bumped inline as the block runs.
 */
struct block_count {
	uint64_t vaddr;
	uint64_t runs;
	uint64_t insns;
	struct block_count *next;
};

static uint64_t profile_min;
static struct block_count *blocks;

static void print_profile(void)
{
	char line[80];

	for (struct block_count *b = blocks; b; b = b->next) {
		uint64_t insns = b->runs * b->insns;

		b->runs = 0;
		if (!insns || insns < profile_min)
			continue;
		snprintf(line, sizeof(line), "insncount: block 0x%" PRIx64
			 " insns %" PRIu64 "\n", b->vaddr, insns);
		qemu_plugin_outs(line);
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

static void on_marker(unsigned int vcpu_index, void *userdata)
{
	char line[160];

	(void)vcpu_index;
	(void)userdata;
	snprintf(line, sizeof(line),
		 "insncount: mark %u user %" PRIu64 " kernel %" PRIu64
		 " locked-user %" PRIu64 " locked-kernel %" PRIu64 "\n",
		 marks++, insns_user, insns_kernel, locked_user,
		 locked_kernel);
	qemu_plugin_outs(line);
	if (profile_min)
		print_profile();
}

/* Count the block's runs for the profile; false if out of memory. */
static bool profile_block(struct qemu_plugin_tb *tb, uint64_t vaddr, size_t n)
{
	struct block_count *b = calloc(1, sizeof(*b));

	if (!b)
		return false;
	b->vaddr = vaddr;
	b->insns = n;
	b->next = blocks;
	blocks = b;
	qemu_plugin_register_vcpu_tb_exec_inline(tb, QEMU_PLUGIN_INLINE_ADD_U64,
						 &b->runs, 1);
	return true;
}

static void on_translate(qemu_plugin_id_t id, struct qemu_plugin_tb *tb)
{
	uint64_t vaddr = qemu_plugin_tb_vaddr(tb);
	bool kernel = is_kernel_address(vaddr);
	size_t n = qemu_plugin_tb_n_insns(tb);

	(void)id;
	if (profile_min && !profile_block(tb, vaddr, n)) {
		fprintf(stderr, "insncount: out of memory, profile stopped\n");
		profile_min = 0;
	}
	/* A block never spans a privilege change: one count for all of it. */
	qemu_plugin_register_vcpu_tb_exec_inline(tb, QEMU_PLUGIN_INLINE_ADD_U64,
						 kernel ? &insns_kernel :
							  &insns_user, n);
	for (size_t i = 0; i < n; i++) {
		struct qemu_plugin_insn *insn = qemu_plugin_tb_get_insn(tb, i);
		const uint8_t *data = qemu_plugin_insn_data(insn);
		size_t size = qemu_plugin_insn_size(insn);

		if (insn_is_locked(data, size))
			qemu_plugin_register_vcpu_insn_exec_inline(insn,
				QEMU_PLUGIN_INLINE_ADD_U64,
				kernel ? &locked_kernel : &locked_user, 1);
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
	if (info->system.max_vcpus != 1) {
		fprintf(stderr, "insncount: counters are per VM: run with -smp 1 "
			"(this VM may have %d vCPUs)\n", info->system.max_vcpus);
		return -1;
	}
	qemu_plugin_register_vcpu_tb_trans_cb(id, on_translate);
	qemu_plugin_register_atexit_cb(id, on_qemu_exit, NULL);
	return 0;
}
