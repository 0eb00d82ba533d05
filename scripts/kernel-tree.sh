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

git_q() {
	git -c user.name='Corey scripts' -c user.email='corey@localhost' "$@"
}

check_version() {
	local mk=$1/Makefile v p

	[ -r "$mk" ] || die "$1 is not a kernel tree (no Makefile)"
	v=$(sed -n 's/^VERSION = //p' "$mk")
	p=$(sed -n 's/^PATCHLEVEL = //p' "$mk")
	[ "$v.$p" = 6.12 ] || die "$1 is Linux $v.$p, not 6.12.y"
}

if ! git -C "$src" rev-parse -q --verify corey-base >/dev/null 2>&1; then
	tmp="$src.tmp"
	rm -rf "$tmp"
	mkdir -p "$tmp"
	if [ -n "${KSRC:-}" ]; then
		check_version "$KSRC"
		step "kernel-tree: importing $KSRC"
		rsync -a --exclude=.git "$KSRC"/ "$tmp"/
	else
		step "kernel-tree: unpacking $COREY_DEB_TARBALL"
		tar -xJf "$COREY_DEB_TARBALL" -C "$tmp" --strip-components=1
		check_version "$tmp"
	fi
	step "kernel-tree: recording the pristine tree in git"
	git_q -C "$tmp" init -q -b stock
	git_q -C "$tmp" add -A -f
	git_q -C "$tmp" commit -q -m "Pristine Linux $(make -s -C "$tmp" kernelversion 2>/dev/null || echo 6.12)"
	git_q -C "$tmp" tag corey-base
	rm -rf "$src"
	mv "$tmp" "$src"
fi

if [ ! -e "$corey/.git" ]; then
	step "kernel-tree: creating the corey worktree"
	git_q -C "$src" worktree prune
	git_q -C "$src" worktree add -q -B corey "$corey" corey-base
fi
printf '%s\n' "$src"
