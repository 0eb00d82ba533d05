#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# Checks of the patch series itself, as TAP: every patch in patches/ and
# every source file of the modules in modules/ is clean under the base
# tree's checkpatch.pl --strict, and the uapi header in include/ is
# byte-identical to the copy the applied series carries.
# Run after build-kernel.sh has applied the series.  The last line is
# "series: P passed, F failed".
set -euo pipefail
# shellcheck source=scripts/common.sh
. "$(dirname "$0")/common.sh"
require_tree

base=$(src_dir)
tree=$(corey_src_dir)
# checkpatch's SPDX check runs the system python3 with python3-ply and
# python3-git (deps.sh); a python3 earlier in PATH (pyenv) lacks them.
checkpatch() {
	local out

	out=$(cd "$base" && PATH=/usr/bin:/bin:$PATH \
		./scripts/checkpatch.pl --strict -q --no-summary "$@" 2>&1) || true
	[ -z "$out" ] || {
		printf '%s\n' "$out"
		return 1
	}
}

printf 'TAP version 13\n'
while read -r p; do
	tap "checkpatch --strict: $p" checkpatch "$COREY_TOP/patches/$p"
done < <(series_patches)
# A module's BADOP result is -ENOSYS in its exact meaning ("no such
# system call"), which checkpatch's ENOSYS heuristic cannot tell apart.
while read -r f; do
	tap "checkpatch --strict: ${f#"$COREY_TOP"/}" \
		checkpatch --no-tree --ignore ENOSYS -f "$f"
done < <(find "$COREY_TOP/modules" -name '*.[ch]' | LC_ALL=C sort)
for h in "$COREY_TOP"/include/uapi/linux/*.h; do
	rel=${h#"$COREY_TOP"/}
	tap "$rel is the series' copy" cmp "$h" "$tree/$rel"
done
printf '1..%d\n' "$TAP_N"
printf 'series: %d passed, %d failed\n' "$TAP_PASS" "$TAP_FAIL"
((TAP_FAIL == 0))
