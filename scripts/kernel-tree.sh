#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# Make the pristine 6.12 kernel tree a git repository in the cache, once:
#   $COREY_CACHE/src/<id>          branch "stock", tag corey-base (pristine)
#   $COREY_CACHE/src/<id>-corey    worktree on branch "corey" (patches/)
# The source is Debian's linux-source-6.12 tarball, or KSRC=/path.
# Prints the pristine tree's path.
set -euo pipefail
# shellcheck source=scripts/common.sh
. "$(dirname "$0")/common.sh"
require_tree

src=$(src_dir)
corey=$(corey_src_dir)

# Readers (the initramfs, the selftests' headers) must not wait for a
# kernel build holding the lock: take it only when there is work to do.
if git -C "$src" rev-parse -q --verify corey-base >/dev/null 2>&1 &&
	git -C "$corey" rev-parse --git-dir >/dev/null 2>&1; then
	printf '%s\n' "$src"
	exit 0
fi
lock_cache

check_version() {
	local mk=$1/Makefile v p

	[ -r "$mk" ] || die "$1 is not a kernel tree (no Makefile)"
	v=$(sed -n 's/^VERSION = //p' "$mk")
	p=$(sed -n 's/^PATCHLEVEL = //p' "$mk")
	[ "$v.$p" = 6.12 ] || die "$1 is Linux $v.$p, not 6.12.y"
}

if [ -e "$src" ]; then
	# Never re-import over an existing tree: it holds branch corey, which
	# may carry commits not yet exported.
	err=$(git -C "$src" rev-parse -q --verify corey-base 2>&1) ||
		die "$src exists but is not a usable kernel repository (${err:-no tag corey-base}); fix or remove it"
else
	tmp="$src.tmp"
	trap 'rm -rf "$tmp"' EXIT
	rm -rf "$tmp"
	mkdir -p "$tmp"
	if [ -n "${KSRC:-}" ]; then
		check_version "$KSRC"
		# A tree configured or built in place makes every O= build fail
		# ("source tree is not clean"), and its objects would be committed.
		if [ -e "$KSRC/.config" ] || [ -d "$KSRC/include/config" ]; then
			die "KSRC=$KSRC has been configured or built in place; run 'make mrproper' there first"
		fi
		step "kernel-tree: importing $KSRC"
		rsync -a --exclude=.git "$KSRC"/ "$tmp"/
	else
		step "kernel-tree: unpacking $COREY_DEB_TARBALL"
		tar -xJf "$COREY_DEB_TARBALL" -C "$tmp" --strip-components=1
		check_version "$tmp"
	fi
	step "kernel-tree: recording the pristine tree in git"
	git -C "$tmp" init -q -b stock
	git -C "$tmp" add -A -f
	git -C "$tmp" commit -q -m "Pristine Linux $(make -s -C "$tmp" kernelversion 2>/dev/null || echo 6.12)"
	git -C "$tmp" tag corey-base
	mv "$tmp" "$src"
	trap - EXIT
fi

if ! git -C "$corey" rev-parse --git-dir >/dev/null 2>&1; then
	[ ! -e "$corey" ] ||
		die "$corey exists but is not a worktree of $src; move it away first"
	step "kernel-tree: creating the corey worktree"
	git -C "$src" worktree prune
	if git -C "$src" rev-parse -q --verify refs/heads/corey >/dev/null; then
		# Keep the branch: it may hold work not yet exported.
		git -C "$src" worktree add -q "$corey" corey
	else
		git -C "$src" worktree add -q -b corey "$corey" corey-base
	fi
	rm -f "$corey.series-stamp"
fi
printf '%s\n' "$src"
