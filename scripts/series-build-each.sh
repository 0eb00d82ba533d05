#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# series-build-each.sh: prove the series bisects.  Builds the kernel at
# every patch of the "corey" branch (corey-base..corey) with the corey
# flavour's configuration, and recompiles the C files each patch touches
# with W=1, failing on any warning there.  Runs in a worktree and build
# directory of its own, so the flavours' builds are left alone.
# SERIES_FROM=N starts at patch N, when the earlier ones were proved already.
set -euo pipefail
# shellcheck source=scripts/common.sh
. "$(dirname "$0")/common.sh"
require_tree
COREY_PROG=series-build-each

"$COREY_TOP/scripts/build-kernel.sh" corey >/dev/null
config=$(build_dir corey)/.config
repo=$(src_dir)
tree=$repo-each
out=$(build_dir each)

export CCACHE_DIR=${CCACHE_DIR:-$COREY_CACHE/ccache}
export KBUILD_BUILD_TIMESTAMP='Thu Jan  1 00:00:00 UTC 2026'
export KBUILD_BUILD_USER=corey KBUILD_BUILD_HOST=vm
kmake=(make -C "$tree" O="$out" ARCH=x86_64 CC="ccache gcc" -j"$(host_cpus)")

commits=$(git -C "$repo" rev-list --reverse corey-base..corey)
[ -n "$commits" ] || die "the corey branch has no patches"
(
	lock_cache
	if [ ! -d "$tree" ]; then
		git -C "$repo" worktree add -q --detach "$tree" corey-base
	fi
)
mkdir -p "$out"

n=0 total=$(printf '%s\n' "$commits" | wc -l)
from=${SERIES_FROM:-1}
[[ $from =~ ^[1-9][0-9]*$ ]] || die "SERIES_FROM '$from' is not a patch number"
for c in $commits; do
	n=$((n + 1))
	# SERIES_FROM=N: patches before N were proved already; start there.
	((n >= from)) || continue
	subject=$(git -C "$repo" log -1 --format=%s "$c")
	step "patch $n/$total: $subject"
	git -C "$tree" checkout -q --detach "$c"
	cp "$config" "$out/.config"
	run_logged "$out/olddefconfig.log" "olddefconfig" "${kmake[@]}" olddefconfig
	run_logged "$out/build.$n.log" "build at patch $n" "${kmake[@]}" bzImage
	mapfile -t files < <(git -C "$tree" diff --name-only --diff-filter=AM \
		"$c~1" "$c" -- '*.c')
	for f in "${files[@]}"; do
		log=$out/w1.$n.$(basename "$f" .c).log
		# Only files this configuration compiles have an object to make
		# (mm/khugepaged.c needs THP, which the VM config leaves out).
		if [ ! -e "$out/${f%.c}.o" ]; then
			printf '  %s: not built in this configuration, no W=1 check\n' "$f"
			continue
		fi
		"${kmake[@]}" W=1 "${f%.c}.o" >"$log" 2>&1 ||
			{ cat "$log" >&2; die "W=1 build of $f failed at patch $n"; }
		if grep -q 'warning:' "$log"; then
			grep 'warning:' "$log" >&2
			die "W=1 warnings in $f at patch $n"
		fi
	done
done
step "patches $from-$total build; W=1 clean on the files they touch"
