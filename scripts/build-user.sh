#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# Build the programs that run in the VM into the cache: the statically
# linked benchmarks and selftests, and libcorey with corey-run and its test
# program (dynamically linked; mkinitramfs.sh adds their libraries).
# Prints the output directory.
set -euo pipefail
# shellcheck source=scripts/common.sh
. "$(dirname "$0")/common.sh"
require_tree

src=$("$COREY_TOP/scripts/kernel-tree.sh")
out=$(work_dir)/user
mkdir -p "$out/bench" "$out/selftests" "$out/userlib" "$out/qemu-plugin"
step "build libcorey, benchmarks and selftests"
# libcorey first: the kernel-core benchmarks and selftests link libcorey.a.
run_logged "$out/userlib.log" "userlib build" \
	userlib_make -j"$(host_cpus)" all tests
run_logged "$out/bench.log" "bench build" \
	make -C "$COREY_TOP/bench" O="$out/bench" -j"$(host_cpus)" \
	COREY_USERLIB_O="$out/userlib"
run_logged "$out/selftests.log" "selftests build" \
	make -C "$COREY_TOP/selftests" O="$out/selftests" -j"$(host_cpus)" \
	KSELFTEST_DIR="$src/tools/testing/selftests" COREY_USERLIB_O="$out/userlib"
# The one host-side piece: the QEMU plugin `make insns` loads.
run_logged "$out/qemu-plugin.log" "QEMU plugin build" \
	make -C "$COREY_TOP/bench/qemu-plugin" O="$out/qemu-plugin"
printf '%s\n' "$out"
