#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# Build the statically linked programs that run in the VM (benchmarks and
# selftests) into the cache.  Prints the output directory.
set -euo pipefail
# shellcheck source=scripts/common.sh
. "$(dirname "$0")/common.sh"
require_tree

src=$("$COREY_TOP/scripts/kernel-tree.sh")
out=$(work_dir)/user
mkdir -p "$out/bench" "$out/selftests"
step "build benchmarks and selftests"
run_logged "$out/bench.log" "bench build" \
	make -C "$COREY_TOP/bench" O="$out/bench" -j"$(host_cpus)"
run_logged "$out/selftests.log" "selftests build" \
	make -C "$COREY_TOP/selftests" O="$out/selftests" -j"$(host_cpus)" \
	KSELFTEST_DIR="$src/tools/testing/selftests"
printf '%s\n' "$out"
